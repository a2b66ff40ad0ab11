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

# COCO-18 indices.
NOSE, NECK, R_SHO, R_ELB, R_WRI, L_SHO, L_ELB, L_WRI = 0, 1, 2, 3, 4, 5, 6, 7
R_HIP, R_KNE, R_ANK, L_HIP, L_KNE, L_ANK, R_EYE, L_EYE, R_EAR, L_EAR = 8, 9, 10, 11, 12, 13, 14, 15, 16, 17

# Half-widths of the parts as fractions of the body scale (about the shoulder width).
RADIUS = {"head": 0.28, "neck": 0.15, "torso": 0.25, "upper_arm": 0.15, "forearm": 0.12, "hand": 0.25,
          "thigh": 0.22, "shin": 0.16, "foot": 0.17}
# Inside the torso a pixel scores this much, so a limb crossing the body keeps the pixels within this
# fraction of its half-width from its bone.
TORSO_BIAS = 0.8
# Lab distance (lightness weighted down, it follows shading) below which two colour models are the same.
SAME_COLOUR = 12.0
MAX_SKIN_DISTANCE = 30.0
PARTS = ("head", "neck", "torso", "upper_arm", "forearm", "hand", "thigh", "shin", "foot")
P = {name: i for i, name in enumerate(PARTS)}
SIDES = ("", "right", "left")


