"""Soft-Gated Warping-GAN's losses.

- Stage I (the parser): stage 1's L1 + pixel-wise softmax cross-entropy (`cpfnet.stages.parsing.losses`,
  weights 10 and 10): the paper's stage 1 is this parser, and [10]'s "pixel-wise softmax loss" is the
  cross-entropy.
- The geometric matcher: `matcher_loss`, the L1 between the appearance parsing warped by the matcher's flow
  and the target parsing (mean over pixels of the sum over labels, as stage 1's L1). CNNGeometric trains on
  synthetic transformations with known parameters; between two parsings of one person no parameters are
  known, so the matcher is trained by how well it aligns them (as CP-VTON trains its matcher).
- Stage II (the Warping-GAN): stage 2b's adversarial (eq. 3), L1 and perceptual terms (weights 0.01, 1, 1,
  as every baseline here, so the comparison isolates the architecture), plus the pyramidal hierarchy loss
  `hierarchy_loss`: L1 between the discriminator's features of the generated and the real frame at every
  layer of every scale (pix2pixHD's feature matching, which [10] names L_PH).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from cpfnet.nn.perceptual import PerceptualLoss
from cpfnet.ops.warp import warp
from cpfnet.stages.foreground.losses import foreground_generator_loss


@dataclass
class SoftGatedLossConfig:
    """Weights of stage II's generator terms and of the matcher's alignment term. The first four are stage
    2b's (`ForegroundLossConfig`): adversarial 0.01, L1 1, perceptual 1, vanilla GAN."""

    adversarial_weight: float = 0.01
    l1_weight: float = 1.0
    perceptual_weight: float = 1.0
    gan_mode: str = "vanilla"
    hierarchy_weight: float = 1.0
    matcher_weight: float = 1.0


def matcher_loss(source_parsing: torch.Tensor, target_parsing: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """source, target parsings [B, 20, H, W] (one-hot or probabilities), flow [B, 2, H, W] absolute source
    pixels -> mean over pixels of sum over labels |warp(source, flow) - target| (unweighted scalar)."""
    if source_parsing.shape != target_parsing.shape:
        raise ValueError(f"parsings differ: {tuple(source_parsing.shape)} and {tuple(target_parsing.shape)}")
    return (warp(source_parsing, flow) - target_parsing).abs().sum(dim=1).mean()


def hierarchy_loss(fake_features: Sequence[Sequence[torch.Tensor]],
                   real_features: Sequence[Sequence[torch.Tensor]]) -> torch.Tensor:
    """The pyramidal hierarchy loss: features per scale, per layer (`SoftGatedDiscriminator`'s "features"),
    of the generated and of the real frame -> the mean over scales of the mean over layers of the mean L1
    (unweighted scalar). The real features are constants."""
    if len(fake_features) != len(real_features):
        raise ValueError(f"{len(fake_features)} scales of fake features, {len(real_features)} of real")
    per_scale = []
    for fake, real in zip(fake_features, real_features):
        per_scale.append(torch.stack([F.l1_loss(f, r.detach()) for f, r in zip(fake, real)]).mean())
    return torch.stack(per_scale).mean()


def soft_gated_generator_loss(frame: torch.Tensor, target: torch.Tensor, fake_logits, fake_features,
                              real_features, perceptual: PerceptualLoss | None,
                              config: SoftGatedLossConfig = SoftGatedLossConfig()) -> dict[str, torch.Tensor]:
    """Stage II's weighted generator terms: {"adversarial", "l1", "perceptual", "hierarchy"} (a term whose
    weight is 0 is left out). frame, target [B, 3, H, W] in [-1, 1]; logits and features from the
    discriminator on the generated frame (with gradient) and features on the real one."""
    terms = foreground_generator_loss(frame, target, fake_logits, perceptual, config)
    if config.hierarchy_weight:
        if fake_features is None or real_features is None:
            raise ValueError("the hierarchy term needs the discriminator's features on the fake and the real frame")
        terms["hierarchy"] = config.hierarchy_weight * hierarchy_loss(fake_features, real_features)
    return terms
