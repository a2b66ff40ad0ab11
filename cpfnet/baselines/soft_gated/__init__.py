"""Soft-Gated Warping-GAN (paper IV-A2, [10]), stage `baseline-soft-gated`: network.py (parser reuse, geometric
matcher, generator, discriminator and their config dataclasses), losses.py, config.py (its `soft_gated:`
section), task.py (training), pipeline.py (transfer)."""
