"""The rows of `cpfnet evaluate real`: the floor, the geometric warp, and each trained configuration."""

from __future__ import annotations

from pathlib import Path

from cpfnet.evaluation.real import FLOOR, GEOMETRIC, PastedPhoto, RealMethod
from cpfnet.transfer.geometric import GeometricWarpPipeline
from cpfnet.transfer.models import DEFAULT_RUNS, load_trained_stages
from cpfnet.transfer.pipeline import TransferPipeline


def real_methods(runs: list[str | Path], shipped: bool = True, device: str = "cpu",
                 personalize: int = 0) -> list[RealMethod]:
    """Floor and geometric warp, then for the shipped weights (unless `shipped` is False) and each RUNS
    folder the CPF-Net pipeline with the pixel path (the default: the photo's pixels everywhere), the same
    with the hidden parts generated (blend weight m), without the fusion stage (the paper's ablation; when the
    folder has one), without the pixel path (the paper's output), and with `personalize` > 0 also
    personalised for that many steps (which implies generated hidden parts: the generator is what it tunes)."""
    methods = [RealMethod(FLOOR, PastedPhoto), RealMethod(GEOMETRIC, lambda: GeometricWarpPipeline(device))]
    folders = ([("shipped", DEFAULT_RUNS)] if shipped else []) + [(Path(r).name, Path(r)) for r in runs]
    for label, folder in folders:
        stages = load_trained_stages(folder, device)
        name = f"CPF-Net ({label}, {stages.size} px" + ("" if stages.fusion is not None else ", w/o fusion")
        if stages.use_flow:
            methods.append(RealMethod(f"{name}, pixel path)", lambda s=stages: TransferPipeline(s, device), stages.size))
            methods.append(RealMethod(f"{name}, pixel path, hidden parts generated)",
                                      lambda s=stages: TransferPipeline(s, device, generate_hidden=True), stages.size))
            if stages.fusion is not None:
                methods.append(RealMethod(f"{name}, pixel path, hidden parts generated, w/o fusion)",
                                          lambda s=stages: TransferPipeline(s, device, use_fusion=False,
                                                                            generate_hidden=True), stages.size))
            if personalize:
                methods.append(RealMethod(f"{name}, pixel path, hidden parts generated, personalised {personalize})",
                                          lambda s=stages: TransferPipeline(s, device, generate_hidden=True),
                                          stages.size, personalize))
        methods.append(RealMethod(f"{name}, no pixel path)",
                                  lambda s=stages: TransferPipeline(s, device, pixel_path=False), stages.size))
    return methods
