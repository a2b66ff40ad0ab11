"""Random new poses near a given one: each bone turned about its parent joint, the body scaled and moved.

Personalisation (cpfnet.transfer.personalize) warps the target photo into such poses with the geometric flow,
which gives training pairs of one real person whose motion is known exactly (iPERCore's personalize step
makes its pairs from the source images the same way).
"""

from __future__ import annotations

import numpy as np

from cpfnet.body.keypoints import BONES

# Largest turn (degrees) per bone, by its child joint: arms move most, legs less, torso and head a little.
MAX_TURN = {3: 1.0, 4: 1.0, 6: 1.0, 7: 1.0, 9: 0.5, 10: 0.6, 12: 0.5, 13: 0.6}
TORSO_TURN = 0.2


def perturb_pose(pose: np.ndarray, rng: np.random.Generator, degrees: float = 35.0, scale: float = 0.06,
                 shift: float = 0.04, min_confidence: float = 0.1) -> np.ndarray:
    """A random pose [18, 3] near `pose` [18, 3] (pixels): every bone of the kinematic tree (rooted at the
    neck) turns about its parent by up to `degrees` (scaled per bone by MAX_TURN), children following their
    parents; then the body scales by up to `scale` and moves by up to `shift` of its height. Missing joints
    stay missing."""
    out = pose.astype(np.float64).copy()
    total = {1: 0.0}  # accumulated turn of each joint's frame, radians
    for parent, child in BONES:
        if pose[parent, 2] < min_confidence or pose[child, 2] < min_confidence:
            total[child] = total.get(parent, 0.0)
            continue
        own = np.radians(degrees) * MAX_TURN.get(child, TORSO_TURN) * rng.uniform(-1, 1)
        angle = total.get(parent, 0.0) + own
        total[child] = angle
        c, s = np.cos(angle), np.sin(angle)
        bone = pose[child, :2] - pose[parent, :2]
        out[child, :2] = out[parent, :2] + np.array([c * bone[0] - s * bone[1], s * bone[0] + c * bone[1]])
    seen = pose[:, 2] >= min_confidence
    if seen.any():
        height = np.ptp(pose[seen, 1]) or 1.0
        centre = out[1, :2] if seen[1] else out[seen, :2].mean(axis=0)
        factor = 1 + rng.uniform(-scale, scale)
        out[:, :2] = centre + (out[:, :2] - centre) * factor + rng.uniform(-shift, shift, 2) * height
    out[~seen] = pose[~seen]
    return out.astype(pose.dtype)
