"""The hostile-input catalogue (README "Errors and outputs"), paths and sizes: outputs that alias an input,
outputs of the wrong kind, photos where a video belongs, long names, the target-photo size cap.

Every case runs the real command (in this process through `cpfnet.cli.main` where it fails before any work,
so it costs milliseconds) and asserts the exit code, one line of error blaming the right option, no
traceback, and that what the user had is byte-identical afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from cpfnet.cli import main
from cpfnet.errors import UserError
from cpfnet.io.atomic import atomic_dir, atomic_file, remove_stale, stale_temporaries, temporary_name
from cpfnet.io.paths import Output, check_outputs, same_path
from cpfnet.io.video import VideoWriter, iter_frames
from cpfnet.transfer.target import cap_photo
from hostile_support import ROOT, Snapshot, assert_one_line_error, hidden_leftovers


def _main(capsys, *args) -> subprocess.CompletedProcess:
    """`cpfnet ARGS` in this process, as a CompletedProcess for assert_one_line_error."""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out, err)


@pytest.fixture
def user_files(tmp_path):
    """What a user has: a 4-frame video, a photo (JPEG bytes), a folder; -> (folder, video, photo)."""
    import cv2

    video = tmp_path / "dance.mp4"
    with VideoWriter(video, fps=8) as writer:
        for t in range(4):
            writer.write(np.full((48, 64, 3), 40 * t, np.uint8))
    photo = tmp_path / "me.jpg"
    cv2.imwrite(str(photo), np.full((40, 30, 3), 120, np.uint8))
    (tmp_path / "folder").mkdir()
    return tmp_path, video, photo


def _transfer(capsys, video, photo, out, *more):
    return _main(capsys, "transfer", "--source", video, "--target", photo, "--out", out, *more)


def test_transfer_out_equal_to_the_source_is_refused(capsys, user_files):
    folder, video, photo = user_files
    before = Snapshot(folder)
    assert_one_line_error(_transfer(capsys, video, photo, video), "--out", "same file as --source", code=2)
    assert Snapshot(folder) == before


def test_transfer_out_aliasing_an_input_by_symlink_hard_link_or_dotdot_is_refused(capsys, user_files):
    folder, video, photo = user_files
    (folder / "link.mp4").symlink_to(video)
    os.link(video, folder / "hard.mp4")
    before = Snapshot(folder)
    for out in (folder / "link.mp4", folder / "hard.mp4", folder / "folder" / ".." / "dance.mp4"):
        assert_one_line_error(_transfer(capsys, video, photo, out), "--out", "--source", code=2)
    assert_one_line_error(_transfer(capsys, video, photo, folder / "folder" / ".." / "me.jpg"), "--target")
    assert Snapshot(folder) == before and (folder / "link.mp4").is_symlink()


def test_transfer_out_of_the_wrong_kind_blames_the_output(capsys, user_files):
    folder, video, photo = user_files
    before = Snapshot(folder)
    assert_one_line_error(_transfer(capsys, video, photo, folder / "folder"), "--out", "is a folder")
    assert_one_line_error(_transfer(capsys, video, photo, photo / "x.mp4"), "--out", "is a file, not a folder")
    assert Snapshot(folder) == before


def test_a_photo_as_the_source_is_not_a_video(capsys, user_files):
    folder, video, photo = user_files
    disguised = folder / "photo.mp4"  # a JPEG with a video's name: FFmpeg opens it as an image
    disguised.write_bytes(photo.read_bytes())
    for source in (photo, disguised):
        line = assert_one_line_error(_transfer(capsys, source, photo, folder / "o.mp4"), "--source",
                                     "is a photo, not a video")
        assert "fps" not in line
    assert not (folder / "o.mp4").exists()


def test_transfer_size_options_are_checked(capsys, user_files):
    folder, video, photo = user_files
    assert_one_line_error(_transfer(capsys, video, photo, folder / "o.mp4", "--max-side", "10"), "--max-side")
    assert_one_line_error(_transfer(capsys, video, photo, folder / "o.mp4", "--min-person-fraction", "2"),
                          "--min-person-fraction")
    with pytest.raises(SystemExit) as stop:  # argparse: not both
        main(["transfer", "--source", "a", "--target", "b", "--out", "c", "--max-side", "800", "--full-size"])
    assert stop.value.code == 2 and "not allowed with" in capsys.readouterr().err


def test_prepare_out_that_is_a_file_or_holds_an_input_is_refused(capsys, user_files):
    folder, video, photo = user_files
    before = Snapshot(folder)
    assert_one_line_error(_main(capsys, "prepare", photo, "--out", video), "--out", "is a file, not a folder",
                          code=2)
    # dance/dance.mp4 into --out . --overwrite would replace the folder dance/ that holds the input
    (folder / "dance").mkdir()
    inside = folder / "dance" / "dance.mp4"
    inside.write_bytes(video.read_bytes())
    before = Snapshot(folder)
    assert_one_line_error(_main(capsys, "prepare", inside, "--out", folder, "--overwrite"), "--out",
                          "holds INPUT", "destroy the input")
    assert_one_line_error(_main(capsys, "prepare", video, "--out", folder / "o", "--openpose", folder / "o" / "dance"),
                          "--openpose")
    assert Snapshot(folder) == before


def test_synth_out_that_is_a_file_or_under_one_is_refused(capsys, user_files):
    folder, video, _ = user_files
    before = Snapshot(folder)
    assert_one_line_error(_main(capsys, "synth", "--out", video, "--videos", "1", "--frames", "2", "--size", "64"),
                          "--out", "is a file, not a folder")
    assert_one_line_error(_main(capsys, "synth", "--out", video / "data", "--videos", "1"), "--out",
                          "is a file, not a folder")
    assert Snapshot(folder) == before


def test_train_runs_equal_to_the_data_or_under_a_file_is_refused(capsys, user_files):
    folder, video, _ = user_files
    before = Snapshot(folder)
    data = folder / "folder"
    assert_one_line_error(_main(capsys, "train", "parsing", "--config", "tiny", "--data", data, "--runs", data),
                          "--runs", "same folder as --data")
    (folder / "runs" / "parsing").mkdir(parents=True)  # RUNS/parsing given as the data
    assert_one_line_error(_main(capsys, "train", "parsing", "--config", "tiny", "--data", folder / "runs" / "parsing",
                                "--runs", folder / "runs"), "--runs", "same folder as --data")
    before = Snapshot(folder)
    assert_one_line_error(_main(capsys, "train", "parsing", "--config", "tiny", "--data", data, "--runs",
                                video / "runs"), "--runs", "is a file, not a folder")
    assert Snapshot(folder) == before


def test_evaluate_and_demo_outputs_that_alias_inputs_are_refused(capsys, user_files):
    folder, video, _ = user_files
    real = folder / "folder"
    (real / "clip.mp4").write_bytes(video.read_bytes())
    before = Snapshot(folder)
    assert_one_line_error(_main(capsys, "evaluate", "fvd", real, folder, "--json", real / "clip.mp4"), "--json",
                          "REAL")
    assert_one_line_error(_main(capsys, "evaluate", "table", "--data", real, "--out", folder / "r.md", "--json",
                                folder / "r.md"), "--out and --json")
    assert_one_line_error(_main(capsys, "evaluate", "real", video, "--out", folder / "r.md", "--json", video),
                          "--json", "same file as VIDEO")
    assert_one_line_error(_main(capsys, "demo", "--out", real, "--real", real), "--out", "same folder as --real")
    assert_one_line_error(_main(capsys, "demo", "--out", video), "--out", "is a file, not a folder")
    assert Snapshot(folder) == before


def test_study_outputs_that_alias_inputs_are_refused(capsys, user_files):
    folder, video, _ = user_files
    videos = folder / "folder"
    (videos / "clip.mp4").write_bytes(video.read_bytes())
    (folder / "study").mkdir()
    (folder / "study" / "manifest.json").write_text("{}")
    before = Snapshot(folder)
    assert_one_line_error(_main(capsys, "study", "create", folder, f"ours={videos}", "--overwrite"), "STUDY",
                          "holds NAME=DIR")
    assert_one_line_error(_main(capsys, "study", "results", folder / "study", "--out",
                                folder / "study" / "manifest.md"), "--out's .json", "inside STUDY")
    assert Snapshot(folder) == before


def test_two_writers_of_one_output_leave_one_complete_file(tmp_path):
    """Two processes stream a video into one path at once: each writes its own temporary; the last rename
    wins, and the file is complete, the other's frames never mixed in."""
    script = ("import sys, time, numpy as np; sys.path.insert(0, sys.argv[1]); "
              "from cpfnet.io.video import VideoWriter\n"
              "with VideoWriter(sys.argv[2], fps=8) as w:\n"
              "    for t in range(6):\n"
              "        w.write(np.full((32, 48, 3), int(sys.argv[3]), np.uint8)); time.sleep(0.15)\n")
    out = tmp_path / "out.mp4"
    procs = [subprocess.Popen([sys.executable, "-c", script, str(ROOT), str(out), str(v)]) for v in (40, 200)]
    assert [p.wait(60) for p in procs] == [0, 0]
    frames = list(iter_frames(out))
    means = [float(f.mean()) for f in frames]  # one writer's grey (40 or 200) in every frame
    assert len(frames) == 6 and max(means) - min(means) < 20
    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]


