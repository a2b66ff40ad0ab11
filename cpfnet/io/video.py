"""Streaming video input/output through PyAV (FFmpeg).

Frames are decoded and encoded one at a time, so memory does not grow with a video's length. Frames are
RGB uint8 arrays [H, W, 3], already turned upright when the file carries a rotation flag (phone videos).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import av
import numpy as np

from cpfnet import signals
from cpfnet.errors import UserError
from cpfnet.io.atomic import atomic_file

VIDEO_SUFFIXES = {".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv"}


@dataclass(frozen=True)
class VideoInfo:
    """What a video file says of itself. `width`/`height` are upright (after rotation)."""

    width: int
    height: int
    fps: float
    num_frames: int  # from the container; 0 when it does not say (count by decoding then)
    rotation: int  # degrees counter-clockwise that FFmpeg's display matrix asks for


def _open(path: str | os.PathLike):
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as exc:
        raise UserError(f"{path}: not a readable video ({exc.strerror or type(exc).__name__})") from None
    if not container.streams.video:
        container.close()
        raise UserError(f"{path}: has no video stream")
    return container


# Still-image suffixes (cpfnet.prepare.inputs.PHOTO_SUFFIXES; not imported: that module imports this one).
_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif", ".heic"}


def require_video(path: str | os.PathLike, option: str) -> None:
    """A UserError when `path` is a still image (by its suffix, or FFmpeg opening it as one) given where a
    video belongs; anything else (a video, a missing or unreadable file) is left to the readers' own errors."""
    path = Path(path)
    if not path.is_file():
        return
    image = path.suffix.lower() in _IMAGE_SUFFIXES
    if not image:
        try:
            with av.open(str(path)) as container:
                name = container.format.name
                image = name == "image2" or name.endswith("_pipe")
        except av.error.FFmpegError:
            return
    if image:
        raise UserError(f"{option} {path} is a photo, not a video; give a video of the dance (.mp4, .mov, ...)")


def _upright(image: np.ndarray, rotation: int) -> np.ndarray:
    k = round(rotation / 90) % 4
    return np.ascontiguousarray(np.rot90(image, k)) if k else image


def probe(path: str | os.PathLike) -> VideoInfo:
    """Read a video's size, frame rate, frame count and rotation without decoding it all."""
    container = _open(path)
    try:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate or Fraction(25)
        rotation = 0
        try:  # the rotation lives on decoded frames in PyAV; one frame is cheap
            rotation = int(next(container.decode(stream)).rotation or 0)
        except (StopIteration, av.error.FFmpegError):
            raise UserError(f"{path}: no decodable frame (the file is empty or truncated)") from None
        width, height = stream.codec_context.width, stream.codec_context.height
        if round(rotation / 90) % 2:
            width, height = height, width
        return VideoInfo(width, height, float(rate), int(stream.frames or 0), rotation)
    finally:
        container.close()


def iter_frames(path: str | os.PathLike, start: int = 0, count: int | None = None) -> Iterator[np.ndarray]:
    """Yield upright RGB frames [H, W, 3] uint8, from frame `start`, at most `count` of them.

    A file that breaks off mid-stream (truncated) ends the iteration with a UserError naming the frame,
    after the frames that did decode.
    """
    container = _open(path)
    index = -1
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # frame-threaded decoding; order is preserved
        for frame in container.decode(stream):
            index += 1
            if index < start:
                continue
            if count is not None and index >= start + count:
                break
            signals.check()
            yield _upright(frame.to_ndarray(format="rgb24"), int(frame.rotation or 0))
    except av.error.FFmpegError as exc:
        raise UserError(f"{path}: the video breaks off after frame {index} ({exc.strerror or exc}); "
                        "re-encode or re-download it") from None
    finally:
        container.close()
    if index < 0:
        raise UserError(f"{path}: no decodable frame (the file is empty or truncated)")


def check_writable(path: str | os.PathLike) -> Path:
    """A UserError unless a file can be written at `path` (its folder exists and is writable)."""
    path = Path(path)
    if not path.parent.is_dir():
        raise UserError(f"{path.parent}: output folder does not exist; create it first")
    if not os.access(path.parent, os.W_OK):
        raise UserError(f"{path.parent}: output folder is not writable")
    return path


class VideoWriter:
    """H.264 mp4 writer that streams frames to a temporary file and renames it on `close()`.

    Use as a context manager: an exception inside the block deletes the partial file and leaves any
    existing file at `path` untouched. Odd sizes are padded to even by repeating the last row/column,
    because yuv420p needs even dimensions.

    `lookahead` is x264's rate-control look-ahead in frames (its default is 40): x264 holds that many frames
    and their analysis, so its memory grows over the first `lookahead` frames. At 720 x 1280, 10 instead of
    40 keeps x264 at about 150 MB instead of 250 MB, flat after ~20 frames (docs/performance.md), for 0.4 dB
    PSNR at the same crf on real footage.

    `preset` is x264's: `veryfast` by default, because x264 shares the CPU with the networks: on 80 frames of
    the real dance at 720 x 1280 it took 25.6 CPU-ms per frame against `medium`'s 69.1, for 40.02 instead
    of 40.33 dB PSNR at crf 18 and a 6% smaller file (docs/performance.md). Give `medium` or slower to
    trade speed for quality.
    """

    def __init__(self, path: str | os.PathLike, fps: float, crf: int = 18, preset: str = "veryfast",
                 lookahead: int = 10):
        self.path = check_writable(path)
        self._fps = Fraction(fps).limit_denominator(1001)
        self._options = {"crf": str(crf), "preset": preset, "x264-params": f"rc-lookahead={lookahead}"}
        self._atomic = atomic_file(self.path)
        self._tmp = self._atomic.__enter__()
        self._container = av.open(str(self._tmp), mode="w")
        self._stream = None
        self.num_frames = 0
        self.width = self.height = 0  # the file's frame size, once the first frame is written

    def write(self, frame: np.ndarray) -> None:
        """Append one RGB uint8 frame [H, W, 3]; every frame must have the first one's size."""
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(f"expected an RGB uint8 [H, W, 3] frame, got {frame.dtype} {frame.shape}")
        signals.check()
        height, width = frame.shape[:2]
        if self._stream is None:
            self._stream = self._container.add_stream("libx264", rate=self._fps, options=self._options)
            self._stream.width, self._stream.height = width + width % 2, height + height % 2
            self._stream.pix_fmt = "yuv420p"
            self._size = (height, width)
            self.width, self.height = self._stream.width, self._stream.height  # as encoded (padded to even)
        elif (height, width) != self._size:
            raise ValueError(f"frame size {(height, width)} differs from the first frame's {self._size}")
        if height % 2 or width % 2:
            frame = np.pad(frame, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")
        for packet in self._stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
            self._container.mux(packet)
        self.num_frames += 1

    def close(self) -> None:
        """Flush the encoder and move the finished file into place."""
        if self._stream is None:
            self.abort()
            raise ValueError("no frame was written")
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()
        self._atomic.__exit__(None, None, None)

    def abort(self) -> None:
        """Drop the partial file."""
        self._container.close()
        self._atomic.__exit__(RuntimeError, RuntimeError("aborted"), None)

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
