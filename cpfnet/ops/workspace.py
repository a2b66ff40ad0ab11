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
