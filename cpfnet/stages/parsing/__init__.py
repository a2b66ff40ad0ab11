"""Stage 1: pose-guided parsing generation (paper III-B)."""

from cpfnet.stages.parsing.losses import ParsingLossConfig, parsing_loss
from cpfnet.stages.parsing.network import ParsingGenerator, ParsingGeneratorConfig

__all__ = ["ParsingGenerator", "ParsingGeneratorConfig", "ParsingLossConfig", "parsing_loss"]
