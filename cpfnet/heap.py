"""Give frame-sized buffers back to the system as soon as they are freed (glibc), so that a long video's
peak memory is its first frames' (issue 11).

glibc serves a freed large block's memory to later allocations from its heap instead of returning it, and
raises the size above which it maps blocks separately each time one is freed ("dynamic mmap threshold").
A transfer allocates and frees buffers of one to tens of MB every frame (decoded and output frames,
full-resolution maps of the pixel path) in several threads, each with its own heap arena: the heaps grew by
a few hundred MB over the first frames and kept that. A fixed threshold maps every block above it on its
own and unmaps it on free: measured on a 720 x 1280 transfer, peak RSS 1379 -> 1030 MB. Elsewhere than
glibc this does nothing.
"""

from __future__ import annotations

import ctypes

M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)
THRESHOLD_BYTES = 512 * 1024


def return_large_buffers(threshold: int = THRESHOLD_BYTES) -> bool:
    """Blocks of `threshold` bytes or more are mapped on their own and returned when freed, for the rest
    of the process. True when the C library took the setting."""
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, threshold))


def trim() -> bool:
    """Hand the heap's free memory back to the system now (glibc's malloc_trim), e.g. after closing a large
    library object whose many small blocks the mmap threshold does not cover. True when memory was released."""
    try:
        malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc
        return False
    return bool(malloc_trim(0))
