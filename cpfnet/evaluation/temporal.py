"""Temporal stability: the warping error between consecutive frames (Lai et al., ECCV 2018).

For each pair (t-1, t), dense optical flow is estimated on a *reference* video (the ground-truth or
source video the generated one should move like; by default the generated video itself) with OpenCV's
Farneback method, in both directions. Pixels whose forward and backward flows disagree are occluded or
unreliable and are left out (Sundaram et al. 2010: |f + b|^2 < 0.01 (|f|^2 + |b|^2) + 0.5), as are pixels
whose flow leaves the frame. The generated frame t-1 is warped to t along the backward flow, and the
error of the pair is the mean squared difference, over the remaining pixels and the three channels,
between frame t and warped frame t-1, with colours on [0, 1]. The video's warping error is the mean over
pairs. Flicker and jitter that the reference does not have raise it.

Frames are numpy RGB [H, W, 3], uint8 or float on [0, 1]; videos may be any iterable of frames, read one
at a time (memory holds two frames of each video).
"""

from __future__ import annotations

from typing import Iterable, Iterator

import cv2
import numpy as np

# OpenCV's documented example settings for Farneback.
FARNEBACK = dict(pyr_scale=0.5, levels=3, winsize=15, iterations=3, poly_n=5, poly_sigma=1.2, flags=0)
CONSISTENCY_ALPHA = 0.01
CONSISTENCY_BETA = 0.5


def _as_unit_float(frame: np.ndarray) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"expected an RGB frame [H, W, 3], got shape {frame.shape}")
    if frame.dtype == np.uint8:
        return frame.astype(np.float32) / 255.0
    if np.issubdtype(frame.dtype, np.floating):
        return frame.astype(np.float32)
    raise ValueError(f"frames must be uint8 or float on [0, 1], got {frame.dtype}")


def _gray(frame: np.ndarray) -> np.ndarray:
    unit = _as_unit_float(frame)
    return cv2.cvtColor(np.clip(unit * 255.0 + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)


def farneback_flow(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Displacement [H, W, 2] (dx, dy) float32 with source(p) ~ target(p + flow(p)); frames RGB [H, W, 3]."""
    return cv2.calcOpticalFlowFarneback(_gray(source), _gray(target), None, **FARNEBACK)


def _sample(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """image [H, W, C] read at p + flow(p), bilinear; positions outside read 0."""
    h, w = flow.shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(image, grid_x + flow[..., 0], grid_y + flow[..., 1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def consistent_mask(backward: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """Pixels of frame t [H, W] bool whose backward flow (t -> t-1) is confirmed by the forward flow (t-1 -> t)
    and stays inside the frame."""
    h, w = backward.shape[:2]
    forward_there = _sample(forward, backward)  # forward flow at the matched pixel of frame t-1
    round_trip = backward + forward_there
    bound = CONSISTENCY_ALPHA * ((backward ** 2).sum(-1) + (forward_there ** 2).sum(-1)) + CONSISTENCY_BETA
    grid_x, grid_y = np.meshgrid(np.arange(w), np.arange(h))
    x, y = grid_x + backward[..., 0], grid_y + backward[..., 1]
    inside = (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)
    return ((round_trip ** 2).sum(-1) < bound) & inside


def pair_warping_error(previous: np.ndarray, current: np.ndarray, ref_previous: np.ndarray,
                       ref_current: np.ndarray) -> tuple[float, float]:
    """(mean squared error over consistent pixels, share of consistent pixels) for one pair of frames.

    previous, current: generated frames [H, W, 3]; ref_previous, ref_current: reference frames of the same size.
    The error is NaN when no pixel is consistent.
    """
    shapes = {np.shape(f)[:2] for f in (previous, current, ref_previous, ref_current)}
    if len(shapes) != 1:
        raise ValueError(f"generated and reference frames must share one size, got {sorted(shapes)}")
    backward = farneback_flow(ref_current, ref_previous)
    forward = farneback_flow(ref_previous, ref_current)
    mask = consistent_mask(backward, forward)
    warped = _sample(_as_unit_float(previous), backward)
    squared = ((_as_unit_float(current) - warped) ** 2).mean(axis=-1)
    count = int(mask.sum())
    return (float(squared[mask].mean()) if count else float("nan")), count / mask.size


def warping_error(video: Iterable[np.ndarray], reference: Iterable[np.ndarray] | None = None) -> dict:
    """Warping error of a generated video, flow taken from `reference` (default: the video itself).

    video, reference: iterables of RGB frames [H, W, 3] (uint8, or float on [0, 1]) of equal length.
    Returns {"warping_error": mean over pairs (NaN-free pairs), "pairs": [T-1] per-pair errors,
    "consistent_fraction": mean share of pixels kept}.
    """
    frames: Iterator[np.ndarray] = iter(video)
    ref_frames: Iterator[np.ndarray] | None = iter(reference) if reference is not None else None
    errors, kept = [], []
    previous = ref_previous = None
    for current in frames:
        ref_current = current if ref_frames is None else next(ref_frames, None)
        if ref_current is None:
            raise ValueError("the reference video is shorter than the generated one")
        if previous is not None:
            error, fraction = pair_warping_error(previous, current, ref_previous, ref_current)
            errors.append(error)
            kept.append(fraction)
        previous, ref_previous = current, ref_current
    if ref_frames is not None and next(ref_frames, None) is not None:
        raise ValueError("the reference video is longer than the generated one")
    if not errors:
        raise ValueError("the warping error needs at least 2 frames")
    pairs = np.asarray(errors, dtype=np.float64)
    valid = pairs[~np.isnan(pairs)]
    return {"warping_error": float(valid.mean()) if valid.size else float("nan"),
            "pairs": pairs, "consistent_fraction": float(np.mean(kept))}
