"""The vid2vid and few-shot vid2vid baselines (paper IV-A2) as stages: the paper config's published widths,
learning on a fixed batch, `cpfnet train` end to end, exact resume, torchrun with two gloo processes, and
their transfer pipelines."""

import os
import socket
import subprocess
import sys
import textwrap
from dataclasses import asdict
from itertools import islice
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from cpfnet.baselines.fewshot_vid2vid.network import FewShotVid2VidGenerator, FewShotVid2VidGeneratorConfig
from cpfnet.baselines.fewshot_vid2vid.pipeline import FewShotVid2VidPipeline
from cpfnet.baselines.vid2vid.network import (TemporalDiscriminatorConfig, Vid2VidGenerator,
                                              Vid2VidGeneratorConfig)
from cpfnet.baselines.vid2vid.pipeline import Vid2VidPipeline
from cpfnet.cli import main
from cpfnet.configs.experiment import load_config
from cpfnet.dataset.readers import Clips
from cpfnet.stages import registry
from cpfnet.stages.weights import load_stage
from cpfnet.training.distributed import Context
from cpfnet.training.trainer import seed_everything, train
from cpfnet.transfer.target import Target

VID2VID, FEWSHOT = "baseline-vid2vid", "baseline-fewshot-vid2vid"
STAGES = (VID2VID, FEWSHOT)
GENERATORS = {VID2VID: Vid2VidGenerator, FEWSHOT: FewShotVid2VidGenerator}
PIPELINES = {VID2VID: Vid2VidPipeline, FEWSHOT: FewShotVid2VidPipeline}
NETWORKS = ["discriminator.safetensors", "generator.safetensors", "temporal_discriminator.safetensors",
            "training_state.pt"]


@pytest.fixture(scope="module")
def sequential_runs(synth_dataset, tmp_path_factory):
    """One RUNS folder with both baselines trained 2 steps each through the CLI."""
    runs = tmp_path_factory.mktemp("vid2vid-runs")
    for stage in STAGES:
        assert main(["train", stage, "--config", "tiny", "--data", str(synth_dataset), "--runs", str(runs),
                     "--steps", "2", "--no-progress"]) == 0
    return runs


def test_paper_config_has_the_published_widths():
    """paper.yaml's sections are the networks' published configurations (the dataclass defaults: vid2vid's
    ngf 128 / 3 downsamplings / 9 blocks / L 2, few-shot vid2vid's ngf 32 / 5 / 4 adaptive layers / L 1),
    at 448 crops; tiny shares their structure at small widths."""
    paper, tiny = load_config("paper"), load_config("tiny")
    assert paper.data.size == 448
    assert paper.stage(VID2VID).generator == Vid2VidGeneratorConfig()
    assert paper.stage(VID2VID).temporal_discriminator == TemporalDiscriminatorConfig()
    assert paper.stage(FEWSHOT).generator == FewShotVid2VidGeneratorConfig()
    for stage in STAGES:
        assert tiny.stage(stage).generator.ngf == 8 and tiny.stage(stage).clip_length == 3
        with torch.device("meta"):
            net = GENERATORS[stage](**asdict(paper.stage(stage).generator))
        assert sum(p.numel() for p in net.parameters()) > {VID2VID: 3.6e8, FEWSHOT: 8.4e7}[stage]
    assert registry.stage(VID2VID).method == "vid2vid" and registry.stage(FEWSHOT).method == "Few-shot vid2vid"


@pytest.mark.parametrize("stage", STAGES)
def test_loss_falls_on_a_fixed_batch(stage, synth_dataset, tmp_path):
    config = load_config("tiny")
    section = config.stage(stage)
    section.generator_optimizer.lr = 4e-3  # a fixed batch: learn it quickly
    seed_everything(0)
    task = registry.stage(stage).task_class()(config, tmp_path, Context())
    clips = Clips(synth_dataset, length=section.clip_length, size=64)
    batch = {k: clips[0][k][None] for k in ("images", "poses", "appearance_image", "appearance_pose")}
    totals = []
    for _ in range(16):
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
    expected = {"adversarial", "l1", "perceptual", "temporal_adversarial", "warp"}
    assert set(generated.losses) == expected | ({"reference_warp"} if stage == FEWSHOT else set())
    assert set(judged.losses) == {"d_real", "d_fake", "dt_real", "dt_fake"}
    assert np.mean(totals[-3:]) < 0.7 * np.mean(totals[:3]), totals


