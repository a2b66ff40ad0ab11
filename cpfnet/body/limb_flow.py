"""A geometric appearance flow from two skeletons: one affine map per body part.

The non-learned flow of Balakrishnan et al. (CVPR 2018, "Synthesizing Images of Humans in Unseen Poses") and
Siarohin et al. (CVPR 2018, "Deformable GANs"): the body is split into rigid parts (head, torso, upper and
lower arms and legs); each part's joints in the appearance pose and in frame i's pose give an affine map from
frame-i pixels to appearance pixels. Every pixel of frame i takes the map of the part it belongs to:

- part membership is soft: a pixel's distance to each part's capsule, in units of the part's radius, with a
  layering bias (arms and head drawn over the torso and legs, as they usually are in a dance), through a
  sharp softmax, so the flow is smooth across joints and does not tear;
- a limb keeps its width when it is foreshortened: along the bone the map scales by the bone's length ratio,
  across it by the ratio of the two bodies' sizes;
- visibility (cpfnet convention: 0 visible in the appearance image, 1 hidden there, 2 background): a pixel is
  visible when, at the position its flow points to, the appearance pose's own part assignment is the same part
  (an arm that lay over the torso in the photo hides the torso there).

The flow has the project's convention (absolute appearance-image pixels, pixel centres at i + 0.5,
cpfnet.ops.warp), so `warp(photo, flow)` moves the photo's person into frame i's pose. The two poses may live
in images of different sizes: the flow points into the appearance image's own pixels, so a frame canvas at the
photo's full resolution samples the photo's real pixels.
"""

from __future__ import annotations

import torch

from cpfnet.ops.warp import identity_flow

# Parts: (name, joint a, joint b, capsule radius in units of the body size, distal extension (hands, feet)
# in units of the body size, layering bias). The body size is the neck to mid-hip length.
LIMB_PARTS = (
    ("right_upper_arm", 2, 3, 0.13, 0.0, 1.0),
    ("right_lower_arm", 3, 4, 0.11, 0.22, 1.0),
    ("left_upper_arm", 5, 6, 0.13, 0.0, 1.0),
    ("left_lower_arm", 6, 7, 0.11, 0.22, 1.0),
    ("right_upper_leg", 8, 9, 0.18, 0.0, 0.3),
    ("right_lower_leg", 9, 10, 0.14, 0.15, 0.3),
    ("left_upper_leg", 11, 12, 0.18, 0.0, 0.3),
    ("left_lower_leg", 12, 13, 0.14, 0.15, 0.3),
)
PART_NAMES = ("head", "torso") + tuple(p[0] for p in LIMB_PARTS)
NUM_PARTS = len(PART_NAMES)
HEAD, TORSO = 0, 1
NECK, NOSE = 1, 0
FACE = (0, 14, 15, 16, 17)
TORSO_JOINTS = (1, 2, 5, 8, 11)
HEAD_RADIUS, HEAD_BIAS, TORSO_BIAS = 0.24, 0.8, 0.0
TEMPERATURE = 0.15  # of the part softmax, in units of part radii: transitions about a tenth of a limb wide
NEAR = 1.6  # a pixel farther than this many radii from every part is not part of the body


def _valid(pose: torch.Tensor, joints, min_confidence: float) -> torch.Tensor:
    return (pose[:, list(joints), 2] >= min_confidence).all(dim=1)


def body_size(pose: torch.Tensor, min_confidence: float = 0.1) -> torch.Tensor:
    """The neck to mid-hip length [B] of poses [B, 18, 3]; where hips are missing, 1.3 x the shoulder width,
    and where both are, a third of the keypoints' extent (all in the pose's pixels)."""
    xy, conf = pose[..., :2], pose[..., 2] >= min_confidence
    hips = conf[:, 8] & conf[:, 11]
    mid_hip = (xy[:, 8] + xy[:, 11]) / 2
    torso = torch.linalg.norm(mid_hip - xy[:, NECK], dim=-1)
    shoulders = 1.3 * torch.linalg.norm(xy[:, 2] - xy[:, 5], dim=-1)
    seen = xy.masked_fill(~conf[..., None], float("nan"))
    extent = (_nanmax(seen) - _nanmin(seen)).amax(dim=-1) / 3
    size = torch.where(hips & conf[:, NECK], torso,
                       torch.where(conf[:, 2] & conf[:, 5], shoulders, extent))
    return size.clamp_min(1.0)


