"""Stage 1's config section (`parsing:`) and its inference network."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from torch import nn

from cpfnet.configs.common import OptimizerConfig, Schedule
from cpfnet.stages.parsing.losses import ParsingLossConfig
from cpfnet.stages.parsing.network import ParsingGenerator, ParsingGeneratorConfig


@dataclass
class ParsingStageConfig:
    """Stage 1 (III-B): G_parsing, L1 + cross-entropy weight 10 each, lr 2e-4."""

    network: ParsingGeneratorConfig = field(default_factory=ParsingGeneratorConfig)
    loss: ParsingLossConfig = field(default_factory=ParsingLossConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    schedule: Schedule = field(default_factory=lambda: Schedule(8, 0, 30.0))

    def validate(self, where: str = "parsing") -> None:
        self.schedule.validate(f"{where}.schedule")


def build_networks(section: ParsingStageConfig) -> dict[str, nn.Module]:
    """{"generator": G_parsing}, freshly initialised."""
    return {"generator": ParsingGenerator(**asdict(section.network))}
