"""Reusable buffers for per-frame work (issue 11)."""

from __future__ import annotations

import math

import numpy as np


class Workspace:
    """Buffers for per-frame work whose size changes a little every frame: `work(name, shape, dtype)` is a
    C-contiguous view of `shape` into one flat array per name, grown when too small. Why: freshly allocated
    frame-sized buffers are mapped afresh (`cpfnet.heap` makes every block of 512 KB or more its own mapping),
    and their first touch costs a page fault per 4 KB: about 3,600 faults, most of the pixel path's paste time
    for a person 900 px tall. One workspace per thread."""

    def __init__(self):
        self._flat: dict[str, np.ndarray] = {}

    def __call__(self, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        n = math.prod(shape)
        flat = self._flat.get(name)
        if flat is None or flat.size < n or flat.dtype != dtype:
            flat = self._flat[name] = np.empty(n, dtype)
        return flat[:n].reshape(shape)


class FrameBuffers:
    """`count` frame-sized buffers handed out in turn, each holding a fresh copy of `background` [H, W, 3]:
    the frames of a video whose frames differ from one background only where the person is pasted. Copying
    into a kept buffer costs a memcpy; a new array per frame also costs a page fault per 4 KB (about 700 at
    720 x 1280, more than the copy). A buffer is reused `count` frames later: for consumers that are done
    with a frame by then (an encoder copies each frame as it takes it)."""

    def __init__(self, background: np.ndarray, count: int = 2):
        if count < 1:
            raise ValueError(f"count must be at least 1, got {count}")
        self.background = background
        self._buffers = [np.empty_like(background) for _ in range(count)]
        self._next = 0

    def next(self) -> np.ndarray:
        """The next buffer, a copy of the background."""
        buffer = self._buffers[self._next]
        self._next = (self._next + 1) % len(self._buffers)
        np.copyto(buffer, self.background)
        return buffer
