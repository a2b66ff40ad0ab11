"""Stage 1 loss (eq. 2): exact values, size independence, and a tiny generator learning a fixed batch."""

from dataclasses import asdict
import math

import torch
import torch.nn.functional as F

from cpfnet.body.keypoints import NUM_KEYPOINTS
from cpfnet.body.parsing_labels import NUM_LABELS
from cpfnet.body.pose_maps import render_pose_maps
from cpfnet.stages.parsing import ParsingGenerator, ParsingGeneratorConfig, ParsingLossConfig, parsing_loss


def test_uniform_prediction_values():
    target = torch.randint(0, NUM_LABELS, (2, 8, 8))
    terms = parsing_loss(torch.zeros(2, NUM_LABELS, 8, 8), target)
    assert set(terms) == {"l1", "ce"}
    # |1/20 - 1| once and |1/20| nineteen times per pixel, weight 10.
    torch.testing.assert_close(terms["l1"], torch.tensor(10 * 2 * (1 - 1 / NUM_LABELS)))
    torch.testing.assert_close(terms["ce"], torch.tensor(10 * math.log(NUM_LABELS)))


def test_perfect_prediction_is_zero_and_weights_apply():
    target = torch.randint(0, NUM_LABELS, (1, 6, 6))
    logits = 50.0 * F.one_hot(target, NUM_LABELS).permute(0, 3, 1, 2).float()
    terms = parsing_loss(logits, target)
    assert terms["l1"] < 1e-6 and terms["ce"] < 1e-6
    logits = torch.randn(1, NUM_LABELS, 6, 6)
    base = parsing_loss(logits, target)
    half = parsing_loss(logits, target, ParsingLossConfig(l1_weight=5.0, ce_weight=1.0))
    torch.testing.assert_close(half["l1"], base["l1"] / 2)
    torch.testing.assert_close(half["ce"], base["ce"] / 10)


def test_mean_over_pixels_does_not_depend_on_size():
    logits = torch.randn(1, NUM_LABELS, 4, 4)
    target = torch.randint(0, NUM_LABELS, (1, 4, 4))
    small = parsing_loss(logits, target)
    big = parsing_loss(logits.repeat_interleave(4, 2).repeat_interleave(4, 3),
                       target.repeat_interleave(4, 1).repeat_interleave(4, 2))
    for key in small:
        torch.testing.assert_close(small[key], big[key])


def _blob_batch(size: int = 32):
    """Appearance parsings made of label blocks, and target parsings moved where a shifted pose says."""
    torch.manual_seed(0)
    appearance = torch.zeros(2, size, size, dtype=torch.long)
    appearance[0, 8:20, 10:18] = 5
    appearance[0, 20:28, 10:18] = 9
    appearance[0, 4:8, 12:16] = 13
    appearance[1, 6:26, 12:20] = 6
    appearance[1, 2:6, 14:18] = 2
    shifts = [(4, 2), (-5, 0)]
    keypoints = torch.rand(2, NUM_KEYPOINTS, 3) * torch.tensor([12.0, 20.0, 0.0]) + torch.tensor([10.0, 6.0, 1.0])
    target = torch.stack([torch.roll(appearance[i], shifts=(dy, dx), dims=(0, 1)) for i, (dx, dy) in enumerate(shifts)])
    moved = keypoints.clone()
    moved[:, :, :2] += torch.tensor([[dx, dy] for dx, dy in shifts], dtype=torch.float32)[:, None]
    onehot = F.one_hot(appearance, NUM_LABELS).permute(0, 3, 1, 2).float()
    return onehot, render_pose_maps(moved, size, size, sigma=2.0), target


def test_loss_falls_on_fixed_batch():
    appearance, pose, target = _blob_batch()
    torch.manual_seed(0)
    net = ParsingGenerator(**asdict(ParsingGeneratorConfig(ngf=8, n_blocks=2)))
    opt = torch.optim.Adam(net.parameters(), lr=5e-3, betas=(0.5, 0.999))
    history = []
    for _ in range(30):
        terms = parsing_loss(net(appearance, pose)["logits"], target)
        loss = sum(terms.values())
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(loss.item())
    assert history[-1] < 0.25 * history[0], history
