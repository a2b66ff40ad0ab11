"""The paper's comparison table (Table I, Sections IV-B and IV-E) on a dataset of video folders.

Each test video becomes a *case* (`cpfnet.evaluation.cases`): a dance to transfer, a target photo, and the
video the transfer should give (cross-identity transfer on synthetic dancers, self-reconstruction on real
videos). Every method (`cpfnet.evaluation.methods`) runs on the first `frames` frames of each case
(`cpfnet.evaluation.running`); its output is scored against the ground truth (`cpfnet.evaluation.scoring`:
SSIM, PSNR, parsing, flow, warping error) and, here, by FVD (IV-B): the I3D features of the generated clips
against those of the true clips, one clip per video. `cpfnet.evaluation.report` writes the result.

`evaluate_table` runs those steps on every case and returns the `TableResult` that `write_report` writes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from tqdm import tqdm

from cpfnet.body.draw import draw_skeleton
from cpfnet.dataset.layout import VideoFolder
from cpfnet.errors import UserError
from cpfnet.evaluation.cases import Case, load_case, plan_cases
from cpfnet.evaluation.fvd import FVDEmbedder, fvd_from_features
from cpfnet.evaluation.i3d import MIN_FRAMES
from cpfnet.evaluation.methods import find_methods
from cpfnet.evaluation.running import run_method
from cpfnet.evaluation.scoring import score_video, summarize
from cpfnet.evaluation.temporal import warping_error
from cpfnet.ops.crop import photo_to_crop
from cpfnet.timing import Timings


@dataclass
class TableResult:
    """Everything the report shows. `rows`: method name -> its numbers (see `summarize`, plus "fvd")."""

    data: Path
    mode: str
    cases: list[str]
    frames: int
    rows: dict[str, dict]
    methods: list  # cpfnet.evaluation.methods.Method, in table order
    notes: list[str]
    timings: dict[str, float]
    picture_rows: list[tuple[str, list[np.ndarray]]] = field(default_factory=list)
    truth_warping_error: float = float("nan")


PICTURE_COLUMNS = 5
METRICS = "frame, structure and temporal metrics"
I3D_FEATURES = "I3D (FVD features)"


def _picture_rows(case: Case, frame_sets: dict[str, np.ndarray], columns: int) -> list[tuple[str, list[np.ndarray]]]:
    """Fig. 4's rows for one case: source frames, the driving pose skeletons, each method, ground truth."""
    picks = np.unique(np.linspace(0, case.frames - 1, min(columns, case.frames)).round().astype(int))
    source = VideoFolder(case.source)
    s = case.size
    poses = photo_to_crop(case.poses[:case.frames], case.truth_boxes, s)
    rows = [("Source", [source.frame(int(i)) for i in picks]),
            ("Pose", [draw_skeleton(None, poses[i], size=(s, s)) for i in picks])]
    rows += [(name, [frames[i] for i in picks]) for name, frames in frame_sets.items()]
    rows.append(("Ground truth", [case.truth_frames[i] for i in picks]))
    return rows


def evaluate_table(data: str | Path, runs: list[str | Path], frames: int = 30, max_videos: int | None = None,
                   device: str = "cpu", embedder: Callable[[], object] | None = None,
                   progress: bool = True) -> TableResult:
    """Run every method the RUNS folders provide on every case of `data` and score them (module docstring).

    `embedder` makes the FVD embedder (an object with `embed(clips) -> [N, 400]`, default FVDEmbedder on
    `device`); it is called only after the inputs have been checked, so a bad argument fails at once."""
    timings = Timings()
    with timings("total"):
        if frames < MIN_FRAMES:
            raise UserError(f"--frames must be at least {MIN_FRAMES} for the I3D, got {frames} (the paper uses 30)")
        if not runs:
            raise UserError("no RUNS folder given; pass --runs RUNS [RUNS ...] (folders written by `cpfnet train`)")
        data = Path(data)
        if not data.is_dir():
            raise UserError(f"data folder {data} not found")
        mode, pairs, notes = plan_cases(data, frames, max_videos)
        # The baseline must frame the person as its training data did (it paints the background itself).
        moving_crops = any(len({tuple(b) for b in VideoFolder(p).meta.crop_boxes}) > 1 for p, _ in pairs)
        methods, skipped = find_methods(runs, device, follow_person=moving_crops)
        notes += skipped
        with timings("loading networks"):
            pipelines = {m.name: m.build() for m in methods}
        with timings("loading the I3D"):
            embedder = embedder() if embedder is not None else FVDEmbedder(device=device)
        features: dict[str, list[np.ndarray]] = defaultdict(list)
        scores: dict[str, list[dict]] = defaultdict(list)
        truth_temporal, names, picture = [], [], []
        with tqdm(total=len(pairs) * len(methods), desc="evaluate", unit="run", disable=not progress) as bar:
            for index, (source, truth) in enumerate(pairs):
                with timings("reading data"):
                    case = load_case(source, truth, frames, mode)
                names.append(case.name)
                generated = {}
                for method in methods:
                    bar.set_postfix_str(f"{case.name}: {method.name}")
                    made = run_method(pipelines[method.name], case, timings, f"transfer: {method.name}")
                    with timings(METRICS):
                        scores[method.name].append(score_video(made, case))
                    generated[method.name] = made["frames"]
                    bar.update(1)
                with timings(METRICS):
                    truth_temporal.append(warping_error(list(case.truth_frames))["warping_error"])
                with timings(I3D_FEATURES):
                    clips = [case.truth_frames] + [generated[m.name] for m in methods]
                    embedded = embedder.embed(clips, total=len(clips), progress=False)
                    features["truth"].append(embedded[0])
                    for method, row in zip(methods, embedded[1:]):
                        features[method.name].append(row)
                if index == 0:
                    picture = _picture_rows(case, generated, PICTURE_COLUMNS)
        truth = np.stack(features["truth"])
        rows = {method.name: {"fvd": fvd_from_features(truth, np.stack(features[method.name])),
                              **summarize(scores[method.name])} for method in methods}
        if len(pairs) < 16:
            notes.append(f"FVD from {len(pairs)} videos per set is noisy and biased upwards; compare it only with "
                         "FVDs from as many videos")
    # The report lists the steps in the order they run for one case, the total last.
    steps = ["loading networks", "loading the I3D", "reading data"] + [f"transfer: {m.name}" for m in methods] + [
        METRICS, I3D_FEATURES, "total"]
    return TableResult(data, mode, names, frames, rows, methods, notes,
                       {step: timings.seconds.get(step, 0.0) for step in steps}, picture,
                       float(np.nanmean(truth_temporal)) if truth_temporal else float("nan"))
