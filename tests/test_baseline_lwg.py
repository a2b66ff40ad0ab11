"""The Liquid Warping GAN baseline (paper IV-A2, [28]): the paper configuration's shapes at 448, the Liquid
Warping Blocks, the streams' inputs, the losses."""

from dataclasses import asdict

import pytest
import torch

from cpfnet.baselines.lwg.inputs import dilate, source_inputs, transfer_input
from cpfnet.baselines.lwg.losses import LiquidWarpingLossConfig, liquid_warping_generator_loss, total_variation
from cpfnet.baselines.lwg.network import (LiquidWarpingDiscriminator, LiquidWarpingDiscriminatorConfig,
                                          LiquidWarpingGenerator, LiquidWarpingGeneratorConfig, compose)
from cpfnet.ops.warp import identity_flow


def _params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_paper_scale_shapes_at_448():
    """LWG's streams: ngf 64, 3 downsamplings (512 channels at 56 x 56), 6 residual blocks each."""
    with torch.device("meta"):
        g = LiquidWarpingGenerator(**asdict(LiquidWarpingGeneratorConfig()))
        d = LiquidWarpingDiscriminator(**asdict(LiquidWarpingDiscriminatorConfig()))
        source = g.encode_source(torch.empty(1, 39, 448, 448))
        out = g.transfer(torch.empty(2, 39, 448, 448), source, torch.empty(2, 2, 448, 448))
        background = g.background(torch.empty(1, 4, 448, 448))
        logits = d(torch.empty(2, 36, 448, 448), out["color"])["logits"]
    assert [tuple(f.shape[1:]) for f in source["encoded"]] == [(64, 448, 448), (128, 224, 224), (256, 112, 112),
                                                                (512, 56, 56)]
    assert len(source["blocks"]) == 6 and source["blocks"][0].shape == (1, 512, 56, 56)
    assert out["color"].shape == (2, 3, 448, 448) and out["mask"].shape == (2, 1, 448, 448)
    assert background.shape == (1, 3, 448, 448)
    assert [tuple(x.shape) for x in logits] == [(2, 1, 31, 31)]
    assert 97e6 < _params(g) < 98e6 and 6.9e6 < _params(d) < 7.1e6


def test_liquid_warping_blocks_carry_the_source_features_along_the_flow():
    torch.manual_seed(0)
    g = LiquidWarpingGenerator(ngf=4, n_downsample=2, n_blocks=1).eval()
    tsf, flow = torch.rand(2, 39, 16, 16), identity_flow(2, 16, 16)
    one, other = g.encode_source(torch.rand(1, 39, 16, 16)), g.encode_source(torch.rand(1, 39, 16, 16))
    assert not torch.allclose(g.transfer(tsf, one, flow)["color"], g.transfer(tsf, other, flow)["color"])
    # A flow that points outside I_a everywhere carries nothing: the source no longer matters.
    away = flow - 1000
    assert torch.equal(g.transfer(tsf, one, away)["color"], g.transfer(tsf, other, away)["color"])
    zero = {k: [torch.zeros_like(f) for f in v] for k, v in one.items()}
    assert torch.equal(g.transfer(tsf, one, away)["color"], g.transfer(tsf, zero, flow)["color"])
    out = g(torch.rand(1, 4, 16, 16), torch.rand(1, 39, 16, 16), tsf, flow)
    assert out["source_color"].shape == (1, 3, 16, 16) and out["transfer_mask"].shape == (2, 1, 16, 16)
    assert 0 < out["transfer_mask"].min() and out["transfer_mask"].max() < 1
    with pytest.raises(ValueError, match="multiple of 4"):
        g.background(torch.rand(1, 4, 18, 18))
    with pytest.raises(ValueError, match="flow must be"):
        g.transfer(tsf, one, identity_flow(1, 16, 16))


def test_stream_inputs():
    appearance = torch.rand(1, 3, 12, 12) * 2 - 1
    mask = torch.zeros(1, 1, 12, 12)
    mask[..., 4:8, 5:7] = 1
    ins = source_inputs(appearance, mask, torch.rand(1, 35, 12, 12), margin=1)
    assert ins["background_input"].shape == (1, 4, 12, 12) and ins["source_input"].shape == (1, 39, 12, 12)
    background_mask = ins["background_mask"]
    assert background_mask.sum() == 144 - 6 * 4  # the person grown by one pixel on every side
    assert torch.equal(background_mask, 1 - dilate(mask, 1)) and torch.equal(dilate(mask, 0), mask)
    assert (ins["background_input"][:, :3] * (1 - background_mask) == 0).all()
    assert torch.equal(ins["foreground"], appearance * mask)
    frame_mask = torch.ones(2, 1, 12, 12)
    t = transfer_input(ins["foreground"], torch.rand(2, 35, 12, 12), identity_flow(2, 12, 12), frame_mask)
    assert t.shape == (2, 39, 12, 12) and torch.allclose(t[:, :3], ins["foreground"].expand(2, -1, -1, -1), atol=1e-6)
    with pytest.raises(ValueError, match="must match the pose maps"):
        transfer_input(ins["foreground"], torch.rand(2, 35, 12, 12), identity_flow(1, 12, 12), frame_mask)


def test_losses():
    torch.manual_seed(0)
    image, mask = torch.rand(2, 3, 8, 8), (torch.rand(2, 1, 8, 8) > 0.5).float()
    outputs = {"source": image, "appearance": image, "fake": image, "target": image, "source_mask": mask,
               "transfer_mask": mask, "appearance_person": mask, "frame_person": mask}
    config = LiquidWarpingLossConfig(adversarial_weight=0, perceptual_weight=0)
    terms = liquid_warping_generator_loss(outputs, None, None, config)
    assert set(terms) == {"reconstruction", "mask", "mask_smooth"}
    assert terms["reconstruction"] == 0 and terms["mask"] == 0
    assert terms["mask_smooth"] == pytest.approx(2e-5 * total_variation(mask).item())
    assert total_variation(torch.ones(1, 1, 4, 4)) == 0
    with pytest.raises(ValueError, match="needs the discriminator"):
        liquid_warping_generator_loss(outputs, None, None, LiquidWarpingLossConfig(perceptual_weight=0))
    assert torch.equal(compose(image, torch.ones(2, 1, 8, 8), image[:1] * 0), image)
