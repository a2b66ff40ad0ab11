"""Square crop boxes around the person, steady in time (IV-A1: crop, pad, resize to 448, keep coordinates).

Per frame the person's box is the union of the mask's box and the confident keypoints. A dance filmed
by a fixed camera usually fits one constant box (no motion of the crop at all, and the person keeps one
scale); otherwise the box follows the person, its centre smoothed with Savitzky-Golay and its size with a
running maximum then a moving average, so it neither jitters nor cuts off a limb that flicks out.
Boxes are (x0, y0, x1, y1) in continuous pixels of the original frame and may reach outside it;
keypoints go into a box's crop with `cpfnet.ops.crop.photo_to_crop`.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter1d, uniform_filter1d
from scipy.signal import savgol_filter

from cpfnet.prepare.config import CROP_MODES


def person_box(keypoints: np.ndarray | None, mask_box: tuple | None,
               min_confidence: float = 0.3) -> tuple[float, float, float, float] | None:
    """Union of a mask's box and the box of the keypoints [18, 3] above `min_confidence`, or None."""
    boxes = [] if mask_box is None else [mask_box]
    if keypoints is not None:
        ok = keypoints[:, 2] >= min_confidence
        if ok.any():
            xs, ys = keypoints[ok, 0], keypoints[ok, 1]
            boxes.append((xs.min(), ys.min(), xs.max(), ys.max()))
    if not boxes:
        return None
    b = np.asarray(boxes, np.float64)
    return float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())


def _fill_missing(values: np.ndarray) -> np.ndarray:
    """Linear interpolation over NaN rows of [T, K]; NaN ends take the nearest value."""
    out = values.copy()
    t = np.arange(len(values))
    ok = ~np.isnan(values).any(axis=1)
    for k in range(values.shape[1]):
        out[:, k] = np.interp(t, t[ok], values[ok, k])
    return out


def _odd_window(window: int, length: int) -> int:
    window = min(window, length)
    return window - (1 - window % 2)


def inside_frame(squares: np.ndarray, width: int, height: int) -> np.ndarray:
    """Shift boxes [T, 4] into the frame along each axis where they fit, so crops show real pixels rather
    than a replicated border (a shift is a continuous function of the box, so it adds no jitter)."""
    out = squares.copy()
    for axis, extent in ((0, width), (1, height)):
        lo, hi = out[:, axis], out[:, axis + 2]
        fits = hi - lo <= extent
        shift = np.where(lo < 0, -lo, 0.0) + np.where(hi > extent, extent - hi, 0.0)
        out[:, axis] += np.where(fits, shift, 0.0)
        out[:, axis + 2] += np.where(fits, shift, 0.0)
    return out


def _cap(padded, unpadded, frame_size):
    """Padding never makes a box larger than the frame's longer side (that would only add replicated
    border), but a person larger than that is never cut."""
    if frame_size is None:
        return padded
    return np.maximum(unpadded, np.minimum(padded, max(frame_size)))


def crop_boxes(boxes: np.ndarray, padding: float = 0.1, mode: str = "auto", window: int = 15,
               fixed_ratio: float = 1.3, frame_size: tuple[int, int] | None = None) -> tuple[np.ndarray, str]:
    """Steady square crop boxes from per-frame person boxes.

    Args:
        boxes: [T, 4] (x0, y0, x1, y1) per frame, NaN rows where nobody was found (at least one row must
            be finite).
        padding: margin on each side, as a fraction of the person box's longer side (reduced so that a
            box is no larger than the frame's longer side when the person fits in that).
        mode: 'fixed' (one box for the whole video, around everywhere the person goes), 'track' (follows
            the person) or 'auto' ('fixed' when its side is at most `fixed_ratio` times the median
            per-frame side: the person stays in place, as in most fixed-camera dance videos).
        window: smoothing length in frames for 'track' (about a second of video works well).
        frame_size: (width, height) of the frames: boxes that fit are shifted inside.
    Returns:
        ([T, 4] float64 square boxes, the mode used).
    """
    if mode not in CROP_MODES:
        raise ValueError(f"crop mode {mode!r}; known: {', '.join(CROP_MODES)}")
    boxes = np.asarray(boxes, np.float64)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"boxes must be [T, 4], got {boxes.shape}")
    if np.isnan(boxes).any(axis=1).all():
        raise ValueError("no frame has a person box")
    filled = _fill_missing(boxes)
    sizes = np.maximum(filled[:, 2] - filled[:, 0], filled[:, 3] - filled[:, 1])
    union = np.array([filled[:, 0].min(), filled[:, 1].min(), filled[:, 2].max(), filled[:, 3].max()])
    union_side = max(union[2] - union[0], union[3] - union[1])
    if mode == "auto":
        mode = "fixed" if union_side <= fixed_ratio * np.median(sizes) else "track"
    if mode == "fixed":
        centre = np.array([(union[0] + union[2]) / 2, (union[1] + union[3]) / 2])
        side = _cap(union_side * (1 + 2 * padding), union_side, frame_size)
        squares = np.repeat(np.array([[*(centre - side / 2), *(centre + side / 2)]]), len(boxes), axis=0)
        return (inside_frame(squares, *frame_size) if frame_size else squares), mode

    centres = np.stack([(filled[:, 0] + filled[:, 2]) / 2, (filled[:, 1] + filled[:, 3]) / 2], axis=1)
    length = _odd_window(window, len(boxes))
    if length >= 5:
        centres = savgol_filter(centres, length, 2, axis=0, mode="interp")
    # The side that holds the person around the smoothed centre, plus the margin.
    reach = np.max(np.abs(np.stack([filled[:, 0] - centres[:, 0], filled[:, 2] - centres[:, 0],
                                    filled[:, 1] - centres[:, 1], filled[:, 3] - centres[:, 1]], axis=1)), axis=1)
    need = _cap(2 * reach + 2 * padding * sizes, 2 * reach, frame_size)
    if length >= 3:
        need = uniform_filter1d(maximum_filter1d(need, length, mode="nearest"), length, mode="nearest")
    half = need[:, None] / 2
    squares = np.concatenate([centres - half, centres + half], axis=1)
    return (inside_frame(squares, *frame_size) if frame_size else squares), mode