def _nanmax(x: torch.Tensor) -> torch.Tensor:
    return torch.nan_to_num(x, nan=-float("inf")).amax(dim=1).nan_to_num(nan=0.0, neginf=0.0)


def _nanmin(x: torch.Tensor) -> torch.Tensor:
    return torch.nan_to_num(x, nan=float("inf")).amin(dim=1).nan_to_num(nan=0.0, posinf=0.0)


def _perp(u: torch.Tensor) -> torch.Tensor:
    return torch.stack([-u[..., 1], u[..., 0]], dim=-1)


def _limb_map(a_t, b_t, a_s, b_s, scale: torch.Tensor) -> torch.Tensor:
    """Affine [B, 2, 3] taking a frame-i limb (a_t -> b_t) onto the appearance limb (a_s -> b_s): along the
    bone by the length ratio (clamped, for bones seen end-on), across it by `scale` [B]."""
    d_t, d_s = b_t - a_t, b_s - a_s
    len_t, len_s = torch.linalg.norm(d_t, dim=-1), torch.linalg.norm(d_s, dim=-1)
    u_t = d_t / len_t.clamp_min(1e-6)[:, None]
    u_s = d_s / len_s.clamp_min(1e-6)[:, None]
    along = torch.minimum(torch.maximum(len_s / len_t.clamp_min(1e-6), scale / 4), scale * 4)
    matrix = (along[:, None, None] * u_s[:, :, None] * u_t[:, None, :]
              + scale[:, None, None] * _perp(u_s)[:, :, None] * _perp(u_t)[:, None, :])
    shift = a_s - (matrix @ a_t[:, :, None])[..., 0]
    return torch.cat([matrix, shift[:, :, None]], dim=2)


def _least_squares_map(target: torch.Tensor, source: torch.Tensor, weight: torch.Tensor,
                       similarity: bool) -> torch.Tensor:
    """Weighted least-squares affine (or similarity) [B, 2, 3] with target points [B, N, 2] -> source [B, N, 2].
    Points of weight 0 are ignored; the caller ensures enough points (3 for affine, 2 for similarity)."""
    w = weight[..., None]
    total = w.sum(dim=1).clamp_min(1e-6)
    mean_t, mean_s = (target * w).sum(1) / total, (source * w).sum(1) / total
    ct, cs = (target - mean_t[:, None]) * w.sqrt(), (source - mean_s[:, None]) * w.sqrt()
    if similarity:  # Umeyama without reflection: [a -b; b a]
        dot = (ct * cs).sum(dim=(1, 2))
        cross = (ct[..., 0] * cs[..., 1] - ct[..., 1] * cs[..., 0]).sum(dim=1)
        norm = (ct ** 2).sum(dim=(1, 2)).clamp_min(1e-6)
        a, b = dot / norm, cross / norm
        matrix = torch.stack([torch.stack([a, -b], -1), torch.stack([b, a], -1)], dim=1)
    else:
        gram = ct.transpose(1, 2) @ ct + 1e-6 * torch.eye(2, dtype=ct.dtype, device=ct.device)
        matrix = (cs.transpose(1, 2) @ ct) @ torch.linalg.inv(gram)
    shift = mean_s - (matrix @ mean_t[:, :, None])[..., 0]
    return torch.cat([matrix, shift[:, :, None]], dim=2)


