"""The Soft-Gated Warping-GAN baseline (paper IV-A2, [10]): the paper configuration's shapes at 448, the
geometric matcher, the soft gate, the losses; learning on a fixed batch, `cpfnet train baseline-soft-gated`
and exact resume, its transfer pipeline."""

import json
import shutil
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from cpfnet.baselines.soft_gated.losses import hierarchy_loss, matcher_loss
from cpfnet.baselines.soft_gated.network import (GeometricMatcher, GeometricMatcherConfig, SoftGatedDiscriminator,
                                                 SoftGatedDiscriminatorConfig, SoftGatedGenerator,
                                                 SoftGatedGeneratorConfig, SoftGatedWarpBlock, correlation)
from cpfnet.baselines.soft_gated.pipeline import SoftGatedPipeline
from cpfnet.baselines.soft_gated.task import SoftGatedTask
from cpfnet.cli import main
from cpfnet.configs.experiment import load_config
from cpfnet.dataset.layout import META
from cpfnet.dataset.readers import AppearanceFrames
from cpfnet.evaluation.methods import find_methods
from cpfnet.evaluation.cases import load_case, plan_cases
from cpfnet.evaluation.running import run_method
from cpfnet.evaluation.scoring import score_video
from cpfnet.ops.foreground import one_hot_parsing
from cpfnet.ops.warp import identity_flow, resize_flow, warp
from cpfnet.training.distributed import Context
from cpfnet.training.trainer import seed_everything
from cpfnet.transfer.target import Target


def _params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_paper_scale_shapes_at_448():
    """Meta tensors: shapes without arithmetic. The ResNet generator at 448 works at 112 x 112 with 256
    channels; CNNGeometric's 16 x 16 matching grid (256 correlation channels) from 256 px parsings."""
    section = load_config("paper").soft_gated
    assert asdict(section.matcher) == asdict(GeometricMatcherConfig())  # paper.yaml says what the defaults say
    assert asdict(section.generator) == asdict(SoftGatedGeneratorConfig())
    assert asdict(section.discriminator) == asdict(SoftGatedDiscriminatorConfig())
    with torch.device("meta"):
        matcher = GeometricMatcher(**asdict(section.matcher)).to("meta")
        g = SoftGatedGenerator(**asdict(section.generator))
        d = SoftGatedDiscriminator(**asdict(section.discriminator))
        pose, parsing = torch.empty(2, 35, 448, 448), torch.empty(2, 20, 448, 448)
        appearance = torch.empty(1, 3, 448, 448)
        matched = matcher(parsing[:1], parsing)
        out = g(pose, parsing, appearance, matched["flow"])
        judged = d(pose, parsing, appearance, out["frame"])
    assert matched["flow"].shape == (2, 2, 448, 448) and matched["theta"].shape == (2, 2, 3)
    assert matched["tps"].shape == (2, 25, 2)
    assert matcher.affine_regressor.body[0][0].in_channels == 16 * 16
    assert out["frame"].shape == (2, 3, 448, 448) and out["gate"].shape == (2, 1, 112, 112)
    assert [tuple(x.shape) for x in judged["logits"]] == [(2, 1, 59, 59), (2, 1, 31, 31)]
    assert [len(f) for f in judged["features"]] == [4, 4]
    assert d.net.scales[0].net[0].in_channels == 35 + 20 + 3 + 3
    assert 13.0e6 < _params(g) < 13.5e6 and 5.5e6 < _params(matcher) < 5.7e6


def test_matcher_starts_at_the_identity_and_learns_a_shift():
    torch.manual_seed(0)
    matcher = GeometricMatcher(channels=(8, 8), regressor_channels=(16, 8), match_size=16, tps_grid=3)
    labels = torch.zeros(1, 16, 16, dtype=torch.long)
    labels[:, 4:12, 3:8] = 5
    source, target = one_hot_parsing(labels), one_hot_parsing(labels.roll(4, dims=2))
    flow = matcher(source, target)["flow"]
    assert torch.allclose(flow, identity_flow(1, 16, 16), atol=1e-4)
    optimizer = torch.optim.Adam(matcher.parameters(), lr=3e-4)
    losses = []
    for _ in range(40):
        loss = matcher_loss(source, target, matcher(source, target)["flow"])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0], losses
    assert matcher_loss(source, source, identity_flow(1, 16, 16)) == 0


