"""Affine and thin-plate-spline flows (cpfnet.ops.geometric): identities, exactness at the control points,
agreement with torch's affine_grid, gradients, errors."""

import pytest
import torch
import torch.nn.functional as F

from cpfnet.ops.geometric import (affine_flow, affine_points, affine_tps_flow, control_points, grid_to_flow,
                                  normalized_grid, tps_points, tps_system_inverse)
from cpfnet.ops.warp import flow_to_grid, identity_flow, warp

IDENTITY = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]], dtype=torch.float64)


def test_identity_transformations_give_the_identity_flow():
    control = control_points(4, dtype=torch.float64)
    inverse = tps_system_inverse(control)
    flow = affine_tps_flow(IDENTITY, control, inverse, control[None], 6, 9)
    assert torch.allclose(flow, identity_flow(1, 6, 9, dtype=torch.float64), atol=1e-9)
    assert torch.allclose(affine_flow(IDENTITY, 6, 9), identity_flow(1, 6, 9, dtype=torch.float64), atol=1e-12)
    grid = torch.rand(2, 5, 7, 2, dtype=torch.float64) * 2 - 1
    assert torch.allclose(flow_to_grid(grid_to_flow(grid, 11, 13), 11, 13), grid)


def test_tps_passes_through_its_control_points_and_is_affine_when_they_move_affinely():
    torch.manual_seed(0)
    control = control_points(3, dtype=torch.float64)
    inverse = tps_system_inverse(control)
    source = control[None] + 0.2 * torch.randn(2, 9, 2, dtype=torch.float64)
    assert torch.allclose(tps_points(control, inverse, source, control), source, atol=1e-9)
    theta = torch.tensor([[[0.9, 0.2, 0.1], [-0.1, 1.1, -0.3]]], dtype=torch.float64)
    moved = affine_points(theta, control[None])
    points = torch.rand(50, 2, dtype=torch.float64) * 2 - 1
    assert torch.allclose(tps_points(control, inverse, moved, points), affine_points(theta, points[None]), atol=1e-9)


def test_affine_flow_warps_as_affine_grid():
    torch.manual_seed(1)
    theta = torch.tensor([[[0.8, -0.3, 0.2], [0.25, 0.9, -0.1]]])
    image = torch.rand(1, 3, 12, 16)
    ours = warp(image, affine_flow(theta, 12, 16))
    torch_grid = F.grid_sample(image, F.affine_grid(theta, [1, 3, 12, 16], align_corners=False), align_corners=False)
    assert torch.allclose(ours, torch_grid, atol=1e-5)


def test_gradients_reach_the_parameters():
    control = control_points(3, dtype=torch.float64)
    inverse = tps_system_inverse(control)
    source = (control[None] + 0.05).requires_grad_()
    theta = IDENTITY.clone().requires_grad_()
    assert torch.autograd.gradcheck(lambda s, t: affine_tps_flow(t, control, inverse, s, 4, 5), (source, theta))


def test_errors():
    with pytest.raises(ValueError, match="at least 2 x 2"):
        control_points(1)
    control = control_points(3)
    with pytest.raises(ValueError, match=r"\[B, 9, 2\]"):
        tps_points(control, tps_system_inverse(control), torch.zeros(1, 4, 2), control)
    with pytest.raises(ValueError, match=r"theta must be \[B, 2, 3\]"):
        affine_points(torch.zeros(1, 3, 3), torch.zeros(1, 5, 2))
    with pytest.raises(ValueError, match=r"\[B, H, W, 2\]"):
        grid_to_flow(torch.zeros(1, 2, 4, 4), 4, 4)
    assert normalized_grid(2, 4)[0, 0].tolist() == [-0.75, -0.5]


def test_the_matcher_flow_is_the_affine_after_the_tps():
    """With an identity TPS it is the affine's flow; with an identity affine, the TPS's; and in general the TPS
    point mapped on by the affine (warping by it = warping by the affine, then the result by the TPS)."""
    torch.manual_seed(2)
    control = control_points(3, dtype=torch.float64)
    inverse = tps_system_inverse(control)
    theta = torch.tensor([[[0.9, 0.1, 0.05], [-0.2, 1.1, 0.1]]], dtype=torch.float64)
    source = control[None] + 0.1 * torch.randn(1, 9, 2, dtype=torch.float64)
    assert torch.allclose(affine_tps_flow(theta, control, inverse, control[None], 8, 8), affine_flow(theta, 8, 8))
    tps_only = grid_to_flow(tps_points(control, inverse, source, normalized_grid(8, 8, dtype=torch.float64)
                                       .reshape(-1, 2)).reshape(1, 8, 8, 2), 8, 8)
    assert torch.allclose(affine_tps_flow(IDENTITY, control, inverse, source, 8, 8), tps_only)
    ys, xs = torch.meshgrid(torch.arange(64.0), torch.arange(64.0), indexing="ij")
    image = torch.stack([torch.sin(xs / 6) * torch.cos(ys / 9), torch.cos(xs / 8 + ys / 11)])[None].double()
    once = warp(image, affine_tps_flow(theta, control, inverse, source, 64, 64))
    twice = warp(warp(image, affine_flow(theta, 64, 64)), tps_only_at(control, inverse, source, 64))
    inside = (slice(None), slice(None), slice(12, 52), slice(12, 52))  # away from the zero padding
    assert (once - twice)[inside].abs().max() < 0.01


def tps_only_at(control, inverse, source, size):
    points = normalized_grid(size, size, dtype=source.dtype).reshape(-1, 2)
    return grid_to_flow(tps_points(control, inverse, source, points).reshape(1, size, size, 2), size, size)
