"""Stage 2a loss: EPE over the foreground, visibility cross-entropy, metrics, and learning a fixed batch."""

from dataclasses import asdict

import pytest
import torch
import torch.nn.functional as F

from cpfnet.body.keypoints import NUM_KEYPOINTS
from cpfnet.body.pose_maps import render_pose_maps
from cpfnet.ops.warp import identity_flow
from cpfnet.stages.flow import FlowLossConfig, FlowRegressor, FlowRegressorConfig, flow_loss, flow_metrics


def _visibility(h: int, w: int) -> torch.Tensor:
    vis = torch.full((2, h, w), 2)
    vis[:, 2:6, 2:6] = 0
    vis[0, 6:8, 2:6] = 1
    return vis


def test_epe_counts_foreground_only_and_ignores_background_nan():
    target = identity_flow(2, 8, 10)
    flow = target + torch.tensor([3.0, 4.0]).view(1, 2, 1, 1)
    vis = _visibility(8, 10)
    flow[:, :, vis[0] == 2] = 1e4  # wrong on the background: must not count
    target[:, :, vis[0] == 2] = float("nan")
    logits = 20.0 * F.one_hot(vis, 3).permute(0, 3, 1, 2).float()
    metrics = flow_metrics(flow, logits, target, vis)
    torch.testing.assert_close(metrics["epe_px"], torch.tensor(5.0))
    torch.testing.assert_close(metrics["visibility_accuracy"], torch.tensor(1.0))
    terms = flow_loss(flow, logits, target, vis)
    assert set(terms) == {"epe", "visibility"}
    torch.testing.assert_close(terms["epe"], torch.tensor(5.0 * 100 / 10))  # percent of the width
    assert terms["visibility"] < 1e-6
    terms = flow_loss(flow, torch.zeros_like(logits), target, vis, FlowLossConfig(epe_weight=2.0,
                                                                                   visibility_weight=3.0))
    torch.testing.assert_close(terms["epe"], torch.tensor(2 * 50.0))
    torch.testing.assert_close(terms["visibility"], torch.log(torch.tensor(3.0)) * 3)


def test_epe_term_is_size_independent_and_gradient_is_finite_at_zero():
    vis = _visibility(8, 8)
    small = flow_loss(identity_flow(2, 8, 8) + 1.0, torch.zeros(2, 3, 8, 8), identity_flow(2, 8, 8), vis)
    big_vis = vis.repeat_interleave(4, 1).repeat_interleave(4, 2)
    big = flow_loss(identity_flow(2, 32, 32) + 4.0, torch.zeros(2, 3, 32, 32), identity_flow(2, 32, 32), big_vis)
    torch.testing.assert_close(small["epe"], big["epe"])
    flow = identity_flow(2, 8, 8).requires_grad_()
    flow_loss(flow, torch.zeros(2, 3, 8, 8), identity_flow(2, 8, 8), vis)["epe"].backward()
    assert torch.isfinite(flow.grad).all()


def test_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="visibility"):
        flow_loss(torch.zeros(1, 2, 8, 8), torch.zeros(1, 3, 8, 8), torch.zeros(1, 2, 8, 8), torch.zeros(1, 4, 4))


def _shifted_pose_batch(size: int = 32):
    """Appearance poses, frame poses moved by a per-sample shift, and the flow and visibility that shift gives."""
    torch.manual_seed(0)
    kp = torch.rand(2, NUM_KEYPOINTS, 3) * torch.tensor([12.0, 20.0, 0.0]) + torch.tensor([10.0, 6.0, 1.0])
    shift = torch.tensor([[4.0, 2.0], [-3.0, 1.0]])
    moved = kp.clone()
    moved[:, :, :2] += shift[:, None]
    appearance_pose = render_pose_maps(kp, size, size, sigma=2.0)
    pose = render_pose_maps(moved, size, size, sigma=2.0)
    flow = identity_flow(2, size, size) - shift.view(2, 2, 1, 1)  # frame pixel p comes from p - shift
    body = pose.amax(dim=1) > 0.2
    vis = torch.full((2, size, size), 2)
    vis[body] = 0
    vis[:, :, : size // 2][body[:, :, : size // 2]] = 1  # the left half of the body is hidden
    return appearance_pose, pose, flow, vis


def test_loss_falls_on_fixed_batch():
    appearance_pose, pose, target_flow, target_vis = _shifted_pose_batch()
    torch.manual_seed(0)
    net = FlowRegressor(**asdict(FlowRegressorConfig(channels=(8, 16, 32))))
    opt = torch.optim.Adam(net.parameters(), lr=5e-3, betas=(0.5, 0.999))
    history = []
    for _ in range(30):
        out = net(appearance_pose, pose)
        terms = flow_loss(out["flow"], out["visibility_logits"], target_flow, target_vis)
        loss = sum(terms.values())
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append([t.item() for t in terms.values()])
    initial, final = torch.tensor(history[0]), torch.tensor(history[-1])
    assert final.sum() < 0.5 * initial.sum(), history
    assert (final < 0.7 * initial).all(), history  # both terms learn
    metrics = flow_metrics(out["flow"], out["visibility_logits"], target_flow, target_vis)
    assert metrics["epe_px"] < 0.5 * 3.6  # zero displacement would be off by |shift| = 4.5 and 3.2 px
