"""Every network config dataclass mirrors its network's constructor (STYLE practice 2): the same parameter names
in the same order, the same defaults, so `Net(**asdict(cfg))` builds what `Net()` builds and a YAML key
exists exactly when the constructor takes it."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from cpfnet.baselines.pix2pixhd import (Pix2PixHDDiscriminator, Pix2PixHDDiscriminatorConfig, Pix2PixHDGenerator,
                                        Pix2PixHDGeneratorConfig)
from cpfnet.evaluation.i3d import I3D, I3DConfig
from cpfnet.nn.perceptual import PerceptualConfig, PerceptualLoss
from cpfnet.stages.flow import FlowRegressor, FlowRegressorConfig
from cpfnet.stages.foreground import (ForegroundDiscriminator, ForegroundDiscriminatorConfig, ForegroundGenerator,
                                      ForegroundGeneratorConfig)
from cpfnet.stages.fusion import FusionNet, FusionNetConfig
from cpfnet.stages.parsing import ParsingGenerator, ParsingGeneratorConfig

PAIRS = [
    (ParsingGeneratorConfig, ParsingGenerator),
    (FlowRegressorConfig, FlowRegressor),
    (ForegroundGeneratorConfig, ForegroundGenerator),
    (ForegroundDiscriminatorConfig, ForegroundDiscriminator),
    (FusionNetConfig, FusionNet),
    (Pix2PixHDGeneratorConfig, Pix2PixHDGenerator),
    (Pix2PixHDDiscriminatorConfig, Pix2PixHDDiscriminator),
    (PerceptualConfig, PerceptualLoss),
    (I3DConfig, I3D),
]


def _field_default(f: dataclasses.Field):
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return inspect.Parameter.empty


@pytest.mark.parametrize("config, network", PAIRS, ids=[c.__name__ for c, _ in PAIRS])
def test_config_fields_and_defaults_are_the_constructors(config, network):
    parameters = list(inspect.signature(network.__init__).parameters.values())[1:]  # without self
    assert all(p.kind is p.POSITIONAL_OR_KEYWORD for p in parameters), f"{network.__name__} takes *args/**kwargs"
    from_constructor = {p.name: p.default for p in parameters}
    from_config = {f.name: _field_default(f) for f in dataclasses.fields(config)}
    assert list(from_config) == list(from_constructor), f"{config.__name__} fields differ from {network.__name__}()"
    assert from_config == from_constructor, f"{config.__name__} defaults differ from {network.__name__}()"