def part_maps(source_pose: torch.Tensor, target_pose: torch.Tensor,
              min_confidence: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-part affine maps from frame-i pixels to appearance pixels.

    Args:
        source_pose: [B, 18, 3] the appearance image's keypoints (its pixels).
        target_pose: [B, 18, 3] frame i's keypoints (the frame canvas's pixels).
    Returns:
        maps [B, P, 2, 3] (p_source = M @ (x, y, 1)), valid [B, P] bool: the part's joints are seen in both.
    """
    b = source_pose.shape[0]
    src, tgt = source_pose[..., :2].double(), target_pose[..., :2].double()
    both = (source_pose[..., 2] >= min_confidence) & (target_pose[..., 2] >= min_confidence)
    scale = (body_size(source_pose, min_confidence) / body_size(target_pose, min_confidence)).double()
    eye = torch.zeros(b, 2, 3, dtype=torch.float64, device=src.device)
    eye[:, 0, 0] = eye[:, 1, 1] = 1
    # Fallback for a part whose joints are missing: the neck moved, the body scaled.
    neck_shift = torch.where(both[:, NECK, None], src[:, NECK] - scale[:, None] * tgt[:, NECK],
                             torch.zeros_like(src[:, NECK]))
    fallback = torch.cat([scale[:, None, None] * eye[:, :, :2], neck_shift[:, :, None]], dim=2)
    maps, valid = [], []
    # Head: a similarity over the face points and the neck.
    head_weight = both[:, [NECK, *FACE]].double()
    head_ok = head_weight.sum(1) >= 2
    head = _least_squares_map(tgt[:, [NECK, *FACE]], src[:, [NECK, *FACE]], head_weight, similarity=True)
    maps.append(torch.where(head_ok[:, None, None], head, fallback))
    valid.append(head_ok)
    # Torso: an affine over neck, shoulders and hips (a turned body squeezes sideways).
    torso_weight = both[:, list(TORSO_JOINTS)].double()
    torso_ok = torso_weight.sum(1) >= 3
    torso = _least_squares_map(tgt[:, list(TORSO_JOINTS)], src[:, list(TORSO_JOINTS)], torso_weight, similarity=False)
    maps.append(torch.where(torso_ok[:, None, None], torso, fallback))
    valid.append(torso_ok)
    for _, ja, jb, *_ in LIMB_PARTS:
        ok = both[:, ja] & both[:, jb]
        maps.append(torch.where(ok[:, None, None], _limb_map(tgt[:, ja], tgt[:, jb], src[:, ja], src[:, jb], scale),
                                fallback))
        valid.append(ok)
    return torch.stack(maps, dim=1).to(source_pose.dtype), torch.stack(valid, dim=1)


def _capsules(pose: torch.Tensor, min_confidence: float) -> tuple[torch.Tensor, ...]:
    """Each part as a capsule in the pose's pixels: ends a, b [B, P, 2], radius [B, P], bias [P], seen [B, P]."""
    xy, conf = pose[..., :2], pose[..., 2] >= min_confidence
    size = body_size(pose, min_confidence)
    face_w = conf[:, list(FACE)].to(xy.dtype)
    face = (xy[:, list(FACE)] * face_w[..., None]).sum(1) / face_w.sum(1, keepdim=True).clamp_min(1)
    face_ok = face_w.sum(1) > 0
    up = face - xy[:, NECK]
    up = up / torch.linalg.norm(up, dim=-1, keepdim=True).clamp_min(1e-6)
    head_b = face + up * (0.15 * size)[:, None]
    hips = conf[:, 8] & conf[:, 11]
    mid_hip = (xy[:, 8] + xy[:, 11]) / 2
    width = torch.maximum(torch.linalg.norm(xy[:, 2] - xy[:, 5], dim=-1), torch.linalg.norm(xy[:, 8] - xy[:, 11], dim=-1))
    a = [xy[:, NECK], xy[:, NECK]]
    b = [head_b, torch.where(hips[:, None], mid_hip, xy[:, NECK])]
    radius = [HEAD_RADIUS * size, torch.maximum(0.5 * width, 0.25 * size)]
    seen = [conf[:, NECK] & face_ok, conf[:, NECK] & (hips | (conf[:, 2] & conf[:, 5]))]
    bias = [HEAD_BIAS, TORSO_BIAS]
    for _, ja, jb, r, extend, part_bias in LIMB_PARTS:
        d = xy[:, jb] - xy[:, ja]
        u = d / torch.linalg.norm(d, dim=-1, keepdim=True).clamp_min(1e-6)
        a.append(xy[:, ja])
        b.append(xy[:, jb] + u * (extend * size)[:, None])
        radius.append(r * size)
        seen.append(conf[:, ja] & conf[:, jb])
        bias.append(part_bias)
    return (torch.stack(a, 1), torch.stack(b, 1), torch.stack(radius, 1),
            pose.new_tensor(bias), torch.stack(seen, 1))


