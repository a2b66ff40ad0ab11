"""vid2vid's losses as this baseline uses them (vid2vid eq. 5: image GAN + video GAN + lambda_W flow term).

- Image terms per frame: stage 2b's (`cpfnet.stages.foreground.losses.foreground_generator_loss`):
  adversarial (eq. 3, D_I on (s_pose^t, I_a, x^t)) 0.01, L1 1, perceptual 1, as the pix2pixHD baseline, so
  the baselines differ in architecture only.
- Video GAN (D_V): the generator term on every window of generated frames, `temporal_adversarial_weight`
  (0.01: vid2vid weighs its image and video GAN terms alike).
- Flow term L_W: vid2vid has an end-point error against FlowNet2's flow of the real frames and a warping
  term, the real frame t-1 warped by the predicted flow against the real frame t. No flow network ships
  here, so only the warping term: `warp_weight` x L1(warp(real^{t-1}, w^t), real^t) (weight 1, stage 2b's L1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from cpfnet.baselines.vid2vid.network import warp_by_offset
from cpfnet.nn.gan_loss import discriminator_loss, generator_adversarial_loss
from cpfnet.stages.foreground.losses import ForegroundLossConfig


@dataclass
class Vid2VidLossConfig(ForegroundLossConfig):
    """Stage 2b's image-term weights and GAN kind, then the video-GAN and flow-warping weights."""

    temporal_adversarial_weight: float = 0.01
    warp_weight: float = 1.0


def warp_loss(flow: torch.Tensor, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L1 between `source` warped by `flow` and `target`: flow [B, 2, H, W] pixel offsets, images [B, 3, H, W]
    -> scalar, unweighted. With real frames it trains the flow without ground-truth flow (vid2vid's L_W)."""
    if source.shape != target.shape:
        raise ValueError(f"source {tuple(source.shape)} and target {tuple(target.shape)} differ")
    return F.l1_loss(warp_by_offset(source, flow), target)


def temporal_generator_loss(fake_logits: Sequence[torch.Tensor], config: Vid2VidLossConfig) -> dict[str, torch.Tensor]:
    """D_V's logits on windows of generated frames -> {"temporal_adversarial"} weighted (empty at weight 0)."""
    if not config.temporal_adversarial_weight:
        return {}
    return {"temporal_adversarial": config.temporal_adversarial_weight *
            generator_adversarial_loss(fake_logits, config.gan_mode)}


def temporal_discriminator_loss(real_logits: Sequence[torch.Tensor], fake_logits: Sequence[torch.Tensor],
                                config: Vid2VidLossConfig) -> dict[str, torch.Tensor]:
    """D_V's logits on real and detached generated windows -> {"dt_real", "dt_fake"}."""
    terms = discriminator_loss(real_logits, fake_logits, config.gan_mode)
    return {"dt_real": terms["d_real"], "dt_fake": terms["d_fake"]}
