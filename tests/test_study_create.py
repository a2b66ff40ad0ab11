"""`cpfnet study create`: the study folder, the derived videos, the sequences, the one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest
from study_support import REPO, dancer_frames, make_method_folders, write_video

from cpfnet.cli import main
from cpfnet.errors import UserError
from cpfnet.io.video import iter_frames, probe
from cpfnet.study.manifest import BROKEN, StudyConfig, create_study, load_study
from cpfnet.study.media import GREY, broken, foreground_only
from cpfnet.study.sequence import draw_sequence


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return make_method_folders(tmp_path_factory.mktemp("methods"), clips=3)


def _methods(folders):
    return [f"{name}={path}" for name, path in folders.items()]


def test_create_pairs_checks_and_opaque_media(folders, tmp_path):
    study = create_study(StudyConfig(out=str(tmp_path / "s"), methods=_methods(folders), reference="ours",
                                     pairs_per_rater=4, checks_per_rater=2))
    # 3 clips x (ours vs p2p, ours vs v2v); the reference is always A.
    assert len(study.pairs) == 6 and {p.methods for p in study.pairs} == {("ours", "p2p"), ("ours", "v2v")}
    assert study.comparisons() == [("full", "ours", "p2p"), ("full", "ours", "v2v")]
    assert len(study.checks) == 4 and all(c.methods[1] == BROKEN for c in study.checks)
    names = {p.name for p in study.media_dir.iterdir()}
    tokens = {t for item in study.items.values() for t in item.media.values()}
    assert names == {f"{t}.mp4" for t in tokens}
    assert not any(m in n for n in names for m in ("ours", "p2p", "v2v", "clip"))  # the name tells nothing
    assert (study.root / "admin_token").stat().st_mode & 0o077 == 0
    # A copied video decodes to the source's frames (it was already browser-ready H.264).
    item = study.pairs[0]
    src = folders["ours"] / f"{item.video}.mp4"
    assert study.media_path(item.media["ours"]).read_bytes() == src.read_bytes()


def test_every_pair_of_methods_without_a_reference(folders, tmp_path):
    study = create_study(StudyConfig(out=str(tmp_path / "s"), methods=_methods(folders), pairs_per_rater=2,
                                     checks_per_rater=0))
    assert {p.methods for p in study.pairs} == {("ours", "p2p"), ("ours", "v2v"), ("p2p", "v2v")}
    assert study.checks == []


def test_broken_check_videos_are_visibly_broken(tmp_path):
    src = write_video(tmp_path / "a.mp4", dancer_frames(0.0))
    original = np.stack(list(iter_frames(src))).astype(int)
    broken(src, tmp_path / "s.mp4", "shuffled", seed=3)
    shuffled = np.stack(list(iter_frames(tmp_path / "s.mp4"))).astype(int)
    assert shuffled.shape == original.shape
    # Same frames, another order: every shuffled frame matches some original frame, not in sequence.
    nearest = [int(np.argmin(np.abs(original - f).mean((1, 2, 3)))) for f in shuffled]
    assert sorted(nearest) == list(range(len(original))) and nearest != sorted(nearest)
    broken(src, tmp_path / "f.mp4", "frozen")
    frozen = np.stack(list(iter_frames(tmp_path / "f.mp4"))).astype(int)
    assert len(frozen) == len(original) and np.abs(frozen - frozen[0]).mean() < 1 < np.abs(original - original[0]).mean()


def test_foreground_only_from_mask_files(folders, tmp_path):
    # The method's own masks: the left half of every frame is the person.
    masked = {}
    for name, folder in folders.items():
        out = tmp_path / name
        (out / "masks").mkdir(parents=True)
        for clip in folder.iterdir():
            (out / clip.name).write_bytes(clip.read_bytes())
            mask = np.zeros((64, 64, 3), np.uint8)
            mask[:, :32] = 255
            write_video(out / "masks" / clip.name, [mask] * 6)
        masked[name] = out
    study = create_study(StudyConfig(out=str(tmp_path / "s"), methods=_methods(masked), reference="ours",
                                     variants=("full", "fg"), fg_masks="files", pairs_per_rater=3,
                                     checks_per_rater=0))
    assert study.comparisons()[-1] == ("fg", "ours", "v2v")
    fg = next(p for p in study.pairs if p.variant == "fg")
    frames = np.stack(list(iter_frames(study.media_path(fg.media["ours"])))).astype(int)
    assert np.abs(frames[:, :, 36:] - GREY).max() <= 4  # outside the mask: neutral grey
    assert np.abs(frames[:, :, :28] - GREY).max() > 40  # inside: the video


def test_foreground_composite_with_a_mask_function(tmp_path):
    src = write_video(tmp_path / "a.mp4", dancer_frames(0.0))
    foreground_only(src, tmp_path / "f.mp4", lambda frame: frame.mean(2) < 150)  # the dark figure
    frames = np.stack(list(iter_frames(tmp_path / "f.mp4"))).astype(int)
    assert np.abs(frames[:, :4, :4] - GREY).max() <= 4 and probe(tmp_path / "f.mp4").num_frames == 6


@pytest.mark.slow
def test_foreground_by_segmentation_runs(tmp_path):
    """cpfnet prepare's MediaPipe person mask on the output frames (a stick figure is nobody: all grey)."""
    small = make_method_folders(tmp_path / "m", clips=1, methods=("ours", "p2p"))
    study = create_study(StudyConfig(out=str(tmp_path / "s"), methods=_methods(small), variants=("fg",),
                                     pairs_per_rater=1, checks_per_rater=0))
    item = study.pairs[0]
    frames = np.stack(list(iter_frames(study.media_path(item.media["ours"]))))
    assert frames.shape == (6, 64, 64, 3) and np.abs(frames.astype(int) - GREY).mean() < 2


