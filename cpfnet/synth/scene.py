"""Procedural rooms: a floor (y = 0) and a wall behind the dancer, with textures, skirting and soft light.

The room belongs to the identity (two videos of one identity share it). Since the camera is fixed, the
room is rendered once per video; it is both every frame's backdrop and the clean `background.png`.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import cv2
import numpy as np

from cpfnet.synth.textures import hash01, smoothstep, stripes, value_noise

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


def _pick(rng, weights: dict) -> str:
    names = list(weights)
    p = np.array([weights[n] for n in names])
    return str(names[int(rng.choice(len(names), p=p / p.sum()))])


def _colour(rng, sat=(0.05, 0.5), val=(0.35, 0.95)) -> tuple:
    return tuple(float(c) for c in colorsys.hsv_to_rgb(rng.random(), rng.uniform(*sat), rng.uniform(*val)))


def sample_scene(rng: np.random.Generator) -> SceneStyle:
    wall_pattern = _pick(rng, WALL_PATTERNS)
    wall_colour = _pick_colour(rng, STUDIO_COLOURS if wall_pattern == "studio" else WALL_COLOURS)
    wall_second = _pick_colour(rng, WALL_COLOURS)
    if wall_pattern in ("curtain", "gradient"):  # fabric and backdrop paper come in any colour
        wall_second = _pick_colour(rng, STUDIO_COLOURS)
    if wall_pattern == "foliage":
        wall_colour = colorsys.hsv_to_rgb(rng.uniform(0.2, 0.36), rng.uniform(0.3, 0.7), rng.uniform(0.2, 0.55))
        wall_second = colorsys.hsv_to_rgb(rng.uniform(0.55, 0.62), rng.uniform(0.05, 0.4), rng.uniform(0.75, 1.0))
    floor_pattern = _pick(rng, FLOOR_PATTERNS)
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
    elif style.wall_pattern == "clutter":
        # Furniture and shelves in front of the wall: blocks, each shaded darker towards its bottom, with
        # a few shelf lines and objects on them (small hashed blocks).
        colour = np.broadcast_to(base, x.shape + (3,)).copy()
        colour *= (1 + 0.03 * value_noise(x * 8, y * 8, style.seed + 4, octaves=2))[..., None]
        for k, (x0, y0, x1, y1, *rgb) in enumerate(style.posters):
            inside = (x > x0) & (x < x1) & (y > y0) & (y < y1)
            if not inside.any():
                continue
            shade = 0.8 + 0.2 * (y[inside] - y0) / (y1 - y0)
            shelf = stripes(y[inside] - y0, 0.35, 0.06, soft=0.005)
            items = (hash01(np.floor(x[inside] / 0.07), np.floor((y[inside] - y0) / 0.35), style.seed + k) < 0.4) \
                & (np.mod(y[inside] - y0, 0.35) > 0.05) & (np.mod(y[inside] - y0, 0.35) < 0.22) & (k % 3 == 0)
            col = np.floor(x[inside] / 0.07)
            item_colour = np.stack([hash01(col, np.full_like(col, c), style.seed) for c in range(3)], -1)
            block = np.asarray(rgb) * shade[..., None] * (1 - 0.4 * shelf[..., None])
            colour[inside] = np.where(items[..., None], 0.15 + 0.7 * item_colour, block)
        return colour
    elif style.wall_pattern == "curtain":
        # Folds: a sum of vertical sinusoids shading the cloth, a little irregular along the height.
        folds = np.zeros(x.shape)
        for k, period in enumerate((0.09, 0.16, 0.27)):
            phase = 2 * np.pi * hash01(np.array([k]), np.array([0]), style.seed)[0]
            folds += np.sin(2 * np.pi * x / (period * (0.8 + 0.4 * p / 0.4)) + phase + 0.3 * np.sin(y * 1.3 + k))
        shade = 0.78 + 0.22 * np.tanh(0.8 * folds)
        return base * shade[..., None]
    elif style.wall_pattern == "gradient":
        m = smoothstep(-0.5, 3.0, y + 0.3 * x)
        return base * (1 - m[..., None]) + second * m[..., None]
    elif style.wall_pattern == "foliage":
        # Outdoors: greenery (blotchy leaves, darker gaps), sky above an uneven tree line.
        leaves = value_noise(x * 5, y * 5, style.seed + 5, octaves=4)
        gaps = smoothstep(0.1, 0.5, value_noise(x * 1.5, y * 1.5, style.seed + 6, octaves=2))
        green = base * (0.75 + 0.45 * leaves)[..., None] * (1 - 0.5 * gaps)[..., None]
        line = 2.0 + 0.6 * value_noise(x * 0.8, np.zeros_like(x), style.seed + 7, octaves=3)
        sky = smoothstep(line - 0.05, line + 0.05, y + 0.15 * leaves)
        sky_colour = second * (1 - 0.15 * smoothstep(2.0, 4.0, y))[..., None]
        return green * (1 - sky[..., None]) + sky_colour * sky[..., None]
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
    if style.floor_pattern == "studio":  # seamless paper: the wall's colour, a little darker near the camera
        return base * (1 + 0.02 * value_noise(x * 3, z * 3, style.seed, octaves=2))[..., None] * \
            (1 - 0.1 * smoothstep(0.0, 3.0, z))[..., None]
    if style.floor_pattern == "grass":
        blades = value_noise(x * 120, z * 60, style.seed + 3, octaves=2)
        patches = value_noise(x * 2, z * 2, style.seed + 4, octaves=3)
        return base * (1 + 0.18 * blades + 0.15 * patches)[..., None]
    return base * (1 + 0.1 * value_noise(x * 6, z * 6, style.seed, octaves=4)
                   + 0.04 * value_noise(x * 60, z * 60, style.seed + 1, octaves=2))[..., None]


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
    # Soft light: a little darker into the corner between floor and wall (hardly on a studio's seamless
    # cove), towards the top and with distance; a gradient from one side and a pool of light.
    corner = np.where(on_floor, z - wall_z, y)
    depth = 0.08 if style.wall_pattern == "studio" else 0.3
    light = (1 - depth * np.exp(-np.maximum(corner, 0) / 0.25)) * (1 - 0.12 * smoothstep(1.5, 3.0, y))
    light = light * (1 - 0.04 * value_noise(x * 1.5, y + z, style.seed + 9, octaves=2))
    sx, sy, sr, strength = style.spot
    light = light * (1 + style.light_slope * x) * (1 + strength * np.exp(-((x - sx) ** 2 + (y - sy) ** 2) / sr ** 2))
    room = np.clip(colour * light[..., None], 0, 1).astype(np.float32)
    if style.blur > 0 and room.ndim >= 3:  # depth of field: the room is out of focus, the dancer is not
        size = room.shape[-2]
        planes = room.reshape(-1, *room.shape[-3:])
        for i in range(len(planes)):
            planes[i] = cv2.GaussianBlur(planes[i], (0, 0), style.blur * size, borderType=cv2.BORDER_REFLECT)
        room = planes.reshape(room.shape)
    return room
