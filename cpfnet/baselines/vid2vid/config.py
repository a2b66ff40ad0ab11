"""The config section of stage `baseline-vid2vid` (`baseline_vid2vid:` in a config YAML) and its inference network."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from torch import nn

from cpfnet.baselines.pix2pixhd import Pix2PixHDDiscriminatorConfig
from cpfnet.baselines.vid2vid.losses import Vid2VidLossConfig
from cpfnet.baselines.vid2vid.network import (TemporalDiscriminatorConfig, Vid2VidGenerator, Vid2VidGeneratorConfig,
                                              temporal_span)
from cpfnet.configs.common import OptimizerConfig, Schedule, check_at_least
from cpfnet.errors import UserError
from cpfnet.nn.perceptual import PerceptualConfig


@dataclass
class Vid2VidStageConfig:
    """vid2vid (IV-A2): the sequential generator on (the pose maps of frames t-L..t, I_a, the previous L
    generated frames), D_I on (pose maps, I_a, frame) and D_V on windows of `temporal_discriminator.frames`
    frames, trained on clips of `clip_length` consecutive frames (at least what D_V's coarsest temporal scale
    spans). Stage 2b's image losses, weights and learning rates, plus the video GAN and flow-warping terms.
    `detach_previous`: the previous generated frames enter as constants (as in vid2vid)."""

    generator: Vid2VidGeneratorConfig = field(default_factory=Vid2VidGeneratorConfig)
    discriminator: Pix2PixHDDiscriminatorConfig = field(default_factory=Pix2PixHDDiscriminatorConfig)
    temporal_discriminator: TemporalDiscriminatorConfig = field(default_factory=TemporalDiscriminatorConfig)
    loss: Vid2VidLossConfig = field(default_factory=Vid2VidLossConfig)
    perceptual: PerceptualConfig = field(default_factory=PerceptualConfig)
    generator_optimizer: OptimizerConfig = field(default_factory=lambda: OptimizerConfig(2e-4))
    discriminator_optimizer: OptimizerConfig = field(default_factory=lambda: OptimizerConfig(2e-5))
    clip_length: int = 7
    detach_previous: bool = True
    schedule: Schedule = field(default_factory=lambda: Schedule(2, 0, 6.0))

    @staticmethod
    def generator_class() -> type[nn.Module]:
        return Vid2VidGenerator

    def validate(self, where: str = "baseline_vid2vid") -> None:
        validate_sequential(self, where)


def build_networks(section) -> dict[str, nn.Module]:
    """{"generator": the section's generator}, freshly initialised (vid2vid's or few-shot vid2vid's)."""
    return {"generator": section.generator_class()(**asdict(section.generator))}


def validate_sequential(section, name: str) -> None:
    """Checks the types cannot express, shared with few-shot vid2vid's section."""
    section.schedule.validate(f"{name}.schedule")
    check_at_least(section.generator.previous_frames, 1, f"{name}.generator.previous_frames")
    d = section.temporal_discriminator
    if d.frames < 2 or d.temporal_scales < 1:
        raise UserError(f"{name}.temporal_discriminator needs frames >= 2 and temporal_scales >= 1, got "
                        f"{d.frames} and {d.temporal_scales}")
    span = temporal_span(d.frames, d.temporal_scales)
    if section.clip_length < max(2, span):
        raise UserError(f"{name}.clip_length {section.clip_length} is shorter than the {max(2, span)} frames "
                        f"the video discriminator's {d.temporal_scales} temporal scale(s) of {d.frames} frames span")
