"""Picture grids like the paper's Fig. 4: one labelled row per source, pose and method, one column per frame."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from cpfnet.body.draw import image_grid
from cpfnet.io.atomic import atomic_file
from cpfnet.io.images import write_image

FONT = cv2.FONT_HERSHEY_SIMPLEX


def labelled_grid(rows: list[tuple[str, list[np.ndarray]]], min_cell: int = 128, pad: int = 2,
                  font_scale: float = 0.45) -> np.ndarray:
    """Rows of equal-size RGB uint8 tiles [S, S, 3], each with its label on the left -> one RGB picture.

    Tiles smaller than `min_cell` are enlarged by a whole factor (nearest, so pixels stay visible)."""
    if not rows or not rows[0][1]:
        raise ValueError("no tiles to draw")
    h, w = rows[0][1][0].shape[:2]
    factor = max(1, -(-min_cell // max(h, w)))
    tiles = [[cv2.resize(t, (w * factor, h * factor), interpolation=cv2.INTER_NEAREST) if factor > 1 else t
              for t in row] for _, row in rows]
    grid = image_grid(tiles, pad=pad)
    cell = h * factor + pad
    width = max(cv2.getTextSize(label, FONT, font_scale, 1)[0][0] for label, _ in rows) + 12
    labels = np.full((grid.shape[0], width, 3), 255, np.uint8)
    for r, (label, _) in enumerate(rows):
        (_, text_h), _ = cv2.getTextSize(label, FONT, font_scale, 1)
        y = r * cell + (h * factor + text_h) // 2
        cv2.putText(labels, label, (6, y), FONT, font_scale, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([labels, grid], axis=1)


def write_png(path: str | Path, image: np.ndarray) -> None:
    """Write an RGB uint8 image as PNG, atomically."""
    with atomic_file(path, suffix=".png") as tmp:
        write_image(tmp, cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
