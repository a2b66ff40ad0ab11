"""Stage 3: spatio-temporal fusion (paper III-D)."""

from cpfnet.stages.fusion.losses import FusionLossConfig, fusion_loss
from cpfnet.stages.fusion.network import FusionNet, FusionNetConfig, compose, parsing_mask

__all__ = ["FusionNet", "FusionNetConfig", "FusionLossConfig", "fusion_loss", "compose", "parsing_mask"]
