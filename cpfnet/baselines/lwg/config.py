"""Liquid Warping GAN's config section (`lwg:`, stage `baseline-lwg`) and its inference network."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from torch import nn

from cpfnet.baselines.lwg.losses import LiquidWarpingLossConfig
from cpfnet.baselines.lwg.network import (LiquidWarpingDiscriminatorConfig, LiquidWarpingGenerator,
                                          LiquidWarpingGeneratorConfig)
from cpfnet.configs.common import OptimizerConfig, Schedule, check_one_of
from cpfnet.errors import UserError
from cpfnet.nn.perceptual import PerceptualConfig

FLOW_SOURCES = ("predicted", "ground_truth")


@dataclass
class LiquidWarpingStageConfig:
    """Liquid Warping GAN (IV-A2, [28]): the three-stream `generator` and its PatchGAN `discriminator`, LWG's
    losses and weights (`loss`), lr 2e-4 for both. `flow_source`: the transformation flow T while training,
    'predicted' (the trained flow stage, RUNS/flow, as at transfer) or 'ground_truth' (the synthetic dancers'
    exact flow). `background_margin`: how far around I_a's person, as a fraction of the crop, the background
    stream must fill in (LWG: 7 pixels at 256)."""

    generator: LiquidWarpingGeneratorConfig = field(default_factory=LiquidWarpingGeneratorConfig)
    discriminator: LiquidWarpingDiscriminatorConfig = field(default_factory=LiquidWarpingDiscriminatorConfig)
    loss: LiquidWarpingLossConfig = field(default_factory=LiquidWarpingLossConfig)
    perceptual: PerceptualConfig = field(default_factory=PerceptualConfig)
    generator_optimizer: OptimizerConfig = field(default_factory=lambda: OptimizerConfig(2e-4))
    discriminator_optimizer: OptimizerConfig = field(default_factory=lambda: OptimizerConfig(2e-4))
    flow_source: str = "predicted"
    background_margin: float = 0.03
    schedule: Schedule = field(default_factory=lambda: Schedule(8, 0, 30.0))

    def validate(self, where: str = "lwg") -> None:
        self.schedule.validate(f"{where}.schedule")
        check_one_of(self.flow_source, FLOW_SOURCES, f"{where}.flow_source")
        if not 0 <= self.background_margin < 0.5:
            raise UserError(f"{where}.background_margin must be in [0, 0.5), got {self.background_margin}")


def build_networks(section: LiquidWarpingStageConfig) -> dict[str, nn.Module]:
    """{"generator": the three-stream generator}, freshly initialised."""
    return {"generator": LiquidWarpingGenerator(**asdict(section.generator))}
