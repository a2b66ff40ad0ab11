"""The rest proportions of one body: bone lengths, girths and the head's geometry (metres) from an
identity's `BodyShape`, and the skeleton's rest joint offsets that follow from them.

Proportions follow average human ones (e.g. hip joints at 0.52 and shoulders at 0.82 of the height),
scaled by the identity's ratios.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cpfnet.synth.identity import BodyShape
from cpfnet.synth.skeleton import BONE, NUM_BONES, PARENT


@dataclass(frozen=True)
class Proportions:
    """One body's sizes at rest: factors about 1 (`s`, `gt`, `gl`, `hs`) and lengths in metres."""

    s: float  # size factor, height / 1.7
    H: float  # height
    gt: float  # torso girth factor
    gl: float  # limb girth factor
    hs: float  # head size factor (heads vary less than bodies)
    ankle_h: float  # ankle joint above the sole
    shin: float
    thigh: float
    hip_half: float  # half the distance between the hip joints
    spine_up: float  # pelvis -> spine joint
    abdomen: float  # spine -> chest joint
    chest: float  # chest -> neck joint
    neck: float  # neck -> head joint
    sh_half: float  # half the distance between the shoulder joints
    sh_y: float  # shoulder joints above the chest joint
    upper: float  # upper arm
    fore: float  # forearm
    hand: float
    foot_len: float
    skull_c: np.ndarray  # [3] the skull's centre in the head bone's frame
    skull_r: np.ndarray  # [3] its radii
    ear_points: dict  # side (-1 right, 1 left) -> [3] an ear's centre in the head bone's frame


def body_proportions(shape: BodyShape) -> Proportions:
    """The proportions of a body of `shape`."""
    s, H = shape.scale, shape.height
    gt = 0.55 + 0.45 * shape.girth  # torso girth
    gl = shape.limb_girth * (0.75 + 0.25 * shape.girth)
    hs = (0.6 + 0.4 * s) * shape.head  # heads vary less than bodies

    ankle_h = 0.043 * H
    shin, thigh = 0.243 * H * shape.legs, 0.238 * H * shape.legs
    hip_half = 0.05 * H * shape.hips
    spine_up, abdomen, chest, neck = 0.055 * H, 0.105 * H, 0.135 * H, 0.042 * H
    sh_half, sh_y = 0.1 * H * shape.shoulders, 0.115 * H
    upper, fore, hand = 0.172 * H * shape.arms, 0.148 * H * shape.arms, 0.105 * H * shape.arms
    foot_len = 0.15 * H
    skull_c = np.array([0, 0.098, 0.005]) * hs
    skull_r = np.array([0.077, 0.108, 0.097]) * hs
    ear_points = {side: np.array([side * 0.079, 0.086, 0.0]) * hs for side in (-1, 1)}
    return Proportions(s=s, H=H, gt=gt, gl=gl, hs=hs, ankle_h=ankle_h, shin=shin, thigh=thigh, hip_half=hip_half,
                       spine_up=spine_up, abdomen=abdomen, chest=chest, neck=neck, sh_half=sh_half, sh_y=sh_y,
                       upper=upper, fore=fore, hand=hand, foot_len=foot_len, skull_c=skull_c, skull_r=skull_r,
                       ear_points=ear_points)


def rest_skeleton(p: Proportions) -> tuple[np.ndarray, np.ndarray]:
    """The skeleton at rest: joint offsets [B, 3] in the parent's frame, and bone origins [B, 3] with the
    pelvis at 0."""
    s = p.s
    offsets = np.zeros((NUM_BONES, 3))
    offsets[BONE["spine"]] = (0, p.spine_up, -0.005 * s)
    offsets[BONE["chest"]] = (0, p.abdomen, 0)
    offsets[BONE["neck"]] = (0, p.chest, -0.01 * s)
    offsets[BONE["head"]] = (0, p.neck, 0.012 * s)
    for side, pre in ((-1, "r_"), (1, "l_")):
        offsets[BONE[pre + "upper_arm"]] = (side * p.sh_half, p.sh_y, -0.012 * s)
        offsets[BONE[pre + "forearm"]] = (0, -p.upper, 0)
        offsets[BONE[pre + "hand"]] = (0, -p.fore, 0)
        offsets[BONE[pre + "thigh"]] = (side * p.hip_half, 0, 0)
        offsets[BONE[pre + "shin"]] = (0, -p.thigh, 0)
        offsets[BONE[pre + "foot"]] = (0, -p.shin, 0)
    rest = np.zeros((NUM_BONES, 3))
    for i in range(1, NUM_BONES):
        rest[i] = rest[PARENT[i]] + offsets[i]
    return offsets, rest
