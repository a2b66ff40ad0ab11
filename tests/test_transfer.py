"""Transfer: the pipeline on tiny trained stages, and `cpfnet transfer` on real files."""

import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from cpfnet.cli import main
from cpfnet.dataset.layout import VideoFolder
from cpfnet.errors import UserError
from cpfnet.io.video import VideoWriter, probe
from cpfnet.transfer.pipeline import TransferPipeline, follow_boxes
from cpfnet.transfer.target import Target

REAL = Path(__file__).resolve().parents[2] / "shared" / "real"
STEPS = {"parsing": 2, "flow": 2, "foreground": 1, "fusion": 1}


@pytest.fixture(scope="module")
def runs(shapes_dataset, tmp_path_factory):
    runs = tmp_path_factory.mktemp("transfer-runs")
    for stage, steps in STEPS.items():
        assert main(["train", stage, "--config", "tiny", "--data", str(shapes_dataset), "--runs", str(runs),
                     "--steps", str(steps), "--no-progress"]) == 0
    return runs


def test_follow_boxes_move_with_the_neck():
    poses = np.zeros((3, 18, 3), np.float32)
    poses[:, 1] = [[10, 10, 1], [15, 12, 1], [0, 0, 0]]  # the neck is lost in the last frame
    boxes = follow_boxes(poses, (0, 0, 40, 40))
    np.testing.assert_allclose(boxes[0], [0, 0, 40, 40])
    np.testing.assert_allclose(boxes[1], [5, 2, 45, 42])
    np.testing.assert_allclose(boxes[2], boxes[1])  # held, not thrown to the origin


def test_pipeline_makes_one_full_size_frame_per_pose(runs, shapes_dataset):
    video = VideoFolder(sorted(Path(shapes_dataset).iterdir())[0])
    target = Target.from_folder(video.root)
    pipeline = TransferPipeline.from_checkpoints(runs, batch_size=4)
    assert pipeline.use_flow and pipeline.size == 64
    frames = list(pipeline.frames(video.poses, target))
    assert len(frames) == len(video)
    assert all(f.shape == target.background.shape and f.dtype == np.uint8 for f in frames)
    assert set(pipeline.timer.seconds) == {"parsing", "flow", "foreground", "fusion", "paste"}
    # Without fusion the parsing is the mask; the frames differ from the fused ones.
    plain = TransferPipeline.from_checkpoints(runs, use_fusion=False)
    assert plain.stages.fusion is None
    other = list(plain.frames(video.poses, target))
    assert len(other) == len(frames) and any(np.any(a != b) for a, b in zip(frames, other))


def test_checkpoints_of_mixed_configs_are_refused(runs, tmp_path):
    mixed = tmp_path / "mixed"
    shutil.copytree(runs, mixed)
    config = mixed / "fusion" / "config.yaml"
    data = yaml.safe_load(config.read_text())
    data["data"]["size"] = 128
    config.write_text(yaml.safe_dump(data))
    with pytest.raises(UserError, match="one config"):
        TransferPipeline.from_checkpoints(mixed)


def _cli_error(capsys, *args):
    """Run `cpfnet transfer`, expect a failure: the error is one line (progress bars may come before it)."""
    code = main(["transfer", *args])
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1].split("\r")[-1]
    assert code != 0 and last.startswith("cpfnet transfer: error: ") and "Traceback" not in err, err
    return last


def test_bad_input_gives_one_line_errors(runs, tmp_path, capsys):
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"not really")
    video = tmp_path / "v.mp4"
    video.write_bytes(b"not really")
    ok = ["--checkpoints", str(runs)]
    assert "no such source video" in _cli_error(capsys, "--source", str(tmp_path / "x.mp4"), "--target",
                                                 str(photo), "--out", str(tmp_path / "o.mp4"), *ok)
    assert "does not exist" in _cli_error(capsys, "--source", str(video), "--target", str(photo), "--out",
                                          str(tmp_path / "nope" / "o.mp4"), *ok)
    assert "no such checkpoints folder" in _cli_error(capsys, "--source", str(video), "--target", str(photo),
                                                      "--out", str(tmp_path / "o.mp4"), "--checkpoints",
                                                      str(tmp_path / "none"))
    assert "--no-flow" in _cli_error(capsys, "--source", str(video), "--target", str(photo), "--out",
                                     str(tmp_path / "o.mp4"), "--no-flow", *ok)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.jpg", "v.mp4"]