def _segment_distance(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance of points [N, 2] to the segment a-b, and the position t in [0, 1] of the nearest point."""
    px, py = points[:, 0] - np.float32(a[0]), points[:, 1] - np.float32(a[1])
    abx, aby = np.float32(b[0] - a[0]), np.float32(b[1] - a[1])
    length2 = float(abx * abx + aby * aby)
    if length2 < 1e-9:
        return np.sqrt(px * px + py * py), np.zeros(len(points), np.float32)
    t = np.clip((px * abx + py * aby) / np.float32(length2), 0, 1)
    dx, dy = px - t * abx, py - t * aby
    return np.sqrt(dx * dx + dy * dy), t


def _lab(image: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    lab[..., 0] *= 100 / 255 / 2  # L in [0, 50]: half weight, since shading moves it
    lab[..., 1:] -= 128
    return lab


def _colour_distance(colours: np.ndarray, reference: np.ndarray) -> np.ndarray:
    return np.linalg.norm(colours - reference, axis=-1)


class _Body:
    """Keypoints with presence, the body scale and the head's geometry."""

    def __init__(self, keypoints: np.ndarray, min_confidence: float, fallback_scale: float):
        self.kp = keypoints[:, :2].astype(np.float64)
        self.ok = keypoints[:, 2] >= min_confidence
        widths = []
        if self.ok[R_SHO] and self.ok[L_SHO]:
            widths.append(np.linalg.norm(self.kp[R_SHO] - self.kp[L_SHO]))
        hips = [i for i in (R_HIP, L_HIP) if self.ok[i]]
        if self.ok[NECK] and hips:
            widths.append(0.8 * np.linalg.norm(self.kp[NECK] - self.kp[hips].mean(0)))
        self.scale = max(widths) if widths else fallback_scale
        face = [i for i in (NOSE, R_EYE, L_EYE, R_EAR, L_EAR) if self.ok[i]]
        self.up = np.array([0.0, -1.0])
        if self.ok[NECK] and hips:
            v = self.kp[NECK] - self.kp[hips].mean(0)
            self.up = v / max(np.linalg.norm(v), 1e-6)
        if face:
            self.head = self.kp[face].mean(0)
        elif self.ok[NECK]:
            self.head = self.kp[NECK] + 0.6 * self.scale * self.up
        else:
            self.head = None
        if self.head is not None and self.ok[NECK]:
            v = self.head - self.kp[NECK]
            if np.linalg.norm(v) > 1e-6:
                self.up = v / np.linalg.norm(v)
        self.frontal = bool(self.ok[NOSE] and (self.ok[R_EYE] or self.ok[L_EYE]))

    def has(self, *indices: int) -> bool:
        return all(self.ok[i] for i in indices)


def _parts(body: _Body, points: np.ndarray, mask_shape: tuple[int, int], mask_offset: np.ndarray):
    """Score every pixel for every part: list of (part code, side code, score [N], t [N])."""
    s = body.scale
    kp = body.kp
    parts = []

    def capsule(name, side, a, b, radius_key):
        d, t = _segment_distance(points, a, b)
        parts.append((P[name], SIDES.index(side or ""), d / np.float32(RADIUS[radius_key] * s), t))

    if body.head is not None:
        crown = body.head + 0.3 * s * body.up
        chin = body.head - 0.15 * s * body.up
        capsule("head", None, chin, crown, "head")
        if body.ok[NECK]:
            capsule("neck", None, kp[NECK] + 0.1 * s * body.up, body.head - 0.2 * s * body.up, "neck")
    corners = [R_SHO, L_SHO, L_HIP, R_HIP]
    if body.has(*corners):
        h, w = mask_shape
        inside = np.zeros((h, w), np.uint8)
        polygon = np.round(kp[corners] - mask_offset).astype(np.int32)
        cv2.fillPoly(inside, [polygon], 1)
        outside_distance = cv2.distanceTransform(1 - inside, cv2.DIST_L2, 3)
        local = np.clip(np.floor(points - mask_offset).astype(int), 0, [w - 1, h - 1])
        d = outside_distance[local[:, 1], local[:, 0]]
        score = TORSO_BIAS + d / np.float32(RADIUS["torso"] * s)
        parts.append((P["torso"], 0, score, np.zeros(len(points), np.float32)))
    elif body.ok[NECK]:
        hips = [i for i in (R_HIP, L_HIP) if body.ok[i]]
        bottom = kp[hips].mean(0) if hips else kp[NECK] - 1.2 * s * body.up
        d, t = _segment_distance(points, kp[NECK], bottom)
        parts.append((P["torso"], 0, TORSO_BIAS + np.maximum(0, d / np.float32(0.5 * s) - 1), t))
    for side, (sho, elb, wri) in (("right", (R_SHO, R_ELB, R_WRI)), ("left", (L_SHO, L_ELB, L_WRI))):
        if body.has(sho, elb):
            capsule("upper_arm", side, kp[sho], kp[elb], "upper_arm")
        if body.has(elb, wri):
            capsule("forearm", side, kp[elb], kp[wri], "forearm")
            # Fingers may point anywhere: a short, wide capsule beyond the wrist.
            capsule("hand", side, kp[wri], kp[wri] + 0.4 * (kp[wri] - kp[elb]), "hand")
    for side, (hip, kne, ank) in (("right", (R_HIP, R_KNE, R_ANK)), ("left", (L_HIP, L_KNE, L_ANK))):
        if body.has(hip, kne):
            capsule("thigh", side, kp[hip], kp[kne], "thigh")
        if body.has(kne, ank):
            capsule("shin", side, kp[kne], kp[ank], "shin")
            capsule("foot", side, kp[ank] - 0.05 * (kp[ank] - kp[kne]), kp[ank] + 0.3 * (kp[ank] - kp[kne]), "foot")
    return parts


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
    body = _Body(keypoints, min_confidence, fallback_scale=(y1 - y0) / 4)
    parts = _parts(body, points, (y1 - y0, x1 - x0), offset)
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
        out[_joined(trousers, np.flatnonzero(out == LABEL["pants"]), points, offset,
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
    return _tidy(labels, mask)


def _joined(candidates: np.ndarray, anchor: np.ndarray, points: np.ndarray, offset: np.ndarray,
            shape: tuple[int, int], width: int) -> np.ndarray:
    """The candidate pixels (indices into `points`) that form a solid area, at least `width` pixels
    across, connected to the anchor pixels: a waistband joins the trousers, a dark check of a shirt
    does not."""
    if len(candidates) == 0 or len(anchor) == 0:
        return candidates[:0]
    local = np.floor(points - offset).astype(int)
    grid = np.zeros(shape, np.uint8)
    grid[local[candidates, 1], local[candidates, 0]] = 1
    solid = cv2.morphologyEx(grid, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (width, width)))
    solid[local[anchor, 1], local[anchor, 0]] = 1
    _, components = cv2.connectedComponents(solid)
    anchored = np.unique(components[local[anchor, 1], local[anchor, 0]])
    keep = np.isin(components[local[candidates, 1], local[candidates, 0]], anchored[anchored > 0])
    keep &= solid[local[candidates, 1], local[candidates, 0]] > 0
    return candidates[keep]


def _tidy(labels: np.ndarray, mask: np.ndarray, size: int = 5) -> np.ndarray:
    """A mode filter inside the mask: removes the speckle that per-pixel colour decisions leave."""
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    crop, inside = labels[y0:y1, x0:x1], mask[y0:y1, x0:x1]
    present = [v for v in np.unique(crop) if v != 0]
    if len(present) < 2:
        return labels
    counts = np.stack([cv2.boxFilter((crop == v).astype(np.float32), -1, (size, size), normalize=False)
                       for v in present])
    mode = np.asarray(present, np.uint8)[np.argmax(counts, axis=0)]
    out = labels.copy()
    out[y0:y1, x0:x1] = np.where(inside, mode, 0)
    return out
