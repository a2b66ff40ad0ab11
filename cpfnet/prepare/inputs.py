"""What `cpfnet prepare` is given: video files, photos, folders of them; names, shards, photo reading.

Photos are read upright (EXIF orientation applied, as cameras and phones store it) and transparent ones
are composited on white, which is what a viewer shows and what a person detector copes with.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import cv2
import numpy as np

from cpfnet.errors import UserError
from cpfnet.io.images import read_image
from cpfnet.io.video import VIDEO_SUFFIXES

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


def is_photo(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in PHOTO_SUFFIXES


def find_inputs(paths: list[str | os.PathLike]) -> list[Path]:
    """Expand the command line's INPUTs: files as given, folders to their videos and photos (sorted, not
    recursive, hidden files skipped). A missing path or a folder with nothing usable is a UserError."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            items = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")
                           and p.suffix.lower() in VIDEO_SUFFIXES | PHOTO_SUFFIXES)
            if not items:
                raise UserError(f"{path}: folder has no videos ({', '.join(sorted(VIDEO_SUFFIXES))}) "
                                f"or photos ({', '.join(sorted(PHOTO_SUFFIXES))})")
            found.extend(items)
        elif path.is_file():
            found.append(path)
        else:
            raise UserError(f"{path}: no such file or folder")
    unique, seen = [], set()
    for p in found:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def dataset_names(inputs: list[Path]) -> list[str]:
    """One output folder name per input: its stem, made filesystem-safe; clashes get -2, -3, ... in order."""
    names, used = [], set()
    for path in inputs:
        base = re.sub(r"[^\w.-]+", "_", path.stem).strip("._") or "input"
        name, k = base, 2
        while name in used:
            name, k = f"{base}-{k}", k + 1
        used.add(name)
        names.append(name)
    return names


def parse_shard(text: str) -> tuple[int, int]:
    """'i/n' -> (i, n) with 0 <= i < n."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match or int(match[2]) < 1 or int(match[1]) >= int(match[2]):
        raise UserError(f"--shard {text!r}: expected i/n with 0 <= i < n, e.g. 0/4 (the job array's index/size)")
    return int(match[1]), int(match[2])


def take_shard(items: list, shard: tuple[int, int] | None) -> list:
    """Every n-th item starting at i (so shards of a sorted list are balanced and disjoint)."""
    if shard is None:
        return list(items)
    i, n = shard
    return list(items[i::n])


def _dihedral(image: np.ndarray) -> list[np.ndarray]:
    out = []
    for flipped in (image, image[:, ::-1]):
        for k in range(4):
            out.append(np.rot90(flipped, k))
    return out


def read_photo(path: str | os.PathLike) -> np.ndarray:
    """A photo as upright RGB uint8 [H, W, 3]: EXIF orientation applied, alpha composited on white,
    grey and 16-bit images converted."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    # IMREAD_COLOR applies the EXIF orientation; IMREAD_UNCHANGED keeps alpha but not the orientation.
    # read_image refuses a truncated file (OpenCV would fill its missing rows with grey).
    colour = read_image(path, cv2.IMREAD_COLOR)
    raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if raw is not None and raw.ndim == 3 and raw.shape[2] == 4:
        scale = 65535.0 if raw.dtype == np.uint16 else 255.0
        alpha = raw[..., 3].astype(np.float32) / scale
        # Find how the decoder turned the image upright, and turn the alpha the same way.
        bgr = raw[..., :3] if raw.dtype == np.uint8 else (raw[..., :3] / 257).round().astype(np.uint8)
        candidates = [(np.abs(c.astype(np.int16) - colour).mean() if c.shape == colour.shape else np.inf, i)
                      for i, c in enumerate(_dihedral(bgr))]
        alpha = _dihedral(alpha)[min(candidates)[1]]
        colour = (colour.astype(np.float32) * alpha[..., None] + 255.0 * (1 - alpha[..., None]))
        colour = colour.round().clip(0, 255).astype(np.uint8)
    return cv2.cvtColor(np.ascontiguousarray(colour), cv2.COLOR_BGR2RGB)
