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
# Garment patterns and how often they occur. Plain cloth (with weave, heather and folds) is still the most
# common; the rest are the patterns of everyday clothes.
TOP_PATTERNS = {"plain": 0.30, "heather": 0.08, "hstripes": 0.10, "vstripes": 0.03, "pinstripes": 0.03,
                "checks": 0.03, "gingham": 0.04, "plaid": 0.05, "dots": 0.03, "ditsy": 0.05, "camo": 0.02,
                "print": 0.09, "text": 0.06, "colourblock": 0.03, "knit": 0.06}
BOTTOM_PATTERNS = {"plain": 0.40, "heather": 0.06, "denim": 0.36, "side_stripe": 0.07, "pinstripes": 0.03,
                   "plaid": 0.04, "camo": 0.04}
SKIRT_PATTERNS = {"plain": 0.35, "checks": 0.04, "gingham": 0.06, "plaid": 0.10, "dots": 0.09, "ditsy": 0.15,
                  "hstripes": 0.07, "denim": 0.06, "knit": 0.08}

# Garment colours: (family, weight for tops, weight for bottoms, hue range, saturation range, value range),
# HSV of sRGB. Rough shares of the colours seen in street and fashion photos (not a measured survey): about
# two thirds near-neutral (black, white, grey, navy, denim, beige, brown), black the single most common,
# bottoms dominated by denim, black, grey and khaki; saturated colours a minority, and those mostly
# strong (red, royal blue, green, yellow), not pastel. The value ranges reach the dark and light extremes.
GARMENT_COLOURS = (
    ("black", 0.20, 0.22, (0.0, 1.0), (0.0, 0.15), (0.03, 0.12)),
    ("white", 0.13, 0.04, (0.05, 0.15), (0.0, 0.07), (0.86, 0.98)),
    ("grey", 0.11, 0.11, (0.0, 1.0), (0.0, 0.06), (0.22, 0.72)),
    ("navy", 0.08, 0.09, (0.6, 0.67), (0.45, 0.85), (0.13, 0.33)),
    ("denim", 0.04, 0.20, (0.57, 0.62), (0.3, 0.6), (0.28, 0.62)),
    ("beige", 0.07, 0.11, (0.07, 0.12), (0.15, 0.42), (0.55, 0.88)),
    ("brown", 0.04, 0.06, (0.04, 0.09), (0.4, 0.7), (0.17, 0.42)),
    ("olive", 0.04, 0.06, (0.16, 0.25), (0.3, 0.6), (0.22, 0.48)),
    ("red", 0.07, 0.03, (-0.03, 0.02), (0.6, 0.92), (0.3, 0.85)),
    ("pink", 0.04, 0.02, (0.9, 0.97), (0.22, 0.6), (0.72, 0.95)),
    ("green", 0.03, 0.01, (0.3, 0.45), (0.5, 0.85), (0.28, 0.7)),
    ("yellow", 0.03, 0.01, (0.11, 0.16), (0.6, 0.9), (0.72, 0.96)),
    ("orange", 0.02, 0.01, (0.03, 0.075), (0.7, 0.95), (0.72, 0.95)),
    ("blue", 0.06, 0.02, (0.5, 0.65), (0.55, 0.9), (0.45, 0.85)),
    ("purple", 0.02, 0.01, (0.72, 0.84), (0.35, 0.7), (0.28, 0.68)),
)
NEUTRAL_FAMILIES = ("black", "white", "grey", "navy", "denim", "beige", "brown")

# Skin: a continuous scale from very light to very dark (sRGB albedo, as lit skin appears in photos, after
# the Monk and Fitzpatrick scales), sampled uniformly along it, with a random undertone (warmer, yellower,
# pinker) so that no two people share one of a few tones.
SKIN_SCALE = np.array([
    (0.97, 0.83, 0.74), (0.94, 0.78, 0.66), (0.89, 0.70, 0.57), (0.82, 0.62, 0.48), (0.73, 0.53, 0.38),
    (0.62, 0.43, 0.30), (0.50, 0.34, 0.23), (0.39, 0.26, 0.18), (0.28, 0.18, 0.13), (0.20, 0.13, 0.10),
])
# Hair: (colour, share): black and dark brown are most of the world's hair; then brown, blond, auburn,
# grey or white; a minority dyed (a random saturated hue, or platinum).
HAIR_COLOURS = (
    ((0.04, 0.035, 0.03), 0.30), ((0.11, 0.07, 0.045), 0.27), ((0.24, 0.15, 0.09), 0.15),
    ((0.42, 0.18, 0.08), 0.04), ((0.56, 0.42, 0.25), 0.05), ((0.82, 0.69, 0.46), 0.06),
    ((0.62, 0.61, 0.6), 0.04), ((0.86, 0.85, 0.83), 0.02),
)
DYED_HAIR = 0.07
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


def garment_colour(rng: np.random.Generator, bottom: bool = False, family: str | None = None) -> tuple:
    """A clothing colour (sRGB) from `GARMENT_COLOURS`: a family by its share for tops or bottoms (or the
    one named), then hue, saturation and value uniformly within the family's ranges."""
    if family is None:
        weights = np.array([f[2] if bottom else f[1] for f in GARMENT_COLOURS])
        row = GARMENT_COLOURS[int(rng.choice(len(GARMENT_COLOURS), p=weights / weights.sum()))]
    else:
        row = next(f for f in GARMENT_COLOURS if f[0] == family)
    hue = float(np.mod(rng.uniform(*row[3]), 1.0))
    return tuple(float(c) for c in colorsys.hsv_to_rgb(hue, rng.uniform(*row[4]), rng.uniform(*row[5])))


