"""Sets of videos to evaluate: a folder of video files and/or cpfnet video folders, read clip by clip.

A set is one folder. It holds video files (mp4, mov, ...) and/or cpfnet video folders (a `meta.json`
beside `frames/000000.png ...`, see `cpfnet.dataset.layout`), directly inside it; or it is itself one
video folder. Clips are read one at a time and only the frames asked for are decoded, so memory does
not depend on how many or how long the videos are.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cpfnet.dataset.layout import META, VideoFolder
from cpfnet.errors import UserError
from cpfnet.io.video import VIDEO_SUFFIXES, iter_frames, probe


@dataclass(frozen=True)
class VideoSource:
    """One video of a set: a video file, or a cpfnet video folder (`is_folder`)."""

    path: Path
    is_folder: bool

    @property
    def name(self) -> str:
        return self.path.name


def find_video_sources(root: str | os.PathLike, role: str = "video set") -> list[VideoSource]:
    """The videos of the set `root` (sorted by name), or a UserError naming `role` when there are none."""
    root = Path(root)
    if not root.exists():
        raise UserError(f"{role} folder {root} does not exist")
    if not root.is_dir():
        raise UserError(f"{role} {root} is not a folder; give a folder of videos or of cpfnet video folders")
    if (root / META).is_file():
        return [VideoSource(root, True)]
    sources = []
    for child in sorted(root.iterdir()):
        if child.name.startswith("."):  # hidden, e.g. a partial output of an atomic writer
            continue
        if child.is_file() and child.suffix.lower() in VIDEO_SUFFIXES:
            sources.append(VideoSource(child, False))
        elif child.is_dir() and (child / META).is_file():
            sources.append(VideoSource(child, True))
    if not sources:
        raise UserError(f"{role} folder {root} has no videos ({', '.join(sorted(VIDEO_SUFFIXES))} files "
                        f"or folders with {META})")
    return sources


def read_clip(source: VideoSource, start: int, num_frames: int) -> np.ndarray:
    """Frames start .. start + num_frames - 1 of a video as RGB uint8 [num_frames, H, W, 3].

    A video too short for the clip is a UserError naming it and its frame count.
    """
    if start < 0 or num_frames < 1:
        raise ValueError(f"need start >= 0 and num_frames >= 1, got {start} and {num_frames}")
    if source.is_folder:
        folder = VideoFolder(source.path)
        available = len(folder)
        frames = [folder.frame(i) for i in range(start, min(start + num_frames, available))]
    else:
        frames = list(iter_frames(source.path, start=start, count=num_frames))
        available = None
    if len(frames) < num_frames:
        have = available if available is not None else start + len(frames)
        raise UserError(f"{source.path} has {have} frames; {num_frames} frames from frame {start} are needed "
                        "(use a longer video, or lower --frames / --start)")
    shapes = {frame.shape for frame in frames}
    if len(shapes) != 1:
        raise UserError(f"{source.path}: frames change size within the clip ({sorted(shapes)})")
    return np.stack(frames)


def stated_frame_count(source: VideoSource) -> int:
    """The frame count that meta.json or the container states without decoding; 0 when unknown."""
    if source.is_folder:
        return len(VideoFolder(source.path))
    return probe(source.path).num_frames
