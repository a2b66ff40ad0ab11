"""Stage 3: the spatio-temporal fusion network (paper III-D, eq. 5).

    fg_mask^t = F(bg, x_fg^t, x^{t-1});  x^t = x_fg^t * fg_mask^t + bg * (1 - fg_mask^t)

F is "a ResNet-like network"; the paper gives no depth. We use CycleGAN's resnet_6blocks (ngf 64, two stride-2
downsamplings, 6 residual blocks): a mask is a simpler output than an image or a parsing (stage 1 uses 9), and
working at 1/4 resolution its receptive field is already about 120 pixels wide, enough to blend the person's
boundary into the background and to follow the previous frame's motion.

`mask_prior` (our addition, on in the `fast` config, off in `paper`): the network also sees stage 1's person
mask p = 1 - P(background) and predicts a correction to its logit, fg_mask = sigmoid(logit(p) + F(...)), with
F's last layer zero at initialisation. An untrained fusion stage then is exactly the ablation "w/o fusion",
and training can only start from there: a fusion network learnt from nothing needs far more steps than a CPU
gives before its mask is better than the parsing's (ours stayed near 0.5 on the person after 900 steps).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from cpfnet.nn.dtype import weights_dtype
from cpfnet.nn.resnet import ResnetGenerator


def compose(foreground: torch.Tensor, background: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Eq. 5: foreground [B, 3, H, W] * mask [B, 1, H, W] + background [B or 1, 3, H, W] * (1 - mask)."""
    return foreground * mask + background * (1.0 - mask)


def photo_bound(mask: torch.Tensor) -> torch.Tensor:
    """Eq. 5's mask [B, 1, H, W] grown by one pixel (a 3 x 3 max): where transfer's default pixel path lets the
    warped photo show (its silhouette is the warped photo mask within this bound)."""
    return F.max_pool2d(mask, 3, stride=1, padding=1)


def parsing_mask(parsing_probs: torch.Tensor) -> torch.Tensor:
    """The ablation "w/o fusion": the generated parsing's foreground as the mask, 1 - P(background).
    [B, 20, H, W] probabilities -> [B, 1, H, W]."""
    return 1.0 - parsing_probs[:, 0:1]


@dataclass
class FusionNetConfig:
    """Mirrors FusionNet; the defaults are our paper-scale choice (resnet_6blocks, ngf 64)."""

    ngf: int = 64
    n_downsample: int = 2
    n_blocks: int = 6
    norm: str = "instance"
    mask_prior: bool = False


_PRIOR_EPS = 1e-3  # keeps logit(p) finite where stage 1 is certain: a correction of +-7 can still flip it


class FusionNet(nn.Module):
    """(background [B or 1, 3, H, W], foreground x_fg^t [B, 3, H, W], previous frame x^{t-1} [B, 3, H, W], all in
    [-1, 1]; with `mask_prior`, person [B, 1, H, W]: stage 1's person mask in [0, 1]) -> {"mask": fg_mask^t
    [B, 1, H, W] in (0, 1), "frame": x^t [B, 3, H, W] (eq. 5)}.

    H and W must be multiples of 2**n_downsample.
    """

    def __init__(self, ngf: int = 64, n_downsample: int = 2, n_blocks: int = 6, norm: str = "instance",
                 mask_prior: bool = False):
        super().__init__()
        self.mask_prior = mask_prior
        self.generator = ResnetGenerator(10 if mask_prior else 9, 1, ngf, n_downsample, n_blocks, norm)
        if mask_prior:  # the correction starts at zero: fg_mask = the prior
            last = self.generator.net[-1]
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)

    def forward(self, background: torch.Tensor, foreground: torch.Tensor, previous: torch.Tensor,
                person: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        if (foreground.shape[1] != 3 or previous.shape != foreground.shape
                or background.shape[1:] != foreground.shape[1:]):
            raise ValueError(f"expected three RGB [B, 3, H, W] images, got background {tuple(background.shape)}, "
                             f"foreground {tuple(foreground.shape)}, previous {tuple(previous.shape)}")
        background = background.expand_as(foreground)
        inputs = [background, foreground, previous]
        if self.mask_prior:
            if person is None or person.shape != (foreground.shape[0], 1, *foreground.shape[2:]):
                raise ValueError(f"mask_prior needs the person mask [B, 1, H, W] for foreground "
                                 f"{tuple(foreground.shape)}, got {None if person is None else tuple(person.shape)}")
            inputs.append(person * 2 - 1)
        logit = self.generator(torch.cat(inputs, dim=1).to(weights_dtype(self))).float()
        if self.mask_prior:
            logit = logit + torch.logit(person.clamp(_PRIOR_EPS, 1 - _PRIOR_EPS))
        mask = torch.sigmoid(logit)
        return {"mask": mask, "frame": compose(foreground, background, mask)}
