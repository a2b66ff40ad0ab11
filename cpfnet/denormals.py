"""Subnormal floats flushed to zero on the CPU (FTZ/DAZ) while cpfnet's networks run.

Pose maps are Gaussians over the whole crop and softmax probabilities fall below float32's normal range
(1.2e-38) away from the person, and so do activations computed from them. On many x86 CPUs an operation on
a subnormal number takes tens to a hundred times longer: on an Intel Xeon (AMX) the shipped parsing network
at 256 px took 206 instead of 71 ms and the flow network 213 instead of 98 ms (README "Performance").
Flushing changes nothing above 1.2e-38.

The setting (x86's MXCSR) belongs to a thread, and a thread starts with its creator's, OpenMP's worker
threads included. `TransferPipeline` runs its stages 1-2b inside `flushed()` in the networks' worker thread,
whose OpenMP team starts there. The caller's thread is left as it was: set for the whole process, numpy's
`finfo` warned on stderr, hypothesis refused to run and MediaPipe's TFLite graphs, whose threads inherit the
setting, failed to open (AllocateTensors).
"""

from __future__ import annotations

import contextlib
import threading

import torch

_state = threading.local()


@contextlib.contextmanager
def flushed():
    """Subnormals flushed to zero in this thread (and the threads it starts) inside the block, as before
    after it. Where the CPU cannot flush, a no-op."""
    before = getattr(_state, "flushing", False)
    _state.flushing = torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if not before:
            _state.flushing = False
            torch.set_flush_denormal(False)
