"""The vid2vid baseline (Wang et al. 2018; paper IV-A2), stage `baseline-vid2vid`: network.py (the sequential
generator, the video discriminator and their config dataclasses), losses.py, config.py (its config section),
task.py (training on clips), pipeline.py (transfer). few-shot vid2vid (`cpfnet.baselines.fewshot_vid2vid`)
builds on it."""

from cpfnet.baselines.vid2vid.network import (TemporalDiscriminator, TemporalDiscriminatorConfig, Vid2VidGenerator,
                                              Vid2VidGeneratorConfig)

__all__ = ["Vid2VidGenerator", "Vid2VidGeneratorConfig", "TemporalDiscriminator", "TemporalDiscriminatorConfig"]
