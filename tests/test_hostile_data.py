"""The hostile-input catalogue, part B (README "Errors and outputs"): damaged images, videos and weight
files, and config values out of range. Each case runs the real command and asserts one line of error, a
non-zero exit, that the user's files are byte-identical afterwards and that no output was left behind."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from cpfnet.cli import main
from cpfnet.errors import UserError
from cpfnet.io.images import check_complete, read_image
from cpfnet.io.video import VideoWriter
from cpfnet.io.weight_files import load_weight_file
from cpfnet.transfer.models import DEFAULT_RUNS
from hostile_inprocess import run_in_process
from hostile_support import Snapshot, assert_one_line_error, hidden_leftovers, run_cli

REAL = Path(__file__).resolve().parents[2] / "shared" / "real"
PERSON = REAL / "person.jpg"


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A 6-frame 64 x 96 mp4 of moving noise: enough for transfer to get past the source."""
    path = tmp_path_factory.mktemp("source") / "dance.mp4"
    rng = np.random.default_rng(0)
    with VideoWriter(path, fps=12) as writer:
        for _ in range(6):
            writer.write((rng.random((96, 64, 3)) * 255).astype(np.uint8))
    return path


def _photo(kind: str) -> bytes:
    """A whole photo: the real sample (JPEG) or a smooth synthetic picture (PNG)."""
    if kind == "jpeg":
        if not PERSON.is_file():
            pytest.skip("../shared/real is absent")
        return PERSON.read_bytes()
    y, x = np.mgrid[0:240, 0:160]
    image = np.stack([x * 255 // 160, y * 255 // 240, (x + y) % 256], axis=-1).astype(np.uint8)
    return cv2.imencode(".png", image)[1].tobytes()


# ---- 1. images: a truncated photo is refused, by every command that reads one -------------------------------

@pytest.mark.parametrize("kind, cut", [("jpeg", 37874), ("png", 0.6)])
def test_truncated_target_photo_is_refused_by_transfer(tmp_path, source, capsys, kind, cut):
    data = _photo(kind)
    target = tmp_path / f"person.{'jpg' if kind == 'jpeg' else 'png'}"
    target.write_bytes(data[:cut if isinstance(cut, int) else int(len(data) * cut)])
    before = Snapshot(tmp_path, source)
    args = ("transfer", "--source", source, "--target", target, "--out", tmp_path / "out.mp4")
    result = run_cli(*args) if kind == "jpeg" else run_in_process(capsys, *args)  # one in its own process
    assert_one_line_error(result, str(target), "truncated")
    assert Snapshot(tmp_path, source) == before and not hidden_leftovers(tmp_path)


def test_truncated_photo_is_refused_by_prepare(tmp_path, capsys):
    data = _photo("jpeg")
    photo = tmp_path / "person.jpg"
    photo.write_bytes(data[:37874])
    before = Snapshot(tmp_path)
    result = run_in_process(capsys, "prepare", photo, "--out", tmp_path / "dataset", "--size", "64",
                            "--no-progress")
    assert_one_line_error(result, str(photo), "truncated")
    assert Snapshot(tmp_path) == before and not (tmp_path / "dataset").exists()


def _jpeg(image: np.ndarray, **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", **options)
    return buffer.getvalue()


def test_the_reader_knows_whole_files_from_cut_ones(tmp_path):
    """Baseline, progressive, with an EXIF block, with restart markers and with bytes after the end: whole
    files pass, every cut is refused (OpenCV alone decodes the cut JPEGs), and BMP/WebP go through Pillow."""
    image = (np.random.default_rng(1).random((48, 40, 3)) * 255).astype(np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 1
    files = {"plain.jpg": _jpeg(image), "progressive.jpg": _jpeg(image, progressive=True),
             "exif.jpg": _jpeg(image, exif=exif), "trailing.jpg": _jpeg(image) + b"\0trailer",
             "restarts.jpg": cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_RST_INTERVAL, 2])[1].tobytes(),
             "image.png": cv2.imencode(".png", image)[1].tobytes(),
             "image.bmp": cv2.imencode(".bmp", image)[1].tobytes(),
             "image.webp": cv2.imencode(".webp", image, [cv2.IMWRITE_WEBP_QUALITY, 101])[1].tobytes()}
    for name, data in files.items():
        whole = tmp_path / name
        whole.write_bytes(data)
        check_complete(whole)
        assert read_image(whole).shape == (48, 40, 3)
        cut = tmp_path / f"cut_{name}"
        cut.write_bytes(data[:int(len(data) * 0.6)])
        if name.endswith(".jpg"):  # why we check: OpenCV alone hands back a picture with its end grey
            assert cv2.imread(str(cut)) is not None, name
        with pytest.raises(UserError, match="truncated|not a readable image") as info:
            read_image(cut)
        assert str(cut) in str(info.value)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(UserError, match="empty file"):
        read_image(empty)


def test_a_truncated_dataset_frame_stops_training_with_its_name(tmp_path, synth_dataset, capsys):
    data = tmp_path / "data"
    shutil.copytree(synth_dataset, data)
    video = sorted(data.glob("*/meta.json"))[0].parent
    appearance = json.loads((video / "meta.json").read_text())["appearance_index"]
    frame = video / "frames" / f"{appearance:06d}.png"  # read with every sample of the video
    frame.write_bytes(frame.read_bytes()[:int(frame.stat().st_size * 0.6)])
    result = run_in_process(capsys, "train", "parsing", "--config", "tiny", "--data", data, "--runs",
                            tmp_path / "runs", "--steps", "3", "--no-progress")
    assert_one_line_error(result, str(frame), "truncated")


@pytest.mark.parametrize("pattern", ["video_0000/poses.npy", "*/flow/*.npy"])
def test_a_truncated_dataset_array_stops_training_with_its_name(tmp_path, synth_dataset, capsys, pattern):
    data = tmp_path / "data"
    shutil.copytree(synth_dataset, data)
    damaged = sorted(data.glob(pattern))  # every flow file: whichever the first batch reads is cut
    for path in damaged:
        path.write_bytes(path.read_bytes()[:int(path.stat().st_size * 0.6)])
    result = run_in_process(capsys, "train", "flow", "--config", "tiny", "--data", data, "--runs",
                            tmp_path / "runs", "--steps", "1", "--no-progress")
    line = assert_one_line_error(result, "truncated", "make the dataset folder again")
    assert any(str(path) in line for path in damaged), line


def test_a_truncated_or_foreign_flow_file_of_the_lwg_baseline_is_refused(tmp_path):
    from cpfnet.baselines.lwg.pipeline import load_flows

    good = tmp_path / "flows.npz"
    np.savez(good, flow=np.zeros((2, 2, 8, 8), np.float32), visibility=np.zeros((2, 8, 8), np.uint8))
    assert len(load_flows(good, size=8)) == 2
    cut, plain = tmp_path / "cut.npz", tmp_path / "plain.npz"
    cut.write_bytes(good.read_bytes()[:good.stat().st_size // 2])
    with plain.open("wb") as handle:
        np.save(handle, np.zeros(3))
    for bad in (cut, plain):
        with pytest.raises(UserError, match="truncated or not an .npz of flows") as info:
            load_flows(bad)
        assert str(bad) in str(info.value)


# ---- videos: truncated, empty or random bytes (these passed before; kept as catalogue cases) ----------------

def _damaged_video(path: Path, source: Path, damage: str) -> Path:
    data = source.read_bytes()
    path.write_bytes({"truncated": data[:len(data) // 3], "zero-byte": b"",
                      "random-bytes": np.random.default_rng(2).bytes(20000)}[damage])
    return path


@pytest.mark.parametrize("damage", ["truncated", "zero-byte", "random-bytes"])
def test_damaged_video_is_refused_by_prepare(tmp_path, source, capsys, damage):
    bad = _damaged_video(tmp_path / "dance.mp4", source, damage)
    before = Snapshot(tmp_path)
    result = run_in_process(capsys, "prepare", bad, "--out", tmp_path / "dataset", "--size", "64",
                            "--no-progress")
    assert_one_line_error(result, str(bad))
    assert Snapshot(tmp_path) == before and not (tmp_path / "dataset").exists()


@pytest.mark.slow
def test_damaged_source_video_is_refused_by_transfer(tmp_path, source):
    """In its own process: MediaPipe's start-up notices, printed from its threads, once glued themselves to
    the start of this error line ("INFO: cpfnet transfer: error: ...", about 1 run in 12)."""
    bad = _damaged_video(tmp_path / "dance.mp4", source, "truncated")
    target = tmp_path / "person.jpg"
    target.write_bytes(_photo("jpeg"))  # a person, so MediaPipe starts before the source fails
    before = Snapshot(tmp_path)
    result = run_cli("transfer", "--source", bad, "--target", target, "--out", tmp_path / "out.mp4")
    assert_one_line_error(result, str(bad), "not a readable video")
    assert result.stderr.startswith("cpfnet transfer: error: "), result.stderr
    assert Snapshot(tmp_path) == before and not hidden_leftovers(tmp_path)


# ---- 3. weight files: damaged checkpoints, training states, `latest`, I3D and HED files ---------------------

def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[:len(data) // 2])
    elif how == "random":
        path.write_bytes(np.random.default_rng(3).bytes(len(data)))
    elif how == "zero-byte":
        path.write_bytes(b"")
    elif how == "wrong-tensors":
        from safetensors.torch import save_file
        import torch
        save_file({"weight": torch.zeros(3)}, str(path))


@pytest.fixture()
def damaged_runs(tmp_path):
    """A copy of the shipped weights, to damage: (RUNS, its parsing generator file)."""
    runs = tmp_path / "runs"
    shutil.copytree(DEFAULT_RUNS, runs)
    return runs, sorted(runs.glob("parsing/step_*/generator.safetensors"))[0]


@pytest.mark.parametrize("how", ["truncated", "random", "zero-byte", "wrong-tensors"])
def test_damaged_checkpoint_is_refused_by_transfer(tmp_path, source, damaged_runs, capsys, how):
    runs, weights = damaged_runs
    _damage(weights, how)
    target = tmp_path / "person.png"
    target.write_bytes(_photo("png"))
    before = Snapshot(tmp_path, source)
    result = run_in_process(capsys, "transfer", "--source", source, "--target", target, "--out",
                            tmp_path / "out.mp4", "--checkpoints", runs)
    assert_one_line_error(result, str(weights), f"delete {weights.parent}", "train the parsing stage again")
    assert Snapshot(tmp_path, source) == before and not (tmp_path / "out.mp4").exists()


@pytest.fixture(scope="module")
def pairs_dataset(tmp_path_factory) -> Path:
    """Two synthetic videos of one dance on two people (what `evaluate table` needs), 9 frames of 64 px."""
    out = tmp_path_factory.mktemp("pairs") / "data"
    assert main(["synth", "--out", str(out), "--videos", "2", "--identities-per-motion", "2", "--frames", "9",
                 "--size", "64", "--supersample", "1", "--workers", "1", "--no-progress"]) == 0
    return out


def test_damaged_checkpoint_is_refused_by_demo_and_evaluate_table(tmp_path, damaged_runs, pairs_dataset, capsys):
    runs, weights = damaged_runs
    _damage(weights, "truncated")
    result = run_in_process(capsys, "demo", "--out", tmp_path / "demo", "--checkpoints", runs, "--no-progress")
    assert_one_line_error(result, str(weights), "damaged")
    assert not (tmp_path / "demo").exists()
    result = run_in_process(capsys, "evaluate", "table", "--data", pairs_dataset, "--runs", runs, "--out",
                            tmp_path / "table.md", "--frames", "9", "--no-progress")
    assert_one_line_error(result, str(weights), "damaged")
    assert not list(tmp_path.glob("table*"))


@pytest.fixture(scope="module")
def trained_runs(tmp_path_factory, synth_dataset):
    """RUNS with one checkpoint of the tiny parsing stage (step 1)."""
    runs = tmp_path_factory.mktemp("trained") / "runs"
    assert main(["train", "parsing", "--config", "tiny", "--data", str(synth_dataset), "--runs", str(runs),
                 "--steps", "1", "--no-progress"]) == 0
    return runs


@pytest.mark.parametrize("damaged, how, words", [
    ("step_000001/generator.safetensors", "truncated", ["damaged", "delete", "--resume"]),
    ("step_000001/training_state.pt", "truncated", ["damaged", "delete", "--resume"]),
    ("step_000001/training_state.pt", "not-a-state", ["not a cpfnet training state"]),
    ("latest", "random", ["damaged", "delete it"]),
])
def test_resume_from_a_damaged_checkpoint_is_refused(tmp_path, trained_runs, synth_dataset, capsys, damaged, how,
                                                     words):
    runs = tmp_path / "runs"
    shutil.copytree(trained_runs, runs)
    path = runs / "parsing" / damaged
    if how == "not-a-state":
        import torch
        torch.save({"step": 1}, path)
    else:
        _damage(path, how)
    before = Snapshot(runs)
    result = run_in_process(capsys, "train", "parsing", "--config", "tiny", "--data", synth_dataset, "--runs", runs,
                            "--steps", "2", "--resume", "--no-progress")
    assert_one_line_error(result, str(path), *words)
    assert Snapshot(runs) == before  # nothing of the user's run was touched


@pytest.mark.parametrize("suffix", [".ckpt", ".h5", ".pth", ".safetensors"])
@pytest.mark.parametrize("how", ["truncated", "random", "zero-byte"])
def test_the_weight_loader_names_every_damaged_file(tmp_path, suffix, how):
    """I3D pickles, HED Keras files, torchvision state dicts and safetensors through the one loader."""
    import pickle

    import h5py
    import torch
    from safetensors.torch import save_file

    path = tmp_path / f"weights{suffix}"
    tensors = {"a": torch.arange(4000, dtype=torch.float32)}
    if suffix == ".ckpt":
        path.write_bytes(pickle.dumps({"params": {"a": tensors["a"].numpy()}}))
    elif suffix == ".h5":
        with h5py.File(path, "w") as f:
            f["block1/a"] = tensors["a"].numpy()
    elif suffix == ".pth":
        torch.save(tensors, path)
    else:
        save_file(tensors, str(path))
    whole = load_weight_file(path, "unused")
    assert np.asarray(whole["params/a" if suffix == ".ckpt" else "block1/a" if suffix == ".h5" else "a"]).sum() > 0
    _damage(path, how)
    with pytest.raises(UserError, match="re-download it") as info:
        load_weight_file(path, "re-download it")
    assert str(path) in str(info.value) and "\n" not in str(info.value)


# ---- 4. configs: values out of range, an empty file, sizes the networks or the memory cannot take ----------

@pytest.mark.parametrize("text, words", [
    ("parsing:\n  optimizer: {lr: -1.0}\n", ["parsing.optimizer.lr must be positive"]),
    ("parsing:\n  optimizer: {lr: .inf}\n", ["parsing.optimizer.lr must be a finite number"]),
    ("parsing:\n  optimizer: {betas: [0.5, 1.0]}\n", ["betas[1] must be in [0, 1)"]),
    ("parsing:\n  network: {ngf: 0}\n", ["parsing.network.ngf must be at least 1"]),
    ("parsing:\n  loss: {l1_weight: -2.0}\n", ["parsing.loss.l1_weight must not be negative"]),
    ("parsing:\n  network: {pose_channels: 34}\n", ["pose_channels must be 35, got 34", "data fixes it"]),
    ("parsing:\n  network: {ngff: 8}\n", ["unknown key config.parsing.network.ngff"]),
    ("parsing:\n  network: {ngf: eight}\n", ["expected an integer"]),
    ("data: {size: 66}\n", ["data.size 66 must be a multiple of 4", "use 64 or 68"]),
    ("data: {size: 100000}\n", ["needs at least", "GiB of memory", "available"]),
    ("", ["the config file is empty"]),
    ("# only a comment\n", ["the config file is empty"]),
])
def test_bad_config_values_are_refused_before_runs_is_touched(tmp_path, synth_dataset, capsys, text, words):
    config = tmp_path / "mine.yaml"
    config.write_text(text)
    result = run_in_process(capsys, "train", "parsing", "--config", config, "--data", synth_dataset, "--runs",
                            tmp_path / "runs", "--no-progress")
    assert_one_line_error(result, "mine.yaml", *words)
    assert not (tmp_path / "runs").exists()


def test_command_line_overrides_are_checked_too(tmp_path, synth_dataset, capsys):
    result = run_in_process(capsys, "train", "parsing", "--config", "tiny", "--data", synth_dataset, "--runs",
                            tmp_path / "runs", "--seed", "-1")
    assert_one_line_error(result, "train.seed must not be negative")
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("command", [
    ["transfer", "--source", "{source}", "--target", "{photo}", "--out", "{tmp}/out.mp4", "--size", "100000"],
    ["synth", "--out", "{tmp}/synth", "--size", "100000"],
    ["synth", "--out", "{tmp}/synth", "--frames", "100000000000"],
    ["prepare", "{photo}", "--out", "{tmp}/dataset", "--size", "1000000"],
    ["demo", "--out", "{tmp}/demo", "--frames", "100000000"],
    ["prepare", "{source}", "--out", "{tmp}/dataset", "--background", "median", "--median-frames", "10000000000"],
])
def test_absurd_sizes_are_refused_at_once_with_the_estimate(tmp_path, source, capsys, command):
    photo = tmp_path / "person.png"
    photo.write_bytes(_photo("png"))
    before = Snapshot(tmp_path)
    args = [a.format(source=source, photo=photo, tmp=tmp_path) for a in command]
    result = run_in_process(capsys, *args)
    assert_one_line_error(result, "needs at least", "of memory", "available")
    assert Snapshot(tmp_path) == before and not hidden_leftovers(tmp_path)
