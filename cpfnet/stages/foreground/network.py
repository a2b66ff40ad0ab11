"""Stage 2b: the parsing-flow-guided foreground generator G_fg and its conditional discriminator (paper III-C).

A dual-path U-Net [34]. The parsing encoder encodes x_parsing^i, the appearance encoder encodes the appearance
foreground I_a. At every encoder level the appearance feature is warped by the flow F (resized to that level),
split by the visibility map V into its visible and hidden parts, concatenated, and passed through two
convolutions with a residual path (FlowWarpBlock). The decoder receives, at every level through skip
connections, the parsing features concatenated with the warped features, and outputs x_fg^i in [-1, 1].

With `pixel_blend` (our addition, issue 9: vid2vid's and few-shot vid2vid's `m * warped + (1 - m) *
hallucinated`), a second head gives a per-pixel weight m in [0, 1] between the appearance image warped by the
flow and the generated pixels (`blend_with_warp`): parts the photo shows keep its real pixels, which the
transfer pipeline samples from the full-size photo, and only what it hides is generated.

`use_flow=False` is the paper's ablation "w/o appearance flow": appearance features reach the decoder unwarped
(no flow, no visibility, no warp blocks).

For inference, `encode_appearance(I_a)` runs once per target photo; `forward(..., appearance_features=...)`
reuses it for every batch of frames, a batch-1 encoding broadcasting to the frames' batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
import torch.nn.functional as F

from cpfnet.body.parsing_labels import NUM_LABELS
from cpfnet.nn.blocks import ConvBlock
from cpfnet.nn.dtype import weights_dtype
from cpfnet.nn.discriminator import MultiscalePatchDiscriminator
from cpfnet.nn.unet import UNetDecoder, UNetEncoder
from cpfnet.ops.batch import broadcast_batch
from cpfnet.ops.warp import resize_flow, warp


class FlowWarpBlock(nn.Module):
    """Warp an appearance feature by the flow, split it by visibility, refine it (paper III-C).

    feature [B or 1, C, h, w], flow [B, 2, H, W] (absolute appearance pixels at full size), visibility
    probabilities [B, 3, H, W] -> [B, C, h, w]:
        w = warp(feature, resize_flow(flow, h, w));  v = area-resized visibility
        out = w + conv(conv([w * v_visible, w * v_hidden]))
    """

    def __init__(self, channels: int, norm: str = "instance"):
        super().__init__()
        self.body = nn.Sequential(
            ConvBlock(2 * channels, channels, 3, norm=norm, act="relu"),
            ConvBlock(channels, channels, 3, norm=norm, act="none"),
        )

    def forward(self, feature: torch.Tensor, flow: torch.Tensor, visibility: torch.Tensor) -> torch.Tensor:
        h, w = feature.shape[-2:]
        feature = broadcast_batch(feature, flow.shape[0], "appearance feature")
        warped = warp(feature, resize_flow(flow, h, w))
        if visibility.shape[-2:] != (h, w):
            visibility = F.interpolate(visibility, size=(h, w), mode="area")
        visibility = visibility.to(warped.dtype)
        split = torch.cat([warped * visibility[:, 0:1], warped * visibility[:, 1:2]], dim=1)
        return warped + self.body(split)


@dataclass
class ForegroundGeneratorConfig:
    """Mirrors ForegroundGenerator; the defaults are paper scale (5 levels, 64 doubling to 512)."""

    num_labels: int = NUM_LABELS
    channels: tuple[int, ...] = (64, 128, 256, 512, 512)
    norm: str = "instance"
    use_flow: bool = True
    pixel_blend: bool = False


def blend_with_warp(foreground: torch.Tensor, warped: torch.Tensor, blend: torch.Tensor) -> torch.Tensor:
    """m * warped + (1 - m) * foreground: generated x_fg [B, 3, H, W], the appearance image warped by the flow
    [B, 3, H, W] (same range), m [B, 1, H, W] in [0, 1]."""
    return blend * warped + (1.0 - blend) * foreground


class ForegroundGenerator(nn.Module):
    """(parsing [B, 20, H, W] probabilities or one-hot, flow [B, 2, H, W], visibility [B, 3, H, W] probabilities
    or one-hot, appearance I_a [B or 1, 3, H, W] in [-1, 1]) -> {"foreground": [B, 3, H, W] in [-1, 1] (tanh)},
    with pixel_blend also "blend": m [B, 1, H, W] in [0, 1] (sigmoid), the weight of the warped appearance.
    """

    def __init__(self, num_labels: int = NUM_LABELS, channels: tuple[int, ...] = (64, 128, 256, 512, 512),
                 norm: str = "instance", use_flow: bool = True, pixel_blend: bool = False):
        super().__init__()
        if pixel_blend and not use_flow:
            raise ValueError("pixel_blend blends the flow-warped appearance: it needs use_flow")
        channels = tuple(channels)
        self.num_labels = num_labels
        self.use_flow = use_flow
        self.parsing_encoder = UNetEncoder(num_labels, channels, norm=norm)
        self.appearance_encoder = UNetEncoder(3, channels, norm=norm)
        self.warp_blocks = nn.ModuleList(FlowWarpBlock(c, norm) for c in channels) if use_flow else None
        self.decoder = UNetDecoder([2 * c for c in channels], channels, norm=norm)
        self.head = nn.Conv2d(channels[0], 3, 3, padding=1, padding_mode="reflect")
        self.pixel_blend = pixel_blend
        self.blend_head = nn.Conv2d(channels[0], 1, 3, padding=1, padding_mode="reflect") if pixel_blend else None

    def encode_appearance(self, appearance: torch.Tensor) -> list[torch.Tensor]:
        """I_a [B, 3, H, W] in [-1, 1] -> appearance features, one per level [B, channels[k], H/2**k, W/2**k]."""
        if appearance.ndim != 4 or appearance.shape[1] != 3:
            raise ValueError(f"appearance must be [B, 3, H, W], got {tuple(appearance.shape)}")
        return self.appearance_encoder(appearance.to(weights_dtype(self)))

    def forward(self, parsing: torch.Tensor, flow: torch.Tensor | None = None,
                visibility: torch.Tensor | None = None, appearance: torch.Tensor | None = None,
                appearance_features: Sequence[torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
        """Give either `appearance` or its precomputed `encode_appearance` output. `flow` and `visibility` are
        needed with use_flow and ignored without."""
        if parsing.ndim != 4 or parsing.shape[1] != self.num_labels:
            raise ValueError(f"parsing must be [B, {self.num_labels}, H, W], got {tuple(parsing.shape)}")
        if (appearance is None) == (appearance_features is None):
            raise ValueError("give exactly one of appearance and appearance_features")
        batch = parsing.shape[0]
        # The network computes in its weights' dtype (bf16: `cpfnet.precision`); the flow stays float32.
        dtype = weights_dtype(self)
        parsing = parsing.to(dtype)
        if appearance_features is None:
            appearance_features = self.encode_appearance(appearance)
        if self.use_flow:
            if flow is None or visibility is None:
                raise ValueError("this generator warps by the flow: give flow and visibility")
            if flow.shape != (batch, 2, *parsing.shape[2:]) or visibility.shape != (batch, 3, *parsing.shape[2:]):
                raise ValueError(f"flow must be [B, 2, H, W] and visibility [B, 3, H, W] like the parsing "
                                 f"{tuple(parsing.shape)}, got {tuple(flow.shape)} and {tuple(visibility.shape)}")
            appearance_features = [block(a.to(dtype), flow, visibility.to(dtype))
                                   for block, a in zip(self.warp_blocks, appearance_features)]
        else:
            appearance_features = [broadcast_batch(a.to(dtype), batch, "appearance feature")
                                   for a in appearance_features]
        skips = [torch.cat([p, a], dim=1) for p, a in zip(self.parsing_encoder(parsing), appearance_features)]
        x = self.decoder(skips)
        out = {"foreground": torch.tanh(self.head(x).float())}
        if self.blend_head is not None:
            out["blend"] = torch.sigmoid(self.blend_head(x).float())
        return out


@dataclass
class ForegroundDiscriminatorConfig:
    """Mirrors ForegroundDiscriminator; the defaults are pix2pixHD's and vid2vid's (2 scales, 3 layers, ndf 64)."""

    num_labels: int = NUM_LABELS
    ndf: int = 64
    n_layers: int = 3
    num_d: int = 2
    norm: str = "instance"


class ForegroundDiscriminator(nn.Module):
    """Conditional multi-scale patch discriminator D(I_a, x_parsing^i, x_fg^i) of eq. 3.

    (appearance [B or 1, 3, H, W], parsing [B, 20, H, W], foreground [B, 3, H, W]) ->
    {"logits": list of num_d patch-logit maps [B, 1, h_s, w_s], finest first}.
    """

    def __init__(self, num_labels: int = NUM_LABELS, ndf: int = 64, n_layers: int = 3, num_d: int = 2,
                 norm: str = "instance"):
        super().__init__()
        self.discriminator = MultiscalePatchDiscriminator(3 + num_labels + 3, ndf, n_layers, num_d, norm)

    def forward(self, appearance: torch.Tensor, parsing: torch.Tensor,
                foreground: torch.Tensor) -> dict[str, list[torch.Tensor]]:
        appearance = broadcast_batch(appearance, foreground.shape[0], "appearance")
        return self.discriminator(torch.cat([appearance, parsing, foreground], dim=1))