def part_scores(pose: torch.Tensor, points: torch.Tensor, min_confidence: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    """Layered part scores of points [B, N, 2] for poses [B, 18, 3] -> (scores [B, P, N] = bias - distance to
    the part's capsule in radii, -inf for unseen parts; the smallest distance in radii [B, N])."""
    a, b, radius, bias, seen = _capsules(pose, min_confidence)
    ab = b - a  # [B, P, 2]
    # x and y as separate [B, P, N] planes, updated in place: the flow stage computes this at every crop
    # pixel for ten parts, twice per frame, and [B, P, N, 2] temporaries made it memory-bound (16 ms per
    # frame at 256 px, against 60 for the flow network itself).
    along = ab / (ab ** 2).sum(-1, keepdim=True).clamp_min(1e-9)  # the projection onto the bone, per unit
    dx = points[:, None, :, 0] - a[:, :, None, 0]  # point - a
    dy = points[:, None, :, 1] - a[:, :, None, 1]
    t = (dx * along[:, :, None, 0]).addcmul_(dy, along[:, :, None, 1]).clamp_(0, 1)
    dx.addcmul_(t, ab[:, :, None, 0], value=-1)  # point - nearest point of the bone
    dy.addcmul_(t, ab[:, :, None, 1], value=-1)
    # Not linalg.norm over a last dimension of 2 (that reduction was 40% of the flow stage's time) nor hypot
    # (libm's, careful about overflow no pixel distance comes near: 3x slower).
    distance = dx.mul_(dx).addcmul_(dy, dy).sqrt_().div_(radius[:, :, None].clamp_min(1e-6))
    distance.masked_fill_(~seen[:, :, None], float("inf"))
    scores = torch.sub(bias[None, :, None], distance)
    return scores, distance.amin(dim=1)


def _grid_points(batch: int, height: int, width: int, device, dtype) -> torch.Tensor:
    return identity_flow(batch, height, width, device, dtype).flatten(2).transpose(1, 2)  # [B, H*W, 2]


def geometric_flow(source_pose: torch.Tensor, target_pose: torch.Tensor, height: int, width: int,
                   min_confidence: float = 0.1) -> dict[str, torch.Tensor]:
    """The part-wise affine appearance flow of frame i.

    Args:
        source_pose: [B, 18, 3] the appearance image's keypoints, in its pixels.
        target_pose: [B, 18, 3] frame i's keypoints, in the pixels of the [height, width] frame canvas.
    Returns:
        "flow": [B, 2, H, W] absolute appearance-image pixels (identity flow off the body, where no part
        reaches); "visibility": [B, 3, H, W] probabilities (visible, hidden, background); "parts": soft part
        membership [B, P, H, W] (sums to 1); "body": [B, 1, H, W] in [0, 1], inside some part's capsule;
        "reach": [B, 1, H, W] 1 where some part is near enough to own the pixel (elsewhere the flow means
        nothing).
    """
    b = source_pose.shape[0]
    dtype, device = source_pose.dtype, source_pose.device
    points = _grid_points(b, height, width, device, dtype)
    scores, nearest = part_scores(target_pose, points, min_confidence)
    parts = torch.softmax(scores / TEMPERATURE, dim=1)  # [B, P, N]
    parts = torch.nan_to_num(parts, nan=0.0)  # no part seen at all
    maps, _ = part_maps(source_pose, target_pose, min_confidence)  # [B, P, 2, 3]
    # sum_p parts_p (M_p @ (x, y, 1)) = (sum_p parts_p M_p) @ (x, y, 1): one [N, P] x [P, 6] product, not the
    # ten moved grids [B, P, N, 2].
    blended = (parts.transpose(1, 2) @ maps.reshape(b, -1, 6).to(parts.dtype)).view(b, -1, 2, 3)  # [B, N, 2, 3]
    flow = (blended[..., 0] * points[..., None, 0]).addcmul_(blended[..., 1], points[..., None, 1]) + blended[..., 2]
    body = torch.sigmoid((1.0 - nearest.clamp(max=1e6)) / TEMPERATURE)  # [B, N]
    reach = (nearest < NEAR).to(dtype)
    flow = flow * reach[..., None] + points * (1 - reach[..., None])
    # Visible where the appearance pose assigns the flow's source position to the same part: the overlap
    # (histogram intersection) of the two soft memberships, 1 for the same part even across a joint.
    source_scores, _ = part_scores(source_pose, flow, min_confidence)
    source_parts = torch.softmax(source_scores / TEMPERATURE, dim=1).nan_to_num(0.0)
    same = torch.minimum(source_parts, parts).sum(dim=1).clamp(0, 1)
    visibility = torch.stack([body * same, body * (1 - same), 1 - body], dim=1)
    shape = (b, -1, height, width)
    return {"flow": flow.transpose(1, 2).reshape(shape), "visibility": visibility.reshape(shape),
            "parts": parts.reshape(shape), "body": body.reshape(b, 1, height, width),
            "reach": reach.reshape(b, 1, height, width)}
