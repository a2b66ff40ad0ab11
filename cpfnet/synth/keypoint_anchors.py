"""Where a body's COCO-18 keypoints and soles sit on its bones.

A keypoint is a point of a bone's frame (the joint itself, or a point on the face's surface for the nose
and eyes), with the parts that may be hit in front of it while it still counts as visible, and how far in
front (`ground_truth`'s visibility test). The soles are the heel and toe points of both shoes, which
`motion` keeps on the floor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cpfnet.body.keypoints import NUM_KEYPOINTS
from cpfnet.synth.body_parts import SIDES
from cpfnet.synth.identity import Look
from cpfnet.synth.primitives import Part
from cpfnet.synth.proportions import Proportions
from cpfnet.synth.skeleton import BONE


@dataclass
class KeypointAnchors:
    bones: np.ndarray  # [18] bone of each COCO-18 keypoint
    points: np.ndarray  # [18, 3] its position in that bone's frame
    parts: list[np.ndarray]  # [18] parts that may be in front of a visible keypoint
    tolerance: np.ndarray  # [18] metres: how far in front of it they may be hit


def keypoint_anchors(parts: list[Part], p: Proportions, look: Look) -> KeypointAnchors:
    """The keypoints of a body built of `parts` with proportions `p`."""
    s, gt, gl, hs, sh_y, skull_c, skull_r = p.s, p.gt, p.gl, p.hs, p.sh_y, p.skull_c, p.skull_r
    index = {part.name: i for i, part in enumerate(parts)}

    def ids(*names):
        return np.array([index[n] for n in names if n in index], np.int64)

    skull_pt = lambda x, y: np.array([x, y, skull_c[2] + skull_r[2] * np.sqrt(  # noqa: E731
        max(0.0, 1 - (x / skull_r[0]) ** 2 - ((y - skull_c[1]) / skull_r[1]) ** 2))])
    head_parts = ("skull", "jaw", "nose")
    kb = np.zeros(NUM_KEYPOINTS, np.int64)
    kp = np.zeros((NUM_KEYPOINTS, 3))
    allowed: list[np.ndarray] = [np.zeros(0, np.int64)] * NUM_KEYPOINTS
    tol = np.zeros(NUM_KEYPOINTS)
    kb[0], kp[0], allowed[0], tol[0] = BONE["head"], np.array([0, 0.08, 0.119]) * hs, ids(*head_parts), 0.012 * s
    kb[1], kp[1] = BONE["chest"], (0, sh_y, -0.012 * s)
    allowed[1], tol[1] = ids("chest", "shoulder_l", "shoulder_r", "neck", "abdomen"), 0.13 * s * gt
    hip_tol = (0.22 if look.bottom in ("skirt", "dress") else 0.15) * s * gt
    for side, (sh_k, el_k, wr_k, hip_k, kn_k, an_k, eye_k, ear_k) in (
            (-1, (2, 3, 4, 8, 9, 10, 14, 16)), (1, (5, 6, 7, 11, 12, 13, 15, 17))):
        pre = SIDES[side]
        for k, bone, names, t in (
                (sh_k, "upper_arm", (pre + "upper_arm", "shoulder_" + pre[0], "chest"), 0.09 * s * gl),
                (el_k, "forearm", (pre + "upper_arm", pre + "forearm"), 0.065 * s * gl),
                (wr_k, "hand", (pre + "forearm", pre + "hand"), 0.055 * s * gl),
                (hip_k, "thigh", ("hips", pre + "thigh", "skirt", "skirt_yoke", "skirt_band"), hip_tol),
                (kn_k, "shin", (pre + "thigh", pre + "shin", pre + "calf"), 0.08 * s * gl),
                (an_k, "foot", (pre + "shin", pre + "foot", pre + "calf"), 0.065 * s * gl)):
            kb[k], kp[k], allowed[k], tol[k] = BONE[pre + bone], (0, 0, 0), ids(*names), t
        kb[eye_k], kp[eye_k], allowed[eye_k], tol[eye_k] = (BONE["head"], skull_pt(side * 0.032 * hs, 0.1 * hs),
                                                             ids("skull"), 0.01 * s)
        kb[ear_k], kp[ear_k] = BONE["head"], p.ear_points[side]
        allowed[ear_k], tol[ear_k] = ids("ear_" + pre[0], "skull", "hair"), 0.035 * s
    return KeypointAnchors(bones=kb, points=kp, parts=allowed, tolerance=tol)


def sole_anchors(parts: list[Part]) -> tuple[np.ndarray, np.ndarray]:
    """The heel and toe of the right then the left shoe: bones [4] and points [4, 3] in those bones' frames."""
    index = {part.name: i for i, part in enumerate(parts)}
    sole_bones, sole_points = [], []
    for pre in ("r_", "l_"):
        part = parts[index[pre + "foot"]]
        r1, r2, h = part.shape.params
        for canon in ((0, 0, r1), (0, h, r2)):  # canonical z points down on the feet (see limb_affine)
            sole_bones.append(BONE[pre + "foot"])
            sole_points.append(part.local[:, :3] @ np.asarray(canon, float) + part.local[:, 3])
    return np.array(sole_bones), np.array(sole_points)
