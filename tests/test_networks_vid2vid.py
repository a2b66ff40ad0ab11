"""vid2vid and few-shot vid2vid networks (paper IV-A2): paper-scale shapes at 448 (meta tensors), the flow
warp, the mask composition, the video discriminator's windows, the weight generation and the attention."""

from dataclasses import asdict

import pytest
import torch
from torch import nn

from cpfnet.baselines.fewshot_vid2vid.network import FewShotVid2VidGenerator, FewShotVid2VidGeneratorConfig
from cpfnet.baselines.fewshot_vid2vid.spade import SPADE
from cpfnet.baselines.fewshot_vid2vid.weight_generation import ExampleAttention
from cpfnet.baselines.vid2vid.losses import Vid2VidLossConfig, temporal_discriminator_loss, warp_loss
from cpfnet.baselines.vid2vid.network import (TemporalDiscriminator, TemporalDiscriminatorConfig, Vid2VidGenerator,
                                              Vid2VidGeneratorConfig, temporal_span, warp_by_offset)
from cpfnet.ops.warp import warp


def _inputs(b=2, s=32, L=2, k=None, seed=0):
    g = torch.Generator().manual_seed(seed)
    shape = (b, 3, s, s) if k is None else (b, k, 3, s, s)
    pose_shape = (b, 35, s, s) if k is None else (b, k, 35, s, s)
    return (torch.rand(b, 35, s, s, generator=g), torch.rand(b, L, 35, s, s, generator=g),
            torch.rand(b, L, 3, s, s, generator=g) * 2 - 1, torch.rand(*shape, generator=g) * 2 - 1,
            torch.rand(*pose_shape, generator=g))


def test_vid2vid_paper_scale_at_448():
    """vid2vid's composite generator at ngf 128, 3 downsamplings (1024 channels at 56 x 56), 9 blocks split
    5 per encoder + 4 per decoder branch; D_I and D_V at vid2vid's widths."""
    with torch.device("meta"):
        g = Vid2VidGenerator(**asdict(Vid2VidGeneratorConfig()))
        d_v = TemporalDiscriminator(**asdict(TemporalDiscriminatorConfig()))
        seen = {}
        g.semantic_encoder.register_forward_hook(lambda m, i, o: seen.update(bottleneck=o.shape))
        out = g(*_inputs(1, 448)[:4])
        logits = d_v(torch.empty(1, 7, 35, 448, 448), torch.empty(1, 7, 3, 448, 448))["logits"]
    assert g.semantic_encoder[0][0].in_channels == 3 * 35 + 3 and g.image_encoder[0][0].in_channels == 2 * 3
    assert seen["bottleneck"] == (1, 1024, 56, 56)
    blocks = {name: sum(type(m).__name__ == "ResidualBlock" for m in getattr(g, name).modules())
              for name in ("semantic_encoder", "image_encoder", "image_decoder", "flow_decoder")}
    assert blocks == {"semantic_encoder": 5, "image_encoder": 5, "image_decoder": 4, "flow_decoder": 4}
    assert {k: tuple(v.shape) for k, v in out.items()} == {
        "frame": (1, 3, 448, 448), "hallucinated": (1, 3, 448, 448), "warped": (1, 3, 448, 448),
        "flow": (1, 2, 448, 448), "mask": (1, 1, 448, 448)}
    # 2 temporal scales x 2 spatial scales; 5 windows of 3 consecutive frames, 1 window of frames 0, 3, 6.
    assert [tuple(x.shape) for x in logits] == [(5, 1, 59, 59), (5, 1, 31, 31), (1, 1, 59, 59), (1, 1, 31, 31)]
    assert d_v.scales[0].scales[0].net[0].in_channels == 3 * (35 + 3)
    assert 364e6 < sum(p.numel() for p in g.parameters()) < 367e6


def test_fewshot_paper_scale_at_448():
    """The released pose model's widths: ngf 32, 5 downsamplings to 14 x 14 with 1024 channels, SPADE weights
    generated for the 4 finest of 6 blocks, attention at 112 x 112, one flow network for example and previous."""
    with torch.device("meta"):
        g = FewShotVid2VidGenerator(**asdict(FewShotVid2VidGeneratorConfig()))
        pose, prev_pose, prev, app, app_pose = _inputs(1, 448, L=1)
        seen = {}
        g.blocks[5].register_forward_hook(lambda m, i, o: seen.update(bottom=i[0].shape))
        g.attention.query.register_forward_hook(lambda m, i, o: seen.update(attention=o.shape))
        out = g(pose, prev_pose, prev, app, app_pose)
    assert g.ch == [32, 64, 128, 256, 512, 1024, 1024]
    assert seen["bottom"] == (1, 1024, 14, 14) and seen["attention"] == (1, 128, 112, 112)
    adaptive = [i for i, block in enumerate(g.blocks) if block.norm_0.adaptive]
    assert adaptive == [0, 1, 2, 3] and len(g.weight_generators) == 4
    assert g.reference_flow is None  # L = 1: the previous frame's flow network serves the example
    assert set(out) == {"frame", "hallucinated", "warped", "flow", "mask", "reference_warped", "reference_flow",
                        "reference_mask"}
    assert all(v.shape[-2:] == (448, 448) for v in out.values())
    assert 83e6 < sum(p.numel() for p in g.parameters()) < 85e6


