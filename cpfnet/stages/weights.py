"""Trained stages in a RUNS folder: the checkpoint layout, and loading a stage's inference networks.

    RUNS/STAGE/
      config.yaml                    the resolved config the stage was trained with
      latest                         one line: the name of the newest complete checkpoint folder
      step_000100/
        NETWORK.safetensors          weights, one file per trained network (e.g. generator, discriminator)
        training_state.pt            optimizers, step, data position, RNG states (training only)
      events.out.tfevents.*          TensorBoard

`load_stage` rebuilds a stage's inference networks (cpfnet.stages.registry; never a discriminator) from
config.yaml and loads the latest weights, strictly. It is what later stages, transfer and evaluation use, and
imports no training code; the trainer (cpfnet.training.checkpoint) writes this layout with the same names.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch
from torch import nn

from cpfnet.configs.experiment import Config, parse_config
from cpfnet.errors import UserError
from cpfnet.io.weight_files import load_weight_file
from cpfnet.stages import registry

CONFIG = "config.yaml"
LATEST = "latest"
STATE = "training_state.pt"
_STEP_DIR = re.compile(r"^step_(\d+)$")


def step_name(step: int) -> str:
    return f"step_{step:06d}"


def weights_file(checkpoint: Path, network: str) -> Path:
    return checkpoint / f"{network}.safetensors"


def checkpoints(stage_dir: Path) -> list[tuple[int, Path]]:
    """Complete checkpoint folders of a stage, oldest first."""
    if not stage_dir.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in stage_dir.iterdir() if p.is_dir() and (m := _STEP_DIR.match(p.name))]
    return sorted(found)


def latest_checkpoint(stage_dir: Path) -> Path | None:
    """The folder `latest` names; the newest step folder if `latest` is missing or names a folder that is
    gone (a write stopped between the folder's rename and the pointer's, or a damaged checkpoint was deleted);
    None if there is no checkpoint. A `latest` that is not a step folder's name is a UserError."""
    pointer = stage_dir / LATEST
    if pointer.is_file():
        try:
            name = pointer.read_bytes()[:4096].decode("utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            name = f"<unreadable: {type(exc).__name__}>"
        if not _STEP_DIR.match(name):
            raise UserError(f"{pointer} is damaged: it should hold one line naming a step folder (step_NNNNNN), "
                            f"it holds {name[:40]!r}; delete it and the newest step folder is used")
        path = stage_dir / name
        if path.is_dir():
            return path
    found = checkpoints(stage_dir)
    return found[-1][1] if found else None


def has_stage(runs: str | Path, stage: str) -> bool:
    """Whether RUNS holds a trained `stage`: its config.yaml and a complete checkpoint."""
    stage_dir = Path(runs) / registry.check_stage(stage)
    return (stage_dir / CONFIG).is_file() and latest_checkpoint(stage_dir) is not None


def require_checkpoint(runs: str | Path, stage: str, needed_by: str | None = None) -> Path:
    """The latest checkpoint of RUNS/stage, or a one-line UserError saying to train it first."""
    if not has_stage(runs, stage):
        why = f" ({needed_by} needs it)" if needed_by else ""
        raise UserError(f"{Path(runs) / stage} has no checkpoint{why}; train the {stage} stage first: "
                        f"cpfnet train {stage} --config NAME --data DIR --runs {runs}")
    return latest_checkpoint(Path(runs) / stage)


def read_config(stage_dir: Path) -> Config:
    """RUNS/STAGE/config.yaml, validated."""
    path = Path(stage_dir) / CONFIG
    if not path.is_file():
        raise UserError(f"{path} is missing; {stage_dir} is not a cpfnet training run")
    return parse_config(path.read_text(), str(path))


def foreground_uses_flow(runs: str | Path) -> bool:
    """Whether RUNS/foreground's generator warps by appearance flow (false: the ablation "w/o appearance
    flow", which needs no flow stage). True while RUNS has no foreground stage yet (the default)."""
    stage_dir = Path(runs) / "foreground"
    return read_config(stage_dir).foreground.generator.use_flow if (stage_dir / CONFIG).is_file() else True


def load_weights(checkpoint: Path, networks: dict[str, nn.Module]) -> None:
    """Load NETWORK.safetensors of `checkpoint` into each network (strict: every key must match)."""
    for net_name, module in networks.items():
        path = weights_file(checkpoint, net_name)
        if not path.is_file():
            raise UserError(f"{path} is missing; the checkpoint is incomplete or from another stage")
        device = next(iter(module.state_dict().values())).device
        tensors = load_weight_file(path, damaged_checkpoint_remedy(checkpoint), device=str(device))
        try:
            module.load_state_dict(tensors)
        except RuntimeError as exc:
            first = str(exc).splitlines()[1].strip() if len(str(exc).splitlines()) > 1 else str(exc)
            raise UserError(f"{path} does not fit the network its config.yaml describes ({first[:160]}); "
                            f"{damaged_checkpoint_remedy(checkpoint)}") from None


def damaged_checkpoint_remedy(checkpoint: Path) -> str:
    """What to do about a damaged file in a checkpoint folder: shipped weights are reinstalled; a RUNS
    folder's step folder is deleted, so `latest_checkpoint` falls back to the one before it."""
    checkpoint = Path(checkpoint)
    shipped = Path(__file__).resolve().parents[1] / "weights"
    if shipped in checkpoint.resolve().parents:
        return "the weights shipped with cpfnet are damaged: reinstall cpfnet"
    stage = checkpoint.parent.name
    return (f"delete {checkpoint} to fall back to the checkpoint before it (then `cpfnet train {stage} --resume` "
            f"continues from there), or train the {stage} stage again")


def load_stage(runs: str | Path, stage: str,
               device: str | torch.device = "cpu") -> tuple[dict[str, nn.Module], Config]:
    """Rebuild a trained stage's inference networks from RUNS/STAGE/config.yaml and its latest weights.

    Returns ({network name: module in eval mode, frozen, on `device`}, the stage's resolved Config). The
    names are the registry's: parsing {"generator"}, flow {"flow"}, foreground {"generator"}, fusion
    {"fusion"}, baseline-pix2pixhd {"generator"}.
    """
    entry = registry.stage(stage)
    checkpoint = require_checkpoint(runs, stage)
    config = read_config(Path(runs) / stage)
    try:
        networks = entry.build(config.stage(stage))
    except ValueError as exc:  # a config value the network rejects (unknown norm, ...)
        raise UserError(f"{Path(runs) / stage / CONFIG}: {exc}") from None
    for module in networks.values():
        module.to(device).eval().requires_grad_(False)
    load_weights(checkpoint, networks)
    return networks, config
