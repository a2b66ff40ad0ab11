"""GAN losses over multi-scale patch logits (paper eq. 3).

'vanilla' is eq. 3: binary cross-entropy on logits, with the usual non-saturating generator term
(-log D(fake) instead of log(1 - D(fake))). 'lsgan' is the least-squares variant pix2pixHD and vid2vid default to.
Each scale's patch map is averaged over its patches, then the scales are averaged, so the value does not depend
on the image size or the number of scales.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

GAN_MODES = ("vanilla", "lsgan")


def _check_mode(mode: str) -> None:
    if mode not in GAN_MODES:
        raise ValueError(f"unknown GAN mode {mode!r}; known: {', '.join(GAN_MODES)}")


def _against(logits: Sequence[torch.Tensor], target: float, mode: str) -> torch.Tensor:
    """Mean over scales of the per-scale mean loss of every patch logit against a constant label."""
    _check_mode(mode)
    losses = []
    for x in logits:
        label = torch.full_like(x, target)
        if mode == "vanilla":
            losses.append(F.binary_cross_entropy_with_logits(x, label))
        else:
            losses.append(F.mse_loss(x, label))
    return torch.stack(losses).mean()


def generator_adversarial_loss(fake_logits: Sequence[torch.Tensor], mode: str = "vanilla") -> torch.Tensor:
    """The generator's term: the discriminator should call the fake real. Scalar, unweighted."""
    return _against(fake_logits, 1.0, mode)


def discriminator_loss(real_logits: Sequence[torch.Tensor], fake_logits: Sequence[torch.Tensor],
                       mode: str = "vanilla") -> dict[str, torch.Tensor]:
    """The discriminator's terms, {"d_real", "d_fake"}, each halved as in pix2pixHD (their sum is eq. 3 / 2).

    The fake logits must come from a detached generator output.
    """
    return {"d_real": 0.5 * _against(real_logits, 1.0, mode), "d_fake": 0.5 * _against(fake_logits, 0.0, mode)}