@pytest.mark.parametrize("stage", STAGES)
def test_cli_trains_end_to_end(stage, sequential_runs):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    stage_dir = sequential_runs / stage
    assert (stage_dir / "latest").read_text().strip() == "step_000002"
    assert sorted(p.name for p in (stage_dir / "step_000002").iterdir()) == NETWORKS
    saved = load_config(str(stage_dir / "config.yaml"))
    assert saved.stage(stage).schedule.steps == 2 and saved.stage(stage).generator.ngf == 8
    networks, _ = load_stage(sequential_runs, stage)
    assert list(networks) == ["generator"] and isinstance(networks["generator"], GENERATORS[stage])
    # Every trained network moved from its initial weights (the trainer seeds before building them), D_V too.
    seed_everything(saved.train.seed)
    initial = registry.stage(stage).task_class().build_networks(saved)
    for name, module in initial.items():
        trained = load_file(str(stage_dir / "step_000002" / f"{name}.safetensors"))
        assert any(not torch.equal(v, trained[k]) for k, v in module.state_dict().items()), name
    acc = EventAccumulator(str(stage_dir), size_guidance={"images": 0, "scalars": 0})
    acc.Reload()
    assert {"loss/temporal_adversarial", "loss/warp", "loss/dt_real", "loss/dt_fake", "loss/d_real",
            "metrics/mask_mean"} <= set(acc.Tags()["scalars"])
    assert "samples" in acc.Tags()["images"]


@pytest.mark.parametrize("stage", STAGES)
def test_resume_is_exact(stage, sequential_runs, synth_dataset, tmp_path):
    """1 step, then --resume to 2 == the fixture's 2 steps straight (three networks, two optimizers)."""
    config = load_config("tiny")
    config.stage(stage).schedule.steps = 1
    train(stage, config, synth_dataset, tmp_path, progress=False)
    config.stage(stage).schedule.steps = 2
    resumed = train(stage, config, synth_dataset, tmp_path, resume=True, progress=False)
    straight = sequential_runs / stage / "step_000002"
    for name in NETWORKS[:3]:
        a, b = load_file(str(straight / name)), load_file(str(resumed.checkpoint / name))
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), name


@pytest.mark.parametrize("stage", STAGES)
def test_pipeline_makes_full_size_frames(stage, sequential_runs, synth_dataset):
    video = sorted(Path(synth_dataset).iterdir())[0]
    target = Target.from_folder(video)
    poses = np.load(video / "poses.npy")
    pipeline = PIPELINES[stage].from_checkpoints(sequential_runs)
    assert pipeline.size == 64 and pipeline.previous_frames == (2 if stage == VID2VID else 1)
    outs = list(pipeline.outputs(poses, target, anchor_frame=2))
    assert len(outs) == len(poses)
    assert all(o["frame"].shape == target.background.shape and o["frame"].dtype == np.uint8 for o in outs)
    assert outs[0]["mask"].shape == (1, 64, 64) and outs[0]["flow"].shape == (2, 64, 64)
    assert set(pipeline.timings.seconds) == {"generator", "paste"}
    # Each frame depends on the earlier outputs: in the same box, pose 3 after outputs 0..2 and pose 3 as the
    # first frame (after copies of I_a) give different crops.
    fixed_box = PIPELINES[stage].from_checkpoints(sequential_runs, follow_person=False)
    after_history = list(islice(fixed_box.outputs(poses, target), 4))[3]["crop"]
    first = next(fixed_box.outputs(poses[3:], target))["crop"]
    assert not torch.equal(after_history, first)
    # A photo larger than the crop, fixed box: the crop replaces the photo inside its box only.
    photo = np.full((90, 120, 3), 77, np.uint8)
    small = Target(target.image, target.parsing, target.pose.copy(), (30.0, 10.0, 78.0, 58.0), photo)
    fixed = PIPELINES[stage].from_checkpoints(sequential_runs, follow_person=False)
    for out in islice(fixed.outputs(poses[:3] * [0.75, 0.75, 1] + [30, 10, 0], small), 2):
        assert tuple(out["box"]) == small.box and (out["frame"][:8] == 77).all() and (out["frame"][15:55, 35:75] != 77).any()


