"""W in few-shot vid2vid (and vid2vid): the flow network from the current pose and another frame (the example
or the previous output) to offsets into that frame and a soft mask."""

from __future__ import annotations

import torch
from torch import nn

from cpfnet.nn.blocks import ConvBlock, ResidualBlock


class FlowGenerator(nn.Module):
    """W: (pose maps of frame t, the other frame's pose maps and image, concatenated [B, in, H, W]) ->
    (offsets [B, 2, H, W] into the other frame, mask [B, 1, H, W] in [0, 1], 1 = keep the synthesised frame).
    Stride-2 convs, residual blocks, nearest upsampling + convs; offsets x `multiplier`."""

    def __init__(self, in_channels: int, ngf: int, n_downsample: int, n_blocks: int, norm: str, multiplier: float):
        super().__init__()
        ch = [min(1024, ngf * 2 ** i) for i in range(n_downsample + 1)]
        self.factor = 2 ** n_downsample
        self.multiplier = multiplier
        layers: list[nn.Module] = [ConvBlock(in_channels, ch[0], 3, norm=norm, act="lrelu")]
        layers += [ConvBlock(ch[i], ch[i + 1], 3, stride=2, norm=norm, act="lrelu", padding_mode="zeros")
                   for i in range(n_downsample)]
        layers += [ResidualBlock(ch[-1], norm=norm) for _ in range(n_blocks)]
        for i in reversed(range(n_downsample)):
            layers += [nn.Upsample(scale_factor=2, mode="nearest"), ConvBlock(ch[i + 1], ch[i], 3, norm=norm, act="lrelu")]
        self.body = nn.Sequential(*layers)
        self.flow = nn.Conv2d(ch[0], 2, 3, padding=1)
        self.mask = nn.Conv2d(ch[0], 1, 3, padding=1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.body(x)
        return self.flow(features) * self.multiplier, torch.sigmoid(self.mask(features))

