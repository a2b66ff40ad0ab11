"""Checkpoints of one stage in RUNS/STAGE/, and loading a trained stage back for later stages and transfer.

    RUNS/STAGE/
      config.yaml                    the resolved config the stage was trained with
      latest                         one line: the name of the newest complete checkpoint folder
      step_000100/
        NETWORK.safetensors          weights, one file per trained network (e.g. generator, discriminator)
        training_state.pt            optimizers, step, data position, RNG states (torch.save)
      events.out.tfevents.*          TensorBoard

A checkpoint folder is written under a temporary name and renamed when complete, then `latest` is
rewritten (also atomically): an interrupted write never leaves a checkpoint that looks complete.
"""

from __future__ import annotations

import random
import re
import shutil
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from cpfnet.errors import UserError
from cpfnet.io.atomic import atomic_dir, atomic_file
from cpfnet.training.config import Config, check_stage, parse_config

CONFIG = "config.yaml"
LATEST = "latest"
STATE = "training_state.pt"
_STEP_DIR = re.compile(r"^step_(\d+)$")


def step_name(step: int) -> str:
    return f"step_{step:06d}"


def checkpoints(stage_dir: Path) -> list[tuple[int, Path]]:
    """Complete checkpoint folders of a stage, oldest first."""
    if not stage_dir.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in stage_dir.iterdir() if p.is_dir() and (m := _STEP_DIR.match(p.name))]
    return sorted(found)


def latest_checkpoint(stage_dir: Path) -> Path | None:
    """The folder `latest` names; the newest step folder if `latest` is missing (a write stopped between the
    folder's rename and the pointer's); None if there is no checkpoint."""
    pointer = stage_dir / LATEST
    if pointer.is_file():
        path = stage_dir / pointer.read_text().strip()
        if path.is_dir():
            return path
    found = checkpoints(stage_dir)
    return found[-1][1] if found else None


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
    with atomic_dir(stage_dir / name, overwrite=True) as tmp:
        for net_name, module in networks.items():
            save_file(_state_dict(module), str(tmp / f"{net_name}.safetensors"),
                      metadata={"stage": stage_dir.name, "network": net_name, "step": str(step)})
        torch.save(state, tmp / STATE)
    with atomic_file(stage_dir / LATEST) as tmp:
        tmp.write_text(name + "\n")
    for _, old in checkpoints(stage_dir)[:-keep]:
        if old.name != name:
            shutil.rmtree(old, ignore_errors=True)
    return stage_dir / name


def load_weights(checkpoint: Path, networks: dict[str, nn.Module]) -> None:
    """Load NETWORK.safetensors of `checkpoint` into each network (strict: every key must match)."""
    for net_name, module in networks.items():
        path = checkpoint / f"{net_name}.safetensors"
        if not path.is_file():
            raise UserError(f"{path} is missing; the checkpoint is incomplete or from another stage")
        try:
            device = next(iter(module.state_dict().values())).device
            module.load_state_dict(load_file(str(path), device=str(device)))
        except RuntimeError as exc:
            first = str(exc).splitlines()[1].strip() if len(str(exc).splitlines()) > 1 else str(exc)
            raise UserError(f"{path} does not fit the network its config.yaml describes ({first})") from None


def load_training_state(checkpoint: Path) -> dict:
    return torch.load(checkpoint / STATE, map_location="cpu", weights_only=True)


def read_config(stage_dir: Path) -> Config:
    path = stage_dir / CONFIG
    if not path.is_file():
        raise UserError(f"{path} is missing; {stage_dir} is not a cpfnet training run")
    return parse_config(path.read_text(), str(path))


def require_checkpoint(runs: Path, stage: str, needed_by: str | None = None) -> Path:
    """The latest checkpoint of RUNS/stage, or a one-line UserError saying to train it first."""
    check_stage(stage)
    stage_dir = Path(runs) / stage
    checkpoint = latest_checkpoint(stage_dir)
    if checkpoint is None or not (stage_dir / CONFIG).is_file():
        why = f" ({needed_by} needs it)" if needed_by else ""
        raise UserError(f"{stage_dir} has no checkpoint{why}; train the {stage} stage first: "
                        f"cpfnet train {stage} --config NAME --data DIR --runs {runs}")
    return checkpoint


def load_stage(runs: str | Path, stage: str, device: str | torch.device = "cpu",
               names: list[str] | None = None) -> tuple[dict[str, nn.Module], Config]:
    """Rebuild a trained stage from RUNS/STAGE/config.yaml and its latest weights.

    Returns ({network name: module in eval mode, frozen, on `device`}, the stage's resolved Config). Network
    names: parsing {"generator"}, flow {"flow"}, foreground {"generator", "discriminator"}, fusion {"fusion"};
    `names` picks some of them (e.g. ["generator"] for transfer).
    """
    from cpfnet.training.registry import task_class

    checkpoint = require_checkpoint(Path(runs), stage)
    config = read_config(Path(runs) / stage)
    networks = task_class(stage).build_networks(config)
    if names is not None:
        unknown = [n for n in names if n not in networks]
        if unknown:
            raise UserError(f"stage {stage} has no network {unknown[0]!r}; it has {', '.join(networks)}")
        networks = {n: networks[n] for n in names}
    for module in networks.values():
        module.to(device).eval().requires_grad_(False)
    load_weights(checkpoint, networks)
    return networks, config
