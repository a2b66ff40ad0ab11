"""The `--device` option of every command: a torch device this machine has, or a one-line error."""

from __future__ import annotations

import torch

from cpfnet.errors import UserError


def resolve_device(name: str) -> torch.device:
    """'cpu', 'cuda' or 'cuda:N' -> torch.device; UserError for anything else or a missing GPU."""
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UserError(f"--device {name!r} is not a torch device; use cpu or cuda") from None
    if device.type not in ("cpu", "cuda"):
        raise UserError(f"--device {name!r}: cpfnet runs on cpu or cuda")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda was asked for but this torch sees no CUDA GPU; use --device cpu")
    return device
