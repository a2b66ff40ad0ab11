"""Files in, file out: a dance video and a photo -> an H.264 mp4 of the photo's person dancing."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from cpfnet import prepare
from cpfnet.body.draw import draw_skeleton
from cpfnet.errors import UserError
from cpfnet.heap import buffers_kept, one_arena, return_large_buffers, trim
from cpfnet.io.video import VideoWriter, check_writable, iter_frames
from cpfnet.timing import Timings
from cpfnet.transfer.pipeline import TransferPipeline, side_by_side
from cpfnet.transfer.retarget import retarget_poses
from cpfnet.transfer.target import DEFAULT_MAX_SIDE, prepare_target


@dataclass
class TransferResult:
    path: Path
    num_frames: int
    fps: float
    width: int
    height: int
    seconds: float
    # "target" (preparing the photo), "pose" (decoding the source + pose estimation), the pipeline's parts, "encode"
    stage_seconds: dict[str, float]


def _check_paths(source: Path, target: Path, outputs: list[Path]) -> None:
    for path, what in ((source, "source video"), (target, "target photo")):
        if not path.is_file():
            raise UserError(f"{path}: no such {what}")
    for out in outputs:
        if out.suffix.lower() != ".mp4":
            raise UserError(f"{out}: the output must be an .mp4 file")
        if out.is_dir():
            raise UserError(f"{out} is a folder; give a file name ending in .mp4")
        check_writable(out)  # before the slow part


def transfer_video(pipeline: TransferPipeline, source: str | Path, target: str | Path, out: str | Path | None,
                   side_by_side_out: str | Path | None = None, progress: bool = True,
                   personalize_steps: int = 0, max_side: int | None = DEFAULT_MAX_SIDE,
                   min_person_fraction: float | None = None, low_memory: bool = False) -> TransferResult:
    """Make the person in `target` dance like the person in `source`.

    `personalize_steps` > 0 first fine-tunes the generator on the target photo (`TransferPipeline.personalized`).
    The photo is first scaled so its longer side is at most `max_side` (None: full size; `cap_photo`).
    `min_person_fraction`: the source's frames that must show the person (default: `PrepareConfig`'s).
    `low_memory`: the networks' buffers go back to the system after each use instead of staying in the heap
    (`cpfnet.heap`): 40-85 MB less at its peak at 256 px, at about half the speed.
    Writes `out` (the result at the photo's size) and/or `side_by_side_out` (source | source skeleton |
    result), H.264 mp4 at the source's frame rate, in one pass. Nothing is left at either path if
    anything fails."""
    source, target = Path(source), Path(target)
    outputs = [Path(p) for p in (out, side_by_side_out) if p is not None]
    if not outputs:
        raise ValueError("give out, side_by_side_out or both")
    _check_paths(source, target, outputs)
    one_arena()  # what one thread frees, the others reuse
    return_large_buffers()  # until the poses are known, frame-sized buffers go back to the system
    started = time.perf_counter()
    timings = Timings()
    with timings("target"):  # once per photo: its pose, mask, parsing, crop and background
        person = prepare_target(target, pipeline.size, max_side)
    # The photo's static graph is not needed again: closed, the pose pass's video graph does not stack on it.
    prepare.release_estimators()
    trim()
    if personalize_steps:
        pipeline = pipeline.personalized(person, personalize_steps, progress)
    config = prepare.PrepareConfig(**({} if min_person_fraction is None else
                                      {"min_person_fraction": min_person_fraction}))
    with timings("pose"):
        poses, fps, _ = prepare.pose_sequence(source, config, progress=progress)
    # MediaPipe is done: its graphs would hold ~280 MB through the networks' part, where the peak is.
    prepare.release_estimators()
    trim()
    moved = retarget_poses(poses, person.pose_in_photo)
    # The networks allocate the same activations every batch: kept in the heap, they are faulted in once.
    with contextlib.nullcontext() if low_memory else buffers_kept(), contextlib.ExitStack() as stack:
        result = stack.enter_context(VideoWriter(out, fps=fps)) if out is not None else None
        side = stack.enter_context(VideoWriter(side_by_side_out, fps=fps)) if side_by_side_out is not None else None
        sources = iter_frames(source) if side is not None else None
        frames = pipeline.frames(moved, person, frame_buffers=2)  # each frame is encoded before the next is made
        for t, frame in enumerate(tqdm(frames, total=len(moved), unit="frame", desc="transfer",
                                       disable=not progress)):
            with timings("encode"):
                if result is not None:
                    result.write(frame)
                if side is not None:
                    shown = next(sources)
                    side.write(side_by_side(shown, draw_skeleton(None, poses[t], size=shown.shape[:2]), frame))
        first = result if result is not None else side
        width, height = first.width, first.height  # outputs[0]'s frames as the file holds them
        with timings("encode"):  # closing flushes x264's look-ahead: encoding work too
            stack.close()
    seconds = {"target": timings.seconds["target"], "pose": timings.seconds["pose"], **pipeline.timings.seconds,
               "encode": timings.seconds.get("encode", 0.0)}
    return TransferResult(outputs[0], len(moved), fps, width, height, time.perf_counter() - started, seconds)
