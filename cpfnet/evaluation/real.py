"""The real self-reconstruction benchmark (`cpfnet evaluate real`): does the transfer beat pasting the photo?

For each real video (cpfnet.evaluation.real_clips): frame 0 is the target photo, the video's own poses drive
the transfer (retargeting a person to themselves would only add error), and the video is the truth. Scored
over each true frame's person box (MediaPipe selfie segmentation, grown 10%), frame 0 left out (it is the
photo): SSIM and PSNR, averaged over all scored frames of all videos; FVD over windows of `window` frames
starting every `window_stride` frames of each clip, every frame cut to the square around the union of the
window's person boxes and resized to 224 x 224 (the same cut for truth and method).

A method is a name and a factory returning a pipeline with `frames(poses, target)` (cpfnet.transfer) and the
crop size it wants its target prepared at (`size`, None for methods that use only the full photo).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np
import torch
from tqdm import tqdm

from cpfnet.errors import UserError
from cpfnet.evaluation.fvd import FVDEmbedder, fvd_from_features
from cpfnet.evaluation.image_metrics import frames_to_batch, psnr, ssim
from cpfnet.evaluation.real_clips import RealClip
from cpfnet.ops.crop import crop_box
from cpfnet.timing import Timings
from cpfnet.transfer.target import Target, target_from_image

FVD_SIZE = 224
FLOOR = "Photo pasted (floor)"
GEOMETRIC = "Geometric warp (no networks)"


@dataclass
class RealMethod:
    """A row: `build()` -> a pipeline (`frames(poses, target)`); `size`: the target crop size it needs
    (None: any, e.g. the floor and the geometric warp, which use only the full-size photo). The time of
    personalisation counts in the row's seconds per frame."""

    name: str
    build: Callable[[], object]
    size: int | None = None
    personalize: int = 0  # steps of `TransferPipeline.personalized` on each video's photo first


class PastedPhoto:
    """The floor: the photo, unchanged, as every frame."""

    def frames(self, poses: np.ndarray, target: Target, anchor_frame: int = 0):
        for _ in range(len(poses)):
            yield target.photo


@dataclass
class RealResult:
    """rows: method -> {"ssim_person", "psnr_person", "fvd", "frames", "seconds_per_frame"}; pictures: method
    -> frames [T, H, W, 3] of the first video (for the grid); clips: the videos' names and frame counts."""

    rows: dict[str, dict[str, float]]
    clips: list[tuple[str, int]]
    settings: dict
    pictures: dict[str, np.ndarray] = field(default_factory=dict)
    truth_pictures: np.ndarray | None = None


def fvd_windows(length: int, window: int, stride: int) -> list[tuple[int, int]]:
    """(start, end) of the FVD windows of a clip `length` frames long; one window of the whole clip when it is
    shorter than `window` (I3D takes any length from 9 frames)."""
    if length < window:
        return [(0, length)]
    return [(s, s + window) for s in range(0, length - window + 1, stride)]


def square_around(boxes: np.ndarray) -> tuple[float, float, float, float]:
    """The square (x0, y0, x1, y1) centred on the union of boxes [N, 4], side its longer extent."""
    x0, y0 = boxes[:, 0].min(), boxes[:, 1].min()
    x1, y1 = boxes[:, 2].max(), boxes[:, 3].max()
    side = max(x1 - x0, y1 - y0, 1)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2


def fvd_clips(frames: np.ndarray, boxes: np.ndarray, window: int, stride: int) -> Iterable[np.ndarray]:
    """The FVD clips [w, 224, 224, 3] of one video's frames [T, H, W, 3] around the true person boxes [T, 4]."""
    for start, end in fvd_windows(len(frames), window, stride):
        square = square_around(boxes[start:end])
        yield np.stack([crop_box(f, square, FVD_SIZE) for f in frames[start:end]])


def person_scores(fake: np.ndarray, truth: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame SSIM and PSNR over the person boxes: frames [T, H, W, 3] uint8, boxes [T, 4] -> ([T], [T])."""
    f, t = frames_to_batch(fake), frames_to_batch(truth)
    b = torch.from_numpy(np.asarray(boxes))
    return ssim(f, t, box=b).numpy(), psnr(f, t, box=b).clamp(max=100).numpy()


def evaluate_real(clips: list[RealClip], methods: list[RealMethod], window: int = 30, window_stride: int = 10,
                  embedder=None, progress: bool = True) -> RealResult:
    """Run every method on every clip and score it (see the module docstring).

    `embedder`: an object with `embed(clips) -> [N, 400]` (default: the Kinetics-400 I3D FVD embedder);
    FVD needs at least 2 windows in all."""
    if not clips:
        raise UserError("no videos to evaluate")
    windows = sum(len(fvd_windows(len(c.frames), window, window_stride)) for c in clips)
    if windows < 2:
        raise UserError(f"FVD needs at least 2 windows, the videos give {windows}; add videos or lower --window")
    embedder = embedder if embedder is not None else FVDEmbedder()
    truth_features = embedder.embed((c for clip in clips for c in fvd_clips(clip.frames, clip.person_boxes,
                                                                             window, window_stride)),
                                    total=windows, desc="I3D truth", progress=progress)
    targets: dict[tuple[str, int | None], Target] = {}
    rows: dict[str, dict[str, float]] = {}
    pictures: dict[str, np.ndarray] = {}
    for method in methods:
        pipeline = method.build()
        timings = Timings()
        ssims, psnrs, fakes = [], [], []
        for k, clip in enumerate(clips):
            key = (clip.name, method.size)
            if key not in targets:
                targets[key] = target_from_image(clip.photo, method.size or 64)
            run = pipeline.personalized(targets[key], method.personalize, progress) if method.personalize else pipeline
            frames = []
            bar = tqdm(total=len(clip.frames), desc=f"{method.name[:24]} {clip.name}", unit="frame",
                       disable=not progress, leave=False)
            with timings("transfer"), bar:
                for frame in run.frames(clip.poses, targets[key], 0):
                    frames.append(frame)
                    bar.update()
            frames = np.stack(frames)
            s, p = person_scores(frames[1:], clip.frames[1:], clip.person_boxes[1:])
            ssims.append(s)
            psnrs.append(p)
            fakes.extend(fvd_clips(frames, clip.person_boxes, window, window_stride))
            if k == 0:
                pictures[method.name] = frames
        features = embedder.embed(fakes, total=len(fakes), desc=f"I3D {method.name[:20]}", progress=progress)
        n = sum(len(c.frames) for c in clips)
        rows[method.name] = {"ssim_person": float(np.concatenate(ssims).mean()),
                             "psnr_person": float(np.concatenate(psnrs).mean()),
                             "fvd": fvd_from_features(truth_features, features),
                             "frames": float(sum(len(s) for s in ssims)),
                             "seconds_per_frame": timings.seconds["transfer"] / n}
    settings = {"window": window, "window_stride": window_stride, "fvd_windows": windows}
    return RealResult(rows, [(c.name, len(c.frames)) for c in clips], settings, pictures, clips[0].frames)
