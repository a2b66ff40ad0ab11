"""Preview grids of rendered videos: RGB, parsing, skeleton, the appearance frame warped by the ground-truth
flow, visibility and flow, one row per frame (numpy + OpenCV, uint8 RGB)."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from cpfnet.body.draw import draw_flow, draw_parsing, draw_skeleton, image_grid
from cpfnet.dataset.layout import VideoFolder, write_rgb
from cpfnet.io.atomic import atomic_file

COLUMNS = ("frame", "parsing", "keypoints", "warped appearance", "visibility", "flow")
VISIBILITY_COLOURS = np.array([(60, 180, 75), (230, 40, 60), (45, 45, 45)], np.uint8)  # visible, hidden, bg


def warp_appearance(appearance: np.ndarray, flow: np.ndarray, visibility: np.ndarray) -> np.ndarray:
    """The appearance frame [S, S, 3] sampled (bilinear) at the flow [S, S, 2]: what a perfect flow network
    would fetch. Hidden pixels are dimmed and tinted magenta, background is black."""
    # cv2 puts pixel centres at integers, the flow at i + 0.5.
    warped = cv2.remap(appearance, flow[..., 0] - 0.5, flow[..., 1] - 0.5, cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_CONSTANT, borderValue=0).astype(np.float32)
    hidden = visibility == 1
    warped[hidden] = 0.35 * warped[hidden] + 0.65 * np.float32([200, 0, 200])
    warped[visibility == 2] = 0
    return warped.astype(np.uint8)


def visibility_image(visibility: np.ndarray) -> np.ndarray:
    return VISIBILITY_COLOURS[np.minimum(visibility, 2)]


def _header(width: int, tile: int, pad: int) -> np.ndarray:
    height = max(14, tile // 10)
    strip = np.full((height, width, 3), 255, np.uint8)
    scale = height / 30
    for c, name in enumerate(COLUMNS):
        cv2.putText(strip, name, (c * (tile + pad) + 3, int(height * 0.75)), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    (0, 0, 0), 1, cv2.LINE_AA)
    return strip


def preview_grid(video: VideoFolder, frames: list[int] | None = None, rows: int = 4, header: bool = True) -> np.ndarray:
    """One row per frame (the appearance frame first, then `rows - 1` frames spread over the video), with
    the columns of `COLUMNS`."""
    a = video.appearance_index
    if frames is None:
        others = [i for i in np.linspace(0, len(video) - 1, rows + 1).round().astype(int) if i != a]
        frames = [a] + others[:rows - 1]
    appearance = video.frame(a)
    tiles = []
    for i in frames:
        image, parsing = video.frame(i), video.parsing(i)
        row = [image, draw_parsing(parsing), draw_skeleton(image, video.poses[i])]
        if video.has_flow:
            flow, visibility = video.flow(i), video.visibility(i)
            row += [warp_appearance(appearance, flow, visibility), visibility_image(visibility),
                    # Rounded to 1/100 px so that float noise of a still pixel does not show as colour.
                    draw_flow(np.round(flow, 2), (visibility < 2).astype(np.uint8))]
        tiles.append(row)
    grid = image_grid(tiles)
    if header:
        grid = np.concatenate([_header(grid.shape[1], video.size, 2), grid])
    return grid


def write_previews(videos: list[str | os.PathLike], out_dir: str | os.PathLike, rows: int = 4) -> list[Path]:
    """Write `<video name>.png` preview grids into `out_dir` (created); returns their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for root in videos:
        video = VideoFolder(root)
        path = out_dir / f"{Path(root).name}.png"
        with atomic_file(path) as tmp:
            write_rgb(tmp, preview_grid(video, rows=rows))
        paths.append(path)
    return paths
