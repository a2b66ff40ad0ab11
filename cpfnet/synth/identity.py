"""Identities: body shape, hair, clothes, skin, lighting and room of one synthetic person.

An identity depends only on (seed, identity id): its random stream is
`SeedSequence(seed, spawn_key=(0, identity))`, the identity-th child of the seed's first spawned child,
so adding videos never changes the earlier ones and every video of one identity has the same person in
the same room.
"""

from __future__ import annotations

import colorsys
from dataclasses import asdict, dataclass

import numpy as np

from cpfnet.synth.scene import SceneStyle, sample_scene

HAIR_STYLES = ("buzz", "short", "bob", "long", "ponytail", "bun")
TOPS = ("tank", "short_sleeve", "long_sleeve")
BOTTOMS = ("pants", "shorts", "skirt", "dress")
TOP_PATTERNS = ("plain", "plain", "hstripes", "checks", "dots", "print", "print", "colourblock")
BOTTOM_PATTERNS = ("plain", "plain", "denim", "side_stripe")
SKIRT_PATTERNS = ("plain", "plain", "checks", "hstripes", "dots")

# Skin tones from very light to very dark (sRGB, 0-1).
SKIN_TONES = np.array([
    (0.98, 0.85, 0.76), (0.95, 0.79, 0.67), (0.89, 0.70, 0.57), (0.80, 0.60, 0.46),
    (0.69, 0.49, 0.35), (0.56, 0.38, 0.26), (0.42, 0.28, 0.19), (0.30, 0.20, 0.14),
])
HAIR_COLOURS = np.array([
    (0.05, 0.045, 0.04), (0.13, 0.08, 0.05), (0.27, 0.16, 0.09), (0.42, 0.17, 0.07),
    (0.72, 0.56, 0.32), (0.86, 0.76, 0.52), (0.55, 0.55, 0.55), (0.08, 0.07, 0.07),
])
EYE_COLOURS = np.array([(0.25, 0.15, 0.08), (0.12, 0.08, 0.05), (0.25, 0.4, 0.55), (0.3, 0.42, 0.25)])


@dataclass
class BodyShape:
    """Per-identity proportions; lengths scale with `height` (metres), ratios are about 1."""

    height: float
    legs: float
    arms: float
    shoulders: float
    hips: float
    girth: float
    limb_girth: float
    head: float
    bust: float  # 0 (none) .. 1

    @property
    def scale(self) -> float:
        return self.height / 1.7


@dataclass
class Look:
    skin: tuple
    hair_style: str
    hair_colour: tuple
    fringe: bool
    hair_length: float
    top: str
    top_colour: tuple
    top_second: tuple
    top_pattern: str
    sleeve_length: float  # fraction of the upper arm (short sleeves)
    bottom: str
    bottom_colour: tuple
    bottom_second: tuple
    bottom_pattern: str
    shorts_length: float  # fraction of the thigh
    skirt_length: float  # metres below the hips, at height 1.7
    skirt_flare: float  # metres, at height 1.7
    shoe_colour: tuple
    sole_colour: tuple
    eye_colour: tuple
    lip_colour: tuple


@dataclass
class Lighting:
    """A directional key light (world, towards the light) plus ambient: Lambertian shading."""

    direction: tuple
    ambient: float
    diffuse: float


@dataclass
class Identity:
    index: int
    shape: BodyShape
    look: Look
    lighting: Lighting
    scene: SceneStyle
    texture_seed: int

    def summary(self) -> dict:
        """What a person would say about this identity (recorded in meta.json `extra`)."""
        shape = {k: round(float(v), 3) for k, v in asdict(self.shape).items()}
        look = self.look
        return {"shape": shape, "hair": look.hair_style, "top": look.top, "top_pattern": look.top_pattern,
                "bottom": look.bottom, "bottom_pattern": look.bottom_pattern, "wall": self.scene.wall_pattern,
                "floor": self.scene.floor_pattern}


