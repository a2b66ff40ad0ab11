"""OpenPose COCO-18 keypoints: order, limbs, left/right mirror.

Keypoints are float32 arrays [..., 18, 3]: (x, y) in pixels and a confidence, 1 for a visible joint,
lower when it is hidden, 0 when it is missing (then x and y mean nothing).
"""

from __future__ import annotations

import numpy as np

KEYPOINT_NAMES = (
    "nose", "neck",
    "right_shoulder", "right_elbow", "right_wrist",
    "left_shoulder", "left_elbow", "left_wrist",
    "right_hip", "right_knee", "right_ankle",
    "left_hip", "left_knee", "left_ankle",
    "right_eye", "left_eye", "right_ear", "left_ear",
)
NUM_KEYPOINTS = len(KEYPOINT_NAMES)
INDEX = {name: i for i, name in enumerate(KEYPOINT_NAMES)}

# The 17 limbs OpenPose draws for COCO-18 (its two ear-shoulder links left out: they carry no new joint).
LIMBS = (
    (1, 2), (2, 3), (3, 4),        # right arm
    (1, 5), (5, 6), (6, 7),        # left arm
    (1, 8), (8, 9), (9, 10),       # right leg
    (1, 11), (11, 12), (12, 13),   # left leg
    (1, 0), (0, 14), (14, 16),     # head, right side
    (0, 15), (15, 17),             # head, left side
)
NUM_LIMBS = len(LIMBS)

# Kinematic tree rooted at the neck: (parent, child), parents before children.
BONES = (
    (1, 0), (0, 14), (14, 16), (0, 15), (15, 17),  # head
    (1, 2), (2, 3), (3, 4), (1, 5), (5, 6), (6, 7),  # arms
    (1, 8), (8, 9), (9, 10), (1, 11), (11, 12), (12, 13),  # legs (the neck-hip bones carry the torso)
)

# Index of each keypoint's mirror image (a horizontal flip swaps right and left).
FLIP_PERMUTATION = tuple(
    INDEX[name.replace("right", "@").replace("left", "right").replace("@", "left")] for name in KEYPOINT_NAMES
)

# OpenPose's colours for keypoints/limbs in previews (RGB).
COLORS = (
    (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0),
    (0, 255, 0), (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255),
    (0, 0, 255), (85, 0, 255), (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85),
)


def flip_keypoints(keypoints: np.ndarray, width: float) -> np.ndarray:
    """Mirror keypoints [..., 18, 3] horizontally in an image `width` pixels wide (pixel centres at i + 0.5
    map to width - (i + 0.5)), swapping right and left."""
    flipped = keypoints[..., FLIP_PERMUTATION, :].copy()
    flipped[..., 0] = width - flipped[..., 0]
    return flipped


def confidence_sum(keypoints: np.ndarray) -> np.ndarray:
    """Sum of confidences per frame, [T, 18, 3] -> [T]: the paper's appearance-frame criterion (IV-A1)."""
    return keypoints[..., 2].sum(axis=-1)


def bounding_box(keypoints: np.ndarray, min_confidence: float = 0.1) -> tuple[float, float, float, float] | None:
    """(x0, y0, x1, y1) around the confident keypoints of one pose [18, 3], or None when there are none."""
    ok = keypoints[:, 2] >= min_confidence
    if not ok.any():
        return None
    xs, ys = keypoints[ok, 0], keypoints[ok, 1]
    return float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())
