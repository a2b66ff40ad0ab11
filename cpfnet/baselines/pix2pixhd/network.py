"""The pix2pixHD baseline as the paper adapts it (Section IV-A2): one generator, no parsing, no flow, no fusion.

    x^t = G(s_pose^t, I_a, X^{t-L..t-1})

The target pose maps s_pose^t [B, 35, H, W], the appearance image I_a [B, 3, H, W] (the whole appearance
crop, background included: the generator has to make the background too) and the previous L generated frames
(oldest first) are concatenated on channels; G is pix2pixHD's global generator (Wang et al. 2018): c7s1-ngf,
`n_downsample` stride-2 convs doubling the width (64 -> 1024 at the paper's 4), `n_blocks` residual blocks,
as many transposed convs back, c7s1-3 and tanh. That is exactly the CycleGAN-style ResNet body the stages
share (`cpfnet.nn.resnet.ResnetGenerator`), with pix2pixHD's depth and width.

The discriminator is the conditional multi-scale PatchGAN of stage 2b on (pose maps, I_a, frame), and the
losses are stage 2b's (`cpfnet.stages.foreground.losses`: adversarial eq. 3, L1, perceptual eq. 4 with
weights 0.01, 1, 1), so the comparison isolates the architecture.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cpfnet.body.pose_maps import POSE_CHANNELS
from cpfnet.nn.discriminator import MultiscalePatchDiscriminator
from cpfnet.nn.resnet import ResnetGenerator
from cpfnet.ops.batch import broadcast_batch


@dataclass
class Pix2PixHDGeneratorConfig:
    """Mirrors Pix2PixHDGenerator; the defaults are pix2pixHD's global generator (ngf 64, 4 downsamplings,
    9 residual blocks, instance norm) and the paper's adaptation with L = 2 previous frames."""

    pose_channels: int = POSE_CHANNELS
    previous_frames: int = 2
    ngf: int = 64
    n_downsample: int = 4
    n_blocks: int = 9
    norm: str = "instance"


class Pix2PixHDGenerator(nn.Module):
    """(pose_maps [B, 35, H, W], appearance I_a [B or 1, 3, H, W], previous [B or 1, L, 3, H, W] oldest first,
    all images in [-1, 1]) -> {"frame": [B, 3, H, W] in [-1, 1]}. H and W must be multiples of 2**n_downsample.
    """

    def __init__(self, pose_channels: int = POSE_CHANNELS, previous_frames: int = 2, ngf: int = 64,
                 n_downsample: int = 4, n_blocks: int = 9, norm: str = "instance"):
        super().__init__()
        if previous_frames < 0:
            raise ValueError(f"previous_frames must be 0 or more, got {previous_frames}")
        self.pose_channels = pose_channels
        self.previous_frames = previous_frames
        self.body = ResnetGenerator(pose_channels + 3 * (1 + previous_frames), 3, ngf, n_downsample, n_blocks, norm)

    def forward(self, pose_maps: torch.Tensor, appearance: torch.Tensor,
                previous: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        b, c, h, w = pose_maps.shape
        if c != self.pose_channels:
            raise ValueError(f"expected {self.pose_channels} pose channels, got {c}")
        if appearance.shape[1:] != (3, h, w):
            raise ValueError(f"appearance must be [B, 3, {h}, {w}], got {tuple(appearance.shape)}")
        inputs = [pose_maps, broadcast_batch(appearance, b, "appearance")]
        if self.previous_frames:
            if previous is None or previous.shape[1:] != (self.previous_frames, 3, h, w):
                got = None if previous is None else tuple(previous.shape)
                raise ValueError(f"previous must be [B, {self.previous_frames}, 3, {h}, {w}], got {got}")
            inputs.append(broadcast_batch(previous, b, "previous").flatten(1, 2))
        elif previous is not None and previous.shape[1] != 0:
            raise ValueError("this generator takes no previous frames (previous_frames 0)")
        return {"frame": torch.tanh(self.body(torch.cat(inputs, dim=1)))}


@dataclass
class Pix2PixHDDiscriminatorConfig:
    """Mirrors Pix2PixHDDiscriminator; pix2pixHD's defaults (2 scales of 3-layer PatchGANs, ndf 64)."""

    pose_channels: int = POSE_CHANNELS
    ndf: int = 64
    n_layers: int = 3
    num_d: int = 2
    norm: str = "instance"


class Pix2PixHDDiscriminator(nn.Module):
    """Conditional multi-scale PatchGAN on (pose maps [B, 35, H, W], I_a [B, 3, H, W], frame [B, 3, H, W])
    -> {"logits": one patch map [B, 1, h_s, w_s] per scale, finest first}."""

    def __init__(self, pose_channels: int = POSE_CHANNELS, ndf: int = 64, n_layers: int = 3, num_d: int = 2,
                 norm: str = "instance"):
        super().__init__()
        self.net = MultiscalePatchDiscriminator(pose_channels + 6, ndf, n_layers, num_d, norm)

    def forward(self, pose_maps: torch.Tensor, appearance: torch.Tensor,
                frame: torch.Tensor) -> dict[str, list[torch.Tensor]]:
        b = pose_maps.shape[0]
        return self.net(torch.cat([pose_maps, broadcast_batch(appearance, b, "appearance"), frame], dim=1))
