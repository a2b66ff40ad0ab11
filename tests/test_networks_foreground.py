"""Stage 2b networks: the dual-path generator (flow path, ablation, precomputed appearance), the warp block
(gradients), the conditional multi-scale discriminator."""

from dataclasses import asdict

import pytest
import torch

from cpfnet.body.parsing_labels import NUM_LABELS
from cpfnet.ops.warp import identity_flow, resize_flow, warp
import cpfnet.stages.foreground.network as network
from cpfnet.stages.foreground import (FlowWarpBlock, ForegroundDiscriminator, ForegroundDiscriminatorConfig,
                                      ForegroundGenerator, ForegroundGeneratorConfig)

TINY = ForegroundGeneratorConfig(channels=(4, 8, 8))


def _inputs(batch: int = 2, h: int = 16, w: int = 20):
    torch.manual_seed(1)
    parsing = torch.rand(batch, NUM_LABELS, h, w).softmax(dim=1)
    flow = identity_flow(batch, h, w) + 3.0 * torch.randn(batch, 2, h, w)
    visibility = torch.rand(batch, 3, h, w).softmax(dim=1)
    appearance = torch.rand(1, 3, h, w) * 2 - 1
    return parsing, flow, visibility, appearance


def _generator(**overrides) -> ForegroundGenerator:
    torch.manual_seed(0)
    return ForegroundGenerator(**{**asdict(TINY), **overrides}).eval()


def test_tiny_shapes_and_range():
    parsing, flow, visibility, appearance = _inputs()
    out = _generator()(parsing, flow, visibility, appearance=appearance)
    assert set(out) == {"foreground"}
    assert out["foreground"].shape == (2, 3, 16, 20)
    assert out["foreground"].abs().max() <= 1


def test_precomputed_appearance_features_and_batch_broadcast():
    parsing, flow, visibility, appearance = _inputs()
    gen = _generator()
    features = gen.encode_appearance(appearance)
    assert [tuple(f.shape) for f in features] == [(1, 4, 16, 20), (1, 8, 8, 10), (1, 8, 4, 5)]
    direct = gen(parsing, flow, visibility, appearance=appearance)["foreground"]
    reused = gen(parsing, flow, visibility, appearance_features=features)["foreground"]
    repeated = gen(parsing, flow, visibility, appearance=appearance.expand(2, -1, -1, -1))["foreground"]
    torch.testing.assert_close(reused, direct)
    torch.testing.assert_close(repeated, direct)
    with pytest.raises(ValueError, match="exactly one"):
        gen(parsing, flow, visibility)


def test_flow_path_warps_every_level_and_depends_on_the_flow(monkeypatch):
    parsing, flow, visibility, appearance = _inputs()
    gen = _generator()
    calls = []

    def counting_warp(source, f, mode="bilinear"):
        calls.append(tuple(source.shape[-2:]))
        return warp(source, f, mode)

    monkeypatch.setattr(network, "warp", counting_warp)
    out = gen(parsing, flow, visibility, appearance=appearance)["foreground"]
    assert calls == [(16, 20), (8, 10), (4, 5)]
    moved = gen(parsing, flow + 2.0, visibility, appearance=appearance)["foreground"]
    assert (moved - out).abs().max() > 1e-4
    with pytest.raises(ValueError, match="flow and visibility"):
        gen(parsing, appearance=appearance)


def test_without_flow_the_warp_is_not_used(monkeypatch):
    """The ablation "w/o appearance flow": no warp blocks, no warping, the flow does not matter."""
    parsing, flow, visibility, appearance = _inputs()
    gen = _generator(use_flow=False)
    assert gen.warp_blocks is None
    assert not any(isinstance(m, FlowWarpBlock) for m in gen.modules())

    def no_warp(*args, **kwargs):
        raise AssertionError("warp called without use_flow")

    monkeypatch.setattr(network, "warp", no_warp)
    without = gen(parsing, appearance=appearance)["foreground"]
    ignored = gen(parsing, flow, visibility, appearance=appearance)["foreground"]
    assert without.shape == (2, 3, 16, 20)
    torch.testing.assert_close(without, ignored)
    assert sum(p.numel() for p in gen.parameters()) < sum(p.numel() for p in _generator().parameters())


def test_warp_block_is_the_warped_feature_plus_a_residual():
    """With a silenced refinement the block returns exactly the feature warped by the resized flow."""
    torch.manual_seed(0)
    block = FlowWarpBlock(3, norm="none")
    torch.nn.init.zeros_(block.body[1][0].weight)
    torch.nn.init.zeros_(block.body[1][0].bias)
    feature = torch.randn(1, 3, 6, 8)
    flow = identity_flow(2, 12, 16) + torch.tensor([2.0, -1.0]).view(1, 2, 1, 1)
    visibility = torch.rand(2, 3, 12, 16).softmax(dim=1)
    expected = warp(feature.expand(2, -1, -1, -1), resize_flow(flow, 6, 8))
    torch.testing.assert_close(block(feature, flow, visibility), expected)


