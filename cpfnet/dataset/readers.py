"""torch Datasets over video folders (`layout.py`), for the three kinds of training sample.

Self-reconstruction, as in the paper (III-B): each video's appearance frame is I_a, its other frames are
targets. Every reader can resize on load (`size`), so one dataset serves the `tiny` and `paper` configs:
images area-resampled, label maps nearest, keypoints and flows scaled by the same factor.

Tensors: images float32 [3, S, S] in [-1, 1]; label maps int64 [S, S]; poses float32 [18, 3];
flow float32 [2, S, S]; visibility int64 [S, S].
"""

from __future__ import annotations

import os
from typing import Sequence

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from cpfnet.dataset.layout import VideoFolder, find_videos
from cpfnet.errors import UserError


def image_to_tensor(image: np.ndarray) -> torch.Tensor:
    """RGB uint8 [H, W, 3] -> float32 [3, H, W] in [-1, 1]."""
    return torch.from_numpy(image).permute(2, 0, 1).float().div_(127.5).sub_(1.0)


def tensor_to_image(tensor: torch.Tensor) -> np.ndarray:
    """float [3, H, W] in [-1, 1] -> RGB uint8 [H, W, 3]."""
    return ((tensor.detach().float().clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).cpu().numpy()


class _Resizer:
    """Loads from one video folder at the requested size."""

    def __init__(self, video: VideoFolder, size: int | None):
        self.video = video
        self.size = size or video.size
        self.scale = self.size / video.size

    def image(self, image: np.ndarray) -> torch.Tensor:
        if self.scale != 1:
            image = cv2.resize(image, (self.size, self.size), interpolation=cv2.INTER_AREA if self.scale < 1
                               else cv2.INTER_LINEAR)
        return image_to_tensor(image)

    def labels(self, labels: np.ndarray) -> torch.Tensor:
        if self.scale != 1:
            labels = cv2.resize(labels, (self.size, self.size), interpolation=cv2.INTER_NEAREST)
        return torch.from_numpy(labels.astype(np.int64))

    def pose(self, i: int) -> torch.Tensor:
        pose = self.video.poses[i].copy()
        pose[:, :2] *= self.scale
        return torch.from_numpy(pose)

    def flow(self, i: int) -> torch.Tensor:
        flow = self.video.flow(i)
        if self.scale != 1:
            # Nearest keeps the body's flow from blending into the background's at the silhouette.
            flow = cv2.resize(flow, (self.size, self.size), interpolation=cv2.INTER_NEAREST) * self.scale
        return torch.from_numpy(np.ascontiguousarray(flow.transpose(2, 0, 1)))


class _VideoFrames(Dataset):
    """Shared indexing: every (video, frame) pair whose frame is not the video's appearance frame."""

    min_frames = 2

    def __init__(self, videos: str | os.PathLike | Sequence[str | os.PathLike], size: int | None = None):
        paths = find_videos(videos) if isinstance(videos, (str, os.PathLike)) else list(videos)
        self.videos = [_Resizer(VideoFolder(p), size) for p in paths]
        self.videos = [v for v in self.videos if len(v.video) >= self.min_frames]
        if not self.videos:
            raise UserError(f"no video with at least {self.min_frames} frames in {videos}")
        self.index = [(v, i) for v, r in enumerate(self.videos) for i in self._frames(r.video)]

    def _frames(self, video: VideoFolder) -> list[int]:
        return [i for i in range(len(video)) if i != video.appearance_index]

    def __len__(self) -> int:
        return len(self.index)

    def _appearance(self, r: _Resizer) -> dict[str, torch.Tensor]:
        a = r.video.appearance_index
        return {
            "appearance_image": r.image(r.video.frame(a)),
            "appearance_parsing": r.labels(r.video.parsing(a)),
            "appearance_pose": r.pose(a),
        }


class AppearanceFrames(_VideoFrames):
    """Single frames with their video's appearance frame (stages 1 and 2b).

    Item: appearance_image [3,S,S], appearance_parsing [S,S], appearance_pose [18,3], image [3,S,S],
    parsing [S,S], pose [18,3], background [3,S,S], video (int), frame (int)."""

    def __getitem__(self, n: int) -> dict[str, torch.Tensor]:
        v, i = self.index[n]
        r = self.videos[v]
        return {
            **self._appearance(r),
            "image": r.image(r.video.frame(i)),
            "parsing": r.labels(r.video.parsing(i)),
            "pose": r.pose(i),
            "background": r.image(r.video.background(i)),
            "video": v,
            "frame": i,
        }


class FlowPairs(_VideoFrames):
    """Pose pairs with the ground-truth appearance flow (stage 2a); synthetic videos only.

    Item: appearance_pose [18,3], pose [18,3], flow [2,S,S], visibility [S,S], video, frame."""

    def __init__(self, videos, size: int | None = None):
        super().__init__(videos, size)
        missing = [str(r.video.root) for r in self.videos if not r.video.has_flow]
        if missing:
            raise UserError(f"{missing[0]} has no ground-truth flow; the flow stage trains on synthetic "
                            "dancers (`cpfnet synth`)")

    def __getitem__(self, n: int) -> dict[str, torch.Tensor]:
        v, i = self.index[n]
        r = self.videos[v]
        return {
            "appearance_pose": r.pose(r.video.appearance_index),
            "pose": r.pose(i),
            "flow": r.flow(i),
            "visibility": r.labels(r.video.visibility(i)),
            "video": v,
            "frame": i,
        }


class Clips(_VideoFrames):
    """K consecutive frames of a video with its appearance frame and background (stage 3, eq. 5).

    Item: images [K,3,S,S], parsings [K,S,S], poses [K,18,3], backgrounds [K,3,S,S], boxes [K,4] float64 (each
    frame's crop box in the original video's pixels, meta.json's `crop_boxes`: a real video's crop follows the
    dancer, so the previous frame must be moved into the current crop), appearance_image, appearance_parsing,
    appearance_pose, video, frame (the first frame's index)."""

    def __init__(self, videos, length: int = 5, size: int | None = None):
        self.length = length
        self.min_frames = length
        super().__init__(videos, size)

    def _frames(self, video: VideoFolder) -> list[int]:
        return list(range(len(video) - self.length + 1))

    def __getitem__(self, n: int) -> dict[str, torch.Tensor]:
        v, start = self.index[n]
        r = self.videos[v]
        frames = range(start, start + self.length)
        return {
            **self._appearance(r),
            "images": torch.stack([r.image(r.video.frame(i)) for i in frames]),
            "parsings": torch.stack([r.labels(r.video.parsing(i)) for i in frames]),
            "poses": torch.stack([r.pose(i) for i in frames]),
            "backgrounds": torch.stack([r.image(r.video.background(i)) for i in frames]),
            "boxes": torch.tensor([r.video.meta.crop_boxes[i] for i in frames], dtype=torch.float64),
            "video": v,
            "frame": start,
        }
