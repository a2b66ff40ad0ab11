"""glibc's heap, set for each part of a transfer (issue 11): frame-sized buffers handed back while MediaPipe
runs, the networks' activations kept for reuse while the networks run.

glibc serves a freed large block's memory to later allocations from its heap instead of returning it, and
raises the size above which it maps blocks separately each time one is freed ("dynamic mmap threshold").
During the pose pass (decoded frames and MediaPipe's buffers, freed in several threads, each with its own
heap arena) the heaps grew by a few hundred MB and kept that: a fixed 512 KB threshold maps every block
above it on its own and unmaps it on free (measured on a 720 x 1280 transfer, peak RSS 1379 -> 1030 MB).

That setting is wrong for the networks: torch's CPU allocator has no cache, so each activation of 512 KB or
more was mapped, faulted in page by page and unmapped at every call. The shipped networks at 256 px in a
transfer ran 2x slower than alone (flow 175 against 72 ms per frame; 1.6 M page faults and 2.8 s of system
time for 4 s of user time while measuring them); the paper's flow network at 448, 2081 against 1240 ms.
`keep_buffers` serves every block from the heap and keeps what is freed for the next call: the working set
is faulted in once, and the resident size stays at its high-water mark (the peak it would reach anyway)
until `trim`. Elsewhere than glibc these calls do nothing and return False.
"""

from __future__ import annotations

import contextlib
import ctypes

M_TRIM_THRESHOLD = -1  # mallopt's parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3
M_MMAP_MAX = -4
M_ARENA_MAX = -8
THRESHOLD_BYTES = 512 * 1024  # return_large_buffers: blocks from here up are mapped on their own
TRIM_BYTES = 128 * 1024  # glibc's defaults, which return_large_buffers restores
MMAP_MAX = 65536


def _mallopt(*settings: tuple[int, int]) -> bool:
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    return all([bool(mallopt(parameter, value)) for parameter, value in settings])  # a list: every setting made


def one_arena() -> bool:
    """Threads that allocate from now on share the main heap: what one thread frees, another reuses (with an
    arena per thread, each kept its own high-water mark: fast at 256 px with a 32 MB threshold, 815
    against 844-850 MB at the same speed). Call it before the threads start."""
    return _mallopt((M_ARENA_MAX, 1))


def return_large_buffers(threshold: int = THRESHOLD_BYTES) -> bool:
    """Blocks of `threshold` bytes or more are mapped on their own and returned when freed, until
    `keep_buffers`. True when the C library took the setting."""
    return _mallopt((M_MMAP_MAX, MMAP_MAX), (M_MMAP_THRESHOLD, threshold), (M_TRIM_THRESHOLD, TRIM_BYTES))


def keep_buffers() -> bool:
    """Every block comes from the heap (no mapping of its own: glibc caps the mmap threshold at 32 MB, and the
    paper's activations at 448 px are 51 MB) and freed memory stays there for the next allocation, until
    `trim` or `return_large_buffers`: a loop that allocates the same activations every call faults them in
    once."""
    return _mallopt((M_MMAP_MAX, 0), (M_TRIM_THRESHOLD, 2 ** 31 - 1))


@contextlib.contextmanager
def buffers_kept():
    """`keep_buffers` inside the block; after it, `return_large_buffers` and `trim`: the memory goes back."""
    keep_buffers()
    try:
        yield
    finally:
        return_large_buffers()
        trim()


def trim() -> bool:
    """Hand the heap's free memory back to the system now (glibc's malloc_trim), e.g. after closing a large
    library object whose many small blocks the mmap threshold does not cover. True when memory was released."""
    try:
        malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc
        return False
    return bool(malloc_trim(0))
