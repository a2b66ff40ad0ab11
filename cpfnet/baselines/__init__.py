"""Baselines the paper compares against (Section IV-A2), trained and run through the same machinery as CPF-Net.

- `pix2pixhd`: the pix2pixHD-style frame generator the paper adapts to the task (one generator from the target
  pose, the appearance image and the previous L generated frames to the frame); `task` trains it as the stage
  `baseline-pix2pixhd`, `pipeline` runs it for transfer and evaluation.
"""
