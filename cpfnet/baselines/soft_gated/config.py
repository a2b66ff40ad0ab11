"""Soft-Gated Warping-GAN's config section (`soft_gated:`, stage `baseline-soft-gated`) and its inference
networks."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from torch import nn

from cpfnet.baselines.soft_gated.losses import SoftGatedLossConfig
from cpfnet.baselines.soft_gated.network import (GeometricMatcher, GeometricMatcherConfig,
                                                 SoftGatedDiscriminatorConfig, SoftGatedGenerator,
                                                 SoftGatedGeneratorConfig)
from cpfnet.configs.common import OptimizerConfig, Schedule, check_parsing_input
from cpfnet.nn.perceptual import PerceptualConfig
from cpfnet.stages.parsing.losses import ParsingLossConfig
from cpfnet.stages.parsing.network import ParsingGenerator, ParsingGeneratorConfig


@dataclass
class SoftGatedStageConfig:
    """Soft-Gated Warping-GAN (IV-A2, [10]), frame by frame: the pose-guided `parser` (stage 1's network and
    losses `parsing_loss`), the geometric `matcher` (affine + TPS between the parsings), the Warping-GAN
    `generator` and its `discriminator`; `loss`: stage 2b's terms and weights plus the pyramidal hierarchy and
    matcher terms; G and D alternate, lr 2e-4 / 2e-5. `parsing_input`: the parsing the matcher and the
    generator see while training, 'ground_truth' (teacher forcing) or 'generated' (the parser's)."""

    parser: ParsingGeneratorConfig = field(default_factory=ParsingGeneratorConfig)
    matcher: GeometricMatcherConfig = field(default_factory=GeometricMatcherConfig)
    generator: SoftGatedGeneratorConfig = field(default_factory=SoftGatedGeneratorConfig)
    discriminator: SoftGatedDiscriminatorConfig = field(default_factory=SoftGatedDiscriminatorConfig)
    parsing_loss: ParsingLossConfig = field(default_factory=ParsingLossConfig)
    loss: SoftGatedLossConfig = field(default_factory=SoftGatedLossConfig)
    perceptual: PerceptualConfig = field(default_factory=PerceptualConfig)
    generator_optimizer: OptimizerConfig = field(default_factory=lambda: OptimizerConfig(2e-4))
    discriminator_optimizer: OptimizerConfig = field(default_factory=lambda: OptimizerConfig(2e-5))
    parsing_input: str = "ground_truth"
    schedule: Schedule = field(default_factory=lambda: Schedule(8, 0, 40.0))

    def validate(self, where: str = "soft_gated") -> None:
        self.schedule.validate(f"{where}.schedule")
        check_parsing_input(self.parsing_input, f"{where}.parsing_input")


def build_networks(section: SoftGatedStageConfig) -> dict[str, nn.Module]:
    """{"parser", "matcher", "generator"}, freshly initialised."""
    return {"parser": ParsingGenerator(**asdict(section.parser)),
            "matcher": GeometricMatcher(**asdict(section.matcher)),
            "generator": SoftGatedGenerator(**asdict(section.generator))}
