"""The stage chain (cpfnet.stages.chain): stages 1 -> 2a -> 2b as the networks compute them, teacher forcing,
the ablation without flow, and x^{t-1} (the fusion network's previous frame) moved between crop boxes."""

import numpy as np
import pytest
import torch

from cpfnet.body.pose_maps import render_pose_maps
from cpfnet.dataset.readers import Clips
from cpfnet.ops.crop import crop_box, move_crop
from cpfnet.ops.foreground import one_hot_parsing, person_mask
from cpfnet.stages.chain import Appearance, previous_frame, run_stages
from cpfnet.stages.flow.network import FlowRegressor
from cpfnet.stages.foreground.network import ForegroundGenerator
from cpfnet.stages.fusion.network import compose
from cpfnet.stages.parsing.network import ParsingGenerator
from cpfnet.timing import Timings

S = 16


def tiny_stages(use_flow: bool = True, seed: int = 0):
    """Random tiny stage networks, eval mode; the flow head is not left at its zero init (identity flow), so
    the flow depends on the poses."""
    torch.manual_seed(seed)
    parsing = ParsingGenerator(ngf=8, n_downsample=2, n_blocks=1)
    flow = FlowRegressor(channels=(8, 16, 16)) if use_flow else None
    if flow is not None:
        torch.nn.init.normal_(flow.flow_head.weight, std=0.02)
    foreground = ForegroundGenerator(channels=(8, 16, 16), use_flow=use_flow)
    return [None if m is None else m.eval().requires_grad_(False) for m in (parsing, flow, foreground)]


def _inputs(n: int = 3):
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, 20, (1, S, S), generator=g)
    poses = torch.rand(n + 1, 18, 3, generator=g) * torch.tensor([S, S, 1.0])
    poses[..., 2] = 1
    maps = render_pose_maps(poses, S, S, 1.5)
    image = torch.rand(1, 3, S, S, generator=g) * 2 - 1
    return one_hot_parsing(ids), maps[:1], maps[1:], image


def test_run_stages_is_the_three_networks_in_order():
    parsing_net, flow_net, fg_net = tiny_stages()
    app_parsing, app_maps, maps, image = _inputs()
    timings = Timings()
    with torch.inference_mode():
        made = run_stages(parsing_net, flow_net, fg_net, Appearance(app_parsing, app_maps, image=image), maps,
                          timings=timings)
        x_parsing = parsing_net(app_parsing.expand(3, -1, -1, -1), maps)["probs"]
        flow = flow_net(app_maps.expand(3, -1, -1, -1), maps)
        fg = fg_net(x_parsing, flow["flow"], flow["visibility"], appearance=image.expand(3, -1, -1, -1))["foreground"]
        encoded = run_stages(parsing_net, flow_net, fg_net,
                             Appearance(app_parsing, app_maps, features=fg_net.encode_appearance(image)), maps)
    torch.testing.assert_close(made["parsing"], x_parsing)
    torch.testing.assert_close(made["flow"], flow["flow"])
    torch.testing.assert_close(made["visibility"], flow["visibility"])
    torch.testing.assert_close(made["foreground"], fg)
    torch.testing.assert_close(encoded["foreground"], fg)  # I_a encoded once gives the same
    assert list(timings.seconds) == ["parsing", "flow", "foreground"]
    assert not torch.allclose(made["flow"][0], made["flow"][1])  # the flow depends on each frame's pose


def test_teacher_forcing_and_no_flow():
    _, _, fg_net = tiny_stages(use_flow=False)
    app_parsing, _, maps, image = _inputs()
    truth = one_hot_parsing(torch.randint(0, 20, (3, S, S)))
    made = run_stages(None, None, fg_net, Appearance(image=image), maps, parsing=truth)
    assert made["parsing"] is truth and made["flow"] is None and made["visibility"] is None
    torch.testing.assert_close(made["foreground"], fg_net(truth, appearance=image.expand(3, -1, -1, -1))["foreground"])
    with pytest.raises(ValueError, match="stage 1 needs"):
        run_stages(None, None, fg_net, Appearance(image=image), maps)


