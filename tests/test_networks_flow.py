"""Stage 2a network: FlowRegressor shapes, identity flow at initialisation, errors."""

from dataclasses import asdict

import pytest
import torch

from cpfnet.body.pose_maps import POSE_CHANNELS
from cpfnet.ops.warp import identity_flow
from cpfnet.stages.flow import VISIBILITY_CLASSES, FlowRegressor, FlowRegressorConfig

TINY = FlowRegressorConfig(channels=(4, 8, 8))


def test_tiny_shapes_and_identity_at_init():
    torch.manual_seed(0)
    net = FlowRegressor(**asdict(TINY))
    out = net(torch.rand(2, POSE_CHANNELS, 20, 28), torch.rand(2, POSE_CHANNELS, 20, 28))
    assert set(out) == {"flow", "visibility_logits", "visibility"}
    assert out["flow"].shape == (2, 2, 20, 28)
    assert out["visibility_logits"].shape == out["visibility"].shape == (2, VISIBILITY_CLASSES, 20, 28)
    # The flow head starts at zero displacement: every pixel samples itself.
    torch.testing.assert_close(out["flow"], identity_flow(2, 20, 28))
    torch.testing.assert_close(out["visibility"].sum(dim=1), torch.ones(2, 20, 28))


@pytest.mark.parametrize("prior", [False, True])
def test_the_appearance_encoded_once_gives_the_same_flow(prior):
    """The appearance pose maps' share of the first convolution, computed once for a batch of frames, is the
    network run on all its inputs concatenated (with the geometric prior's channels after them too)."""
    torch.manual_seed(0)
    net = FlowRegressor(**{**asdict(TINY), "geometric_prior": prior}).eval()
    torch.nn.init.normal_(net.flow_head.weight, std=0.1)  # a zero head would hide the trunk
    appearance, maps = torch.rand(1, POSE_CHANNELS, 20, 28), torch.rand(3, POSE_CHANNELS, 20, 28)
    extra = {"prior": {"flow": identity_flow(3, 20, 28) + torch.randn(3, 2, 20, 28),
                       "visibility": torch.rand(3, VISIBILITY_CLASSES, 20, 28)}} if prior else {}
    with torch.inference_mode():
        whole = net(appearance.expand(3, -1, -1, -1), maps, **extra)
        encoded = net(None, maps, appearance_encoded=net.encode_appearance(appearance), **extra)
    # Sums in another order: float32 rounding, times the image size for the flow (pixels).
    torch.testing.assert_close(encoded["flow"], whole["flow"], atol=1e-3, rtol=1e-5)
    torch.testing.assert_close(encoded["visibility"], whole["visibility"], atol=1e-5, rtol=1e-4)
    assert not torch.allclose(whole["flow"][0], whole["flow"][1])


def test_displacement_is_in_image_units():
    """The same head output moves the flow by the same fraction of the image at any size."""
    torch.manual_seed(0)
    net = FlowRegressor(**asdict(TINY))
    torch.nn.init.constant_(net.flow_head.bias, 0.25)
    for size in (16, 32):
        out = net(torch.rand(1, POSE_CHANNELS, size, size), torch.rand(1, POSE_CHANNELS, size, size))
        displacement = out["flow"] - identity_flow(1, size, size)
        torch.testing.assert_close(displacement, torch.full_like(displacement, 0.25 * size))


def test_channels_may_be_a_yaml_list():
    net = FlowRegressor(**{**asdict(TINY), "channels": [4, 8]})  # a YAML list works as well as a tuple
    assert len(net.encoder.levels) == 2


def test_rejects_wrong_inputs():
    net = FlowRegressor(**asdict(TINY))
    with pytest.raises(ValueError, match="pose maps"):
        net(torch.rand(1, POSE_CHANNELS, 16, 16), torch.rand(1, POSE_CHANNELS, 16, 8))


@pytest.mark.slow
def test_paper_configuration_at_448():
    net = FlowRegressor(**asdict(FlowRegressorConfig())).eval()
    assert len(net.encoder.levels) == 5
    with torch.inference_mode():
        out = net(torch.rand(1, POSE_CHANNELS, 448, 448), torch.rand(1, POSE_CHANNELS, 448, 448))
    assert out["flow"].shape == (1, 2, 448, 448)
    assert out["visibility_logits"].shape == out["visibility"].shape == (1, 3, 448, 448)
    assert torch.isfinite(out["flow"]).all()


def _prior(batch: int, size: int) -> dict:
    torch.manual_seed(3)
    return {"flow": identity_flow(batch, size, size) + 2.0 * torch.randn(batch, 2, size, size),
            "visibility": torch.rand(batch, 3, size, size).softmax(dim=1)}


def test_geometric_prior_is_the_flow_at_init_and_the_network_learns_a_correction():
    torch.manual_seed(0)
    net = FlowRegressor(**{**asdict(TINY), "geometric_prior": True})
    poses = torch.rand(2, POSE_CHANNELS, 16, 16), torch.rand(2, POSE_CHANNELS, 16, 16)
    prior = _prior(2, 16)
    torch.testing.assert_close(net(*poses, prior=prior)["flow"], prior["flow"])  # zero head: the prior itself
    target = prior["flow"] + 1.5  # the prior is off by a constant: learn it
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        loss = (net(*poses, prior=prior)["flow"] - target).abs().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]


def test_geometric_prior_must_match_how_the_network_was_built():
    poses = torch.rand(1, POSE_CHANNELS, 16, 16), torch.rand(1, POSE_CHANNELS, 16, 16)
    with pytest.raises(ValueError, match="geometric prior"):
        FlowRegressor(**asdict(TINY))(*poses, prior=_prior(1, 16))
    with pytest.raises(ValueError, match="geometric prior"):
        FlowRegressor(**{**asdict(TINY), "geometric_prior": True})(*poses)
