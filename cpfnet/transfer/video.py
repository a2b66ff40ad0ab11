"""Files in, file out: a dance video and a photo -> an H.264 mp4 of the photo's person dancing."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from cpfnet.body.draw import draw_skeleton
from cpfnet.errors import UserError
from cpfnet.io.video import VideoWriter, check_writable, iter_frames
from cpfnet.transfer.pipeline import TransferPipeline, side_by_side
from cpfnet.transfer.retarget import retarget_poses
from cpfnet.transfer.target import prepare_target


@dataclass
class TransferResult:
    path: Path
    num_frames: int
    fps: float
    width: int
    height: int
    seconds: float
    stage_seconds: dict[str, float]


def _check_paths(source: Path, target: Path, out: Path) -> None:
    for path, what in ((source, "source video"), (target, "target photo")):
        if not path.is_file():
            raise UserError(f"{path}: no such {what}")
    if out.suffix.lower() != ".mp4":
        raise UserError(f"{out}: the output must be an .mp4 file")
    if out.is_dir():
        raise UserError(f"{out} is a folder; give a file name ending in .mp4")


def transfer_video(pipeline: TransferPipeline, source: str | Path, target: str | Path, out: str | Path,
                   with_side_by_side: bool = False, progress: bool = True) -> TransferResult:
    """Make the person in `target` dance like the person in `source`; write `out` (mp4, the photo's size,
    the source's frame rate). Nothing is left at `out` if anything fails."""
    source, target, out = Path(source), Path(target), Path(out)
    _check_paths(source, target, out)
    from cpfnet.prepare import pose_sequence

    check_writable(out)  # before the slow part
    started = time.perf_counter()
    person = prepare_target(target, pipeline.size)
    poses, fps, _ = pose_sequence(source, progress=progress)
    moved = retarget_poses(poses, person.pose_in_photo)
    with VideoWriter(out, fps=fps) as writer:
        sources = iter_frames(source) if with_side_by_side else None
        frames = pipeline.frames(moved, person)
        for t, frame in enumerate(tqdm(frames, total=len(moved), unit="frame", desc="transfer",
                                       disable=not progress)):
            if sources is not None:
                shown = next(sources)
                skeleton = draw_skeleton(None, poses[t], size=shown.shape[:2])
                frame = side_by_side(shown, skeleton, frame)
            writer.write(frame)
        height, width = frame.shape[:2]
    return TransferResult(out, len(moved), fps, width, height, time.perf_counter() - started,
                          dict(pipeline.timer.seconds))

