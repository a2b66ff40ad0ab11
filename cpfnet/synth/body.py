"""The body model of an identity: skeleton rest offsets, the smooth primitives of every body part with
their materials and LIP labels, and where the COCO-18 keypoints sit on the bones.

All primitives hang on bones (`skeleton.BONES`) and move rigidly with them, so a surface point given as
(part, canonical point) is the same point of the body in every frame: the basis of the exact flow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cpfnet.body.keypoints import NUM_KEYPOINTS
from cpfnet.body.parsing_labels import LABEL
from cpfnet.synth.identity import Identity
from cpfnet.synth.materials import Fabric, Face, Hair, Material, Shoe, Skin
from cpfnet.synth.raycast import ELLIPSOID, FRUSTUM, ROUNDCONE, Shape
from cpfnet.synth.skeleton import BONE, NUM_BONES, PARENT


@dataclass
class Part:
    """One rigid primitive of the body: its shape, where it sits on its bone, its label and colours."""

    name: str
    bone: int
    shape: Shape
    local: np.ndarray  # [3, 4] canonical -> bone coordinates
    material: Material


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


def limb_affine(a, b, scale_x: float = 1.0, scale_z: float = 1.0) -> tuple[np.ndarray, float]:
    """Affine [3, 4] mapping a canonical ROUNDCONE / FRUSTUM axis (0..h along +y) onto the segment a -> b
    of a bone frame, cross-section scaled by (scale_x, scale_z); returns it and h = |b - a|."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    h = float(np.linalg.norm(b - a))
    y = (b - a) / h
    ref = np.array([1.0, 0.0, 0.0]) if abs(y[0]) < 0.9 else np.array([0.0, 0.0, 1.0])
    x = ref - (ref @ y) * y
    x /= np.linalg.norm(x)
    z = np.cross(x, y)
    return np.column_stack([x * scale_x, y, z * scale_z, a]), h


def ellipsoid_affine(centre, radii) -> np.ndarray:
    """Affine [3, 4] mapping the canonical unit sphere onto an axis-aligned ellipsoid of a bone frame."""
    return np.column_stack([np.diag(np.asarray(radii, np.float64)), np.asarray(centre, np.float64)])


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


