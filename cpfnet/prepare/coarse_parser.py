"""A coarse human parser: LIP labels for a person mask, from the keypoints (and the colours, if given).

The paper parses every frame with a pre-trained LIP parser (IV-A1); none ships offline (DESIGN.md), so
this is the default. Every mask pixel goes to the nearest body part: the distance to the part's bone
segment divided by the part's half-width (a capsule), the torso being the shoulder-hip quadrilateral
(limbs in front of it win near their bone). Parts then map to LIP labels the way LIP annotates them:

- head: face where the colour is skin-like inside an ellipse around the eyes and nose, hair elsewhere
  (a person seen from behind is all hair); long hair over the shoulders, coloured like the head's hair,
  is hair too;
- torso: upper-clothes; neck: face where skin, upper-clothes otherwise (a collar);
- upper arms, forearms: left-/right-arm where skin, upper-clothes (sleeves) otherwise; hands: arms;
- thighs, shins: left-/right-leg where skin, pants otherwise; below the ankles: left-/right-shoe.

"Skin" compares each pixel's Lab colour with the skin around the nose and with the clothes of the same
region (torso for sleeves, thighs near the hips for pants). Without a usable face (seen from behind,
no image) or when skin and clothes look alike, the parts' geometric labels are used (arms, pants, face
ellipse). Left/right are the person's own, as COCO's and LIP's are.
"""

from __future__ import annotations

import cv2
import numpy as np

from cpfnet.body.parsing_labels import LABEL
from cpfnet.prepare.coarse_parts import (L_EAR, L_EYE, L_HIP, NECK, NOSE, P, PARTS, R_EAR, R_EYE, R_HIP, SIDES, Body,
                                         part_scores)
from cpfnet.prepare.coarse_regions import joined_solid, mode_filter

# Lab distance (lightness weighted down, it follows shading) below which two colour models are the same.
SAME_COLOUR = 12.0
MAX_SKIN_DISTANCE = 30.0


