"""LIP human-parsing labels (Gong et al., CVPR 2017) and the palette used in previews."""

from __future__ import annotations

import numpy as np

LABEL_NAMES = (
    "background", "hat", "hair", "glove", "sunglasses", "upper_clothes", "dress", "coat", "socks", "pants",
    "jumpsuits", "scarf", "skirt", "face", "left_arm", "right_arm", "left_leg", "right_leg", "left_shoe",
    "right_shoe",
)
NUM_LABELS = len(LABEL_NAMES)
LABEL = {name: i for i, name in enumerate(LABEL_NAMES)}

# LIP's official visualisation palette (RGB), so our previews read like everyone else's.
PALETTE = np.array([
    (0, 0, 0), (128, 0, 0), (255, 0, 0), (0, 85, 0), (170, 0, 51), (255, 85, 0), (0, 0, 85), (0, 119, 221),
    (85, 85, 0), (0, 85, 85), (85, 51, 0), (52, 86, 128), (0, 128, 0), (0, 0, 255), (51, 170, 221),
    (0, 255, 255), (85, 255, 170), (170, 255, 85), (255, 255, 0), (255, 170, 0),
], dtype=np.uint8)

# A horizontal flip swaps these (a mirrored left arm is a right arm).
FLIP_LABELS = np.arange(NUM_LABELS)
for _a, _b in (("left_arm", "right_arm"), ("left_leg", "right_leg"), ("left_shoe", "right_shoe")):
    FLIP_LABELS[LABEL[_a]], FLIP_LABELS[LABEL[_b]] = LABEL[_b], LABEL[_a]


def colorize(parsing: np.ndarray) -> np.ndarray:
    """LIP label ids [H, W] uint8 -> RGB [H, W, 3] uint8."""
    if parsing.max(initial=0) >= NUM_LABELS:
        raise ValueError(f"parsing has label {int(parsing.max())}; LIP has {NUM_LABELS} (0-{NUM_LABELS - 1})")
    return PALETTE[parsing]
