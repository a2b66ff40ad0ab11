"""The dtype a network computes in: its weights' (float32, or bfloat16 for `--precision bf16` on a CPU).

The stage networks cast their inputs to it on entry and give float32 outputs, so one network runs in
either dtype without autocast; coordinates (flows, sampling grids) stay float32 inside them.
"""

from __future__ import annotations

import torch
from torch import nn


def weights_dtype(module: nn.Module) -> torch.dtype:
    """The floating dtype of `module`'s first parameter (float32 for a module without parameters)."""
    for parameter in module.parameters():
        return parameter.dtype
    return torch.float32
