"""The pix2pixHD baseline (paper IV-A2): network shapes at paper scale, the frame-by-frame clip with previous
outputs, learning on a fixed batch, `cpfnet train baseline-pix2pixhd`, and its transfer pipeline."""

from dataclasses import asdict
from itertools import islice
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from cpfnet.baselines.pix2pixhd import Pix2PixHDDiscriminator, Pix2PixHDGenerator
from cpfnet.baselines.pix2pixhd.pipeline import Pix2PixHDPipeline
from cpfnet.baselines.pix2pixhd.task import Pix2PixHDTask, generate_clip
from cpfnet.cli import main
from cpfnet.dataset.readers import Clips
from cpfnet.configs.experiment import load_config
from cpfnet.stages.weights import load_stage
from cpfnet.training.distributed import Context
from cpfnet.training.trainer import seed_everything
from cpfnet.transfer.target import Target

STAGE = "baseline-pix2pixhd"


@pytest.fixture(scope="module")
def baseline_runs(synth_dataset, tmp_path_factory):
    runs = tmp_path_factory.mktemp("baseline-runs")
    assert main(["train", STAGE, "--config", "tiny", "--data", str(synth_dataset), "--runs", str(runs),
                 "--steps", "2", "--no-progress"]) == 0
    return runs


def test_paper_scale_shapes_at_448():
    """pix2pixHD's global generator: 64 -> 1024 channels over 4 downsamplings, 9 blocks at 28x28 (meta tensors:
    shapes without arithmetic)."""
    section = load_config("paper").baseline
    with torch.device("meta"):
        g = Pix2PixHDGenerator(**asdict(section.generator))
        d = Pix2PixHDDiscriminator(**asdict(section.discriminator))
        pose, appearance = torch.empty(2, 35, 448, 448), torch.empty(2, 3, 448, 448)
        previous = torch.empty(2, 2, 3, 448, 448)
        seen = {}
        g.body.net[5].register_forward_hook(lambda m, i, o: seen.update(blocks=o.shape))
        frame = g(pose, appearance, previous)["frame"]
        logits = d(pose, appearance, frame)["logits"]
    assert g.body.net[0][0].in_channels == 35 + 3 + 2 * 3
    assert seen["blocks"] == (2, 1024, 28, 28)
    assert sum(isinstance(m, nn.Module) and type(m).__name__ == "ResidualBlock" for m in g.modules()) == 9
    assert frame.shape == (2, 3, 448, 448)
    assert [tuple(x.shape) for x in logits] == [(2, 1, 59, 59), (2, 1, 31, 31)]
    # pix2pixHD's global G: 182M parameters (its Cityscapes latest_net_G.pth is about 730 MB of float32)
    assert 181e6 < sum(p.numel() for p in g.parameters()) < 184e6


@pytest.mark.slow
def test_paper_scale_forward_at_448():
    section = load_config("paper").baseline
    torch.manual_seed(0)
    g = Pix2PixHDGenerator(**asdict(section.generator)).eval()
    with torch.inference_mode():
        frame = g(torch.rand(1, 35, 448, 448), torch.rand(1, 3, 448, 448) * 2 - 1,
                  torch.rand(1, 2, 3, 448, 448) * 2 - 1)["frame"]
    assert frame.shape == (1, 3, 448, 448) and torch.isfinite(frame).all() and frame.abs().max() <= 1


def test_generator_checks_its_inputs():
    g = Pix2PixHDGenerator(previous_frames=2, ngf=4, n_downsample=2, n_blocks=1)
    pose, appearance = torch.rand(2, 35, 16, 16), torch.rand(1, 3, 16, 16)
    assert g(pose, appearance, torch.rand(1, 2, 3, 16, 16))["frame"].shape == (2, 3, 16, 16)  # batch 1 broadcasts
    with pytest.raises(ValueError, match=r"previous must be \[B, 2, 3, 16, 16\]"):
        g(pose, appearance, torch.rand(2, 1, 3, 16, 16))
    with pytest.raises(ValueError, match="previous must be"):
        g(pose, appearance)
    with pytest.raises(ValueError, match="multiple of 4"):
        g(torch.rand(1, 35, 18, 18), torch.rand(1, 3, 18, 18), torch.rand(1, 2, 3, 18, 18))
    no_history = Pix2PixHDGenerator(previous_frames=0, ngf=4, n_downsample=2, n_blocks=1)
    assert no_history(pose, appearance)["frame"].shape == (2, 3, 16, 16)


class _Recorder(nn.Module):
    """A stand-in generator that records the previous frames it is given and returns frame t = t + 1."""

    previous_frames = 2

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))
        self.seen = []

    def forward(self, pose_maps, appearance, previous):
        self.seen.append(previous)
        return {"frame": torch.full_like(appearance, float(len(self.seen))) * self.scale}


