"""Subnormal floats flushed to zero on the CPU (FTZ/DAZ) while cpfnet's networks run.

Pose maps are Gaussians over the whole crop and softmax probabilities fall below float32's normal range
(1.2e-38) away from the person, and so do activations computed from them. On many x86 CPUs an operation on
a subnormal number takes tens to a hundred times longer: on an Intel Xeon (AMX) the shipped parsing network
at 256 px took 206 instead of 71 ms and the flow network 213 instead of 98 ms (README "Performance").
Flushing changes nothing above 1.2e-38.

The setting (x86's MXCSR) belongs to a thread, and a thread starts with its creator's, OpenMP's worker
threads included: `flush_denormals()` holds for the calling thread and the threads it starts afterwards, so
call it before the first torch work of a thread. `TransferPipeline` runs its stages 1-2b inside `flushed()`
in the networks' worker thread, whose OpenMP team starts there; the caller's thread is left as it was.
"""

from __future__ import annotations

import contextlib
import threading

import torch

_state = threading.local()


def flush_denormals() -> bool:
    """Flush subnormals to zero in this thread (and those it starts); False where the CPU cannot."""
    _state.flushing = torch.set_flush_denormal(True)
    return _state.flushing


@contextlib.contextmanager
def flushed():
    """Subnormals flushed to zero in this thread (and the threads it starts) inside the block, as before after
    it: left on, numpy's `finfo` warns and hypothesis refuses to run in the caller's thread."""
    before = getattr(_state, "flushing", False)
    flush_denormals()
    try:
        yield
    finally:
        if not before:
            _state.flushing = False
            torch.set_flush_denormal(False)


@contextlib.contextmanager
def kept_subnormals():
    """Subnormals as IEEE has them inside the block, the thread's setting restored after it. For libraries
    that start their own threads: MediaPipe's TFLite graphs fail to open (AllocateTensors) under flushing."""
    flushing = getattr(_state, "flushing", False)
    if flushing:
        torch.set_flush_denormal(False)
    try:
        yield
    finally:
        if flushing:
            torch.set_flush_denormal(True)