def test_same_path_follows_symlinks_dotdot_and_hard_links(tmp_path):
    a = tmp_path / "a.txt"
    a.write_text("x")
    (tmp_path / "s.txt").symlink_to(a)
    os.link(a, tmp_path / "h.txt")
    (tmp_path / "d").mkdir()
    assert same_path(a, tmp_path / "s.txt") and same_path(a, tmp_path / "h.txt")
    assert same_path(a, tmp_path / "d" / ".." / "a.txt")
    assert not same_path(a, tmp_path / "b.txt") and not same_path(a, tmp_path / "d")
    with pytest.raises(UserError, match="holds IN"):
        check_outputs([Output(tmp_path, "--out", "folder")], [("IN", a)])
    check_outputs([Output(tmp_path, "--out", "folder", replaced=False)], [("IN", a)])  # written into, not replaced


def test_temporaries_of_a_251_character_name_fit_and_keep_the_suffix(tmp_path):
    final = tmp_path / ("d" * 247 + ".mp4")
    with atomic_file(final) as tmp:
        assert len(tmp.name.encode()) <= os.pathconf(tmp_path, "PC_NAME_MAX") and tmp.suffix == ".mp4"
        assert str(os.getpid()) in tmp.name
        tmp.write_bytes(b"done")
    folder = tmp_path / ("e" * 251)
    with atomic_dir(folder) as tmp:
        assert len(tmp.name.encode()) <= 255
        (tmp / "f").write_text("x")
    assert final.read_bytes() == b"done" and (folder / "f").is_file() and hidden_leftovers(tmp_path) == []


