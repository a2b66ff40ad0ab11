"""The person's foreground: an image with everything but the person set to a constant (paper III-C, III-D).

Stage 2b takes the appearance foreground I_a and learns to produce the frame's foreground x_fg^i; stage 3
overlays a foreground on the background. The person is every pixel whose LIP label is not background (0), or,
from a predicted parsing, 1 - P(background).
"""

from __future__ import annotations

import torch

from cpfnet.body.parsing_labels import NUM_LABELS

FILL = -1.0  # black in [-1, 1]: the value outside the person


def person_mask(parsing: torch.Tensor) -> torch.Tensor:
    """Label ids [B, H, W] (int) or label probabilities [B, 20, H, W] -> person mask [B, 1, H, W] float in [0, 1]."""
    if parsing.ndim == 3 and not parsing.is_floating_point():
        return (parsing != 0).unsqueeze(1).float()
    if parsing.ndim == 4 and parsing.shape[1] == NUM_LABELS and parsing.is_floating_point():
        return 1.0 - parsing[:, 0:1]
    raise ValueError(f"parsing must be label ids [B, H, W] or probabilities [B, {NUM_LABELS}, H, W], "
                     f"got {tuple(parsing.shape)} {parsing.dtype}")


def extract_foreground(image: torch.Tensor, parsing: torch.Tensor, fill: float = FILL) -> torch.Tensor:
    """image [B, 3, H, W] in [-1, 1], parsing (see `person_mask`) -> image * mask + fill * (1 - mask)."""
    mask = person_mask(parsing)
    if image.ndim != 4 or image.shape[1] != 3 or image.shape[0] != mask.shape[0] or image.shape[2:] != mask.shape[2:]:
        raise ValueError(f"image must be [B, 3, H, W] like the parsing, got {tuple(image.shape)} and "
                         f"{tuple(parsing.shape)}")
    mask = mask.to(image.dtype)
    return image * mask + fill * (1.0 - mask)


def one_hot_parsing(labels: torch.Tensor, num_labels: int = NUM_LABELS) -> torch.Tensor:
    """Label ids [B, H, W] (int) -> one-hot float [B, num_labels, H, W], the parsing networks' input form."""
    if labels.ndim != 3 or labels.is_floating_point():
        raise ValueError(f"labels must be integer ids [B, H, W], got {tuple(labels.shape)} {labels.dtype}")
    return torch.nn.functional.one_hot(labels.long(), num_labels).permute(0, 3, 1, 2).float()
