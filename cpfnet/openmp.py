"""One OpenMP team at a time: this thread's OpenMP worker threads handed back (issue 11).

torch's CPU kernels run on OpenMP (GNU libgomp in the Linux wheels). Every thread that runs a parallel
kernel becomes the master of its own team, and the team's worker threads stay, idle, until that thread
exits. Once libgomp manages more threads than there are CPUs (the caller's team and a worker thread's, on 2
cores), it stops spinning at its barriers and sleeps in the kernel after about 100 spins: every parallel
region then pays futex wake-ups. Measured on 2 cores (Intel Xeon): the `tiny` networks at 64 px in a
worker thread 4.4 / 4.7 / 6.5 / 1.9 ms (parsing / flow / foreground / fusion) with no other team alive,
9.7 / 15.0 / 21.8 / 7.5 ms once the caller's thread had run a kernel; the paper's networks 20-35% slower.

`TransferPipeline` calls `release_threads()` in the caller's thread before its networks' worker starts;
without a fusion stage (the shipped weights) the worker does all the torch work, so one team exists while
the video is made. With one, the caller's fusion makes its team again (about 0.1 ms), and the two share
the cores while both run (fusing in the worker instead, after its networks, was slower:
docs/performance.md). Where torch has no libgomp (or an OpenMP without omp_pause_resource_all, or none),
`release_threads` does nothing.
"""

from __future__ import annotations

import ctypes
import functools
from pathlib import Path

import torch

SOFT = 1  # omp_pause_soft: the threads and their resources are freed; the next parallel region remakes them


@functools.cache
def _pause():
    """omp_pause_resource_all of the OpenMP runtime torch's kernels use, or None."""
    lib = Path(torch.__file__).parent / "lib"
    for path in sorted(lib.glob("libgomp*.so*")) + sorted(lib.glob("libiomp5*")) + sorted(lib.glob("libomp*")):
        try:
            pause = ctypes.CDLL(str(path)).omp_pause_resource_all
        except (OSError, AttributeError):
            continue
        pause.argtypes, pause.restype = [ctypes.c_int], ctypes.c_int
        return pause
    return None


def release_threads() -> bool:
    """Free this thread's OpenMP worker threads (not inside a parallel region). True if they were freed."""
    pause = _pause()
    return pause is not None and pause(SOFT) == 0
