"""`cpfnet train`: every stage end to end on CPU with the tiny config, the RUNS layout, TensorBoard, loading a
trained stage back, exact resume (also after Ctrl-C), and the one-line errors."""

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from safetensors.torch import load_file

from cpfnet.cli import main
from cpfnet.configs.experiment import dump_config, load_config
from cpfnet.stages.weights import load_stage
from cpfnet.training.checkpoint import load_training_state
from cpfnet.training.trainer import train

STEPS = {"parsing": 3, "flow": 3, "foreground": 2, "fusion": 2}
NETWORKS = {"parsing": ["generator"], "flow": ["flow"], "foreground": ["generator", "discriminator"],
            "fusion": ["fusion"]}


def _train(stage, data, runs, *extra):
    return main(["train", stage, "--config", "tiny", "--data", str(data), "--runs", str(runs), "--no-progress",
                 *extra])


@pytest.fixture(scope="module")
def tiny_runs(synth_dataset, tmp_path_factory):
    """One RUNS folder with all four stages trained a few steps each, in order, through the CLI."""
    runs = tmp_path_factory.mktemp("runs")
    for stage, steps in STEPS.items():
        assert _train(stage, synth_dataset, runs, "--steps", str(steps)) == 0
    return runs


def _tiny_yaml(tmp_path, name="custom", **changes):
    """The tiny config with some `section.key.key: value` changes, as a YAML file."""
    data = yaml.safe_load(dump_config(load_config("tiny")))
    for dotted, value in changes.items():
        *path, key = dotted.split("__")
        node = data
        for part in path:
            node = node[part]
        node[key] = value
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_every_stage_trains_end_to_end(tiny_runs):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    for stage, steps in STEPS.items():
        stage_dir = tiny_runs / stage
        assert (stage_dir / "latest").read_text().strip() == f"step_{steps:06d}"
        checkpoint = stage_dir / f"step_{steps:06d}"
        assert sorted(p.name for p in checkpoint.iterdir()) == sorted(
            [f"{n}.safetensors" for n in NETWORKS[stage]] + ["training_state.pt"])
        saved = load_config(str(stage_dir / "config.yaml"))
        assert saved.stage(stage).schedule.steps == steps and saved.data.size == 64
        state = load_training_state(checkpoint)
        assert state["step"] == steps and set(state["optimizers"]) == (
            {"generator", "discriminator"} if stage == "foreground" else {"generator"})
        events = list(stage_dir.glob("events.out.tfevents.*"))
        assert events
        acc = EventAccumulator(str(stage_dir), size_guidance={"images": 0, "scalars": 0})
        acc.Reload()
        tags = acc.Tags()
        assert "loss/total" in tags["scalars"] and "samples" in tags["images"]
        assert [e.step for e in acc.Scalars("loss/total")][-1] == steps
    acc = EventAccumulator(str(tiny_runs / "flow"))
    acc.Reload()
    assert {"metrics/epe_px", "metrics/visibility_accuracy", "loss/epe", "loss/visibility"} <= set(acc.Tags()["scalars"])
    acc = EventAccumulator(str(tiny_runs / "foreground"))
    acc.Reload()
    assert {"loss/adversarial", "loss/l1", "loss/perceptual", "loss/d_real", "loss/d_fake"} <= set(acc.Tags()["scalars"])


def test_load_stage_rebuilds_the_inference_networks(tiny_runs):
    """Every trained network but the discriminator comes back with the checkpoint's weights, eval and frozen."""
    for stage, steps in STEPS.items():
        networks, config = load_stage(tiny_runs, stage, "cpu")
        assert sorted(networks) == sorted(n for n in NETWORKS[stage] if n != "discriminator")
        assert config.data.size == 64
        for name, module in networks.items():
            assert not module.training and not any(p.requires_grad for p in module.parameters())
            weights = load_file(str(tiny_runs / stage / f"step_{steps:06d}" / f"{name}.safetensors"))
            assert module.state_dict().keys() == weights.keys()
            for key, value in module.state_dict().items():
                assert torch.equal(value, weights[key])


