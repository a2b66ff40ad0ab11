"""The pix2pixHD baseline's config section (`baseline:`) and its inference network."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from torch import nn

from cpfnet.baselines.pix2pixhd.network import (Pix2PixHDDiscriminatorConfig, Pix2PixHDGenerator,
                                                Pix2PixHDGeneratorConfig)
from cpfnet.configs.common import OptimizerConfig, Schedule, check_at_least
from cpfnet.errors import UserError
from cpfnet.nn.perceptual import PerceptualConfig
from cpfnet.stages.foreground.losses import ForegroundLossConfig


@dataclass
class BaselineStageConfig:
    """The pix2pixHD baseline (IV-A2), stage `baseline-pix2pixhd` (cpfnet.baselines): one generator from (pose
    maps, I_a, the previous L = generator.previous_frames generated frames) to the frame, on clips of
    `clip_length` consecutive frames, with stage 2b's discriminator, losses, weights and learning rates.
    `detach_previous`: the previous generated frames enter as constants (as in vid2vid); false backpropagates
    through the whole clip."""

    generator: Pix2PixHDGeneratorConfig = field(default_factory=Pix2PixHDGeneratorConfig)
    discriminator: Pix2PixHDDiscriminatorConfig = field(default_factory=Pix2PixHDDiscriminatorConfig)
    loss: ForegroundLossConfig = field(default_factory=ForegroundLossConfig)
    perceptual: PerceptualConfig = field(default_factory=PerceptualConfig)
    generator_optimizer: OptimizerConfig = field(default_factory=lambda: OptimizerConfig(2e-4))
    discriminator_optimizer: OptimizerConfig = field(default_factory=lambda: OptimizerConfig(2e-5))
    clip_length: int = 4
    detach_previous: bool = True
    schedule: Schedule = field(default_factory=lambda: Schedule(2, 0, 10.0))

    def validate(self, where: str = "baseline") -> None:
        self.schedule.validate(f"{where}.schedule")
        check_at_least(self.clip_length, 2, f"{where}.clip_length")
        if self.generator.previous_frames < 0:
            raise UserError(f"{where}.generator.previous_frames must be 0 or more, got "
                            f"{self.generator.previous_frames}")


def build_networks(section: BaselineStageConfig) -> dict[str, nn.Module]:
    """{"generator": the pix2pixHD generator}, freshly initialised."""
    return {"generator": Pix2PixHDGenerator(**asdict(section.generator))}
