"""Warping by absolute appearance flow, and flow resizing."""

import pytest
import torch

from cpfnet.ops.warp import identity_flow, resize_flow, warp


def test_identity_flow_reproduces_the_source():
    x = torch.randn(2, 3, 9, 7)
    assert torch.allclose(warp(x, identity_flow(2, 9, 7)), x, atol=1e-6)


def test_integer_shift_moves_content():
    x = torch.arange(6 * 8, dtype=torch.float32).view(1, 1, 6, 8)
    flow = identity_flow(1, 6, 8)
    flow[:, 0] += 2  # every pixel samples from two pixels to its right
    out = warp(x, flow)
    assert torch.allclose(out[..., :6], x[..., 2:], atol=1e-4)
    assert (out[..., 6:] == 0).all()  # outside the source reads zeros


def test_nearest_warp_keeps_labels_intact():
    labels = torch.randint(0, 20, (1, 1, 8, 8)).float()
    flow = identity_flow(1, 8, 8) + 0.3  # sub-pixel offsets must not blend labels
    out = warp(labels, flow, mode="nearest")
    assert set(out.unique().tolist()) <= set(labels.unique().tolist())


def test_resize_flow_scales_values():
    assert torch.allclose(resize_flow(identity_flow(1, 16, 12), 8, 6), identity_flow(1, 8, 6), atol=1e-5)
    flow = identity_flow(1, 16, 16)
    flow[:, 0] += 4.0
    small = resize_flow(flow, 4, 4)
    assert torch.allclose(small[:, 0] - identity_flow(1, 4, 4)[:, 0], torch.full((1, 4, 4), 1.0), atol=1e-5)


def test_warp_gradients_in_float64():
    src = torch.randn(1, 2, 5, 5, dtype=torch.float64, requires_grad=True)
    flow = (identity_flow(1, 4, 4, dtype=torch.float64) + torch.rand(1, 2, 4, 4, dtype=torch.float64)).requires_grad_()
    assert torch.autograd.gradcheck(lambda s, f: warp(s, f), (src, flow))


def test_bad_shapes_raise():
    with pytest.raises(ValueError):
        warp(torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 4))
    with pytest.raises(ValueError):
        warp(torch.zeros(2, 3, 4, 4), identity_flow(1, 4, 4))
