"""cpfnet.heap: frame-sized buffers go back to the system when freed; the networks' buffers are kept (glibc)."""

import subprocess
import sys

import numpy as np
import pytest

from cpfnet.heap import return_large_buffers, trim


def _rss_mb() -> float:
    with open("/proc/self/status") as handle:
        return next(int(line.split()[1]) for line in handle if line.startswith("VmRSS")) / 1024


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt and /proc")
def test_freed_frame_buffers_leave_the_resident_set():
    """60 frames made with small long-lived objects between them (as a pipeline's are), then freed: glibc
    would keep them in its heap (the small objects pin it; a first freed frame has raised its mmap
    threshold); with the setting they go back."""
    assert return_large_buffers()
    first = np.ones((1280, 720, 3), np.uint8)
    del first
    before = _rss_mb()
    frames, small = [], []
    for _ in range(60):
        frames.append(np.ones((1280, 720, 3), np.uint8))  # 60 touched frames: 166 MB
        small.append(np.ones(2000, np.uint8))
    held = _rss_mb()
    del frames
    assert held - before > 100
    assert _rss_mb() - before < 20  # returned, not kept in the heap


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim and /proc")
def test_closing_the_mediapipe_graphs_gives_their_memory_back():
    """What a transfer does once the source's poses are known (cpfnet.transfer.video): both graphs, used on a
    real-sized image, hold well over 100 MB; closed and trimmed, it is back."""
    from cpfnet.prepare.pose_mediapipe import _ESTIMATORS, detect_photo, get_estimator, release_estimators

    release_estimators()
    return_large_buffers()
    image = np.full((1280, 720, 3), 127, np.uint8)
    before = _rss_mb()
    detect_photo(image)
    get_estimator(static=False).process(image)
    held = _rss_mb()
    release_estimators()
    trim()
    assert not _ESTIMATORS
    assert held - before > 100, held - before
    assert _rss_mb() - before < 0.5 * (held - before), (before, held, _rss_mb())
    assert get_estimator(static=True) is not None  # made anew on the next use
    release_estimators()


_FAULTS = """
import resource, sys
import torch
from cpfnet.heap import buffers_kept, keep_buffers, one_arena, return_large_buffers


def faults_per_call(calls=20):  # a 4 MB activation made, written and freed (1024 pages), as torch's kernels do
    for _ in range(10):  # until the small objects made between the calls have found their places in the heap
        torch.ones(1 << 20)
    start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(calls):
        activation = torch.ones(1 << 20)
        del activation
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start) / calls


assert one_arena() and return_large_buffers()
returned = faults_per_call()  # first: blocks freed into the heap while kept would serve later calls from it
with buffers_kept():
    assert keep_buffers()
    kept = faults_per_call()
print(kept, returned)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt and getrusage's faults")
def test_kept_buffers_are_faulted_in_once_returned_ones_every_call():
    """The networks' part of a transfer (buffers_kept) against the pose pass's setting (return_large_buffers).
    In a fresh process: free blocks left in this one's heap by earlier tests would serve the returned case
    from the heap too."""
    done = subprocess.run([sys.executable, "-c", _FAULTS], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    kept, returned = map(float, done.stdout.split())
    assert returned > 500, returned  # mapped afresh, each page faulted in
    assert kept < 0.1 * returned, (kept, returned)  # at most the first call's
