"""Procedural rooms: a floor (y = 0) and a wall behind the dancer, with textures, skirting and soft light.

The room belongs to the identity (two videos of one identity share it). Since the camera is fixed, the
room is rendered once per video; it is both every frame's backdrop and the clean `background.png`.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np

from cpfnet.synth.textures import hash01, smoothstep, stripes, value_noise

WALL_PATTERNS = ("plain", "stripes", "panels", "bricks", "tiles", "wainscot", "posters")
FLOOR_PATTERNS = ("planks", "tiles", "carpet", "concrete")


@dataclass
class SceneStyle:
    wall_distance: float  # metres behind the dancer's start
    wall_pattern: str
    wall_colour: tuple
    wall_second: tuple
    wall_period: float
    floor_pattern: str
    floor_colour: tuple
    floor_second: tuple
    floor_period: float
    skirting_height: float
    skirting_colour: tuple
    posters: tuple  # ((x0, y0, x1, y1, r, g, b), ...)
    seed: int


def _colour(rng, sat=(0.05, 0.5), val=(0.35, 0.95)) -> tuple:
    return tuple(float(c) for c in colorsys.hsv_to_rgb(rng.random(), rng.uniform(*sat), rng.uniform(*val)))


def sample_scene(rng: np.random.Generator) -> SceneStyle:
    wall_colour = _colour(rng)
    floor_pattern = str(rng.choice(FLOOR_PATTERNS))
    if floor_pattern == "planks":
        floor_colour = colorsys.hsv_to_rgb(rng.uniform(0.05, 0.11), rng.uniform(0.35, 0.7), rng.uniform(0.3, 0.8))
    else:
        floor_colour = _colour(rng, val=(0.2, 0.8))
    posters = tuple(
        (float(x), float(y), float(x + rng.uniform(0.3, 0.9)), float(y + rng.uniform(0.4, 1.0)),
         *_colour(rng, sat=(0.3, 0.9), val=(0.3, 1.0)))
        for x, y in zip(rng.uniform(-2.5, 2.0, 4), rng.uniform(0.7, 1.6, 4))
    )
    return SceneStyle(
        wall_distance=float(rng.uniform(1.2, 3.0)),
        wall_pattern=str(rng.choice(WALL_PATTERNS)),
        wall_colour=wall_colour,
        wall_second=_colour(rng),
        wall_period=float(rng.uniform(0.12, 0.4)),
        floor_pattern=floor_pattern,
        floor_colour=tuple(float(c) for c in floor_colour),
        floor_second=_colour(rng, val=(0.2, 0.9)),
        floor_period=float(rng.uniform(0.12, 0.5)),
        skirting_height=float(rng.uniform(0.0, 0.15)),
        skirting_colour=_colour(rng, sat=(0.0, 0.2), val=(0.2, 0.95)),
        posters=posters,
        seed=int(rng.integers(2 ** 31)),
    )


def _wall(style: SceneStyle, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    base = np.asarray(style.wall_colour)
    second = np.asarray(style.wall_second)
    p = style.wall_period
    m = np.zeros(x.shape)
    if style.wall_pattern == "stripes":
        m = stripes(x, p, 0.5, soft=0.01)
    elif style.wall_pattern == "panels":
        fx, fy = np.mod(x / (3 * p), 1.0), np.mod(y / (4 * p), 1.0)
        m = 1 - smoothstep(0.015, 0.03, np.minimum(np.minimum(fx, 1 - fx), np.minimum(fy, 1 - fy)))
    elif style.wall_pattern in ("bricks", "tiles"):
        h = 0.075 if style.wall_pattern == "bricks" else p
        w = 0.22 if style.wall_pattern == "bricks" else p
        row = np.floor(y / h)
        shift = (np.mod(row, 2) * 0.5 * w) if style.wall_pattern == "bricks" else 0.0
        col = np.floor((x + shift) / w)
        fx, fy = np.mod(x + shift, w), np.mod(y, h)
        joint = 1 - smoothstep(0.004, 0.01, np.minimum(np.minimum(fx, w - fx), np.minimum(fy, h - fy)))
        shade = 0.85 + 0.3 * hash01(col, row, style.seed)
        colour = base * shade[..., None]
        return colour * (1 - joint[..., None]) + second * joint[..., None]
    elif style.wall_pattern == "wainscot":
        rail = 0.8 + 2 * p
        m = smoothstep(rail + 0.005, rail - 0.005, y)
        boards = stripes(x, 0.12, 0.06, soft=0.005) * m
        colour = base * (1 - m[..., None]) + second * m[..., None]
        return colour * (1 - 0.15 * boards[..., None])
    elif style.wall_pattern == "posters":
        colour = np.broadcast_to(base, x.shape + (3,)).copy()
        for x0, y0, x1, y1, *rgb in style.posters:
            inside = (x > x0) & (x < x1) & (y > y0) & (y < y1)
            colour[inside] = rgb
            frame = inside & ((x - x0 < 0.02) | (x1 - x < 0.02) | (y - y0 < 0.02) | (y1 - y < 0.02))
            colour[frame] = 0.9
        return colour
    return base * (1 - m[..., None]) + second * m[..., None]


def _floor(style: SceneStyle, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    base = np.asarray(style.floor_colour)
    second = np.asarray(style.floor_second)
    p = style.floor_period
    if style.floor_pattern == "planks":
        width = 0.09 + 0.25 * p
        row = np.floor(z / width)
        length = 1.2
        col = np.floor((x + hash01(row, row, style.seed) * length) / length)
        shade = 0.8 + 0.4 * hash01(col, row, style.seed + 1)
        grain = 1 + 0.06 * value_noise(x * 3, z * 60, style.seed + 2, octaves=3)
        fz = np.mod(z, width)
        gap = 1 - smoothstep(0.002, 0.006, np.minimum(fz, width - fz))
        return base * (shade * grain * (1 - 0.4 * gap))[..., None]
    if style.floor_pattern == "tiles":
        fx, fz = np.mod(x, p), np.mod(z, p)
        grout = 1 - smoothstep(0.003, 0.008, np.minimum(np.minimum(fx, p - fx), np.minimum(fz, p - fz)))
        checker = np.mod(np.floor(x / p) + np.floor(z / p), 2)
        colour = base * (1 - checker[..., None]) + (0.6 * base + 0.4 * second) * checker[..., None]
        return colour * (1 - 0.35 * grout[..., None])
    if style.floor_pattern == "carpet":
        return base * (1 + 0.08 * value_noise(x * 80, z * 80, style.seed, octaves=2)
                       + 0.06 * value_noise(x * 4, z * 4, style.seed + 3, octaves=2))[..., None]
    return base * (1 + 0.1 * value_noise(x * 6, z * 6, style.seed, octaves=4))[..., None]


def render_room(style: SceneStyle, camera_position: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Colours of the room along rays from `camera_position`: directions [3, ...] -> float32 [..., 3]."""
    dx, dy, dz = (d.astype(np.float64) for d in directions)
    cx, cy, cz = camera_position
    wall_z = -style.wall_distance
    with np.errstate(divide="ignore", invalid="ignore"):
        t_floor = np.where(dy < 0, -cy / dy, np.inf)
        t_wall = np.where(dz < 0, (wall_z - cz) / dz, np.inf)
    on_floor = t_floor < t_wall
    t = np.where(on_floor, t_floor, t_wall)
    t = np.where(np.isfinite(t), t, 1e3)
    x, y, z = cx + t * dx, cy + t * dy, cz + t * dz
    colour = np.where(on_floor[..., None], _floor(style, x, z), _wall(style, x, y))
    skirting = ~on_floor & (y < style.skirting_height)
    colour = np.where(skirting[..., None], np.asarray(style.skirting_colour), colour)
    # Soft light: a little darker into the corner between floor and wall, towards the top and with distance.
    corner = np.where(on_floor, z - wall_z, y)
    light = (1 - 0.3 * np.exp(-np.maximum(corner, 0) / 0.25)) * (1 - 0.12 * smoothstep(1.5, 3.0, y))
    light = light * (1 - 0.04 * value_noise(x * 1.5, y + z, style.seed + 9, octaves=2))
    return np.clip(colour * light[..., None], 0, 1).astype(np.float32)