_SCRIPT = textwrap.dedent("""
    import os, sys
    import torch.distributed as dist
    from safetensors.torch import save_file
    from cpfnet.configs.experiment import load_config
    from cpfnet.training.trainer import train

    data, runs, dump = sys.argv[1:4]
    rank = int(os.environ["RANK"])
    dist.init_process_group("gloo")  # joined once: train() then leaves it to us, for both stages
    for stage in ("baseline-vid2vid", "baseline-fewshot-vid2vid"):
        config = load_config("tiny")
        config.stage(stage).schedule.steps = 2
        result = train(stage, config, data, runs, progress=False)
        save_file({f"{n}.{k}": v.contiguous() for n, m in result.networks.items() for k, v in m.state_dict().items()},
                  f"{dump}/{stage}-rank{rank}.safetensors")
    dist.destroy_process_group()
""")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_torchrun_two_processes_hold_identical_weights(synth_dataset, tmp_path):
    """Both baselines under `torchrun --nproc_per_node=2` (gloo): the K generator calls per clip, D_I and D_V
    stay in step on both ranks, and rank 0's checkpoint holds those weights."""
    script = tmp_path / "train_two.py"
    script.write_text(_SCRIPT)
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_PORT")}
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1",
         f"--master_port={_free_port()}", str(script), str(synth_dataset), str(tmp_path / "runs"), str(tmp_path)],
        capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    for stage in STAGES:
        ranks = [load_file(str(tmp_path / f"{stage}-rank{r}.safetensors")) for r in range(2)]
        assert ranks[0].keys() == ranks[1].keys() and ranks[0]
        assert all(torch.equal(ranks[0][k], ranks[1][k]) for k in ranks[0]), stage
        checkpoint = tmp_path / "runs" / stage / "step_000002"
        for net in ("generator", "discriminator", "temporal_discriminator"):
            saved = load_file(str(checkpoint / f"{net}.safetensors"))
            assert all(torch.equal(saved[k], ranks[0][f"{net}.{k}"]) for k in saved)
        state = torch.load(checkpoint / "training_state.pt", weights_only=True)
        assert state["world_size"] == 2


REAL = Path(__file__).resolve().parents[2] / "shared" / "real"


def _one_line_error(capsys, *args):
    code = main(list(args))
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "Traceback" not in err, err
    return err


def test_transfer_method_errors(sequential_runs, tmp_path, capsys):
    common = ["transfer", "--source", str(tmp_path / "dance.mp4"), "--target", str(tmp_path / "me.jpg"), "--out",
              str(tmp_path / "out.mp4")]
    err = _one_line_error(capsys, *common, "--method", "fewshot-vid2vid", "--checkpoints", str(tmp_path))
    assert "train the baseline-fewshot-vid2vid stage first: cpfnet train baseline-fewshot-vid2vid" in err
    err = _one_line_error(capsys, *common, "--method", "vid2vid")
    assert "needs --checkpoints" in err and "cpfnet train baseline-vid2vid" in err
    err = _one_line_error(capsys, *common, "--method", "vid3vid", "--checkpoints", str(sequential_runs))
    assert "unknown --method 'vid3vid'; known: cpfnet, pix2pixhd, vid2vid, fewshot-vid2vid" in err
    assert "--no-fusion applies to --method cpfnet only" in _one_line_error(
        capsys, *common, "--method", "vid2vid", "--checkpoints", str(sequential_runs), "--no-fusion")


@pytest.mark.slow
def test_transfer_method_writes_a_video(sequential_runs, tmp_path):
    if not (REAL / "dance.mp4").is_file():
        pytest.skip("../shared/real is absent")
    from cpfnet.io.video import VideoWriter, iter_frames, probe

    source = tmp_path / "short.mp4"
    with VideoWriter(source, fps=16) as writer:
        for frame in iter_frames(REAL / "dance.mp4", count=4):
            writer.write(frame)
    out = tmp_path / "fewshot.mp4"
    assert main(["transfer", "--method", "fewshot-vid2vid", "--checkpoints", str(sequential_runs), "--source",
                 str(source), "--target", str(REAL / "person.jpg"), "--out", str(out)]) == 0
    info = probe(out)
    assert info.num_frames == 4 and (info.width, info.height) == (750, 1102)


def test_table_finds_both_rows(sequential_runs):
    from cpfnet.evaluation.methods import ORDER, find_methods

    methods, notes = find_methods([sequential_runs], follow_person=False)
    names = [m.name for m in methods]
    assert names == ["Photo pasted (floor)", "vid2vid", "Few-shot vid2vid"]
    assert ORDER.index("vid2vid") < ORDER.index("Few-shot vid2vid") < ORDER.index("Ours")
    pipeline = methods[2].build()
    assert isinstance(pipeline, FewShotVid2VidPipeline) and not pipeline.follow_person
