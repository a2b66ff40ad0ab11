"""`cpfnet synth` on the command line: one-line errors before any work, nothing left
behind, atomic replacement, and an end-to-end run through the installed console script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cpfnet.cli import main
from cpfnet.dataset.layout import VideoFolder, find_videos


def _listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("args,message", [
    (["--videos", "-1"], "--videos must be at least 1"),
    (["--videos", "0"], "--videos must be at least 1"),
    (["--frames", "1"], "--frames must be at least 2"),
    (["--frames", "-5"], "--frames must be at least 2"),
    (["--size", "63"], "--size must be at least 64"),
    (["--size", "-256"], "--size must be at least 64"),
    (["--identities-per-motion", "0"], "--identities-per-motion must be at least 1"),
    (["--videos", "3", "--identities-per-motion", "2"], "must be a multiple of --identities-per-motion"),
    (["--workers", "0"], "--workers must be at least 1"),
    (["--seed", "-1"], "--seed must be 0 or positive"),
    (["--fps", "0"], "--fps must be positive"),
])
def test_bad_arguments_fail_in_one_line_and_write_nothing(tmp_path, capsys, args, message):
    out = tmp_path / "out"
    code = main(["synth", "--out", str(out), "--frames", "2", "--size", "64", "--videos", "2"] + args)
    err = capsys.readouterr().err
    assert code != 0
    assert err.count("\n") == 1 and message in err and err.startswith("cpfnet synth: error:")
    assert _listing(tmp_path) == []


def test_existing_folder_is_kept_unless_overwrite(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("precious")
    code = main(["synth", "--out", str(out), "--videos", "1", "--frames", "2", "--size", "64", "--no-progress"])
    err = capsys.readouterr().err
    assert code != 0 and err.count("\n") == 1 and "--overwrite" in err
    assert _listing(tmp_path) == ["out", "out/mine.txt"]
    # An empty folder is fine; --overwrite replaces a full one, leaving no temporary folders beside it.
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["synth", "--out", str(empty), "--videos", "1", "--frames", "2", "--size", "64",
                 "--no-progress"]) == 0
    assert main(["synth", "--out", str(out), "--videos", "1", "--frames", "2", "--size", "64", "--overwrite",
                 "--no-progress"]) == 0
    assert not (out / "mine.txt").exists() and (out / "video_0000" / "meta.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "out"]


def test_a_failing_run_leaves_nothing(tmp_path, monkeypatch):
    """One video fails: the error reaches the caller, and neither the finished video nor any temporary
    folder is left. (In-process: worker processes start from a clean forkserver and cannot see a patch.)"""
    import cpfnet.synth.generate as generate_module

    real = generate_module.render_video

    def failing(task, cfg, root, progress=None):
        if task.index == 1:
            raise RuntimeError("disk on fire")
        return real(task, cfg, root, progress)

    monkeypatch.setattr(generate_module, "render_video", failing)
    with pytest.raises(RuntimeError, match="disk on fire"):
        generate_module.generate(generate_module.SynthConfig(out=str(tmp_path / "out"), videos=2, frames=2,
                                                             size=64, workers=1), show_progress=False)
    assert _listing(tmp_path) == []


def _cpfnet() -> list[str]:
    script = Path(sys.executable).with_name("cpfnet")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cpfnet.cli"]


def test_console_script_error_is_one_line(tmp_path):
    result = subprocess.run(_cpfnet() + ["synth", "--out", str(tmp_path / "x"), "--size", "32"],
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "--size must be at least 64" in result.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_end_to_end_synth_with_previews(tmp_path):
    """The installed command renders two motions on two identities each with two workers, and writes the
    preview grids."""
    out = tmp_path / "data"
    previews = tmp_path / "previews"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(_cpfnet() + ["synth", "--out", str(out), "--videos", "4", "--frames", "12", "--size",
                                         "96", "--seed", "5", "--identities-per-motion", "2", "--workers", "2",
                                         "--preview", str(previews)],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert "synth" in result.stderr and "frame" in result.stderr  # the progress bar
    videos = [VideoFolder(v) for v in find_videos(out)]
    assert [(v.meta.identity, v.meta.motion) for v in videos] == [(0, 0), (1, 0), (2, 1), (3, 1)]
    for v in videos:
        assert v.has_flow and len(v) == 12 and v.frame(0).shape == (96, 96, 3)
        assert np.isin(v.parsing(0), np.arange(20)).all()
    pngs = sorted(p.name for p in previews.glob("*.png"))
    assert pngs == ["synth_preview.png"] + [f"video_{i:04d}.png" for i in range(4)]
    assert "synth_preview.png" in result.stdout
