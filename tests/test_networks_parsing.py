"""Stage 1 network: ParsingGenerator shapes, errors (its config: test_config_mirrors.py)."""

from dataclasses import asdict

import pytest
import torch

from cpfnet.body.parsing_labels import NUM_LABELS
from cpfnet.body.pose_maps import POSE_CHANNELS
from cpfnet.stages.parsing import ParsingGenerator, ParsingGeneratorConfig

TINY = ParsingGeneratorConfig(ngf=4, n_blocks=1)


def test_tiny_shapes_and_softmax():
    torch.manual_seed(0)
    net = ParsingGenerator(**asdict(TINY))
    out = net(torch.rand(3, NUM_LABELS, 16, 24), torch.rand(3, POSE_CHANNELS, 16, 24))
    assert set(out) == {"logits", "probs"}
    assert out["logits"].shape == out["probs"].shape == (3, NUM_LABELS, 16, 24)
    torch.testing.assert_close(out["probs"].sum(dim=1), torch.ones(3, 16, 24))
    torch.testing.assert_close(out["probs"], out["logits"].softmax(dim=1))


def test_the_appearance_encoded_once_gives_the_same_parsing():
    """The appearance parsing's share of the first (reflect-padded 7x7) convolution, computed once for a batch
    of frames, is the network run on the concatenated inputs."""
    torch.manual_seed(0)
    net = ParsingGenerator(**asdict(TINY)).eval()
    appearance, maps = torch.rand(1, NUM_LABELS, 16, 24), torch.rand(3, POSE_CHANNELS, 16, 24)
    with torch.inference_mode():
        whole = net(appearance.expand(3, -1, -1, -1), maps)["probs"]
        encoded = net(None, maps, appearance_encoded=net.encode_appearance(appearance))["probs"]
    torch.testing.assert_close(encoded, whole)
    assert not torch.allclose(whole[0], whole[1])  # the frames differ: a constant output would prove nothing
    with pytest.raises(ValueError, match="exactly one"):
        net(appearance, maps[:1], appearance_encoded=net.encode_appearance(appearance))


def test_rejects_wrong_inputs():
    net = ParsingGenerator(**asdict(TINY))
    with pytest.raises(ValueError, match="pose maps"):
        net(torch.rand(1, NUM_LABELS, 16, 16), torch.rand(1, 18, 16, 16))
    with pytest.raises(ValueError, match="multiple of 4"):
        net(torch.rand(1, NUM_LABELS, 18, 16), torch.rand(1, POSE_CHANNELS, 18, 16))


@pytest.mark.slow
def test_paper_configuration_at_448():
    net = ParsingGenerator(**asdict(ParsingGeneratorConfig())).eval()
    assert sum(1 for m in net.modules() if type(m).__name__ == "ResidualBlock") == 9
    with torch.inference_mode():
        out = net(torch.rand(1, NUM_LABELS, 448, 448), torch.rand(1, POSE_CHANNELS, 448, 448))
    assert out["logits"].shape == out["probs"].shape == (1, NUM_LABELS, 448, 448)
    assert torch.isfinite(out["logits"]).all()