@pytest.mark.slow
def test_a_photo_without_a_person_fails_cleanly(runs, tmp_path, capsys):
    if not (REAL / "dance.mp4").is_file():
        pytest.skip("../shared/real is absent")
    empty = tmp_path / "wall.png"
    import cv2

    cv2.imwrite(str(empty), np.full((200, 150, 3), 180, np.uint8))
    out = tmp_path / "out.mp4"
    out.write_bytes(b"keep me")
    err = _cli_error(capsys, "--source", str(REAL / "dance.mp4"), "--target", str(empty), "--out", str(out),
                     "--checkpoints", str(runs))
    assert "person" in err
    assert out.read_bytes() == b"keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4", "wall.png"]


@pytest.mark.slow
def test_a_video_without_a_person_fails_cleanly(runs, tmp_path, capsys):
    if not (REAL / "person.jpg").is_file():
        pytest.skip("../shared/real is absent")
    shapes = tmp_path / "shapes.mp4"
    with VideoWriter(shapes, fps=10) as writer:
        for t in range(12):
            frame = np.full((120, 160, 3), 90, np.uint8)
            frame[40:80, 10 + 8 * t:40 + 8 * t] = (250, 200, 0)  # a sliding box, nobody dancing
            writer.write(frame)
    out = tmp_path / "out.mp4"
    err = _cli_error(capsys, "--source", str(shapes), "--target", str(REAL / "person.jpg"), "--out", str(out),
                     "--checkpoints", str(runs))
    assert "person" in err and not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shapes.mp4"]


@pytest.mark.slow
def test_real_video_onto_real_photo(runs, tmp_path, capsys):
    if not (REAL / "dance.mp4").is_file():
        pytest.skip("../shared/real is absent")
    source = tmp_path / "short.mp4"
    from cpfnet.io.video import iter_frames

    with VideoWriter(source, fps=16) as writer:
        for frame in iter_frames(REAL / "dance.mp4", count=12):
            writer.write(frame)
    out = tmp_path / "result.mp4"
    assert main(["transfer", "--source", str(source), "--target", str(REAL / "person.jpg"), "--out", str(out),
                 "--checkpoints", str(runs)]) == 0
    info = probe(out)
    assert info.num_frames == 12 and info.fps == pytest.approx(16)
    assert (info.width, info.height) == (750, 1102)  # the photo's 750 x 1101, made even for H.264
    side = tmp_path / "side.mp4"
    assert main(["transfer", "--source", str(source), "--target", str(REAL / "person.jpg"), "--out", str(side),
                 "--checkpoints", str(runs), "--side-by-side"]) == 0
    assert probe(side).width > 2 * 750


@pytest.mark.slow
def test_demo_writes_videos_previews_and_scores(runs, tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--checkpoints", str(runs), "--frames", "10", "--real",
                 str(tmp_path / "no-samples"), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "SSIM" in printed and "pasting the photo unchanged" in printed and "skipped the real transfer" in printed
    assert sorted(p.name for p in out.iterdir()) == ["synthetic_preview.png", "synthetic_side_by_side.mp4",
                                                     "synthetic_transfer.mp4"]
    assert probe(out / "synthetic_transfer.mp4").num_frames == 10


def test_shipped_weights_load():
    pipeline = TransferPipeline.from_checkpoints(None)
    assert pipeline.stages.runs.name == "default" and pipeline.use_flow and pipeline.stages.fusion is not None
