"""Preview grids of rendered videos: RGB, parsing, skeleton, the appearance frame warped by the ground-truth
flow, visibility and flow, one row per frame (numpy + OpenCV, uint8 RGB)."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from cpfnet.body.draw import draw_flow, draw_parsing, draw_skeleton, image_grid
from cpfnet.dataset.layout import VideoFolder
from cpfnet.io.atomic import atomic_file
from cpfnet.io.images import write_image

COLUMNS = ("frame", "parsing", "keypoints", "warped I_a", "visibility", "flow")
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


def pick_frames(video: VideoFolder, count: int) -> list[int]:
    """The appearance frame, the frame that hides most of it (the body turned away, when there is flow),
    then frames spread evenly over the video: `count` distinct indices."""
    chosen = [video.appearance_index]
    if video.has_flow and count > 1:
        hidden = [(video.visibility(i) == 1).mean() for i in range(len(video))]
        chosen.append(int(np.argmax(hidden)))
    for i in np.linspace(0, len(video) - 1, count + 2).round().astype(int)[1:-1]:
        if len(chosen) < count and int(i) not in chosen:
            chosen.append(int(i))
    return [chosen[0]] + sorted(chosen[1:count])


def preview_grid(video: VideoFolder, frames: list[int] | None = None, rows: int = 4, header: bool = True) -> np.ndarray:
    """One row per frame (by default `pick_frames`: the appearance frame first), with the columns of
    `COLUMNS`; a video without flow gets the first three."""
    a = video.appearance_index
    if frames is None:
        frames = pick_frames(video, rows)
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


def stacked_preview(videos: list[VideoFolder], rows: int = 3) -> np.ndarray:
    """The preview grids of several videos (e.g. the identities of one motion) one above the other, with
    one header."""
    grids = [preview_grid(v, rows=rows, header=(k == 0)) for k, v in enumerate(videos)]
    gap = np.full((6, grids[0].shape[1], 3), 255, np.uint8)
    return np.concatenate([x for g in grids for x in (g, gap)][:-1])


def write_previews(videos: list[str | os.PathLike], out_dir: str | os.PathLike, rows: int = 4,
                   stacked: str | None = None) -> list[Path]:
    """Write `<video name>.png` preview grids into `out_dir` (created), and with `stacked` also that file
    with all videos' grids (`rows - 1` frames each) one above the other; returns their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    folders = [VideoFolder(root) for root in videos]
    images = {f"{v.root.name}.png": preview_grid(v, rows=rows) for v in folders}
    if stacked:
        images[stacked] = stacked_preview(folders, rows=rows - 1)
    paths = []
    for name, image in images.items():
        with atomic_file(out_dir / name) as tmp:
            write_image(tmp, cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])
        paths.append(out_dir / name)
    return paths
