"""Stage 2a: the flow regression network (paper III-C, "Flow Regression Network").

A U-Net from the appearance pose I_pose and the frame-i pose s_pose^i to the appearance flow F (for every pixel
of frame i, the absolute (x, y) pixel of the appearance image it comes from) and the 3-class visibility map V
(0 visible in the appearance image, 1 hidden there, 2 background).

The network predicts a displacement in units of the image size, added to the identity grid: at
initialisation (zero head) the flow is the identity, and the target is the body's motion rather than absolute
coordinates, which is much easier to regress and independent of the resolution.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cpfnet.body.pose_maps import POSE_CHANNELS
from cpfnet.nn.unet import UNetDecoder, UNetEncoder
from cpfnet.ops.warp import identity_flow

VISIBILITY_CLASSES = 3  # 0 visible, 1 hidden in the appearance image, 2 background


@dataclass
class FlowRegressorConfig:
    """Mirrors FlowRegressor; the defaults are paper scale (5 levels, 64 doubling to 512)."""

    pose_channels: int = POSE_CHANNELS
    channels: tuple[int, ...] = (64, 128, 256, 512, 512)
    norm: str = "instance"


class FlowRegressor(nn.Module):
    """(appearance pose maps [B, 35, H, W], frame-i pose maps [B, 35, H, W]) ->
    {"flow": [B, 2, H, W] absolute appearance-image pixels (x, y), pixel centres at i + 0.5 (cpfnet.ops.warp),
     "visibility_logits": [B, 3, H, W], "visibility": softmax of the logits [B, 3, H, W]}.
    """

    def __init__(self, pose_channels: int = POSE_CHANNELS, channels: tuple[int, ...] = (64, 128, 256, 512, 512),
                 norm: str = "instance"):
        super().__init__()
        channels = tuple(channels)
        self.pose_channels = pose_channels
        self.encoder = UNetEncoder(2 * pose_channels, channels, norm=norm)
        self.decoder = UNetDecoder(channels, channels, norm=norm)
        self.flow_head = nn.Conv2d(channels[0], 2, 3, padding=1)
        self.visibility_head = nn.Conv2d(channels[0], VISIBILITY_CLASSES, 3, padding=1)
        nn.init.zeros_(self.flow_head.weight)
        nn.init.zeros_(self.flow_head.bias)

    def forward(self, appearance_pose: torch.Tensor, pose_maps: torch.Tensor) -> dict[str, torch.Tensor]:
        if appearance_pose.shape[1] != self.pose_channels or pose_maps.shape != appearance_pose.shape:
            raise ValueError(f"expected two [B, {self.pose_channels}, H, W] pose maps, got "
                             f"{tuple(appearance_pose.shape)} and {tuple(pose_maps.shape)}")
        b, _, h, w = pose_maps.shape
        x = self.decoder(self.encoder(torch.cat([appearance_pose, pose_maps], dim=1)))
        size = x.new_tensor([w, h]).view(1, 2, 1, 1)
        flow = identity_flow(b, h, w, device=x.device, dtype=x.dtype) + self.flow_head(x) * size
        logits = self.visibility_head(x)
        return {"flow": flow, "visibility_logits": logits, "visibility": logits.softmax(dim=1)}