@pytest.mark.parametrize("detach", [True, False])
def test_clip_starts_from_appearance_copies_then_uses_its_own_outputs(detach):
    g = _Recorder()
    appearance = torch.zeros(1, 3, 4, 4)
    frames = generate_clip(g, torch.zeros(1, 4, 35, 4, 4), appearance, 2, detach_previous=detach)
    assert frames.shape == (1, 4, 3, 4, 4) and frames[0, :, 0, 0, 0].tolist() == [1, 2, 3, 4]
    firsts = [p[0, :, 0, 0, 0].tolist() for p in g.seen]
    assert firsts == [[0, 0], [0, 1], [1, 2], [2, 3]]  # I_a (0) until there are L outputs, oldest first
    assert all(p.requires_grad != detach for p in g.seen[2:])


def test_loss_falls_on_a_fixed_batch(synth_dataset, tmp_path):
    config = load_config("tiny")
    config.baseline.generator_optimizer.lr = 1e-3  # a fixed batch: learn it quickly
    seed_everything(0)
    task = Pix2PixHDTask(config, tmp_path, Context())
    clips = Clips(synth_dataset, length=config.baseline.clip_length, size=64)
    batch = {k: torch.stack([clips[i][k] for i in (0, len(clips) - 1)]) for k in ("images", "poses", "appearance_image")}
    totals = []
    for _ in range(20):
        generated = task.generator_step(batch)
        total = sum(generated.losses.values())
        task.optimizers["generator"].zero_grad()
        total.backward()
        task.optimizers["generator"].step()
        judged = task.discriminator_step(batch, generated)
        task.optimizers["discriminator"].zero_grad()
        sum(judged.losses.values()).backward()
        task.optimizers["discriminator"].step()
        totals.append(float(generated.losses["l1"].detach() + generated.losses["perceptual"].detach()))
        assert set(generated.losses) == {"adversarial", "l1", "perceptual"} and set(judged.losses) == {"d_real", "d_fake"}
    assert np.mean(totals[-3:]) < 0.6 * np.mean(totals[:3]), totals


def test_cli_trains_the_baseline_end_to_end(baseline_runs):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    stage_dir = baseline_runs / STAGE
    assert (stage_dir / "latest").read_text().strip() == "step_000002"
    assert sorted(p.name for p in (stage_dir / "step_000002").iterdir()) == [
        "discriminator.safetensors", "generator.safetensors", "training_state.pt"]
    saved = load_config(str(stage_dir / "config.yaml"))
    assert saved.baseline.schedule.steps == 2 and saved.baseline.generator.ngf == 8
    networks, _ = load_stage(baseline_runs, STAGE)
    assert list(networks) == ["generator"] and isinstance(networks["generator"], Pix2PixHDGenerator)
    acc = EventAccumulator(str(stage_dir), size_guidance={"images": 0, "scalars": 0})
    acc.Reload()
    assert {"loss/adversarial", "loss/l1", "loss/perceptual", "loss/d_real", "loss/d_fake"} <= set(acc.Tags()["scalars"])
    assert "samples" in acc.Tags()["images"]


def test_resume_and_unknown_stage_errors(baseline_runs, synth_dataset, capsys):
    args = ["train", STAGE, "--config", "tiny", "--data", str(synth_dataset), "--runs", str(baseline_runs),
            "--no-progress"]
    assert main(args + ["--steps", "2"]) == 2
    assert "already has checkpoints; pass --resume" in capsys.readouterr().err
    assert main(["train", "baseline", "--config", "tiny", "--data", str(synth_dataset), "--runs",
                 str(baseline_runs)]) == 2
    assert "known: parsing, flow, foreground, fusion, baseline-pix2pixhd" in capsys.readouterr().err


def test_pipeline_makes_full_size_frames(baseline_runs, synth_dataset):
    video = sorted(Path(synth_dataset).iterdir())[0]
    target = Target.from_folder(video)
    poses = np.load(video / "poses.npy")
    pipeline = Pix2PixHDPipeline.from_checkpoints(baseline_runs)
    assert pipeline.size == 64 and pipeline.previous_frames == 2
    frames = list(pipeline.frames(poses, target, anchor_frame=2))
    assert len(frames) == len(poses)
    assert all(f.shape == target.background.shape and f.dtype == np.uint8 for f in frames)
    assert set(pipeline.timings.seconds) == {"generator", "paste"}

    # A photo larger than the crop: the generated crop replaces the photo inside its box only.
    photo = np.full((90, 120, 3), 77, np.uint8)
    small = Target(target.image, target.parsing, target.pose.copy(), (30.0, 10.0, 78.0, 58.0), photo)
    for follow in (True, False):
        outs = list(islice(Pix2PixHDPipeline.from_checkpoints(baseline_runs, follow_person=follow).outputs(
            poses[:3] * [0.75, 0.75, 1] + [30, 10, 0], small), 3))
        for out in outs:
            x0, y0, x1, y1 = np.rint(out["box"]).astype(int)
            outside = np.ones(photo.shape[:2], bool)
            outside[max(y0 - 1, 0):y1 + 1, max(x0 - 1, 0):x1 + 1] = False
            assert out["frame"].shape == photo.shape and (out["frame"][outside] == 77).all()
            assert (out["frame"][y0 + 1:y1 - 1, x0 + 1:x1 - 1] != 77).any()
        if not follow:
            assert all(tuple(o["box"]) == small.box for o in outs)
