"""Identities: body shape, hair, clothes, skin, lighting and room of one synthetic person.

An identity depends only on (seed, identity id): its random stream is
`SeedSequence(seed, spawn_key=(0, identity))`, the identity-th child of the seed's first spawned child,
so adding videos never changes the earlier ones and every video of one identity has the same person in
the same room. `sample_identity` draws from that one stream, in a fixed order: the body shape, the look
(colours from `cpfnet.synth.palette`), the light (`cpfnet.synth.lighting`), the room
(`cpfnet.synth.scene`), the texture seed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from cpfnet.synth.lighting import Lighting, sample_lighting
from cpfnet.synth.palette import (EYE_COLOURS, contrasting_colour, garment_colour, hair_colour, jitter_colour,
                                  second_colour, shoe_colour, skin_tone)
from cpfnet.synth.sampling import pick
from cpfnet.synth.scene import SceneStyle, sample_scene

HAIR_STYLES = ("buzz", "short", "bob", "long", "ponytail", "bun")
TOPS = ("tank", "short_sleeve", "long_sleeve")
BOTTOMS = ("pants", "shorts", "skirt", "dress")
# Garment patterns and how often they occur. Plain cloth (with weave, heather and folds) is still the most
# common; the rest are the patterns of everyday clothes.
TOP_PATTERNS = {"plain": 0.30, "heather": 0.08, "hstripes": 0.10, "vstripes": 0.03, "pinstripes": 0.03,
                "checks": 0.03, "gingham": 0.04, "plaid": 0.05, "dots": 0.03, "ditsy": 0.05, "camo": 0.02,
                "print": 0.09, "text": 0.06, "colourblock": 0.03, "knit": 0.06}
BOTTOM_PATTERNS = {"plain": 0.40, "heather": 0.06, "denim": 0.36, "side_stripe": 0.07, "pinstripes": 0.03,
                   "plaid": 0.04, "camo": 0.04}
SKIRT_PATTERNS = {"plain": 0.35, "checks": 0.04, "gingham": 0.06, "plaid": 0.10, "dots": 0.09, "ditsy": 0.15,
                  "hstripes": 0.07, "denim": 0.06, "knit": 0.08}


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
    skin = skin_tone(rng)
    hair = hair_colour(rng)
    styles_p = [0.1, 0.3, 0.15, 0.15, 0.15, 0.15] if feminine <= 0.5 else [0.03, 0.1, 0.22, 0.3, 0.2, 0.15]
    hair_style = str(rng.choice(HAIR_STYLES, p=styles_p))
    bottom = str(rng.choice(BOTTOMS, p=[0.45, 0.2, 0.2, 0.15] if feminine > 0.5 else [0.65, 0.3, 0.03, 0.02]))
    top = str(rng.choice(TOPS, p=[0.2, 0.45, 0.35]))
    top_colour = contrasting_colour(rng, skin, minimum=0.12)
    top_pattern = pick(rng, TOP_PATTERNS)
    if top_pattern == "knit" and top == "tank":
        top = "long_sleeve"
    bottom_pattern = pick(rng, SKIRT_PATTERNS if bottom in ("skirt", "dress") else BOTTOM_PATTERNS)
    # Outfits: the bottom is drawn on its own (all-black and all-denim outfits happen), only kept off skin.
    bottom_colour = contrasting_colour(rng, skin, minimum=0.12, bottom=True)
    if bottom_pattern == "denim":  # indigo of a dark, mid or light wash; sometimes black or grey denim
        bottom_colour = garment_colour(rng, family=str(rng.choice(["denim", "navy", "black", "grey"],
                                                                  p=[0.65, 0.15, 0.14, 0.06])))
    if bottom == "dress":
        bottom_colour, bottom_pattern = top_colour, (top_pattern if top_pattern in SKIRT_PATTERNS else bottom_pattern)
    look = Look(
        skin=skin,
        hair_style=hair_style,
        hair_colour=hair,
        fringe=bool(rng.random() < 0.3),
        hair_length=float(rng.uniform(0.1, 0.3)),
        top=top,
        top_colour=top_colour,
        top_second=second_colour(rng, top_colour, skin),
        top_pattern=top_pattern,
        sleeve_length=float(rng.uniform(0.3, 0.6)),
        bottom=bottom,
        bottom_colour=bottom_colour,
        bottom_second=second_colour(rng, bottom_colour, skin, bottom=True),
        bottom_pattern=bottom_pattern,
        shorts_length=float(rng.uniform(0.3, 0.65)),
        skirt_length=float(rng.uniform(0.3, 0.62)),
        skirt_flare=float(rng.uniform(0.03, 0.14)),
        shoe_colour=shoe_colour(rng),
        sole_colour=tuple(float(v) for v in rng.choice([(0.95, 0.95, 0.93), (0.1, 0.1, 0.1), (0.6, 0.45, 0.3)])),
        eye_colour=tuple(float(v) for v in EYE_COLOURS[rng.integers(len(EYE_COLOURS))]),
        lip_colour=jitter_colour(rng, np.array(skin) * np.array([0.85, 0.55, 0.55]) + np.array([0.08, 0, 0]), 0.02),
    )
    lighting = sample_lighting(rng)
    scene = sample_scene(rng)
    return Identity(index=index, shape=shape, look=look, lighting=lighting, scene=scene,
                    texture_seed=int(rng.integers(2 ** 31)))
