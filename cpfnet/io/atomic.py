"""Write outputs under a temporary name and rename them at the end.

A run that fails or is interrupted half-way then leaves nothing behind and never destroys what the user
already had at that path: `os.replace` within one folder is atomic on POSIX.

A run killed outright (kill -9, out of memory) cannot clean up, so every temporary is named after its final
name, this host and the writer's pid:

    .{stem}.{kind}-{host}-{pid}-{token}{suffix}     e.g. .me_dancing.tmp-3fa2c1-41207-k2j9xq.mp4

and the next write of the same final name removes those whose writer is dead (`remove_stale`), so they
never pile up. The stem is shortened so the name never exceeds the folder's name limit (a valid output name
of 255 bytes still works); the suffix is kept, so PyAV and cv2 still see `.mp4` or `.png`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import string
from pathlib import Path
from typing import Iterator

from cpfnet import signals

KINDS = ("tmp", "partial", "old", "masks")  # a file, a folder being built, a folder being replaced, scratch
_PID_DIGITS, _TOKEN_CHARS = 10, 6  # room kept for any pid, so a final name's stem is cut the same way always
_MAX_SUFFIX = 16  # a longer "suffix" (a dot early in a long name) is no file format: keep it in the stem
_ALPHABET = string.ascii_lowercase + string.digits
_NAME = re.compile(r"^\.(?P<stem>.*)\.(?P<kind>%s)-(?P<host>[0-9a-f]{6})-(?P<pid>\d+)-(?P<token>[a-z0-9]+)"
                   r"(?P<suffix>.*)$" % "|".join(KINDS), re.DOTALL)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def host_tag() -> str:
    """6 hex digits naming this machine: on a shared (network) folder, only this host's dead pids are judged."""
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:6]


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def _split(name: str, is_dir: bool) -> tuple[str, str]:
    if is_dir:
        return name, ""
    path = Path(name)
    suffix = path.suffix if len(path.suffix.encode()) <= _MAX_SUFFIX else ""
    return name[:len(name) - len(suffix)], suffix


def _cut(text: str, limit: int) -> str:
    """The longest prefix of `text` whose UTF-8 encoding fits in `limit` bytes."""
    data = text.encode()[:max(0, limit)]
    return data.decode(errors="ignore")


def _stem_for(final: Path, is_dir: bool) -> str:
    """The stem of `final`'s temporaries: cut so any kind, pid, token and suffix fit the name limit (the
    same cut whatever the pid, so a later run finds them)."""
    stem, _ = _split(final.name, is_dir)
    fixed = len(f"..{max(KINDS, key=len)}-{host_tag()}--".encode()) + _PID_DIGITS + _TOKEN_CHARS + _MAX_SUFFIX
    return _cut(stem, _name_max(final.parent) - fixed)


def temporary_name(final: str | os.PathLike, kind: str = "tmp", is_dir: bool = False,
                   suffix: str | None = None) -> Path:
    """A fresh temporary path beside `final` (not created): see the module docstring for the pattern.
    `suffix` (files only) defaults to `final`'s own."""
    final = Path(final)
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r} is none of {KINDS}")
    own = _split(final.name, is_dir)[1]
    suffix = own if suffix is None or is_dir else suffix
    if len(suffix.encode()) > _MAX_SUFFIX:
        raise ValueError(f"suffix {suffix!r} is longer than {_MAX_SUFFIX} bytes")
    token = "".join(secrets.choice(_ALPHABET) for _ in range(_TOKEN_CHARS))
    return final.parent / f".{_stem_for(final, is_dir)}.{kind}-{host_tag()}-{os.getpid()}-{token}{suffix}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def stale_in(folder: str | os.PathLike, stems: set[str] | None = None) -> list[Path]:
    """Temporaries in `folder` left by dead writers on this host (only those of `stems`, when given)."""
    folder, host = Path(folder), host_tag()
    if not folder.is_dir():
        return []
    found = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match is None or match["host"] != host or int(match["pid"]) == os.getpid():
            continue
        if (stems is None or match["stem"] in stems) and not _alive(int(match["pid"])):
            found.append(entry)
    return sorted(found)


def stale_temporaries(final: str | os.PathLike) -> list[Path]:
    """Temporaries of `final` (any kind) left by dead writers on this host: safe to delete."""
    final = Path(final)
    return stale_in(final.parent, {_stem_for(final, is_dir) for is_dir in (False, True)})


def _delete(paths: list[Path]) -> list[Path]:
    removed = []
    for path in paths:
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
        except FileNotFoundError:  # another run cleaned it up first
            pass
    return removed


def remove_stale(final: str | os.PathLike) -> list[Path]:
    """Delete `stale_temporaries(final)`; -> what was deleted."""
    return _delete(stale_temporaries(final))


def remove_stale_in(folder: str | os.PathLike) -> list[Path]:
    """Delete `stale_in(folder)` (for a folder its writer has locked); -> what was deleted."""
    return _delete(stale_in(folder))


def _create_file(final: Path, suffix: str | None) -> Path:
    while True:
        tmp = temporary_name(final, suffix=suffix)
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            return tmp
        except FileExistsError:
            continue


def make_temporary_dir(final: str | os.PathLike, kind: str = "partial") -> Path:
    """Create and return a fresh temporary folder beside `final` (mode 0700 until it is moved into place)."""
    final = Path(final)
    while True:
        tmp = temporary_name(final, kind, is_dir=True)
        try:
            tmp.mkdir(mode=0o700)
            return tmp
        except FileExistsError:
            continue


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success rename it to `path`, on error delete it.

    `suffix` defaults to the target's own suffix, so libraries that pick a format from the name
    (PyAV, cv2) still see `.mp4` or `.png`. Stale temporaries of `path` (dead writers) are removed first.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(path)
    tmp = _create_file(path, suffix)
    try:
        yield tmp
        signals.check()  # a stopped run never puts its output in place
        tmp.chmod(0o666 & ~_umask())  # created 0600; give the file the mode a plain open() would
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def scratch_dir(final: str | os.PathLike, kind: str = "masks") -> Iterator[Path]:
    """A temporary folder beside `final`, deleted afterwards whatever happens (stale ones removed first)."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(final)
    tmp = make_temporary_dir(final, kind)
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside `path`; on success it becomes `path`.

    With `overwrite`, an existing `path` is replaced only once the new folder is complete. Stale
    temporaries of `path` (dead writers) are removed first.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(path)
    tmp = make_temporary_dir(path)
    try:
        yield tmp
        signals.check()  # a stopped run never puts its output in place
        tmp.chmod(0o777 & ~_umask())  # created 0700; shared datasets need the usual mode
        if path.exists():
            if not overwrite:
                raise FileExistsError(f"{path} appeared while it was being written")
            old = make_temporary_dir(path, "old")
            os.replace(path, old / "content")
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_json(path: str | os.PathLike, data: object) -> None:
    """Write `data` as indented JSON, atomically."""
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2) + "\n")
