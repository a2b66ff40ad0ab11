"""A pose as network input: per-keypoint Gaussian heatmaps and per-limb maps.

Heatmaps say where each joint is; limb maps (a Gaussian of the distance to the bone segment) say which
joints belong together, which matters when limbs cross. Both are drawn on the fly, batched, on the
networks' device, so datasets only carry keypoints [T, 18, 3].
"""

from __future__ import annotations

import torch

from cpfnet.body.keypoints import LIMBS, NUM_KEYPOINTS

POSE_CHANNELS = NUM_KEYPOINTS + len(LIMBS)  # 18 heatmaps + 17 limb maps = 35
_LIMB_INDEX = torch.tensor(LIMBS)


def render_pose_maps(keypoints: torch.Tensor, height: int, width: int, sigma: float,
                     min_confidence: float = 0.1) -> torch.Tensor:
    """Draw pose maps for a batch of poses.

    Args:
        keypoints: [B, 18, 3] (x, y) pixels (pixel centres at i + 0.5) and confidence.
        height, width: output size in pixels.
        sigma: Gaussian standard deviation in pixels (heatmaps and limb thickness).
        min_confidence: joints below it are treated as missing (their maps and limbs stay zero).
    Returns:
        [B, 35, H, W] float in [0, 1]: 18 heatmaps (COCO-18 order) then 17 limb maps (`LIMBS` order).
    """
    if keypoints.ndim != 3 or keypoints.shape[1:] != (NUM_KEYPOINTS, 3):
        raise ValueError(f"keypoints must be [B, {NUM_KEYPOINTS}, 3], got {tuple(keypoints.shape)}")
    dtype = keypoints.dtype if keypoints.is_floating_point() else torch.float32
    kp = keypoints.to(dtype)
    ys = torch.arange(height, device=kp.device, dtype=dtype) + 0.5
    xs = torch.arange(width, device=kp.device, dtype=dtype) + 0.5
    present = (kp[:, :, 2] >= min_confidence).to(dtype)  # [B, 18]
    inv = 1.0 / (2.0 * sigma * sigma)

    # Separable Gaussian: exp(-(dx^2 + dy^2)/2s^2) = exp(-dx^2/2s^2) * exp(-dy^2/2s^2).
    gx = torch.exp(-((xs[None, None, :] - kp[:, :, 0:1]) ** 2) * inv)  # [B, 18, W]
    gy = torch.exp(-((ys[None, None, :] - kp[:, :, 1:2]) ** 2) * inv)  # [B, 18, H]
    heat = gy[:, :, :, None] * gx[:, :, None, :] * present[:, :, None, None]

    limbs = _LIMB_INDEX.to(kp.device)
    a, b = kp[:, limbs[:, 0], :2], kp[:, limbs[:, 1], :2]  # [B, L, 2]
    limb_ok = present[:, limbs[:, 0]] * present[:, limbs[:, 1]]  # [B, L]
    ab = b - a
    length2 = (ab ** 2).sum(-1).clamp_min(1e-6)  # [B, L]
    px = xs[None, None, None, :] - a[:, :, 0, None, None]  # [B, L, 1, W]
    py = ys[None, None, :, None] - a[:, :, 1, None, None]  # [B, L, H, 1]
    t = ((px * ab[:, :, 0, None, None] + py * ab[:, :, 1, None, None]) / length2[:, :, None, None]).clamp(0, 1)
    dx = px - t * ab[:, :, 0, None, None]
    dy = py - t * ab[:, :, 1, None, None]
    limb = torch.exp(-(dx * dx + dy * dy) * inv) * limb_ok[:, :, None, None]
    return torch.cat([heat, limb], dim=1)
