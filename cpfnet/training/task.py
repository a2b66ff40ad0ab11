"""What a stage contributes to the shared trainer: its data, its networks, one step's losses.

A stage's Task (cpfnet/stages/<stage>/task.py) turns a batch into network inputs, runs the networks and calls
the stage's losses; the trainer (cpfnet.training.trainer) only sums the named terms, steps the optimizers,
logs and checkpoints. Adversarial stages also define `discriminator_step`; the generator and discriminator
then alternate, generator first, the discriminator judging the generator step's (detached) output.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Iterator

import torch
from torch import nn
from torch.utils.data import Dataset

from cpfnet.body.pose_maps import render_pose_maps
from cpfnet.configs.common import OptimizerConfig
from cpfnet.configs.experiment import Config
from cpfnet.errors import UserError
from cpfnet.stages import registry
from cpfnet.stages.weights import load_stage, require_checkpoint
from cpfnet.training.distributed import Context, unwrap, wrap


@dataclass
class StepResult:
    """losses: named, already-weighted terms whose sum the step minimises; metrics: numbers only logged;
    outputs: tensors the discriminator step and the image grids reuse."""

    losses: dict[str, torch.Tensor]
    metrics: dict[str, torch.Tensor] = field(default_factory=dict)
    outputs: dict[str, torch.Tensor] = field(default_factory=dict)


def adam(parameters, config: OptimizerConfig) -> torch.optim.Adam:
    """Adam with the config's constant learning rate and betas (paper IV-A3: 0.5, 0.999)."""
    return torch.optim.Adam(parameters, lr=config.lr, betas=tuple(config.betas))


@contextlib.contextmanager
def frozen(module: nn.Module) -> Iterator[nn.Module]:
    """Parameters without gradients for a while (the discriminator during the generator step): gradients still
    reach the inputs, but none are computed for, or accumulated into, the module's own parameters."""
    flags = [p.requires_grad for p in module.parameters()]
    module.requires_grad_(False)
    try:
        yield module
    finally:
        for p, flag in zip(module.parameters(), flags):
            p.requires_grad_(flag)


class Task:
    """Base of the stages' training logic. Subclasses set `optimized` and implement the rest; the registry
    (cpfnet.stages.registry) names each stage's Task, which gives the Task its stage name and section."""

    # Optimizer name -> the networks it trains; "generator" is stepped after generator_step and
    # "discriminator" (if present) after discriminator_step.
    optimized: ClassVar[dict[str, tuple[str, ...]]]

    def __init__(self, config: Config, runs: Path, ctx: Context):
        self.name = registry.task_stage(type(self)).name
        self.config = config
        self.section = config.stage(self.name)
        self.runs = Path(runs)
        self.ctx = ctx
        self.device = ctx.device
        self.size = config.data.size
        self.memory_format = torch.channels_last if config.train.channels_last else torch.contiguous_format
        needed = self.requirements(config, self.runs)
        for stage in needed:  # fail before any work when an earlier stage is missing
            require_checkpoint(self.runs, stage, needed_by=self.name)
        try:  # first, so the initial weights depend on the seed and config only
            built = self.build_networks(config)
        except ValueError as exc:  # a config value the network rejects (unknown norm, ...)
            raise UserError(f"{self.name} networks: {exc}") from None
        self.networks = {k: v.to(self.device, memory_format=self.memory_format) for k, v in built.items()}
        self.prerequisites = {stage: self._load_prerequisite(stage) for stage in needed}
        self.models: dict[str, nn.Module] = dict(self.networks)
        self.optimizers = {opt: adam([p for n in nets for p in self.networks[n].parameters()],
                                     self.optimizer_config(opt))
                           for opt, nets in self.optimized.items()}

    # --- what a stage defines -------------------------------------------------------------------------
    @classmethod
    def build_networks(cls, config: Config) -> dict[str, nn.Module]:
        """The trained networks, freshly initialised, by name (also the names of their weight files): the
        stage's inference networks (the registry's `build`); adversarial stages add their discriminator."""
        entry = registry.task_stage(cls)
        return entry.build(config.stage(entry.name))

    @classmethod
    def requirements(cls, config: Config, runs: Path) -> list[str]:
        """Stages that must already be trained in RUNS, in training order (their networks are used frozen)."""
        return []

    def optimizer_config(self, name: str) -> OptimizerConfig:
        return self.section.optimizer

    def dataset(self, data: Path) -> Dataset:
        raise NotImplementedError

    def generator_step(self, batch: dict) -> StepResult:
        raise NotImplementedError

    def discriminator_step(self, batch: dict, generated: StepResult) -> StepResult:
        raise NotImplementedError(f"stage {self.name} has no discriminator")

    def images(self, batch: dict, result: StepResult) -> dict[str, torch.Tensor]:
        """Columns of the TensorBoard grid: name -> [B, 3, H, W] in [-1, 1]."""
        return {}

    # --- shared helpers ---------------------------------------------------------------------------------
    @property
    def adversarial(self) -> bool:
        return "discriminator" in self.optimized

    def distribute(self) -> None:
        """Wrap the trained networks in DistributedDataParallel (after weights are loaded)."""
        self.models = {k: wrap(v, self.ctx) for k, v in self.networks.items()}

    def train_mode(self) -> None:
        for module in self.networks.values():
            module.train()

    def image(self, x: torch.Tensor) -> torch.Tensor:
        """A batch on the training device in the configured memory format."""
        return x.to(self.device, memory_format=self.memory_format)

    def pose_maps(self, keypoints: torch.Tensor) -> torch.Tensor:
        """[B, 18, 3] keypoints -> [B, 35, S, S] pose maps at the config's size and sigma."""
        maps = render_pose_maps(keypoints, self.size, self.size, self.config.data.pose_sigma)
        return self.image(maps)

    def _load_prerequisite(self, stage: str) -> dict[str, nn.Module]:
        networks, config = load_stage(self.runs, stage, self.device)
        mine, theirs = self.config.data, config.data
        if (mine.size, mine.pose_sigma) != (theirs.size, theirs.pose_sigma):
            raise UserError(f"{self.runs / stage} was trained with data.size {theirs.size} and pose_sigma "
                            f"{theirs.pose_sigma}, this config has {mine.size} and {mine.pose_sigma}; train the "
                            "stages of one RUNS folder with one config")
        return {k: v.to(memory_format=self.memory_format) for k, v in networks.items()}

    @staticmethod
    def unwrap(module: nn.Module) -> nn.Module:
        return unwrap(module)
