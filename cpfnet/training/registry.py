"""The stages that can be trained, by name; an unknown name fails with the list of known ones."""

from __future__ import annotations

import importlib

from cpfnet.training.config import STAGES, check_stage

# Each stage's training logic lives beside its network and losses: cpfnet/stages/<stage>/task.py.
_TASKS = {
    "parsing": "cpfnet.stages.parsing.task:ParsingTask",
    "flow": "cpfnet.stages.flow.task:FlowTask",
    "foreground": "cpfnet.stages.foreground.task:ForegroundTask",
    "fusion": "cpfnet.stages.fusion.task:FusionTask",
    "baseline-pix2pixhd": "cpfnet.baselines.task:Pix2PixHDTask",
}
assert tuple(_TASKS) == STAGES


def task_class(stage: str):
    """The Task subclass of `stage` (see cpfnet.training.task)."""
    module, name = _TASKS[check_stage(stage)].split(":")
    return getattr(importlib.import_module(module), name)
