"""Stage 2b: parsing-flow-guided foreground generation (paper III-C)."""

from cpfnet.stages.foreground.losses import (ForegroundLossConfig, foreground_discriminator_loss,
                                             foreground_generator_loss)
from cpfnet.stages.foreground.network import (FlowWarpBlock, ForegroundDiscriminator, ForegroundDiscriminatorConfig,
                                              ForegroundGenerator, ForegroundGeneratorConfig)

__all__ = ["ForegroundGenerator", "ForegroundGeneratorConfig", "ForegroundDiscriminator",
           "ForegroundDiscriminatorConfig", "FlowWarpBlock", "ForegroundLossConfig", "foreground_generator_loss",
           "foreground_discriminator_loss"]
