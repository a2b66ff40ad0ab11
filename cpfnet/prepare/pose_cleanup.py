"""Pose sequences: fill short gaps, then Savitzky-Golay smoothing (III-B, "Pose Sequence Smoothing").

Both work per joint on [T, 18, 3] keypoints. A joint is "detected" in a frame when its confidence is at
least `min_confidence`. Smoothing runs separately over each stretch of detected frames, so a joint is never
dragged towards the meaningless (x, y) of frames where it was missing.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import savgol_filter

from cpfnet.body.keypoints import confidence_sum

# An interpolated joint was not seen: it gets this fraction of the smaller confidence of its two ends, so
# it is drawn, but a frame full of guesses never wins the appearance-frame choice (IV-A1).
FILLED_CONFIDENCE = 0.5


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of True in a 1-D bool array."""
    padded = np.concatenate([[False], flags, [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return list(zip(edges[::2], edges[1::2]))


def fill_gaps(poses: np.ndarray, max_gap: int = 8, min_confidence: float = 0.1) -> np.ndarray:
    """Linearly interpolate joints missing for at most `max_gap` frames between two detections.

    Args:
        poses: [T, 18, 3] (x, y, confidence).
    Returns:
        A new [T, 18, 3] array; longer gaps and gaps at the ends stay missing (confidence 0).
    """
    out = poses.astype(np.float32).copy()
    detected = out[..., 2] >= min_confidence
    out[~detected, 2] = 0  # below the threshold counts as missing everywhere downstream
    for j in range(out.shape[1]):
        for start, stop in _runs(~detected[:, j]):
            if start == 0 or stop == len(out) or stop - start > max_gap:
                continue
            a, b = out[start - 1, j], out[stop, j]
            t = (np.arange(start, stop) - (start - 1)) / (stop - (start - 1))
            out[start:stop, j, :2] = a[:2] + t[:, None] * (b[:2] - a[:2])
            out[start:stop, j, 2] = FILLED_CONFIDENCE * min(a[2], b[2])
    return out


def smooth_poses(poses: np.ndarray, window: int = 7, order: int = 2, min_confidence: float = 0.1) -> np.ndarray:
    """Savitzky-Golay smoothing of x and y over time, per joint, only where the joint is present.

    Args:
        poses: [T, 18, 3].
        window: filter length in frames (odd; an even value is rounded up). Stretches shorter than the
            window use the longest odd window that fits; stretches too short for `order` stay as they are.
        order: polynomial order, smaller than the window.
    Returns:
        A new [T, 18, 3] array, confidences unchanged.
    """
    if order < 0 or window < 1:
        raise ValueError(f"Savitzky-Golay needs window >= 1 and order >= 0, got window {window}, order {order}")
    window += 1 - window % 2
    out = poses.astype(np.float32).copy()
    present = out[..., 2] >= min_confidence
    for j in range(out.shape[1]):
        for start, stop in _runs(present[:, j]):
            length = min(window, stop - start - (1 - (stop - start) % 2))  # longest odd window that fits
            if length <= order or length < 3:
                continue
            out[start:stop, j, :2] = savgol_filter(out[start:stop, j, :2], length, order, axis=0, mode="interp")
    return out


def appearance_index(poses: np.ndarray) -> int:
    """The frame with the largest keypoint-confidence sum (IV-A1); the first one on ties."""
    return int(np.argmax(confidence_sum(poses)))
