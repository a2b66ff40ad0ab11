"""Region clean-up for the coarse parser: solid areas joined to an anchor, and a mode filter against speckle."""

from __future__ import annotations

import cv2
import numpy as np


def joined_solid(candidates: np.ndarray, anchor: np.ndarray, points: np.ndarray, offset: np.ndarray,
                 shape: tuple[int, int], width: int) -> np.ndarray:
    """The candidate pixels (indices into `points`) that form a solid area, at least `width` pixels
    across, connected to the anchor pixels: a waistband joins the trousers, a dark check of a shirt
    does not."""
    if len(candidates) == 0 or len(anchor) == 0:
        return candidates[:0]
    local = np.floor(points - offset).astype(int)
    grid = np.zeros(shape, np.uint8)
    grid[local[candidates, 1], local[candidates, 0]] = 1
    solid = cv2.morphologyEx(grid, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (width, width)))
    solid[local[anchor, 1], local[anchor, 0]] = 1
    _, components = cv2.connectedComponents(solid)
    anchored = np.unique(components[local[anchor, 1], local[anchor, 0]])
    keep = np.isin(components[local[candidates, 1], local[candidates, 0]], anchored[anchored > 0])
    keep &= solid[local[candidates, 1], local[candidates, 0]] > 0
    return candidates[keep]


def mode_filter(labels: np.ndarray, mask: np.ndarray, size: int = 5) -> np.ndarray:
    """A mode filter inside the mask: removes the speckle that per-pixel colour decisions leave."""
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    crop, inside = labels[y0:y1, x0:x1], mask[y0:y1, x0:x1]
    present = [v for v in np.unique(crop) if v != 0]
    if len(present) < 2:
        return labels
    counts = np.stack([cv2.boxFilter((crop == v).astype(np.float32), -1, (size, size), normalize=False)
                       for v in present])
    mode = np.asarray(present, np.uint8)[np.argmax(counts, axis=0)]
    out = labels.copy()
    out[y0:y1, x0:x1] = np.where(inside, mode, 0)
    return out