def test_trained_networks_run_on_a_frame(tiny_runs, synth_dataset):
    """The rebuilt stages chain (cpfnet.stages.chain, as training and transfer run them) on one real sample:
    parsing -> flow -> foreground -> fusion, with the first frame's previous frame the plain overlay."""
    from cpfnet.body.pose_maps import render_pose_maps
    from cpfnet.dataset.readers import AppearanceFrames
    from cpfnet.ops.foreground import extract_foreground, one_hot_parsing, person_mask
    from cpfnet.stages.chain import Appearance, previous_frame, run_stages

    nets = {stage: load_stage(tiny_runs, stage)[0] for stage in STEPS}
    item = AppearanceFrames(synth_dataset)[0]
    appearance = Appearance(one_hot_parsing(item["appearance_parsing"][None]),
                            render_pose_maps(item["appearance_pose"][None], 64, 64, 1.5),
                            image=extract_foreground(item["appearance_image"][None], item["appearance_parsing"][None]))
    with torch.inference_mode():
        made = run_stages(nets["parsing"]["generator"], nets["flow"]["flow"], nets["foreground"]["generator"],
                          appearance, render_pose_maps(item["pose"][None], 64, 64, 1.5))
        background = item["background"][None]
        previous = previous_frame(None, made["foreground"], background, made["parsing"])
        out = nets["fusion"]["fusion"](background, made["foreground"], previous, person_mask(made["parsing"]))
    assert made["parsing"].shape == (1, 20, 64, 64) and made["flow"].shape == (1, 2, 64, 64)
    assert made["visibility"].shape == (1, 3, 64, 64) and made["foreground"].shape == (1, 3, 64, 64)
    torch.testing.assert_close(made["parsing"].sum(1), torch.ones(1, 64, 64))  # probabilities
    assert out["frame"].shape == (1, 3, 64, 64) and torch.isfinite(out["frame"]).all()


def _weights(checkpoint):
    return {p.stem: load_file(str(p)) for p in Path(checkpoint).glob("*.safetensors")}


def _assert_same_weights(a, b):
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys() and wa
    for name in wa:
        for key in wa[name]:
            assert torch.equal(wa[name][key], wb[name][key]), f"{name}.{key} differs"


def test_resumed_run_ends_with_the_same_weights(tiny_runs, synth_dataset, tmp_path):
    """Foreground (two networks, two optimizers, alternating): 1 step + resume to 3 == 3 steps straight."""
    def config(steps):
        c = load_config("tiny")
        c.foreground.schedule.steps = steps
        return c

    for name in ("straight", "resumed"):
        (tmp_path / name).mkdir()
        shutil.copytree(tiny_runs / "flow", tmp_path / name / "flow")
    straight = train("foreground", config(3), synth_dataset, tmp_path / "straight", progress=False)
    first = train("foreground", config(1), synth_dataset, tmp_path / "resumed", progress=False)
    assert first.step == 1
    resumed = train("foreground", config(3), synth_dataset, tmp_path / "resumed", resume=True, progress=False)
    assert resumed.step == straight.step == 3
    _assert_same_weights(straight.checkpoint, resumed.checkpoint)
    a, b = load_training_state(straight.checkpoint), load_training_state(resumed.checkpoint)
    for name in ("generator", "discriminator"):
        for sa, sb in zip(a["optimizers"][name]["state"].values(), b["optimizers"][name]["state"].values()):
            assert torch.equal(sa["exp_avg"], sb["exp_avg"]) and torch.equal(sa["exp_avg_sq"], sb["exp_avg_sq"])


def test_old_checkpoints_are_pruned(synth_dataset, tmp_path):
    c = load_config("tiny")
    c.parsing.schedule.steps = 4
    c.train.checkpoint_every = 1  # keep_checkpoints is 2 in tiny
    result = train("parsing", c, synth_dataset, tmp_path, progress=False)
    assert sorted(p.name for p in (tmp_path / "parsing").glob("step_*")) == ["step_000003", "step_000004"]
    assert result.checkpoint == tmp_path / "parsing" / "step_000004"
    assert not [p for p in (tmp_path / "parsing").iterdir() if p.name.startswith(".")]  # no temporary leftovers


def _cli(*args, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "cpfnet.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def test_interrupt_writes_a_checkpoint_and_resume_is_exact(synth_dataset, tmp_path):
    """Ctrl-C mid-run: a checkpoint at the step reached, exit 130; resuming to N steps gives the weights of an
    uninterrupted N-step run."""
    config = _tiny_yaml(tmp_path, train__checkpoint_every=100_000)
    common = ["--config", str(config), "--data", str(synth_dataset), "--no-progress"]
    proc = _cli("train", "parsing", "--runs", str(tmp_path / "a"), "--steps", "100000", *common)
    stage_dir = tmp_path / "a" / "parsing"
    deadline = time.time() + 60
    while not (stage_dir / "config.yaml").exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.1)
    time.sleep(1.5)  # a few steps
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    reached = load_training_state(stage_dir / (stage_dir / "latest").read_text().strip())["step"]
    assert 1 <= reached < 100_000
    steps = str(reached + 2)
    resumed = _cli("train", "parsing", "--runs", str(tmp_path / "a"), "--steps", steps, "--resume", *common)
    straight = _cli("train", "parsing", "--runs", str(tmp_path / "b"), "--steps", steps, *common)
    for p in (resumed, straight):
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    _assert_same_weights(tmp_path / "a" / "parsing" / f"step_{int(steps):06d}",
                         tmp_path / "b" / "parsing" / f"step_{int(steps):06d}")


