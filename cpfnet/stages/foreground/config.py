"""Stage 2b's config section (`foreground:`) and its inference network (the discriminator is training's)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from torch import nn

from cpfnet.configs.common import OptimizerConfig, Schedule, check_parsing_input
from cpfnet.nn.perceptual import PerceptualConfig
from cpfnet.stages.foreground.losses import ForegroundLossConfig
from cpfnet.stages.foreground.network import (ForegroundDiscriminatorConfig, ForegroundGenerator,
                                              ForegroundGeneratorConfig)


@dataclass
class ForegroundStageConfig:
    """Stage 2b (III-C, IV-A3): G_fg and D alternate, lr 2e-4 / 2e-5, weights adv 0.01, L1 1, perceptual 1.

    `parsing_input`: which x_parsing^i G_fg sees while training: 'ground_truth' (teacher forcing, one-hot of
    the frame's parsing) or 'generated' (the trained parsing stage's softmax, needs RUNS/parsing).
    `generator.use_flow: false` is the ablation "w/o appearance flow" (then RUNS/flow is not needed)."""

    generator: ForegroundGeneratorConfig = field(default_factory=ForegroundGeneratorConfig)
    discriminator: ForegroundDiscriminatorConfig = field(default_factory=ForegroundDiscriminatorConfig)
    loss: ForegroundLossConfig = field(default_factory=ForegroundLossConfig)
    perceptual: PerceptualConfig = field(default_factory=PerceptualConfig)
    generator_optimizer: OptimizerConfig = field(default_factory=lambda: OptimizerConfig(2e-4))
    discriminator_optimizer: OptimizerConfig = field(default_factory=lambda: OptimizerConfig(2e-5))
    parsing_input: str = "ground_truth"
    schedule: Schedule = field(default_factory=lambda: Schedule(8, 0, 40.0))

    def validate(self, where: str = "foreground") -> None:
        self.schedule.validate(f"{where}.schedule")
        check_parsing_input(self.parsing_input, f"{where}.parsing_input")


def build_networks(section: ForegroundStageConfig) -> dict[str, nn.Module]:
    """{"generator": G_fg}, freshly initialised."""
    return {"generator": ForegroundGenerator(**asdict(section.generator))}
