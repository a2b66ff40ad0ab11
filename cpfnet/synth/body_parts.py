"""The primitives of a body with their materials and LIP labels: torso, head and hair, arms and legs, and
a skirt's pieces, added in that order (a part's index is its id in every render).

Limb axes run along the bone (`primitives.limb_affine`); sizes are fractions of the body's proportions
(`proportions`), and every part carries the label of its material.
"""

from __future__ import annotations

import numpy as np

from cpfnet.body.parsing_labels import LABEL
from cpfnet.synth.body_materials import BodyMaterials
from cpfnet.synth.identity import BodyShape, Look
from cpfnet.synth.materials import Material
from cpfnet.synth.primitives import Part, PartList, ellipsoid_affine, limb_affine
from cpfnet.synth.proportions import Proportions
from cpfnet.synth.raycast import ELLIPSOID, ROUNDCONE

SIDES = {-1: "r_", 1: "l_"}  # side -> bone and part name prefix (the person's right is -x)


def _window(zmin: float, ymax: float) -> tuple:
    """The part of a unit sphere in front of z = zmin and below y = ymax (a face opening)."""
    return ((0.0, 0.0, 1.0, zmin), (0.0, -1.0, 0.0, -ymax))


def _hair_openings(style: str, fringe: bool) -> tuple:
    """Regions cut out of a hair style's shell, where the face (and, for short styles, the ears and nape)
    shows: in the skull's canonical unit-sphere coordinates, which the shell shares (it is the skull
    scaled about its centre)."""
    top = 0.28 if fringe else 0.5
    if style == "buzz":
        return (_window(0.2, 0.55 if not fringe else 0.4), _window(-0.15, 0.05), _window(-2.0, -0.3))
    if style == "short":
        return (_window(0.25, top), _window(-0.35, 0.0), _window(-2.0, -0.5))
    if style in ("bob", "long"):
        return (_window(0.32, top), _window(-2.0, -0.62))
    return (_window(0.25, top), _window(-0.3, -0.02), _window(-2.0, -0.45))  # ponytail, bun


def add_torso(parts: PartList, p: Proportions, shape: BodyShape, look: Look, m: BodyMaterials) -> None:
    """Hips, abdomen, chest, shoulders, bust and neck."""
    s, gt, gl, top = p.s, p.gt, p.gl, m.top
    hips_rx = 0.152 * s * shape.hips * (0.6 + 0.4 * shape.girth)
    if look.bottom == "shorts":  # cover the tops of the bare thighs inside the shorts' legs
        hips_rx = max(hips_rx, p.hip_half + 0.08 * s * gl * (0.9 + 0.1 * gt) + 0.012 * s)
    parts.add("hips", "pelvis", ELLIPSOID,
              ellipsoid_affine((0, 0.03 * s, -0.01 * s), (hips_rx, 0.11 * s, 0.108 * s * gt)),
              Material(m.bottom_label, m.bottom_fabric[0]))
    parts.roundcone("abdomen", "spine", (0, -0.03 * s, 0), (0, p.abdomen, 0), 0.14 * s * gt, 0.15 * s * gt, top,
                    1.0, 0.7)
    parts.roundcone("chest", "chest", (0, 0, 0), (0, p.chest - 0.13 * s, 0), 0.155 * s * gt, 0.13 * s * gt, top,
                    1.0, 0.7)
    # Shoulders: from the base of the neck, sloping down to each shoulder joint (trapezius and deltoid); a
    # tank top stops short of the joint and leaves the arm's own rounded top bare.
    reach = 0.6 if look.top == "tank" else 0.97
    for side, name in ((-1, "shoulder_r"), (1, "shoulder_l")):
        parts.roundcone(name, "chest", (side * 0.04 * s, p.sh_y + 0.032 * s, -0.02 * s),
                        (side * reach * p.sh_half, p.sh_y + (0.015 - 0.019 * reach / 0.97) * s, -0.012 * s),
                        0.047 * s * gt, 0.053 * s * gl, top)
    if shape.bust > 0:
        r = 0.058 * s * (0.7 + 0.3 * shape.bust) * gt
        for x in (-1, 1):
            parts.add(f"bust_{'l' if x > 0 else 'r'}", "chest", ELLIPSOID,
                      ellipsoid_affine((x * 0.06 * s, p.chest - 0.17 * s, 0.045 * s * gt), (r, 0.9 * r, 0.85 * r)),
                      top)
    parts.roundcone("neck", "neck", (0, -0.03 * s, 0), (0, p.neck + 0.02 * s, 0.005 * s),
                    0.055 * s * (0.85 + 0.15 * gt), 0.047 * s, Material(LABEL["face"], m.skin), 1.0, 1.05)


