"""Config pieces every experiment or stage section shares: data, loop, optimizer, schedule, and the checks
that go with them (each `validate(where)` raises a one-line UserError naming the key)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from cpfnet.body.parsing_labels import NUM_LABELS
from cpfnet.body.pose_maps import POSE_CHANNELS
from cpfnet.errors import UserError

PARSING_INPUTS = ("ground_truth", "generated")
# Network keys whose value the data decides, not the experiment: any section may name them (the network
# configs mirror their constructors), but only with this value.
FIXED_BY_DATA = {
    "num_labels": (NUM_LABELS, "the 20 LIP parsing labels"),
    "pose_channels": (POSE_CHANNELS, "the pose maps: 18 keypoint heatmaps + 17 limb maps"),
}


@dataclass
class OptimizerConfig:
    """Adam (paper IV-A3: beta1 0.5, beta2 0.999 for every stage); the learning rate stays constant."""

    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)


@dataclass
class DataConfig:
    """How samples are read: every image is resized on load to `size` x `size` (paper: 448)."""

    size: int = 448
    pose_sigma: float = 6.0  # Gaussian sigma of the pose maps, pixels at `size`
    num_workers: int = 4  # DataLoader worker processes per training process

    def validate(self, where: str = "data") -> None:
        if self.size < 8:
            raise UserError(f"{where}.size must be at least 8, got {self.size}")
        if self.pose_sigma <= 0:
            raise UserError(f"{where}.pose_sigma must be positive, got {self.pose_sigma}")
        if self.num_workers < 0:
            raise UserError(f"{where}.num_workers must not be negative, got {self.num_workers}")


@dataclass
class TrainConfig:
    """The loop: seed, logging and checkpoint intervals (in steps), CPU threads."""

    seed: int = 0
    log_every: int = 50  # TensorBoard scalars and the progress bar's losses
    image_every: int = 1000  # TensorBoard image grids
    checkpoint_every: int = 1000
    keep_checkpoints: int = 3  # the newest N step folders are kept
    threads: int = 0  # torch CPU threads per process; 0: the usable cores / local processes
    channels_last: bool = False  # channels-last memory format for networks and images

    def validate(self, where: str = "train") -> None:
        if self.threads < 0:
            raise UserError(f"{where}.threads must not be negative, got {self.threads}")
        for key in ("log_every", "image_every", "checkpoint_every", "keep_checkpoints"):
            if getattr(self, key) < 1:
                raise UserError(f"{where}.{key} must be at least 1, got {getattr(self, key)}")


@dataclass
class Schedule:
    """How long a stage trains: `steps`, or `epochs` over its dataset when steps is 0. `batch_size` is the
    global batch; under torchrun each process takes batch_size / world_size of it."""

    batch_size: int = 8
    steps: int = 0
    epochs: float = 0.0

    def validate(self, where: str) -> None:
        if self.batch_size < 1:
            raise UserError(f"{where}.batch_size must be at least 1, got {self.batch_size}")
        if self.steps < 0 or self.epochs < 0 or (self.steps == 0) == (self.epochs == 0):
            raise UserError(f"{where}: give exactly one of steps and epochs (the other 0), "
                            f"got steps {self.steps}, epochs {self.epochs}")


def check_parsing_input(value: str, where: str) -> None:
    if value not in PARSING_INPUTS:
        raise UserError(f"{where} must be one of {', '.join(PARSING_INPUTS)}, got {value!r}")


def check_at_least(value: int, minimum: int, where: str) -> None:
    if value < minimum:
        raise UserError(f"{where} must be at least {minimum}, got {value}")


def check_fixed_by_data(section, where: str) -> None:
    """Every FIXED_BY_DATA key anywhere in the (nested) dataclass `section` must have the data's value."""
    for f in dataclasses.fields(section):
        value = getattr(section, f.name)
        if dataclasses.is_dataclass(value):
            check_fixed_by_data(value, f"{where}.{f.name}")
        elif f.name in FIXED_BY_DATA and value != FIXED_BY_DATA[f.name][0]:
            fixed, why = FIXED_BY_DATA[f.name]
            raise UserError(f"{where}.{f.name} must be {fixed}, got {value}: the data fixes it ({why}); "
                            "leave the key out")
