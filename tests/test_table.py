"""`cpfnet evaluate table`: pairing the test videos, the methods found in RUNS folders, mapping every method's
outputs onto the ground truth's frame (an oracle scores perfectly), the command end to end, its errors."""

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import yaml

from cpfnet.body.parsing_labels import LABEL, NUM_LABELS
from cpfnet.cli import main
from cpfnet.dataset.layout import META, VideoFolder
from cpfnet.errors import UserError
from cpfnet.evaluation import methods as M
from cpfnet.evaluation.pictures import labelled_grid
from cpfnet.evaluation.cases import CROSS_IDENTITY, SELF_RECONSTRUCTION, load_case, person_boxes, plan_cases
from cpfnet.evaluation.running import run_method
from cpfnet.evaluation.scoring import score_video, summarize
from cpfnet.ops.crop import crop_box, follow_boxes
from cpfnet.configs.experiment import dump_config, load_config

FRAMES = 12  # per test video; the command evaluates 10 (the I3D needs 9 or more)


@pytest.fixture(scope="module")
def table_data(tmp_path_factory):
    """2 motions x 2 identities x 12 frames x 64 px synthetic dancers."""
    root = tmp_path_factory.mktemp("table") / "data"
    assert main(["synth", "--out", str(root), "--videos", "4", "--frames", str(FRAMES), "--size", "64",
                 "--identities-per-motion", "2", "--workers", "1", "--seed", "3", "--no-progress"]) == 0
    return root


def _config(folder: Path, name: str, use_flow: bool = True) -> Path:
    data = yaml.safe_load(dump_config(load_config("tiny")))
    data["train"]["threads"] = 1  # tiny tensors: a second thread only waits on a shared machine
    data["foreground"]["generator"]["use_flow"] = use_flow
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(scope="module")
def table_runs(table_data, tmp_path_factory):
    """RUNS folders trained one step per stage: full (all four stages), noflow (parsing shared, foreground with
    use_flow: false, its own fusion), baseline (baseline-pix2pixhd)."""
    root = tmp_path_factory.mktemp("table-runs")
    full, noflow = _config(root, "full"), _config(root, "noflow", use_flow=False)

    def train(stage, config, runs):
        assert main(["train", stage, "--config", str(config), "--data", str(table_data), "--runs", str(root / runs),
                     "--steps", "1", "--no-progress"]) == 0

    for stage in ("parsing", "flow", "foreground", "fusion"):
        train(stage, full, "full")
    (root / "noflow").mkdir()
    (root / "noflow" / "parsing").symlink_to(root / "full" / "parsing")
    train("foreground", noflow, "noflow")
    train("fusion", noflow, "noflow")
    train("baseline-pix2pixhd", full, "baseline")
    return {name: root / name for name in ("full", "noflow", "baseline")}


def _copy_dataset(source: Path, dest: Path, change=None) -> Path:
    shutil.copytree(source, dest)
    for meta_path in dest.glob(f"*/{META}"):
        meta = json.loads(meta_path.read_text())
        if change:
            change(meta_path.parent.name, meta)
        meta_path.write_text(json.dumps(meta))
    return dest


# --- pairing ----------------------------------------------------------------------------------------------

def test_synthetic_videos_pair_each_identity_with_the_other(table_data):
    mode, pairs, notes = plan_cases(table_data, 10)
    names = [(a.name, b.name) for a, b in pairs]
    assert mode == CROSS_IDENTITY and not notes
    assert names == [("video_0000", "video_0001"), ("video_0001", "video_0000"),
                     ("video_0002", "video_0003"), ("video_0003", "video_0002")]
    for a, b in pairs:
        ma, mb = VideoFolder(a).meta, VideoFolder(b).meta
        assert ma.motion == mb.motion and ma.identity != mb.identity
    assert len(plan_cases(table_data, 10, max_videos=2)[1]) == 2


def test_pairing_errors(table_data, synth_dataset, tmp_path):
    with pytest.raises(UserError, match=f"video_0000 has {FRAMES} frames; --frames 13 needs"):
        plan_cases(table_data, 13)
    with pytest.raises(UserError, match="FVD needs at least 2 videos per set"):
        plan_cases(table_data, 10, max_videos=1)
    with pytest.raises(UserError, match="one identity per motion.*--identities-per-motion 2"):
        plan_cases(synth_dataset, 5)  # conftest's synth set: one identity per motion
    mixed = _copy_dataset(table_data, tmp_path / "mixed",
                          lambda name, meta: meta.update(identity=None) if name == "video_0000" else None)
    with pytest.raises(UserError, match="mixes synthetic videos"):
        plan_cases(mixed, 10)


