"""Config pieces every experiment or stage section shares: data, loop, optimizer, schedule, and the checks
that go with them (each `validate(where)` raises a one-line UserError naming the key)."""

from __future__ import annotations

import dataclasses
import math
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


def check_one_of(value: str, choices, where: str) -> None:
    if value not in choices:
        raise UserError(f"{where} must be one of {', '.join(choices)}, got {value!r}")


def check_parsing_input(value: str, where: str) -> None:
    check_one_of(value, PARSING_INPUTS, where)


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


# Range rules by key name, for every section (stages, baselines, their networks and losses alike), so a new
# section is checked without code of its own. Ints: at least 1, or at least 0 for counts that may be none.
_AT_LEAST_ZERO = {"n_downsample", "n_blocks", "n_adaptive_layers", "n_fc_layers", "flow_downsample", "flow_blocks",
                  "previous_frames", "attention_downsample", "seed", "steps", "threads", "num_workers"}
_AT_LEAST_ONE = {"ngf", "ndf", "flow_ngf", "channels", "regressor_channels", "n_layers", "num_d", "frames",
                 "temporal_scales", "match_size", "tps_grid", "batch_size", "size"}
_POSITIVE_FLOATS = {"lr", "pose_sigma", "reference_size", "flow_multiplier"}
SEED_LIMIT = 2 ** 32  # numpy's seeds


def _is_weight(name: str) -> bool:
    return name == "weight" or name.endswith("_weight") or name.endswith("_weights")


def check_ranges(section, where: str) -> None:
    """Every number of the (nested) dataclass `section` within its key's range: finite floats, positive
    learning rates, Adam betas in [0, 1), non-negative loss weights, positive widths and channel counts."""
    for f in dataclasses.fields(section):
        value, key = getattr(section, f.name), f"{where}.{f.name}"
        if dataclasses.is_dataclass(value):
            check_ranges(value, key)
            continue
        values = list(value) if isinstance(value, tuple) else [value]
        for i, v in enumerate(values):
            item = f"{key}[{i}]" if isinstance(value, tuple) else key
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                continue
            if isinstance(v, float) and not math.isfinite(v):
                raise UserError(f"{item} must be a finite number, got {v}")
            if f.name == "betas" and not 0 <= v < 1:
                raise UserError(f"{item} must be in [0, 1) (Adam's beta1, beta2; the paper: 0.5, 0.999), got {v}")
            if f.name in _POSITIVE_FLOATS and not v > 0:
                raise UserError(f"{item} must be positive, got {v}")
            if _is_weight(f.name) and v < 0:
                raise UserError(f"{item} must not be negative (0 switches the term off), got {v}")
            if f.name in _AT_LEAST_ONE and v < 1:
                raise UserError(f"{item} must be at least 1, got {v}")
            if f.name in _AT_LEAST_ZERO and v < 0:
                raise UserError(f"{item} must not be negative, got {v}")
            if f.name == "seed" and v >= SEED_LIMIT:
                raise UserError(f"{item} must be below 2**32, got {v}")


def downsampling(section) -> int:
    """The largest factor any network of the (nested) `section` halves its input by (2**n_downsample,
    2**flow_downsample): the crop size must be a multiple of it."""
    factor = 1
    for f in dataclasses.fields(section):
        value = getattr(section, f.name)
        if dataclasses.is_dataclass(value):
            factor = max(factor, downsampling(value))
        elif f.name in ("n_downsample", "flow_downsample") and isinstance(value, int) and 0 <= value < 31:
            factor = max(factor, 2 ** value)
    return factor


def check_size_divisible(size: int, section, where: str) -> None:
    factor = downsampling(section)
    if size % factor:
        raise UserError(f"data.size {size} must be a multiple of {factor}: the {where} networks halve it "
                        f"{factor.bit_length() - 1} times (use {size // factor * factor or factor} or "
                        f"{(size // factor + 1) * factor})")
