"""The paper's comparison table (Table I, Sections IV-B and IV-E) on a dataset of video folders.

Each test video becomes a *case*: a dance to transfer, a target photo, and the video the transfer should give.

- Synthetic dancers rendered with `cpfnet synth --identities-per-motion M` (M >= 2): the source is video
  (A, m), its ground-truth poses drive the transfer (no pose estimation), the target photo is the appearance
  frame of video (B, m), B the next identity dancing motion m, and the ground truth is video (B, m) itself.
  A's poses are retargeted to B's body with anchor_frame = B's appearance index, so the retargeted dance
  stands where B stands in that frame, and the true video is known pixel for pixel.
- Real videos (no identity ids, `cpfnet prepare`): self-reconstruction, as the paper evaluates: the source is
  the video, the target its own appearance frame, the ground truth the video. The video's own poses drive the
  transfer (retargeting a person to themselves would only add error).

Every method (cpfnet.evaluation.methods) runs on the first `frames` frames of each case; its output is
compared with the ground truth in the dataset's frame (for synthetic data the whole rendered frame; for
prepared real videos their stored crop, since the original frames are not kept):

- FVD (IV-B): the I3D features of the generated clips against those of the true clips, one clip per video;
- SSIM and PSNR on the frame and on the person's box (around the true keypoints, with a margin);
- stage 1: parsing accuracy and mIoU of x_parsing (argmax) against the true parsing (dataset-level
  confusion matrix); stage 2a: flow end-point error over the true foreground and visibility accuracy against
  the true flow (synthetic data: the target photo is B's appearance frame, so B's true flow is exactly what
  the flow network should predict). The stages' outputs are mapped from the pipeline's moving crop to the
  dataset frame, flow values rescaled to the dataset's size;
- temporal stability: the warping error of the generated video along the true video's optical flow.

The functions `plan_cases`, `load_case`, `run_method` and `score_video` are the per-video steps, usable alone;
`evaluate_table` runs them all and returns the report `write_report` writes.
"""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from tqdm import tqdm

from cpfnet.dataset.layout import VideoFolder, find_videos
from cpfnet.errors import UserError
from cpfnet.evaluation.image_metrics import frames_to_batch, mse, ssim
from cpfnet.evaluation.structure_metrics import confusion_matrix, flow_scores, scores_from_confusion
from cpfnet.evaluation.temporal import warping_error
from cpfnet.ops.crop import crop_box, uncrop
from cpfnet.transfer.retarget import retarget_poses
from cpfnet.transfer.target import Target, photo_to_crop

log = logging.getLogger(__name__)

CROSS_IDENTITY = "cross-identity"
SELF_RECONSTRUCTION = "self-reconstruction"
PERSON_MARGIN = 0.15  # of the keypoints' box's longer side, on every side (joints are inside the body's outline)
SSIM_WINDOW = 11


@dataclass
class Case:
    """One test video. Arrays cover the `frames` evaluated frames (S = the dataset's frame size), except
    `poses`, which covers the whole dance (the crop boxes follow the neck relative to `anchor_frame`)."""

    name: str
    source: Path
    truth: Path
    mode: str
    poses: np.ndarray  # [T, 18, 3] the driving dance in the target photo's pixels
    target: Target
    anchor_frame: int
    truth_frames: np.ndarray  # [N, S, S, 3] uint8
    truth_parsing: np.ndarray  # [N, S, S] uint8 LIP ids
    truth_boxes: np.ndarray  # [N, 4] the dataset frames' crop boxes in photo pixels
    person_boxes: np.ndarray  # [N, 4] around the true keypoints, dataset-frame pixels
    truth_flow: np.ndarray | None = None  # [N, S, S, 2] appearance-frame pixels (synthetic only)
    truth_visibility: np.ndarray | None = None  # [N, S, S]

    @property
    def frames(self) -> int:
        return len(self.truth_frames)

    @property
    def size(self) -> int:
        return self.truth_frames.shape[1]


