"""The Liquid Warping GAN baseline (paper IV-A2, [28]): the paper configuration's shapes at 448, the Liquid
Warping Blocks, the streams' inputs, the losses; learning on a fixed batch, `cpfnet train baseline-lwg` with
exact and with predicted flow, exact resume, its pipeline with the flow stage's and with given flows."""

import json
import shutil
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from safetensors.torch import load_file

from cpfnet.baselines.lwg.inputs import dilate, source_inputs, transfer_input
from cpfnet.baselines.lwg.losses import LiquidWarpingLossConfig, liquid_warping_generator_loss, total_variation
from cpfnet.baselines.lwg.network import (LiquidWarpingDiscriminator, LiquidWarpingDiscriminatorConfig,
                                          LiquidWarpingGenerator, LiquidWarpingGeneratorConfig, compose)
from cpfnet.baselines.lwg.pipeline import LiquidWarpingPipeline, load_flows
from cpfnet.baselines.lwg.task import FramesWithFlow, LiquidWarpingTask
from cpfnet.cli import main
from cpfnet.configs.experiment import dump_config, load_config
from cpfnet.dataset.layout import META, VideoFolder
from cpfnet.errors import UserError
from cpfnet.evaluation.methods import find_methods
from cpfnet.evaluation.cases import load_case, plan_cases
from cpfnet.evaluation.running import run_method
from cpfnet.ops.warp import identity_flow
from cpfnet.training.distributed import Context
from cpfnet.training.trainer import seed_everything
from cpfnet.transfer.target import Target


def _params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_paper_scale_shapes_at_448():
    """LWG's streams: ngf 64, 3 downsamplings (512 channels at 56 x 56), 6 residual blocks each."""
    section = load_config("paper").lwg
    assert asdict(section.generator) == asdict(LiquidWarpingGeneratorConfig())
    assert asdict(section.discriminator) == asdict(LiquidWarpingDiscriminatorConfig())
    assert section.flow_source == "predicted"
    with torch.device("meta"):
        g = LiquidWarpingGenerator(**asdict(section.generator))
        d = LiquidWarpingDiscriminator(**asdict(section.discriminator))
        source = g.encode_source(torch.empty(1, 39, 448, 448))
        out = g.transfer(torch.empty(2, 39, 448, 448), source, torch.empty(2, 2, 448, 448))
        background = g.background(torch.empty(1, 4, 448, 448))
        logits = d(torch.empty(2, 36, 448, 448), out["color"])["logits"]
    assert [tuple(f.shape[1:]) for f in source["encoded"]] == [(64, 448, 448), (128, 224, 224), (256, 112, 112),
                                                                (512, 56, 56)]
    assert len(source["blocks"]) == 6 and source["blocks"][0].shape == (1, 512, 56, 56)
    assert out["color"].shape == (2, 3, 448, 448) and out["mask"].shape == (2, 1, 448, 448)
    assert background.shape == (1, 3, 448, 448)
    assert [tuple(x.shape) for x in logits] == [(2, 1, 31, 31)]
    assert 97e6 < _params(g) < 98e6 and 6.9e6 < _params(d) < 7.1e6


def test_liquid_warping_blocks_carry_the_source_features_along_the_flow():
    torch.manual_seed(0)
    g = LiquidWarpingGenerator(ngf=4, n_downsample=2, n_blocks=1).eval()
    tsf, flow = torch.rand(2, 39, 16, 16), identity_flow(2, 16, 16)
    one, other = g.encode_source(torch.rand(1, 39, 16, 16)), g.encode_source(torch.rand(1, 39, 16, 16))
    assert not torch.allclose(g.transfer(tsf, one, flow)["color"], g.transfer(tsf, other, flow)["color"])
    # A flow that points outside I_a everywhere carries nothing: the source no longer matters.
    away = flow - 1000
    assert torch.equal(g.transfer(tsf, one, away)["color"], g.transfer(tsf, other, away)["color"])
    zero = {k: [torch.zeros_like(f) for f in v] for k, v in one.items()}
    assert torch.equal(g.transfer(tsf, one, away)["color"], g.transfer(tsf, zero, flow)["color"])
    out = g(torch.rand(1, 4, 16, 16), torch.rand(1, 39, 16, 16), tsf, flow)
    assert out["source_color"].shape == (1, 3, 16, 16) and out["transfer_mask"].shape == (2, 1, 16, 16)
    assert 0 < out["transfer_mask"].min() and out["transfer_mask"].max() < 1
    with pytest.raises(ValueError, match="multiple of 4"):
        g.background(torch.rand(1, 4, 18, 18))
    with pytest.raises(ValueError, match="flow must be"):
        g.transfer(tsf, one, identity_flow(1, 16, 16))


