"""Soft-Gated Warping-GAN (Dong et al., NeurIPS 2018) as the paper adapts it (IV-A2): frame by frame,
target pose + appearance image -> the frame.

    x_parsing^t = G_parsing(I_parsing, s_pose^t)                 stage I: the pose-guided parser (stage 1's network)
    flow^t      = M(I_parsing, x_parsing^t)                       geometric matcher: affine, then TPS
    x^t         = G(s_pose^t, x_parsing^t, I_a, flow^t)           stage II: the Warping-GAN generator

- Parser: the CycleGAN ResNet generator with 9 residual blocks, which is exactly CPF-Net's stage 1 network
  (the paper, III-B, takes it from [10]); here it is the baseline's own, trained in the same run.
- GeometricMatcher: CNNGeometric's siamese design (Rocco et al. 2017) on the two parsings: a shared feature
  extractor (stride-2 conv blocks, L2-normalised features), a correlation layer (every target position against
  every source position), and a regressor (conv 7x7 -> 128, conv 5x5 -> 64: `regressor_channels`; linear) to the
  parameters. Two of them, as Soft-Gated Warping-GAN chains them: an affine between I_parsing and
  x_parsing, then a TPS (g x g control points) between the affine-warped I_parsing and x_parsing. Both heads
  start at the identity. It works on parsings resized to `match_size` (the transformation is in normalised
  coordinates, so it applies at any resolution).
- SoftGatedGenerator: two encoders (c7s1-ngf and `n_downsample` stride-2 convs), one on (pose maps, target
  parsing), one on I_a; at the bottleneck the soft-gated warping block warps the appearance features by the
  matcher's flow and gates them; then `n_blocks` residual blocks and the transposed-conv decoder to the whole
  crop (background included, as the pix2pixHD baseline: the frame is made from I_a), tanh.
- SoftGatedDiscriminator: the conditional multi-scale PatchGAN of pix2pixHD on (pose maps, target parsing,
  I_a, frame) that also returns every layer's features, for the pyramidal hierarchy loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
import torch.nn.functional as F

from cpfnet.body.parsing_labels import NUM_LABELS
from cpfnet.body.pose_maps import POSE_CHANNELS
from cpfnet.nn.blocks import ConvBlock, ResidualBlock, UpConvBlock
from cpfnet.nn.discriminator import MultiscalePatchDiscriminator
from cpfnet.ops.geometric import affine_flow, affine_tps_flow, control_points, tps_system_inverse
from cpfnet.ops.batch import broadcast_batch
from cpfnet.ops.warp import resize_flow, warp


# --- the geometric matcher ----------------------------------------------------------------------------------

def correlation(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """CNNGeometric's matching layer: source, target features [B, C, h, w] (L2-normalised over C) ->
    [B, h*w, h, w], channel k at target position (i, j) = <source at position k (row-major), target at (i, j)>,
    then ReLU and L2 normalisation over the h*w channels."""
    if source.shape != target.shape:
        raise ValueError(f"source {tuple(source.shape)} and target {tuple(target.shape)} features differ")
    b, c, h, w = source.shape
    corr = torch.einsum("bck,bcl->bkl", source.flatten(2), target.flatten(2)).view(b, h * w, h, w)
    return F.normalize(F.relu(corr), dim=1)


class _MatchFeatures(nn.Sequential):
    """[B, in, S, S] -> [B, channels[-1], S/2**len(channels), ...], L2-normalised over channels."""

    def __init__(self, in_channels: int, channels: tuple[int, ...], norm: str):
        layers, prev = [], in_channels
        for width in channels:
            layers.append(ConvBlock(prev, width, 3, stride=2, norm=norm, padding_mode="zeros"))
            prev = width
        super().__init__(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(super().forward(x), dim=1)


class _Regressor(nn.Module):
    """Correlation [B, h*w, h, w] -> parameters [B, n], starting at `identity` (zero last layer): conv 7x7,
    conv 5x5 (CNNGeometric's 128 and 64 channels), average-pooled to 4 x 4, linear."""

    def __init__(self, positions: int, identity: torch.Tensor, widths: tuple[int, int], norm: str):
        super().__init__()
        self.body = nn.Sequential(ConvBlock(positions, widths[0], 7, norm=norm, padding_mode="zeros"),
                                  ConvBlock(widths[0], widths[1], 5, norm=norm, padding_mode="zeros"),
                                  nn.AdaptiveAvgPool2d(4), nn.Flatten())
        self.head = nn.Linear(widths[1] * 16, identity.numel())
        nn.init.zeros_(self.head.weight)
        with torch.no_grad():
            self.head.bias.copy_(identity.flatten())

    def forward(self, correlation_map: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(correlation_map))


@dataclass
class GeometricMatcherConfig:
    """Mirrors GeometricMatcher; the defaults are the paper configuration's (CNNGeometric's 16 x 16 matching
    grid from 256 px inputs, a 5 x 5 TPS grid)."""

    num_labels: int = NUM_LABELS
    channels: tuple[int, ...] = (64, 128, 256, 256)
    regressor_channels: tuple[int, int] = (128, 64)
    match_size: int = 256
    tps_grid: int = 5
    norm: str = "instance"


class GeometricMatcher(nn.Module):
    """(source parsing [B or 1, 20, H, W], target parsing [B, 20, H, W], probabilities or one-hot) ->
    {"flow": [B, 2, H, W] absolute source pixels (affine after TPS), "theta": affine [B, 2, 3],
     "tps": the TPS control points' source positions [B, g*g, 2] in the affine-warped source (normalised)}.
    """

    def __init__(self, num_labels: int = NUM_LABELS, channels: tuple[int, ...] = (64, 128, 256, 256),
                 regressor_channels: tuple[int, int] = (128, 64), match_size: int = 256, tps_grid: int = 5,
                 norm: str = "instance"):
        super().__init__()
        channels = tuple(channels)
        cells = match_size // 2 ** len(channels)
        if cells < 2 or match_size % 2 ** len(channels):
            raise ValueError(f"match_size {match_size} must be a multiple of 2**{len(channels)} giving a "
                             "matching grid of at least 2 x 2")
        self.num_labels = num_labels
        self.match_size = match_size
        self.affine_features = _MatchFeatures(num_labels, channels, norm)
        self.tps_features = _MatchFeatures(num_labels, channels, norm)
        widths = tuple(regressor_channels)
        self.affine_regressor = _Regressor(cells * cells, torch.tensor([[1.0, 0, 0], [0, 1.0, 0]]), widths, norm)
        # Computed on the CPU even when the module is built on another (or the meta) device; .to() moves them.
        control = control_points(tps_grid, device="cpu", dtype=torch.float64)
        self.register_buffer("control", control.float(), persistent=False)
        self.register_buffer("system_inverse", tps_system_inverse(control).float(), persistent=False)
        self.tps_regressor = _Regressor(cells * cells, control.float(), widths, norm)

    def _resize(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] == self.match_size and x.shape[-2] == self.match_size:
            return x
        return F.interpolate(x, size=(self.match_size, self.match_size), mode="bilinear", align_corners=False,
                             antialias=x.shape[-1] > self.match_size)

    def forward(self, source: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
        if target.ndim != 4 or target.shape[1] != self.num_labels:
            raise ValueError(f"parsings must be [B, {self.num_labels}, H, W], got {tuple(target.shape)}")
        b, _, h, w = target.shape
        source = broadcast_batch(source, b, "source parsing")
        if source.shape != target.shape:
            raise ValueError(f"source parsing {tuple(source.shape)} and target {tuple(target.shape)} differ")
        small_source, small_target = self._resize(source), self._resize(target)
        target_features = self.affine_features(small_target)
        theta = self.affine_regressor(correlation(self.affine_features(small_source), target_features)).view(b, 2, 3)
        s = self.match_size
        affine_warped = warp(small_source, affine_flow(theta, s, s))
        tps = self.tps_regressor(correlation(self.tps_features(affine_warped), self.tps_features(small_target)))
        tps = tps.view(b, -1, 2)
        flow = affine_tps_flow(theta, self.control, self.system_inverse, tps, h, w)
        return {"flow": flow, "theta": theta, "tps": tps}


# --- the generator ------------------------------------------------------------------------------------------

class SoftGatedWarpBlock(nn.Module):
    """The soft-gated warping block at one feature level.

    appearance feature a [B or 1, C, h, w], target feature t [B, C, h, w], flow [B, 2, H, W] (absolute
    appearance pixels at full size) -> ({"feature": [B, C, h, w], "gate": [B, 1, h, w]}):
        w = warp(a, resize_flow(flow, h, w))
        g = sigmoid(conv3(relu(conv3([t, w]))))        the soft gate, one value per position
        out = g * w + (1 - g) * a
    The gate decides where the transformation applies: 1 takes the warped feature (the body, moved to the
    target pose), 0 keeps the feature where it was (the fixed-camera background, which must not move with the
    body; what the matcher's one global warp gets wrong). Its last layer starts at zero (g = 0.5).
    """

    def __init__(self, channels: int, norm: str = "instance"):
        super().__init__()
        self.gate = nn.Sequential(ConvBlock(2 * channels, channels, 3, norm=norm, act="relu"),
                                  nn.Conv2d(channels, 1, 3, padding=1))
        nn.init.zeros_(self.gate[-1].weight)
        nn.init.zeros_(self.gate[-1].bias)

    def forward(self, appearance: torch.Tensor, target: torch.Tensor, flow: torch.Tensor) -> dict[str, torch.Tensor]:
        h, w = target.shape[-2:]
        appearance = broadcast_batch(appearance, target.shape[0], "appearance feature")
        warped = warp(appearance, resize_flow(flow, h, w))
        gate = torch.sigmoid(self.gate(torch.cat([target, warped], dim=1)))
        return {"feature": gate * warped + (1 - gate) * appearance, "gate": gate}


def _encoder(in_channels: int, ngf: int, n_downsample: int, norm: str) -> nn.Sequential:
    layers, width = [ConvBlock(in_channels, ngf, 7, norm=norm)], ngf
    for _ in range(n_downsample):
        layers.append(ConvBlock(width, width * 2, 3, stride=2, norm=norm, padding_mode="zeros"))
        width *= 2
    return nn.Sequential(*layers)


@dataclass
class SoftGatedGeneratorConfig:
    """Mirrors SoftGatedGenerator; the defaults are the paper configuration's (the CycleGAN ResNet generator
    the Warping-GAN builds on: ngf 64, 2 downsamplings, 9 residual blocks)."""

    num_labels: int = NUM_LABELS
    pose_channels: int = POSE_CHANNELS
    ngf: int = 64
    n_downsample: int = 2
    n_blocks: int = 9
    norm: str = "instance"


class SoftGatedGenerator(nn.Module):
    """(pose maps [B, 35, H, W], target parsing [B, 20, H, W], appearance I_a [B or 1, 3, H, W] in [-1, 1],
    flow [B, 2, H, W] absolute appearance pixels) -> {"frame": [B, 3, H, W] tanh, "gate": [B, 1, h, w]}.
    H and W must be multiples of 2**n_downsample. `encode_appearance(I_a)` runs once per target photo;
    `forward(..., appearance_features=...)` reuses it."""

    def __init__(self, num_labels: int = NUM_LABELS, pose_channels: int = POSE_CHANNELS, ngf: int = 64,
                 n_downsample: int = 2, n_blocks: int = 9, norm: str = "instance"):
        super().__init__()
        self.num_labels, self.pose_channels = num_labels, pose_channels
        self.factor = 2 ** n_downsample
        width = ngf * self.factor
        self.target_encoder = _encoder(pose_channels + num_labels, ngf, n_downsample, norm)
        self.appearance_encoder = _encoder(3, ngf, n_downsample, norm)
        self.warp_block = SoftGatedWarpBlock(width, norm)
        self.fuse = ConvBlock(2 * width, width, 1, norm=norm)
        layers: list[nn.Module] = [ResidualBlock(width, norm) for _ in range(n_blocks)]
        for _ in range(n_downsample):
            layers.append(UpConvBlock(width, width // 2, norm=norm))
            width //= 2
        layers.append(nn.Conv2d(width, 3, 7, padding=3, padding_mode="reflect"))
        self.decoder = nn.Sequential(*layers)

    def encode_appearance(self, appearance: torch.Tensor) -> torch.Tensor:
        """I_a [B, 3, H, W] -> appearance features [B, ngf * 2**n_downsample, H / 2**n, W / 2**n]."""
        if appearance.ndim != 4 or appearance.shape[1] != 3:
            raise ValueError(f"appearance must be [B, 3, H, W], got {tuple(appearance.shape)}")
        return self.appearance_encoder(appearance)

    def forward(self, pose_maps: torch.Tensor, parsing: torch.Tensor, appearance: torch.Tensor | None = None,
                flow: torch.Tensor | None = None,
                appearance_features: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        b, c, h, w = pose_maps.shape
        if c != self.pose_channels or parsing.shape != (b, self.num_labels, h, w):
            raise ValueError(f"expected [B, {self.pose_channels}, H, W] pose maps and [B, {self.num_labels}, H, W] "
                             f"parsing, got {tuple(pose_maps.shape)} and {tuple(parsing.shape)}")
        if h % self.factor or w % self.factor:
            raise ValueError(f"input size {h}x{w} must be a multiple of {self.factor}")
        if flow is None or flow.shape != (b, 2, h, w):
            raise ValueError(f"flow must be [B, 2, {h}, {w}], got {None if flow is None else tuple(flow.shape)}")
        if (appearance is None) == (appearance_features is None):
            raise ValueError("give exactly one of appearance and appearance_features")
        if appearance_features is None:
            if appearance.shape[1:] != (3, h, w):
                raise ValueError(f"appearance must be [B, 3, {h}, {w}], got {tuple(appearance.shape)}")
            appearance_features = self.encode_appearance(appearance)
        target = self.target_encoder(torch.cat([pose_maps, parsing], dim=1))
        gated = self.warp_block(appearance_features, target, flow)
        x = self.fuse(torch.cat([target, gated["feature"]], dim=1))
        return {"frame": torch.tanh(self.decoder(x)), "gate": gated["gate"]}


# --- the discriminator --------------------------------------------------------------------------------------

@dataclass
class SoftGatedDiscriminatorConfig:
    """Mirrors SoftGatedDiscriminator; pix2pixHD's defaults (2 scales of 3-layer PatchGANs, ndf 64)."""

    num_labels: int = NUM_LABELS
    pose_channels: int = POSE_CHANNELS
    ndf: int = 64
    n_layers: int = 3
    num_d: int = 2
    norm: str = "instance"


class SoftGatedDiscriminator(nn.Module):
    """Conditional multi-scale PatchGAN on (pose maps [B, 35, H, W], parsing [B, 20, H, W], I_a [B or 1, 3,
    H, W], frame [B, 3, H, W]) -> {"logits": one patch map [B, 1, h_s, w_s] per scale, finest first,
    "features": per scale, the output of every hidden layer (after its activation), first layer first}."""

    def __init__(self, num_labels: int = NUM_LABELS, pose_channels: int = POSE_CHANNELS, ndf: int = 64,
                 n_layers: int = 3, num_d: int = 2, norm: str = "instance"):
        super().__init__()
        self.net = MultiscalePatchDiscriminator(pose_channels + num_labels + 6, ndf, n_layers, num_d, norm)

    def forward(self, pose_maps: torch.Tensor, parsing: torch.Tensor, appearance: torch.Tensor,
                frame: torch.Tensor) -> dict[str, list]:
        b = frame.shape[0]
        x = torch.cat([pose_maps, parsing, broadcast_batch(appearance, b, "appearance"), frame], dim=1)
        logits, features = [], []
        for i, scale in enumerate(self.net.scales):
            if i:
                x = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
            y, hidden = x, []
            for layer in scale.net:
                y = layer(y)
                if isinstance(layer, nn.LeakyReLU):
                    hidden.append(y)
            logits.append(y)
            features.append(hidden)
        return {"logits": logits, "features": features}