def test_a_251_character_output_name_works_end_to_end(tmp_path, capsys):
    out = tmp_path / ("s" * 251)
    assert main(["synth", "--out", str(out), "--videos", "1", "--frames", "2", "--size", "64", "--workers", "1",
                 "--supersample", "1", "--no-progress"]) == 0
    assert (out / "video_0000" / "meta.json").is_file() and hidden_leftovers(tmp_path) == []


def test_stale_temporaries_of_dead_writers_are_removed_live_ones_kept(tmp_path):
    final = tmp_path / "out.mp4"
    dead = subprocess.Popen(["true"])
    dead.wait()
    live = subprocess.Popen(["sleep", "30"])
    try:
        mine = temporary_name(final).name
        stale = tmp_path / mine.replace(f"-{os.getpid()}-", f"-{dead.pid}-")
        running = tmp_path / mine.replace(f"-{os.getpid()}-", f"-{live.pid}-")
        other = tmp_path / temporary_name(tmp_path / "other.mp4").name.replace(f"-{os.getpid()}-", f"-{dead.pid}-")
        for path in (stale, running, other):
            path.write_bytes(b"partial")
        assert stale_temporaries(final) == [stale]
        assert remove_stale(final) == [stale] and running.exists() and other.exists()
        with atomic_file(tmp_path / "other.mp4") as tmp:  # the next write of other.mp4 removes its own
            tmp.write_bytes(b"x")
        assert not other.exists()
    finally:
        live.kill()
        live.wait()


def test_the_photo_cap_keeps_the_aspect_and_small_photos_alone():
    big = np.zeros((8000, 6000, 3), np.uint8)
    assert cap_photo(big, 1920).shape == (1920, 1440, 3)
    assert cap_photo(big[:1100, :750], 1920).shape == (1100, 750, 3)
    assert cap_photo(big[:100, :3000], 1920).shape == (64, 1920, 3)
    assert cap_photo(big[:300, :200], None).shape == (300, 200, 3)
