"""Batch helpers shared by the networks."""

from __future__ import annotations

import torch


def broadcast_batch(x: torch.Tensor, batch: int, name: str = "input") -> torch.Tensor:
    """A batch-1 tensor [1, ...] viewed as `batch` copies [batch, ...] (no memory is copied); a tensor that
    already has `batch` samples is returned as is; any other batch size is a ValueError naming `name`.

    Lets one target photo's encoding (I_a, its features) serve a whole batch of frames."""
    if x.shape[0] == batch:
        return x
    if x.shape[0] == 1:
        return x.expand(batch, *x.shape[1:])
    raise ValueError(f"{name} has batch {x.shape[0]}, expected {batch} (only batch 1 broadcasts)")
