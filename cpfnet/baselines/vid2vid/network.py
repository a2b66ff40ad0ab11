"""vid2vid (Wang et al., NeurIPS 2018) as the paper adapts it (Section IV-A2): the appearance image I_a joins
every frame's input.

Sequential generator (vid2vid eq. 4), L = `previous_frames`:

    x^t = (1 - m^t) * warp(x^{t-1}, w^t) + m^t * h^t
    (h^t, w^t, m^t) = F(s_pose^{t-L..t}, I_a, x^{t-L..t-1})

h^t is the hallucinated frame, w^t the flow from frame t back to frame t-1 (pixel offsets), m^t the soft
occlusion mask that chooses the hallucinated frame where warping cannot explain frame t. vid2vid's composite
generator: a semantic encoder (the pose maps of frames t-L..t and I_a) and an image encoder (the L previous
frames), each c7s1-ngf, `n_downsample` stride-2 convs and the first half of the residual blocks; their
features are summed, then two decoders share that sum: the image branch (second half of the residual blocks,
transposed convs, c7s1-3, tanh) and the flow branch (the same body, c7 -> 2 offsets x `flow_multiplier`,
c7 -> 1 sigmoid mask).

"Concatenate the appearance image with each frame of the target pose video": I_a enters the semantic encoder
once. Its L + 1 copies would be the same channels L + 1 times, and a convolution of identical channels equals
one convolution of one copy with the kernels summed, so one copy is the same function with fewer weights.

Discriminators (vid2vid Sec. 3.2): the image discriminator D_I is the conditional multi-scale PatchGAN on
(s_pose^t, I_a, x^t) (`cpfnet.baselines.pix2pixhd.Pix2PixHDDiscriminator`); the video discriminator D_V judges
`frames` consecutive frames with their pose maps, at `temporal_scales` frame rates (every 1st, 3rd, 9th ...
frame: vid2vid's temporal scales, frames ** s apart), each scale its own multi-scale PatchGAN. vid2vid
conditions D_V on the real frames' optical flow from FlowNet2, which cannot ship here; the pose maps of the
same frames, which determine the motion the frames should show, take its place.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
import torch.nn.functional as F

from cpfnet.body.pose_maps import POSE_CHANNELS
from cpfnet.nn.blocks import ConvBlock, ResidualBlock, UpConvBlock
from cpfnet.nn.discriminator import MultiscalePatchDiscriminator
from cpfnet.ops.batch import broadcast_batch as broadcast
from cpfnet.ops.warp import flow_to_grid, identity_flow


def warp_by_offset(image: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
    """Backward warp: out(p) = image(p + offset(p)), bilinear, borders repeated (as vid2vid resamples).

    image [B, C, H, W], offset [B, 2, H, W] in pixels (x, y) -> [B, C, H, W].
    """
    if offset.ndim != 4 or offset.shape[1] != 2 or offset.shape[0] != image.shape[0] or \
            offset.shape[2:] != image.shape[2:]:
        raise ValueError(f"offset must be [B, 2, H, W] like image {tuple(image.shape)}, got {tuple(offset.shape)}")
    b, _, h, w = offset.shape
    absolute = identity_flow(b, h, w, offset.device, offset.dtype) + offset
    return F.grid_sample(image, flow_to_grid(absolute, h, w).to(image.dtype), mode="bilinear",
                         padding_mode="border", align_corners=False)


def _encoder(in_channels: int, ngf: int, n_downsample: int, n_blocks: int, norm: str) -> nn.Sequential:
    layers: list[nn.Module] = [ConvBlock(in_channels, ngf, 7, norm=norm)]
    width = ngf
    for _ in range(n_downsample):
        layers.append(ConvBlock(width, width * 2, 3, stride=2, norm=norm, padding_mode="zeros"))
        width *= 2
    layers += [ResidualBlock(width, norm=norm) for _ in range(n_blocks)]
    return nn.Sequential(*layers)


def _decoder(width: int, n_downsample: int, n_blocks: int, norm: str) -> nn.Sequential:
    layers: list[nn.Module] = [ResidualBlock(width, norm=norm) for _ in range(n_blocks)]
    for _ in range(n_downsample):
        layers.append(UpConvBlock(width, width // 2, norm=norm))
        width //= 2
    return nn.Sequential(*layers)


def _head(width: int, out_channels: int) -> nn.Conv2d:
    return nn.Conv2d(width, out_channels, 7, padding=3, padding_mode="reflect")


@dataclass
class Vid2VidGeneratorConfig:
    """Mirrors Vid2VidGenerator; the defaults are vid2vid's (ngf 128, 3 downsamplings, 9 residual blocks,
    n_frames_G 3: L = 2 previous frames, flow x 20), with instance norm (vid2vid's default is batch norm)."""

    pose_channels: int = POSE_CHANNELS
    previous_frames: int = 2
    ngf: int = 128
    n_downsample: int = 3
    n_blocks: int = 9
    norm: str = "instance"
    flow_multiplier: float = 20.0


class Vid2VidGenerator(nn.Module):
    """One step of the sequential generator.

    (pose_maps [B, P, H, W] frame t, previous_pose_maps [B, L, P, H, W] frames t-L..t-1 oldest first,
    previous [B, L, 3, H, W] the generated frames t-L..t-1, appearance I_a [B or 1, 3, H, W],
    appearance_pose_maps unused here) -> {"frame" x^t, "hallucinated" h^t, "warped" warp(x^{t-1}, w^t):
    [B, 3, H, W] in [-1, 1]; "flow" w^t [B, 2, H, W] pixel offsets into x^{t-1}; "mask" m^t [B, 1, H, W] in
    [0, 1], 1 = hallucinated}. H and W must be multiples of 2**n_downsample.
    """

    uses_appearance_pose = False

    def __init__(self, pose_channels: int = POSE_CHANNELS, previous_frames: int = 2, ngf: int = 128,
                 n_downsample: int = 3, n_blocks: int = 9, norm: str = "instance", flow_multiplier: float = 20.0):
        super().__init__()
        if previous_frames < 1:
            raise ValueError(f"vid2vid needs at least 1 previous frame, got previous_frames {previous_frames}")
        self.pose_channels = pose_channels
        self.previous_frames = previous_frames
        self.factor = 2 ** n_downsample
        self.flow_multiplier = flow_multiplier
        first, second = n_blocks - n_blocks // 2, n_blocks // 2
        width = ngf * 2 ** n_downsample
        self.semantic_encoder = _encoder(pose_channels * (previous_frames + 1) + 3, ngf, n_downsample, first, norm)
        self.image_encoder = _encoder(3 * previous_frames, ngf, n_downsample, first, norm)
        self.image_decoder = _decoder(width, n_downsample, second, norm)
        self.image_head = _head(ngf, 3)
        self.flow_decoder = _decoder(width, n_downsample, second, norm)
        self.flow_head = _head(ngf, 2)
        self.mask_head = _head(ngf, 1)

    def check_inputs(self, pose_maps: torch.Tensor, previous_pose_maps: torch.Tensor, previous: torch.Tensor,
                     appearance: torch.Tensor) -> None:
        b, c, h, w = pose_maps.shape
        if c != self.pose_channels:
            raise ValueError(f"expected {self.pose_channels} pose channels, got {c}")
        if h % self.factor or w % self.factor:
            raise ValueError(f"input size {h}x{w} must be a multiple of {self.factor}")
        L = self.previous_frames
        if previous is None or previous.shape[1:] != (L, 3, h, w):
            got = None if previous is None else tuple(previous.shape)
            raise ValueError(f"previous must be [B, {L}, 3, {h}, {w}], got {got}")
        if previous_pose_maps is None or previous_pose_maps.shape[1:] != (L, c, h, w):
            got = None if previous_pose_maps is None else tuple(previous_pose_maps.shape)
            raise ValueError(f"previous_pose_maps must be [B, {L}, {c}, {h}, {w}], got {got}")
        if appearance.shape[1:] != (3, h, w):
            raise ValueError(f"appearance must be [B, 3, {h}, {w}], got {tuple(appearance.shape)}")

    def forward(self, pose_maps: torch.Tensor, previous_pose_maps: torch.Tensor, previous: torch.Tensor,
                appearance: torch.Tensor, appearance_pose_maps: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        self.check_inputs(pose_maps, previous_pose_maps, previous, appearance)
        b = pose_maps.shape[0]
        previous = broadcast(previous, b, "previous")
        semantic = torch.cat([broadcast(previous_pose_maps, b, "previous_pose_maps").flatten(1, 2), pose_maps,
                              broadcast(appearance, b, "appearance")], dim=1)
        features = self.semantic_encoder(semantic) + self.image_encoder(previous.flatten(1, 2))
        hallucinated = torch.tanh(self.image_head(self.image_decoder(features)))
        flow_features = self.flow_decoder(features)
        flow = self.flow_head(flow_features) * self.flow_multiplier
        mask = torch.sigmoid(self.mask_head(flow_features))
        warped = warp_by_offset(previous[:, -1], flow)
        frame = mask * hallucinated + (1 - mask) * warped
        return {"frame": frame, "hallucinated": hallucinated, "warped": warped, "flow": flow, "mask": mask}


@dataclass
class TemporalDiscriminatorConfig:
    """Mirrors TemporalDiscriminator; vid2vid's defaults (n_frames_D 3, 2 temporal scales, each a 2-scale
    3-layer PatchGAN with ndf 64)."""

    pose_channels: int = POSE_CHANNELS
    frames: int = 3
    temporal_scales: int = 2
    ndf: int = 64
    n_layers: int = 3
    num_d: int = 2
    norm: str = "instance"


def temporal_span(frames: int, temporal_scales: int) -> int:
    """The clip length the coarsest temporal scale needs: `frames` frames, frames ** (scales - 1) apart."""
    return (frames - 1) * frames ** (temporal_scales - 1) + 1


class TemporalDiscriminator(nn.Module):
    """vid2vid's video discriminator D_V on clips.

    (pose_maps [B, T, P, H, W], frames [B, T, 3, H, W]) -> {"logits": for each temporal scale s (frames
    frames**s apart; every window of the clip, stacked on the batch) its num_d patch maps, finest first}.
    T must be at least temporal_span(frames, temporal_scales).
    """

    def __init__(self, pose_channels: int = POSE_CHANNELS, frames: int = 3, temporal_scales: int = 2, ndf: int = 64,
                 n_layers: int = 3, num_d: int = 2, norm: str = "instance"):
        super().__init__()
        if frames < 2 or temporal_scales < 1:
            raise ValueError(f"the video discriminator needs frames >= 2 and temporal_scales >= 1, got {frames}, "
                             f"{temporal_scales}")
        self.frames = frames
        self.span = temporal_span(frames, temporal_scales)
        self.scales = nn.ModuleList(MultiscalePatchDiscriminator(frames * (pose_channels + 3), ndf, n_layers, num_d,
                                                                 norm) for _ in range(temporal_scales))

    def windows(self, clip: torch.Tensor, scale: int) -> torch.Tensor:
        """[B, T, C, H, W] -> every window of `frames` frames, frames**scale apart: [B * n, frames * C, H, W]."""
        step = self.frames ** scale
        starts = range(clip.shape[1] - (self.frames - 1) * step)
        index = torch.tensor([[s + step * k for k in range(self.frames)] for s in starts], device=clip.device)
        picked = clip[:, index.flatten()]  # [B, n * frames, C, H, W]
        b, _, c, h, w = picked.shape
        return picked.reshape(b * len(starts), self.frames * c, h, w)

    def forward(self, pose_maps: torch.Tensor, frames: torch.Tensor) -> dict[str, list[torch.Tensor]]:
        if pose_maps.shape[:2] != frames.shape[:2] or frames.ndim != 5 or frames.shape[2] != 3:
            raise ValueError(f"pose_maps [B, T, P, H, W] and frames [B, T, 3, H, W] must agree, got "
                             f"{tuple(pose_maps.shape)} and {tuple(frames.shape)}")
        if frames.shape[1] < self.span:
            raise ValueError(f"the video discriminator needs clips of at least {self.span} frames, got {frames.shape[1]}")
        logits = []
        for s, scale in enumerate(self.scales):
            x = torch.cat([self.windows(pose_maps, s).unflatten(1, (self.frames, -1)),
                           self.windows(frames, s).unflatten(1, (self.frames, -1))], dim=2).flatten(1, 2)
            logits += scale(x)["logits"]
        return {"logits": logits}
