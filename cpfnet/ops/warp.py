"""Backward warping by an absolute appearance flow.

Coordinates are continuous pixels: pixel (i, j) covers [j, j+1) x [i, i+1), its centre is (j + 0.5, i + 0.5).
With this convention `grid_sample(align_corners=False)` maps x to 2x/W - 1, and resizing an image by a
factor s moves every coordinate by the same factor s, so flows resize exactly.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _check_flow(flow: torch.Tensor) -> None:
    if flow.ndim != 4 or flow.shape[1] != 2:
        raise ValueError(f"flow must be [B, 2, H, W], got {tuple(flow.shape)}")


def identity_flow(batch: int, height: int, width: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """The flow that samples every pixel from itself: [B, 2, H, W], channel 0 = x, 1 = y (pixel centres)."""
    ys = torch.arange(height, device=device, dtype=dtype) + 0.5
    xs = torch.arange(width, device=device, dtype=dtype) + 0.5
    grid = torch.stack([xs[None, :].expand(height, width), ys[:, None].expand(height, width)])
    return grid[None].expand(batch, 2, height, width).contiguous()


def flow_to_grid(flow: torch.Tensor, src_height: int, src_width: int) -> torch.Tensor:
    """Absolute pixel flow [B, 2, H, W] into a source of size (src_height, src_width) -> the [-1, 1]
    sampling grid [B, H, W, 2] that `grid_sample(align_corners=False)` takes."""
    _check_flow(flow)
    scale = flow.new_tensor([2.0 / src_width, 2.0 / src_height]).view(1, 2, 1, 1)
    return (flow * scale - 1.0).permute(0, 2, 3, 1)


def warp(source: torch.Tensor, flow: torch.Tensor, mode: str = "bilinear") -> torch.Tensor:
    """Sample `source` [B, C, Hs, Ws] at the positions `flow` [B, 2, H, W] gives -> [B, C, H, W].

    Positions outside the source read zeros. `mode` is 'bilinear' for images and features, 'nearest' for
    label maps. The positions are at least float32 whatever the source's dtype (in bf16 a coordinate near
    448 px is only known to 2 px): a bf16/fp16 source is sampled in float32 and the result cast back."""
    if source.ndim != 4 or source.shape[0] != flow.shape[0]:
        raise ValueError(f"source must be [B, C, H, W] with the flow's batch, got {tuple(source.shape)}")
    dtype = torch.promote_types(source.dtype, torch.float32)
    grid = flow_to_grid(flow.to(dtype), source.shape[2], source.shape[3])
    if source.dtype == dtype:
        return F.grid_sample(source, grid, mode=mode, padding_mode="zeros", align_corners=False)
    with torch.autocast(source.device.type, enabled=False):
        return F.grid_sample(source.to(dtype), grid, mode=mode, padding_mode="zeros",
                             align_corners=False).to(source.dtype)


def resize_flow(flow: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Resize a flow field [B, 2, H, W] to [B, 2, height, width], scaling its values with it: the flow
    then points into the source resized by the same factors (as encoder features at that level)."""
    _check_flow(flow)
    if flow.shape[2:] == (height, width):
        return flow
    resized = F.interpolate(flow, size=(height, width), mode="bilinear", align_corners=False)
    scale = flow.new_tensor([width / flow.shape[3], height / flow.shape[2]]).view(1, 2, 1, 1)
    return resized * scale
