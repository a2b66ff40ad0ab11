"""One folder per video; the same layout for synthetic dancers and prepared real videos.

    VIDEO/
      meta.json            fps, size, num_frames, appearance_index, crop_boxes, original_size, source
                           (+ identity, motion for synthetic videos)
      frames/000000.png    RGB crops, S x S
      parsing/000000.png   uint8 LIP label ids, S x S
      poses.npy            float32 [T, 18, 3]: (x, y) in crop pixels, confidence
      background.png       the clean background of the appearance frame's crop, S x S
      background_full.png  real videos: the whole inpainted frame, so every frame's crop of it can be cut
      flow/000000.npy      synthetic only: float32 [S, S, 2], for each pixel of frame i the (x, y) pixel of
                           the appearance frame it comes from
      visibility/000000.png  synthetic only: uint8, 0 visible in the appearance frame, 1 hidden there,
                           2 background
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from cpfnet import signals
from cpfnet.body.keypoints import NUM_KEYPOINTS
from cpfnet.errors import UserError
from cpfnet.io.atomic import atomic_dir, write_json
from cpfnet.io.files import write_npy
from cpfnet.io.images import read_image, write_image
from cpfnet.ops.crop import crop_box

META = "meta.json"


@dataclass
class VideoMeta:
    """meta.json. `crop_boxes` are (x0, y0, x1, y1) per frame in the original video's pixels: the square
    that was resized to `size` x `size`."""

    fps: float
    size: int
    num_frames: int
    appearance_index: int
    crop_boxes: list[list[float]]
    original_size: list[int]  # [width, height] of the original video or photo
    source: str
    identity: int | None = None
    motion: int | None = None
    extra: dict = field(default_factory=dict)  # anything a producer wants to record (e.g. synth settings)

    @classmethod
    def load(cls, path: Path) -> "VideoMeta":
        try:
            data = json.loads(path.read_text())
            known = {f.name for f in dataclasses.fields(cls)}
            return cls(**{k: v for k, v in data.items() if k in known})
        except (OSError, ValueError, TypeError) as exc:
            raise UserError(f"{path}: not a cpfnet meta.json ({exc})") from None


def _frame_name(index: int, suffix: str) -> str:
    return f"{index:06d}{suffix}"


def read_rgb(path: Path) -> np.ndarray:
    """PNG/JPEG -> RGB uint8 [H, W, 3]; a missing, truncated or corrupt file is a UserError."""
    return cv2.cvtColor(read_image(path, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def read_labels(path: Path) -> np.ndarray:
    """Single-channel uint8 PNG -> [H, W]."""
    image = read_image(path, cv2.IMREAD_UNCHANGED)
    if image.ndim != 2:
        raise UserError(f"{path}: not a single-channel label image ({image.shape[2]} channels)")
    return image


def read_npy(path: Path) -> np.ndarray:
    """A .npy array; a missing, truncated or foreign file is a UserError naming it (np.load's own errors
    are a ValueError or EOFError about reshaping)."""
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise UserError(f"{path}: missing, truncated or not a NumPy array file ({type(exc).__name__}: "
                        f"{str(exc)[:80]}); make the dataset folder again") from None


# Compression level 1: several times faster than the default and only slightly larger.
def write_rgb(path: Path, image: np.ndarray) -> None:
    write_image(path, cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 1])


def write_labels(path: Path, labels: np.ndarray) -> None:
    write_image(path, labels.astype(np.uint8), [cv2.IMWRITE_PNG_COMPRESSION, 1])


class VideoFolder:
    """Read access to one video folder. Frames are read lazily, one at a time."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        if not (self.root / META).is_file():
            raise UserError(f"{self.root}: not a cpfnet video folder (no {META}); make one with "
                            "`cpfnet prepare` or `cpfnet synth`")
        self.meta = VideoMeta.load(self.root / META)
        self._poses: np.ndarray | None = None

    def __len__(self) -> int:
        return self.meta.num_frames

    @property
    def size(self) -> int:
        return self.meta.size

    @property
    def appearance_index(self) -> int:
        return self.meta.appearance_index

    @property
    def has_flow(self) -> bool:
        return (self.root / "flow").is_dir()

    @property
    def poses(self) -> np.ndarray:
        """float32 [T, 18, 3] in crop pixels."""
        if self._poses is None:
            poses = read_npy(self.root / "poses.npy")
            if poses.shape != (self.meta.num_frames, NUM_KEYPOINTS, 3):
                raise UserError(f"{self.root}/poses.npy has shape {poses.shape}, expected "
                                f"({self.meta.num_frames}, {NUM_KEYPOINTS}, 3)")
            self._poses = poses.astype(np.float32)
        return self._poses

    def frame(self, i: int) -> np.ndarray:
        """RGB uint8 [S, S, 3]."""
        return read_rgb(self.root / "frames" / _frame_name(i, ".png"))

    def parsing(self, i: int) -> np.ndarray:
        """LIP label ids uint8 [S, S]."""
        return read_labels(self.root / "parsing" / _frame_name(i, ".png"))

    def background(self, i: int | None = None) -> np.ndarray:
        """RGB uint8 [S, S, 3]: the clean background behind frame i's crop (the crop box moves with the
        person in real videos), or behind the appearance frame's crop when i is None."""
        full = self.root / "background_full.png"
        if i is None or i == self.appearance_index or not full.is_file():
            return read_rgb(self.root / "background.png")
        return crop_box(read_rgb(full), self.meta.crop_boxes[i], self.size)

    def flow(self, i: int) -> np.ndarray:
        """float32 [S, S, 2]: appearance-frame pixel (x, y) of each pixel of frame i (synthetic only)."""
        return read_npy(self.root / "flow" / _frame_name(i, ".npy"))

    def visibility(self, i: int) -> np.ndarray:
        """uint8 [S, S]: 0 visible in the appearance frame, 1 hidden there, 2 background (synthetic only)."""
        return read_labels(self.root / "visibility" / _frame_name(i, ".png"))


