"""Stage 1 losses (paper eq. 2): L1 between predicted and one-hot ground-truth parsing, plus LIP's pixel-wise
softmax cross-entropy, weight 10 each (IV-A3).

Eq. 2 sums over pixels; we take the mean over pixels (and the batch) instead, keeping eq. 2's sum over the
labels, so a weight means the same at 64x64 and at 448x448: the values are eq. 2 divided by B*H*W.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class ParsingLossConfig:
    """Weights of the stage-1 loss terms (paper IV-A3: 10 and 10)."""

    l1_weight: float = 10.0
    ce_weight: float = 10.0


def parsing_loss(logits: torch.Tensor, target: torch.Tensor,
                 config: ParsingLossConfig = ParsingLossConfig()) -> dict[str, torch.Tensor]:
    """logits [B, C, H, W], target label ids [B, H, W] (int) -> {"l1", "ce"}, weighted scalars.

    l1 = l1_weight * mean over pixels of sum_l |softmax(logits)_l - onehot(target)_l|
    ce = ce_weight * mean over pixels of -log softmax(logits)_target
    """
    if target.shape != logits.shape[:1] + logits.shape[2:]:
        raise ValueError(f"target must be [B, H, W] label ids for logits {tuple(logits.shape)}, "
                         f"got {tuple(target.shape)}")
    target = target.long()
    onehot = F.one_hot(target, logits.shape[1]).permute(0, 3, 1, 2).to(logits.dtype)
    l1 = (logits.softmax(dim=1) - onehot).abs().sum(dim=1).mean()
    ce = F.cross_entropy(logits, target)
    return {"l1": config.l1_weight * l1, "ce": config.ce_weight * ce}
