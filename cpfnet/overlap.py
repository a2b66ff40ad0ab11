"""Run the parts of a job side by side: each part a thread, a bounded queue to the next (issue 11); or in
turn, each in its own thread (`in_turn`).

    frames = ahead(pipeline.frames(poses, target), depth=4)   # made in a worker thread
    for frame in frames:                                      # while this thread encodes
        writer.write(frame)

The heavy parts release the GIL (torch's kernels, OpenCV, FFmpeg's codecs in PyAV, MediaPipe's graph), so
threads overlap them, and the slowest part sets the pace rather than the sum of all. A queue of `depth`
items bounds the memory in flight, whatever the video's length. The items, and their order, are those the
iterable yields by itself: the outputs do not change.

An exception in the worker reaches the consumer as the same exception object (a UserError stays a
one-line error), after the items made before it. When the consumer stops (it breaks off, raises, or gets
Ctrl-C), the worker is told to stop and the iterable is closed (its `finally` blocks run, files close).
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")

_END = object()
POLL_SECONDS = 0.05  # how often a worker blocked on a full queue looks whether the consumer has gone
JOIN_SECONDS = 5.0  # how long a stopping consumer waits for the worker's current item (then leaves it)


class _Failure:
    def __init__(self, error: BaseException):
        self.error = error


def ahead(items: Iterable[T], depth: int = 2, name: str = "cpfnet-worker") -> Iterator[T]:
    """Yield `items`, produced in a worker thread at most `depth` (>= 1) items ahead of this consumer."""
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}")
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                if not put(item):
                    return
            put(_END)
        except BaseException as error:  # everything goes to the consumer, which decides
            put(_Failure(error))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:  # a generator stopped early runs its finally blocks here, in its thread
                close()

    worker = threading.Thread(target=work, name=name, daemon=True)
    worker.start()
    try:
        while True:
            item = handoff.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        worker.join(JOIN_SECONDS)


def in_turn(items: Iterable[T], name: str = "cpfnet-worker") -> Iterator[T]:
    """Yield `items`, each made in one worker thread while this consumer waits for it: the parts take turns,
    but the work has a thread of its own (its OpenMP team, its subnormal flushing: cpfnet.denormals), not
    the consumer's. Where the work already keeps every core busy (a CPU's networks: their OpenMP team), `ahead`
    only makes the parts compete for the cores. The same errors, stopping and closing as `ahead`."""
    pool = ThreadPoolExecutor(1, thread_name_prefix=name)
    iterator = None
    try:
        iterator = pool.submit(iter, items).result()
        while True:
            try:
                item = pool.submit(next, iterator).result()
            except StopIteration:
                return
            yield item
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:  # in the worker, after the item in hand: a generator's finally blocks run there
            try:
                pool.submit(close).result(JOIN_SECONDS)
            except FutureTimeout:
                pass
        pool.shutdown(wait=False)