def _is_synthetic(video: VideoFolder) -> bool:
    return video.meta.identity is not None and video.meta.motion is not None


def plan_cases(data: str | Path, frames: int, max_videos: int | None = None) -> tuple[str, list[tuple[Path, Path]], list[str]]:
    """(mode, [(source video, ground-truth video)], notes) for the dataset under `data`.

    Synthetic data must have at least two identities per motion (pairs A -> B, B the next identity of A's
    motion, cyclically); real data (no identity ids) pairs every video with itself. Every video used must
    have at least `frames` frames, and there must be at least 2 cases (FVD needs two clips per set)."""
    videos = [VideoFolder(p) for p in find_videos(data)]
    synthetic = [_is_synthetic(v) for v in videos]
    notes: list[str] = []
    if all(synthetic):
        mode = CROSS_IDENTITY
        by_motion: dict[int, list[VideoFolder]] = defaultdict(list)
        for video in videos:
            by_motion[video.meta.motion].append(video)
        pairs = []
        for motion in sorted(by_motion):
            group = sorted(by_motion[motion], key=lambda v: (v.meta.identity, v.root.name))
            if len(group) < 2:
                notes.append(f"motion {motion} has one identity ({group[0].root.name}): not evaluated")
                continue
            pairs += [(a.root, b.root) for a, b in zip(group, group[1:] + group[:1])]
        if not pairs:
            raise UserError(f"{data}: the synthetic videos have one identity per motion, so no video has a true "
                            "target; make them with `cpfnet synth --identities-per-motion 2` (or more)")
    elif not any(synthetic):
        mode = SELF_RECONSTRUCTION
        pairs = [(v.root, v.root) for v in videos]
    else:
        raise UserError(f"{data} mixes synthetic videos (with identity and motion ids) and real ones; evaluate "
                        "them as two datasets")
    if max_videos is not None:
        if max_videos < 1:
            raise UserError(f"--max-videos must be at least 1, got {max_videos}")
        pairs = pairs[:max_videos]
    lengths = {v.root: len(v) for v in videos}
    for source, truth in pairs:
        for path in (source, truth):
            if lengths[path] < frames:
                raise UserError(f"{path} has {lengths[path]} frames; --frames {frames} needs at least that many "
                                "(lower --frames, at least 9, or use longer videos)")
    if len(pairs) < 2:
        how = "raise --max-videos to 2 or more" if max_videos is not None else "add test videos"
        raise UserError(f"FVD needs at least 2 videos per set, {data} gives {len(pairs)}; {how}")
    return mode, pairs, notes


def crop_poses_to_photo(poses: np.ndarray, boxes, size: int) -> np.ndarray:
    """Keypoints [T, 18, 3] in each frame's size x size crop -> photo pixels, with per-frame boxes [T, 4]."""
    boxes = np.asarray(boxes, np.float64)
    out = poses.astype(np.float64).copy()
    scale = (boxes[:, 2] - boxes[:, 0]) / size
    out[..., 0] = boxes[:, None, 0] + poses[..., 0] * scale[:, None]
    out[..., 1] = boxes[:, None, 1] + poses[..., 1] * scale[:, None]
    return out.astype(np.float32)


def person_boxes(keypoints: np.ndarray, size: int, margin: float = PERSON_MARGIN, min_confidence: float = 0.1,
                 min_side: int = 2 * SSIM_WINDOW) -> np.ndarray:
    """Boxes [T, 4] (x0, y0, x1, y1) around each frame's keypoints [T, 18, 3] (confidence >= min_confidence),
    grown by `margin` x the longer side on every side, at least `min_side` wide and high, inside the
    size x size frame. A frame without keypoints gets the whole frame."""
    out = np.tile(np.array([0, 0, size, size], np.float64), (len(keypoints), 1))
    for t, kp in enumerate(keypoints):
        seen = kp[kp[:, 2] >= min_confidence, :2]
        if not len(seen):
            continue
        lo, hi = seen.min(axis=0), seen.max(axis=0)
        grow = margin * float((hi - lo).max())
        lo, hi = lo - grow, hi + grow
        centre, half = (lo + hi) / 2, np.maximum((hi - lo) / 2, min(min_side, size) / 2)
        lo = np.clip(centre - half, 0, size - 2 * half)
        out[t] = [lo[0], lo[1], lo[0] + 2 * half[0], lo[1] + 2 * half[1]]
    return np.clip(out, 0, size)