def test_cpu_budget_stops_with_a_checkpoint_and_resume_is_exact(capsys, synth_dataset, tmp_path):
    """--cpu-budget: a 1 ms budget is spent by the first step (a tiny parsing step takes tens of ms), so the run
    stops there with a checkpoint and exit 0; resuming with the spent budget trains nothing; resuming without
    one continues to the same weights as a run that was never stopped. The spent CPU time accumulates."""
    common = ["--config", "tiny", "--data", str(synth_dataset), "--no-progress"]
    assert main(["train", "parsing", "--runs", str(tmp_path / "a"), "--steps", "3", "--cpu-budget", "0.001",
                 *common]) == 0
    out = capsys.readouterr().out
    assert "parsing: step 1 of 3" in out and "CPU budget 0.001 s reached" in out, out
    stage_dir = tmp_path / "a" / "parsing"
    assert (stage_dir / "latest").read_text().strip() == "step_000001"
    first = load_training_state(stage_dir / "step_000001")["cpu_seconds"]
    assert first >= 0.001

    config = load_config("tiny")
    config.parsing.schedule.steps = 3
    again = train("parsing", config, synth_dataset, tmp_path / "a", resume=True, progress=False, cpu_budget=0.001)
    assert again.step == 1 and again.budget_reached and not again.interrupted
    assert sorted(p.name for p in stage_dir.glob("step_*")) == ["step_000001"]  # nothing trained, nothing new

    resumed = train("parsing", config, synth_dataset, tmp_path / "a", resume=True, progress=False)
    straight = train("parsing", config, synth_dataset, tmp_path / "b", progress=False, cpu_budget=1e6)
    assert resumed.step == straight.step == 3 and not resumed.budget_reached and not straight.budget_reached
    _assert_same_weights(resumed.checkpoint, straight.checkpoint)
    assert load_training_state(resumed.checkpoint)["cpu_seconds"] > first
    assert 0 < straight.cpu_seconds == pytest.approx(load_training_state(straight.checkpoint)["cpu_seconds"], abs=1)


def test_use_flow_false_trains_without_the_flow_stage(synth_dataset, tmp_path):
    config = _tiny_yaml(tmp_path, foreground__generator__use_flow=False)
    assert main(["train", "foreground", "--config", str(config), "--data", str(synth_dataset), "--runs",
                 str(tmp_path / "runs"), "--steps", "1", "--no-progress"]) == 0
    networks, saved = load_stage(tmp_path / "runs", "foreground")
    assert not saved.foreground.generator.use_flow and networks["generator"].warp_blocks is None
    # Fusion reads that from RUNS/foreground/config.yaml: with ground-truth parsing it needs no other stage.
    config = _tiny_yaml(tmp_path, "gt", fusion__parsing_input="ground_truth")
    assert main(["train", "fusion", "--config", str(config), "--data", str(synth_dataset), "--runs",
                 str(tmp_path / "runs"), "--steps", "1", "--no-progress"]) == 0


def test_generated_parsing_input(tiny_runs, synth_dataset, tmp_path):
    """foreground.parsing_input: generated feeds stage 1's softmax and needs RUNS/parsing."""
    config = _tiny_yaml(tmp_path, foreground__parsing_input="generated")
    shutil.copytree(tiny_runs / "flow", tmp_path / "runs" / "flow")
    args = ["train", "foreground", "--config", str(config), "--data", str(synth_dataset), "--runs",
            str(tmp_path / "runs"), "--steps", "1", "--no-progress"]
    assert main(args) == 2  # no RUNS/parsing yet
    shutil.copytree(tiny_runs / "parsing", tmp_path / "runs" / "parsing")
    assert main(args) == 0


def _error(capsys, *args):
    code = main(list(args))
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "Traceback" not in err, err
    return err


