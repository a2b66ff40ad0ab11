"""The methods of the comparison table (paper Table I, IV-A2 and IV-E), found in the RUNS folders given.

    Ours                        a RUNS whose foreground stage uses appearance flow, with its fusion stage
    Ours (w/o fusion module)    the same RUNS, use_fusion=False: the generated parsing is the mask (IV-E)
    Ours (w/o appearance flow)  a RUNS whose foreground stage was trained with use_flow: false, with fusion
    pix2pixHD (and any baseline) a RUNS with the baseline's stage (cpfnet.baselines, cpfnet.stages.registry)
    Photo pasted (floor)        no network: the target photo, unchanged, as every frame

A method is a name and a function that builds its pipeline: an object with `outputs(poses, target,
anchor_frame)` yielding dicts with at least "frame" (RGB uint8 at the photo's size) and "box" (the crop box in
photo pixels), and for CPF-Net "parsing", "flow", "visibility" (see TransferPipeline.outputs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from cpfnet.errors import UserError
from cpfnet.ops.crop import paste_back
from cpfnet.stages import registry
from cpfnet.stages.weights import foreground_uses_flow, has_stage
from cpfnet.transfer.pipeline import TransferPipeline
from cpfnet.transfer.target import Target

FULL = "Ours"
NO_FUSION = "Ours (w/o fusion module)"
NO_FLOW = "Ours (w/o appearance flow)"
STILL = "Photo pasted (floor)"
BASELINE_ROWS = tuple(registry.STAGES[name].method for name in registry.BASELINES)
PIX2PIXHD = registry.STAGES["baseline-pix2pixhd"].method
# Table order: the paper's Table I lists the baselines first and the full model last; the floor comes first.
ORDER = (STILL, *BASELINE_ROWS, NO_FLOW, NO_FUSION, FULL)


@dataclass
class Method:
    """One row of the table. `runs` is None for the floor; `cpf` says whether the method has CPF-Net's
    intermediate outputs (parsing, and with `uses_flow` the appearance flow) to score."""

    name: str
    build: Callable[[], object] = field(repr=False)
    runs: Path | None = None
    cpf: bool = False
    uses_flow: bool = False
    description: str = ""


class StillPhoto:
    """The sanity floor: the target photo itself, the person standing still, as every frame."""

    size = None

    def outputs(self, poses: np.ndarray, target: Target, anchor_frame: int = 0) -> Iterator[dict]:
        photo = paste_back(target.background, target.image, target.box)
        for _ in range(len(poses)):
            yield {"frame": photo, "box": np.asarray(target.box, np.float64)}


def find_methods(runs_folders: list[str | Path], device: str = "cpu",
                 follow_person: bool = True) -> tuple[list[Method], list[str]]:
    """The methods the RUNS folders provide, in table order, and one line per method that is unavailable
    (why). `follow_person` is the baselines' crop policy (see Pix2PixHDPipeline)."""
    if not runs_folders:
        raise UserError("no RUNS folder given; pass --runs RUNS [RUNS ...] (folders written by `cpfnet train`)")
    found: dict[str, Method] = {STILL: Method(STILL, StillPhoto, description="the target photo in every frame")}
    notes: list[str] = []

    def add(method: Method) -> None:
        if method.name in found:
            raise UserError(f"both {found[method.name].runs} and {method.runs} give the method {method.name!r}; "
                            "pass one of them")
        found[method.name] = method

    for folder in runs_folders:
        runs = Path(folder)
        if not runs.is_dir():
            raise UserError(f"RUNS folder {runs} not found")
        stages = [s for s in registry.STAGES if has_stage(runs, s)]
        if not stages:
            raise UserError(f"{runs} has no trained stage; give RUNS folders written by `cpfnet train`")
        for name in registry.BASELINES:
            if name in stages:
                entry = registry.STAGES[name]
                add(Method(entry.method, lambda r=runs, e=entry: e.pipeline_class().from_checkpoints(
                    r, device, follow_person=follow_person), runs, description=f"{runs}/{name}"))
        if "parsing" in stages and "foreground" in stages:
            uses_flow = foreground_uses_flow(runs)
            if uses_flow and "flow" not in stages:
                notes.append(f"{runs}: its foreground stage uses flow but there is no flow stage; CPF-Net rows skipped")
                continue
            with_fusion = "fusion" in stages
            if uses_flow:
                if with_fusion:
                    add(Method(FULL, lambda r=runs: TransferPipeline.from_checkpoints(r, device, use_fusion=True),
                               runs, True, True, f"{runs} (parsing, flow, foreground, fusion)"))
                else:
                    notes.append(f"{runs} has no fusion stage: no row {FULL!r}")
                add(Method(NO_FUSION, lambda r=runs: TransferPipeline.from_checkpoints(r, device, use_fusion=False),
                           runs, True, True, f"{runs} with use_fusion=False (the generated parsing is the mask)"))
            elif with_fusion:
                add(Method(NO_FLOW, lambda r=runs: TransferPipeline.from_checkpoints(r, device, use_fusion=True),
                           runs, True, False, f"{runs} (foreground trained with use_flow: false)"))
            else:
                notes.append(f"{runs}: foreground without flow but no fusion stage; row {NO_FLOW!r} skipped "
                             "(it would lack both modules)")
        elif any(s in stages for s in registry.CPF_STAGES):
            notes.append(f"{runs} has only {', '.join(s for s in stages if s in registry.CPF_STAGES)}: "
                         "CPF-Net needs parsing and foreground")
    for name in ORDER:
        if name not in found and not any(repr(name) in note for note in notes):
            notes.append(f"no RUNS folder gives {name!r}: row skipped")
    return [found[name] for name in ORDER if name in found], notes
