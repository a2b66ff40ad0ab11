"""Stage 3 loss: L1 + perceptual, and FusionNet learning to blend a fixed batch."""

from dataclasses import asdict

import pytest
import torch

from cpfnet.nn.perceptual import PerceptualLoss
from cpfnet.stages.fusion import FusionLossConfig, FusionNet, FusionNetConfig, compose, fusion_loss


def test_terms_and_weights():
    frame, target = torch.rand(2, 3, 16, 16) * 2 - 1, torch.rand(2, 3, 16, 16) * 2 - 1
    terms = fusion_loss(frame, target, None, FusionLossConfig(l1_weight=2.0, perceptual_weight=0.0))
    assert set(terms) == {"l1"}
    torch.testing.assert_close(terms["l1"], 2 * (frame - target).abs().mean())
    with pytest.raises(ValueError, match="PerceptualLoss"):
        fusion_loss(frame, target, None)
    with pytest.raises(ValueError, match="differ"):
        fusion_loss(frame, target[:, :, :8], None)


def _blend_batch(size: int = 32):
    """Backgrounds, generated foregrounds, a soft person mask, and the frames that mask composes."""
    torch.manual_seed(0)
    ys, xs = torch.meshgrid(torch.arange(size) + 0.5, torch.arange(size) + 0.5, indexing="ij")
    masks = []
    for cx, cy, rx, ry in ((14.0, 16.0, 6.0, 11.0), (19.0, 15.0, 8.0, 10.0)):
        d = ((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2
        masks.append(torch.sigmoid(4 * (1 - d)))
    mask = torch.stack(masks)[:, None]
    background = torch.sin(xs / 3)[None, None].repeat(2, 3, 1, 1) * torch.tensor([0.8, 0.2, -0.5]).view(1, 3, 1, 1)
    foreground = torch.tanh(torch.randn(2, 3, 8, 8)).repeat_interleave(4, 2).repeat_interleave(4, 3)
    foreground = foreground * (mask > 0.05) - (mask <= 0.05).float()  # stage 2 draws black around the person
    target = compose(foreground, background, mask)
    previous = torch.roll(target, shifts=1, dims=3)
    return background, foreground, previous, target


def test_loss_falls_on_fixed_batch():
    background, foreground, previous, target = _blend_batch()
    torch.manual_seed(0)
    net = FusionNet(**asdict(FusionNetConfig(ngf=8, n_blocks=2)))
    perceptual = PerceptualLoss()
    opt = torch.optim.Adam(net.parameters(), lr=5e-3, betas=(0.5, 0.999))
    history = []
    for _ in range(30):
        out = net(background, foreground, previous)
        terms = fusion_loss(out["frame"], target, perceptual)
        opt.zero_grad()
        sum(terms.values()).backward()
        opt.step()
        history.append(sum(terms.values()).item())
    assert set(terms) == {"l1", "perceptual"}
    assert history[-1] < 0.5 * history[0], history
