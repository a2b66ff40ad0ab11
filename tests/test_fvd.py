"""FVD: the Frechet distance against closed forms, the reference's preprocessing, FVD rising with noise on
real clips, and the `cpfnet evaluate fvd` command."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import scipy.linalg
import torch

from cpfnet.cli import main
from cpfnet.evaluation.frechet import (frechet_distance, frechet_distance_from_features, gaussian_statistics,
                                       symmetric_sqrt, trace_sqrt_product)
from cpfnet.evaluation.fvd import FVDEmbedder, fvd_from_features, preprocess_clip, resize_bilinear_tf
from cpfnet.io.video import VideoWriter, iter_frames

REAL = Path(__file__).resolve().parents[2] / "shared" / "real"


def test_frechet_distance_of_two_gaussians_in_closed_form():
    # For 2x2 covariances, tr sqrt(S1 S2) = sqrt(tr(S1 S2) + 2 sqrt(det S1 det S2)); S1, S2 do not commute.
    mu1, mu2 = np.array([0.3, -1.2]), np.array([1.0, 0.5])
    s1 = np.array([[2.0, 0.5], [0.5, 1.0]])
    s2 = np.array([[1.0, -0.3], [-0.3, 3.0]])
    trace_root = np.sqrt(np.trace(s1 @ s2) + 2 * np.sqrt(np.linalg.det(s1) * np.linalg.det(s2)))
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * trace_root
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-6)
    # One dimension: (m1 - m2)^2 + (sd1 - sd2)^2.
    assert frechet_distance([1.0], [[4.0]], [-2.0], [[9.0]]) == pytest.approx(9.0 + 1.0, rel=1e-6)


def test_trace_sqrt_product_agrees_with_scipy_sqrtm():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 40, 40))
    s1, s2 = a @ a.T + 0.1 * np.eye(40), b @ b.T + 0.1 * np.eye(40)
    expected = np.trace(scipy.linalg.sqrtm(s1 @ s2)).real
    assert trace_sqrt_product(s1, s2) == pytest.approx(expected, rel=1e-6)
    root = symmetric_sqrt(s1)
    assert np.allclose(root @ root, s1)


def test_statistics_are_the_unbiased_mean_and_covariance():
    features = np.random.default_rng(1).normal(size=(30, 5))
    mean, cov = gaussian_statistics(features)
    assert np.allclose(mean, features.mean(axis=0)) and np.allclose(cov, np.cov(features, rowvar=False))


def test_a_set_against_itself_is_zero_even_with_fewer_samples_than_dimensions():
    features = np.random.default_rng(2).normal(scale=10.0, size=(12, 400))  # singular 400x400 covariance
    shifted = features + 1.0  # same covariance, mean moved by 1 in each of 400 dimensions
    assert frechet_distance_from_features(features, features) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance_from_features(features, shifted) == pytest.approx(400.0, rel=1e-6)
    # The same through the covariances (the path for more videos than dimensions).
    stats, stats_shifted = gaussian_statistics(features), gaussian_statistics(shifted)
    assert frechet_distance(*stats, *stats) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(*stats, *stats_shifted) == pytest.approx(400.0, rel=1e-6)


def test_feature_and_covariance_paths_agree():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(20, 30)), rng.normal(loc=0.5, scale=2.0, size=(25, 30)) @ rng.normal(size=(30, 30))
    # 20 and 25 videos in 30 dimensions: the exact cross-matrix path, checked against the covariances.
    via_covariances = frechet_distance(*gaussian_statistics(a), *gaussian_statistics(b))
    assert frechet_distance_from_features(a, b) == pytest.approx(via_covariances, rel=1e-9)
    # More videos than dimensions: the covariance path, checked against scipy's general square root.
    (mu1, s1), (mu2, s2) = gaussian_statistics(a[:, :10]), gaussian_statistics(b[:, :10])
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2) - 2 * np.trace(scipy.linalg.sqrtm(s1 @ s2)).real
    assert frechet_distance_from_features(a[:, :10], b[:, :10]) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("call, message", [
    (lambda: gaussian_statistics(np.zeros((1, 4))), "at least 2"),
    (lambda: gaussian_statistics(np.zeros(4)), r"\[N, D\]"),
    (lambda: gaussian_statistics(np.full((3, 2), np.nan)), "NaN"),
    (lambda: frechet_distance(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2)), "square"),
    (lambda: frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3)), "one length"),
    (lambda: frechet_distance_from_features(np.zeros((3, 2)), np.zeros((3, 4))), "differ"),
])
def test_bad_statistics_raise(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_resize_is_tensorflow1_bilinear():
    rows = torch.tensor([0.0, 10.0, 20.0, 30.0]).view(1, 1, 4, 1)
    # Legacy TF1 mapping src = dst * in / out: downsizing 4 -> 2 reads rows 0 and 2, no averaging.
    assert resize_bilinear_tf(rows, 2, 1).flatten().tolist() == [0.0, 20.0]
    # Upsizing 2 -> 4 reads 0, 0.5, 1, 1.5 (the last clamps to the last row).
    two = torch.tensor([0.0, 10.0]).view(1, 1, 2, 1)
    assert resize_bilinear_tf(two, 4, 1).flatten().tolist() == [0.0, 5.0, 10.0, 10.0]
    image = torch.rand(2, 3, 7, 9)
    assert torch.equal(resize_bilinear_tf(image, 7, 9), image)


def test_preprocess_gives_the_i3d_input():
    clip = np.zeros((10, 48, 64, 3), np.uint8)
    clip[:, :, 32:] = 255
    x = preprocess_clip(clip)
    assert x.shape == (3, 10, 224, 224) and x.dtype == torch.float32
    assert x.min().item() == pytest.approx(-1.0, abs=1e-5) and x.max().item() == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(ValueError, match="uint8"):
        preprocess_clip(clip.astype(np.float32))


def _small(frame: np.ndarray) -> np.ndarray:
    return cv2.resize(frame, (224, 224), interpolation=cv2.INTER_AREA)


def _real_clips(count: int, frames: int) -> list[np.ndarray]:
    """Pieces of the real dance sample at 224x224, or moving shapes when the sample is absent."""
    path = REAL / "dance.mp4"
    if path.is_file():
        return [np.stack([_small(f) for f in iter_frames(path, start=40 * i, count=frames)]) for i in range(count)]
    clips = []
    for i in range(count):
        clip = []
        for t in range(frames):
            image = np.full((224, 224, 3), (30 + 40 * i, 90, 140), np.uint8)
            cv2.rectangle(image, (20 + 5 * t, 60), (80 + 5 * t, 180), (220, 180, 120), -1)
            cv2.circle(image, (150, 40 + 6 * t + 10 * i), 20, (40, 200, 60), -1)
            clip.append(image)
        clips.append(np.stack(clip))
    return clips


@pytest.mark.slow
def test_fvd_grows_with_noise():
    real = _real_clips(3, 10)
    rng = np.random.default_rng(0)
    embedder = FVDEmbedder(batch_size=3)
    real_features = embedder.embed(real, progress=False)
    assert real_features.shape == (3, 400)
    assert fvd_from_features(real_features, real_features) == pytest.approx(0.0, abs=1e-6)
    values = []
    for sigma in (5, 15, 30, 60):
        fake = [np.clip(c + rng.normal(0, sigma, c.shape), 0, 255).astype(np.uint8) for c in real]
        values.append(fvd_from_features(real_features, embedder.embed(fake, progress=False)))
    assert values[0] > 0 and all(a < b for a, b in zip(values, values[1:])), values


def _write_video(path: Path, frames: int, shift: int = 0, size=(48, 64)) -> None:
    with VideoWriter(path, fps=10) as writer:
        for t in range(frames):
            image = np.full((*size, 3), 60, np.uint8)
            cv2.circle(image, (10 + 3 * t + shift, size[0] // 2), 8, (230, 120, 40), -1)
            writer.write(image)


def _write_video_folder(root: Path, frames: int, shift: int = 0) -> None:
    from cpfnet.dataset.layout import VideoFolderWriter, VideoMeta

    size = 32
    with VideoFolderWriter(root) as writer:
        for t in range(frames):
            image = np.full((size, size, 3), 60, np.uint8)
            cv2.circle(image, (4 + 2 * t + shift, 16), 5, (230, 120, 40), -1)
            writer.add_frame(image, np.zeros((size, size), np.uint8))
        meta = VideoMeta(fps=10, size=size, num_frames=frames, appearance_index=0,
                         crop_boxes=[[0, 0, size, size]] * frames, original_size=[size, size], source="test")
        writer.finish(meta, np.zeros((frames, 18, 3), np.float32), np.zeros((size, size, 3), np.uint8))


def _cli(capsys, *args):
    code = main(["evaluate", "fvd", *map(str, args), "--no-progress"])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_errors_are_one_line(tmp_path, capsys):
    code, _, err = _cli(capsys, tmp_path / "missing", tmp_path)
    assert code == 2 and "REAL folder" in err and "does not exist" in err and err.count("\n") == 1
    real, fake = tmp_path / "real", tmp_path / "fake"
    for folder in (real, fake):
        folder.mkdir()
        _write_video(folder / "a.mp4", 12)
        _write_video(folder / "b.mp4", 12, shift=2)
    code, _, err = _cli(capsys, real, fake)  # 30 frames asked, 12 there
    assert code == 2 and "a.mp4 has 12 frames" in err and err.count("\n") == 1
    (fake / "b.mp4").unlink()
    code, _, err = _cli(capsys, real, fake, "--frames", "9")
    assert code == 2 and "FAKE folder" in err and "at least 2" in err
    code, _, err = _cli(capsys, real, real, "--frames", "5")
    assert code == 2 and "at least 9" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = _cli(capsys, real, empty)
    assert code == 2 and "has no videos" in err
    assert not list(tmp_path.glob("*.json"))


@pytest.mark.slow
def test_cli_prints_fvd_and_writes_the_report(tmp_path, capsys):
    real, fake = tmp_path / "real", tmp_path / "fake"
    real.mkdir()
    fake.mkdir()
    _write_video_folder(real / "v0", 10)
    _write_video_folder(real / "v1", 10, shift=3)
    _write_video(fake / "a.mp4", 10)
    _write_video(fake / "b.mp4", 10, shift=20)
    report_path = tmp_path / "out" / "report.json"
    code, out, _ = _cli(capsys, real, fake, "--frames", "9", "--json", report_path, "--batch-size", "2")
    assert code == 0 and out.startswith("FVD: ")
    report = json.loads(report_path.read_text())
    assert report["real"]["count"] == 2 and report["fake"]["count"] == 2 and report["frames"] == 9
    assert report["real"]["videos"] == ["v0", "v1"] and report["fake"]["videos"] == ["a.mp4", "b.mp4"]
    assert float(out.split()[1]) == pytest.approx(report["fvd"], abs=1e-3) and report["fvd"] > 0
    assert [p.name for p in report_path.parent.iterdir()] == ["report.json"]  # no temporary left behind
    code, out, _ = _cli(capsys, fake, fake, "--frames", "9")
    assert code == 0 and float(out.split()[1]) == pytest.approx(0.0, abs=1e-3)