def test_stage_2b_trains_through_the_chain_and_stages_1_2a_do_not():
    parsing_net, flow_net, fg_net = tiny_stages()
    fg_net.train().requires_grad_(True)
    app_parsing, app_maps, maps, image = _inputs()
    made = run_stages(parsing_net.requires_grad_(True), flow_net, fg_net,
                      Appearance(app_parsing, app_maps, image=image), maps)
    made["foreground"].mean().backward()
    assert all(p.grad is not None for p in fg_net.parameters() if p.requires_grad)
    assert all(p.grad is None for p in parsing_net.parameters())
    assert not made["parsing"].requires_grad


def test_the_first_previous_frame_is_the_plain_overlay():
    g = torch.Generator().manual_seed(2)
    fg, bg = torch.rand(2, 3, S, S, generator=g), torch.rand(2, 3, S, S, generator=g)
    ids = torch.randint(0, 3, (2, S, S), generator=g)
    torch.testing.assert_close(previous_frame(None, fg, bg, ids), compose(fg, bg, person_mask(ids)))
    last = torch.rand(2, 3, S, S, generator=g)
    boxes = torch.tensor([[0.0, 0, 32, 32], [5.0, 5, 37, 37]], dtype=torch.float64)
    assert previous_frame(last, fg, bg, ids, boxes, boxes.clone()) is last  # a fixed crop moves nothing


def test_the_previous_output_moves_into_the_current_crop():
    """The crop follows the dancer: x^{t-1} must show the same photo pixels in the new crop, with the new
    crop's background where the old crop does not reach (what cutting the pasted full-size frame gives)."""
    rng = np.random.default_rng(3)
    photo = rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)
    old, new = (10.0, 6.0, 42.0, 38.0), (14.0, 4.0, 46.0, 36.0)  # 32 px boxes, crops at S=16: 2 px -> 1 px
    last = torch.from_numpy(crop_box(photo, old, S)).permute(2, 0, 1)[None].float()
    background = torch.full((1, 3, S, S), -7.0)
    moved = previous_frame(last, last, background, None, torch.tensor([old]), torch.tensor([new]))
    want = move_crop(crop_box(photo, old, S), old, new, S).astype(np.float32)
    got = moved[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(got[1:, :14], want[1:, :14], atol=0.51)  # inside both crops
    np.testing.assert_allclose(got[0], -7.0)  # above the old crop: the current background
    np.testing.assert_allclose(got[:, 14:], -7.0)
    # Gradients reach the previous output (training backpropagates through the clip).
    last.requires_grad_(True)
    previous_frame(last, last, background, None, torch.tensor([old]), torch.tensor([new])).sum().backward()
    assert last.grad.abs().sum() > 0


def test_fusion_clips_carry_each_frames_crop_box(shapes_dataset):
    clip = Clips(shapes_dataset, length=3)[1]
    assert clip["boxes"].shape == (3, 4) and clip["boxes"].dtype == torch.float64
    np.testing.assert_array_equal(clip["boxes"].numpy(), [[0, 0, 64, 64]] * 3)


def test_a_flow_network_with_the_geometric_prior_gets_it_from_the_keypoints():
    from cpfnet.stages.flow.prior import geometric_prior

    parsing_net, _, fg_net = tiny_stages()
    torch.manual_seed(3)
    flow_net = FlowRegressor(channels=(8, 16, 16), geometric_prior=True).eval().requires_grad_(False)
    app_parsing, app_maps, maps, image = _inputs()
    g = torch.Generator().manual_seed(4)
    app_pose, poses = torch.rand(1, 18, 3, generator=g) * S, torch.rand(3, 18, 3, generator=g) * S
    app_pose[..., 2], poses[..., 2] = 1, 1
    made = run_stages(parsing_net, flow_net, fg_net, Appearance(app_parsing, app_maps, app_pose, image=image), maps,
                      poses=poses)
    want = flow_net(app_maps.expand(3, -1, -1, -1), maps, prior=geometric_prior(app_pose, poses, S))
    torch.testing.assert_close(made["flow"], want["flow"])
    with pytest.raises(ValueError, match="geometric prior"):
        run_stages(parsing_net, flow_net, fg_net, Appearance(app_parsing, app_maps, image=image), maps)
