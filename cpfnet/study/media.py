"""The videos a study shows: copies of the methods' outputs, foreground-only versions, broken checks.

Every function reads one video and writes one H.264 mp4 (yuv420p, what every browser plays) atomically
through `cpfnet.io.video.VideoWriter`. Frames stream, except for `shuffled`, which permutes the whole
clip in time and so holds it (a 10 s study clip at 448 x 448 is about 150 MB).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable, Iterator

import av
import numpy as np

from cpfnet.errors import UserError
from cpfnet.io.atomic import atomic_file
from cpfnet.io.video import VideoWriter, iter_frames, probe

GREY = 128  # the neutral background of the foreground-only "(F)" videos
CHECK_KINDS = ("shuffled", "frozen")


def browser_ready(path: str | os.PathLike) -> bool:
    """True when `path` is an mp4 holding H.264 in yuv420p, which browsers play as it is."""
    path = Path(path)
    if path.suffix.lower() not in (".mp4", ".m4v"):
        return False
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            return stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
    except (av.error.FFmpegError, IndexError):
        return False


def _write(frames: Iterator[np.ndarray], out: Path, fps: float) -> int:
    with VideoWriter(out, fps) as writer:
        for frame in frames:
            writer.write(frame)
        count = writer.num_frames
    return count


def copy_video(src: str | os.PathLike, out: str | os.PathLike) -> None:
    """`src` as a browser-playable mp4 at `out`: copied when it already is one, re-encoded otherwise.

    Re-encoding also drops container metadata (titles, encoder tags) that could name the method."""
    src, out = Path(src), Path(out)
    if browser_ready(src):
        with atomic_file(out) as tmp:
            shutil.copyfile(src, tmp)
        return
    _write(iter_frames(src), out, probe(src).fps)


def foreground_only(src: str | os.PathLike, out: str | os.PathLike,
                    masks: Callable[[np.ndarray], np.ndarray] | Iterator[np.ndarray]) -> None:
    """The person of every frame of `src` on a neutral grey: `frame * m + GREY * (1 - m)`.

    Args:
        masks: either a function RGB frame [H, W, 3] -> mask [H, W] (bool, or float in [0, 1]), or an iterator
            of masks, one per frame (a method's own mask video, decoded).
    """
    src = Path(src)
    frames = iter_frames(src)
    if callable(masks):
        pairs = ((f, masks(f)) for f in frames)
    else:
        pairs = zip(frames, masks)

    def composite():
        count = 0
        for frame, mask in pairs:
            if mask.shape[:2] != frame.shape[:2]:
                raise UserError(f"{src}: mask of frame {count} is {mask.shape[1]}x{mask.shape[0]}, the frame "
                                f"{frame.shape[1]}x{frame.shape[0]}")
            m = mask.astype(np.float32)[..., None]
            yield np.clip(frame * m + GREY * (1 - m) + 0.5, 0, 255).astype(np.uint8)
            count += 1

    _write(composite(), out, probe(src).fps)


def mask_frames(path: str | os.PathLike) -> Iterator[np.ndarray]:
    """A mask video (white = person) decoded as float masks [H, W] in [0, 1]."""
    for frame in iter_frames(path):
        yield frame.mean(axis=2) / 255.0


class SegmentationMasks:
    """`cpfnet prepare`'s person mask (MediaPipe Pose segmentation, one person tracked) of each frame.

    Make one per video: it follows the person from frame to frame."""

    def __init__(self, mask_threshold: float = 0.5):
        from cpfnet.prepare.pose_mediapipe import PersonTracker

        self._tracker = PersonTracker(mask_threshold=mask_threshold)

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        return self._tracker(frame).mask


def broken(src: str | os.PathLike, out: str | os.PathLike, kind: str, seed: int = 0) -> None:
    """The visibly broken side of an attention check, made from `src`.

    kind "shuffled": the frames in a random order (the person jumps from pose to pose); "frozen": the first
    frame held for the whole clip (the person does not dance, the "photo pasted" floor).
    """
    src = Path(src)
    fps = probe(src).fps
    if kind == "shuffled":
        frames = list(iter_frames(src))
        order = np.random.default_rng(seed).permutation(len(frames))
        if len(frames) > 1 and np.all(order == np.arange(len(frames))):
            order = np.roll(order, 1)
        _write((frames[i] for i in order), out, fps)
    elif kind == "frozen":
        first, count = None, 0
        for frame in iter_frames(src):
            first = frame if first is None else first
            count += 1
        _write((first for _ in range(count)), out, fps)
    else:
        raise UserError(f"unknown attention check kind {kind!r}; known: {', '.join(CHECK_KINDS)}")