class VideoFolderWriter:
    """Writes one video folder under a temporary name; `finish()` moves it into place.

    Use as a context manager: on an exception nothing is left behind, and with `overwrite` an existing
    folder is only replaced once the new one is complete.
    """

    def __init__(self, root: str | os.PathLike, overwrite: bool = False, with_flow: bool = False):
        self.root = Path(root)
        if self.root.exists() and not overwrite:
            raise UserError(f"{self.root} exists; pass --overwrite to replace it")
        self._atomic = atomic_dir(self.root, overwrite=overwrite)
        self.tmp = self._atomic.__enter__()
        names = ["frames", "parsing"] + (["flow", "visibility"] if with_flow else [])
        for name in names:
            (self.tmp / name).mkdir()
        self._with_flow = with_flow
        self.num_frames = 0

    def add_frame(self, image: np.ndarray, parsing: np.ndarray, flow: np.ndarray | None = None,
                  visibility: np.ndarray | None = None) -> None:
        """Append frame `num_frames`: RGB [S, S, 3], labels [S, S] (+ flow [S, S, 2], visibility [S, S])."""
        signals.check()  # a SIGTERM swallowed on its way up still stops the run (cpfnet.signals)
        i = self.num_frames
        write_rgb(self.tmp / "frames" / _frame_name(i, ".png"), image)
        write_labels(self.tmp / "parsing" / _frame_name(i, ".png"), parsing)
        if self._with_flow:
            write_npy(self.tmp / "flow" / _frame_name(i, ".npy"), flow.astype(np.float32))
            write_labels(self.tmp / "visibility" / _frame_name(i, ".png"), visibility)
        self.num_frames += 1

    def finish(self, meta: VideoMeta, poses: np.ndarray, background: np.ndarray,
               background_full: np.ndarray | None = None) -> Path:
        """Write poses, background(s) and meta.json, then move the folder into place."""
        if meta.num_frames != self.num_frames or len(poses) != self.num_frames:
            raise ValueError(f"meta says {meta.num_frames} frames, poses {len(poses)}, written {self.num_frames}")
        write_npy(self.tmp / "poses.npy", poses.astype(np.float32))
        write_rgb(self.tmp / "background.png", background)
        if background_full is not None:
            write_rgb(self.tmp / "background_full.png", background_full)
        write_json(self.tmp / META, dataclasses.asdict(meta))
        self._atomic.__exit__(None, None, None)
        return self.root

    def abort(self) -> None:
        self._atomic.__exit__(RuntimeError, RuntimeError("aborted"), None)

    def __enter__(self) -> "VideoFolderWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()


def find_videos(root: str | os.PathLike) -> list[Path]:
    """Every video folder at or directly below `root` (sorted), or a UserError when there is none."""
    root = Path(root)
    if (root / META).is_file():
        return [root]
    videos = sorted(p.parent for p in root.glob(f"*/{META}"))
    if not videos:
        raise UserError(f"{root}: no cpfnet video folders (folders with {META}) found")
    return videos
