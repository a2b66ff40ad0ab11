"""The real self-reconstruction benchmark: its windows and crops, its scores, and `cpfnet evaluate real` on a
real video (skipped where ../shared/real is absent)."""

import json
from pathlib import Path

import numpy as np
import pytest

from cpfnet.cli import main
from cpfnet.evaluation.real import fvd_windows, person_scores, square_around

REAL = Path(__file__).resolve().parents[2] / "shared" / "real"


def test_fvd_windows_start_every_stride_and_cover_short_clips_whole():
    assert fvd_windows(60, 30, 10) == [(0, 30), (10, 40), (20, 50), (30, 60)]
    assert fvd_windows(50, 30, 10) == [(0, 30), (10, 40), (20, 50)]
    assert fvd_windows(20, 30, 10) == [(0, 20)]


def test_square_around_is_centred_on_the_union_of_the_boxes():
    square = square_around(np.array([[10, 20, 30, 100], [20, 10, 50, 90]]))
    assert square == (-15.0, 10.0, 75.0, 100.0)  # union (10, 10, 50, 100): side 90 about (30, 55)


def test_person_scores_are_perfect_on_the_truth_and_only_look_inside_the_box():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 256, (3, 40, 50, 3), dtype=np.uint8)
    boxes = np.array([[5, 5, 30, 35]] * 3)
    fake = truth.copy()
    fake[:, :, 40:] = 0  # outside every box
    s, p = person_scores(fake, truth, boxes)
    assert np.allclose(s, 1) and (p >= 100).all()
    fake[:, 10:20, 10:20] = 255 - fake[:, 10:20, 10:20]
    s, p = person_scores(fake, truth, boxes)
    assert (s < 0.95).all() and (p < 20).all()


@pytest.mark.slow
@pytest.mark.skipif(not (REAL / "dance.mp4").is_file(), reason="../shared/real/dance.mp4 not present")
def test_evaluate_real_on_a_real_video(tmp_path, capsys):
    out = tmp_path / "report.md"
    code = main(["evaluate", "real", str(REAL / "dance.mp4"), "--out", str(out), "--json", str(tmp_path / "r.json"),
                 "--frames", "14", "--every", "3", "--max-side", "320", "--window", "10", "--window-stride", "4",
                 "--no-progress", "--threads", "1"])
    assert code == 0
    rows = json.loads((tmp_path / "r.json").read_text())["rows"]
    assert "Photo pasted (floor)" in rows and "Geometric warp (no networks)" in rows
    assert any("pixel path" in name for name in rows)
    for row in rows.values():
        assert row["frames"] == 13 and np.isfinite(row["fvd"]) and 0 < row["ssim_person"] <= 1
    # On a dancer moving for 3 seconds, moving the photo's person beats leaving it where it stood.
    assert rows["Geometric warp (no networks)"]["psnr_person"] > rows["Photo pasted (floor)"]["psnr_person"]
    assert (tmp_path / "report.png").is_file() and "| Photo pasted (floor) |" in out.read_text()
