"""Training pictures for TensorBoard: parsing, pose maps, flow and visibility as RGB [B, 3, H, W] in [-1, 1]."""

from __future__ import annotations

import math

import torch

from cpfnet.body.parsing_labels import PALETTE
from cpfnet.ops.warp import identity_flow

_VISIBILITY_COLORS = ((60, 200, 60), (220, 60, 60), (0, 0, 0))  # visible, hidden, background


def _palette(colors, device) -> torch.Tensor:
    return torch.as_tensor(colors, dtype=torch.float32, device=device) / 127.5 - 1.0


def labels_to_rgb(labels: torch.Tensor, colors=PALETTE) -> torch.Tensor:
    """Label ids [B, H, W], or scores [B, C, H, W] (argmax taken) -> [B, 3, H, W] in [-1, 1]."""
    if labels.ndim == 4:
        labels = labels.argmax(dim=1)
    return _palette(colors, labels.device)[labels.long()].permute(0, 3, 1, 2)


def parsing_to_rgb(parsing: torch.Tensor) -> torch.Tensor:
    """LIP parsing (ids [B, H, W] or scores [B, 20, H, W]) in LIP's palette."""
    return labels_to_rgb(parsing, PALETTE)


def visibility_to_rgb(visibility: torch.Tensor) -> torch.Tensor:
    """Visibility (ids [B, H, W] or scores [B, 3, H, W]): green visible, red hidden, black background."""
    return labels_to_rgb(visibility, _VISIBILITY_COLORS)


def pose_to_rgb(pose_maps: torch.Tensor) -> torch.Tensor:
    """[B, 35, H, W] pose maps -> their maximum as a grey image [B, 3, H, W]."""
    return (pose_maps.amax(dim=1, keepdim=True).clamp(0, 1) * 2 - 1).expand(-1, 3, -1, -1)


def flow_to_rgb(flow: torch.Tensor, max_fraction: float = 0.25) -> torch.Tensor:
    """Absolute flow [B, 2, H, W] -> its displacement from identity in the usual colour wheel (hue: direction,
    saturation: length, full at `max_fraction` of the image width) [B, 3, H, W] in [-1, 1]."""
    b, _, h, w = flow.shape
    d = flow.nan_to_num() - identity_flow(b, h, w, device=flow.device, dtype=flow.dtype)
    hue = (torch.atan2(d[:, 1], d[:, 0]) / (2 * math.pi)) % 1.0
    sat = (d.norm(dim=1) / (max_fraction * w)).clamp(0, 1)
    k = (hue[:, None] * 6 + torch.tensor([5.0, 3.0, 1.0], device=flow.device).view(1, 3, 1, 1)) % 6
    rgb = 1 - sat[:, None] * (torch.minimum(k, 4 - k).clamp(0, 1))
    return rgb * 2 - 1


def grid(columns: dict[str, torch.Tensor], rows: int = 4, pad: int = 2) -> torch.Tensor:
    """Columns name -> [B, 3, H, W] in [-1, 1] -> one image [3, rows*(H+pad), cols*(W+pad)] in [0, 1]:
    one row per sample (the first `rows`), one column per entry, in order."""
    tiles = [c[:rows].detach().float().cpu().clamp(-1, 1) for c in columns.values()]
    n = min(t.shape[0] for t in tiles)
    h, w = tiles[0].shape[-2:]
    out = torch.ones(3, n * (h + pad), len(tiles) * (w + pad))
    for j, t in enumerate(tiles):
        for i in range(n):
            out[:, i * (h + pad):i * (h + pad) + h, j * (w + pad):j * (w + pad) + w] = (t[i] + 1) / 2
    return out
