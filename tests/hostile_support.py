"""What every case of the hostile-input catalogue (README "Errors and outputs") asserts.

A case runs a real `cpfnet` command in a subprocess and checks: the exit code, exactly one line of error
(`cpfnet CMD: error: ...`) and no traceback, and that everything the user had before is byte-identical after
(`Snapshot`), with no temporary leftovers.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "real"


def run_cli(*args, cwd=None, timeout: float = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    """`python -m cpfnet.cli ARGS` in a subprocess with one torch thread; text output captured."""
    full_env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "cpfnet.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env=full_env)


def assert_one_line_error(result: subprocess.CompletedProcess, *words: str, code: int | None = None) -> str:
    """The command failed with a single `cpfnet ...: error: ...` line on stderr (no traceback) that contains
    every one of `words` (case-insensitive); returns that line."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if ": error: " in line]
    assert result.returncode != 0, f"exit 0; stderr: {result.stderr[-2000:]}"
    if code is not None:
        assert result.returncode == code, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert len(errors) == 1 and errors[0].startswith("cpfnet"), result.stderr[-2000:]
    for word in words:
        assert word.lower() in errors[0].lower(), (word, errors[0])
    return errors[0]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Snapshot:
    """The names and contents of every file under `roots` (hidden ones included), to compare later:
    `Snapshot(tmp_path)` before a run, `assert Snapshot(tmp_path) == before` after it."""

    def __init__(self, *roots: Path):
        self.files: dict[str, str] = {}
        for root in map(Path, roots):
            paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
            for path in paths:
                self.files[str(path)] = _digest(path)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Snapshot) and self.files == other.files

    def __repr__(self) -> str:
        return f"Snapshot({len(self.files)} files)"

    def difference(self, other: "Snapshot") -> dict[str, list[str]]:
        """What changed from self to other: {"added", "removed", "changed"} lists of paths."""
        a, b = set(self.files), set(other.files)
        return {"added": sorted(b - a), "removed": sorted(a - b),
                "changed": sorted(p for p in a & b if self.files[p] != other.files[p])}


def hidden_leftovers(folder: Path) -> list[Path]:
    """Temporaries a run may leave beside its output: names starting with '.' (atomic_file/atomic_dir)."""
    return sorted(p for p in Path(folder).rglob(".*") if p.name not in (".", ".."))


def short_real_dance(folder: Path, frames: int = 6, shrink: int = 2) -> Path:
    """The first `frames` frames of the real sample dance, `shrink` times smaller, as folder/dance.mp4 (a real
    person in every frame, for the commands that need one); skips the test where ../shared/real is absent."""
    import cv2
    import pytest

    from cpfnet.io.video import VideoWriter, iter_frames

    if not (REAL / "dance.mp4").is_file():
        pytest.skip("../shared/real is absent")
    path = Path(folder) / "dance.mp4"
    with VideoWriter(path, fps=16) as writer:
        for frame in iter_frames(REAL / "dance.mp4", count=frames):
            size = (frame.shape[1] // shrink, frame.shape[0] // shrink)
            writer.write(cv2.resize(frame, size, interpolation=cv2.INTER_AREA))
    return path
