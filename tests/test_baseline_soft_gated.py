"""The Soft-Gated Warping-GAN baseline (paper IV-A2, [10]): the paper configuration's shapes at 448, the
geometric matcher, the soft gate, the losses."""

from dataclasses import asdict

import pytest
import torch

from cpfnet.baselines.soft_gated.losses import hierarchy_loss, matcher_loss
from cpfnet.baselines.soft_gated.network import (GeometricMatcher, GeometricMatcherConfig, SoftGatedDiscriminator,
                                                 SoftGatedDiscriminatorConfig, SoftGatedGenerator,
                                                 SoftGatedGeneratorConfig, SoftGatedWarpBlock, correlation)
from cpfnet.ops.foreground import one_hot_parsing
from cpfnet.ops.warp import identity_flow, resize_flow, warp


def _params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_paper_scale_shapes_at_448():
    """Meta tensors: shapes without arithmetic. The ResNet generator at 448 works at 112 x 112 with 256
    channels; CNNGeometric's 16 x 16 matching grid (256 correlation channels) from 256 px parsings."""
    with torch.device("meta"):
        matcher = GeometricMatcher(**asdict(GeometricMatcherConfig())).to("meta")
        g = SoftGatedGenerator(**asdict(SoftGatedGeneratorConfig()))
        d = SoftGatedDiscriminator(**asdict(SoftGatedDiscriminatorConfig()))
        pose, parsing, appearance = torch.empty(2, 35, 448, 448), torch.empty(2, 20, 448, 448), torch.empty(1, 3, 448, 448)
        matched = matcher(parsing[:1], parsing)
        out = g(pose, parsing, appearance, matched["flow"])
        judged = d(pose, parsing, appearance, out["frame"])
    assert matched["flow"].shape == (2, 2, 448, 448) and matched["theta"].shape == (2, 2, 3)
    assert matched["tps"].shape == (2, 25, 2)
    assert matcher.affine_regressor.body[0][0].in_channels == 16 * 16
    assert out["frame"].shape == (2, 3, 448, 448) and out["gate"].shape == (2, 1, 112, 112)
    assert [tuple(x.shape) for x in judged["logits"]] == [(2, 1, 59, 59), (2, 1, 31, 31)]
    assert [len(f) for f in judged["features"]] == [4, 4]
    assert d.net.scales[0].net[0].in_channels == 35 + 20 + 3 + 3
    assert 13.0e6 < _params(g) < 13.5e6 and 5.5e6 < _params(matcher) < 5.7e6


def test_matcher_starts_at_the_identity_and_learns_a_shift():
    torch.manual_seed(0)
    matcher = GeometricMatcher(channels=(8, 8), match_size=16, tps_grid=3)
    labels = torch.zeros(1, 16, 16, dtype=torch.long)
    labels[:, 4:12, 3:8] = 5
    source, target = one_hot_parsing(labels), one_hot_parsing(labels.roll(4, dims=2))
    flow = matcher(source, target)["flow"]
    assert torch.allclose(flow, identity_flow(1, 16, 16), atol=1e-4)
    optimizer = torch.optim.Adam(matcher.parameters(), lr=3e-4)
    losses = []
    for _ in range(40):
        loss = matcher_loss(source, target, matcher(source, target)["flow"])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0], losses
    assert matcher_loss(source, source, identity_flow(1, 16, 16)) == 0


def test_correlation_compares_every_target_position_with_every_source_position():
    a = torch.nn.functional.normalize(torch.rand(1, 4, 3, 3), dim=1)
    corr = correlation(a, a)
    assert corr.shape == (1, 9, 3, 3)
    # Channel k at position k is the feature's match with itself: the largest of its column.
    assert (corr.flatten(2).argmax(dim=1) == torch.arange(9)).all()


def test_soft_gate_chooses_between_the_warped_and_the_unwarped_feature():
    torch.manual_seed(0)
    block = SoftGatedWarpBlock(4)
    appearance, target = torch.rand(1, 4, 6, 6), torch.rand(2, 4, 6, 6)
    flow = identity_flow(2, 12, 12) + torch.tensor([3.0, 0.0]).view(1, 2, 1, 1)  # 1.5 feature pixels to the right
    out = block(appearance, target, flow)
    assert torch.allclose(out["gate"], torch.full((2, 1, 6, 6), 0.5))  # starts undecided
    warped = warp(appearance.expand(2, -1, -1, -1), resize_flow(flow, 6, 6))
    assert not torch.allclose(warped, appearance)
    for bias, expected in ((30.0, warped), (-30.0, appearance.expand(2, -1, -1, -1))):
        block.gate[-1].bias.data.fill_(bias)
        assert torch.allclose(block(appearance, target, flow)["feature"], expected, atol=1e-6)


def test_generator_and_losses_check_their_inputs():
    g = SoftGatedGenerator(ngf=4, n_downsample=2, n_blocks=1)
    pose, parsing, appearance = torch.rand(2, 35, 16, 16), torch.rand(2, 20, 16, 16), torch.rand(1, 3, 16, 16)
    flow = identity_flow(2, 16, 16)
    features = g.encode_appearance(appearance)
    assert torch.equal(g(pose, parsing, appearance, flow)["frame"],
                       g(pose, parsing, flow=flow, appearance_features=features)["frame"])
    with pytest.raises(ValueError, match="multiple of 4"):
        g(torch.rand(1, 35, 18, 18), torch.rand(1, 20, 18, 18), torch.rand(1, 3, 18, 18), identity_flow(1, 18, 18))
    with pytest.raises(ValueError, match="exactly one of appearance"):
        g(pose, parsing, flow=flow)
    with pytest.raises(ValueError, match="flow must be"):
        g(pose, parsing, appearance)
    with pytest.raises(ValueError, match="match_size"):
        GeometricMatcher(channels=(8, 8, 8), match_size=12)
    features = [[torch.rand(2, 3, 4, 4), torch.rand(2, 5, 2, 2)]]
    assert hierarchy_loss(features, features) == 0
    assert hierarchy_loss(features, [[f + 1 for f in features[0]]]) == pytest.approx(1.0)
