"""The body model of an identity: skeleton rest offsets, the smooth primitives of every body part with
their materials and LIP labels, and where the COCO-18 keypoints sit on the bones.

All primitives hang on bones (`skeleton.BONES`) and move rigidly with them, so a surface point given as
(part, canonical point) is the same point of the body in every frame: the basis of the exact flow.

`build_body` composes the steps, each in its module: `proportions` (sizes and the rest skeleton),
`body_materials` (what each region is made of), `body_parts` (the primitives, on `primitives`),
`keypoint_anchors` (keypoints and soles).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cpfnet.synth.body_materials import body_materials
from cpfnet.synth.body_parts import build_parts
from cpfnet.synth.identity import Identity
from cpfnet.synth.keypoint_anchors import keypoint_anchors, sole_anchors
from cpfnet.synth.primitives import Part
from cpfnet.synth.proportions import body_proportions, rest_skeleton
from cpfnet.synth.skeleton import BONE


@dataclass
class BodyModel:
    """An identity's body: skeleton rest pose, parts, keypoint anchors, soles (to stand on the floor)."""

    offsets: np.ndarray  # [B, 3] rest joint offsets in the parent's frame
    rest_origins: np.ndarray  # [B, 3] bone origins at rest, pelvis at 0
    parts: list[Part]
    keypoint_bones: np.ndarray  # [18] bone of each COCO-18 keypoint
    keypoint_points: np.ndarray  # [18, 3] its position in that bone's frame
    keypoint_parts: list[np.ndarray]  # [18] parts that may be in front of a visible keypoint
    keypoint_tolerance: np.ndarray  # [18] metres: how far in front of it they may be hit
    sole_bones: np.ndarray  # [4] heel and toe of both feet
    sole_points: np.ndarray  # [4, 3]
    pelvis_height: float  # rest height of the pelvis joint above the floor, feet flat
    height: float  # rest height of the top of the head


def build_body(identity: Identity) -> BodyModel:
    """The body model of `identity`: its proportions, rest skeleton, materials (drawn from its texture
    stream), parts, keypoints and soles."""
    shape, look = identity.shape, identity.look
    rng = np.random.default_rng(identity.texture_seed)
    p = body_proportions(shape)
    offsets, rest = rest_skeleton(p)
    materials = body_materials(look, p, rest, rng)
    parts = build_parts(p, shape, look, materials)
    keypoints = keypoint_anchors(parts, p, look)
    sole_bones, sole_points = sole_anchors(parts)
    pelvis_height = p.thigh + p.shin + p.ankle_h
    height = pelvis_height + rest[BONE["head"]][1] + p.skull_c[1] + p.skull_r[1]
    return BodyModel(offsets=offsets, rest_origins=rest, parts=parts, keypoint_bones=keypoints.bones,
                     keypoint_points=keypoints.points, keypoint_parts=keypoints.parts,
                     keypoint_tolerance=keypoints.tolerance, sole_bones=sole_bones, sole_points=sole_points,
                     pelvis_height=float(pelvis_height), height=float(height))