def test_real_videos_are_self_reconstructed(table_data, tmp_path):
    real = _copy_dataset(table_data, tmp_path / "real", lambda name, meta: meta.update(identity=None, motion=None))
    mode, pairs, _ = plan_cases(real, 10)
    assert mode == SELF_RECONSTRUCTION and all(a == b for a, b in pairs) and len(pairs) == 4
    case = load_case(*pairs[0], 10, mode)
    assert case.truth_flow is None  # no flow scores for real data
    np.testing.assert_allclose(case.poses, VideoFolder(pairs[0][0]).poses)  # its own poses, not retargeted


def test_cross_identity_case_stands_where_the_target_stands(table_data):
    mode, pairs, _ = plan_cases(table_data, 10)
    case = load_case(*pairs[0], 10, mode)
    truth = VideoFolder(pairs[0][1])
    assert case.truth_frames.shape == (10, 64, 64, 3) and case.truth_flow.shape == (10, 64, 64, 2)
    a = truth.appearance_index
    # The retargeted dance puts the source's neck at B's appearance frame onto B's neck.
    np.testing.assert_allclose(case.poses[a, 1, :2], truth.poses[a, 1, :2], atol=1e-3)
    # Same motion, same camera rig: the retargeted joints stay near B's own all through the clip.
    seen = (case.poses[:10, :, 2] > 0.5) & (truth.poses[:10, :, 2] > 0.5)
    assert np.median(np.linalg.norm(case.poses[:10, :, :2] - truth.poses[:10, :, :2], axis=-1)[seen]) < 4


def test_person_boxes():
    kp = np.zeros((3, 18, 3), np.float32)
    kp[0, :2] = [[20, 10, 1], [30, 50, 1]]  # a 10 x 40 keypoint box
    kp[1, :2] = [[60, 60, 1], [61, 61, 1]]  # tiny, at the corner
    boxes = person_boxes(kp, 64)
    np.testing.assert_allclose(boxes[0], [20 - 6, 10 - 6, 30 + 6, 50 + 6])  # 15% of 40 on every side
    assert boxes[1, 2] == 64 and boxes[1, 3] == 64 and boxes[1, 2] - boxes[1, 0] == 22  # grown to 2 SSIM windows
    np.testing.assert_allclose(boxes[2], [0, 0, 64, 64])  # no keypoint: the whole frame


# --- mapping every method's outputs onto the ground truth ---------------------------------------------------

class _Oracle:
    """A pipeline that returns the ground truth as a transfer pipeline would: frames at the photo's size, the
    parsing, flow and visibility in its crop (boxes following the neck, crops of `size`, flow in target-crop
    pixels at `size`). `rescale_flow=False` forgets to express the flow at the crop's size."""

    def __init__(self, truth: VideoFolder, size: int, rescale_flow: bool = True):
        self.truth, self.size, self.rescale_flow = truth, size, rescale_flow

    def outputs(self, poses, target, anchor_frame=0):
        boxes = follow_boxes(poses, target.box, anchor_frame)
        for i, box in enumerate(boxes):
            parsing = crop_box(self.truth.parsing(i), box, self.size, labels=True, border="constant")
            visibility = crop_box(self.truth.visibility(i), box, self.size, labels=True, border="constant")
            flow = crop_box(self.truth.flow(i), box, self.size, labels=True, border="constant")
            flow = flow * (self.size / self.truth.size if self.rescale_flow else 1.0)
            yield {"frame": self.truth.frame(i), "box": box,
                   "parsing": torch.nn.functional.one_hot(torch.from_numpy(parsing).long(), NUM_LABELS).permute(2, 0, 1).float(),
                   "flow": torch.from_numpy(flow).permute(2, 0, 1),
                   "visibility": torch.nn.functional.one_hot(torch.from_numpy(visibility).long(), 3).permute(2, 0, 1).float()}