def _lab(image: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    lab[..., 0] *= 100 / 255 / 2  # L in [0, 50]: half weight, since shading moves it
    lab[..., 1:] -= 128
    return lab


def _colour_distance(colours: np.ndarray, reference: np.ndarray) -> np.ndarray:
    return np.linalg.norm(colours - reference, axis=-1)


def _reference(colours: np.ndarray, select: np.ndarray, minimum: int = 20) -> np.ndarray | None:
    return np.median(colours[select], axis=0) if int(select.sum()) >= minimum else None


def coarse_parsing(mask: np.ndarray, keypoints: np.ndarray, image: np.ndarray | None = None,
                   min_confidence: float = 0.1) -> np.ndarray:
    """Label a person mask with LIP parts.

    Args:
        mask: [H, W] bool, the person.
        keypoints: [18, 3] COCO-18 in the mask's pixels.
        image: [H, W, 3] RGB uint8, the same view; lets skin, clothes and hair be told apart.
        min_confidence: keypoints below it are ignored.
    Returns:
        [H, W] uint8 LIP label ids (0 outside the mask). With no usable keypoints the whole mask is
        upper-clothes.
    """
    mask = np.asarray(mask, bool)
    labels = np.zeros(mask.shape, np.uint8)
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:
        return labels
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    offset = np.array([x0, y0], np.float64)
    points = np.stack([xs, ys], axis=1).astype(np.float32) + 0.5
    body = Body(keypoints, min_confidence, fallback_scale=(y1 - y0) / 4)
    parts = part_scores(body, points, (y1 - y0, x1 - x0), offset)
    if not parts:
        labels[mask] = LABEL["upper_clothes"]
        return labels
    scores = np.stack([p[2] for p in parts])
    best = np.argmin(scores, axis=0)
    index = np.arange(len(points))
    name = np.array([p[0] for p in parts])[best]
    side = np.array([p[1] for p in parts])[best]
    t = np.stack([p[3] for p in parts])[best, index]
    # Pixels of a shin beyond the ankle are the foot.
    name[(name == P["shin"]) & (t >= 0.999)] = P["foot"]

    colours = _lab(image[y0:y1, x0:x1])[ys - y0, xs - x0] if image is not None else None
    skin_ref = None
    if colours is not None and body.frontal:
        eye = [body.kp[i] for i in (R_EYE, L_EYE) if body.ok[i]]
        radius = max(2.0, 0.5 * np.linalg.norm(eye[0] - body.kp[NOSE]) if eye else 0.06 * body.scale)
        near_nose = np.linalg.norm(points - body.kp[NOSE], axis=1) <= radius
        skin_ref = _reference(colours, near_nose, minimum=8)

    def skin_like(select: np.ndarray, other_ref: np.ndarray | None, default: bool) -> np.ndarray:
        """Per selected pixel: skin (True) or the other material; `default` when colour cannot tell."""
        if skin_ref is None or other_ref is None or _colour_distance(skin_ref, other_ref) < SAME_COLOUR:
            return np.full(int(select.sum()), default)
        c = colours[select]
        d_skin, d_other = _colour_distance(c, skin_ref), _colour_distance(c, other_ref)
        return (d_skin < d_other) & (d_skin < MAX_SKIN_DISTANCE)

    out = np.zeros(len(points), np.uint8)
    torso = name == P["torso"]
    out[torso] = LABEL["upper_clothes"]
    clothes_ref = _reference(colours, torso) if colours is not None else None
    for limb in ("upper_arm", "forearm", "hand"):
        for s, label in ((1, LABEL["right_arm"]), (2, LABEL["left_arm"])):
            sel = (name == P[limb]) & (side == s)
            if not sel.any():
                continue
            skin = np.ones(int(sel.sum()), bool) if limb == "hand" else skin_like(sel, clothes_ref, True)
            out[sel] = np.where(skin, label, LABEL["upper_clothes"])
    pants_ref = None
    if colours is not None:
        pants_ref = _reference(colours, (name == P["thigh"]) & (t < 0.4))
    for limb in ("thigh", "shin"):
        for s, label in ((1, LABEL["right_leg"]), (2, LABEL["left_leg"])):
            sel = (name == P[limb]) & (side == s)
            if sel.any():
                out[sel] = np.where(skin_like(sel, pants_ref, False), label, LABEL["pants"])
    hips = [i for i in (R_HIP, L_HIP) if body.ok[i]]
    if pants_ref is not None and clothes_ref is not None and hips and body.ok[NECK] and \
            _colour_distance(pants_ref, clothes_ref) >= SAME_COLOUR:
        # High-waisted trousers reach above the hip joints: the lower torso coloured like the trousers.
        hip = body.kp[hips].mean(0)
        height = (body.kp[NECK] - hip) @ body.up
        low = torso & ((points - hip) @ body.up < 0.45 * height)
        c = colours[low]
        trousers = np.flatnonzero(low)[_colour_distance(c, pants_ref) < _colour_distance(c, clothes_ref)]
        out[joined_solid(trousers, np.flatnonzero(out == LABEL["pants"]), points, offset,
                         (y1 - y0, x1 - x0), max(3, round(0.06 * body.scale)))] = LABEL["pants"]
    out[(name == P["foot"]) & (side == 1)] = LABEL["right_shoe"]
    out[(name == P["foot"]) & (side == 2)] = LABEL["left_shoe"]
    neck = name == P["neck"]
    if neck.any():
        out[neck] = np.where(skin_like(neck, clothes_ref, True), LABEL["face"], LABEL["upper_clothes"])

    head = name == P["head"]
    if head.any():
        out[head] = LABEL["hair"]
        if body.frontal:
            eyes = [body.kp[i] for i in (R_EYE, L_EYE) if body.ok[i]]
            ears = [body.kp[i] for i in (R_EAR, L_EAR) if body.ok[i]]
            half_width = max(0.5 * np.linalg.norm(ears[0] - ears[1]) if len(ears) == 2 else 0,
                             1.1 * np.linalg.norm(eyes[0] - eyes[1]) if len(eyes) == 2 else 0,
                             0.16 * body.scale)
            centre = np.mean(eyes, axis=0) * 0.5 + body.kp[NOSE] * 0.5 if eyes else body.kp[NOSE]
            centre = centre - 0.25 * half_width * body.up
            rel = points[head] - centre
            along = rel @ body.up
            across = rel @ np.array([-body.up[1], body.up[0]])
            ellipse = (across / half_width) ** 2 + (along / (1.35 * half_width)) ** 2
            hair_ref = None
            if colours is not None:
                hair_sel = np.zeros(len(points), bool)
                hair_sel[np.flatnonzero(head)[(ellipse > 1.4) & (along > 0)]] = True
                hair_ref = _reference(colours, hair_sel, minimum=10)
            if skin_ref is not None and hair_ref is not None and \
                    _colour_distance(skin_ref, hair_ref) >= SAME_COLOUR:
                c = colours[head]
                d_skin = _colour_distance(c, skin_ref)
                face = (d_skin < _colour_distance(c, hair_ref)) & (d_skin < MAX_SKIN_DISTANCE) & (ellipse <= 1.6)
            else:
                face = ellipse <= 1.0
            out[np.flatnonzero(head)[face]] = LABEL["face"]
            # Skin away from the face is a hand raised by the head, when an arm is the next-best part.
            if skin_ref is not None:
                d_skin = _colour_distance(colours[head], skin_ref)
                head_scores = scores[:, head].copy()
                head_scores[best[head], np.arange(head_scores.shape[1])] = np.inf
                runner_up = np.argmin(head_scores, axis=0)
                close = head_scores[runner_up, np.arange(head_scores.shape[1])] < 1.5
                stray = (d_skin < MAX_SKIN_DISTANCE) & (ellipse > 1.6) & close
                for k, (part, part_side, _, _) in enumerate(parts):
                    if PARTS[part] in ("hand", "forearm", "upper_arm"):
                        hit = stray & (runner_up == k)
                        out[np.flatnonzero(head)[hit]] = LABEL[f"{SIDES[part_side]}_arm"]
            # Long hair falling over the shoulders: coloured like the hair, not like the clothes or the skin.
            if hair_ref is not None and clothes_ref is not None and \
                    _colour_distance(hair_ref, clothes_ref) >= SAME_COLOUR:
                near = np.isin(name, (P["torso"], P["upper_arm"], P["neck"])) & \
                    (np.linalg.norm(points - body.head, axis=1) < 1.2 * body.scale)
                c = colours[near]
                d_hair = _colour_distance(c, hair_ref)
                hairy = d_hair < _colour_distance(c, clothes_ref)
                if skin_ref is not None:
                    hairy &= d_hair < _colour_distance(c, skin_ref)
                out[np.flatnonzero(near)[hairy]] = LABEL["hair"]

    labels[ys, xs] = out
    return mode_filter(labels, mask)