def _contrasting(rng: np.random.Generator, *colours: tuple, minimum: float = 0.25, bottom: bool = False) -> tuple:
    """A clothing colour at least `minimum` (mean absolute RGB difference) from each of `colours` (e.g.
    bare skin, or a pattern's other colour, which must show)."""
    other = garment_colour(rng, bottom)
    for _ in range(30):
        if all(np.abs(np.subtract(other, c)).mean() > minimum for c in colours):
            break
        other = garment_colour(rng, bottom)
    return other


def skin_tone(rng: np.random.Generator) -> tuple:
    """A skin albedo: a uniform position on `SKIN_SCALE` (interpolated) with a random undertone."""
    t = rng.uniform(0, len(SKIN_SCALE) - 1)
    i = min(int(t), len(SKIN_SCALE) - 2)
    tone = SKIN_SCALE[i] * (1 - (t - i)) + SKIN_SCALE[i + 1] * (t - i)
    warm, pink = rng.normal(0, 0.035), rng.normal(0, 0.025)
    tone = tone * np.array([1 + warm + pink, 1.0, 1 - warm + pink]) * rng.uniform(0.95, 1.05)
    return tuple(float(c) for c in np.clip(tone, 0, 1))


def hair_colour(rng: np.random.Generator) -> tuple:
    if rng.random() < DYED_HAIR:
        if rng.random() < 0.25:  # platinum
            return tuple(float(c) for c in np.clip(rng.uniform(0.82, 0.92) + rng.normal(0, 0.02, 3), 0, 1))
        return tuple(float(c) for c in colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.5, 0.85),
                                                            rng.uniform(0.35, 0.85)))
    weights = np.array([w for _, w in HAIR_COLOURS])
    colour = np.array(HAIR_COLOURS[int(rng.choice(len(HAIR_COLOURS), p=weights / weights.sum()))][0])
    return tuple(float(c) for c in np.clip(colour * rng.uniform(0.85, 1.15), 0, 1))


def shoe_colour(rng: np.random.Generator) -> tuple:
    """Shoes: mostly white sneakers, black, brown or grey; otherwise a garment colour."""
    kind = rng.choice(["white", "black", "brown", "grey", "any"], p=[0.3, 0.33, 0.1, 0.09, 0.18])
    if kind == "any":
        return garment_colour(rng)
    return garment_colour(rng, family=str(kind))


def _second_colour(rng: np.random.Generator, base: tuple, skin: tuple, bottom: bool = False) -> tuple:
    """A pattern's second colour: half the time white, black, navy or grey (stripes, checks and prints are
    mostly on or in a neutral), otherwise any garment colour; always clearly different from the base."""
    for _ in range(30):
        if rng.random() < 0.5:
            other = garment_colour(rng, family=str(rng.choice(["white", "black", "navy", "grey"])))
        else:
            other = garment_colour(rng, bottom)
        if np.abs(np.subtract(other, base)).mean() > 0.22:
            return other
    return tuple(float(v) for v in (1.0 - np.asarray(base)))


def _pick(rng: np.random.Generator, weights: dict) -> str:
    names = list(weights)
    p = np.array([weights[n] for n in names])
    return str(names[int(rng.choice(len(names), p=p / p.sum()))])


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
    skin = skin_tone(rng)
    hair = hair_colour(rng)
    styles_p = [0.1, 0.3, 0.15, 0.15, 0.15, 0.15] if feminine <= 0.5 else [0.03, 0.1, 0.22, 0.3, 0.2, 0.15]
    hair_style = str(rng.choice(HAIR_STYLES, p=styles_p))
    bottom = str(rng.choice(BOTTOMS, p=[0.45, 0.2, 0.2, 0.15] if feminine > 0.5 else [0.65, 0.3, 0.03, 0.02]))
    top = str(rng.choice(TOPS, p=[0.2, 0.45, 0.35]))
    top_colour = _contrasting(rng, skin, minimum=0.12)
    top_pattern = _pick(rng, TOP_PATTERNS)
    if top_pattern == "knit" and top == "tank":
        top = "long_sleeve"
    bottom_pattern = _pick(rng, SKIRT_PATTERNS if bottom in ("skirt", "dress") else BOTTOM_PATTERNS)
    # Outfits: the bottom is drawn on its own (all-black and all-denim outfits happen), only kept off skin.
    bottom_colour = _contrasting(rng, skin, minimum=0.12, bottom=True)
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
        top_second=_second_colour(rng, top_colour, skin),
        top_pattern=top_pattern,
        sleeve_length=float(rng.uniform(0.3, 0.6)),
        bottom=bottom,
        bottom_colour=bottom_colour,
        bottom_second=_second_colour(rng, bottom_colour, skin, bottom=True),
        bottom_pattern=bottom_pattern,
        shorts_length=float(rng.uniform(0.3, 0.65)),
        skirt_length=float(rng.uniform(0.3, 0.62)),
        skirt_flare=float(rng.uniform(0.03, 0.14)),
        shoe_colour=shoe_colour(rng),
        sole_colour=tuple(float(v) for v in rng.choice([(0.95, 0.95, 0.93), (0.1, 0.1, 0.1), (0.6, 0.45, 0.3)])),
        eye_colour=tuple(float(v) for v in EYE_COLOURS[rng.integers(len(EYE_COLOURS))]),
        lip_colour=_jitter(rng, np.array(skin) * np.array([0.85, 0.55, 0.55]) + np.array([0.08, 0, 0]), 0.02),
    )
    lighting = sample_lighting(rng)
    scene = sample_scene(rng)
    return Identity(index=index, shape=shape, look=look, lighting=lighting, scene=scene,
                    texture_seed=int(rng.integers(2 ** 31)))