def test_one_line_errors(capsys, synth_dataset, tmp_path, tiny_runs):
    data = str(synth_dataset)
    assert "unknown stage 'pose'; known: parsing, flow, foreground, fusion" in _error(
        capsys, "train", "pose", "--config", "tiny", "--data", data, "--runs", str(tmp_path))
    err = _error(capsys, "train", "flow", "--config", "huge", "--data", data, "--runs", str(tmp_path))
    assert "unknown config 'huge'; known: " in err and "paper, tiny" in err
    bad = tmp_path / "bad.yaml"
    bad.write_text("flow:\n  network: {chanels: [8, 16]}\n")
    assert "unknown key config.flow.network.chanels" in _error(
        capsys, "train", "flow", "--config", str(bad), "--data", data, "--runs", str(tmp_path))
    assert "data folder" in _error(
        capsys, "train", "flow", "--config", "tiny", "--data", str(tmp_path / "nothing"), "--runs", str(tmp_path))
    err = _error(capsys, "train", "foreground", "--config", "tiny", "--data", data, "--runs", str(tmp_path / "r"))
    assert "flow has no checkpoint" in err and "train the flow stage first: cpfnet train flow" in err
    err = _error(capsys, "train", "fusion", "--config", "tiny", "--data", data, "--runs", str(tmp_path / "r"))
    assert "train the parsing stage first" in err
    assert "--cpu-budget must be a positive number of seconds, got 0.0" in _error(
        capsys, "train", "parsing", "--config", "tiny", "--data", data, "--runs", str(tmp_path / "r"),
        "--cpu-budget", "0")
    assert "pass --resume to continue or choose another --runs" in _error(
        capsys, "train", "parsing", "--config", "tiny", "--data", data, "--runs", str(tiny_runs), "--steps", "1")
    other = _tiny_yaml(tmp_path, parsing__optimizer__lr=1e-3)
    err = _error(capsys, "train", "parsing", "--config", str(other), "--data", data, "--runs", str(tiny_runs),
                 "--resume")
    assert "config differs" in err and "parsing.optimizer.lr" in err
    assert not (tmp_path / "r").exists() or not list((tmp_path / "r").rglob("step_*"))


def test_fusion_judged_on_photo_pixels_learns_its_mask_and_needs_flow(tiny_runs, synth_dataset, tmp_path):
    """fusion.loss_on: photo_pixels judges the warped appearance within the warped mask x the fusion mask (what
    transfer's default pixel path shows): another loss than eq. 5's from the same start, and it falls on a
    fixed batch (with mask_prior the network starts as stage 1's mask)."""
    from cpfnet.dataset.readers import Clips
    from cpfnet.stages.fusion.task import FusionTask
    from cpfnet.training.distributed import Context
    from cpfnet.training.trainer import seed_everything

    config = load_config("tiny")
    config.fusion.network.mask_prior = True
    # A fixed batch: learn it quickly, but not so fast that Adam overshoots (1e-2 oscillated on some CPUs).
    config.fusion.optimizer.lr = 3e-3
    clips = Clips(synth_dataset, length=config.fusion.clip_length, size=64)
    batch = torch.utils.data.default_collate([clips[0], clips[len(clips) - 1]])
    firsts = {}
    for loss_on in ("eq5", "photo_pixels"):
        config.fusion.loss_on = loss_on
        seed_everything(0)
        task = FusionTask(config, tiny_runs, Context())
        totals = []
        for _ in range(20 if loss_on == "photo_pixels" else 1):
            losses = task.generator_step(batch).losses
            total = sum(losses.values())
            task.optimizers["generator"].zero_grad()
            total.backward()
            task.optimizers["generator"].step()
            totals.append(float(total.detach()))
        firsts[loss_on] = totals[0]
    assert abs(firsts["eq5"] - firsts["photo_pixels"]) > 1e-3, firsts
    assert np.mean(totals[-5:]) < 0.97 * np.mean(totals[:3]), totals
    # Without appearance flow there are no photo pixels to judge.
    noflow = tmp_path / "noflow"
    config = _tiny_yaml(tmp_path, foreground__generator__use_flow=False)
    assert main(["train", "foreground", "--config", str(config), "--data", str(synth_dataset), "--runs",
                 str(noflow), "--steps", "1", "--no-progress"]) == 0
    shutil.copytree(tiny_runs / "parsing", noflow / "parsing")
    config = _tiny_yaml(tmp_path, "px", fusion__loss_on="photo_pixels")
    assert main(["train", "fusion", "--config", str(config), "--data", str(synth_dataset), "--runs", str(noflow),
                 "--steps", "1", "--no-progress"]) == 2
