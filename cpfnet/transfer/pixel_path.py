"""The pixel path: the photo's own pixels, moved into frame i's pose at the photo's full resolution.

The networks run on small crops (64-448 px); a person pasted back from such a crop is as blurry as the crop
is small. Here the appearance flow (the geometric part-wise flow, cpfnet.body.limb_flow, or a learned flow
upsampled: flows are smooth and resize exactly, cpfnet.ops.warp) samples the full-size photo directly, so
every visible part keeps the photo's real texture, face and colours; only what the photo does not show has
to be generated (vid2vid's and few-shot vid2vid's `m * warped + (1 - m) * hallucinated`).

Everything works on a *region*: the part of the photo frame i's person can reach (`body_region`), so the cost
follows the person's size in the photo, not the photo's.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from cpfnet.body.limb_flow import body_size, geometric_flow
from cpfnet.ops.warp import flow_to_grid, warp

REGION_MARGIN = 0.45  # of the body size, around the keypoints: hands, feet, hair and loose clothes


def body_region(pose: np.ndarray, width: int, height: int, margin: float = REGION_MARGIN,
                min_confidence: float = 0.1) -> tuple[int, int, int, int]:
    """Integer box (x0, y0, x1, y1), inside a width x height frame, that holds the body of pose [18, 3]
    (frame pixels): its confident keypoints grown by `margin` body sizes. Empty (x0 == x1) without one."""
    ok = pose[:, 2] >= min_confidence
    if not ok.any():
        return 0, 0, 0, 0
    pad = margin * float(body_size(torch.from_numpy(pose[None].astype(np.float64)), min_confidence)[0])
    xs, ys = pose[ok, 0], pose[ok, 1]
    x0, y0 = max(0, math.floor(xs.min() - pad)), max(0, math.floor(ys.min() - pad))
    x1, y1 = min(width, math.ceil(xs.max() + pad)), min(height, math.ceil(ys.max() + pad))
    return x0, y0, max(x0, x1), max(y0, y1)


def photo_tensors(photo: np.ndarray, mask: np.ndarray, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """RGB uint8 photo [H, W, 3] and person mask [H, W] (bool or [0, 1]) -> [1, 3, H, W] in [0, 1] and
    [1, 1, H, W] float32, made once per target photo."""
    image = torch.from_numpy(np.ascontiguousarray(photo)).permute(2, 0, 1)[None].float().div_(255)
    alpha = torch.from_numpy(np.ascontiguousarray(mask, np.float32))[None, None]
    return image.to(device), alpha.to(device)


def geometric_region_flow(photo_pose: np.ndarray, frame_pose: np.ndarray,
                          region: tuple[int, int, int, int]) -> dict[str, torch.Tensor]:
    """`geometric_flow` on a region of the frame canvas: photo_pose [18, 3] in photo pixels, frame_pose
    [18, 3] in frame pixels (the same canvas as the photo) -> its outputs over the region [1, *, h, w],
    the flow in photo pixels."""
    x0, y0, x1, y1 = region
    shifted = frame_pose.astype(np.float64).copy()
    shifted[:, 0] -= x0
    shifted[:, 1] -= y0
    source = torch.from_numpy(photo_pose.astype(np.float64))[None]
    return {k: v.float() for k, v in geometric_flow(source, torch.from_numpy(shifted)[None], y1 - y0, x1 - x0).items()}


def warp_photo(photo: torch.Tensor, mask: torch.Tensor, flow: torch.Tensor,
               reach: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Sample the photo [1, 3, H, W] and its person mask [1, 1, H, W] where `flow` [B, 2, h, w] (photo
    pixels) points -> {"image": [B, 3, h, w], "alpha": [B, 1, h, w], the warped mask, times `reach` where
    given (outside it the flow means nothing)}."""
    b = flow.shape[0]
    source = torch.cat([photo, mask], dim=1).expand(b, -1, -1, -1)
    warped = warp(source, flow.to(photo.dtype))
    alpha = warped[:, 3:4]
    if reach is not None:
        alpha = alpha * reach
    return {"image": warped[:, :3], "alpha": alpha.clamp(0, 1)}


def sample_crop(x: torch.Tensor, crop_box, region: tuple[int, int, int, int]) -> torch.Tensor:
    """Crop-resolution maps [B, C, S, S] of `crop_box` (photo pixels) -> [B, C, h, w] on the region's photo
    pixels, bilinear (the crop's edge values continue beyond it): the networks' outputs at full resolution."""
    b, _, s, _ = x.shape
    x0, y0, x1, y1 = region
    cx0, cy0, cx1, cy1 = (float(v) for v in crop_box)
    xs = (torch.arange(x0, x1, dtype=x.dtype, device=x.device) + 0.5 - cx0) * (s / (cx1 - cx0))
    ys = (torch.arange(y0, y1, dtype=x.dtype, device=x.device) + 0.5 - cy0) * (s / (cy1 - cy0))
    grid = torch.stack([xs[None, :].expand(len(ys), -1), ys[:, None].expand(-1, len(xs))])[None]
    return F.grid_sample(x, flow_to_grid(grid.expand(b, -1, -1, -1), s, s), mode="bilinear",
                         padding_mode="border", align_corners=False)


def crop_flow_to_photo(flow: torch.Tensor, frame_box, appearance_box, region: tuple[int, int, int, int]) -> torch.Tensor:
    """A flow predicted on crops -> the same flow on a region of the photo canvas, in photo pixels.

    flow [B, 2, S, S]: for each pixel of frame i's S x S crop (of `frame_box`, photo pixels), the pixel of the
    appearance crop (of `appearance_box`) it samples. Each region pixel is looked up in frame i's crop
    (bilinear: the flow is smooth) and the crop position it gets is mapped to photo pixels."""
    s = flow.shape[-1]
    ax0, ay0, ax1, ay1 = (float(v) for v in appearance_box)
    scale = flow.new_tensor([(ax1 - ax0) / s, (ay1 - ay0) / s]).view(1, 2, 1, 1)
    offset = flow.new_tensor([ax0, ay0]).view(1, 2, 1, 1)
    return sample_crop(flow, frame_box, region) * scale + offset


def composite(background: np.ndarray, region: tuple[int, int, int, int], image: torch.Tensor,
              alpha: torch.Tensor, out: np.ndarray | None = None) -> np.ndarray:
    """Blend image [1, 3, h, w] in [0, 1] with weight alpha [1, 1, h, w] into the region of `background`
    [H, W, 3] uint8; only the region is touched (written into `out`, a copy of the background by default)."""
    x0, y0, x1, y1 = region
    frame = background.copy() if out is None else out
    if x1 <= x0 or y1 <= y0:
        return frame
    under = torch.from_numpy(background[y0:y1, x0:x1]).to(image.device).permute(2, 0, 1)[None].float().div_(255)
    blended = (image * alpha + under * (1 - alpha)).mul_(255).round_().clamp_(0, 255)
    frame[y0:y1, x0:x1] = blended[0].permute(1, 2, 0).to(torch.uint8).cpu().numpy()
    return frame
