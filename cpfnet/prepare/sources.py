"""Input adapters of `prepare_video`: a video file or photo readable twice, and a folder of external LIP labels."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from cpfnet.body.parsing_labels import NUM_LABELS
from cpfnet.dataset.layout import read_labels
from cpfnet.errors import UserError
from cpfnet.io.video import iter_frames, probe
from cpfnet.prepare.inputs import is_photo, read_photo


@dataclass
class FrameSource:
    """Frames of a video file or a photo, readable twice."""

    path: Path
    photo: bool
    fps: float
    width: int
    height: int
    expected: int  # frame count the container declares (0: unknown)

    @classmethod
    def open(cls, path: Path) -> "FrameSource":
        if is_photo(path):
            image = read_photo(path)
            return cls(path, True, 0.0, image.shape[1], image.shape[0], 1)
        info = probe(path)
        return cls(path, False, info.fps, info.width, info.height, info.num_frames)

    def frames(self) -> Iterator[np.ndarray]:
        if self.photo:
            yield read_photo(self.path)
        else:
            yield from iter_frames(self.path)


class ExternalParsing:
    """A folder of LIP label PNGs, one per frame in name order, each the frame's size."""

    def __init__(self, folder: Path, source: FrameSource):
        self.folder = Path(folder)
        self.files = sorted(p for p in self.folder.glob("*.png"))
        if not self.files:
            raise UserError(f"--parsing {self.folder}: no .png label files")
        self.source = source

    def __getitem__(self, t: int) -> np.ndarray:
        if t >= len(self.files):
            raise UserError(f"--parsing {self.folder}: {len(self.files)} label PNGs, but {self.source.path} "
                            f"has more frames; give one PNG per frame")
        labels = read_labels(self.files[t])
        if labels.shape != (self.source.height, self.source.width):
            raise UserError(f"{self.files[t]}: {labels.shape[1]}x{labels.shape[0]} labels for "
                            f"{self.source.width}x{self.source.height} frames; give them at the frames' size")
        if labels.max(initial=0) >= NUM_LABELS:
            raise UserError(f"{self.files[t]}: label {int(labels.max())} is not a LIP label (0-{NUM_LABELS - 1})")
        return labels
