"""Stored output slices: every network at a tiny config, built under a fixed seed, on a fixed input, must give
the numbers pasted below (diffusers' `expected_slice` habit). Shape tests pass whatever a network computes;
these fail when any layer, its order, an activation, a skip connection or the initialisation changes.

Each slice is 8 values spread evenly over one output tensor (`_slice`), compared with tolerance 1e-4 (float32
on CPU; different CPUs round differently far below that).

When a network changes on purpose, regenerate the numbers deliberately and paste them into EXPECTED:

    PYTHONPATH=. .venv/bin/python tests/test_network_slices.py

and say in the commit why the outputs changed. Never regenerate to make an unexplained failure go away.
"""

from __future__ import annotations

from dataclasses import asdict

import pytest
import torch

from cpfnet.baselines.pix2pixhd import (Pix2PixHDDiscriminator, Pix2PixHDDiscriminatorConfig, Pix2PixHDGenerator,
                                        Pix2PixHDGeneratorConfig)
from cpfnet.body.parsing_labels import NUM_LABELS
from cpfnet.body.pose_maps import POSE_CHANNELS
from cpfnet.stages.flow import FlowRegressor, FlowRegressorConfig
from cpfnet.stages.foreground import (ForegroundDiscriminator, ForegroundDiscriminatorConfig, ForegroundGenerator,
                                      ForegroundGeneratorConfig)
from cpfnet.stages.fusion import FusionNet, FusionNetConfig
from cpfnet.stages.parsing import ParsingGenerator, ParsingGeneratorConfig

SIZE = 16  # pixels; the tiny configs' deepest level is 2 x 2 at this size
POINTS = 8


def _inputs(*shapes: tuple[int, ...], seed: int = 1) -> list[torch.Tensor]:
    """Fixed inputs in [-1, 1], independent of the global RNG."""
    generator = torch.Generator().manual_seed(seed)
    return [torch.rand(shape, generator=generator) * 2 - 1 for shape in shapes]


