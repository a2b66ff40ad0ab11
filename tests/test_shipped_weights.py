"""A regression test of the shipped weights (cpfnet/weights/default, the `fast` stages), on the demo's own
kind of case, small: seed 2026 (the demo's), 2 synthetic identities dancing one motion, 24 frames at 128 px.
Identity A's dance, retargeted, drives identity B's appearance frame; B was rendered doing the dance, so the
result is scored against the truth (SSIM, PSNR over the frames other than the photo's own), as `cpfnet demo`
scores the README's numbers.

Two guards. The score floors are what the shipped weights scored when they were shipped, minus a margin
that a refactor which keeps behaviour never uses (float rounding moves these numbers by less than 1e-4); they
say the weights still work, and still beat pasting the photo. The stored frame means (a few output numbers,
the `expected_slice` habit) say the output itself is unchanged: a subtle change that costs less than the
margin (visible and hidden swapped inside the warp block moves SSIM by 0.001) still moves them by 0.1 or more,
while uint8 rounding on another CPU moves them by less than 0.01.

New weights or a deliberate change of the inference path: print `_transfer(tmp_path)` for this case, paste the
new SCORES and FRAME_MEANS, and say so in the commit.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cpfnet.dataset.layout import VideoFolder, find_videos
from cpfnet.evaluation.image_metrics import psnr, ssim
from cpfnet.synth.generate import SynthConfig, generate
from cpfnet.transfer.pipeline import TransferPipeline
from cpfnet.transfer.retarget import retarget_poses
from cpfnet.transfer.target import Target

SEED, FRAMES, SIZE = 2026, 24, 128
# The shipped weights (the `fast` stages at 128 px without a fusion stage, with the pixel path showing only
# the photo's pixels, the default: a synthetic folder's appearance frame is its full-size photo) on this
# case; the pasted photo scores 0.8016, 17.883. (With the hidden parts generated, `generate_hidden`, these
# synthetic dancers score 0.9179, 25.254: the generator was trained on them; on real footage it loses.)
SCORES = {"ssim": 0.9071, "psnr": 23.646, "ssim_generated": 0.9179, "psnr_generated": 25.254}
MARGIN = {"ssim": 0.02, "psnr": 0.5, "ssim_generated": 0.02, "psnr_generated": 0.5}
FRAME_MEANS = {0: 141.8865, 6: 142.869, 12: 147.3451, 18: 147.6438}  # mean of the output frame, 0-255
# (crop boxes on whole pixels since issue 11: SSIM 0.9071 -> 0.9063, PSNR 23.646 -> 23.582 here)


def _batch(images: list[np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2)


def _transfer(root) -> tuple[list[np.ndarray], dict[str, dict[str, float]]]:
    """(the output frames [H, W, 3] uint8, {"ours"|"pasted": {"ssim", "psnr", and "ours" also "ssim_generated",
    "psnr_generated": with `generate_hidden`, so the generator's weights stay guarded too}})."""
    generate(SynthConfig(out=str(root / "synth"), videos=2, frames=FRAMES, size=SIZE, seed=SEED,
                         identities_per_motion=2, workers=1), show_progress=False)
    source, truth = (VideoFolder(p) for p in find_videos(root / "synth"))
    target = Target.from_folder(truth.root)
    anchor = truth.appearance_index
    poses = retarget_poses(source.poses, target.pose_in_photo, anchor_frame=anchor)
    pipeline = TransferPipeline.from_checkpoints(None, "cpu")  # None: the shipped weights
    made = list(pipeline.frames(poses, target, anchor_frame=anchor))
    pipeline.generate_hidden = True
    generated = list(pipeline.frames(poses, target, anchor_frame=anchor))
    real = [truth.frame(t) for t in range(len(truth))]
    scored = [t for t in range(len(real)) if t != anchor]  # the photo's own frame would favour the floor
    truth_batch = _batch([real[t] for t in scored])
    out = {}
    for name, frames in (("ours", [made[t] for t in scored]), ("pasted", [real[anchor]] * len(scored))):
        batch = _batch(frames)
        out[name] = {"ssim": ssim(batch, truth_batch).mean().item(), "psnr": psnr(batch, truth_batch).mean().item()}
    batch = _batch([generated[t] for t in scored])
    out["ours"].update(ssim_generated=ssim(batch, truth_batch).mean().item(),
                       psnr_generated=psnr(batch, truth_batch).mean().item())
    return made, out


@pytest.fixture(scope="module")
def transferred(tmp_path_factory):
    return _transfer(tmp_path_factory.mktemp("shipped"))


@pytest.fixture
def scores(transferred):
    return transferred[1]


@pytest.mark.parametrize("metric", list(SCORES))
def test_shipped_weights_keep_their_score(scores, metric):
    assert scores["ours"][metric] >= SCORES[metric] - MARGIN[metric], scores


def test_shipped_weights_beat_pasting_the_photo(scores):
    ours, pasted = scores["ours"], scores["pasted"]
    assert ours["ssim"] > pasted["ssim"] + 0.05 and ours["psnr"] > pasted["psnr"] + 1.5, scores


def test_shipped_weights_output_is_unchanged(transferred):
    made = transferred[0]
    got = {t: float(made[t].astype(np.float64).mean()) for t in FRAME_MEANS}
    for t, expected in FRAME_MEANS.items():
        assert got[t] == pytest.approx(expected, abs=0.02), got
