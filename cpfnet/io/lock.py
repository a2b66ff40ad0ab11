"""One writer at a time: an exclusive `fcntl.flock` on a lock file, held while a run writes a folder.

`cpfnet train` holds RUNS/STAGE/.cpfnet-lock (so two runs of one stage cannot overwrite each other's
checkpoints, while different stages may still train into one RUNS at once); `cpfnet prepare` and `cpfnet
synth` hold `.NAME.cpfnet-lock` beside each dataset folder NAME they write (that folder only appears, by a
rename, once complete). A second writer gets a one-line error naming the holder: pid, host, command and
since when, read from the lock file.

The kernel drops a flock when its process dies, however it dies, so kill -9 leaves no stale lock: the file
may stay behind, unlocked, and the next writer takes it over (and deletes it when done). The names start
with '.': dataset and checkpoint listings skip them.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Iterator

from cpfnet.errors import UserError

LOCK_NAME = ".cpfnet-lock"


def lock_beside(folder: str | os.PathLike) -> Path:
    """The lock file of a folder that is written under a temporary name and renamed into place."""
    folder = Path(folder)
    try:
        limit = os.pathconf(folder.parent, "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    # A name near the limit is cut (two such names may then share a lock: only ever one writer too many refused)
    stem = folder.name.encode()[:limit - 1 - len(LOCK_NAME)].decode(errors="ignore")
    return folder.parent / f".{stem}{LOCK_NAME}"


def lock_inside(folder: str | os.PathLike) -> Path:
    """The lock file of a folder that is written in place (RUNS/STAGE)."""
    return Path(folder) / LOCK_NAME


def _command() -> str:
    words = ["cpfnet", *sys.argv[1:]] if sys.argv and sys.argv[0].endswith(("cli.py", "cpfnet")) else sys.argv
    text = " ".join(words)
    return text if len(text) <= 160 else text[:157] + "..."


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text() or "{}")
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info["since"]))
        return f"pid {info['pid']} on {info['host']} (`{info['command']}`, since {since})"
    except (OSError, ValueError, KeyError, TypeError):  # the holder has not written its details yet
        return "another process"


@contextlib.contextmanager
def hold(path: str | os.PathLike, what: str) -> Iterator[Path]:
    """Hold the lock file `path` exclusively while the block runs; `what` names the locked thing in the error
    ("RUNS/parsing", "the dataset folder OUT/clip"). A UserError at once, naming the holder, if another process
    holds it. The lock file is deleted on release; a folder created for it is removed again if left empty."""
    path = Path(path)
    created = not path.parent.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise UserError(f"{what} is being written by {_holder(path)}; wait for it to finish or choose "
                            "another output") from None
        try:  # the file we locked may have been deleted by its last holder meanwhile: then lock the new one
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        details = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "command": _command(),
                              "since": time.time()})
        os.ftruncate(fd, 0)
        os.pwrite(fd, details.encode(), 0)
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # while still locked, so no one else holds this file's lock
        os.close(fd)
        if created:
            with contextlib.suppress(OSError):
                path.parent.rmdir()  # only if empty: a run that wrote nothing leaves no folder