def load_case(source: str | Path, truth: str | Path, frames: int, mode: str) -> Case:
    """Read one case: the driving dance (retargeted for cross-identity transfer), the target photo (the true
    video's appearance frame) and the first `frames` frames of ground truth."""
    src, gt = VideoFolder(source), VideoFolder(truth)
    target = Target.from_folder(gt.root)
    anchor = gt.appearance_index
    dance = crop_poses_to_photo(src.poses, src.meta.crop_boxes, src.size)
    if mode == CROSS_IDENTITY:
        try:
            dance = retarget_poses(dance, target.pose_in_photo, anchor_frame=anchor)
        except ValueError as exc:
            raise UserError(f"{src.root}: cannot retarget its poses to {gt.root.name} ({exc})") from None
    n = range(frames)
    has_flow = mode == CROSS_IDENTITY and gt.has_flow
    return Case(
        name=src.root.name if src.root == gt.root else f"{src.root.name} -> {gt.root.name}",
        source=src.root, truth=gt.root, mode=mode, poses=dance, target=target, anchor_frame=anchor,
        truth_frames=np.stack([gt.frame(i) for i in n]),
        truth_parsing=np.stack([gt.parsing(i) for i in n]),
        truth_boxes=np.asarray(gt.meta.crop_boxes[:frames], np.float64),
        person_boxes=person_boxes(gt.poses[:frames], gt.size),
        truth_flow=np.stack([gt.flow(i) for i in n]) if has_flow else None,
        truth_visibility=np.stack([gt.visibility(i) for i in n]) if has_flow else None,
    )


def move_crop(crop: np.ndarray, from_box, to_box, photo_size: tuple[int, int], size: int,
              labels: bool = False) -> np.ndarray:
    """A crop [s, s(, C)] of `from_box` -> the size x size crop of `to_box` (both boxes in photo pixels of a
    photo [H, W] = photo_size); zeros where `from_box` does not reach."""
    height, width = photo_size
    placed = uncrop(crop, from_box, width, height, labels=labels)
    return crop_box(placed, to_box, size, labels=labels, border="constant")


def run_method(pipeline, case: Case) -> dict:
    """Run a method's pipeline on a case; its outputs in the dataset frame of the ground truth:

    {"frames": [N, S, S, 3] uint8, "seconds": float, and for CPF-Net pipelines "parsing" [N, S, S] LIP ids,
     with flow "flow" [N, S, S, 2] (appearance-frame pixels at S) and "visibility" [N, S, S] (0, 1, 2)}."""
    photo_size = case.target.background.shape[:2]
    s = case.size
    frames, parsings, flows, visibilities = [], [], [], []
    seconds = 0.0
    start = time.perf_counter()
    for i, out in enumerate(islice(pipeline.outputs(case.poses, case.target, case.anchor_frame), case.frames)):
        seconds += time.perf_counter() - start
        to_box = case.truth_boxes[i]
        frames.append(crop_box(out["frame"], to_box, s))
        if out.get("parsing") is not None:
            ids = out["parsing"].argmax(dim=0).to(torch.uint8).cpu().numpy()
            parsings.append(move_crop(ids, out["box"], to_box, photo_size, s, labels=True))
        if out.get("flow") is not None:
            crop_size = out["flow"].shape[-1]
            flow = out["flow"].permute(1, 2, 0).float().cpu().numpy() * (s / crop_size)
            # Nearest, as the dataset readers resize flow: no blend of body and background flow at the outline.
            flows.append(move_crop(np.ascontiguousarray(flow), out["box"], to_box, photo_size, s, labels=True))
            # Shift labels by one so the zeros outside the crop read as background (2).
            shifted = (out["visibility"].argmax(dim=0) + 1).to(torch.uint8).cpu().numpy()
            moved = move_crop(shifted, out["box"], to_box, photo_size, s, labels=True).astype(np.int64) - 1
            visibilities.append(np.where(moved < 0, 2, moved).astype(np.uint8))
        start = time.perf_counter()
    result = {"frames": np.stack(frames), "seconds": seconds}
    if parsings:
        result["parsing"] = np.stack(parsings)
    if flows:
        result["flow"], result["visibility"] = np.stack(flows), np.stack(visibilities)
    return result


