"""Seconds spent per named part of a job (pipeline stages, evaluation steps), for benchmarks and reports.

    timings = Timings()
    with timings("parsing"):
        ...
    timings.seconds  # {"parsing": 0.12, ...}, in the order the parts first ran
"""

from __future__ import annotations

import contextlib
import time
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")


class Timings:
    """Accumulated wall-clock seconds per name; `with timings(name):` adds the block's time to `name`."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

    def iterate(self, items: Iterable[T], name: str) -> Iterator[T]:
        """Yield `items`, adding the time spent producing each one (not the caller's time between them) to
        `name`: for generators that do their work lazily, such as a pipeline's frames."""
        iterator = iter(items)
        while True:
            with self(name):
                try:
                    item = next(iterator)
                except StopIteration:
                    return
            yield item

    def merge(self, other: "Timings") -> None:
        """Add another Timings' seconds into this one."""
        for name, seconds in other.seconds.items():
            self.seconds[name] = self.seconds.get(name, 0.0) + seconds
