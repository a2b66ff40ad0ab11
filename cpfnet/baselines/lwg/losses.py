"""Liquid Warping GAN's losses, with LWG's weights (its training options): adversarial 1 (least squares),
source reconstruction L1 10, transfer perceptual 10, mask 0.1, mask smoothness 1e-5.

- reconstruction: L1 between x^_s (G_SID's reconstruction of I_a, composed on G_BG's background) and I_a;
- perceptual: between x^_t and the real frame (`cpfnet.nn.perceptual`, the backbone every stage uses);
- adversarial: D(x^_t, C_t), `gan_mode` lsgan as LWG (its code's targets are 1 / -1 for D and 0 for G; ours
  1 / 0 and 1, the usual least-squares GAN);
- mask: mean squared error between the predicted person weights A_s, A_t and the person masks of I_a and of
  the frame (LWG: the SMPL silhouettes; here the parsings);
- mask smoothness: total variation of A_s and A_t (mean absolute difference of neighbours).
LWG's face identity loss needs a pretrained face recogniser (SphereFace), which cannot ship: left out
(`cpfnet.nn.perceptual` covers the whole frame, face included).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from cpfnet.nn.gan_loss import generator_adversarial_loss
from cpfnet.nn.perceptual import PerceptualLoss


@dataclass
class LiquidWarpingLossConfig:
    """Weights of the generator terms (LWG's: lambda_D_prob 1, lambda_rec 10, lambda_tsf 10, lambda_mask 0.1,
    lambda_mask_smooth 1e-5) and the GAN loss kind."""

    adversarial_weight: float = 1.0
    reconstruction_weight: float = 10.0
    perceptual_weight: float = 10.0
    mask_weight: float = 0.1
    mask_smooth_weight: float = 1e-5
    gan_mode: str = "lsgan"


def total_variation(x: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of horizontal plus vertical neighbours of x [B, C, H, W] (scalar)."""
    return (x[..., :, 1:] - x[..., :, :-1]).abs().mean() + (x[..., 1:, :] - x[..., :-1, :]).abs().mean()


def liquid_warping_generator_loss(outputs: dict[str, torch.Tensor], fake_logits: Sequence[torch.Tensor] | None,
                                  perceptual: PerceptualLoss | None,
                                  config: LiquidWarpingLossConfig = LiquidWarpingLossConfig()
                                  ) -> dict[str, torch.Tensor]:
    """outputs: "source" x^_s and "appearance" I_a, "fake" x^_t and "target" the frame [B, 3, H, W] in
    [-1, 1]; "source_mask", "transfer_mask" A [B, 1, H, W] and their targets "appearance_person",
    "frame_person" [B, 1, H, W] -> weighted terms {"adversarial", "reconstruction", "perceptual", "mask",
    "mask_smooth"} (a term of weight 0 is left out)."""
    terms = {}
    if config.adversarial_weight:
        if fake_logits is None:
            raise ValueError("the adversarial term needs the discriminator's logits on the fake")
        terms["adversarial"] = config.adversarial_weight * generator_adversarial_loss(fake_logits, config.gan_mode)
    if config.reconstruction_weight:
        terms["reconstruction"] = config.reconstruction_weight * F.l1_loss(outputs["source"], outputs["appearance"])
    if config.perceptual_weight:
        if perceptual is None:
            raise ValueError("the perceptual term needs a PerceptualLoss")
        terms["perceptual"] = config.perceptual_weight * perceptual(outputs["fake"], outputs["target"])
    masks = [outputs["source_mask"], outputs["transfer_mask"]]
    if config.mask_weight:
        truths = [outputs["appearance_person"].expand_as(masks[0]), outputs["frame_person"]]
        terms["mask"] = config.mask_weight * torch.stack([F.mse_loss(m, t) for m, t in zip(masks, truths)]).mean()
    if config.mask_smooth_weight:
        terms["mask_smooth"] = config.mask_smooth_weight * sum(total_variation(m) for m in masks)
    return terms
