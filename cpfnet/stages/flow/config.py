"""Stage 2a's config section (`flow:`) and its inference network."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from torch import nn

from cpfnet.configs.common import OptimizerConfig, Schedule
from cpfnet.stages.flow.losses import FlowLossConfig
from cpfnet.stages.flow.network import FlowRegressor, FlowRegressorConfig


@dataclass
class FlowStageConfig:
    """Stage 2a (III-C): the flow regression network, EPE + visibility cross-entropy."""

    network: FlowRegressorConfig = field(default_factory=FlowRegressorConfig)
    loss: FlowLossConfig = field(default_factory=FlowLossConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    schedule: Schedule = field(default_factory=lambda: Schedule(8, 0, 10.0))

    def validate(self, where: str = "flow") -> None:
        self.schedule.validate(f"{where}.schedule")


def build_networks(section: FlowStageConfig) -> dict[str, nn.Module]:
    """{"flow": the flow regression network}, freshly initialised."""
    return {"flow": FlowRegressor(**asdict(section.network))}