def test_correlation_compares_every_target_position_with_every_source_position():
    a = torch.nn.functional.normalize(torch.rand(1, 4, 3, 3), dim=1)
    corr = correlation(a, a)
    assert corr.shape == (1, 9, 3, 3)
    # Channel k at position k is the feature's match with itself: the largest of its column.
    assert (corr.flatten(2).argmax(dim=1) == torch.arange(9)).all()


def test_soft_gate_chooses_between_the_warped_and_the_unwarped_feature():
    torch.manual_seed(0)
    block = SoftGatedWarpBlock(4)
    appearance, target = torch.rand(1, 4, 6, 6), torch.rand(2, 4, 6, 6)
    flow = identity_flow(2, 12, 12) + torch.tensor([3.0, 0.0]).view(1, 2, 1, 1)  # 1.5 feature pixels to the right
    out = block(appearance, target, flow)
    assert torch.allclose(out["gate"], torch.full((2, 1, 6, 6), 0.5))  # starts undecided
    warped = warp(appearance.expand(2, -1, -1, -1), resize_flow(flow, 6, 6))
    assert not torch.allclose(warped, appearance)
    for bias, expected in ((30.0, warped), (-30.0, appearance.expand(2, -1, -1, -1))):
        block.gate[-1].bias.data.fill_(bias)
        assert torch.allclose(block(appearance, target, flow)["feature"], expected, atol=1e-6)


def test_generator_and_losses_check_their_inputs():
    g = SoftGatedGenerator(ngf=4, n_downsample=2, n_blocks=1)
    pose, parsing, appearance = torch.rand(2, 35, 16, 16), torch.rand(2, 20, 16, 16), torch.rand(1, 3, 16, 16)
    flow = identity_flow(2, 16, 16)
    features = g.encode_appearance(appearance)
    assert torch.equal(g(pose, parsing, appearance, flow)["frame"],
                       g(pose, parsing, flow=flow, appearance_features=features)["frame"])
    with pytest.raises(ValueError, match="multiple of 4"):
        g(torch.rand(1, 35, 18, 18), torch.rand(1, 20, 18, 18), torch.rand(1, 3, 18, 18), identity_flow(1, 18, 18))
    with pytest.raises(ValueError, match="exactly one of appearance"):
        g(pose, parsing, flow=flow)
    with pytest.raises(ValueError, match="flow must be"):
        g(pose, parsing, appearance)
    with pytest.raises(ValueError, match="match_size"):
        GeometricMatcher(channels=(8, 8, 8), match_size=12)
    features = [[torch.rand(2, 3, 4, 4), torch.rand(2, 5, 2, 2)]]
    assert hierarchy_loss(features, features) == 0
    assert hierarchy_loss(features, [[f + 1 for f in features[0]]]) == pytest.approx(1.0)


# --- training and transfer (tiny config, `cpfnet synth` data) ----------------------------------------------

STAGE = "baseline-soft-gated"


def _train(data, runs, *extra):
    return main(["train", STAGE, "--config", "tiny", "--data", str(data), "--runs", str(runs), "--no-progress",
                 *extra])


@pytest.fixture(scope="module")
def soft_gated_runs(synth_dataset, tmp_path_factory):
    runs = tmp_path_factory.mktemp("soft-gated-runs")
    assert _train(synth_dataset, runs, "--steps", "2") == 0
    return runs


def test_loss_falls_on_a_fixed_batch(synth_dataset, tmp_path):
    config = load_config("tiny")
    config.soft_gated.generator_optimizer.lr = 1e-3  # a fixed batch: learn it quickly
    seed_everything(0)
    task = SoftGatedTask(config, tmp_path, Context())
    frames = AppearanceFrames(synth_dataset, size=64)
    batch = {k: torch.stack([frames[i][k] for i in (0, len(frames) - 1)])
             for k in ("appearance_image", "appearance_parsing", "image", "parsing", "pose")}
    image_terms, parsing_terms = [], []
    for _ in range(20):
        generated = task.generator_step(batch)
        task.optimizers["generator"].zero_grad()
        sum(generated.losses.values()).backward()
        task.optimizers["generator"].step()
        judged = task.discriminator_step(batch, generated)
        task.optimizers["discriminator"].zero_grad()
        sum(judged.losses.values()).backward()
        task.optimizers["discriminator"].step()
        losses = {k: float(v.detach()) for k, v in generated.losses.items()}
        image_terms.append(losses["l1"] + losses["perceptual"] + losses["hierarchy"])
        parsing_terms.append(losses["parsing_l1"] + losses["parsing_ce"])
    assert set(losses) == {"parsing_l1", "parsing_ce", "matcher", "adversarial", "l1", "perceptual", "hierarchy"}
    assert set(judged.losses) == {"d_real", "d_fake"}
    assert np.mean(image_terms[-3:]) < 0.7 * np.mean(image_terms[:3]), image_terms
    assert np.mean(parsing_terms[-3:]) < 0.6 * np.mean(parsing_terms[:3]), parsing_terms


