"""U-Net encoder and decoder (Ronneberger et al. 2015, paper [34]) used by the flow network and the dual-path
foreground generator (paper III-C).

Level k works at 1/2**k of the input size with `channels[k]` features. Each level is two 3x3 conv blocks; the
first of levels k >= 1 has stride 2 instead of a max-pool. The decoder goes back up with nearest upsampling,
concatenates the level's skip features and applies two conv blocks, so any input size works.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from cpfnet.nn.blocks import ConvBlock, upsample_to


class UNetEncoder(nn.Module):
    """[B, in_channels, H, W] -> list of L feature maps, level k: [B, channels[k], ceil(H/2**k), ceil(W/2**k)]."""

    def __init__(self, in_channels: int, channels: Sequence[int], norm: str = "instance", act: str = "relu"):
        super().__init__()
        self.levels = nn.ModuleList()
        prev = in_channels
        for k, width in enumerate(channels):
            self.levels.append(nn.Sequential(
                ConvBlock(prev, width, 3, stride=1 if k == 0 else 2, norm=norm, act=act),
                ConvBlock(width, width, 3, norm=norm, act=act),
            ))
            prev = width

    def leading(self, fixed: torch.Tensor) -> torch.Tensor:
        """The share of the first C input channels `fixed` [B, C, H, W] in the first convolution
        (`ConvBlock.leading`): [B, channels[0], H, W], for `forward(rest, leading=...)`."""
        return self.levels[0][0].leading(fixed)

    def forward(self, x: torch.Tensor, leading: torch.Tensor | None = None) -> list[torch.Tensor]:
        """x [B, in_channels, H, W], or with `leading` its last in_channels - C channels."""
        features = []
        for k, level in enumerate(self.levels):
            x = level(x) if k or leading is None else level[1](level[0](x, leading))
            features.append(x)
        return features


class UNetDecoder(nn.Module):
    """Skip features (level k: [B, skip_channels[k], H_k, W_k]) -> [B, channels[0], H_0, W_0].

    The deepest skip is the decoder's input; every shallower level upsamples, concatenates its skip and
    reduces to `channels[k]`.
    """

    def __init__(self, skip_channels: Sequence[int], channels: Sequence[int], norm: str = "instance",
                 act: str = "relu"):
        super().__init__()
        if len(skip_channels) != len(channels):
            raise ValueError(f"{len(skip_channels)} skip levels but {len(channels)} decoder widths")
        deepest = len(channels) - 1
        self.bottom = ConvBlock(skip_channels[deepest], channels[deepest], 3, norm=norm, act=act)
        self.levels = nn.ModuleList()
        for k in range(deepest - 1, -1, -1):
            self.levels.append(nn.Sequential(
                ConvBlock(channels[k + 1] + skip_channels[k], channels[k], 3, norm=norm, act=act),
                ConvBlock(channels[k], channels[k], 3, norm=norm, act=act),
            ))

    def forward(self, skips: Sequence[torch.Tensor]) -> torch.Tensor:
        x = self.bottom(skips[-1])
        for level, skip in zip(self.levels, reversed(skips[:-1])):
            x = level(torch.cat([upsample_to(x, skip), skip], dim=1))
        return x
