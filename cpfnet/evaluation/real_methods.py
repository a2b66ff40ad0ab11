"""The rows of `cpfnet evaluate real`: the floor, the geometric warp, and each trained configuration."""

from __future__ import annotations

from pathlib import Path

from cpfnet.evaluation.real import FLOOR, GEOMETRIC, PastedPhoto, RealMethod
from cpfnet.transfer.geometric import GeometricWarpPipeline
from cpfnet.transfer.models import DEFAULT_RUNS, load_trained_stages
from cpfnet.transfer.pipeline import TransferPipeline


def real_methods(runs: list[str | Path], shipped: bool = True, device: str = "cpu",
                 personalize: int = 0, precision: str = "fp32") -> list[RealMethod]:
    """Floor and geometric warp, then for the shipped weights (unless `shipped` is False) and each RUNS
    folder the CPF-Net pipeline with the pixel path (the default: the photo's pixels everywhere), the same
    with the hidden parts generated (blend weight m), without the fusion stage (the paper's ablation; when the
    folder has one), without the pixel path (the paper's output), and with `personalize` > 0 also
    personalised for that many steps (which implies generated hidden parts: the generator is what it tunes);
    the networks at `precision` (`cpfnet.precision`)."""
    methods = [RealMethod(FLOOR, PastedPhoto), RealMethod(GEOMETRIC, lambda: GeometricWarpPipeline(device))]
    folders = ([("shipped", DEFAULT_RUNS)] if shipped else []) + [(Path(r).name, Path(r)) for r in runs]

    def cpf(stages, **options):  # a row's pipeline, made when the row runs
        return lambda: TransferPipeline(stages, device, precision=precision, **options)

    for label, folder in folders:
        stages = load_trained_stages(folder, device)
        name = f"CPF-Net ({label}, {stages.size} px" + ("" if stages.fusion is not None else ", w/o fusion")
        if stages.use_flow:
            methods.append(RealMethod(f"{name}, pixel path)", cpf(stages), stages.size))
            methods.append(RealMethod(f"{name}, pixel path, hidden parts generated)",
                                      cpf(stages, generate_hidden=True), stages.size))
            if stages.fusion is not None:
                methods.append(RealMethod(f"{name}, pixel path, hidden parts generated, w/o fusion)",
                                          cpf(stages, use_fusion=False, generate_hidden=True), stages.size))
            if personalize:
                methods.append(RealMethod(f"{name}, pixel path, hidden parts generated, personalised {personalize})",
                                          cpf(stages, generate_hidden=True), stages.size, personalize))
        methods.append(RealMethod(f"{name}, no pixel path)", cpf(stages, pixel_path=False), stages.size))
    return methods
