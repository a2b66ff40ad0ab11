"""Liquid Warping GAN (Liu et al., ICCV 2019) as the paper adapts it (IV-A2): the appearance image I_a is the
source, the frame with the target pose the reference.

    background stream  G_BG (I_a with the person masked out, the mask)      -> bg^                   once per photo
    source stream      G_SID(I_a's foreground, C_s)                         -> P_s, A_s  (reconstructs I_a)
    transfer stream    G_TSF(I_syn = I_a's foreground warped by T, C_t)     -> P_t, A_t
        with Liquid Warping Blocks: after every downsampling layer and every residual block of G_TSF, the
        G_SID feature of the same layer, warped by the transformation flow T, is added:
        X_t^l <- X_t^l + warp(X_s^l, T)
    x^_s = A_s * P_s + (1 - A_s) * bg^        x^_t = A_t * P_t + (1 - A_t) * bg^

A is the person's weight (LWG's code predicts its complement, the background's). The three streams have
LWG's shapes: G_BG is a ResNet generator (c7s1-ngf, `n_downsample` stride-2 convs, `n_blocks` residual blocks,
transposed convs, tanh); G_SID and G_TSF are ResUNets (the same with skip connections from every encoder
level to the decoder, and two heads: colour (tanh) and A (sigmoid)). LWG: ngf 64, 3 downsamplings, 6 blocks.

The transformation flow T: LWG computes it from SMPL fits of both images (it cannot ship here). Here it is an
input, as an absolute appearance flow (cpfnet.ops.warp: for every pixel of the frame, the pixel of I_a it
comes from): the stage-2a flow network's, the synthetic dancers' exact flow, or a fitted body's (see
cpfnet.baselines.lwg.pipeline). The correspondence maps C_s, C_t (LWG: the rendered SMPL mesh) are the pose
maps and the person mask (the source's from its parsing, the frame's from the visibility that comes with T).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cpfnet.body.pose_maps import POSE_CHANNELS
from cpfnet.nn.blocks import ConvBlock, ResidualBlock, UpConvBlock
from cpfnet.nn.discriminator import MultiscalePatchDiscriminator
from cpfnet.nn.resnet import ResnetGenerator
from cpfnet.ops.batch import broadcast_batch
from cpfnet.ops.warp import resize_flow, warp


class ResUNet(nn.Module):
    """LWG's ResUNet stream: [B, in_channels, H, W] -> colour [B, 3, H, W] (tanh), A [B, 1, H, W] (sigmoid).

    encoders[0] is c7s1-ngf, encoders[k] (k >= 1) a stride-2 conv doubling the width; then the residual
    blocks; decoders[k] a transposed conv halving the width, concatenated with the encoder feature of the same
    size and reduced by a 3x3 conv (the skip)."""

    def __init__(self, in_channels: int, ngf: int = 64, n_downsample: int = 3, n_blocks: int = 6,
                 norm: str = "instance"):
        super().__init__()
        self.encoders = nn.ModuleList([ConvBlock(in_channels, ngf, 7, norm=norm)])
        width = ngf
        for _ in range(n_downsample):
            self.encoders.append(ConvBlock(width, 2 * width, 3, stride=2, norm=norm, padding_mode="zeros"))
            width *= 2
        self.blocks = nn.ModuleList(ResidualBlock(width, norm) for _ in range(n_blocks))
        self.decoders, self.skips = nn.ModuleList(), nn.ModuleList()
        for _ in range(n_downsample):
            self.decoders.append(UpConvBlock(width, width // 2, norm=norm))
            self.skips.append(ConvBlock(width, width // 2, 3, norm=norm))
            width //= 2
        self.color = nn.Conv2d(width, 3, 7, padding=3, padding_mode="reflect")
        self.mask = nn.Conv2d(width, 1, 7, padding=3, padding_mode="reflect")

    def decode(self, x: torch.Tensor, encoded: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        """Bottleneck feature and the encoder features (shallowest first) -> {"color", "mask"}."""
        for k, (up, skip) in enumerate(zip(self.decoders, self.skips)):
            x = skip(torch.cat([encoded[-2 - k], up(x)], dim=1))
        return {"color": torch.tanh(self.color(x)), "mask": torch.sigmoid(self.mask(x))}


@dataclass
class LiquidWarpingGeneratorConfig:
    """Mirrors LiquidWarpingGenerator; the defaults are LWG's (ngf 64, 3 downsamplings, 6 residual blocks)."""

    pose_channels: int = POSE_CHANNELS
    ngf: int = 64
    n_downsample: int = 3
    n_blocks: int = 6
    norm: str = "instance"


