"""The trained stages a transfer needs, loaded from one RUNS folder (`cpfnet train` writes it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from cpfnet.errors import UserError
from cpfnet.stages.weights import foreground_uses_flow, has_stage, load_stage

# Weights shipped with the package: the `demo` stages trained on synthetic dancers (see README).
DEFAULT_RUNS = Path(__file__).resolve().parents[1] / "weights" / "default"


@dataclass
class TrainedStages:
    """Stage networks in eval mode, frozen. `flow` is None for a foreground generator trained without
    appearance flow (the ablation); `fusion` is None when the RUNS folder has no fusion stage."""

    parsing: nn.Module
    flow: nn.Module | None
    foreground: nn.Module
    fusion: nn.Module | None
    size: int  # crop side the stages were trained at
    pose_sigma: float
    runs: Path

    @property
    def use_flow(self) -> bool:
        return self.flow is not None


def load_trained_stages(runs: str | Path | None = None, device: str | torch.device = "cpu",
                        need_fusion: bool | None = None) -> TrainedStages:
    """Load parsing, flow (when the foreground generator uses it), foreground and fusion from RUNS
    (`need_fusion`: True requires the fusion stage, False skips it, None loads it when RUNS has one).

    Every stage must come from the same data configuration (crop size, pose-map sigma): stages trained
    with different configs would see inputs unlike their training data, so that is an error."""
    runs = Path(runs) if runs is not None else DEFAULT_RUNS
    if not runs.is_dir():
        raise UserError(f"{runs}: no such checkpoints folder (a RUNS folder written by `cpfnet train`)")
    parsing, config = load_stage(runs, "parsing", device)
    foreground, fg_config = load_stage(runs, "foreground", device)
    flow = load_stage(runs, "flow", device) if foreground_uses_flow(runs) else None
    if need_fusion is None:  # whatever the folder has
        need_fusion = has_stage(runs, "fusion")
    fusion = load_stage(runs, "fusion", device) if need_fusion else None
    data = config.data
    for name, loaded in (("foreground", (None, fg_config)), ("flow", flow), ("fusion", fusion)):
        if loaded is None:
            continue
        other = loaded[1].data
        if (other.size, other.pose_sigma) != (data.size, data.pose_sigma):
            raise UserError(f"{runs}: the {name} stage was trained at size {other.size}, pose sigma "
                            f"{other.pose_sigma}, the parsing stage at {data.size}, {data.pose_sigma}; "
                            "all stages of a RUNS folder must use one config")
    return TrainedStages(parsing=parsing["generator"], flow=flow[0]["flow"] if flow else None,
                         foreground=foreground["generator"], fusion=fusion[0]["fusion"] if fusion else None,
                         size=data.size, pose_sigma=data.pose_sigma, runs=runs)
