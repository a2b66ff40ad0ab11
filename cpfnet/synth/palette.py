"""Colours of people: garments, skin, hair, shoes and eyes, the tables of their shares and their samplers.

Every sampler draws from the identity's random stream it is given (`cpfnet.synth.identity`); the order of
the draws inside each one is part of the seed's meaning, so a seed always gives the same person.
"""

from __future__ import annotations

import colorsys

import numpy as np

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


def contrasting_colour(rng: np.random.Generator, *colours: tuple, minimum: float = 0.25,
                       bottom: bool = False) -> tuple:
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


def second_colour(rng: np.random.Generator, base: tuple, skin: tuple, bottom: bool = False) -> tuple:
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


def jitter_colour(rng: np.random.Generator, colour, amount: float = 0.03) -> tuple:
    return tuple(float(np.clip(c + rng.normal(0, amount), 0, 1)) for c in colour)