def test_stream_inputs():
    appearance = torch.rand(1, 3, 12, 12) * 2 - 1
    mask = torch.zeros(1, 1, 12, 12)
    mask[..., 4:8, 5:7] = 1
    ins = source_inputs(appearance, mask, torch.rand(1, 35, 12, 12), margin=1)
    assert ins["background_input"].shape == (1, 4, 12, 12) and ins["source_input"].shape == (1, 39, 12, 12)
    background_mask = ins["background_mask"]
    assert background_mask.sum() == 144 - 6 * 4  # the person grown by one pixel on every side
    assert torch.equal(background_mask, 1 - dilate(mask, 1)) and torch.equal(dilate(mask, 0), mask)
    assert (ins["background_input"][:, :3] * (1 - background_mask) == 0).all()
    assert torch.equal(ins["foreground"], appearance * mask)
    frame_mask = torch.ones(2, 1, 12, 12)
    t = transfer_input(ins["foreground"], torch.rand(2, 35, 12, 12), identity_flow(2, 12, 12), frame_mask)
    assert t.shape == (2, 39, 12, 12) and torch.allclose(t[:, :3], ins["foreground"].expand(2, -1, -1, -1), atol=1e-6)
    with pytest.raises(ValueError, match="must match the pose maps"):
        transfer_input(ins["foreground"], torch.rand(2, 35, 12, 12), identity_flow(1, 12, 12), frame_mask)


def test_losses():
    torch.manual_seed(0)
    image, mask = torch.rand(2, 3, 8, 8), (torch.rand(2, 1, 8, 8) > 0.5).float()
    outputs = {"source": image, "appearance": image, "fake": image, "target": image, "source_mask": mask,
               "transfer_mask": mask, "appearance_person": mask, "frame_person": mask}
    config = LiquidWarpingLossConfig(adversarial_weight=0, perceptual_weight=0)
    terms = liquid_warping_generator_loss(outputs, None, None, config)
    assert set(terms) == {"reconstruction", "mask", "mask_smooth"}
    assert terms["reconstruction"] == 0 and terms["mask"] == 0
    assert terms["mask_smooth"] == pytest.approx(2e-5 * total_variation(mask).item())
    assert total_variation(torch.ones(1, 1, 4, 4)) == 0
    with pytest.raises(ValueError, match="needs the discriminator"):
        liquid_warping_generator_loss(outputs, None, None, LiquidWarpingLossConfig(perceptual_weight=0))
    assert torch.equal(compose(image, torch.ones(2, 1, 8, 8), image[:1] * 0), image)


# --- training and transfer (tiny config: exact flow of the `cpfnet synth` data) ----------------------------

STAGE = "baseline-lwg"


def _train(data, runs, *extra, stage=STAGE, config="tiny"):
    return main(["train", stage, "--config", config, "--data", str(data), "--runs", str(runs), "--no-progress",
                 *extra])


@pytest.fixture(scope="module")
def lwg_runs(synth_dataset, tmp_path_factory):
    runs = tmp_path_factory.mktemp("lwg-runs")
    assert _train(synth_dataset, runs, "--steps", "2") == 0
    return runs


def test_loss_falls_on_a_fixed_batch(synth_dataset, tmp_path):
    config = load_config("tiny")
    assert config.lwg.flow_source == "ground_truth"
    config.lwg.generator_optimizer.lr = 1e-3
    seed_everything(0)
    task = LiquidWarpingTask(config, tmp_path, Context())
    frames = FramesWithFlow(synth_dataset, size=64)
    batch = {k: torch.stack([frames[i][k] for i in (0, len(frames) - 1)])
             for k in ("appearance_image", "appearance_parsing", "appearance_pose", "image", "parsing", "pose",
                       "flow", "visibility")}
    totals = []
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
        totals.append(losses["reconstruction"] + losses["perceptual"] + losses["mask"])
    assert set(losses) == {"adversarial", "reconstruction", "perceptual", "mask", "mask_smooth"}
    assert np.mean(totals[-3:]) < 0.6 * np.mean(totals[:3]), totals


