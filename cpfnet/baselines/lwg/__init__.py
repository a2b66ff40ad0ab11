"""Liquid Warping GAN (paper IV-A2, [28]), stage `baseline-lwg`: network.py (the three-stream generator with
Liquid Warping Blocks, the discriminator, their config dataclasses), inputs.py (the streams' inputs),
losses.py, config.py (its `lwg:` section), task.py (training), pipeline.py (transfer, with a pluggable flow)."""