def add_head(parts: PartList, p: Proportions, look: Look, m: BodyMaterials) -> None:
    """Skull, jaw, nose and ears are face; hair is a shell open over the face (`_hair_openings`), plus its
    tail, ponytail or bun."""
    s, hs, face, hair = p.s, p.hs, m.face, m.hair
    parts.add("skull", "head", ELLIPSOID, ellipsoid_affine(p.skull_c, p.skull_r), face)
    parts.add("jaw", "head", ELLIPSOID,
              ellipsoid_affine(np.array([0, 0.05, 0.028]) * hs, np.array([0.06, 0.058, 0.072]) * hs), face)
    parts.add("nose", "head", ELLIPSOID,
              ellipsoid_affine(np.array([0, 0.08, 0.098]) * hs, np.array([0.013, 0.024, 0.021]) * hs), face)
    if look.hair_style not in ("bob", "long"):  # those cover the ears
        for side in (-1, 1):
            parts.add(f"ear_{'l' if side > 0 else 'r'}", "head", ELLIPSOID,
                      ellipsoid_affine(p.ear_points[side], np.array([0.012, 0.03, 0.019]) * hs), face)
    thickness = {"buzz": 1.025, "short": 1.06, "bob": 1.14, "long": 1.11, "ponytail": 1.05, "bun": 1.05}
    parts.add("hair", "head", ELLIPSOID, ellipsoid_affine(p.skull_c, p.skull_r * thickness[look.hair_style]), hair,
              cuts=_hair_openings(look.hair_style, look.fringe))
    if look.hair_style == "long":
        length = look.hair_length * 1.6 * s
        parts.roundcone("hair_back", "head", np.array([0, 0.12, -0.045]) * hs, (0, -0.05 * s - length, -0.07 * hs),
                        0.078 * hs, 0.065 * hs, hair, 1.1, 0.5)
    elif look.hair_style == "ponytail":
        parts.roundcone("hair_tail", "head", np.array([0, 0.13, -0.105]) * hs,
                        (0, 0.02 * hs - look.hair_length * 0.8 * s, -0.16 * hs), 0.03 * hs, 0.018 * hs, hair)
    elif look.hair_style == "bun":
        parts.add("hair_bun", "head", ELLIPSOID,
                  ellipsoid_affine(np.array([0, 0.205, -0.06]) * hs, np.array([0.048, 0.042, 0.045]) * hs), hair)