def test_sequences_are_balanced_randomised_and_checks_never_first(folders, tmp_path):
    study = create_study(StudyConfig(out=str(tmp_path / "s"), methods=_methods(folders), reference="ours",
                                     pairs_per_rater=3, checks_per_rater=1))
    rng = np.random.default_rng(0)
    shown: Counter = Counter()
    lefts = Counter()
    for _ in range(40):
        seq = draw_sequence(study, shown, rng)
        assert len(seq) == 4 and len({a.item_id for a in seq}) == 4
        assert study.items[seq[0].item_id].kind == "pair"
        assert sum(study.items[a.item_id].kind == "check" for a in seq) == 1
        for a in seq:
            shown[a.item_id] += 1
            assert {a.left, a.right} == set(study.items[a.item_id].methods)
            lefts[a.left == study.items[a.item_id].methods[0]] += 1
    pair_counts = [shown[p.id] for p in study.pairs]
    assert max(pair_counts) - min(pair_counts) <= 1  # 40 raters x 3 pairs over 6 pairs: 20 each
    assert 50 <= lefts[True] <= 110  # left/right is a coin (160 draws)


@pytest.mark.parametrize("args, message", [
    (["ours=MISSING", "p2p"], "no such folder"),
    (["ours"], "at least two methods"),
    (["ours", "p2p", "--reference", "nobody"], "--reference nobody"),
    (["ours", "p2p", "--pairs-per-rater", "99"], "only 3 pairs"),
    (["ours", "p2p", "--variants", "full,xx"], "--variants"),
    (["ours", "empty"], "no video files"),
    (["ours", "other"], "no video name is in every"),
])
def test_bad_input_is_a_one_line_error(folders, tmp_path, capsys, args, message):
    root = folders["ours"].parent
    (root / "empty").mkdir(exist_ok=True)
    (root / "other").mkdir(exist_ok=True)
    if not (root / "other" / "unrelated.mp4").exists():
        write_video(root / "other" / "unrelated.mp4", dancer_frames(0.0))
    folder_args = [str(root / a) if (root / a).is_dir() else a.replace("MISSING", str(root / "missing"))
                   for a in args]
    assert main(["study", "create", str(tmp_path / "s"), *folder_args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cpfnet study: error:") and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "s").exists()


def test_cli_error_has_no_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "cpfnet.cli", "study", "results", str(tmp_path)],
                            capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode == 2 and "not a study folder" in result.stderr and "Traceback" not in result.stderr


def test_existing_study_is_not_overwritten(folders, tmp_path):
    out = tmp_path / "s"
    assert main(["study", "create", str(out), *_methods(folders), "--pairs-per-rater", "2"]) == 0
    before = json.loads((out / "study.json").read_text())["study_id"]
    with pytest.raises(UserError, match="exists"):
        create_study(StudyConfig(out=str(out), methods=_methods(folders)))
    assert load_study(out).study_id == before