def _probabilities(classes: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(2, classes, SIZE, SIZE, generator=generator).mul(4).softmax(dim=1)


def _build(cls, config):
    torch.manual_seed(0)
    return cls(**asdict(config)).eval()


def _slice(t: torch.Tensor) -> list[float]:
    flat = t.detach().flatten()
    return flat[torch.linspace(0, flat.numel() - 1, POINTS).long()].tolist()


def _parsing():
    net = _build(ParsingGenerator, ParsingGeneratorConfig(ngf=8, n_downsample=2, n_blocks=2))
    (pose,) = _inputs((2, POSE_CHANNELS, SIZE, SIZE))
    return net(_probabilities(NUM_LABELS, 2), pose)["logits"]


def _flow_outputs():
    net = _build(FlowRegressor, FlowRegressorConfig(channels=(8, 16, 32, 32)))
    # The flow head starts at zero (identity flow, tested in test_networks_flow.py); give it seeded weights so
    # the flow slice depends on the encoder and decoder.
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():
        net.flow_head.weight.copy_(torch.randn(net.flow_head.weight.shape, generator=generator) * 0.05)
    appearance, pose = _inputs((2, POSE_CHANNELS, SIZE, SIZE), (2, POSE_CHANNELS, SIZE, SIZE))
    return net(appearance, pose)


def _flow():
    return _flow_outputs()["flow"]


def _visibility():
    return _flow_outputs()["visibility_logits"]


def _foreground(use_flow: bool):
    net = _build(ForegroundGenerator, ForegroundGeneratorConfig(channels=(8, 16, 32, 32), use_flow=use_flow))
    (appearance,) = _inputs((1, 3, SIZE, SIZE))
    generator = torch.Generator().manual_seed(4)
    grid = torch.stack(torch.meshgrid(torch.arange(SIZE) + 0.5, torch.arange(SIZE) + 0.5, indexing="xy"))
    flow = grid.expand(2, 2, SIZE, SIZE) + torch.randn(2, 2, SIZE, SIZE, generator=generator) * 2
    return net(_probabilities(NUM_LABELS, 5), flow, _probabilities(3, 6), appearance=appearance)["foreground"]


def _foreground_discriminator():
    net = _build(ForegroundDiscriminator, ForegroundDiscriminatorConfig(ndf=8, n_layers=2, num_d=2))
    appearance, foreground = _inputs((1, 3, SIZE, SIZE), (2, 3, SIZE, SIZE))
    logits = net(appearance, _probabilities(NUM_LABELS, 7), foreground)["logits"]
    return torch.cat([scale.flatten() for scale in logits])


def _fusion():
    net = _build(FusionNet, FusionNetConfig(ngf=8, n_downsample=2, n_blocks=2))
    background, foreground, previous = _inputs((1, 3, SIZE, SIZE), (2, 3, SIZE, SIZE), (2, 3, SIZE, SIZE))
    return net(background, foreground, previous)["mask"]


def _pix2pixhd_generator():
    net = _build(Pix2PixHDGenerator, Pix2PixHDGeneratorConfig(previous_frames=2, ngf=8, n_downsample=3, n_blocks=2))
    pose, appearance, previous = _inputs((2, POSE_CHANNELS, SIZE, SIZE), (1, 3, SIZE, SIZE), (2, 2, 3, SIZE, SIZE))
    return net(pose, appearance, previous)["frame"]


def _pix2pixhd_discriminator():
    net = _build(Pix2PixHDDiscriminator, Pix2PixHDDiscriminatorConfig(ndf=8, n_layers=2, num_d=2))
    pose, appearance, frame = _inputs((2, POSE_CHANNELS, SIZE, SIZE), (2, 3, SIZE, SIZE), (2, 3, SIZE, SIZE))
    return torch.cat([scale.flatten() for scale in net(pose, appearance, frame)["logits"]])


OUTPUTS = {
    "parsing logits": _parsing,
    "flow": _flow,
    "visibility logits": _visibility,
    "foreground with flow": lambda: _foreground(True),
    "foreground without flow": lambda: _foreground(False),
    "foreground discriminator": _foreground_discriminator,
    "fusion mask": _fusion,
    "pix2pixHD generator": _pix2pixhd_generator,
    "pix2pixHD discriminator": _pix2pixhd_discriminator,
}

EXPECTED = {
    "parsing logits": [-0.072781, 0.629794, -0.292520, 0.141427, -0.803024, 0.259879, 1.075810, -0.003023],
    "flow": [1.370838, 4.167178, 11.107218, 12.121799, 18.125639, 12.533757, -2.354834, 14.985546],
    "visibility logits": [-0.090934, 0.240561, -0.022051, 0.252197, -0.492382, 0.194311, -0.069525, 0.125379],
    "foreground with flow": [-0.328697, -0.167118, -0.854434, -0.456603, -0.820587, -0.398591, -0.581151, 0.227771],
    "foreground without flow": [0.500123, 0.222262, 0.529684, 0.277655, 0.281347, -0.160685, 0.456464, -0.279870],
    "foreground discriminator": [0.085792, -0.482537, 0.091625, -0.365619, 0.052322, 0.327544, 0.026130, -0.221661],
    "fusion mask": [0.677910, 0.282736, 0.503772, 0.397199, 0.430909, 0.452952, 0.708668, 0.465825],
    "pix2pixHD generator": [-0.530206, -0.372779, -0.145740, -0.331634, -0.075148, -0.471543, 0.613329, -0.050156],
    "pix2pixHD discriminator": [-0.205438, 0.017880, 0.341611, -0.183308, -0.031030, 0.021965, -0.357558, 0.022238],
}


@pytest.mark.parametrize("name", list(OUTPUTS))
def test_output_slice(name):
    torch.set_num_threads(1)
    with torch.inference_mode():
        got = _slice(OUTPUTS[name]())
    torch.testing.assert_close(torch.tensor(got), torch.tensor(EXPECTED[name]), atol=1e-4, rtol=1e-4,
                               msg=lambda m: f"{name}: output changed ({m}); got {got}. If the network changed on "
                                             "purpose, regenerate the slices (module docstring).")


if __name__ == "__main__":
    torch.set_num_threads(1)
    print("EXPECTED = {")
    with torch.inference_mode():
        for name, make in OUTPUTS.items():
            print(f"    {name!r}: [{', '.join(f'{v:.6f}' for v in _slice(make()))}],")
    print("}")