class LiquidWarpingGenerator(nn.Module):
    """The three-stream generator. Inputs, images in [-1, 1]:
        background_input [B or 1, 4, H, W]: I_a with the (dilated) person set to 0, and the background mask;
        source_input [B or 1, 3 + C, H, W]: I_a's foreground and C_s = (source pose maps, person mask);
        transfer_input [B, 3 + C, H, W]: I_syn (the foreground warped by T, masked) and C_t;
        flow [B, 2, H, W]: T, absolute I_a pixels.
    C = pose_channels + 1. H, W: multiples of 2**n_downsample.
    -> {"background" [B', 3, H, W], "source_color", "source_mask", "transfer_color", "transfer_mask"}.

    For transfer, `background(...)` and `encode_source(...)` run once per photo and `transfer(...)` per frame.
    """

    def __init__(self, pose_channels: int = POSE_CHANNELS, ngf: int = 64, n_downsample: int = 3, n_blocks: int = 6,
                 norm: str = "instance"):
        super().__init__()
        self.condition_channels = pose_channels + 1
        self.factor = 2 ** n_downsample
        self.background_stream = ResnetGenerator(4, 3, ngf, n_downsample, n_blocks, norm)
        self.source_stream = ResUNet(3 + self.condition_channels, ngf, n_downsample, n_blocks, norm)
        self.transfer_stream = ResUNet(3 + self.condition_channels, ngf, n_downsample, n_blocks, norm)

    def _check(self, x: torch.Tensor, channels: int, name: str) -> None:
        if x.ndim != 4 or x.shape[1] != channels:
            raise ValueError(f"{name} must be [B, {channels}, H, W], got {tuple(x.shape)}")
        if x.shape[2] % self.factor or x.shape[3] % self.factor:
            raise ValueError(f"{name}: size {x.shape[2]}x{x.shape[3]} must be a multiple of {self.factor}")

    def background(self, background_input: torch.Tensor) -> torch.Tensor:
        """G_BG: [B, 4, H, W] -> the inpainted background [B, 3, H, W] (tanh)."""
        self._check(background_input, 4, "background_input")
        return torch.tanh(self.background_stream(background_input))

    def encode_source(self, source_input: torch.Tensor) -> dict[str, list[torch.Tensor]]:
        """G_SID's features: {"encoded": per encoder level, shallowest first, "blocks": after every residual
        block} (what the Liquid Warping Blocks carry, and what reconstructs I_a)."""
        self._check(source_input, 3 + self.condition_channels, "source_input")
        stream = self.source_stream
        x, encoded = source_input, []
        for layer in stream.encoders:
            x = layer(x)
            encoded.append(x)
        blocks = []
        for block in stream.blocks:
            x = block(x)
            blocks.append(x)
        return {"encoded": encoded, "blocks": blocks}

    def reconstruct_source(self, source: dict[str, list[torch.Tensor]]) -> dict[str, torch.Tensor]:
        """G_SID's decoder on `encode_source`'s features -> {"color", "mask"} of I_a."""
        return self.source_stream.decode(source["blocks"][-1] if source["blocks"] else source["encoded"][-1],
                                         source["encoded"])

    def transfer(self, transfer_input: torch.Tensor, source: dict[str, list[torch.Tensor]],
                 flow: torch.Tensor) -> dict[str, torch.Tensor]:
        """G_TSF with the Liquid Warping Blocks -> {"color", "mask"} of the frame. `source`: encode_source's
        features (batch B or 1)."""
        self._check(transfer_input, 3 + self.condition_channels, "transfer_input")
        b, _, h, w = transfer_input.shape
        if flow.shape != (b, 2, h, w):
            raise ValueError(f"flow must be [B, 2, {h}, {w}] like transfer_input, got {tuple(flow.shape)}")
        stream = self.transfer_stream

        def lwb(feature: torch.Tensor) -> torch.Tensor:
            feature = broadcast_batch(feature, b, "source feature")
            return warp(feature, resize_flow(flow, *feature.shape[-2:]))

        x = stream.encoders[0](transfer_input)
        encoded = [x]
        for layer, src in zip(stream.encoders[1:], source["encoded"][1:]):
            x = layer(x) + lwb(src)
            encoded.append(x)
        for block, src in zip(stream.blocks, source["blocks"]):
            x = block(x) + lwb(src)
        return stream.decode(x, encoded)

    def forward(self, background_input: torch.Tensor, source_input: torch.Tensor, transfer_input: torch.Tensor,
                flow: torch.Tensor) -> dict[str, torch.Tensor]:
        source = self.encode_source(source_input)
        reconstructed = self.reconstruct_source(source)
        transferred = self.transfer(transfer_input, source, flow)
        return {"background": self.background(background_input),
                "source_color": reconstructed["color"], "source_mask": reconstructed["mask"],
                "transfer_color": transferred["color"], "transfer_mask": transferred["mask"]}


def compose(color: torch.Tensor, mask: torch.Tensor, background: torch.Tensor) -> torch.Tensor:
    """x^ = A * P + (1 - A) * bg^: colour [B, 3, H, W], person weight A [B, 1, H, W], background [B or 1, 3,
    H, W] -> [B, 3, H, W]."""
    return mask * color + (1 - mask) * broadcast_batch(background, color.shape[0], "background")


@dataclass
class LiquidWarpingDiscriminatorConfig:
    """Mirrors LiquidWarpingDiscriminator; LWG's: one PatchGAN, 4 layers, ndf 64."""

    pose_channels: int = POSE_CHANNELS
    ndf: int = 64
    n_layers: int = 4
    num_d: int = 1
    norm: str = "instance"


class LiquidWarpingDiscriminator(nn.Module):
    """LWG's conditional PatchGAN D(x^_t, C_t): (C_t [B, pose_channels + 1, H, W], frame [B, 3, H, W]) ->
    {"logits": one patch map per scale}."""

    def __init__(self, pose_channels: int = POSE_CHANNELS, ndf: int = 64, n_layers: int = 4, num_d: int = 1,
                 norm: str = "instance"):
        super().__init__()
        self.net = MultiscalePatchDiscriminator(pose_channels + 1 + 3, ndf, n_layers, num_d, norm)

    def forward(self, condition: torch.Tensor, frame: torch.Tensor) -> dict[str, list[torch.Tensor]]:
        return self.net(torch.cat([condition, frame], dim=1))
