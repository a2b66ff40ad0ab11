"""Stage 3's config section (`fusion:`) and its inference network."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from torch import nn

from cpfnet.configs.common import OptimizerConfig, Schedule, check_at_least, check_one_of, check_parsing_input
from cpfnet.nn.perceptual import PerceptualConfig
from cpfnet.stages.fusion.losses import FusionLossConfig
from cpfnet.stages.fusion.network import FusionNet, FusionNetConfig

LOSS_ON = ("eq5", "photo_pixels")


@dataclass
class FusionStageConfig:
    """Stage 3 (III-D, IV-A3): the fusion network on K consecutive frames, L1 + perceptual weight 1, lr 1e-4,
    batch 1. `parsing_input` as for the foreground stage; 'generated' (the default) needs RUNS/parsing."""

    network: FusionNetConfig = field(default_factory=FusionNetConfig)
    loss: FusionLossConfig = field(default_factory=FusionLossConfig)
    perceptual: PerceptualConfig = field(default_factory=PerceptualConfig)
    optimizer: OptimizerConfig = field(default_factory=lambda: OptimizerConfig(1e-4))
    parsing_input: str = "generated"
    # What the loss judges: "eq5" (the paper: x_fg composed by the mask) or "photo_pixels" (what transfer's
    # default pixel path shows: the photo warped along the flow, within the warped photo mask x the mask).
    loss_on: str = "eq5"
    clip_length: int = 5  # K
    schedule: Schedule = field(default_factory=lambda: Schedule(1, 2030, 0.0))

    def validate(self, where: str = "fusion") -> None:
        self.schedule.validate(f"{where}.schedule")
        check_parsing_input(self.parsing_input, f"{where}.parsing_input")
        check_at_least(self.clip_length, 2, f"{where}.clip_length")
        check_one_of(self.loss_on, LOSS_ON, f"{where}.loss_on")


def build_networks(section: FusionStageConfig) -> dict[str, nn.Module]:
    """{"fusion": the fusion network}, freshly initialised."""
    return {"fusion": FusionNet(**asdict(section.network))}
