"""Stage 2a: the flow regression network (paper III-C, "Flow Regression Network").

A U-Net from the appearance pose I_pose and the frame-i pose s_pose^i to the appearance flow F (for every pixel
of frame i, the absolute (x, y) pixel of the appearance image it comes from) and the 3-class visibility map V
(0 visible in the appearance image, 1 hidden there, 2 background).

The network predicts a displacement in units of the image size, added to the identity grid: at
initialisation (zero head) the flow is the identity, and the target is the body's motion rather than absolute
coordinates, which is much easier to regress and independent of the resolution.

With `geometric_prior` (our addition, issue 9), the network also sees the non-learned part-wise affine flow
of the two skeletons (cpfnet.body.limb_flow: its displacement in image units and its visibility) and predicts
a correction to it: at initialisation it *is* the geometric flow, and training only has to learn where bodies
bend, twist and overlap unlike rigid parts.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cpfnet.body.pose_maps import POSE_CHANNELS
from cpfnet.nn.dtype import weights_dtype
from cpfnet.nn.unet import UNetDecoder, UNetEncoder
from cpfnet.ops.warp import identity_flow

VISIBILITY_CLASSES = 3  # 0 visible, 1 hidden in the appearance image, 2 background


@dataclass
class FlowRegressorConfig:
    """Mirrors FlowRegressor; the defaults are paper scale (5 levels, 64 doubling to 512)."""

    pose_channels: int = POSE_CHANNELS
    channels: tuple[int, ...] = (64, 128, 256, 512, 512)
    norm: str = "instance"
    geometric_prior: bool = False


PRIOR_CHANNELS = 2 + VISIBILITY_CLASSES  # displacement (x, y) in image units, visibility probabilities


class FlowRegressor(nn.Module):
    """(appearance pose maps [B, 35, H, W], frame-i pose maps [B, 35, H, W], with geometric_prior the prior
    {"flow": [B, 2, H, W], "visibility": [B, 3, H, W]} of `geometric_flow`) ->
    {"flow": [B, 2, H, W] absolute appearance-image pixels (x, y), pixel centres at i + 0.5 (cpfnet.ops.warp),
     "visibility_logits": [B, 3, H, W], "visibility": softmax of the logits [B, 3, H, W]}.
    """

    def __init__(self, pose_channels: int = POSE_CHANNELS, channels: tuple[int, ...] = (64, 128, 256, 512, 512),
                 norm: str = "instance", geometric_prior: bool = False):
        super().__init__()
        channels = tuple(channels)
        self.pose_channels = pose_channels
        self.geometric_prior = geometric_prior
        inputs = 2 * pose_channels + (PRIOR_CHANNELS if geometric_prior else 0)
        self.encoder = UNetEncoder(inputs, channels, norm=norm)
        self.decoder = UNetDecoder(channels, channels, norm=norm)
        self.flow_head = nn.Conv2d(channels[0], 2, 3, padding=1)
        self.visibility_head = nn.Conv2d(channels[0], VISIBILITY_CLASSES, 3, padding=1)
        nn.init.zeros_(self.flow_head.weight)
        nn.init.zeros_(self.flow_head.bias)

    def encode_appearance(self, appearance_pose: torch.Tensor) -> torch.Tensor:
        """I_pose maps [B, 35, H, W] -> their share of the first convolution [B, channels[0], H, W]
        (`ConvBlock.leading`), for `forward(None, pose_maps, appearance_encoded=...)`: the same for every
        frame onto one target, so transfer computes it once."""
        if appearance_pose.ndim != 4 or appearance_pose.shape[1] != self.pose_channels:
            raise ValueError(f"expected [B, {self.pose_channels}, H, W] pose maps, got {tuple(appearance_pose.shape)}")
        return self.encoder.leading(appearance_pose.to(weights_dtype(self)))

    def forward(self, appearance_pose: torch.Tensor | None, pose_maps: torch.Tensor,
                prior: dict[str, torch.Tensor] | None = None,
                appearance_encoded: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Give either `appearance_pose` or its `encode_appearance` output ([1 or B, ...])."""
        if (appearance_pose is None) == (appearance_encoded is None):
            raise ValueError("give exactly one of appearance_pose and appearance_encoded")
        if pose_maps.ndim != 4 or pose_maps.shape[1] != self.pose_channels or (
                appearance_pose is not None and pose_maps.shape != appearance_pose.shape):
            shape = tuple(appearance_pose.shape) if appearance_pose is not None else "(encoded)"
            raise ValueError(f"expected two [B, {self.pose_channels}, H, W] pose maps, got "
                             f"{shape} and {tuple(pose_maps.shape)}")
        if self.geometric_prior != (prior is not None):
            raise ValueError("give the geometric prior exactly when the network was built with geometric_prior")
        b, _, h, w = pose_maps.shape
        # Coordinates stay float32 when the network computes in bf16 (`weights_dtype`): a bf16 coordinate
        # near 448 px is only known to 2 px. The trunk gets its inputs in its own dtype.
        size = pose_maps.new_tensor([w, h], dtype=torch.float32).view(1, 2, 1, 1)
        base = identity_flow(b, h, w, device=pose_maps.device)
        inputs = [pose_maps] if appearance_pose is None else [appearance_pose, pose_maps]
        if prior is not None:
            if prior["flow"].shape != (b, 2, h, w) or prior["visibility"].shape != (b, VISIBILITY_CLASSES, h, w):
                raise ValueError(f"prior flow and visibility must be [B, 2, H, W] and [B, 3, H, W] like the pose "
                                 f"maps, got {tuple(prior['flow'].shape)} and {tuple(prior['visibility'].shape)}")
            base = prior["flow"].float()
            inputs += [(base - identity_flow(b, h, w, device=base.device)) / size, prior["visibility"]]
        dtype = weights_dtype(self)
        x = self.decoder(self.encoder(torch.cat([i.to(dtype) for i in inputs], dim=1), leading=appearance_encoded))
        flow = base + self.flow_head(x).float() * size
        logits = self.visibility_head(x).float()
        return {"flow": flow, "visibility_logits": logits, "visibility": logits.softmax(dim=1)}
