"""The per-frame step that the video's pass 2 and the in-memory photo share: crop the frame, its person mask
and keypoints to the crop box, and parse the crop (III-B's coarse parser, or external labels cropped)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cpfnet.ops.crop import crop_box, photo_to_crop
from cpfnet.prepare.coarse_parser import coarse_parsing


@dataclass
class CroppedFrame:
    """One frame in its crop: `image` [S, S, 3] uint8, `parsing` [S, S] uint8 LIP ids, `keypoints` [18, 3] in
    crop pixels."""

    image: np.ndarray
    parsing: np.ndarray
    keypoints: np.ndarray


def crop_and_parse(frame: np.ndarray, box, size: int, keypoints: np.ndarray, min_confidence: float,
                   mask: np.ndarray | None = None, labels: np.ndarray | None = None) -> CroppedFrame:
    """frame [H, W, 3], box (x0, y0, x1, y1) in frame pixels, keypoints [18, 3] in frame pixels, and either the
    person mask [H, W] bool (parsed by the coarse parser) or external LIP labels [H, W] (cropped as they are).
    Outside the frame the mask and labels read as background."""
    if (mask is None) == (labels is None):
        raise ValueError("give exactly one of mask and labels")
    image = crop_box(frame, box, size)
    points = photo_to_crop(keypoints, box, size).astype(np.float32)
    if labels is not None:
        parsing = crop_box(labels, box, size, labels=True, border="constant")
    else:
        crop_mask = crop_box(mask.astype(np.uint8) * 255, box, size, border="constant") >= 128
        parsing = coarse_parsing(crop_mask, points, image, min_confidence)
    return CroppedFrame(image, parsing, points)
