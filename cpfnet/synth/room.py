"""Rendering a room: a floor (y = 0) and a wall behind the dancer, with textures, skirting and soft light.

The room's style (`cpfnet.synth.scene.SceneStyle`) is sampled per identity; here it is rendered along
camera rays. Nothing here draws random numbers: the textures are hashed from the style's seed.
"""

from __future__ import annotations

import cv2
import numpy as np

from cpfnet.synth.scene import SceneStyle
from cpfnet.synth.textures import hash01, smoothstep, stripes, value_noise


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