def add_limbs(parts: PartList, p: Proportions, look: Look, m: BodyMaterials) -> None:
    """Per side, right first: upper arm (and short sleeve), forearm, hand; thigh (and shorts leg), shin,
    calf, shoe."""
    s, gt, gl, top = p.s, p.gt, p.gl, m.top
    upper, fore, hand, thigh, shin, ankle_h = p.upper, p.fore, p.hand, p.thigh, p.shin, p.ankle_h
    for side, pre in SIDES.items():
        arm = Material(LABEL["left_arm"] if side > 0 else LABEL["right_arm"], m.skin)
        leg = Material(LABEL["left_leg"] if side > 0 else LABEL["right_leg"], m.skin)
        long_sleeves = look.top == "long_sleeve"
        r_up1, r_up2 = 0.052 * s * gl, 0.04 * s * gl
        parts.roundcone(pre + "upper_arm", pre + "upper_arm", (0, 0.01 * s, 0), (0, -upper, 0), r_up1, r_up2,
                        top if long_sleeves else arm, 1.0, 1.05)
        if look.top == "short_sleeve":
            cut = look.sleeve_length * upper
            r_cut = r_up1 + (r_up2 - r_up1) * cut / upper
            parts.tube(pre + "sleeve", pre + "upper_arm", (0, 0.0, 0), (0, -cut, 0), r_up1 + 0.01 * s,
                       r_cut + 0.012 * s, top, 1.0, 1.05)
        parts.roundcone(pre + "forearm", pre + "forearm", (0, 0, 0), (0, -fore, 0.004 * s), 0.04 * s * gl,
                        0.029 * s * gl, top if long_sleeves else arm, 1.0, 0.9)
        parts.add(pre + "hand", pre + "hand", ELLIPSOID,
                  ellipsoid_affine((0, -0.4 * hand, 0.006 * s), (0.018 * s, 0.4 * hand, 0.04 * s * gl)), arm)

        trousers = Material(m.bottom_label, m.bottom_fabric[side])
        pants = look.bottom == "pants"
        r_th1, r_th2 = 0.08 * s * gl * (0.9 + 0.1 * gt), 0.055 * s * gl
        parts.roundcone(pre + "thigh", pre + "thigh", (0, 0.02 * s, 0), (0, -thigh, 0), r_th1, r_th2,
                        trousers if pants else leg, 1.0, 1.05)
        if look.bottom == "shorts":
            cut = look.shorts_length * thigh
            r_cut = r_th1 + (r_th2 - r_th1) * cut / thigh
            parts.tube(pre + "shorts", pre + "thigh", (0, 0.02 * s, 0), (0, -cut, 0), r_th1 + 0.012 * s,
                       r_cut + 0.016 * s, trousers, 1.0, 1.05)
        parts.roundcone(pre + "shin", pre + "shin", (0, 0, 0), (0, -shin, -0.005 * s), 0.053 * s * gl,
                        0.034 * s * gl, trousers if pants else leg)
        parts.add(pre + "calf", pre + "shin", ELLIPSOID,
                  ellipsoid_affine((0, -0.3 * shin, -0.018 * s), (0.047 * s * gl, 0.3 * shin, 0.045 * s * gl)),
                  trousers if pants else leg)
        heel_r, toe_r = 0.048 * s, 0.04 * s
        squash = 0.85  # shoes are lower than wide
        foot_local, foot_h = limb_affine((0, -ankle_h + squash * heel_r, -0.02 * s),
                                         (0, -ankle_h + squash * toe_r, p.foot_len - 0.09 * s), 1.0, squash)
        shoe = Material(LABEL["left_shoe"] if side > 0 else LABEL["right_shoe"], m.shoes[side])
        parts.add(pre + "foot", pre + "foot", ROUNDCONE, foot_local, shoe, (heel_r, toe_r, foot_h))


def add_skirt(parts: PartList, p: Proportions, shape: BodyShape, look: Look, m: BodyMaterials) -> None:
    """A yoke over the hips, fixed to the pelvis, and the skirt below it, swinging with the thighs about the
    hip-joint level where the two meet (`skeleton`'s skirt bone)."""
    s, gt, gl = p.s, p.gt, p.gl
    skirt = Material(m.bottom_label, m.bottom_fabric[0])
    waist = 0.145 * s * gt
    hip_r = max(0.152 * s * shape.hips * (0.6 + 0.4 * shape.girth),
                p.hip_half + 0.08 * s * gl * (0.9 + 0.1 * gt)) + 0.012 * s
    parts.tube("skirt_yoke", "pelvis", (0, 0.1 * s, -0.01 * s), (0, 0.0, -0.01 * s), waist, hip_r, skirt, 1.0, 0.9)
    # A short straight band below the yoke closes the gap that opens when the skirt swings.
    parts.tube("skirt_band", "pelvis", (0, 0.0, -0.01 * s), (0, -0.12 * s, -0.01 * s), hip_r, hip_r, skirt, 1.0,
               0.9)
    length = look.skirt_length * s
    parts.tube("skirt", "skirt", (0, 0.0, -0.01 * s), (0, -length, -0.01 * s), hip_r,
               hip_r + look.skirt_flare * s + 0.15 * length, skirt, 1.0, 0.95)


def build_parts(p: Proportions, shape: BodyShape, look: Look, m: BodyMaterials) -> list[Part]:
    """All parts of a body, in render-id order."""
    parts = PartList()
    add_torso(parts, p, shape, look, m)
    add_head(parts, p, look, m)
    add_limbs(parts, p, look, m)
    if look.bottom in ("skirt", "dress"):
        add_skirt(parts, p, shape, look, m)
    return parts.parts