def test_an_oracle_scores_perfectly_and_a_wrong_flow_scale_does_not(table_data):
    mode, pairs, _ = plan_cases(table_data, 10)
    case = load_case(*pairs[0], 10, mode)
    truth = VideoFolder(pairs[0][1])
    made = run_method(_Oracle(truth, 64), case)
    assert made["frames"].shape == (10, 64, 64, 3) and made["parsing"].shape == (10, 64, 64)
    scores = summarize([score_video(made, case)])
    assert scores["ssim"] == 1.0 and scores["psnr"] == float("inf") and scores["ssim_person"] == 1.0
    # Crops of the dataset's size: moved back exactly (nearest sampling at the boxes' fractional offsets).
    assert scores["parsing_accuracy"] > 0.999 and scores["parsing_miou"] > 0.99
    assert scores["flow_epe"] < 0.01 and scores["visibility_accuracy"] > 0.999
    # Crops of half the size: only what the lower resolution loses.
    half = summarize([score_video(run_method(_Oracle(truth, 32), case), case)])
    assert half["parsing_accuracy"] > 0.93 and half["flow_epe"] < 2.0 and half["visibility_accuracy"] > 0.93
    wrong = summarize([score_video(run_method(_Oracle(truth, 32, rescale_flow=False), case), case)])
    assert wrong["flow_epe"] > 10 * half["flow_epe"]


def test_parsing_scores_of_a_known_mistake_are_dataset_level(table_data):
    """Two cases: in the first the method calls every face pixel background, in the second it is exact. The
    table's numbers come from the summed confusion: accuracy 1 - face_a / all pixels, face IoU
    face_b / (face_a + face_b), background IoU bg / (bg + face_a), every other label present 1."""
    mode, pairs, _ = plan_cases(table_data, 10)
    cases = [load_case(*pairs[i], 10, mode) for i in (0, 2)]  # two motions: different face sizes
    face = LABEL["face"]
    wrong = np.where(cases[0].truth_parsing == face, 0, cases[0].truth_parsing)
    made = [{"frames": cases[0].truth_frames, "parsing": wrong},
            {"frames": cases[1].truth_frames, "parsing": cases[1].truth_parsing}]
    scores = summarize([score_video(m, c) for m, c in zip(made, cases)])
    face_a, face_b = (int((c.truth_parsing == face).sum()) for c in cases)
    background = sum(int((c.truth_parsing == 0).sum()) for c in cases)
    pixels = sum(c.truth_parsing.size for c in cases)
    present = set(np.unique(cases[0].truth_parsing)) | set(np.unique(cases[1].truth_parsing))
    assert face_a > 0 and face_b > 0 and face_a != face_b and 0 in present
    ious = {label: 1.0 for label in present}
    ious[face], ious[0] = face_b / (face_a + face_b), background / (background + face_a)
    assert scores["parsing_accuracy"] == pytest.approx(1 - face_a / pixels, abs=1e-12)
    assert scores["parsing_miou"] == pytest.approx(np.mean(list(ious.values())), abs=1e-12)


def test_score_video_on_a_still_video(table_data):
    """The floor method: the target photo in every frame; SSIM/PSNR finite even though one frame is exact."""
    mode, pairs, _ = plan_cases(table_data, 10)
    case = load_case(*pairs[0], 10, mode)
    made = run_method(M.StillPhoto(), case)
    scores = score_video(made, case)
    assert set(scores) == {"ssim", "psnr", "ssim_person", "psnr_person", "warping_error"}
    assert 0 < scores["ssim"] < 1 and np.isfinite(scores["psnr"]) and scores["psnr_person"] < scores["psnr"]
    assert (made["frames"] == made["frames"][0]).all()
    np.testing.assert_array_equal(made["frames"][case.anchor_frame], case.truth_frames[case.anchor_frame])


# --- methods ----------------------------------------------------------------------------------------------

def test_methods_found_in_runs_folders(table_runs, tmp_path):
    # The other baselines are not trained here: one "row skipped" note each.
    untrained = [row for row in M.BASELINE_ROWS if row != M.PIX2PIXHD]
    methods, notes = M.find_methods([table_runs["baseline"], table_runs["full"], table_runs["noflow"]])
    assert [m.name for m in methods] == [M.STILL, M.PIX2PIXHD, M.NO_FLOW, M.NO_FUSION, M.FULL]
    assert notes == [f"no RUNS folder gives {row!r}: row skipped" for row in untrained]
    assert [m.uses_flow for m in methods] == [False, False, False, True, True]
    methods, notes = M.find_methods([table_runs["baseline"]])
    assert [m.name for m in methods] == [M.STILL, M.PIX2PIXHD] and len(notes) == 3 + len(untrained)
    no_fusion = tmp_path / "no-fusion"
    shutil.copytree(table_runs["full"], no_fusion)
    shutil.rmtree(no_fusion / "fusion")
    methods, notes = M.find_methods([no_fusion])
    assert [m.name for m in methods] == [M.STILL, M.NO_FUSION] and any("no fusion stage" in n for n in notes)
    with pytest.raises(UserError, match="give the method 'Ours'"):
        M.find_methods([table_runs["full"], table_runs["full"]])
    with pytest.raises(UserError, match="no RUNS folder given"):
        M.find_methods([])
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="has no trained stage"):
        M.find_methods([tmp_path / "empty"])


