"""A picture to check a prepared dataset folder by eye: per frame, the original frame with its crop box,
the skeleton, the parsing, the crop and the clean background.

    python -m cpfnet.prepare.preview OUT/dance OUT/person --out preview.png [--rows 3] [--tile 160]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import cv2
import numpy as np

from cpfnet.body.draw import draw_parsing, draw_skeleton, image_grid
from cpfnet.dataset.layout import VideoFolder
from cpfnet.errors import UserError
from cpfnet.io.images import write_image
from cpfnet.io.video import iter_frames
from cpfnet.prepare.inputs import is_photo, read_photo

COLUMNS = ("frame (crop box)", "skeleton", "parsing", "crop", "background")


def _original(video: VideoFolder, index: int) -> np.ndarray | None:
    source = Path(video.meta.source)
    if not source.is_file():
        return None
    if is_photo(source):
        return read_photo(source)
    return next(iter_frames(source, start=index, count=1), None)


def _letterbox(image: np.ndarray, tile: int) -> np.ndarray:
    h, w = image.shape[:2]
    scale = tile / max(h, w)
    small = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    out = np.full((tile, tile, 3), 255, np.uint8)
    y, x = (tile - small.shape[0]) // 2, (tile - small.shape[1]) // 2
    out[y:y + small.shape[0], x:x + small.shape[1]] = small
    return out


def preview_rows(video: VideoFolder, indices: list[int], tile: int = 160) -> list[list[np.ndarray]]:
    """One row of tiles [tile, tile, 3] per frame index: COLUMNS."""
    rows = []
    for i in indices:
        crop = video.frame(i)
        original = _original(video, i)
        if original is None:
            framed = crop
        else:
            # The box may reach outside the frame: draw on a white canvas that holds both.
            h, w = original.shape[:2]
            x0, y0, x1, y1 = (int(round(v)) for v in video.meta.crop_boxes[i])
            left, top = max(0, -x0), max(0, -y0)
            framed = np.full((top + max(h, y1) + 1, left + max(w, x1) + 1, 3), 255, np.uint8)
            framed[top:top + h, left:left + w] = original
            thickness = max(2, round(max(framed.shape[:2]) / 120))
            colour = (255, 40, 40) if i == video.appearance_index else (40, 200, 40)
            cv2.rectangle(framed, (x0 + left, y0 + top), (x1 + left, y1 + top), colour, thickness)
        rows.append([_letterbox(framed, tile), draw_skeleton(crop, video.poses[i]),
                     draw_parsing(video.parsing(i), crop, alpha=0.75), crop, video.background(i)])
    return [[cv2.resize(t, (tile, tile), interpolation=cv2.INTER_AREA) if t.shape[0] != tile else t for t in row]
            for row in rows]


def preview_grid(folders: list[str | os.PathLike], rows_per_video: int = 3, tile: int = 160) -> np.ndarray:
    """RGB uint8 grid: for each dataset folder, its appearance frame (red box) and evenly spaced others."""
    rows = []
    for folder in folders:
        video = VideoFolder(folder)
        n = len(video)
        spaced = np.linspace(0, n - 1, max(1, rows_per_video - 1)).round().astype(int).tolist()
        picks = sorted({video.appearance_index, *spaced})
        rows.extend(preview_rows(video, picks, tile))
    return image_grid(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cpfnet.prepare.preview", description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", help="dataset folders made by cpfnet prepare")
    parser.add_argument("--out", required=True, help="PNG to write")
    parser.add_argument("--rows", type=int, default=3, help="frames per video (default 3)")
    parser.add_argument("--tile", type=int, default=160, help="tile size in pixels (default 160)")
    args = parser.parse_args(argv)
    try:
        grid = preview_grid(args.folders, args.rows, args.tile)
    except UserError as exc:
        print(f"preview: error: {exc}", file=sys.stderr)
        return 2
    write_image(args.out, cv2.cvtColor(grid, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    return 0


if __name__ == "__main__":
    sys.exit(main())
