"""Convolution building blocks shared by the stages: conv/norm/activation, residual blocks, up/down sampling.

Every block keeps [B, C, H, W] layout. Norm and activation are chosen by name so configs can carry them as
plain strings ("instance", "batch", "none"; "relu", "lrelu", "none").
"""

from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

NORMS = ("instance", "batch", "none")
ACTIVATIONS = ("relu", "lrelu", "none")


def norm_layer(kind: str, channels: int) -> nn.Module:
    """A normalisation layer by name. Instance norm is affine-free, as in CycleGAN and pix2pixHD."""
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=False)
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {kind!r}; known: {', '.join(NORMS)}")


def activation(kind: str) -> nn.Module:
    """An activation by name ('lrelu' has slope 0.2, as in the patch discriminators)."""
    if kind == "relu":
        return nn.ReLU(inplace=True)
    if kind == "lrelu":
        return nn.LeakyReLU(0.2, inplace=True)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown activation {kind!r}; known: {', '.join(ACTIVATIONS)}")


class ConvBlock(nn.Sequential):
    """Conv -> norm -> activation, 'same' padding (so stride 2 halves H and W, rounding up).

    [B, in_channels, H, W] -> [B, out_channels, ceil(H / stride), ceil(W / stride)].
    The conv has a bias only without a norm: a norm's mean subtraction would cancel it.

    A convolution is linear and its padding works channel by channel, so the conv of [fixed, rest] (concatenated
    on channels) is the conv of `fixed` by the first weights plus that of `rest` by the others: where `fixed`
    is the same for many calls (a target's parsing or pose, every frame of a transfer), `leading(fixed)`
    computes its share once and `forward(rest, leading=...)` adds it.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1,
                 norm: str = "instance", act: str = "relu", padding_mode: str = "reflect"):
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=kernel_size // 2,
                      padding_mode=padding_mode, bias=norm == "none"),
            norm_layer(norm, out_channels),
            activation(act),
        )

    def leading(self, fixed: torch.Tensor) -> torch.Tensor:
        """The conv's response to its first C input channels alone, no bias: fixed [B, C, H, W] -> [B,
        out_channels, H', W'] (C < in_channels)."""
        conv = self[0]
        return conv._conv_forward(fixed, conv.weight[:, :fixed.shape[1]], None)

    def forward(self, x: torch.Tensor, leading: torch.Tensor | None = None) -> torch.Tensor:
        """x [B, in_channels, H, W]; with `leading` (a `leading(fixed)` of [1 or B, C, H, W]) x holds only the
        last in_channels - C channels (the caller checks their number: the term does not know its C)."""
        if leading is None:
            return super().forward(x)
        conv, norm, act = self
        rest = conv.weight[:, conv.in_channels - x.shape[1]:]
        return act(norm(conv._conv_forward(x, rest, conv.bias).add_(leading)))


class ResidualBlock(nn.Module):
    """x + (conv3 -> norm -> relu -> conv3 -> norm)(x), reflection padding (CycleGAN's ResnetBlock).

    [B, C, H, W] -> [B, C, H, W].
    """

    def __init__(self, channels: int, norm: str = "instance"):
        super().__init__()
        self.body = nn.Sequential(
            ConvBlock(channels, channels, 3, norm=norm, act="relu"),
            ConvBlock(channels, channels, 3, norm=norm, act="none"),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class UpConvBlock(nn.Sequential):
    """Transposed conv (k3, stride 2) -> norm -> activation: exactly doubles H and W (CycleGAN's upsampling).

    [B, in_channels, H, W] -> [B, out_channels, 2H, 2W].
    """

    def __init__(self, in_channels: int, out_channels: int, norm: str = "instance", act: str = "relu"):
        super().__init__(
            nn.ConvTranspose2d(in_channels, out_channels, 3, stride=2, padding=1, output_padding=1,
                               bias=norm == "none"),
            norm_layer(norm, out_channels),
            activation(act),
        )


def upsample_to(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Nearest-neighbour resize of x [B, C, h, w] to the spatial size of `like` [.., H, W].

    Used by the U-Nets instead of transposed convs: no checkerboard artefacts and any input size works.
    """
    return F.interpolate(x, size=like.shape[-2:], mode="nearest")