def test_warp_block_gradcheck_float64():
    """Gradients reach the appearance feature, the flow and the visibility split."""
    torch.manual_seed(0)
    block = FlowWarpBlock(2, norm="instance").double()
    feature = torch.randn(1, 2, 4, 4, dtype=torch.float64, requires_grad=True)
    # Non-integer positions keep bilinear sampling differentiable where gradcheck probes it.
    flow = (identity_flow(1, 8, 8, dtype=torch.float64) + 0.37 + 0.5 * torch.rand(1, 2, 8, 8, dtype=torch.float64))
    flow.requires_grad_()
    visibility = torch.rand(1, 3, 8, 8, dtype=torch.float64).softmax(dim=1).requires_grad_()
    assert torch.autograd.gradcheck(block, (feature, flow, visibility), eps=1e-6, atol=1e-5)


def test_discriminator_is_conditional_and_multiscale():
    torch.manual_seed(0)
    disc = ForegroundDiscriminator(**asdict(ForegroundDiscriminatorConfig(ndf=4, n_layers=2, num_d=3)))
    assert disc.discriminator.scales[0].net[0].in_channels == 3 + NUM_LABELS + 3
    parsing, _, _, appearance = _inputs(h=32, w=32)
    fake = torch.rand(2, 3, 32, 32) * 2 - 1
    out = disc(appearance, parsing, fake)
    assert set(out) == {"logits"} and len(out["logits"]) == 3
    assert [tuple(x.shape) for x in out["logits"]] == [(2, 1, 11, 11), (2, 1, 7, 7), (2, 1, 5, 5)]
    # The condition matters: another appearance changes the verdict on the same foreground.
    other = disc(-appearance, parsing, fake)["logits"][0]
    assert (other - out["logits"][0]).abs().max() > 1e-5


@pytest.mark.slow
def test_paper_configuration_at_448():
    gen = ForegroundGenerator(**asdict(ForegroundGeneratorConfig())).eval()
    disc = ForegroundDiscriminator(**asdict(ForegroundDiscriminatorConfig())).eval()
    parsing = torch.rand(1, NUM_LABELS, 448, 448).softmax(dim=1)
    flow = identity_flow(1, 448, 448)
    visibility = torch.rand(1, 3, 448, 448).softmax(dim=1)
    appearance = torch.rand(1, 3, 448, 448) * 2 - 1
    with torch.inference_mode():
        features = gen.encode_appearance(appearance)
        out = gen(parsing, flow, visibility, appearance_features=features)
        logits = disc(appearance, parsing, out["foreground"])["logits"]
    assert [tuple(f.shape[1:]) for f in features] == [(64, 448, 448), (128, 224, 224), (256, 112, 112),
                                                      (512, 56, 56), (512, 28, 28)]
    assert out["foreground"].shape == (1, 3, 448, 448)
    assert torch.isfinite(out["foreground"]).all()
    assert [tuple(x.shape) for x in logits] == [(1, 1, 59, 59), (1, 1, 31, 31)]


def test_pixel_blend_weight_and_the_blend_learns_to_keep_the_warped_pixels():
    parsing, flow, visibility, appearance = _inputs()
    generator = _generator(pixel_blend=True).train()
    out = generator(parsing, flow, visibility, appearance=appearance)
    assert set(out) == {"foreground", "blend"}
    assert out["blend"].shape == (2, 1, 16, 20) and 0 <= out["blend"].min() and out["blend"].max() <= 1
    # When the warped appearance is the truth, training on the blended output drives m towards 1.
    warped = warp(appearance.expand(2, -1, -1, -1), flow)
    optimizer = torch.optim.Adam(generator.parameters(), lr=1e-2)
    for _ in range(25):
        out = generator(parsing, flow, visibility, appearance=appearance)
        loss = (network.blend_with_warp(out["foreground"], warped, out["blend"]) - warped).abs().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert out["blend"].mean() > 0.8


def test_blend_with_warp_is_the_convex_mix():
    fg, warped = torch.zeros(1, 3, 4, 4), torch.ones(1, 3, 4, 4)
    m = torch.linspace(0, 1, 16).view(1, 1, 4, 4)
    torch.testing.assert_close(network.blend_with_warp(fg, warped, m), m.expand(1, 3, 4, 4))


def test_pixel_blend_needs_the_flow():
    with pytest.raises(ValueError, match="needs use_flow"):
        _generator(pixel_blend=True, use_flow=False)