def test_cli_trains_and_resumes_exactly(soft_gated_runs, synth_dataset, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    stage_dir = soft_gated_runs / STAGE
    assert (stage_dir / "latest").read_text().strip() == "step_000002"
    assert sorted(p.name for p in (stage_dir / "step_000002").iterdir()) == [
        "discriminator.safetensors", "generator.safetensors", "matcher.safetensors", "parser.safetensors",
        "training_state.pt"]
    acc = EventAccumulator(str(stage_dir), size_guidance={"images": 0, "scalars": 0})
    acc.Reload()
    assert {"loss/matcher", "loss/hierarchy", "loss/parsing_ce", "loss/d_real"} <= set(acc.Tags()["scalars"])
    assert "samples" in acc.Tags()["images"]
    # 1 step, then --resume to 2: the weights of the straight 2-step run.
    assert _train(synth_dataset, tmp_path, "--steps", "1") == 0
    assert _train(synth_dataset, tmp_path, "--steps", "2", "--resume") == 0
    for name in ("parser", "matcher", "generator", "discriminator"):
        straight = load_file(str(stage_dir / "step_000002" / f"{name}.safetensors"))
        resumed = load_file(str(tmp_path / STAGE / "step_000002" / f"{name}.safetensors"))
        assert straight.keys() == resumed.keys()
        assert all(torch.equal(straight[k], resumed[k]) for k in straight), name


def test_pipeline_makes_full_size_frames(soft_gated_runs, synth_dataset):
    video = sorted(Path(synth_dataset).iterdir())[0]
    target = Target.from_folder(video)
    poses = np.load(video / "poses.npy")
    pipeline = SoftGatedPipeline.from_checkpoints(soft_gated_runs, batch_size=4)
    outs = list(pipeline.outputs(poses, target, anchor_frame=2))
    assert len(outs) == len(poses)
    assert all(o["frame"].shape == target.background.shape and o["frame"].dtype == np.uint8 for o in outs)
    assert outs[0]["parsing"].shape == (20, 64, 64) and outs[0]["matcher_flow"].shape == (2, 64, 64)
    assert set(pipeline.timings.seconds) == {"parser", "matcher", "generator", "paste"}
    # Frame by frame: a frame does not depend on the batch it was made in.
    single = list(SoftGatedPipeline.from_checkpoints(soft_gated_runs, batch_size=1).outputs(poses[:3], target, 2))
    assert all(torch.allclose(a["crop"], b["crop"], atol=1e-5) for a, b in zip(single, outs[:3]))


def test_a_row_of_the_comparison_table(soft_gated_runs, synth_dataset, tmp_path):
    """find_methods finds the baseline in its RUNS; its outputs are scored on a self-reconstruction case (its
    parser's parsing too)."""
    real = tmp_path / "real"
    shutil.copytree(synth_dataset, real)
    for meta_path in real.glob(f"*/{META}"):
        meta_path.write_text(json.dumps({**json.loads(meta_path.read_text()), "identity": None, "motion": None}))
    mode, pairs, _ = plan_cases(real, 5)
    methods, _ = find_methods([soft_gated_runs], follow_person=False)
    method = next(m for m in methods if m.name == "Soft-Gated Warping-GAN")
    made = run_method(method.build(), load_case(*pairs[0], 5, mode))
    assert made["frames"].shape == (5, 64, 64, 3) and made["parsing"].shape == (5, 64, 64) and "flow" not in made
    scores = score_video(made, load_case(*pairs[0], 5, mode))
    assert 0 < scores["ssim"] <= 1 and scores["parsing_confusion"].sum() == 5 * 64 * 64
