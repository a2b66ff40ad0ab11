"""Stage 1: the pose-guided parsing generator G_parsing (paper III-B, eq. 1).

As in Soft-Gated Warping-GAN [10], a CycleGAN-style ResNet generator with 9 residual blocks. It takes the
appearance parsing I_parsing (one-hot) and the pose maps of frame i, and predicts the parsing x_parsing^i of
the target person in that pose.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cpfnet.body.parsing_labels import NUM_LABELS
from cpfnet.body.pose_maps import POSE_CHANNELS
from cpfnet.nn.dtype import weights_dtype
from cpfnet.nn.resnet import ResnetGenerator


@dataclass
class ParsingGeneratorConfig:
    """Mirrors ParsingGenerator; the defaults are the paper's (resnet_9blocks, ngf 64)."""

    num_labels: int = NUM_LABELS
    pose_channels: int = POSE_CHANNELS
    ngf: int = 64
    n_downsample: int = 2
    n_blocks: int = 9
    norm: str = "instance"


class ParsingGenerator(nn.Module):
    """(appearance parsing one-hot [B, 20, H, W], frame-i pose maps [B, 35, H, W])
    -> {"logits": [B, 20, H, W], "probs": softmax over labels [B, 20, H, W]}.

    H and W must be multiples of 2**n_downsample (4 by default).
    """

    def __init__(self, num_labels: int = NUM_LABELS, pose_channels: int = POSE_CHANNELS, ngf: int = 64,
                 n_downsample: int = 2, n_blocks: int = 9, norm: str = "instance"):
        super().__init__()
        self.num_labels = num_labels
        self.pose_channels = pose_channels
        self.generator = ResnetGenerator(num_labels + pose_channels, num_labels, ngf, n_downsample, n_blocks, norm)

    def encode_appearance(self, appearance_parsing: torch.Tensor) -> torch.Tensor:
        """I_parsing one-hot [B, 20, H, W] -> its share of the first convolution [B, ngf, H, W]
        (`ConvBlock.leading`), for `forward(None, pose_maps, appearance_encoded=...)`: the same for every
        frame onto one target, so transfer computes it once (20 of the 55 input channels of the network's
        most expensive convolution)."""
        if appearance_parsing.ndim != 4 or appearance_parsing.shape[1] != self.num_labels:
            raise ValueError(f"expected [B, {self.num_labels}, H, W] parsing, got {tuple(appearance_parsing.shape)}")
        return self.generator.leading(appearance_parsing.to(weights_dtype(self)))

    def forward(self, appearance_parsing: torch.Tensor | None, pose_maps: torch.Tensor,
                appearance_encoded: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Give either `appearance_parsing` or its `encode_appearance` output ([1 or B, ...])."""
        if (appearance_parsing is None) == (appearance_encoded is None):
            raise ValueError("give exactly one of appearance_parsing and appearance_encoded")
        if pose_maps.shape[1] != self.pose_channels or (
                appearance_parsing is not None and appearance_parsing.shape[1] != self.num_labels):
            shape = tuple(appearance_parsing.shape) if appearance_parsing is not None else "(encoded)"
            raise ValueError(f"expected [B, {self.num_labels}, H, W] parsing and [B, {self.pose_channels}, H, W] "
                             f"pose maps, got {shape} and {tuple(pose_maps.shape)}")
        dtype = weights_dtype(self)
        if appearance_encoded is not None:
            logits = self.generator(pose_maps.to(dtype), leading=appearance_encoded).float()
        else:
            logits = self.generator(torch.cat([appearance_parsing, pose_maps], dim=1).to(dtype)).float()
        return {"logits": logits, "probs": logits.softmax(dim=1)}
