"""SIGTERM handled like Ctrl-C: it raises `Terminated`, a KeyboardInterrupt, in the main thread.

So every `finally` and `except BaseException` that cleans up after Ctrl-C (temporaries, partial folders,
worker processes) runs for a `kill PID` or a batch system's time limit too, and the command ends with one
line and exit 143 (128 + 15) instead of dying without a word and leaving its temporaries.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator


class Terminated(KeyboardInterrupt):
    """Raised by the SIGTERM handler; `signum` is the signal's number."""

    def __init__(self, signum: int = signal.SIGTERM):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


received: int | None = None  # the SIGTERM this process got, if any: see `reraise_if_terminated`


def _raise(signum, frame) -> None:
    global received
    received = signum
    raise Terminated(signum)


def check() -> None:
    """Raise `Terminated` if a SIGTERM came. Called where frames are read and written and before a temporary
    is renamed into place: a SIGTERM that arrived during an import of a C extension (MediaPipe's bindings)
    can be swallowed there, and the run must stop all the same, not finish as if nothing happened."""
    if received is not None:
        raise Terminated(received)


def reraise_if_terminated(exc: BaseException) -> None:
    """Raise `Terminated` when `exc` is what a SIGTERM became on its way up (C code, an import in progress
    and some libraries turn the KeyboardInterrupt into an ImportError or RuntimeError); else do nothing."""
    if received is not None and not isinstance(exc, KeyboardInterrupt):
        raise Terminated(received) from exc


def install() -> None:
    """Make SIGTERM raise `Terminated` in this process (for worker processes; main thread only)."""
    signal.signal(signal.SIGTERM, _raise)


@contextlib.contextmanager
def sigterm_raises() -> Iterator[None]:
    """SIGTERM raises `Terminated` while the block runs (off the main thread: no change), then the old handler."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    global received
    received = None
    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def describe(signum: int) -> str:
    """How a stop request is named in messages: "Ctrl-C" for SIGINT, else the signal's name ("SIGTERM")."""
    return "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name


def exit_code(exc: KeyboardInterrupt) -> tuple[str, int]:
    """(what interrupted, the exit code: 128 + the signal's number, as a shell reports a signal)."""
    signum = exc.signum if isinstance(exc, Terminated) else signal.SIGINT
    return describe(signum), 128 + signum
