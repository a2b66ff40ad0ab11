"""Multi-scale PatchGAN discriminator of pix2pixHD / vid2vid (Wang et al. 2018), used conditionally by stage 2.

`num_d` identical-architecture discriminators look at the input at full, 1/2, 1/4, ... resolution (3x3 average
pooling, stride 2, between scales). Each is pix2pixHD's NLayerDiscriminator: 4x4 convs, `n_layers` of stride 2
then one of stride 1 (widths ndf, 2ndf, ... capped at 512), leaky ReLU 0.2, and a 1-channel patch of logits.
"""

from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

from cpfnet.nn.blocks import norm_layer


class PatchDiscriminator(nn.Module):
    """[B, in_channels, H, W] -> patch logits [B, 1, H/2**n_layers + 3, W/2**n_layers + 3] (sizes rounded down)."""

    def __init__(self, in_channels: int, ndf: int = 64, n_layers: int = 3, norm: str = "instance"):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_channels, ndf, 4, stride=2, padding=2), nn.LeakyReLU(0.2, True)]
        width = ndf
        for n in range(1, n_layers + 1):
            prev, width = width, min(width * 2, 512)
            stride = 2 if n < n_layers else 1
            layers += [nn.Conv2d(prev, width, 4, stride=stride, padding=2, bias=norm == "none"),
                       norm_layer(norm, width), nn.LeakyReLU(0.2, True)]
        layers.append(nn.Conv2d(width, 1, 4, stride=1, padding=2))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class MultiscalePatchDiscriminator(nn.Module):
    """[B, in_channels, H, W] -> {"logits": list of num_d patch-logit maps [B, 1, h_s, w_s], finest first}."""

    def __init__(self, in_channels: int, ndf: int = 64, n_layers: int = 3, num_d: int = 2,
                 norm: str = "instance"):
        super().__init__()
        self.scales = nn.ModuleList(PatchDiscriminator(in_channels, ndf, n_layers, norm) for _ in range(num_d))

    def forward(self, x: torch.Tensor) -> dict[str, list[torch.Tensor]]:
        logits = []
        for i, scale in enumerate(self.scales):
            if i:
                x = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
            logits.append(scale(x))
        return {"logits": logits}
