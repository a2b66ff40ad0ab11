"""Baselines the paper compares against (Section IV-A2), trained and run through the same machinery as CPF-Net.
One folder per baseline, each a stage of `cpfnet.stages.registry` (network.py, config.py, task.py, pipeline.py):

- `pix2pixhd`: the pix2pixHD-style frame generator the paper adapts to the task (one generator from the target
  pose, the appearance image and the previous L generated frames to the frame), stage `baseline-pix2pixhd`.
"""
