"""Stage 3 network: FusionNet shapes, eq. 5, the "w/o fusion" mask, errors."""

from dataclasses import asdict

import pytest
import torch

from cpfnet.body.parsing_labels import NUM_LABELS
from cpfnet.stages.fusion import FusionNet, FusionNetConfig, compose, parsing_mask

TINY = FusionNetConfig(ngf=4, n_blocks=1)


def test_tiny_shapes_mask_range_and_eq5():
    torch.manual_seed(0)
    net = FusionNet(**asdict(TINY))
    background = torch.rand(1, 3, 16, 24) * 2 - 1  # one background for the whole batch
    foreground, previous = torch.rand(2, 3, 16, 24) * 2 - 1, torch.rand(2, 3, 16, 24) * 2 - 1
    out = net(background, foreground, previous)
    assert set(out) == {"mask", "frame"}
    assert out["mask"].shape == (2, 1, 16, 24) and out["frame"].shape == (2, 3, 16, 24)
    assert ((out["mask"] > 0) & (out["mask"] < 1)).all()
    mask = out["mask"]
    torch.testing.assert_close(out["frame"], foreground * mask + background * (1 - mask))
    # The previous frame is an input: changing it changes the mask.
    assert (net(background, foreground, -previous)["mask"] - mask).abs().max() > 1e-6


def test_compose_and_parsing_mask():
    fg, bg = torch.ones(1, 3, 2, 2), -torch.ones(1, 3, 2, 2)
    mask = torch.tensor([[[[1.0, 0.0], [0.25, 0.5]]]])
    torch.testing.assert_close(compose(fg, bg, mask)[0, 0], torch.tensor([[1.0, -1.0], [-0.5, 0.0]]))
    probs = torch.zeros(1, NUM_LABELS, 1, 2)
    probs[0, 0, 0, 0], probs[0, 5, 0, 0] = 0.2, 0.8
    probs[0, 0, 0, 1] = 1.0
    torch.testing.assert_close(parsing_mask(probs), torch.tensor([[[[0.8, 0.0]]]]))


def test_rejects_wrong_inputs():
    net = FusionNet(**asdict(TINY))
    with pytest.raises(ValueError, match="RGB"):
        net(torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16), torch.rand(1, 1, 16, 16))


def test_mask_prior_starts_as_the_parsing_mask_and_learns_a_correction():
    """With mask_prior the untrained network is the ablation "w/o fusion" (its mask is the person mask it is
    given), and training moves the mask toward a target the prior misses."""
    torch.manual_seed(0)
    net = FusionNet(**{**asdict(TINY), "mask_prior": True})
    background, foreground, previous = (torch.rand(2, 3, 16, 16) * 2 - 1 for _ in range(3))
    person = torch.zeros(2, 1, 16, 16)
    person[:, :, 4:12, 5:11] = 0.9
    person[:, :, 6, 6] = 1.0  # certain: clamped, still finite
    out = net(background, foreground, previous, person)
    torch.testing.assert_close(out["mask"], person.clamp(1e-3, 1 - 1e-3))
    assert (net(background, foreground, previous, 1 - person)["mask"] - out["mask"]).abs().max() > 0.5
    target = person.clone()
    target[:, :, 4:12, 5:8] = 0.0  # the prior's left half is wrong
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        loss = torch.nn.functional.l1_loss(net(background, foreground, previous, person)["mask"], target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses
    with pytest.raises(ValueError, match="person mask"):
        net(background, foreground, previous)


@pytest.mark.slow
def test_paper_configuration_at_448():
    net = FusionNet(**asdict(FusionNetConfig())).eval()
    image = torch.rand(1, 3, 448, 448) * 2 - 1
    with torch.inference_mode():
        out = net(image, image, image)
    assert out["mask"].shape == (1, 1, 448, 448) and out["frame"].shape == (1, 3, 448, 448)
    assert torch.isfinite(out["frame"]).all()