def test_warp_by_offset():
    image = torch.rand(1, 3, 8, 8)
    assert torch.allclose(warp_by_offset(image, torch.zeros(1, 2, 8, 8)), image, atol=1e-6)
    offset = torch.zeros(1, 2, 8, 8)
    offset[:, 0] = 2.0  # sample two pixels to the right
    moved = warp_by_offset(image, offset)
    assert torch.allclose(moved[..., :6], image[..., 2:], atol=1e-6)
    assert torch.allclose(moved[..., 6:], image[..., 7:].expand(-1, -1, -1, 2), atol=1e-6)  # border repeated
    with pytest.raises(ValueError, match="offset must be"):
        warp_by_offset(image, torch.zeros(1, 2, 4, 4))
    # Inside the image it is the absolute-flow warp of cpfnet.ops.warp.
    from cpfnet.ops.warp import identity_flow
    small = torch.rand(1, 2, 8, 8) - 0.5
    assert torch.allclose(warp_by_offset(image, small)[..., 1:-1, 1:-1],
                          warp(image, identity_flow(1, 8, 8) + small)[..., 1:-1, 1:-1], atol=1e-5)


def test_vid2vid_composes_the_warped_previous_frame_and_the_hallucination():
    torch.manual_seed(0)
    g = Vid2VidGenerator(ngf=4, n_downsample=2, n_blocks=2)
    pose, prev_pose, prev, app, _ = _inputs()
    out = g(pose, prev_pose, prev, app[:1])  # batch-1 I_a serves the batch
    m = out["mask"]
    assert torch.allclose(out["frame"], m * out["hallucinated"] + (1 - m) * out["warped"], atol=1e-6)
    assert torch.allclose(out["warped"], warp_by_offset(prev[:, -1], out["flow"]), atol=1e-6)
    assert 0 < m.min() and m.max() < 1
    # The flow branch sees the previous frames: they change it.
    changed = g(pose, prev_pose, -prev, app[:1])
    assert not torch.allclose(changed["flow"], out["flow"])


def test_vid2vid_checks_its_inputs():
    g = Vid2VidGenerator(previous_frames=2, ngf=4, n_downsample=2, n_blocks=1)
    pose, prev_pose, prev, app, _ = _inputs(s=16)
    with pytest.raises(ValueError, match=r"previous must be \[B, 2, 3, 16, 16\]"):
        g(pose, prev_pose, prev[:, :1], app)
    with pytest.raises(ValueError, match="previous_pose_maps must be"):
        g(pose, None, prev, app)
    with pytest.raises(ValueError, match="multiple of 4"):
        g(*_inputs(s=18)[:4])
    with pytest.raises(ValueError, match="at least 1 previous frame"):
        Vid2VidGenerator(previous_frames=0)


def test_video_discriminator_windows():
    d = TemporalDiscriminator(pose_channels=1, frames=3, temporal_scales=2, ndf=4, n_layers=1, num_d=1)
    clip = torch.arange(8.0).view(1, 8, 1, 1, 1).expand(2, 8, 1, 2, 2)
    first = d.windows(clip, 0)
    assert first.shape == (2 * 6, 3, 2, 2) and first[:6, :, 0, 0].tolist() == [[s, s + 1, s + 2] for s in range(6)]
    coarse = d.windows(clip, 1)
    assert coarse[:2, :, 0, 0].tolist() == [[0, 3, 6], [1, 4, 7]]
    assert temporal_span(3, 2) == 7 == d.span and temporal_span(2, 1) == 2
    with pytest.raises(ValueError, match="at least 7 frames"):
        d(torch.zeros(1, 6, 1, 8, 8), torch.zeros(1, 6, 3, 8, 8))


def test_video_losses():
    config = Vid2VidLossConfig()
    real, fake = [torch.full((2, 1, 3, 3), 5.0)], [torch.full((2, 1, 3, 3), -5.0)]
    terms = temporal_discriminator_loss(real, fake, config)
    assert set(terms) == {"dt_real", "dt_fake"} and max(float(v) for v in terms.values()) < 0.01
    image = torch.rand(1, 3, 8, 8)
    offset = torch.zeros(1, 2, 8, 8)
    offset[:, 0] = 1.0
    shifted = warp_by_offset(image, offset)
    assert float(warp_loss(offset, image, shifted)) < 1e-6 < float(warp_loss(torch.zeros_like(offset), image, shifted))


def _tiny_fewshot(**kw):
    args = dict(ngf=8, n_downsample=3, n_adaptive_layers=2, n_fc_layers=1, attention_downsample=2, flow_ngf=8,
                flow_downsample=2, flow_blocks=1)
    return FewShotVid2VidGenerator(**{**args, **kw})