def build_body(identity: Identity) -> BodyModel:
    """The body model of `identity`. Proportions follow average human ones (e.g. hip joints at 0.52 and
    shoulders at 0.82 of the height), scaled by the identity's ratios."""
    shape, look = identity.shape, identity.look
    rng = np.random.default_rng(identity.texture_seed)
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

    offsets = np.zeros((NUM_BONES, 3))
    offsets[BONE["spine"]] = (0, spine_up, -0.005 * s)
    offsets[BONE["chest"]] = (0, abdomen, 0)
    offsets[BONE["neck"]] = (0, chest, -0.01 * s)
    offsets[BONE["head"]] = (0, neck, 0.012 * s)
    for side, pre in ((-1, "r_"), (1, "l_")):
        offsets[BONE[pre + "upper_arm"]] = (side * sh_half, sh_y, -0.012 * s)
        offsets[BONE[pre + "forearm"]] = (0, -upper, 0)
        offsets[BONE[pre + "hand"]] = (0, -fore, 0)
        offsets[BONE[pre + "thigh"]] = (side * hip_half, 0, 0)
        offsets[BONE[pre + "shin"]] = (0, -thigh, 0)
        offsets[BONE[pre + "foot"]] = (0, -shin, 0)
    rest = np.zeros((NUM_BONES, 3))
    for i in range(1, NUM_BONES):
        rest[i] = rest[PARENT[i]] + offsets[i]

    # ---- materials: one LIP label each ------------------------------------------------------------
    skin = Skin(look.skin, rng)
    face = Material(LABEL["face"], Face(look.skin, rng, hs, look.eye_colour,
                                        tuple(0.8 * np.asarray(look.hair_colour)), look.lip_colour))
    hair = Material(LABEL["hair"], Hair(look.hair_colour, rng))
    dress = look.bottom == "dress"
    bottom_label = {"pants": LABEL["pants"], "shorts": LABEL["pants"], "skirt": LABEL["skirt"],
                    "dress": LABEL["dress"]}[look.bottom]
    print_centre = (0.0, rest[BONE["chest"]][1] + 0.5 * chest, 0.0)
    bottom_fabric = {side: Fabric(look.bottom_colour, look.bottom_second, look.bottom_pattern, rng,
                                  print_centre, side=side) for side in (-1, 0, 1)}
    top_fabric = bottom_fabric[0] if dress else Fabric(look.top_colour, look.top_second, look.top_pattern, rng,
                                                       print_centre)
    top = Material(LABEL["dress"] if dress else LABEL["upper_clothes"], top_fabric)

    parts: list[Part] = []

    def add(name, bone, kind, local, material, params=(0.0, 0.0, 0.0), cuts=()):
        parts.append(Part(name, BONE[bone], Shape(kind, tuple(float(v) for v in params), cuts), local, material))

    def roundcone(name, bone, a, b, r1, r2, material, sx=1.0, sz=1.0):
        local, h = limb_affine(a, b, sx, sz)
        add(name, bone, ROUNDCONE, local, material, (r1, r2, h))

    def tube(name, bone, a, b, r1, r2, material, sx=1.0, sz=1.0):
        """An open cloth tube (sleeve, trouser leg, skirt) around the segment a -> b."""
        local, h = limb_affine(a, b, sx, sz)
        add(name, bone, FRUSTUM, local, material, (r1, r2, h))

    # ---- torso ----------------------------------------------------------------------------------------
    hips_rx = 0.152 * s * shape.hips * (0.6 + 0.4 * shape.girth)
    if look.bottom == "shorts":  # cover the tops of the bare thighs inside the shorts' legs
        hips_rx = max(hips_rx, hip_half + 0.08 * s * gl * (0.9 + 0.1 * gt) + 0.012 * s)
    add("hips", "pelvis", ELLIPSOID, ellipsoid_affine((0, 0.03 * s, -0.01 * s), (hips_rx, 0.11 * s, 0.108 * s * gt)),
        Material(bottom_label, bottom_fabric[0]))
    roundcone("abdomen", "spine", (0, -0.03 * s, 0), (0, abdomen, 0), 0.14 * s * gt, 0.15 * s * gt, top, 1.0, 0.7)
    roundcone("chest", "chest", (0, 0, 0), (0, chest - 0.13 * s, 0), 0.155 * s * gt, 0.13 * s * gt, top, 1.0, 0.7)
    # Shoulders: from the base of the neck, sloping down to each shoulder joint (trapezius and deltoid); a
    # tank top stops short of the joint and leaves the arm's own rounded top bare.
    reach = 0.6 if look.top == "tank" else 0.97
    for side, name in ((-1, "shoulder_r"), (1, "shoulder_l")):
        roundcone(name, "chest", (side * 0.04 * s, sh_y + 0.032 * s, -0.02 * s),
                  (side * reach * sh_half, sh_y + (0.015 - 0.019 * reach / 0.97) * s, -0.012 * s),
                  0.047 * s * gt, 0.053 * s * gl, top)
    if shape.bust > 0:
        r = 0.058 * s * (0.7 + 0.3 * shape.bust) * gt
        for x in (-1, 1):
            add(f"bust_{'l' if x > 0 else 'r'}", "chest", ELLIPSOID,
                ellipsoid_affine((x * 0.06 * s, chest - 0.17 * s, 0.045 * s * gt), (r, 0.9 * r, 0.85 * r)), top)
    roundcone("neck", "neck", (0, -0.03 * s, 0), (0, neck + 0.02 * s, 0.005 * s), 0.055 * s * (0.85 + 0.15 * gt),
              0.047 * s, Material(LABEL["face"], skin), 1.0, 1.05)

    # ---- head: skull, jaw, nose, ears are face; hair is a shell open over the face, plus its tail ---------
    skull_c = np.array([0, 0.098, 0.005]) * hs
    skull_r = np.array([0.077, 0.108, 0.097]) * hs
    add("skull", "head", ELLIPSOID, ellipsoid_affine(skull_c, skull_r), face)
    add("jaw", "head", ELLIPSOID,
        ellipsoid_affine(np.array([0, 0.05, 0.028]) * hs, np.array([0.06, 0.058, 0.072]) * hs), face)
    add("nose", "head", ELLIPSOID,
        ellipsoid_affine(np.array([0, 0.08, 0.098]) * hs, np.array([0.013, 0.024, 0.021]) * hs), face)
    ear_points = {side: np.array([side * 0.079, 0.086, 0.0]) * hs for side in (-1, 1)}
    if look.hair_style not in ("bob", "long"):  # those cover the ears
        for side in (-1, 1):
            add(f"ear_{'l' if side > 0 else 'r'}", "head", ELLIPSOID,
                ellipsoid_affine(ear_points[side], np.array([0.012, 0.03, 0.019]) * hs), face)
    thickness = {"buzz": 1.025, "short": 1.06, "bob": 1.14, "long": 1.11, "ponytail": 1.05, "bun": 1.05}
    add("hair", "head", ELLIPSOID, ellipsoid_affine(skull_c, skull_r * thickness[look.hair_style]), hair,
        cuts=_hair_openings(look.hair_style, look.fringe))
    if look.hair_style == "long":
        length = look.hair_length * 1.6 * s
        roundcone("hair_back", "head", np.array([0, 0.12, -0.045]) * hs, (0, -0.05 * s - length, -0.07 * hs),
                  0.078 * hs, 0.065 * hs, hair, 1.1, 0.5)
    elif look.hair_style == "ponytail":
        roundcone("hair_tail", "head", np.array([0, 0.13, -0.105]) * hs,
                  (0, 0.02 * hs - look.hair_length * 0.8 * s, -0.16 * hs), 0.03 * hs, 0.018 * hs, hair)
    elif look.hair_style == "bun":
        add("hair_bun", "head", ELLIPSOID,
            ellipsoid_affine(np.array([0, 0.205, -0.06]) * hs, np.array([0.048, 0.042, 0.045]) * hs), hair)

    # ---- arms and legs ----------------------------------------------------------------------------
    sides = {-1: "r_", 1: "l_"}
    for side, pre in sides.items():
        arm = Material(LABEL["left_arm"] if side > 0 else LABEL["right_arm"], skin)
        leg = Material(LABEL["left_leg"] if side > 0 else LABEL["right_leg"], skin)
        long_sleeves = look.top == "long_sleeve"
        r_up1, r_up2 = 0.052 * s * gl, 0.04 * s * gl
        roundcone(pre + "upper_arm", pre + "upper_arm", (0, 0.01 * s, 0), (0, -upper, 0), r_up1, r_up2,
                  top if long_sleeves else arm, 1.0, 1.05)
        if look.top == "short_sleeve":
            cut = look.sleeve_length * upper
            r_cut = r_up1 + (r_up2 - r_up1) * cut / upper
            tube(pre + "sleeve", pre + "upper_arm", (0, 0.0, 0), (0, -cut, 0), r_up1 + 0.01 * s, r_cut + 0.012 * s,
                 top, 1.0, 1.05)
        roundcone(pre + "forearm", pre + "forearm", (0, 0, 0), (0, -fore, 0.004 * s), 0.04 * s * gl,
                  0.029 * s * gl, top if long_sleeves else arm, 1.0, 0.9)
        add(pre + "hand", pre + "hand", ELLIPSOID,
            ellipsoid_affine((0, -0.4 * hand, 0.006 * s), (0.018 * s, 0.4 * hand, 0.04 * s * gl)), arm)

        trousers = Material(bottom_label, bottom_fabric[side])
        pants = look.bottom == "pants"
        r_th1, r_th2 = 0.08 * s * gl * (0.9 + 0.1 * gt), 0.055 * s * gl
        roundcone(pre + "thigh", pre + "thigh", (0, 0.02 * s, 0), (0, -thigh, 0), r_th1, r_th2,
                  trousers if pants else leg, 1.0, 1.05)
        if look.bottom == "shorts":
            cut = look.shorts_length * thigh
            r_cut = r_th1 + (r_th2 - r_th1) * cut / thigh
            tube(pre + "shorts", pre + "thigh", (0, 0.02 * s, 0), (0, -cut, 0), r_th1 + 0.012 * s,
                 r_cut + 0.016 * s, trousers, 1.0, 1.05)
        roundcone(pre + "shin", pre + "shin", (0, 0, 0), (0, -shin, -0.005 * s), 0.053 * s * gl, 0.034 * s * gl,
                  trousers if pants else leg)
        add(pre + "calf", pre + "shin", ELLIPSOID,
            ellipsoid_affine((0, -0.3 * shin, -0.018 * s), (0.047 * s * gl, 0.3 * shin, 0.045 * s * gl)),
            trousers if pants else leg)
        heel_r, toe_r = 0.048 * s, 0.04 * s
        squash = 0.85  # shoes are lower than wide
        foot_local, foot_h = limb_affine((0, -ankle_h + squash * heel_r, -0.02 * s),
                                         (0, -ankle_h + squash * toe_r, foot_len - 0.09 * s), 1.0, squash)
        shoe = Material(LABEL["left_shoe"] if side > 0 else LABEL["right_shoe"],
                        Shoe(look.shoe_colour, look.sole_colour, -ankle_h + 0.012 * s, rng))
        add(pre + "foot", pre + "foot", ROUNDCONE, foot_local, shoe, (heel_r, toe_r, foot_h))

    if look.bottom in ("skirt", "dress"):
        # A yoke over the hips, fixed to the pelvis, and the skirt below it, swinging with the thighs about
        # the hip-joint level where the two meet (`skeleton`'s skirt bone).
        skirt = Material(bottom_label, bottom_fabric[0])
        waist = 0.145 * s * gt
        hip_r = max(0.152 * s * shape.hips * (0.6 + 0.4 * shape.girth),
                    hip_half + 0.08 * s * gl * (0.9 + 0.1 * gt)) + 0.012 * s
        tube("skirt_yoke", "pelvis", (0, 0.1 * s, -0.01 * s), (0, 0.0, -0.01 * s), waist, hip_r, skirt, 1.0, 0.9)
        # A short straight band below the yoke closes the gap that opens when the skirt swings.
        tube("skirt_band", "pelvis", (0, 0.0, -0.01 * s), (0, -0.12 * s, -0.01 * s), hip_r, hip_r, skirt, 1.0, 0.9)
        length = look.skirt_length * s
        tube("skirt", "skirt", (0, 0.0, -0.01 * s), (0, -length, -0.01 * s), hip_r,
             hip_r + look.skirt_flare * s + 0.15 * length, skirt, 1.0, 0.95)

    # ---- keypoints --------------------------------------------------------------------------------
    index = {p.name: i for i, p in enumerate(parts)}

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
        pre = sides[side]
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
        kb[ear_k], kp[ear_k] = BONE["head"], ear_points[side]
        allowed[ear_k], tol[ear_k] = ids("ear_" + pre[0], "skull", "hair"), 0.035 * s

    sole_bones, sole_points = [], []
    for pre in ("r_", "l_"):
        part = parts[index[pre + "foot"]]
        r1, r2, h = part.shape.params
        for canon in ((0, 0, r1), (0, h, r2)):  # canonical z points down on the feet (see limb_affine)
            sole_bones.append(BONE[pre + "foot"])
            sole_points.append(part.local[:, :3] @ np.asarray(canon, float) + part.local[:, 3])
    pelvis_height = thigh + shin + ankle_h
    height = pelvis_height + rest[BONE["head"]][1] + skull_c[1] + skull_r[1]
    return BodyModel(offsets=offsets, rest_origins=rest, parts=parts, keypoint_bones=kb, keypoint_points=kp,
                     keypoint_parts=allowed, keypoint_tolerance=tol, sole_bones=np.array(sole_bones),
                     sole_points=np.array(sole_points), pelvis_height=float(pelvis_height), height=float(height))

