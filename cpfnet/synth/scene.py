"""Procedural rooms and photo styles: what the room behind the dancer is, and how it is photographed.

The room belongs to the identity (two videos of one identity share it) and is drawn from the identity's
random stream (`sample_scene`). Since the camera is fixed, the room is rendered once per video
(`cpfnet.synth.room.render_room`); it is both every frame's backdrop and the clean `background.png`.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np

from cpfnet.synth.sampling import pick

# Backdrops and how often they occur: plain walls and studio backdrops (seamless paper, as in fashion
# photos) are common; curtains, gradients, furnished rooms (often out of focus), outdoor greenery and the
# patterned walls make the rest.
WALL_PATTERNS = {"plain": 0.18, "studio": 0.14, "curtain": 0.07, "gradient": 0.07, "clutter": 0.12,
                 "foliage": 0.06, "bricks": 0.06, "tiles": 0.04, "panels": 0.06, "wainscot": 0.06, "stripes": 0.04,
                 "posters": 0.1}
FLOOR_PATTERNS = {"planks": 0.35, "tiles": 0.2, "carpet": 0.17, "concrete": 0.28}

# Wall paint: (share, hue, saturation, value ranges of sRGB HSV): mostly white, off-white, grey and beige,
# some muted colours, few dark or strong ones (not the uniform hues of pastel paint everywhere).
WALL_COLOURS = (
    (0.38, (0.07, 0.16), (0.0, 0.08), (0.8, 0.97)),
    (0.16, (0.0, 1.0), (0.0, 0.04), (0.5, 0.85)),
    (0.16, (0.07, 0.13), (0.1, 0.3), (0.62, 0.9)),
    (0.2, (0.0, 1.0), (0.08, 0.35), (0.4, 0.8)),
    (0.06, (0.0, 1.0), (0.0, 0.35), (0.12, 0.4)),
    (0.04, (0.0, 1.0), (0.5, 0.8), (0.4, 0.8)),
)
# Studio backdrops: white, light grey, dark grey to black, or a colour.
STUDIO_COLOURS = (
    (0.45, (0.0, 1.0), (0.0, 0.03), (0.86, 0.98)),
    (0.25, (0.0, 1.0), (0.0, 0.04), (0.55, 0.82)),
    (0.15, (0.0, 1.0), (0.0, 0.05), (0.06, 0.35)),
    (0.15, (0.0, 1.0), (0.2, 0.7), (0.35, 0.9)),
)
FLOOR_COLOURS = (  # tiles, carpet, concrete: neutral, beige, some muted
    (0.45, (0.0, 1.0), (0.0, 0.06), (0.2, 0.85)),
    (0.3, (0.06, 0.13), (0.1, 0.4), (0.3, 0.85)),
    (0.25, (0.0, 1.0), (0.1, 0.45), (0.2, 0.7)),
)
FURNITURE_COLOURS = (  # wood, white, grey, black, a minority of colours; windows are bright
    (0.3, (0.05, 0.1), (0.35, 0.7), (0.2, 0.65)),
    (0.2, (0.0, 1.0), (0.0, 0.05), (0.8, 0.97)),
    (0.2, (0.0, 1.0), (0.0, 0.06), (0.2, 0.6)),
    (0.12, (0.0, 1.0), (0.0, 0.1), (0.03, 0.15)),
    (0.18, (0.0, 1.0), (0.35, 0.85), (0.3, 0.9)),
)


@dataclass
class PhotoStyle:
    """How the photograph is taken and processed, applied to every frame and to the clean background alike
    (so the background stays exactly what is behind the dancer). `exposure` an sRGB gain (the camera's
    exposure error), `contrast` and `saturation` of the tone curve, `vignette` the darkening at the corners,
    `noise` the sensor noise (standard deviation at mid-grey, a fixed pattern per video: a frame-varying one
    would differ from the background), `chroma_noise` its per-channel share, `soften` the side weight of a
    3 x 3 luminance kernel (> 0 blurs like a soft lens or JPEG, < 0 sharpens like a phone),
    `chroma_blur` the extra blur of the colour channels (JPEG's subsampled chroma)."""

    exposure: float = 1.0
    contrast: float = 1.0
    saturation: float = 1.0
    vignette: float = 0.0
    noise: float = 0.0
    chroma_noise: float = 0.0
    soften: float = 0.0
    chroma_blur: float = 0.0
    seed: int = 0


def sample_photo(rng: np.random.Generator) -> PhotoStyle:
    soft = rng.choice(["sharpened", "none", "soft"], p=[0.35, 0.25, 0.4])
    soften = {"sharpened": rng.uniform(-0.12, -0.03), "none": 0.0, "soft": rng.uniform(0.04, 0.2)}[str(soft)]
    return PhotoStyle(
        exposure=float(2 ** (rng.uniform(-0.6, 0.45) / 2.2)),
        contrast=float(rng.uniform(0.9, 1.15)),
        saturation=float(rng.uniform(0.85, 1.2)),
        vignette=float(rng.uniform(0.05, 0.3) if rng.random() < 0.5 else 0.0),
        noise=float(rng.uniform(0.003, 0.022) if rng.random() < 0.7 else 0.0),
        chroma_noise=float(rng.uniform(0.1, 0.5)),
        soften=float(soften),
        chroma_blur=float(rng.uniform(0.0, 0.25)),
        seed=int(rng.integers(2 ** 31)),
    )


@dataclass
class SceneStyle:
    """The room, and how it is photographed (`photo`; None: a perfect camera)."""

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
    posters: tuple  # ((x0, y0, x1, y1, r, g, b), ...): posters, furniture, windows, frames
    seed: int
    light_slope: float = 0.0  # brightness gradient across the wall (per metre): light from one side
    spot: tuple = (0.0, 1.5, 1.0, 0.0)  # (x, y, radius, strength): a pool of light on the backdrop
    blur: float = 0.0  # depth of field: Gaussian sigma of the room, as a fraction of the image size
    photo: PhotoStyle | None = None


def _pick_colour(rng, table) -> tuple:
    weights = np.array([row[0] for row in table])
    _, hue, sat, val = table[int(rng.choice(len(table), p=weights / weights.sum()))]
    return tuple(float(c) for c in colorsys.hsv_to_rgb(np.mod(rng.uniform(*hue), 1.0), rng.uniform(*sat),
                                                        rng.uniform(*val)))


def sample_scene(rng: np.random.Generator) -> SceneStyle:
    wall_pattern = pick(rng, WALL_PATTERNS)
    wall_colour = _pick_colour(rng, STUDIO_COLOURS if wall_pattern == "studio" else WALL_COLOURS)
    wall_second = _pick_colour(rng, WALL_COLOURS)
    if wall_pattern in ("curtain", "gradient"):  # fabric and backdrop paper come in any colour
        wall_second = _pick_colour(rng, STUDIO_COLOURS)
    if wall_pattern == "foliage":
        wall_colour = colorsys.hsv_to_rgb(rng.uniform(0.2, 0.36), rng.uniform(0.3, 0.7), rng.uniform(0.2, 0.55))
        wall_second = colorsys.hsv_to_rgb(rng.uniform(0.55, 0.62), rng.uniform(0.05, 0.4), rng.uniform(0.75, 1.0))
    floor_pattern = pick(rng, FLOOR_PATTERNS)
    if wall_pattern == "studio":
        floor_pattern = "studio"
    elif wall_pattern == "foliage":
        floor_pattern = str(rng.choice(["grass", "concrete", "tiles"]))
    if floor_pattern == "planks":
        floor_colour = colorsys.hsv_to_rgb(rng.uniform(0.05, 0.11), rng.uniform(0.3, 0.7), rng.uniform(0.25, 0.8))
    elif floor_pattern == "studio":
        floor_colour = wall_colour
    elif floor_pattern == "grass":
        floor_colour = colorsys.hsv_to_rgb(rng.uniform(0.2, 0.3), rng.uniform(0.4, 0.75), rng.uniform(0.25, 0.55))
    else:
        floor_colour = _pick_colour(rng, FLOOR_COLOURS)
    if wall_pattern == "clutter":  # furniture, shelves, doors, windows, frames
        count, table = 9, FURNITURE_COLOURS
    else:
        count, table = 4, ((1.0, (0.0, 1.0), (0.2, 0.85), (0.25, 1.0)),)
    posters = []
    for _ in range(count):
        w, h = (rng.uniform(0.3, 1.6), rng.uniform(0.3, 2.0)) if count > 4 else (rng.uniform(0.3, 0.9),
                                                                              rng.uniform(0.4, 1.0))
        x, y = rng.uniform(-3.0, 2.5), (rng.uniform(0.0, 1.8) if count > 4 else rng.uniform(0.7, 1.6))
        colour = _pick_colour(rng, table)
        if count > 4 and rng.random() < 0.12:  # a window
            colour = tuple(float(c) for c in np.clip(np.array([0.9, 0.95, 1.0]) * rng.uniform(0.95, 1.3), 0, 1))
        posters.append((float(x), float(y), float(x + w), float(y + h), *colour))
    blurry = 0.8 if wall_pattern in ("clutter", "foliage") else 0.35
    return SceneStyle(
        wall_distance=float(rng.uniform(1.2, 3.5)),
        wall_pattern=wall_pattern,
        wall_colour=tuple(float(c) for c in wall_colour),
        wall_second=tuple(float(c) for c in wall_second),
        wall_period=float(rng.uniform(0.12, 0.4)),
        floor_pattern=floor_pattern,
        floor_colour=tuple(float(c) for c in floor_colour),
        floor_second=_pick_colour(rng, FLOOR_COLOURS),
        floor_period=float(rng.uniform(0.12, 0.5)),
        skirting_height=float(rng.uniform(0.0, 0.15)) if wall_pattern not in ("studio", "foliage") else 0.0,
        skirting_colour=_pick_colour(rng, WALL_COLOURS[:3]),
        posters=tuple(posters),
        seed=int(rng.integers(2 ** 31)),
        light_slope=float(rng.uniform(-0.15, 0.15)),
        spot=(float(rng.uniform(-1.0, 1.0)), float(rng.uniform(0.8, 2.2)), float(rng.uniform(0.8, 2.0)),
              float(rng.uniform(0.0, 0.3))),
        blur=float(rng.uniform(0.002, 0.012)) if rng.random() < blurry else 0.0,
        photo=sample_photo(rng),
    )
