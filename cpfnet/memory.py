"""Refuse, before allocating, a size that cannot fit in memory: `--size 100000` is a one-line error at once,
not minutes of swapping and a MemoryError traceback.

Each caller estimates a floor, the bytes of the few tensors it certainly holds at once (say one batch of
pose maps), and `check_fits` compares it with the memory the kernel says is available (MemAvailable of
/proc/meminfo; psutil where there is no /proc; no check where neither exists). A floor, not a forecast: the
networks' activations come on top, so passing this check does not promise the run fits, but failing it
proves it cannot.
"""

from __future__ import annotations

from cpfnet.errors import UserError

GIB = 1024 ** 3


def available_bytes() -> int | None:
    """Memory available to a new allocation without swapping, in bytes (None: unknown)."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil
    except ImportError:
        return None
    return int(psutil.virtual_memory().available)


def gib(n: float) -> str:
    return f"{n / GIB:,.1f} GiB" if n >= GIB / 10 else f"{n / 1024 ** 2:,.1f} MiB"


def check_fits(need: float, what: str, advice: str) -> None:
    """A UserError when the floor `need` (bytes) exceeds the available memory. `what` says what is estimated
    ('one batch of 8 pose maps at 100000 px: 8 x 41 x 100000^2 x 4 bytes'), `advice` what to change."""
    free = available_bytes()
    if free is not None and need > free:
        raise UserError(f"{what} needs at least {gib(need)} of memory, {gib(free)} is available; {advice}")
