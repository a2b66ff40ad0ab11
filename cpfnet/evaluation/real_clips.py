"""Real clips for self-reconstruction: the first frames of a real video, scaled, with poses and true boxes.

The benchmark of issue 9 (README "Real self-reconstruction"): frame 0 of a real video is the target photo,
the video itself is the truth. A clip is the video's frames 0, k, 2k, ... (`every` = k), `frames` of them or
as many as the video has, scaled so the longer side is at most `max_side`: a stride of k makes a short clip
span more of the dance. The person box of each true frame is the bounding box of MediaPipe's selfie
segmentation of that frame, grown by 10% each way; the poses are MediaPipe's, gaps filled and smoothed as
`cpfnet prepare` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from cpfnet.errors import UserError
from cpfnet.io.video import iter_frames, probe
from cpfnet.prepare.pose_cleanup import fill_gaps, smooth_poses
from cpfnet.prepare.pose_mediapipe import _quiet_native_stderr, estimate_poses

BOX_GROWTH = 0.10  # of the mask box's size, on each side
MASK_THRESHOLD = 0.5


@dataclass
class RealClip:
    """name; frames [T, H, W, 3] uint8 (scaled); poses [T, 18, 3] in those pixels; person_boxes [T, 4] int
    (x0, y0, x1, y1), x1/y1 exclusive; fps of the source video."""

    name: str
    frames: np.ndarray
    poses: np.ndarray
    person_boxes: np.ndarray
    fps: float

    @property
    def photo(self) -> np.ndarray:
        return self.frames[0]


def _scaled(frame: np.ndarray, max_side: int) -> np.ndarray:
    h, w = frame.shape[:2]
    scale = max_side / max(h, w)
    if scale >= 1:
        return frame
    size = (max(2, round(w * scale)), max(2, round(h * scale)))
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)


def selfie_boxes(frames: np.ndarray, growth: float = BOX_GROWTH) -> np.ndarray:
    """Per-frame person boxes [T, 4] int from MediaPipe selfie segmentation, grown by `growth` each way and
    clipped to the frame; a frame where nobody is segmented gets the whole frame."""
    with _quiet_native_stderr():
        from mediapipe.python.solutions import selfie_segmentation

        # model_selection 0: the general model (256 x 256 input), which covers the whole body.
        graph = selfie_segmentation.SelfieSegmentation(model_selection=0)
    h, w = frames.shape[1:3]
    boxes = []
    try:
        for frame in frames:
            mask = graph.process(np.ascontiguousarray(frame)).segmentation_mask >= MASK_THRESHOLD
            ys, xs = np.nonzero(mask)
            if len(xs) == 0:
                boxes.append((0, 0, w, h))
                continue
            x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
            gx, gy = growth * (x1 - x0), growth * (y1 - y0)
            boxes.append((max(0, int(x0 - gx)), max(0, int(y0 - gy)), min(w, int(np.ceil(x1 + gx))),
                          min(h, int(np.ceil(y1 + gy)))))
    finally:
        graph.close()
    return np.array(boxes, np.int64)


def load_real_clip(path: str | Path, frames: int = 60, every: int = 1, max_side: int = 640,
                   min_frames: int = 10) -> RealClip:
    """Frames 0, every, 2 * every, ... of a real video (`frames` of them, fewer if the video is shorter but at
    least `min_frames`), scaled to at most `max_side` px on the longer side, with MediaPipe poses and true
    person boxes. Poses are tracked on every decoded frame, gaps filled and Savitzky-Golay smoothed at the
    video's own rate (as `cpfnet prepare` does), then taken at the clip's frames."""
    path = Path(path)
    probe(path)  # one-line UserError for a missing or unreadable file
    decoded = []

    def scaled_frames():
        for t, frame in enumerate(iter_frames(path, count=frames * every)):
            small = _scaled(frame, max_side)
            if t % every == 0:
                decoded.append(small)
            yield small

    poses = estimate_poses(scaled_frames())
    if len(decoded) < min_frames:
        raise UserError(f"{path}: {len(decoded)} frames at a stride of {every}; the benchmark needs at least "
                        f"{min_frames} (lower --every or use a longer video)")
    if (poses[0, :, 2] >= 0.5).sum() < 8:
        raise UserError(f"{path}: no person found in frame 0 (the target photo of self-reconstruction)")
    poses = smooth_poses(fill_gaps(poses), window=7, order=2)[::every]
    clip = np.stack(decoded)
    info = probe(path)
    return RealClip(path.stem, clip, poses.astype(np.float32), selfie_boxes(clip), float(info.fps) / every)