def identity_stream(seed: int, identity: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(seed, spawn_key=(0, identity))


def _clothing_colour(rng: np.random.Generator) -> tuple:
    kind = rng.random()
    if kind < 0.25:  # black, white, greys
        v = rng.choice([0.08, 0.15, 0.35, 0.55, 0.8, 0.92])
        return tuple(float(np.clip(v + rng.normal(0, 0.02), 0, 1)) for _ in range(3))
    hue = rng.random()
    sat = rng.uniform(0.15, 0.45) if kind < 0.55 else rng.uniform(0.5, 0.95)
    val = rng.uniform(0.25, 0.95)
    return tuple(float(c) for c in colorsys.hsv_to_rgb(hue, sat, val))


def _contrasting(rng: np.random.Generator, *colours: tuple, minimum: float = 0.25) -> tuple:
    """A clothing colour at least `minimum` (mean absolute RGB difference) from each of `colours`, so
    clothes neither vanish into each other nor pass for bare skin."""
    other = _clothing_colour(rng)
    for _ in range(30):
        if all(np.abs(np.subtract(other, c)).mean() > minimum for c in colours):
            break
        other = _clothing_colour(rng)
    return other


def _jitter(rng: np.random.Generator, colour, amount: float = 0.03) -> tuple:
    return tuple(float(np.clip(c + rng.normal(0, amount), 0, 1)) for c in colour)


def sample_identity(seed: int, index: int) -> Identity:
    """The identity `index` of `seed` (deterministic)."""
    rng = np.random.default_rng(identity_stream(seed, index))
    feminine = rng.random()
    shape = BodyShape(
        height=float(rng.uniform(1.52, 1.78) if feminine > 0.5 else rng.uniform(1.62, 1.95)),
        legs=float(rng.uniform(0.95, 1.06)),
        arms=float(rng.uniform(0.95, 1.05)),
        shoulders=float(rng.uniform(0.88, 0.98) if feminine > 0.5 else rng.uniform(0.98, 1.12)),
        hips=float(rng.uniform(1.0, 1.12) if feminine > 0.5 else rng.uniform(0.9, 1.0)),
        girth=float(rng.choice([rng.uniform(0.8, 1.0), rng.uniform(1.0, 1.35)], p=[0.6, 0.4])),
        limb_girth=float(rng.uniform(0.85, 1.2)),
        head=float(rng.uniform(0.93, 1.06)),
        bust=float(rng.uniform(0.5, 1.0) if feminine > 0.55 else 0.0),
    )
    skin = _jitter(rng, SKIN_TONES[rng.integers(len(SKIN_TONES))], 0.02)
    hair_colour = HAIR_COLOURS[rng.integers(len(HAIR_COLOURS))]
    if rng.random() < 0.07:  # dyed
        hair_colour = colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.5, 0.8), rng.uniform(0.4, 0.8))
    styles_p = [0.1, 0.3, 0.15, 0.15, 0.15, 0.15] if feminine <= 0.5 else [0.03, 0.1, 0.22, 0.3, 0.2, 0.15]
    hair_style = str(rng.choice(HAIR_STYLES, p=styles_p))
    bottom = str(rng.choice(BOTTOMS, p=[0.45, 0.2, 0.2, 0.15] if feminine > 0.5 else [0.65, 0.3, 0.03, 0.02]))
    top = str(rng.choice(TOPS, p=[0.2, 0.45, 0.35]))
    top_colour = _contrasting(rng, skin, minimum=0.2)
    bottom_pattern = str(rng.choice(SKIRT_PATTERNS if bottom in ("skirt", "dress") else BOTTOM_PATTERNS))
    bottom_colour = _contrasting(rng, top_colour, skin)
    if bottom_pattern == "denim":
        bottom_colour = _jitter(rng, (0.2, 0.3, 0.48), 0.05)
    if bottom == "dress":
        bottom_colour = top_colour
    look = Look(
        skin=skin,
        hair_style=hair_style,
        hair_colour=_jitter(rng, hair_colour, 0.02),
        fringe=bool(rng.random() < 0.3),
        hair_length=float(rng.uniform(0.1, 0.3)),
        top=top,
        top_colour=top_colour,
        top_second=_contrasting(rng, top_colour, skin),
        top_pattern=str(rng.choice(TOP_PATTERNS)),
        sleeve_length=float(rng.uniform(0.3, 0.6)),
        bottom=bottom,
        bottom_colour=bottom_colour,
        bottom_second=_contrasting(rng, bottom_colour, skin),
        bottom_pattern=bottom_pattern,
        shorts_length=float(rng.uniform(0.3, 0.65)),
        skirt_length=float(rng.uniform(0.3, 0.62)),
        skirt_flare=float(rng.uniform(0.03, 0.14)),
        shoe_colour=_clothing_colour(rng),
        sole_colour=tuple(float(v) for v in rng.choice([(0.95, 0.95, 0.93), (0.1, 0.1, 0.1), (0.6, 0.45, 0.3)])),
        eye_colour=tuple(float(v) for v in EYE_COLOURS[rng.integers(len(EYE_COLOURS))]),
        lip_colour=_jitter(rng, np.array(skin) * np.array([0.85, 0.55, 0.55]) + np.array([0.08, 0, 0]), 0.02),
    )
    azimuth = rng.uniform(-0.9, 0.9)
    elevation = rng.uniform(0.4, 1.0)
    direction = (float(np.sin(azimuth) * np.cos(elevation)), float(np.sin(elevation)),
                 float(np.cos(azimuth) * np.cos(elevation)))
    lighting = Lighting(direction=direction, ambient=float(rng.uniform(0.38, 0.55)),
                        diffuse=float(rng.uniform(0.5, 0.7)))
    scene = sample_scene(rng)
    return Identity(index=index, shape=shape, look=look, lighting=lighting, scene=scene,
                    texture_seed=int(rng.integers(2 ** 31)))
