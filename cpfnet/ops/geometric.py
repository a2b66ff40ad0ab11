"""Global transformations as appearance flows: affine and thin-plate spline (TPS) warps.

The geometric matcher of Soft-Gated Warping-GAN (Dong et al. 2018, after Rocco et al.'s CNNGeometric, CVPR
2017) predicts an affine transformation and then a TPS; both map a position of the target image to the
position of the source image it is sampled from. Here they are written in the normalised coordinates of
`grid_sample(align_corners=False)` (x, y in [-1, 1], pixel centres at (2j + 1) / W - 1), and turned into the
absolute pixel flows `cpfnet.ops.warp` uses, so a matcher's output warps exactly like the appearance flow of
stage 2a (and resizes with `resize_flow` for feature maps).

TPS (Bookstein 1989): with control points c_i on a regular g x g grid of the target and their source
positions s_i, the map is f(p) = a_0 + a_1 x + a_2 y + sum_i w_i U(|p - c_i|), U(r) = r^2 log r^2, whose
coefficients solve L [w; a] = [s; 0], L = [[K, P], [P^T, 0]], K_ij = U(|c_i - c_j|), P_i = (1, x_i, y_i).
The control points are fixed, so L^-1 is computed once.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def normalized_grid(height: int, width: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """Pixel centres of an H x W image in grid_sample's normalised coordinates: [H, W, 2] (x, y)."""
    xs = (torch.arange(width, device=device, dtype=dtype) * 2 + 1) / width - 1
    ys = (torch.arange(height, device=device, dtype=dtype) * 2 + 1) / height - 1
    return torch.stack([xs[None, :].expand(height, width), ys[:, None].expand(height, width)], dim=-1)


def grid_to_flow(grid: torch.Tensor, src_height: int, src_width: int) -> torch.Tensor:
    """Normalised sampling grid [B, H, W, 2] into a source of size (src_height, src_width) -> absolute pixel
    flow [B, 2, H, W] (the inverse of `cpfnet.ops.warp.flow_to_grid`)."""
    if grid.ndim != 4 or grid.shape[-1] != 2:
        raise ValueError(f"grid must be [B, H, W, 2], got {tuple(grid.shape)}")
    size = grid.new_tensor([src_width, src_height])
    return ((grid + 1) * size / 2).permute(0, 3, 1, 2)


def affine_points(theta: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Apply affine maps theta [B, 2, 3] to normalised points [B, ..., 2] -> [B, ..., 2]."""
    if theta.ndim != 3 or theta.shape[1:] != (2, 3):
        raise ValueError(f"theta must be [B, 2, 3], got {tuple(theta.shape)}")
    b = theta.shape[0]
    flat = points.reshape(b, -1, 2)
    out = flat @ theta[:, :, :2].transpose(1, 2) + theta[:, None, :, 2]
    return out.reshape(points.shape)


def control_points(grid_size: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """The g x g TPS control points evenly spread over [-1, 1]^2: [g*g, 2] (x, y), row by row."""
    if grid_size < 2:
        raise ValueError(f"a TPS needs a control grid of at least 2 x 2, got {grid_size}")
    axis = torch.linspace(-1, 1, grid_size, device=device, dtype=dtype)
    ys, xs = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1)


def _tps_kernel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """U(|a_i - b_j|) = r^2 log r^2 for points a [..., P, 2], b [N, 2] -> [..., P, N] (U(0) = 0)."""
    r2 = ((a[..., :, None, :] - b) ** 2).sum(-1)
    return r2 * torch.log(r2.clamp_min(1e-12))


def tps_system_inverse(control: torch.Tensor) -> torch.Tensor:
    """L^-1 [N+3, N+3] for control points [N, 2] (see the module docstring)."""
    n = control.shape[0]
    p = torch.cat([control.new_ones(n, 1), control], dim=1)
    lhs = control.new_zeros(n + 3, n + 3)
    lhs[:n, :n] = _tps_kernel(control, control)
    lhs[:n, n:] = p
    lhs[n:, :n] = p.T
    return torch.linalg.inv(lhs)


def tps_points(control: torch.Tensor, system_inverse: torch.Tensor, source: torch.Tensor,
               points: torch.Tensor) -> torch.Tensor:
    """The TPS that takes control [N, 2] to source [B, N, 2], applied to points [P, 2] -> [B, P, 2].

    `system_inverse` is `tps_system_inverse(control)`. All coordinates normalised."""
    n = control.shape[0]
    if source.ndim != 3 or source.shape[1:] != (n, 2):
        raise ValueError(f"source points must be [B, {n}, 2] for {n} control points, got {tuple(source.shape)}")
    rhs = torch.cat([source, source.new_zeros(source.shape[0], 3, 2)], dim=1)  # [B, N+3, 2]
    coefficients = system_inverse.to(source.dtype) @ rhs  # [B, N+3, 2]: w (N), then a_0, a_1, a_2
    basis = torch.cat([_tps_kernel(points, control), points.new_ones(points.shape[0], 1), points], dim=1)
    return basis.to(source.dtype) @ coefficients


def tps_grid(control: torch.Tensor, system_inverse: torch.Tensor, source: torch.Tensor, height: int,
             width: int) -> torch.Tensor:
    """The TPS of `tps_points` evaluated at the pixel centres of an H x W target -> grid [B, H, W, 2]."""
    pixels = normalized_grid(height, width, source.device, source.dtype).reshape(-1, 2)
    return tps_points(control, system_inverse, source, pixels).reshape(source.shape[0], height, width, 2)


def affine_tps_flow(theta: torch.Tensor, control: torch.Tensor, system_inverse: torch.Tensor,
                    source: torch.Tensor, height: int, width: int, src_height: int | None = None,
                    src_width: int | None = None) -> torch.Tensor:
    """Affine after TPS as one absolute pixel flow [B, 2, H, W].

    The TPS maps a target position into the affine-warped source, the affine map takes that on into the
    source (warping the source by the affine and then the result by the TPS is one warp by this flow, without
    the second resampling). theta [B, 2, 3]; source TPS points [B, N, 2]; the source image is src_height x
    src_width (default H x W)."""
    grid = affine_points(theta, tps_grid(control, system_inverse, source, height, width))
    return grid_to_flow(grid, src_height or height, src_width or width)


def affine_flow(theta: torch.Tensor, height: int, width: int, src_height: int | None = None,
                src_width: int | None = None) -> torch.Tensor:
    """The affine maps theta [B, 2, 3] as absolute pixel flows [B, 2, H, W] (as F.affine_grid, align_corners
    False)."""
    grid = F.affine_grid(theta, [theta.shape[0], 1, height, width], align_corners=False)
    return grid_to_flow(grid, src_height or height, src_width or width)
