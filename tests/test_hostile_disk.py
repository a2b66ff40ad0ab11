"""The hostile-input catalogue, part B: writes that fail. A full disk (a 300 kB tmpfs the test mounts), a
read-only mount and a path under a regular file (both hold for root too, unlike chmod): every command exits
non-zero with one line naming the path, and leaves nothing that looks complete."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from hostile_inprocess import run_in_process
from hostile_support import REAL, Snapshot, assert_one_line_error, hidden_leftovers, run_cli, short_real_dance



def _mount(path: Path, *options: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs", str(path)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({result.stderr.strip() or 'mount failed'}): needs root")


@pytest.fixture()
def small_disk(tmp_path):
    """A 300 kB file system, unmounted afterwards."""
    disk = tmp_path / "disk"
    _mount(disk, "size=300k")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


@pytest.fixture()
def read_only(tmp_path):
    disk = tmp_path / "ro"
    _mount(disk, "size=1m")
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


@pytest.fixture(scope="module")
def short_dance(tmp_path_factory) -> Path:
    """The real sample dance cut to 6 frames at half size (prepare needs a real person)."""
    return short_real_dance(tmp_path_factory.mktemp("dance"))


def _looks_complete(root: Path) -> list[Path]:
    return sorted(root.rglob("meta.json")) + sorted(root.rglob("*.mp4")) + sorted(root.rglob("latest"))


def test_prepare_onto_a_full_disk(small_disk, short_dance, capsys):
    before = Snapshot(short_dance)
    result = run_in_process(capsys, "prepare", short_dance, "--out", small_disk / "dataset", "--no-progress")
    assert_one_line_error(result, "no space left", str(small_disk / "dataset"))
    assert "prepared" not in result.stdout + result.stderr.replace("error", "")
    assert not _looks_complete(small_disk) and not hidden_leftovers(small_disk)
    assert Snapshot(short_dance) == before


def test_synth_onto_a_full_disk(small_disk, capsys):
    result = run_in_process(capsys, "synth", "--out", small_disk / "synth", "--videos", "2", "--frames", "20",
                            "--size", "64", "--supersample", "1", "--workers", "1", "--no-progress")
    assert_one_line_error(result, "no space left", str(small_disk))
    assert not (small_disk / "synth").exists() and not hidden_leftovers(small_disk)


def test_train_onto_a_full_disk(small_disk, synth_dataset, capsys):
    result = run_in_process(capsys, "train", "parsing", "--config", "tiny", "--data", synth_dataset, "--runs",
                            small_disk / "runs", "--steps", "1", "--no-progress")
    assert_one_line_error(result, "no space left", str(small_disk / "runs"))
    assert not _looks_complete(small_disk) and not hidden_leftovers(small_disk)


@pytest.mark.slow
def test_transfer_onto_a_full_disk(small_disk, short_dance):
    if not (REAL / "person.jpg").is_file():
        pytest.skip("../shared/real is absent")
    filler = small_disk / "filler"
    filler.write_bytes(bytes(250_000))  # what the user already had there
    before = Snapshot(small_disk)
    result = run_cli("transfer", "--source", short_dance, "--target", REAL / "person.jpg", "--out",
                     small_disk / "out.mp4")
    assert_one_line_error(result, "no space left", str(small_disk))
    assert Snapshot(small_disk) == before and not hidden_leftovers(small_disk)


def _commands(out: Path, synth_dataset: Path, photo: Path) -> dict[str, list]:
    return {"synth": ["synth", "--out", out / "synth", "--videos", "1", "--frames", "4", "--size", "64",
                      "--no-progress"],
            "train": ["train", "parsing", "--config", "tiny", "--data", synth_dataset, "--runs", out / "runs",
                      "--steps", "1", "--no-progress"],
            "demo": ["demo", "--out", out / "demo", "--frames", "8", "--no-progress"],
            "prepare": ["prepare", photo, "--out", out / "dataset", "--no-progress"]}


@pytest.mark.parametrize("command", ["synth", "train", "demo", "prepare"])
def test_an_output_on_a_read_only_mount(read_only, synth_dataset, capsys, command):
    if command == "prepare" and not (REAL / "person.jpg").is_file():
        pytest.skip("../shared/real is absent")
    result = run_in_process(capsys, *_commands(read_only, synth_dataset, REAL / "person.jpg")[command])
    assert_one_line_error(result, str(read_only), "read-only")
    assert not any(read_only.iterdir())


@pytest.mark.parametrize("command", ["synth", "train", "demo"])
def test_an_output_under_a_regular_file(tmp_path, synth_dataset, capsys, command):
    blocker = tmp_path / "a_file"
    blocker.write_text("mine\n")
    before = Snapshot(tmp_path)
    result = run_in_process(capsys, *_commands(blocker, synth_dataset, tmp_path / "photo.png")[command])
    assert_one_line_error(result, str(blocker), "is a file" if command == "synth" else "not a folder")
    assert Snapshot(tmp_path) == before


def test_an_output_name_too_long_for_the_file_system(tmp_path, capsys):
    out = tmp_path / ("n" * 300)
    result = run_in_process(capsys, "synth", "--out", out, "--videos", "1", "--frames", "4", "--size", "64",
                            "--no-progress")
    assert_one_line_error(result, "too long")
    assert not any(tmp_path.iterdir())


def test_a_failed_image_write_raises_with_the_errno_and_path(tmp_path):
    """cv2.imwrite returns False on failure; cpfnet.io.images.write_image raises instead."""
    import errno

    from cpfnet.io.images import write_image

    blocker = tmp_path / "a_file"
    blocker.write_text("mine\n")
    with pytest.raises(OSError) as info:
        write_image(blocker / "x.png", np.zeros((4, 4, 3), np.uint8))
    assert info.value.errno == errno.ENOTDIR and info.value.filename == str(blocker / "x.png")
    with pytest.raises(ValueError, match="could not encode"):
        write_image(tmp_path / "x.png", np.zeros((4, 4, 7), np.uint8))
