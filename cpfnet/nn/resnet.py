"""The ResNet-like encoder/residual/decoder generator of CycleGAN (`resnet_9blocks`), shared by stages 1 and 3.

c7s1-ngf, `n_downsample` stride-2 convs doubling the width, `n_blocks` residual blocks, as many transposed
convs back, c7s1-out_channels (Johnson et al. 2016; Zhu et al. 2017; Soft-Gated Warping-GAN uses it for
parsing, paper III-B). The head is linear: the stage decides softmax, sigmoid or tanh.
"""

from __future__ import annotations

import torch
from torch import nn

from cpfnet.nn.blocks import ConvBlock, ResidualBlock, UpConvBlock


class ResnetGenerator(nn.Module):
    """[B, in_channels, H, W] -> [B, out_channels, H, W]; H and W must be multiples of 2**n_downsample."""

    def __init__(self, in_channels: int, out_channels: int, ngf: int = 64, n_downsample: int = 2,
                 n_blocks: int = 9, norm: str = "instance"):
        super().__init__()
        self.factor = 2 ** n_downsample
        layers: list[nn.Module] = [ConvBlock(in_channels, ngf, 7, norm=norm)]
        width = ngf
        for _ in range(n_downsample):
            layers.append(ConvBlock(width, width * 2, 3, stride=2, norm=norm, padding_mode="zeros"))
            width *= 2
        layers += [ResidualBlock(width, norm=norm) for _ in range(n_blocks)]
        for _ in range(n_downsample):
            layers.append(UpConvBlock(width, width // 2, norm=norm))
            width //= 2
        layers.append(nn.Conv2d(width, out_channels, 7, padding=3, padding_mode="reflect"))
        self.net = nn.Sequential(*layers)

    def leading(self, fixed: torch.Tensor) -> torch.Tensor:
        """The share of the first C input channels `fixed` [B, C, H, W] in the first block
        (`ConvBlock.leading`): [B, ngf, H, W], for `forward(rest, leading=...)`."""
        return self.net[0].leading(fixed)

    def forward(self, x: torch.Tensor, leading: torch.Tensor | None = None) -> torch.Tensor:
        """x [B, in_channels, H, W], or with `leading` its last in_channels - C channels."""
        h, w = x.shape[-2:]
        if h % self.factor or w % self.factor:
            raise ValueError(f"input size {h}x{w} must be a multiple of {self.factor}")
        if leading is None:
            return self.net(x)
        return self.net[1:](self.net[0](x, leading))
