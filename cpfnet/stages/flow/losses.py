"""Stage 2a losses (paper III-C): end-point error of the flow plus cross-entropy of the visibility map.

The EPE is averaged over the ground-truth foreground (visibility 0 or 1): background pixels have no flow.
It is measured in pixels of an image `reference_size` pixels wide (100 by default, i.e. in percent of the image
width), so a weight means the same at 64x64 and at 448x448, and an EPE of a few percent weighs about as much
as the visibility cross-entropy. `flow_metrics` reports the plain EPE in pixels and the visibility accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

BACKGROUND = 2  # visibility class of background pixels


@dataclass
class FlowLossConfig:
    """Weights of the stage-2a terms (the paper gives none: 1 and 1) and the EPE's reference width."""

    epe_weight: float = 1.0
    visibility_weight: float = 1.0
    reference_size: float = 100.0


def _check(flow: torch.Tensor, visibility_logits: torch.Tensor, target_flow: torch.Tensor,
           target_visibility: torch.Tensor) -> None:
    b, _, h, w = flow.shape
    if flow.shape[1] != 2 or target_flow.shape != flow.shape or visibility_logits.shape != (b, 3, h, w) \
            or target_visibility.shape != (b, h, w):
        raise ValueError(f"expected flow and target flow [B, 2, H, W], visibility logits [B, 3, H, W], target "
                         f"visibility [B, H, W]; got {tuple(flow.shape)}, {tuple(target_flow.shape)}, "
                         f"{tuple(visibility_logits.shape)}, {tuple(target_visibility.shape)}")


def end_point_error(flow: torch.Tensor, target_flow: torch.Tensor, target_visibility: torch.Tensor) -> torch.Tensor:
    """Mean Euclidean distance in pixels between flow and target [B, 2, H, W] over the foreground pixels of
    target_visibility [B, H, W] (values 0 or 1). Background target values are ignored, even NaN. 0 if no
    foreground."""
    foreground = target_visibility != BACKGROUND
    diff = torch.where(foreground[:, None], flow - target_flow.nan_to_num(), torch.zeros_like(flow))
    epe = torch.linalg.vector_norm(diff, dim=1)
    return epe.sum() / foreground.sum().clamp(min=1)


def flow_loss(flow: torch.Tensor, visibility_logits: torch.Tensor, target_flow: torch.Tensor,
              target_visibility: torch.Tensor, config: FlowLossConfig = FlowLossConfig()) -> dict[str, torch.Tensor]:
    """flow [B, 2, H, W], visibility logits [B, 3, H, W], target flow [B, 2, H, W] pixels, target visibility
    [B, H, W] ints in {0, 1, 2} -> {"epe", "visibility"}, weighted scalars.

    epe = epe_weight * EPE (foreground mean) * reference_size / W;
    visibility = visibility_weight * mean cross-entropy over all pixels.
    """
    _check(flow, visibility_logits, target_flow, target_visibility)
    target_visibility = target_visibility.long()
    epe = end_point_error(flow, target_flow, target_visibility) * (config.reference_size / flow.shape[3])
    ce = F.cross_entropy(visibility_logits, target_visibility)
    return {"epe": config.epe_weight * epe, "visibility": config.visibility_weight * ce}


@torch.no_grad()
def flow_metrics(flow: torch.Tensor, visibility_logits: torch.Tensor, target_flow: torch.Tensor,
                 target_visibility: torch.Tensor) -> dict[str, torch.Tensor]:
    """Evaluation numbers, not losses: {"epe_px": foreground EPE in pixels, "visibility_accuracy": share of
    pixels whose most likely visibility class is right}."""
    _check(flow, visibility_logits, target_flow, target_visibility)
    target_visibility = target_visibility.long()
    return {"epe_px": end_point_error(flow, target_flow, target_visibility),
            "visibility_accuracy": (visibility_logits.argmax(dim=1) == target_visibility).float().mean()}
