"""Baselines the paper compares against (Section IV-A2), trained and run through the same machinery as CPF-Net.
One folder per baseline, each a stage of `cpfnet.stages.registry` (network.py, config.py, task.py, pipeline.py):

- `pix2pixhd`: the pix2pixHD-style frame generator the paper adapts to the task (one generator from the target
  pose, the appearance image and the previous L generated frames to the frame), stage `baseline-pix2pixhd`.
- `soft_gated`: Soft-Gated Warping-GAN (Dong et al. 2018), frame by frame: a pose-guided parser, a geometric
  matcher (affine + TPS) between the parsings and a generator with a soft-gated warping block, stage
  `baseline-soft-gated`.
- `lwg`: Liquid Warping GAN (Liu et al. 2019): background, source-identity and transfer streams with Liquid
  Warping Blocks carrying source features along a transformation flow (the flow stage's, an exact or a
  fitted body's), stage `baseline-lwg`.
"""
