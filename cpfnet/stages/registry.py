"""The stages, by name: the one place stage names are spelled. An unknown name fails with the known ones.

Each entry says where a stage's parts are: its config section (a key of the experiment YAML) and the
section's dataclass, the function that builds its inference networks from that section (what later stages,
transfer and evaluation load; no discriminator), their names (also their weight files, NETWORK.safetensors),
and, as dotted paths imported only on use, its training Task and, for a baseline, its transfer pipeline and
its row of the comparison table. Importing this module imports no training code.

Adding a stage (e.g. another baseline) is one entry here plus its folder (network.py, config.py, task.py and
for a baseline pipeline.py); the experiment config, `cpfnet train`, the loaders and the table follow.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

from torch import nn

from cpfnet.baselines.fewshot_vid2vid import config as fewshot_vid2vid
from cpfnet.baselines.lwg import config as lwg
from cpfnet.baselines.pix2pixhd import config as pix2pixhd
from cpfnet.baselines.soft_gated import config as soft_gated
from cpfnet.baselines.vid2vid import config as vid2vid
from cpfnet.errors import UserError
from cpfnet.stages.flow import config as flow
from cpfnet.stages.foreground import config as foreground
from cpfnet.stages.fusion import config as fusion
from cpfnet.stages.parsing import config as parsing


@dataclass(frozen=True)
class Stage:
    name: str  # `cpfnet train NAME`, the folder RUNS/NAME
    section: str  # its section of the experiment config
    config: type  # the section's dataclass (with `validate(where)`)
    build: Callable[[Any], dict[str, nn.Module]]  # section -> inference networks, freshly initialised
    networks: tuple[str, ...]  # what `build` returns, by name: the weight files later stages load
    task: str  # "module:Class" of its training Task (cpfnet.training.task)
    pipeline: str | None = None  # a baseline's "module:Class" with `from_checkpoints(runs, device, **kw)`
    method: str | None = None  # a baseline's row of the comparison table (cpfnet.evaluation.methods)

    @property
    def baseline(self) -> bool:
        return self.pipeline is not None

    def task_class(self) -> type:
        """The stage's Task subclass (imports the training code)."""
        return _resolve(self.task)

    def pipeline_class(self) -> type:
        if self.pipeline is None:
            raise UserError(f"stage {self.name} is not a baseline: it has no pipeline of its own")
        return _resolve(self.pipeline)


def _resolve(path: str):
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


# CPF-Net's stages in training order (paper III-B to III-D), then the baselines (IV-A2).
_STAGES = (
    Stage("parsing", "parsing", parsing.ParsingStageConfig, parsing.build_networks, ("generator",),
          "cpfnet.stages.parsing.task:ParsingTask"),
    Stage("flow", "flow", flow.FlowStageConfig, flow.build_networks, ("flow",),
          "cpfnet.stages.flow.task:FlowTask"),
    Stage("foreground", "foreground", foreground.ForegroundStageConfig, foreground.build_networks, ("generator",),
          "cpfnet.stages.foreground.task:ForegroundTask"),
    Stage("fusion", "fusion", fusion.FusionStageConfig, fusion.build_networks, ("fusion",),
          "cpfnet.stages.fusion.task:FusionTask"),
    Stage("baseline-pix2pixhd", "baseline", pix2pixhd.BaselineStageConfig, pix2pixhd.build_networks, ("generator",),
          "cpfnet.baselines.pix2pixhd.task:Pix2PixHDTask",
          pipeline="cpfnet.baselines.pix2pixhd.pipeline:Pix2PixHDPipeline", method="pix2pixHD"),
    Stage("baseline-vid2vid", "baseline_vid2vid", vid2vid.Vid2VidStageConfig, vid2vid.build_networks, ("generator",),
          "cpfnet.baselines.vid2vid.task:Vid2VidTask",
          pipeline="cpfnet.baselines.vid2vid.pipeline:Vid2VidPipeline", method="vid2vid"),
    Stage("baseline-fewshot-vid2vid", "baseline_fewshot_vid2vid", fewshot_vid2vid.FewShotVid2VidStageConfig,
          fewshot_vid2vid.build_networks, ("generator",), "cpfnet.baselines.fewshot_vid2vid.task:FewShotVid2VidTask",
          pipeline="cpfnet.baselines.fewshot_vid2vid.pipeline:FewShotVid2VidPipeline", method="Few-shot vid2vid"),
    Stage("baseline-soft-gated", "soft_gated", soft_gated.SoftGatedStageConfig, soft_gated.build_networks,
          ("parser", "matcher", "generator"), "cpfnet.baselines.soft_gated.task:SoftGatedTask",
          pipeline="cpfnet.baselines.soft_gated.pipeline:SoftGatedPipeline", method="Soft-Gated Warping-GAN"),
    Stage("baseline-lwg", "lwg", lwg.LiquidWarpingStageConfig, lwg.build_networks, ("generator",),
          "cpfnet.baselines.lwg.task:LiquidWarpingTask",
          pipeline="cpfnet.baselines.lwg.pipeline:LiquidWarpingPipeline", method="Liquid Warping GAN"),
)
STAGES: dict[str, Stage] = {s.name: s for s in _STAGES}
CPF_STAGES = tuple(s.name for s in _STAGES if not s.baseline)  # the full model's, in training order
BASELINES = tuple(s.name for s in _STAGES if s.baseline)


def stage(name: str) -> Stage:
    """The entry of stage `name`; an unknown name is a UserError listing the known ones."""
    if name not in STAGES:
        raise UserError(f"unknown stage {name!r}; known: {', '.join(STAGES)}")
    return STAGES[name]


def check_stage(name: str) -> str:
    """`name` if it is a known stage (else the UserError of `stage`)."""
    return stage(name).name


def _entry_of(cls: type, kind: str) -> Stage:
    path = f"{cls.__module__}:{cls.__qualname__}"
    for entry in _STAGES:
        if getattr(entry, kind) == path:
            return entry
    raise TypeError(f"{path} is no stage's {kind}; known: {', '.join(str(getattr(s, kind)) for s in _STAGES)}")


def task_stage(task: type) -> Stage:
    """The entry whose Task is the class `task` (how a Task knows its stage name)."""
    return _entry_of(task, "task")


def pipeline_stage(pipeline: type) -> Stage:
    """The entry whose baseline pipeline is the class `pipeline`."""
    return _entry_of(pipeline, "pipeline")
