"""The hostile-input catalogue (README "Errors and outputs"), processes: two writers of one folder, SIGTERM,
kill -9 at random moments. Every case runs the real command in a subprocess, as a user or a batch system
would (a refused second writer may run in this process: a flock is per open file), and checks the exit code, the one line it prints, that what the user had is intact, and that no
temporary is left behind.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from cpfnet.cli import main
from cpfnet.configs.experiment import dump_config, load_config
from cpfnet.dataset.layout import VideoFolder, find_videos
from cpfnet.io.video import VideoWriter, iter_frames, probe
from cpfnet.stages.weights import latest_checkpoint, load_stage
from cpfnet.training.checkpoint import load_training_state
from hostile_support import REAL, ROOT, assert_one_line_error, hidden_leftovers, run_cli, short_real_dance

needs_real = pytest.mark.skipif(not (REAL / "dance.mp4").is_file() or not (REAL / "person.jpg").is_file(),
                                reason="no ../shared/real samples")
KILLS = 5


def _start(*args) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "cpfnet.cli", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def _wait_for(condition, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"exited {proc.returncode} first: {proc.communicate()[1][-2000:]}")
        if time.time() > deadline:
            proc.kill()
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def _tiny_config(tmp_path: Path, checkpoint_every: int) -> Path:
    data = yaml.safe_load(dump_config(load_config("tiny")))
    data["train"]["checkpoint_every"] = checkpoint_every
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _reached(stage_dir: Path) -> int:
    checkpoint = latest_checkpoint(stage_dir)
    return -1 if checkpoint is None else load_training_state(checkpoint)["step"]


@pytest.mark.slow
def test_a_second_train_into_the_same_runs_is_refused_and_sigterm_stops_the_first_with_a_checkpoint(
        synth_dataset, tmp_path, capsys):
    runs = tmp_path / "runs"
    common = ["--config", _tiny_config(tmp_path, 2), "--data", synth_dataset, "--runs", runs, "--no-progress"]
    first = _start("train", "parsing", "--steps", 100_000, "--seed", 0, *common)
    _wait_for(lambda: _reached(runs / "parsing") >= 2, first)
    # The second run in this process: a flock is per open file, so it is refused here as in another process.
    code = main([str(a) for a in ("train", "parsing", "--steps", 3, "--seed", 5, *common)])
    second = subprocess.CompletedProcess([], code, *capsys.readouterr())
    line = assert_one_line_error(second, "is being written by", f"pid {first.pid}", "train parsing", "since",
                                 code=2)
    assert str(runs / "parsing") in line and first.poll() is None  # refused while the first was running
    first.send_signal(signal.SIGTERM)
    _, err = first.communicate(timeout=120)
    assert first.returncode == 143 and "Traceback" not in err, err[-2000:]
    assert "cpfnet train: interrupted (SIGTERM)" in err
    step = _reached(runs / "parsing")
    assert step >= 2 and f"step {step}" in err
    networks, _ = load_stage(runs, "parsing")  # the first's checkpoint, intact and loadable
    assert networks["generator"] is not None and hidden_leftovers(runs) == []


@pytest.mark.slow
def test_kill9_of_training_then_resume_continues_and_cleans_up(synth_dataset, tmp_path, caplog):
    runs = tmp_path / "runs"
    common = ["--config", _tiny_config(tmp_path, 1), "--data", synth_dataset, "--runs", runs, "--no-progress"]
    killed = _start("train", "parsing", "--steps", 100_000, *common)
    _wait_for(lambda: _reached(runs / "parsing") >= 2, killed)
    killed.kill()
    killed.communicate()
    reached = _reached(runs / "parsing")
    caplog.set_level("INFO")
    assert main([str(a) for a in ("train", "parsing", "--steps", reached + 2, "--resume", *common)]) == 0
    assert f"steps {reached} -> {reached + 2}" in caplog.text  # continued where the killed run's checkpoint was
    assert _reached(runs / "parsing") == reached + 2 and hidden_leftovers(runs) == []
    load_stage(runs, "parsing")


def test_resume_with_nothing_to_resume_says_so(synth_dataset, tmp_path, caplog):
    caplog.set_level("INFO")
    assert main(["train", "parsing", "--config", "tiny", "--data", str(synth_dataset), "--runs", str(tmp_path),
                 "--steps", "1", "--resume", "--no-progress"]) == 0
    said = [r.getMessage() for r in caplog.records if "resume" in r.getMessage()]
    assert said == [f"{tmp_path / 'parsing'} has no checkpoint to resume; starting at step 0"]


def _kill_at_random_moments(args: list, watched: Path, rng: random.Random, within: float = 1.0) -> int:
    """KILLS runs of `args`, each SIGKILLed at a random moment in the `within` seconds after it has begun
    writing (a hidden entry in `watched`); -> how many left temporaries behind for the next run to remove."""
    left = 0
    for _ in range(KILLS):
        proc = _start(*args)
        _wait_for(lambda: hidden_leftovers(watched) != [], proc)
        time.sleep(rng.uniform(0.0, within))
        proc.kill()
        proc.communicate()
        left += bool(hidden_leftovers(watched))
    return left


def _sigterm_once_writing(args: list, watched: Path, pattern: str) -> tuple[int, str]:
    """Run `args`, SIGTERM it once a temporary matching `pattern` appears in `watched`; -> (exit code, stderr)."""
    proc = _start(*args)
    _wait_for(lambda: any(re.search(pattern, p.name) for p in hidden_leftovers(watched)), proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert "Traceback" not in err, err[-2000:]
    return proc.returncode, err


@pytest.fixture(scope="module")
def short_dance(tmp_path_factory) -> Path:
    """The first 6 frames of the sample dance at a quarter of its size (a person in every frame)."""
    return short_real_dance(tmp_path_factory.mktemp("dance"), shrink=4)


@pytest.mark.slow
@needs_real
def test_transfer_sigterm_then_kill9_five_times_then_one_run(short_dance, tmp_path):
    """Also: a 251-character output name, the photo-size cap (--max-side) and the reported --side-by-side size."""
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / ("t" * 247 + ".mp4")
    out.write_bytes(b"the user's earlier result")
    args = ["transfer", "--source", short_dance, "--target", REAL / "person.jpg", "--out", out, "--side-by-side",
            "--max-side", 480]
    code, err = _sigterm_once_writing(args, folder, r"\.tmp-")
    assert code == 143 and err.splitlines()[-1] == "cpfnet transfer: interrupted (SIGTERM)"
    assert out.read_bytes() == b"the user's earlier result"
    assert hidden_leftovers(folder) == []
    assert _kill_at_random_moments(args, folder, random.Random(14)) >= 1
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr[-2000:]
    assert [p.name for p in folder.iterdir()] == [out.name] and hidden_leftovers(folder) == []
    info = probe(out)
    assert sum(1 for _ in iter_frames(out)) == 6 and info.height == 480  # complete; the photo capped to 480 high
    assert f"6 frames, {info.width}x{info.height}," in result.stdout  # the side-by-side size, as the file has it
    assert "capped at 480" in result.stderr


@pytest.mark.slow
@needs_real
def test_transfer_with_the_person_in_too_few_frames_names_an_option_it_has(short_dance, tmp_path):
    import cv2
    import numpy as np

    sparse = tmp_path / "sparse.mp4"
    with VideoWriter(sparse, fps=8) as writer:
        frames = list(iter_frames(short_dance, count=2)) + [np.full_like(f, 90) for f in iter_frames(short_dance)]
        for frame in frames:
            writer.write(frame)
    photo = tmp_path / "me.jpg"
    image = cv2.imread(str(REAL / "person.jpg"))
    cv2.imwrite(str(photo), cv2.resize(image, (image.shape[1] // 3, image.shape[0] // 3)))
    assert_one_line_error(run_cli("transfer", "--source", sparse, "--target", photo, "--out", tmp_path / "o.mp4"),
                          "only 2 of 8 frames", "--min-person-fraction is 0.5")
    assert "--min-person-fraction" in run_cli("transfer", "--help").stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["me.jpg", "sparse.mp4"]


@pytest.mark.slow
@needs_real
def test_prepare_sigterm_then_kill9_five_times_then_one_run(short_dance, tmp_path):
    out = tmp_path / "data"
    args = ["prepare", short_dance, "--out", out, "--size", 128, "--overwrite", "--no-progress"]
    code, err = _sigterm_once_writing(args, out, r"\.masks-")
    assert code == 143 and err.splitlines()[-1] == "cpfnet prepare: interrupted (SIGTERM)", err[-6000:]
    assert hidden_leftovers(out) == []
    assert _kill_at_random_moments(args, out, random.Random(15)) >= 1
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr[-2000:]
    assert [p.name for p in out.iterdir()] == ["dance"] and hidden_leftovers(out) == []
    video = VideoFolder(out / "dance")
    assert video.meta.num_frames == 6 and len(list((out / "dance" / "frames").glob("*.png"))) == 6


@pytest.mark.slow
def test_synth_sigterm_then_kill9_five_times_then_one_run(tmp_path):
    out = tmp_path / "data"
    args = ["synth", "--out", out, "--videos", 2, "--frames", 12, "--size", 64, "--workers", 1, "--supersample", 1,
            "--overwrite", "--no-progress"]
    code, err = _sigterm_once_writing(args, tmp_path, r"\.partial-")
    assert code == 143 and err.splitlines()[-1] == "cpfnet synth: interrupted (SIGTERM)"
    assert hidden_leftovers(tmp_path) == [] and not out.exists()
    assert _kill_at_random_moments(args, tmp_path, random.Random(16), within=0.4) >= 1
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr[-2000:]
    assert [p.name for p in tmp_path.iterdir()] == ["data"] and hidden_leftovers(tmp_path) == []
    videos = find_videos(out)
    assert len(videos) == 2 and all(VideoFolder(v).meta.num_frames == 12 for v in videos)


def test_a_second_prepare_or_synth_into_a_folder_being_written_is_refused(tmp_path):
    """The lock beside a dataset folder (cpfnet.io.lock), held here by a process that only sleeps."""
    out = tmp_path / "data"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; sys.path.insert(0, sys.argv[1]); from cpfnet.io import lock; "
        "ctx = lock.hold(lock.lock_beside(sys.argv[2]), 'x'); ctx.__enter__(); print('held', flush=True); "
        "time.sleep(60)"), str(ROOT), str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        result = run_cli("synth", "--out", out, "--videos", 1, "--frames", 2, "--size", 64, "--no-progress")
        assert_one_line_error(result, "the dataset folder", "is being written by", f"pid {holder.pid}", code=2)
        assert not out.exists()
    finally:
        holder.kill()
        holder.wait()
    # kill -9 of the holder left its lock file, unlocked: the next run takes it over and removes it.
    assert hidden_leftovers(tmp_path) != []
    result = run_cli("synth", "--out", out, "--videos", 1, "--frames", 2, "--size", 64, "--supersample", 1,
                     "--no-progress")
    assert result.returncode == 0, result.stderr[-2000:]
    assert hidden_leftovers(tmp_path) == []