def video_psnr(errors: torch.Tensor, data_range: float = 255.0) -> float:
    """PSNR (dB) of a video from its frames' mean squared errors [N]: 10 log10(range^2 / mean error)."""
    return float(10.0 * torch.log10(data_range ** 2 / errors.double().mean()))


def score_video(generated: dict, case: Case) -> dict:
    """Frame, structure and temporal scores of one method on one case (pure: arrays in, numbers out).

    Returns {"ssim", "ssim_person", "warping_error"} (means over the frames), {"psnr", "psnr_person"} (of the
    video: from the squared error averaged over its frames, so a frame that happens to be exact, such as the
    floor's at the appearance frame, does not make it infinite) and,
    when the method gave them, "parsing_confusion" [20, 20] (add over videos) and the flow sums
    {"epe_sum", "foreground_pixels", "visibility_hits", "pixels"} (add over videos)."""
    fake, real = frames_to_batch(generated["frames"]), frames_to_batch(case.truth_frames)
    if fake.shape != real.shape:
        raise ValueError(f"generated frames {tuple(fake.shape)} and ground truth {tuple(real.shape)} differ")
    out = {
        "ssim": float(ssim(fake, real).mean()),
        "psnr": video_psnr(mse(fake, real)),
        "ssim_person": float(ssim(fake, real, box=case.person_boxes).mean()),
        "psnr_person": video_psnr(mse(fake, real, box=case.person_boxes)),
        "warping_error": warping_error(list(generated["frames"]), list(case.truth_frames))["warping_error"],
    }
    if "parsing" in generated:
        out["parsing_confusion"] = confusion_matrix(generated["parsing"], case.truth_parsing)
    if "flow" in generated and case.truth_flow is not None:
        scores = flow_scores(torch.from_numpy(generated["flow"]).permute(0, 3, 1, 2),
                             torch.from_numpy(case.truth_flow).permute(0, 3, 1, 2),
                             torch.from_numpy(case.truth_visibility.astype(np.int64)),
                             torch.from_numpy(generated["visibility"].astype(np.int64)))
        out.update(epe_sum=scores["epe"] * scores["foreground_pixels"], foreground_pixels=scores["foreground_pixels"],
                   visibility_hits=scores["visibility_accuracy"] * scores["pixels"], pixels=scores["pixels"])
    return out


def summarize(scores: list[dict]) -> dict:
    """Per-video scores of one method -> the table's numbers: means over videos of the frame and temporal
    scores, dataset-level parsing accuracy / mIoU, pixel-weighted flow EPE and visibility accuracy."""
    out = {key: float(np.mean([s[key] for s in scores])) for key in ("ssim", "psnr", "ssim_person", "psnr_person")}
    temporal = [s["warping_error"] for s in scores if not math.isnan(s["warping_error"])]
    out["warping_error"] = float(np.mean(temporal)) if temporal else float("nan")
    if all("parsing_confusion" in s for s in scores):
        parsing = scores_from_confusion(sum(s["parsing_confusion"] for s in scores))
        out.update(parsing_accuracy=parsing["accuracy"], parsing_miou=parsing["miou"])
    if all("epe_sum" in s for s in scores):
        foreground = sum(s["foreground_pixels"] for s in scores)
        out["flow_epe"] = sum(s["epe_sum"] for s in scores) / foreground if foreground else float("nan")
        out["visibility_accuracy"] = sum(s["visibility_hits"] for s in scores) / sum(s["pixels"] for s in scores)
    return out


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


