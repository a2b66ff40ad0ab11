"""Retarget a source dance to the target person's body (2D).

The source's motion is kept bone by bone: every bone keeps its image-plane direction and its
foreshortening (its length relative to its longest, un-foreshortened self in the video), while its full
length becomes the target's. The whole body is then moved so that it starts where the target stands, and
its travel across the floor is scaled by the ratio of the two bodies' sizes. A tall dancer's motion then
fits a short person, and a child does not float off the floor.
"""

from __future__ import annotations

import numpy as np

from cpfnet.body.keypoints import BONES, INDEX, NUM_KEYPOINTS

ROOT = INDEX["neck"]


def _lengths(poses: np.ndarray, min_confidence: float) -> np.ndarray:
    """Bone lengths [T, B] (NaN where either end is missing)."""
    parents = poses[:, [p for p, _ in BONES]]
    children = poses[:, [c for _, c in BONES]]
    length = np.linalg.norm(children[..., :2] - parents[..., :2], axis=-1)
    ok = (parents[..., 2] >= min_confidence) & (children[..., 2] >= min_confidence)
    return np.where(ok, length, np.nan)


def full_bone_lengths(poses: np.ndarray, min_confidence: float = 0.3, percentile: float = 90) -> np.ndarray:
    """Each bone's un-foreshortened length [B] from a pose sequence [T, 18, 3]: a high percentile of its
    image length (the frames where the bone lies in the image plane). NaN for a bone never seen."""
    lengths = _lengths(poses, min_confidence)
    with np.errstate(all="ignore"):
        seen = ~np.isnan(lengths).all(axis=0)
        out = np.full(len(BONES), np.nan)
        out[seen] = np.nanpercentile(lengths[:, seen], percentile, axis=0)
    return out


def _fill_missing(lengths: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Bones missing in `lengths` take the reference's length times the median ratio of the others."""
    both = ~np.isnan(lengths) & ~np.isnan(reference)
    ratio = np.median(lengths[both] / reference[both]) if both.any() else 1.0
    return np.where(np.isnan(lengths), reference * ratio, lengths)


def retarget_poses(source: np.ndarray, target: np.ndarray, min_confidence: float = 0.3,
                   anchor_frame: int = 0) -> np.ndarray:
    """Move the source's motion onto the target's body.

    Args:
        source: [T, 18, 3] source poses (pixels of the source, confidences).
        target: [18, 3] the target's pose in its photo (pixels of the photo).
        anchor_frame: the source frame placed where the target stands (the first confident neck from it
            on); the rest of the dance moves relative to it.
    Returns:
        [T, 18, 3] poses in the target photo's pixels with the source's confidences; a joint missing in
        the source (or whose parent is missing) stays missing.
    """
    if source.ndim != 3 or source.shape[1:] != (NUM_KEYPOINTS, 3) or target.shape != (NUM_KEYPOINTS, 3):
        raise ValueError(f"expected source [T, 18, 3] and target [18, 3], got {source.shape}, {target.shape}")
    src_full = full_bone_lengths(source, min_confidence)
    tgt_full = _fill_missing(_lengths(target[None], min_confidence)[0], src_full)
    src_full = _fill_missing(src_full, tgt_full)
    with np.errstate(all="ignore"):
        bone_scale = np.nan_to_num(tgt_full / src_full, nan=1.0)
    body_scale = float(np.median(bone_scale))

    out = np.zeros_like(source)
    out[:, :, 2] = source[:, :, 2]
    ok = source[:, :, 2] >= min_confidence
    # Start where the target stands: the source's neck at the anchor goes to the target's neck.
    root_ok = np.flatnonzero(ok[anchor_frame:, ROOT]) + anchor_frame
    if len(root_ok) == 0:
        raise ValueError("the source never shows the neck (both shoulders); cannot retarget")
    start = source[root_ok[0], ROOT, :2]
    anchor = target[ROOT, :2] if target[ROOT, 2] >= min_confidence else start
    out[:, ROOT, :2] = anchor + (source[:, ROOT, :2] - start) * body_scale
    for b, (parent, child) in enumerate(BONES):
        offset = (source[:, child, :2] - source[:, parent, :2]) * bone_scale[b]
        out[:, child, :2] = out[:, parent, :2] + offset
        ok[:, child] &= ok[:, parent]
    out[~ok] = 0.0
    return out
