"""The config section of stage `baseline-fewshot-vid2vid` (`baseline_fewshot_vid2vid:` in a config YAML) and its
inference network (`build_networks`, vid2vid's)."""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import nn

from cpfnet.baselines.fewshot_vid2vid.losses import FewShotLossConfig
from cpfnet.baselines.fewshot_vid2vid.network import FewShotVid2VidGenerator, FewShotVid2VidGeneratorConfig
from cpfnet.baselines.pix2pixhd import Pix2PixHDDiscriminatorConfig
from cpfnet.baselines.vid2vid.config import build_networks, validate_sequential
from cpfnet.baselines.vid2vid.network import TemporalDiscriminatorConfig
from cpfnet.configs.common import OptimizerConfig, Schedule
from cpfnet.nn.perceptual import PerceptualConfig

__all__ = ["FewShotVid2VidStageConfig", "build_networks"]


@dataclass
class FewShotVid2VidStageConfig:
    """few-shot vid2vid (IV-A2) with I_a as its one example: the generator, D_I (few-shot vid2vid's: ndf 32,
    4 layers, one scale) and D_V (2 frames, one temporal scale), on clips of `clip_length` frames (4, as the
    released model's n_frames_total). Losses as vid2vid's plus the example-warping term."""

    generator: FewShotVid2VidGeneratorConfig = field(default_factory=FewShotVid2VidGeneratorConfig)
    discriminator: Pix2PixHDDiscriminatorConfig = field(
        default_factory=lambda: Pix2PixHDDiscriminatorConfig(ndf=32, n_layers=4, num_d=1))
    temporal_discriminator: TemporalDiscriminatorConfig = field(
        default_factory=lambda: TemporalDiscriminatorConfig(frames=2, temporal_scales=1, ndf=32, n_layers=4, num_d=1))
    loss: FewShotLossConfig = field(default_factory=FewShotLossConfig)
    perceptual: PerceptualConfig = field(default_factory=PerceptualConfig)
    generator_optimizer: OptimizerConfig = field(default_factory=lambda: OptimizerConfig(2e-4))
    discriminator_optimizer: OptimizerConfig = field(default_factory=lambda: OptimizerConfig(2e-5))
    clip_length: int = 4
    detach_previous: bool = True
    schedule: Schedule = field(default_factory=lambda: Schedule(2, 0, 10.0))

    @staticmethod
    def generator_class() -> type[nn.Module]:
        return FewShotVid2VidGenerator

    def validate(self, where: str = "baseline_fewshot_vid2vid") -> None:
        validate_sequential(self, where)
