"""`cpfnet demo`: the whole job on built-in data, with a number that says how well it went.

1. Renders a synthetic dance (identity A, motion m) and the same dance on another identity B, then makes B's
   appearance frame (the "photo") dance A's poses. Because B was also rendered doing that dance, the result
   can be scored against the truth (SSIM, PSNR), next to the plain baseline of pasting the photo's person
   unchanged into every frame.
2. Transfers the real sample video onto the real sample photo (../shared/real), when they are there.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from cpfnet.body.draw import draw_skeleton, image_grid
from cpfnet.dataset.layout import VideoFolder, find_videos, write_rgb
from cpfnet.evaluation.image_metrics import psnr, ssim
from cpfnet.io.atomic import atomic_file
from cpfnet.io.video import VideoWriter, iter_frames
from cpfnet.synth.generate import SynthConfig, generate
from cpfnet.transfer.pipeline import TransferPipeline, side_by_side
from cpfnet.transfer.retarget import retarget_poses
from cpfnet.transfer.target import Target
from cpfnet.transfer.video import transfer_video

REAL_SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "real"


@dataclass
class Scores:
    ssim: float
    psnr: float
    baseline_ssim: float
    baseline_psnr: float


def _scores(frames: list[np.ndarray], truth: list[np.ndarray], photo: np.ndarray) -> Scores:
    def batch(images: list[np.ndarray]) -> torch.Tensor:
        return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2)

    made, real = batch(frames), batch(truth)
    pasted = batch([photo] * len(truth))
    return Scores(ssim(made, real).mean().item(), psnr(made, real).mean().item(),
                  ssim(pasted, real).mean().item(), psnr(pasted, real).mean().item())


def _write_video(path: Path, frames: list[np.ndarray], fps: float) -> None:
    with VideoWriter(path, fps) as writer:
        for frame in frames:
            writer.write(frame)


SYNTHETIC_SIZE = 256  # pixels of the synthetic dancers
# Frames of that size the synthetic demo holds at once, per frame of the dance: result, truth, source, skeleton.
SYNTHETIC_COPIES = 4


def synthetic_demo(pipeline: TransferPipeline, out: Path, seed: int = 2026, frames: int = 48,
                   size: int = SYNTHETIC_SIZE, progress: bool = True) -> Scores:
    """Render A and B dancing motion m, transfer A's dance onto B's photo, score against B's true video."""
    with tempfile.TemporaryDirectory(prefix="cpfnet-demo-") as tmp:
        generate(SynthConfig(out=str(Path(tmp) / "synth"), videos=2, frames=frames, size=size, seed=seed,
                             identities_per_motion=2), show_progress=progress)
        source, truth = (VideoFolder(p) for p in find_videos(Path(tmp) / "synth"))
        target = Target.from_folder(truth.root)  # B's appearance frame is the photo
        anchor = truth.appearance_index  # ... so B's pose there is where A's dance stands
        poses = retarget_poses(source.poses, target.pose_in_photo, anchor_frame=anchor)
        made = list(pipeline.frames(poses, target, anchor_frame=anchor))
        real = [truth.frame(t) for t in range(len(truth))]
        shown = [source.frame(t) for t in range(len(source))]
    photo = real[anchor]
    scored = [t for t in range(len(real)) if t != anchor]  # the photo itself would score perfectly
    _write_video(out / "synthetic_transfer.mp4", made, source.meta.fps)
    skeletons = [draw_skeleton(None, p, size=(size, size)) for p in source.poses]
    _write_video(out / "synthetic_side_by_side.mp4",
                 [np.concatenate([side_by_side(s, k, m), r], axis=1) for s, k, m, r in zip(shown, skeletons, made, real)],
                 source.meta.fps)
    picks = np.linspace(0, len(made) - 1, 6).round().astype(int)
    grid = image_grid([[shown[t] for t in picks], [skeletons[t] for t in picks], [made[t] for t in picks],
                       [real[t] for t in picks], [photo] * len(picks)])
    with atomic_file(out / "synthetic_preview.png") as tmp_png:
        write_rgb(tmp_png, grid)
    return _scores([made[t] for t in scored], [real[t] for t in scored], photo)


def real_demo(pipeline: TransferPipeline, out: Path, samples: Path = REAL_SAMPLES, progress: bool = True):
    """The real sample dance onto the real sample photo; None when the samples are absent."""
    source, photo = samples / "dance.mp4", samples / "person.jpg"
    if not (source.is_file() and photo.is_file()):
        return None
    result = transfer_video(pipeline, source, photo, out / "real_transfer.mp4", out / "real_side_by_side.mp4",
                            progress=progress)
    picks = {0, result.num_frames // 3, 2 * result.num_frames // 3}
    shown = [f for t, f in enumerate(iter_frames(out / "real_side_by_side.mp4")) if t in picks]
    scale = 360 / shown[0].shape[0]
    with atomic_file(out / "real_preview.png") as tmp_png:
        write_rgb(tmp_png, np.concatenate([cv2.resize(f, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
                                           for f in shown]))
    return result
