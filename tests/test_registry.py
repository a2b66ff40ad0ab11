"""The stage registry (one entry per stage), the experiment config it composes, inference loading apart from
training, and the one broadcast op."""

import dataclasses
import subprocess
import sys
import textwrap

import pytest
import torch

from cpfnet.configs.experiment import Config, load_config
from cpfnet.errors import UserError
from cpfnet.ops.batch import broadcast_batch
from cpfnet.stages import registry
from cpfnet.stages.weights import foreground_uses_flow, has_stage, load_stage, require_checkpoint


def test_unknown_stage_lists_the_known_ones():
    with pytest.raises(UserError, match=r"unknown stage 'segmentation'; known: parsing, flow, foreground, fusion, "
                                        r"baseline-pix2pixhd, baseline-vid2vid, baseline-fewshot-vid2vid, "
                                        r"baseline-soft-gated, baseline-lwg$"):
        registry.stage("segmentation")


def test_the_config_has_one_section_per_registered_stage():
    names = [f.name for f in dataclasses.fields(Config)]
    assert names == ["data", "train"] + [s.section for s in registry.STAGES.values()]
    config = load_config("tiny")
    for entry in registry.STAGES.values():
        assert isinstance(config.stage(entry.name), entry.config)


def test_each_stage_builds_exactly_its_inference_networks():
    """The registry's `networks` are what `build` makes (no discriminator); the Task adds only discriminators
    (the sequential baselines have two, D_I and D_V)."""
    config = load_config("tiny")
    for entry in registry.STAGES.values():
        inference = entry.build(config.stage(entry.name))
        assert tuple(inference) == entry.networks and "discriminator" not in inference
        trained = entry.task_class().build_networks(config)
        assert all(name.endswith("discriminator") for name in set(trained) - set(inference))
        assert registry.task_stage(entry.task_class()) is entry
        if entry.baseline:
            assert registry.pipeline_stage(entry.pipeline_class()) is entry and entry.method
    assert registry.CPF_STAGES == ("parsing", "flow", "foreground", "fusion")


def test_loading_without_a_trained_stage_says_how_to_train_it(tmp_path):
    assert not has_stage(tmp_path, "flow") and foreground_uses_flow(tmp_path)
    with pytest.raises(UserError, match=r"has no checkpoint \(fusion needs it\); train the flow stage first"):
        require_checkpoint(tmp_path, "flow", needed_by="fusion")
    with pytest.raises(UserError, match="unknown stage 'flows'"):
        load_stage(tmp_path, "flows")


# Inference modules and the trainer-only modules they must not pull in. `import torch` itself imports
# torch.distributed and DistributedDataParallel's module, so the check is on what comes only with training:
# cpfnet.training (the DDP wrapping, trainer, checkpoint writing), the stages' Tasks and TensorBoard.
_IMPORTS = ["cpfnet.transfer", "cpfnet.transfer.pipeline", "cpfnet.transfer.models", "cpfnet.transfer.video",
            "cpfnet.baselines.pix2pixhd.pipeline", "cpfnet.baselines.vid2vid.pipeline",
            "cpfnet.baselines.fewshot_vid2vid.pipeline", "cpfnet.evaluation.methods", "cpfnet.stages.weights"]
_CHECK = textwrap.dedent("""
    import importlib, sys
    for name in sys.argv[1:]:
        importlib.import_module(name)
    banned = [m for m in sys.modules if m.startswith("cpfnet.training") or m.endswith(".task")
              or m.startswith("torch.utils.tensorboard")]
    print(" ".join(sorted(banned)))
""")


def _imported_with(*modules: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", _CHECK, *modules], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_inference_imports_no_training_code():
    assert _imported_with(*_IMPORTS) == []


def test_loading_weights_imports_no_dataset_or_training_code():
    assert _imported_with("cpfnet.stages.weights", "cpfnet.stages.registry") == []
    done = subprocess.run([sys.executable, "-c", "import sys, cpfnet.stages.weights; "
                           "print(sorted(m for m in sys.modules if m.startswith('cpfnet.dataset')))"],
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "[]", done.stderr


def test_the_import_check_can_fail():
    assert "cpfnet.training.trainer" in _imported_with("cpfnet.training.trainer")


def test_broadcast_batch():
    x = torch.rand(1, 3, 4, 4)
    y = broadcast_batch(x, 5)
    assert y.shape == (5, 3, 4, 4) and y.stride(0) == 0 and y.data_ptr() == x.data_ptr()
    z = torch.rand(5, 3, 4, 4)
    assert broadcast_batch(z, 5) is z
    with pytest.raises(ValueError, match=r"appearance has batch 2, expected 5 \(only batch 1 broadcasts\)"):
        broadcast_batch(torch.rand(2, 3), 5, "appearance")
