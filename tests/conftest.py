"""Shared fixtures, made once per test session.

`synth_dataset`: a tiny `cpfnet synth` dataset (2 videos x 6 frames x 64 px), what the training tests use.

`shapes_dataset`: 2 videos x 6 frames x 64 px in the cpfnet layout, with consistent parsing, COCO-18 poses,
appearance flow and visibility. A figure of rectangles (torso, head, arms, legs), each part translating on its
own path, drawn back to front: every pixel knows its part, so the flow (the pixel moved back by the part's
displacement since the appearance frame) and the visibility (is that part on top there in the appearance
frame) are exact.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cpfnet.cli import main
from cpfnet.dataset.layout import VideoFolderWriter, VideoMeta

SIZE, FRAMES, VIDEOS, APPEARANCE = 64, 6, 2, 2

# part: LIP label, rectangle (x0, y0, x1, y1) at frame 0, per-frame displacement on top of the body's.
_PARTS = (  # drawn in this order, later on top
    ("left_leg", 16, (30, 38, 35, 58), (0.0, 0.0)),
    ("right_leg", 17, (24, 38, 29, 58), (0.0, 0.0)),
    ("torso", 5, (22, 18, 37, 39), (0.0, 0.0)),
    ("head", 13, (25, 6, 34, 17), (0.0, 0.0)),
    ("left_arm", 14, (36, 19, 41, 36), (1.0, -1.5)),
    ("right_arm", 15, (18, 19, 23, 36), (-1.0, 1.5)),
)
# keypoint index: (part, x, y at frame 0)
_KEYPOINTS = {
    0: ("head", 29.5, 12), 14: ("head", 27.5, 10), 15: ("head", 31.5, 10), 16: ("head", 25.5, 11),
    17: ("head", 33.5, 11), 1: ("torso", 29.5, 19), 2: ("torso", 23, 20), 5: ("torso", 36, 20),
    8: ("torso", 26.5, 38), 11: ("torso", 32.5, 38), 3: ("right_arm", 20.5, 27), 4: ("right_arm", 20.5, 35),
    6: ("left_arm", 38.5, 27), 7: ("left_arm", 38.5, 35), 9: ("right_leg", 26.5, 48), 10: ("right_leg", 26.5, 57),
    12: ("left_leg", 32.5, 48), 13: ("left_leg", 32.5, 57),
}


def _offsets(video: int, t: int) -> dict[str, np.ndarray]:
    body = np.array([(2.0 if video == 0 else -1.5) * (t - APPEARANCE), 0.5 * (t % 2)])
    return {name: body + np.array(step) * t for name, _, _, step in _PARTS}


def _render(video: int, t: int, colors: np.ndarray, background: np.ndarray):
    """-> image [S,S,3] uint8, parsing [S,S] uint8, part index map [S,S] (-1 background), offsets."""
    offsets = _offsets(video, t)
    parts = np.full((SIZE, SIZE), -1, np.int64)
    ys, xs = np.mgrid[0:SIZE, 0:SIZE] + 0.5
    for p, (name, _, (x0, y0, x1, y1), _) in enumerate(_PARTS):
        dx, dy = offsets[name]
        inside = (xs >= x0 + dx) & (xs < x1 + dx) & (ys >= y0 + dy) & (ys < y1 + dy)
        parts[inside] = p
    labels = np.array([label for _, label, _, _ in _PARTS], np.uint8)
    parsing = np.where(parts >= 0, labels[parts.clip(0)], 0).astype(np.uint8)
    # Part colour with a stripe pattern fixed to the part, so warping matters.
    image = background.copy()
    for p, (name, _, _, _) in enumerate(_PARTS):
        dx, dy = offsets[name]
        stripes = (((ys - dy) // 3) % 2)[..., None] * 40
        image = np.where((parts == p)[..., None], np.clip(colors[p] + stripes, 0, 255), image)
    return image.astype(np.uint8), parsing, parts, offsets


def make_shapes_dataset(root, videos: int = VIDEOS, frames: int = FRAMES) -> None:
    rng = np.random.default_rng(1234)
    for v in range(videos):
        colors = rng.integers(40, 200, (len(_PARTS), 3))
        background = (np.linspace(0, 1, SIZE)[:, None, None] * rng.integers(50, 250, 3)).repeat(SIZE, 1)
        background = background.astype(np.uint8)
        _, _, app_parts, app_offsets = _render(v, APPEARANCE, colors, background)
        poses = np.zeros((frames, 18, 3), np.float32)
        with VideoFolderWriter(root / f"video{v}", with_flow=True) as writer:
            for t in range(frames):
                image, parsing, parts, offsets = _render(v, t, colors, background)
                ys, xs = np.mgrid[0:SIZE, 0:SIZE] + 0.5
                flow = np.stack([xs, ys], -1).astype(np.float32)
                visibility = np.full((SIZE, SIZE), 2, np.uint8)
                for p, (name, _, _, _) in enumerate(_PARTS):
                    mine = parts == p
                    shift = app_offsets[name] - offsets[name]
                    flow[mine] += shift.astype(np.float32)
                    sx = np.clip(np.floor(flow[..., 0]).astype(int), 0, SIZE - 1)
                    sy = np.clip(np.floor(flow[..., 1]).astype(int), 0, SIZE - 1)
                    visibility[mine] = np.where(app_parts[sy, sx] == p, 0, 1)[mine]
                for k, (part, x, y) in _KEYPOINTS.items():
                    dx, dy = offsets[part]
                    poses[t, k] = (x + dx, y + dy, 1.0)
                writer.add_frame(image, parsing, flow, visibility)
            meta = VideoMeta(fps=8.0, size=SIZE, num_frames=frames, appearance_index=APPEARANCE,
                             crop_boxes=[[0, 0, SIZE, SIZE]] * frames, original_size=[SIZE, SIZE],
                             source="test-shapes", identity=v, motion=v)
            writer.finish(meta, poses, background)


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tests run tiny tensors: a second thread gains nothing, and on a busy machine waiting for it cost 3-30x.
    Set before every test because training in-process sets its own thread count."""
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def shapes_dataset(tmp_path_factory):
    """A folder of 2 tiny synthetic videos (64 px, 6 frames, flow and visibility included)."""
    root = tmp_path_factory.mktemp("shapes")
    make_shapes_dataset(root)
    return root


@pytest.fixture(scope="session")
def synth_dataset(tmp_path_factory):
    """A tiny synthetic-dancer dataset made by `cpfnet synth`: 2 videos x 6 frames x 64 px, with ground-truth
    parsing, poses, background, flow and visibility (enough for every training stage, K = 5 clips included)."""
    root = tmp_path_factory.mktemp("synth") / "data"
    assert main(["synth", "--out", str(root), "--videos", "2", "--frames", "6", "--size", "64", "--workers", "1",
                 "--no-progress"]) == 0
    return root
