"""Training of CPF-Net's stages: configs, the shared trainer, checkpoints, logging, distributed runs."""
