"""The light on a synthetic person and their room: a key light and a hemisphere ambient, with colour
temperatures and the camera's white balance, drawn from the identity's random stream."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Lighting:
    """A directional key light (world, towards the light) plus a hemisphere ambient, in linear light.

    Shading (see `render.py`) is gamma-correct Lambertian: the sRGB albedo times (ambient(n) + key *
    wrapped n.l) ** (1 / 2.2), plus an optional Blinn-Phong highlight. `key_colour` and `ambient_colour` are
    linear RGB gains (colour temperatures after the camera's white balance), `ground` the ambient from below
    relative to from above, `wrap` softens the key's terminator (a large, soft source), and `cast` the sRGB
    gains of the white balance's leftover colour cast, which the room takes too."""

    direction: tuple
    ambient: float
    diffuse: float
    key_colour: tuple = (1.0, 1.0, 1.0)
    ambient_colour: tuple = (1.0, 1.0, 1.0)
    ground: float = 1.0
    wrap: float = 0.0
    specular: float = 0.0
    shininess: float = 16.0
    cast: tuple = (1.0, 1.0, 1.0)


LUMA = np.array([0.2126, 0.7152, 0.0722])


def kelvin_rgb(kelvin: float) -> np.ndarray:
    """Linear RGB of a black body at `kelvin` (Tanner Helland's fit of the sRGB values, 1000-40000 K),
    scaled to luminance 1: about (1, 1, 1) at 6600 K, orange at 3000 K, blue above 8000 K."""
    t = kelvin / 100.0
    r = 255.0 if t <= 66 else 329.698727446 * (t - 60) ** -0.1332047592
    g = 99.4708025861 * np.log(t) - 161.1195681661 if t <= 66 else 288.1221695283 * (t - 60) ** -0.0755148492
    b = 255.0 if t >= 66 else (0.0 if t <= 19 else 138.5177312231 * np.log(t - 10) - 305.0447927307)
    rgb = (np.clip(np.array([r, g, b]), 0, 255) / 255.0) ** 2.2
    return rgb / (rgb @ LUMA)


def sample_lighting(rng: np.random.Generator) -> Lighting:
    """Soft (overcast, softbox: mostly ambient, wrapped), keyed or hard (sun, spot) light from a random side
    and height; key and ambient of their own colour temperatures (tungsten 2800 K to shade 11000 K), white
    balanced by the camera only in part; intensities normalised so that a surface facing the camera gets
    about the same light (the camera exposes for the person; `PhotoStyle.exposure` then errs)."""
    azimuth = float(np.clip(rng.normal(0, 0.7), -1.4, 1.4))  # mostly from the camera's side, some side light
    elevation = rng.uniform(0.1, 1.1)
    direction = np.array([np.sin(azimuth) * np.cos(elevation), np.sin(elevation), np.cos(azimuth) * np.cos(elevation)])
    style = rng.choice(["soft", "key", "hard"], p=[0.4, 0.45, 0.15])
    key_share, wrap = {"soft": (rng.uniform(0.25, 0.5), rng.uniform(0.3, 0.6)),
                       "key": (rng.uniform(0.5, 0.7), rng.uniform(0.1, 0.3)),
                       "hard": (rng.uniform(0.7, 0.88), rng.uniform(0.0, 0.1))}[str(style)]
    ground = rng.uniform(0.35, 0.9)
    front = (1 - key_share) * (1 + ground) / 2 + key_share * max((direction[2] + wrap) / (1 + wrap), 0.15)
    scale = 0.9 / front
    key_k = rng.uniform(2800, 7500)
    ambient_k = key_k if rng.random() < 0.3 else rng.uniform(4500, 11000)
    key_rgb, ambient_rgb = kelvin_rgb(key_k), kelvin_rgb(ambient_k)
    white = key_share * key_rgb + (1 - key_share) * ambient_rgb
    white /= white @ LUMA
    balance = rng.uniform(0.6, 1.0)  # how much of the light's colour the camera's white balance removes
    gains = white ** -balance
    gains /= (white * gains) @ LUMA
    cast = (white * gains) ** (1 / 2.2)
    glossy = rng.random() < 0.6
    return Lighting(
        direction=tuple(float(v) for v in direction),
        ambient=float((1 - key_share) * scale), diffuse=float(key_share * scale),
        key_colour=tuple(float(v) for v in key_rgb * gains), ambient_colour=tuple(float(v) for v in ambient_rgb * gains),
        ground=float(ground), wrap=float(wrap),
        specular=float(rng.uniform(0.04, 0.22) if glossy else 0.0), shininess=float(rng.uniform(8, 40)),
        cast=tuple(float(v) for v in cast / cast.mean()))
