"""Previews: skeletons, parsing, flow, and grids of them (numpy + OpenCV, uint8 RGB)."""

from __future__ import annotations

import cv2
import numpy as np

from cpfnet.body.keypoints import COLORS, LIMBS
from cpfnet.body.parsing_labels import colorize


def draw_skeleton(image: np.ndarray | None, keypoints: np.ndarray, size: tuple[int, int] | None = None,
                  min_confidence: float = 0.1, radius: int | None = None) -> np.ndarray:
    """Draw a COCO-18 skeleton [18, 3] on a copy of `image` (RGB uint8) or on black of `size` (H, W).

    Hidden joints (confidence below 1) are drawn hollow, so previews show what the data says."""
    canvas = np.zeros((*size, 3), np.uint8) if image is None else image.copy()
    h, w = canvas.shape[:2]
    radius = radius or max(2, round(min(h, w) / 100))
    ok = keypoints[:, 2] >= min_confidence
    for k, (i, j) in enumerate(LIMBS):
        if ok[i] and ok[j]:
            p, q = keypoints[i, :2], keypoints[j, :2]
            cv2.line(canvas, (int(p[0]), int(p[1])), (int(q[0]), int(q[1])), COLORS[k], max(1, radius // 2 + 1),
                     cv2.LINE_AA)
    for i, (x, y, c) in enumerate(keypoints):
        if ok[i]:
            cv2.circle(canvas, (int(x), int(y)), radius, COLORS[i], -1 if c >= 0.99 else 1, cv2.LINE_AA)
    return canvas


def draw_parsing(parsing: np.ndarray, image: np.ndarray | None = None, alpha: float = 0.6) -> np.ndarray:
    """LIP labels [H, W] as colours, optionally blended over an RGB image."""
    colours = colorize(parsing)
    if image is None:
        return colours
    blend = (alpha * colours + (1 - alpha) * image).astype(np.uint8)
    return np.where(parsing[..., None] > 0, blend, image)


def draw_flow(flow: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Appearance flow [H, W, 2] (absolute source pixels) as colour: hue = direction of the displacement,
    brightness = its length (Middlebury-style)."""
    h, w = flow.shape[:2]
    grid = np.stack(np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5), axis=-1)
    disp = (flow - grid).astype(np.float32)
    magnitude, angle = cv2.cartToPolar(disp[..., 0], disp[..., 1])
    hsv = np.zeros((h, w, 3), np.uint8)
    hsv[..., 0] = (angle * 90 / np.pi).astype(np.uint8)
    hsv[..., 1] = 255
    hsv[..., 2] = np.clip(magnitude / max(1e-6, np.percentile(magnitude, 99)) * 255, 0, 255).astype(np.uint8)
    rgb = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    return rgb if mask is None else rgb * mask[..., None].astype(np.uint8)


def image_grid(rows: list[list[np.ndarray]], pad: int = 2) -> np.ndarray:
    """Tile RGB uint8 images (rows of equal-size tiles) into one picture with a white gap between tiles."""
    th, tw = rows[0][0].shape[:2]
    cols = max(len(r) for r in rows)
    grid = np.full((len(rows) * (th + pad) - pad, cols * (tw + pad) - pad, 3), 255, np.uint8)
    for r, row in enumerate(rows):
        for c, tile in enumerate(row):
            if tile.shape[:2] != (th, tw):
                tile = cv2.resize(tile, (tw, th), interpolation=cv2.INTER_AREA)
            if tile.ndim == 2:
                tile = np.repeat(tile[..., None], 3, axis=-1)
            grid[r * (th + pad):r * (th + pad) + th, c * (tw + pad):c * (tw + pad) + tw] = tile
    return grid
