"""The person's mask from a segmentation probability map: threshold, keep the person, notice the others.

MediaPipe Pose's segmentation covers the region around the person it tracks, so other people show up
as separate blobs there. The person is the blobs the keypoints fall in (or the largest blob without
keypoints); blobs at least `other_fraction` of the person's size elsewhere are someone else.
"""

from __future__ import annotations

import cv2
import numpy as np


def person_mask(probability: np.ndarray, keypoints: np.ndarray | None = None, threshold: float = 0.5,
                min_confidence: float = 0.3, other_fraction: float = 0.1) -> tuple[np.ndarray, bool]:
    """Keep one person from a probability map.

    Args:
        probability: [H, W] float in [0, 1] (MediaPipe's segmentation_mask).
        keypoints: [18, 3] of the person to keep, in the map's pixels; None keeps the largest blob.
        threshold: probability above which a pixel is the person.
        min_confidence: keypoints below it do not vote for a blob.
        other_fraction: a blob without keypoints at least this fraction of the person's area, outside
            the person's box, counts as another person.
    Returns:
        (mask [H, W] bool, True when another person was seen).
    """
    binary = (probability >= threshold).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if count <= 1:
        return np.zeros(binary.shape, bool), False
    areas = stats[:, cv2.CC_STAT_AREA].astype(np.int64)
    keep = set()
    box = None
    if keypoints is not None:
        h, w = binary.shape
        ok = keypoints[:, 2] >= min_confidence
        for x, y in keypoints[ok, :2]:
            xi, yi = int(x), int(y)
            if 0 <= xi < w and 0 <= yi < h and labels[yi, xi] > 0:
                keep.add(int(labels[yi, xi]))
        if ok.any():
            x0, y0 = keypoints[ok, :2].min(0)
            x1, y1 = keypoints[ok, :2].max(0)
            pad = 0.15 * max(x1 - x0, y1 - y0)
            box = (x0 - pad, y0 - pad, x1 + pad, y1 + pad)
    if not keep:
        keep = {int(np.argmax(areas[1:])) + 1}
    main_area = sum(areas[i] for i in keep)
    others = False
    for i in range(1, count):
        if i in keep:
            continue
        left, top, bw, bh = stats[i, :4]
        inside = box is not None and (left >= box[0] and top >= box[1] and left + bw <= box[2]
                                      and top + bh <= box[3])
        if inside:  # a loose piece of the person (a hand cut off by the threshold, hair)
            keep.add(i)
        elif areas[i] >= other_fraction * main_area:
            others = True
    return np.isin(labels, sorted(keep)), others


def mask_box(mask: np.ndarray) -> tuple[float, float, float, float] | None:
    """(x0, y0, x1, y1) in continuous pixel coordinates around a bool mask [H, W], or None when empty."""
    rows, cols = np.any(mask, axis=1), np.any(mask, axis=0)
    if not rows.any():
        return None
    y0, y1 = np.flatnonzero(rows)[[0, -1]]
    x0, x1 = np.flatnonzero(cols)[[0, -1]]
    return float(x0), float(y0), float(x1 + 1), float(y1 + 1)


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Grow a bool mask [H, W] by `radius` pixels (elliptical structuring element)."""
    if radius <= 0:
        return mask.astype(bool)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.dilate(mask.astype(np.uint8), kernel).astype(bool)