def _picture_rows(case: Case, frame_sets: dict[str, np.ndarray], columns: int) -> list[tuple[str, list[np.ndarray]]]:
    """Fig. 4's rows for one case: source frames, the driving pose skeletons, each method, ground truth."""
    from cpfnet.body.draw import draw_skeleton

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
    from cpfnet.evaluation.fvd import FVDEmbedder, fvd_from_features
    from cpfnet.evaluation.i3d import MIN_FRAMES
    from cpfnet.evaluation.methods import find_methods

    started = time.perf_counter()
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
    timings: dict[str, float] = defaultdict(float)
    t = time.perf_counter()
    pipelines = {m.name: m.build() for m in methods}
    timings["loading networks"] = time.perf_counter() - t
    t = time.perf_counter()
    embedder = embedder() if embedder is not None else FVDEmbedder(device=device)
    timings["loading the I3D"] = time.perf_counter() - t
    for key in ["reading data"] + [f"transfer: {m.name}" for m in methods] + [
            "frame, structure and temporal metrics", "I3D (FVD features)"]:
        timings[key] = 0.0  # the report lists the steps in this order

    features: dict[str, list[np.ndarray]] = defaultdict(list)
    scores: dict[str, list[dict]] = defaultdict(list)
    truth_temporal, names, picture = [], [], []
    with tqdm(total=len(pairs) * len(methods), desc="evaluate", unit="run", disable=not progress) as bar:
        for index, (source, truth) in enumerate(pairs):
            t = time.perf_counter()
            case = load_case(source, truth, frames, mode)
            names.append(case.name)
            timings["reading data"] += time.perf_counter() - t
            generated = {}
            for method in methods:
                bar.set_postfix_str(f"{case.name}: {method.name}")
                made = run_method(pipelines[method.name], case)
                timings[f"transfer: {method.name}"] += made["seconds"]
                t = time.perf_counter()
                scores[method.name].append(score_video(made, case))
                timings["frame, structure and temporal metrics"] += time.perf_counter() - t
                generated[method.name] = made["frames"]
                bar.update(1)
            t = time.perf_counter()
            truth_temporal.append(warping_error(list(case.truth_frames))["warping_error"])
            timings["frame, structure and temporal metrics"] += time.perf_counter() - t
            t = time.perf_counter()
            clips = [case.truth_frames] + [generated[m.name] for m in methods]
            embedded = embedder.embed(clips, total=len(clips), progress=False)
            features["truth"].append(embedded[0])
            for method, row in zip(methods, embedded[1:]):
                features[method.name].append(row)
            timings["I3D (FVD features)"] += time.perf_counter() - t
            if index == 0:
                picture = _picture_rows(case, generated, PICTURE_COLUMNS)
    truth = np.stack(features["truth"])
    rows = {}
    for method in methods:
        rows[method.name] = {"fvd": fvd_from_features(truth, np.stack(features[method.name])),
                             **summarize(scores[method.name])}
    if len(pairs) < 16:
        notes.append(f"FVD from {len(pairs)} videos per set is noisy and biased upwards; compare it only with FVDs "
                     "from as many videos")
    timings["total"] = time.perf_counter() - started
    return TableResult(data, mode, names, frames, rows, methods, notes, dict(timings), picture,
                       float(np.nanmean(truth_temporal)) if truth_temporal else float("nan"))