def test_fewshot_composes_example_and_previous_frame():
    torch.manual_seed(0)
    g = _tiny_fewshot()
    pose, prev_pose, prev, app, app_pose = _inputs(L=1)
    out = g(pose, prev_pose, prev, app, app_pose)
    me, mp = out["reference_mask"], out["mask"]
    x_r = me * out["hallucinated"] + (1 - me) * out["reference_warped"]
    assert torch.allclose(out["frame"], mp * x_r + (1 - mp) * out["warped"], atol=1e-6)
    assert torch.allclose(out["reference_warped"], warp_by_offset(app, out["reference_flow"]), atol=1e-6)
    plain = _tiny_fewshot(warp_reference=False)(pose, prev_pose, prev, app, app_pose)
    assert "reference_warped" not in plain
    with pytest.raises(ValueError, match="example's pose maps"):
        g(pose, prev_pose, prev, app)


def test_generated_spade_weights_come_from_the_example():
    """theta_H depends on the example only through E: two examples give two sets of SPADE weights, and the
    adaptive layers have no modulation parameters of their own."""
    torch.manual_seed(0)
    g = _tiny_fewshot(attention=False)
    assert not hasattr(g.blocks[0].norm_0, "gamma") and hasattr(g.blocks[3].norm_0, "gamma")
    pose, _, _, app, app_pose = _inputs(L=1)
    encoded = g.encode_example(app[:, None], app_pose[:, None], pose)
    gamma_w, gamma_b, beta_w, beta_b = encoded["weights"][0]["0"]
    assert gamma_w.shape == (2, g.ch[1], g.ch[0]) and gamma_b.shape == (2, g.ch[1])
    assert not torch.allclose(gamma_w[0], gamma_w[1])  # per example
    # The SPADE layer applies them as a per-sample 1x1 convolution.
    spade = SPADE(3, 4, adaptive=True)
    x, e = torch.rand(2, 3, 5, 5), torch.rand(2, 4, 5, 5)
    w = torch.rand(2, 3, 4), torch.rand(2, 3), torch.rand(2, 3, 4), torch.rand(2, 3)
    gamma = nn.functional.conv2d(e[1:], w[0][1][..., None, None], w[1][1])
    beta = nn.functional.conv2d(e[1:], w[2][1][..., None, None], w[3][1])
    expected = nn.functional.instance_norm(x[1:]) * (1 + gamma) + beta
    assert torch.allclose(spade(x, e, w)[1:], expected, atol=1e-5)
    with pytest.raises(ValueError, match="generated"):
        spade(x, e)


def test_attention_over_examples():
    torch.manual_seed(0)
    attention = ExampleAttention(35, [4, 8, 16], 2, "instance")
    pose, example_poses = torch.rand(2, 35, 16, 16), torch.rand(2 * 3, 35, 16, 16)
    weights = attention.weights(pose, example_poses, 3)
    assert weights.shape == (2, 3 * 16, 16)  # 3 examples x 4x4 positions, for each of 4x4 query positions
    assert torch.allclose(weights.sum(1), torch.ones(2, 16), atol=1e-5)
    features = torch.rand(2 * 3, 5, 4, 4)
    mixed = ExampleAttention.attend(features, weights)
    expected = torch.einsum("bkcq,bkqp->bcp", features.view(2, 3, 5, 16), weights.view(2, 3, 16, 16))
    assert torch.allclose(mixed.flatten(2), expected, atol=1e-5)
    # K = 2 examples through the whole generator; the example the attention favours is warped.
    g = _tiny_fewshot()
    p, prev_pose, prev, app, app_pose = _inputs(L=1, k=2)
    out = g(p, prev_pose, prev, app, app_pose)
    assert out["frame"].shape == (2, 3, 32, 32)


def test_fewshot_every_block_adaptive():
    """n_adaptive_layers = n_downsample + 1 generates the weights of every SPADE block, the bottleneck's too. That
    block's input is the bottleneck itself (ch[n + 1] == ch[n]), so its input-side weights come from the pooled
    bottleneck features q_n, as the released model takes the last level for them."""
    torch.manual_seed(0)
    g = _tiny_fewshot(n_adaptive_layers=4)
    assert not any(hasattr(block.norm_0, "gamma") for block in g.blocks)
    pose, prev_pose, prev, app, app_pose = _inputs(L=1)
    encoded = g.encode_example(app[:, None], app_pose[:, None], pose)
    assert len(encoded["weights"]) == 4
    gamma_w = encoded["weights"][3]["0"][0]
    assert gamma_w.shape == (2, g.ch[3], g.ch[3]) and not torch.allclose(gamma_w[0], gamma_w[1])
    out = g(pose, prev_pose, prev, app, app_pose)
    out["hallucinated"].sum().backward()
    assert out["frame"].shape == (2, 3, 32, 32)
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in g.weight_generators[3].parameters())
    with pytest.raises(ValueError, match="n_adaptive_layers must be 0..4"):
        _tiny_fewshot(n_adaptive_layers=5)
