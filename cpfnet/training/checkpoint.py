"""Writing a stage's checkpoints into RUNS/STAGE/ (the layout and the reading side: cpfnet.stages.weights).

A checkpoint folder is written under a temporary name and renamed when complete, then `latest` is
rewritten (also atomically): an interrupted write never leaves a checkpoint that looks complete. Besides the
weights of every trained network (discriminators included) it holds the training state that exact resume
needs: optimizers, step, data position, RNG states.
"""

from __future__ import annotations

import io
import random
import shutil
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save
from torch import nn

from cpfnet.errors import UserError
from cpfnet.io.atomic import atomic_dir, atomic_file
from cpfnet.io.files import write_bytes, write_text
from cpfnet.io.weight_files import load_weight_file
from cpfnet.stages.weights import (LATEST, STATE, checkpoints, damaged_checkpoint_remedy, step_name,
                                   weights_file)

# What `save_checkpoint`'s caller puts in the state and resume reads back (cpfnet.training.trainer).
STATE_KEYS = ("step", "steps_per_epoch", "world_size", "optimizers", "rng")


def rng_state() -> dict:
    """This process's RNG states (torch CPU and CUDA, numpy, python), in a form torch.load(weights_only) reads."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached": float(cached)},
        "python": random.getstate(),
    }


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached"]))
    random.setstate(state["python"])


def _state_dict(module: nn.Module) -> dict[str, torch.Tensor]:
    # safetensors wants contiguous tensors that share no memory.
    return {k: v.detach().cpu().contiguous().clone() for k, v in module.state_dict().items()}


def save_checkpoint(stage_dir: Path, step: int, networks: dict[str, nn.Module], state: dict,
                    keep: int) -> Path:
    """Write step folder `step` (weights + training state), point `latest` at it, keep the newest `keep`."""
    name = step_name(step)
    # Serialised in memory, then written by cpfnet.io.files: a full disk is then an OSError naming the file
    # (safetensors and torch.save writing themselves report it without errno or path).
    with atomic_dir(stage_dir / name, overwrite=True) as tmp:
        for net_name, module in networks.items():
            write_bytes(weights_file(tmp, net_name), save(_state_dict(module), metadata={
                "stage": stage_dir.name, "network": net_name, "step": str(step)}))
        buffer = io.BytesIO()
        torch.save(state, buffer)
        write_bytes(tmp / STATE, buffer.getvalue())
    with atomic_file(stage_dir / LATEST) as tmp:
        write_text(tmp, name + "\n")
    for _, old in checkpoints(stage_dir)[:-keep]:
        if old.name != name:
            shutil.rmtree(old, ignore_errors=True)
    return stage_dir / name


def load_training_state(checkpoint: Path) -> dict:
    """checkpoint/training_state.pt; a damaged file or one without the keys resume needs is a UserError."""
    state = load_weight_file(checkpoint / STATE, damaged_checkpoint_remedy(checkpoint))
    missing = [k for k in STATE_KEYS if not isinstance(state, dict) or k not in state]
    if missing:
        raise UserError(f"{checkpoint / STATE} is not a cpfnet training state (no {missing[0]!r}); "
                        f"{damaged_checkpoint_remedy(checkpoint)}")
    return state
