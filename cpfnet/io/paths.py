"""Output paths checked against the inputs before any work: nothing a command reads may be what it writes.

Two paths are the same when they resolve to the same place (symlinks and `..` followed) or, both existing,
are the same file on disk (`st_dev`/`st_ino`: hard links). An output folder also may not hold an input (it
would be replaced), and a file output may not replace a file inside an input folder (a RUNS folder's
checkpoint, a dataset's frame). Each command calls `check_outputs` once, up front.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cpfnet.errors import UserError


@dataclass(frozen=True)
class Output:
    """A path a command writes: `option` names it in errors ("--out"); `kind` is "file" or "folder";
    `replaced`: a folder replaced as a whole (synth --out), not one written into (train's RUNS/STAGE)."""

    path: Path
    option: str
    kind: str = "file"
    replaced: bool = True


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def same_path(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether `a` and `b` name one file or folder (after symlinks and `..`; hard links when both exist)."""
    a, b = Path(a), Path(b)
    if _real(a) == _real(b):
        return True
    try:
        sa, sb = os.stat(a), os.stat(b)
    except OSError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def contains(folder: str | os.PathLike, path: str | os.PathLike) -> bool:
    """Whether `path` is `folder` or lies anywhere inside it (after symlinks and `..`)."""
    folder, path = _real(Path(folder)), _real(Path(path))
    return path == folder or folder in path.parents


def _check_kind(out: Output) -> None:
    path = out.path
    if out.kind == "file" and path.is_dir():
        raise UserError(f"{out.option} {path} is a folder; give a file name")
    if out.kind == "folder" and path.exists() and not path.is_dir():
        raise UserError(f"{out.option} {path} is a file, not a folder; give a folder")
    for parent in path.parents:  # a file where a folder of the path should be: ENOTDIR later
        if parent.exists():
            if not parent.is_dir():
                raise UserError(f"{out.option} {path}: {parent} is a file, not a folder")
            break


def check_outputs(outputs: list[Output], inputs: list[tuple[str, str | os.PathLike | None]] = ()) -> None:
    """A one-line UserError when an output is the wrong kind of thing or would overwrite an input.

    Args:
        outputs: what the command writes (None paths left out by the caller).
        inputs: (option, path) of what it reads, e.g. ("--source", "dance.mp4"); None paths are skipped.
    """
    given = [(option, Path(p)) for option, p in inputs if p is not None]
    for out in outputs:
        _check_kind(out)
        for option, path in given:
            what = f"{out.option} {out.path}"
            if same_path(out.path, path):
                raise UserError(f"{what} is the same {'folder' if path.is_dir() else 'file'} as {option} {path}: "
                                "writing it would destroy the input; choose another output")
            if out.kind == "folder" and out.replaced and contains(out.path, path):
                raise UserError(f"{what} holds {option} {path}: writing it would destroy the input; choose "
                                "another output")
            if out.kind == "file" and path.is_dir() and out.path.exists() and contains(path, out.path):
                raise UserError(f"{what} is inside {option} {path} and would replace a file of it; choose "
                                "another output")
    for i, a in enumerate(outputs):
        for b in outputs[i + 1:]:
            if same_path(a.path, b.path):
                raise UserError(f"{a.option} and {b.option} are both {a.path}; give them different paths")
