"""The pix2pixHD baseline (paper IV-A2), stage `baseline-pix2pixhd`: network.py (generator, discriminator
and their config dataclasses), config.py (its config section), task.py (training), pipeline.py (transfer)."""

from cpfnet.baselines.pix2pixhd.network import (Pix2PixHDDiscriminator, Pix2PixHDDiscriminatorConfig,
                                                Pix2PixHDGenerator, Pix2PixHDGeneratorConfig)

__all__ = ["Pix2PixHDGenerator", "Pix2PixHDGeneratorConfig", "Pix2PixHDDiscriminator",
           "Pix2PixHDDiscriminatorConfig"]