def test_cli_trains_and_resumes_exactly(lwg_runs, synth_dataset, tmp_path):
    stage_dir = lwg_runs / STAGE
    assert (stage_dir / "latest").read_text().strip() == "step_000002"
    assert sorted(p.name for p in (stage_dir / "step_000002").iterdir()) == [
        "discriminator.safetensors", "generator.safetensors", "training_state.pt"]
    assert _train(synth_dataset, tmp_path, "--steps", "1") == 0
    assert _train(synth_dataset, tmp_path, "--steps", "2", "--resume") == 0
    for name in ("generator", "discriminator"):
        straight = load_file(str(stage_dir / "step_000002" / f"{name}.safetensors"))
        resumed = load_file(str(tmp_path / STAGE / "step_000002" / f"{name}.safetensors"))
        assert straight.keys() == resumed.keys()
        assert all(torch.equal(straight[k], resumed[k]) for k in straight), name


def test_pipeline_with_given_flows_and_with_the_flow_stage(lwg_runs, synth_dataset, tmp_path, capsys):
    video_dir = sorted(Path(synth_dataset).iterdir())[0]
    video, target = VideoFolder(video_dir), Target.from_folder(video_dir)
    poses = np.load(video_dir / "poses.npy")
    with pytest.raises(UserError, match="cpfnet train flow"):
        LiquidWarpingPipeline.from_checkpoints(lwg_runs)
    # A fitted body's flows (here the renderer's exact ones), from a file, with the target's own box (the
    # synthetic camera is fixed, so the crops are the dataset's).
    path = tmp_path / "flows.npz"
    np.savez(path, flow=np.stack([video.flow(i).transpose(2, 0, 1) for i in range(len(video))]),
             visibility=np.stack([video.visibility(i) for i in range(len(video))]))
    pipeline = LiquidWarpingPipeline.from_checkpoints(lwg_runs, need_flow_stage=False, follow_person=False)
    outs = list(pipeline.outputs(poses, target, 2, flows=load_flows(path, pipeline.size)))
    assert len(outs) == len(poses) and all(o["frame"].shape == target.background.shape for o in outs)
    assert outs[0]["mask"].shape == (64, 64) and outs[0]["visibility"].shape == (3, 64, 64)
    with pytest.raises(UserError, match="give the transformation flows"):
        next(pipeline.outputs(poses, target))
    with pytest.raises(UserError, match="fewer flows"):
        list(pipeline.outputs(poses, target, flows=load_flows(path)[:2]))
    with pytest.raises(UserError, match="pipeline runs at 32x32"):
        load_flows(path, 32)
    from_file = LiquidWarpingPipeline.from_checkpoints(lwg_runs, flow_file=path, follow_person=False)
    assert np.array_equal(next(from_file.frames(poses, target, 2)), outs[0]["frame"])
    # The default: T from the flow stage of the same RUNS; and training on it (flow_source: predicted).
    runs = tmp_path / "runs"
    shutil.copytree(lwg_runs / STAGE, runs / STAGE)
    assert _train(synth_dataset, runs, "--steps", "1", stage="flow") == 0
    outs = list(LiquidWarpingPipeline.from_checkpoints(runs).outputs(poses[:3], target, 2))
    assert len(outs) == 3 and set(outs[0]) >= {"frame", "box", "crop", "flow", "visibility", "mask"}
    # Its row of the comparison table, on a self-reconstruction case: T is the flow stage's, scored as such.
    real = tmp_path / "real"
    shutil.copytree(synth_dataset, real)
    for meta_path in real.glob(f"*/{META}"):
        meta_path.write_text(json.dumps({**json.loads(meta_path.read_text()), "identity": None, "motion": None}))
    mode, pairs, _ = plan_cases(real, 5)
    method = next(m for m in find_methods([runs], follow_person=False)[0] if m.name == "Liquid Warping GAN")
    made = run_method(method.build(), load_case(*pairs[0], 5, mode))
    assert made["frames"].shape == (5, 64, 64, 3) and made["flow"].shape == (5, 64, 64, 2)
    config = tmp_path / "predicted.yaml"
    tiny = yaml.safe_load(dump_config(load_config("tiny")))
    tiny["lwg"]["flow_source"] = "predicted"
    config.write_text(yaml.safe_dump(tiny))
    assert _train(synth_dataset, tmp_path / "alone", "--steps", "1", config=str(config)) == 2
    assert "train the flow stage first" in capsys.readouterr().err
    shutil.copytree(runs / "flow", tmp_path / "with_flow" / "flow")
    assert _train(synth_dataset, tmp_path / "with_flow", "--steps", "1", config=str(config)) == 0