def test_labelled_grid():
    tiles = [np.full((32, 32, 3), v, np.uint8) for v in (0, 128)]
    grid = labelled_grid([("Source", tiles), ("Ours (w/o fusion module)", tiles)], min_cell=128)
    assert grid.shape[0] == 2 * 128 + 2 and grid.shape[1] > 2 * 128 + 2  # tiles enlarged 4x, a label column
    assert (grid[:128, -128:] == 128).all() and (grid[130:, -258:-130] == 0).all()


# --- the command ------------------------------------------------------------------------------------------

def _cli_error(capsys, *args):
    code = main(["evaluate", "table", *args])
    err = capsys.readouterr().err.strip()
    assert code != 0 and err.count("\n") == 0 and "Traceback" not in err, err
    return err


def test_command_errors(capsys, table_data, table_runs, synth_dataset, tmp_path):
    out = ["--out", str(tmp_path / "report.md"), "--no-progress", "--frames", "10"]
    runs = ["--runs", str(table_runs["full"])]
    assert "no RUNS folder given" in _cli_error(capsys, "--data", str(table_data), *out)
    assert "RUNS folder" in _cli_error(capsys, "--data", str(table_data), "--runs", str(tmp_path / "nope"), *out)
    assert "one identity per motion" in _cli_error(capsys, "--data", str(synth_dataset), *runs, *out[:-2], "--frames", "9")
    assert "needs at least that many" in _cli_error(capsys, "--data", str(table_data), *runs, *out[:-2], "--frames", "30")
    assert "at least 9" in _cli_error(capsys, "--data", str(table_data), *runs, *out[:-2], "--frames", "5")
    assert "not found" in _cli_error(capsys, "--data", str(tmp_path / "nodata"), *runs, *out)
    assert "is a folder" in _cli_error(capsys, "--data", str(table_data), *runs, "--out", str(tmp_path))
    assert "use report.md" in _cli_error(capsys, "--data", str(table_data), *runs, "--out", str(tmp_path / "r.png"))
    assert "does not exist" in _cli_error(capsys, "--data", str(table_data), *runs, "--out", str(tmp_path / "a" / "r.md"))
    assert not list(tmp_path.glob("report*"))


@pytest.mark.slow
def test_command_writes_the_table_and_the_picture(table_data, table_runs, tmp_path, capsys):
    out = tmp_path / "report.md"
    assert main(["evaluate", "table", "--data", str(table_data), "--runs", *map(str, table_runs.values()),
                 "--out", str(out), "--json", str(tmp_path / "report.json"), "--frames", "10", "--threads", "1",
                 "--max-videos", "2", "--no-progress"]) == 0
    text = out.read_text()
    names = [M.STILL, M.PIX2PIXHD, M.NO_FLOW, M.NO_FUSION, M.FULL]
    rows = [line for line in text.splitlines() if line.startswith("| ") and line.split(" | ")[0][2:] in names]
    assert [r.split(" | ")[0][2:] for r in rows] == names  # every method, in Table I's order
    assert "| Method | FVD ↓ |" in text and "cross-identity transfer" in text and "Videos**: 2" in text
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["videos"] == ["video_0000 -> video_0001", "video_0001 -> video_0000"]
    for name in names:
        row = report["methods"][name]
        numbers = [row[k] for k in ("fvd", "ssim", "psnr", "ssim_person", "psnr_person")]
        assert all(np.isfinite(numbers)) and row["fvd"] > 0, (name, row)
    # The three CPF-Net rows share one parsing stage (noflow's is a link to full's): the same stage-1 scores.
    parsing = {report["methods"][name]["parsing_accuracy"] for name in (M.NO_FLOW, M.NO_FUSION, M.FULL)}
    assert len(parsing) == 1 and 0 < parsing.pop() < 1
    for name in (M.NO_FUSION, M.FULL):
        assert np.isfinite(report["methods"][name]["flow_epe"])
    assert report["methods"][M.FULL]["flow_epe"] == report["methods"][M.NO_FUSION]["flow_epe"]  # same stages
    assert "flow_epe" not in report["methods"][M.NO_FLOW] and "parsing_accuracy" not in report["methods"][M.PIX2PIXHD]
    picture = cv2.imread(str(tmp_path / "report.png"))
    assert picture is not None and picture.shape[0] == 8 * 128 + 7 * 2  # source, pose, 5 methods, ground truth
    assert "FVD" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json", "report.md", "report.png"]
