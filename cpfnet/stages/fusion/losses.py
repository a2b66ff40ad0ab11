"""Stage 3 losses (paper III-D, IV-A3): L1 and perceptual (eq. 4) between x^t and the real frame, weight 1 each."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from cpfnet.nn.perceptual import PerceptualLoss


@dataclass
class FusionLossConfig:
    """Weights of the stage-3 terms (paper IV-A3: 1 and 1)."""

    l1_weight: float = 1.0
    perceptual_weight: float = 1.0


def fusion_loss(frame: torch.Tensor, target: torch.Tensor, perceptual: PerceptualLoss | None,
                config: FusionLossConfig = FusionLossConfig()) -> dict[str, torch.Tensor]:
    """frame x^t and target [B, 3, H, W] in [-1, 1] -> {"l1", "perceptual"}, weighted scalars. A term whose
    weight is 0 is left out (then `perceptual` may be None)."""
    if frame.shape != target.shape:
        raise ValueError(f"frame {tuple(frame.shape)} and target {tuple(target.shape)} differ")
    terms = {}
    if config.l1_weight:
        terms["l1"] = config.l1_weight * F.l1_loss(frame, target)
    if config.perceptual_weight:
        if perceptual is None:
            raise ValueError("the perceptual term needs a PerceptualLoss")
        terms["perceptual"] = config.perceptual_weight * perceptual(frame, target)
    return terms
