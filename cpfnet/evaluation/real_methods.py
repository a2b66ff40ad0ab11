"""The rows of `cpfnet evaluate real`: the floor, the geometric warp, and each trained configuration."""

from __future__ import annotations

from pathlib import Path

from cpfnet.evaluation.real import FLOOR, GEOMETRIC, PastedPhoto, RealMethod
from cpfnet.transfer.geometric import GeometricWarpPipeline
from cpfnet.transfer.models import DEFAULT_RUNS, load_trained_stages
from cpfnet.transfer.pipeline import TransferPipeline


def real_methods(runs: list[str | Path], shipped: bool = True, device: str = "cpu") -> list[RealMethod]:
    """Floor and geometric warp, then for the shipped weights (unless `shipped` is False) and each RUNS
    folder the full CPF-Net pipeline."""
    methods = [RealMethod(FLOOR, PastedPhoto), RealMethod(GEOMETRIC, lambda: GeometricWarpPipeline(device))]
    folders = ([("shipped", DEFAULT_RUNS)] if shipped else []) + [(Path(r).name, Path(r)) for r in runs]
    for label, folder in folders:
        stages = load_trained_stages(folder, device)
        methods.append(RealMethod(f"CPF-Net ({label}, {stages.size} px)",
                                  lambda stages=stages: TransferPipeline(stages, device), stages.size))
    return methods
