"""Running one method of the comparison table on one case: its outputs mapped from the pipeline's moving crop
to the ground truth's dataset frame (for synthetic data the whole rendered frame; for prepared real videos
their stored crop), flow values rescaled to the dataset's size."""

from __future__ import annotations

from itertools import islice

import numpy as np
import torch

from cpfnet.evaluation.cases import Case
from cpfnet.ops.crop import crop_box, move_crop
from cpfnet.timing import Timings


def run_method(pipeline, case: Case, timings: Timings | None = None, step: str = "transfer") -> dict:
    """Run a method's pipeline on a case; its outputs in the dataset frame of the ground truth:

    {"frames": [N, S, S, 3] uint8, "seconds": float, and for CPF-Net pipelines "parsing" [N, S, S] LIP ids,
     with flow "flow" [N, S, S, 2] (appearance-frame pixels at S) and "visibility" [N, S, S] (0, 1, 2)}.
    "seconds" is the time spent inside the pipeline (not in the mapping); it is also added to `step` of
    `timings` when given."""
    s = case.size
    frames, parsings, flows, visibilities = [], [], [], []
    timings = Timings() if timings is None else timings
    before = timings.seconds.get(step, 0.0)
    outputs = islice(pipeline.outputs(case.poses, case.target, case.anchor_frame), case.frames)
    for i, out in enumerate(timings.iterate(outputs, step)):
        to_box = case.truth_boxes[i]
        frames.append(crop_box(out["frame"], to_box, s))
        if out.get("parsing") is not None:
            ids = out["parsing"].argmax(dim=0).to(torch.uint8).cpu().numpy()
            parsings.append(move_crop(ids, out["box"], to_box, s, labels=True))
        # Appearance flow (stage 2a, LWG's T) comes with its visibility; vid2vid's "flow" (offsets into its
        # previous output) is not an appearance flow and is not scored.
        if out.get("flow") is not None and out.get("visibility") is not None:
            crop_size = out["flow"].shape[-1]
            flow = out["flow"].permute(1, 2, 0).float().cpu().numpy() * (s / crop_size)
            # Nearest, as the dataset readers resize flow: no blend of body and background flow at the outline.
            flows.append(move_crop(np.ascontiguousarray(flow), out["box"], to_box, s, labels=True))
            # Shift labels by one so the zeros outside the crop read as background (2).
            shifted = (out["visibility"].argmax(dim=0) + 1).to(torch.uint8).cpu().numpy()
            moved = move_crop(shifted, out["box"], to_box, s, labels=True).astype(np.int64) - 1
            visibilities.append(np.where(moved < 0, 2, moved).astype(np.uint8))
    result = {"frames": np.stack(frames), "seconds": timings.seconds.get(step, 0.0) - before}
    if parsings:
        result["parsing"] = np.stack(parsings)
    if flows:
        result["flow"], result["visibility"] = np.stack(flows), np.stack(visibilities)
    return result
