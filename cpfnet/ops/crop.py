"""Square person crops: cut a box out of a frame at a fixed size, and paste a crop back.

Boxes are (x0, y0, x1, y1) in continuous pixel coordinates of the full frame and may reach outside it
(a person at the border): the outside is filled by `border`. One affine warp does crop and resize at once.
"""

from __future__ import annotations

import cv2
import numpy as np


def _crop_matrix(box, size: int) -> np.ndarray:
    x0, y0, x1, y1 = (float(v) for v in box)
    sx, sy = size / (x1 - x0), size / (y1 - y0)
    # Continuous-coordinate map u = (x - x0) * s; cv2 works on pixel centres, hence the half-pixel terms.
    return np.array([[sx, 0, -x0 * sx + 0.5 * sx - 0.5], [0, sy, -y0 * sy + 0.5 * sy - 0.5]], np.float64)


def crop_box(image: np.ndarray, box, size: int, labels: bool = False, border: str = "replicate") -> np.ndarray:
    """Crop `box` of `image` [H, W(, C)] and resize it to [size, size(, C)].

    `labels` uses nearest sampling (label maps) instead of area/linear. `border` is 'replicate' (images:
    no black bars at the frame's edge) or 'constant' (zeros: masks, labels)."""
    matrix = _crop_matrix(box, size)
    shrink = matrix[0, 0] < 1
    interpolation = cv2.INTER_NEAREST if labels else (cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    if interpolation == cv2.INTER_AREA:  # warpAffine has no area mode: pre-shrink with resize, then warp
        factor = matrix[0, 0]
        h, w = image.shape[:2]
        small = cv2.resize(image, (max(1, round(w * factor)), max(1, round(h * factor))),
                           interpolation=cv2.INTER_AREA)
        fx, fy = small.shape[1] / w, small.shape[0] / h
        box = (box[0] * fx, box[1] * fy, box[2] * fx, box[3] * fy)
        # Warp directly: rounding the shrunk size can leave a scale just under 1, and recursing on it
        # would shrink again, forever.
        image, matrix, interpolation = small, _crop_matrix(box, size), cv2.INTER_LINEAR
    mode = cv2.BORDER_REPLICATE if border == "replicate" else cv2.BORDER_CONSTANT
    return cv2.warpAffine(image, matrix, (size, size), flags=interpolation, borderMode=mode, borderValue=0)


def uncrop(crop: np.ndarray, box, width: int, height: int, labels: bool = False) -> np.ndarray:
    """Map a [size, size(, C)] crop back onto a [height, width(, C)] frame (zeros outside the box)."""
    matrix = cv2.invertAffineTransform(_crop_matrix(box, crop.shape[0]))
    flags = cv2.INTER_NEAREST if labels else cv2.INTER_LINEAR
    return cv2.warpAffine(crop, matrix, (width, height), flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def paste_back(frame: np.ndarray, crop: np.ndarray, box, mask: np.ndarray | None = None) -> np.ndarray:
    """Paste an RGB crop [S, S, 3] into a copy of `frame` [H, W, 3] at `box`.

    `mask` [S, S] float in [0, 1] blends softly (1 = crop); by default the whole box is replaced."""
    h, w = frame.shape[:2]
    alpha = np.ones(crop.shape[:2], np.float32) if mask is None else mask.astype(np.float32)
    alpha = uncrop(alpha, box, w, h)[..., None]
    placed = uncrop(crop, box, w, h).astype(np.float32)
    return (placed * alpha + frame.astype(np.float32) * (1 - alpha)).round().clip(0, 255).astype(np.uint8)
