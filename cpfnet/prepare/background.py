"""The clean background behind the person (IV-A1: the person cut out of the appearance frame, inpainted).

The paper inpaints with EdgeConnect, whose weights do not ship offline; `inpaint_background` uses
OpenCV's Telea (or Navier-Stokes) inpainting of a dilated person mask. For a fixed camera,
`MedianBackground` is often much cleaner: the per-pixel median of sampled frames over the pixels where
the person is not, so every place the dancer moves away from shows its real content. It holds a bounded
sample of frames (the sampling stride doubles when it is full), so memory does not grow with the video,
and it falls back to inpainting where no sampled frame shows the background.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np

from cpfnet.prepare.segmentation import dilate

log = logging.getLogger(__name__)
INPAINT_METHODS = {"telea": cv2.INPAINT_TELEA, "ns": cv2.INPAINT_NS}


def default_dilation(height: int, width: int) -> int:
    """Mask growth in pixels that covers a segmentation's soft edges, stray hair and contact shadows."""
    return max(2, round(0.015 * max(height, width)))


def inpaint_background(image: np.ndarray, mask: np.ndarray, dilation: int | None = None, radius: int = 5,
                       method: str = "telea") -> np.ndarray:
    """Remove the person: inpaint `image` [H, W, 3] uint8 where `mask` [H, W] (bool, the person) is,
    after growing it by `dilation` pixels (default: 1.5% of the longer side). Returns [H, W, 3] uint8."""
    if method not in INPAINT_METHODS:
        raise ValueError(f"inpainting method {method!r}; known: {', '.join(INPAINT_METHODS)}")
    if image.shape[:2] != mask.shape:
        raise ValueError(f"image {image.shape[:2]} and mask {mask.shape} differ in size")
    if dilation is None:
        dilation = default_dilation(*mask.shape)
    hole = dilate(mask, dilation)
    if not hole.any():
        return image.copy()
    return cv2.inpaint(np.ascontiguousarray(image), hole.astype(np.uint8), radius, INPAINT_METHODS[method])


class MedianBackground:
    """Collects a bounded, evenly spaced sample of (frame, person mask) pairs from a stream.

    Args:
        capacity: most frames held at once (memory: capacity x H x W x 4 bytes).
        expected_frames: the stream's length when known, to space the sample over all of it.
        dilation: mask growth in pixels (default as `inpaint_background`).
    """

    def __init__(self, capacity: int = 24, expected_frames: int | None = None, dilation: int | None = None):
        if capacity < 2:
            raise ValueError("capacity must be at least 2")
        self.capacity = capacity
        self.stride = max(1, -(-expected_frames // capacity)) if expected_frames else 1
        self.dilation = dilation
        self._frames: list[tuple[int, np.ndarray, np.ndarray]] = []

    def offer(self, index: int, frame: np.ndarray, mask: np.ndarray) -> None:
        """Consider frame `index` (RGB [H, W, 3] uint8, person mask [H, W] bool) for the sample."""
        if index % self.stride:
            return
        if len(self._frames) >= self.capacity:  # full: keep every other one, sample half as often
            self.stride *= 2
            self._frames = [item for item in self._frames if item[0] % self.stride == 0]
            if index % self.stride:
                return
        dilation = self.dilation if self.dilation is not None else default_dilation(*mask.shape)
        self._frames.append((index, frame.copy(), dilate(mask, dilation)))

    def __len__(self) -> int:
        return len(self._frames)

    def result(self, min_seen: int = 2, max_camera_motion: float = 12.0,
               rows_per_chunk: int = 64) -> tuple[np.ndarray, np.ndarray] | None:
        """The median background [H, W, 3] uint8 and the bool mask [H, W] of pixels no sampled frame showed
        `min_seen` times (to be inpainted), or None when the camera moves (the sampled frames disagree
        by more than `max_camera_motion` grey levels on average where they all show background)."""
        if not self._frames:
            return None
        frames = np.stack([f for _, f, _ in self._frames])
        person = np.stack([m for _, _, m in self._frames])
        n, h, w, _ = frames.shape
        background = np.zeros((h, w, 3), np.uint8)
        seen = (~person).sum(axis=0)
        # A per-pixel median over the unmasked samples: masked values sort last, pick the middle of the rest.
        for y in range(0, h, rows_per_chunk):
            block = frames[:, y:y + rows_per_chunk].astype(np.uint16)
            block[person[:, y:y + rows_per_chunk]] = 1000
            block.sort(axis=0)
            middle = np.maximum(seen[y:y + rows_per_chunk] - 1, 0) // 2
            background[y:y + rows_per_chunk] = np.take_along_axis(
                block, middle[None, :, :, None].repeat(3, axis=-1), axis=0)[0].clip(0, 255)
        hole = seen < min(min_seen, n)
        # A moving camera shows up as large differences between the samples and their median.
        differences = []
        for i in range(n):
            shared = ~person[i] & ~hole
            if shared.sum() > 0.05 * h * w:
                differences.append(np.abs(frames[i][shared].astype(np.int16) - background[shared]).mean())
        if differences and float(np.median(differences)) > max_camera_motion:
            log.warning("the camera seems to move (sampled frames differ by %.1f grey levels from their median); "
                        "using the inpainted appearance frame as background", float(np.median(differences)))
            return None
        return background, hole


def median_background(frames, masks, capacity: int = 24, min_seen: int = 2,
                      radius: int = 5) -> np.ndarray | None:
    """Median background of a fixed-camera video, holes inpainted: RGB frames [H, W, 3] and person masks
    [H, W] (iterables of equal length) -> [H, W, 3] uint8, or None when the camera moves."""
    sampler = MedianBackground(capacity)
    for i, (frame, mask) in enumerate(zip(frames, masks)):
        sampler.offer(i, frame, mask)
    result = sampler.result(min_seen=min_seen)
    if result is None:
        return None
    background, hole = result
    return cv2.inpaint(background, hole.astype(np.uint8), radius, cv2.INPAINT_TELEA) if hole.any() else background
