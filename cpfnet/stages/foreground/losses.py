"""Stage 2b losses (paper III-C, IV-A3): adversarial (eq. 3), L1 and perceptual (eq. 4), weights 0.01, 1, 1.

The generator and the discriminator alternate: `foreground_generator_loss` for the generator step (fake logits
from D on the generated foreground, with gradient), `foreground_discriminator_loss` for the discriminator step
(real logits from the ground truth, fake logits from the detached generated foreground).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from cpfnet.nn.gan_loss import discriminator_loss, generator_adversarial_loss
from cpfnet.nn.perceptual import PerceptualLoss


@dataclass
class ForegroundLossConfig:
    """Weights of the stage-2b generator terms (lambda_adv, lambda_L1, lambda_per) and the GAN loss kind."""

    adversarial_weight: float = 0.01
    l1_weight: float = 1.0
    perceptual_weight: float = 1.0
    gan_mode: str = "vanilla"


def foreground_generator_loss(foreground: torch.Tensor, target: torch.Tensor,
                              fake_logits: Sequence[torch.Tensor] | None, perceptual: PerceptualLoss | None,
                              config: ForegroundLossConfig = ForegroundLossConfig()) -> dict[str, torch.Tensor]:
    """foreground, target [B, 3, H, W] in [-1, 1]; fake_logits = D(I_a, x_parsing, foreground)["logits"]
    -> {"adversarial", "l1", "perceptual"}, weighted scalars. A term whose weight is 0 is left out (then its
    input may be None)."""
    if foreground.shape != target.shape:
        raise ValueError(f"foreground {tuple(foreground.shape)} and target {tuple(target.shape)} differ")
    terms = {}
    if config.adversarial_weight:
        if fake_logits is None:
            raise ValueError("the adversarial term needs the discriminator's logits on the fake")
        terms["adversarial"] = config.adversarial_weight * generator_adversarial_loss(fake_logits, config.gan_mode)
    if config.l1_weight:
        terms["l1"] = config.l1_weight * F.l1_loss(foreground, target)
    if config.perceptual_weight:
        if perceptual is None:
            raise ValueError("the perceptual term needs a PerceptualLoss")
        terms["perceptual"] = config.perceptual_weight * perceptual(foreground, target)
    return terms


def foreground_discriminator_loss(real_logits: Sequence[torch.Tensor], fake_logits: Sequence[torch.Tensor],
                                  config: ForegroundLossConfig = ForegroundLossConfig()) -> dict[str, torch.Tensor]:
    """D's logits on (I_a, x_parsing, ground truth) and on (I_a, x_parsing, detached fake) -> {"d_real", "d_fake"}."""
    return discriminator_loss(real_logits, fake_logits, config.gan_mode)
