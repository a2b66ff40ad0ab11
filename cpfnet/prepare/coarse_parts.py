"""The coarse parser's geometry: which body part each pixel of a person mask is nearest, from the keypoints.

A part is a capsule around its bone segment, scored by the distance to the segment divided by the part's
half-width; the torso is the shoulder-hip quadrilateral, scored a little worse than the limbs' bones so
that a limb in front of it wins near its bone (`cpfnet.prepare.coarse_parser` turns parts into labels).
"""

from __future__ import annotations

import cv2
import numpy as np

# COCO-18 indices.
NOSE, NECK, R_SHO, R_ELB, R_WRI, L_SHO, L_ELB, L_WRI = 0, 1, 2, 3, 4, 5, 6, 7
R_HIP, R_KNE, R_ANK, L_HIP, L_KNE, L_ANK, R_EYE, L_EYE, R_EAR, L_EAR = 8, 9, 10, 11, 12, 13, 14, 15, 16, 17

# Half-widths of the parts as fractions of the body scale (about the shoulder width).
RADIUS = {"head": 0.28, "neck": 0.15, "torso": 0.25, "upper_arm": 0.15, "forearm": 0.12, "hand": 0.25,
          "thigh": 0.22, "shin": 0.16, "foot": 0.17}
# Inside the torso a pixel scores this much, so a limb crossing the body keeps the pixels within this
# fraction of its half-width from its bone.
TORSO_BIAS = 0.8
PARTS = ("head", "neck", "torso", "upper_arm", "forearm", "hand", "thigh", "shin", "foot")
P = {name: i for i, name in enumerate(PARTS)}
SIDES = ("", "right", "left")


def segment_distance(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance of points [N, 2] to the segment a-b, and the position t in [0, 1] of the nearest point."""
    px, py = points[:, 0] - np.float32(a[0]), points[:, 1] - np.float32(a[1])
    abx, aby = np.float32(b[0] - a[0]), np.float32(b[1] - a[1])
    length2 = float(abx * abx + aby * aby)
    if length2 < 1e-9:
        return np.sqrt(px * px + py * py), np.zeros(len(points), np.float32)
    t = np.clip((px * abx + py * aby) / np.float32(length2), 0, 1)
    dx, dy = px - t * abx, py - t * aby
    return np.sqrt(dx * dx + dy * dy), t


class Body:
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


def part_scores(body: Body, points: np.ndarray, mask_shape: tuple[int, int], mask_offset: np.ndarray):
    """Score every pixel for every part: list of (part code, side code, score [N], t [N])."""
    s = body.scale
    kp = body.kp
    parts = []

    def capsule(name, side, a, b, radius_key):
        d, t = segment_distance(points, a, b)
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
        d, t = segment_distance(points, kp[NECK], bottom)
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
