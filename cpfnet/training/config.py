"""Training configuration: one YAML per experiment -> typed dataclasses that reject unknown keys.

The network sections mirror the networks' own config dataclasses (`Net(**asdict(cfg))`), the loss sections
the losses' config dataclasses. Keys left out take the dataclass defaults, which are paper scale; the resolved
config (every key filled in) is saved beside the checkpoints as RUNS/STAGE/config.yaml.

Named configs ship with the package (cpfnet/configs/NAME.yaml); a path to a YAML file works too.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from cpfnet.baselines.pix2pixhd import Pix2PixHDDiscriminatorConfig, Pix2PixHDGeneratorConfig
from cpfnet.errors import UserError
from cpfnet.nn.perceptual import PerceptualConfig
from cpfnet.stages.flow.losses import FlowLossConfig
from cpfnet.stages.flow.network import FlowRegressorConfig
from cpfnet.stages.foreground.losses import ForegroundLossConfig
from cpfnet.stages.foreground.network import ForegroundDiscriminatorConfig, ForegroundGeneratorConfig
from cpfnet.stages.fusion.losses import FusionLossConfig
from cpfnet.stages.fusion.network import FusionNetConfig
from cpfnet.stages.parsing.losses import ParsingLossConfig
from cpfnet.stages.parsing.network import ParsingGeneratorConfig

STAGES = ("parsing", "flow", "foreground", "fusion", "baseline-pix2pixhd")  # training order; the baseline is apart
# Config section of a stage whose name is not a Python identifier.
SECTIONS = {"baseline-pix2pixhd": "baseline"}
PARSING_INPUTS = ("ground_truth", "generated")


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


@dataclass
class Schedule:
    """How long a stage trains: `steps`, or `epochs` over its dataset when steps is 0. `batch_size` is the
    global batch; under torchrun each process takes batch_size / world_size of it."""

    batch_size: int = 8
    steps: int = 0
    epochs: float = 0.0


@dataclass
class ParsingStageConfig:
    """Stage 1 (III-B): G_parsing, L1 + cross-entropy weight 10 each, lr 2e-4."""

    network: ParsingGeneratorConfig = field(default_factory=ParsingGeneratorConfig)
    loss: ParsingLossConfig = field(default_factory=ParsingLossConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    schedule: Schedule = field(default_factory=lambda: Schedule(8, 0, 30.0))


@dataclass
class FlowStageConfig:
    """Stage 2a (III-C): the flow regression network, EPE + visibility cross-entropy."""

    network: FlowRegressorConfig = field(default_factory=FlowRegressorConfig)
    loss: FlowLossConfig = field(default_factory=FlowLossConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    schedule: Schedule = field(default_factory=lambda: Schedule(8, 0, 10.0))


@dataclass
class ForegroundStageConfig:
    """Stage 2b (III-C, IV-A3): G_fg and D alternate, lr 2e-4 / 2e-5, weights adv 0.01, L1 1, perceptual 1.

    `parsing_input`: which x_parsing^i G_fg sees while training: 'ground_truth' (teacher forcing, one-hot of
    the frame's parsing) or 'generated' (the trained parsing stage's softmax, needs RUNS/parsing).
    `generator.use_flow: false` is the ablation "w/o appearance flow" (then RUNS/flow is not needed)."""

    generator: ForegroundGeneratorConfig = field(default_factory=ForegroundGeneratorConfig)
    discriminator: ForegroundDiscriminatorConfig = field(default_factory=ForegroundDiscriminatorConfig)
    loss: ForegroundLossConfig = field(default_factory=ForegroundLossConfig)
    perceptual: PerceptualConfig = field(default_factory=PerceptualConfig)
    generator_optimizer: OptimizerConfig = field(default_factory=lambda: OptimizerConfig(2e-4))
    discriminator_optimizer: OptimizerConfig = field(default_factory=lambda: OptimizerConfig(2e-5))
    parsing_input: str = "ground_truth"
    schedule: Schedule = field(default_factory=lambda: Schedule(8, 0, 40.0))


@dataclass
class FusionStageConfig:
    """Stage 3 (III-D, IV-A3): the fusion network on K consecutive frames, L1 + perceptual weight 1, lr 1e-4,
    batch 1. `parsing_input` as for the foreground stage; 'generated' (the default) needs RUNS/parsing."""

    network: FusionNetConfig = field(default_factory=FusionNetConfig)
    loss: FusionLossConfig = field(default_factory=FusionLossConfig)
    perceptual: PerceptualConfig = field(default_factory=PerceptualConfig)
    optimizer: OptimizerConfig = field(default_factory=lambda: OptimizerConfig(1e-4))
    parsing_input: str = "generated"
    clip_length: int = 5  # K
    schedule: Schedule = field(default_factory=lambda: Schedule(1, 2030, 0.0))


@dataclass
class BaselineStageConfig:
    """The pix2pixHD baseline (IV-A2), stage `baseline-pix2pixhd` (cpfnet.baselines): one generator from (pose
    maps, I_a, the previous L = generator.previous_frames generated frames) to the frame, on clips of
    `clip_length` consecutive frames, with stage 2b's discriminator, losses, weights and learning rates.
    `detach_previous`: the previous generated frames enter as constants (as in vid2vid); false backpropagates
    through the whole clip."""

    generator: Pix2PixHDGeneratorConfig = field(default_factory=Pix2PixHDGeneratorConfig)
    discriminator: Pix2PixHDDiscriminatorConfig = field(default_factory=Pix2PixHDDiscriminatorConfig)
    loss: ForegroundLossConfig = field(default_factory=ForegroundLossConfig)
    perceptual: PerceptualConfig = field(default_factory=PerceptualConfig)
    generator_optimizer: OptimizerConfig = field(default_factory=lambda: OptimizerConfig(2e-4))
    discriminator_optimizer: OptimizerConfig = field(default_factory=lambda: OptimizerConfig(2e-5))
    clip_length: int = 4
    detach_previous: bool = True
    schedule: Schedule = field(default_factory=lambda: Schedule(2, 0, 10.0))


@dataclass
class Config:
    """A whole experiment: shared data and loop settings, then one section per stage."""

    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    parsing: ParsingStageConfig = field(default_factory=ParsingStageConfig)
    flow: FlowStageConfig = field(default_factory=FlowStageConfig)
    foreground: ForegroundStageConfig = field(default_factory=ForegroundStageConfig)
    fusion: FusionStageConfig = field(default_factory=FusionStageConfig)
    baseline: BaselineStageConfig = field(default_factory=BaselineStageConfig)

    def stage(self, name: str):
        """The section of stage `name`."""
        return getattr(self, section_name(name))


# Keys that may change when a run is resumed: they decide how long and how visibly it trains, not what.
RESUMABLE_KEYS = {"schedule.steps", "schedule.epochs", "train.log_every", "train.image_every",
                  "train.checkpoint_every", "train.keep_checkpoints", "train.threads", "data.num_workers"}


def check_stage(name: str) -> str:
    if name not in STAGES:
        raise UserError(f"unknown stage {name!r}; known: {', '.join(STAGES)}")
    return name


def section_name(stage: str) -> str:
    """The config section of stage `stage` ('baseline-pix2pixhd' -> 'baseline')."""
    return SECTIONS.get(check_stage(stage), stage)


def known_configs() -> list[str]:
    """Names of the configs that ship with cpfnet (cpfnet/configs/*.yaml)."""
    return sorted(p.name[:-5] for p in resources.files("cpfnet.configs").iterdir() if p.name.endswith(".yaml"))


def _type_name(tp) -> str:
    return getattr(tp, "__name__", str(tp))


def _convert(value: Any, tp, where: str) -> Any:
    """Check and convert one YAML value to the annotated type `tp`."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(tp)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _convert(value, option, where)
            except UserError as exc:
                errors.append(str(exc))
        raise UserError(errors[0])
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, where)
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(value, (list, tuple)):
            raise UserError(f"{where}: expected a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(v, args[0], f"{where}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise UserError(f"{where}: expected {len(args)} values, got {len(value)}")
        return tuple(_convert(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
    if tp is bool:
        if not isinstance(value, bool):
            raise UserError(f"{where}: expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise UserError(f"{where}: expected an integer, got {value!r}")
        return value
    if tp is float:
        # PyYAML reads 2e-4 (no dot) as a string; accept it as the number it means.
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise UserError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise UserError(f"{where}: expected a string, got {value!r}")
        return value
    raise TypeError(f"{where}: unsupported config type {_type_name(tp)}")


def from_dict(cls, data: Any, where: str = "config"):
    """Build dataclass `cls` from a YAML mapping; unknown keys and wrong types are one-line UserErrors."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UserError(f"{where}: expected a mapping of keys, got {data!r}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = [k for k in data if k not in names]
    if unknown:
        raise UserError(f"unknown key {where}.{unknown[0]}; known keys of {where}: {', '.join(names)}")
    return cls(**{k: _convert(v, hints[k], f"{where}.{k}") for k, v in data.items()})


def to_dict(config) -> dict:
    """A config dataclass -> plain YAML-ready dict (tuples as lists)."""
    def plain(value):
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value
    return plain(dataclasses.asdict(config))


def resolve_config_path(name_or_path: str) -> Path:
    """A shipped config's name ('tiny', 'paper') or a path to a YAML file -> the file."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        if not path.is_file():
            raise UserError(f"config file {path} not found")
        return path
    names = known_configs()
    if name_or_path not in names:
        raise UserError(f"unknown config {name_or_path!r}; known: {', '.join(names)} (or give a path to a YAML file)")
    return Path(str(resources.files("cpfnet.configs") / f"{name_or_path}.yaml"))


def parse_config(text: str, where: str = "config") -> Config:
    """YAML text -> Config (validated)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UserError(f"{where}: not valid YAML ({str(exc).splitlines()[0]})") from None
    config = from_dict(Config, data, "config")
    validate(config)
    return config


def load_config(name_or_path: str) -> Config:
    """Load a named or file config; every error is a one-line UserError naming the key."""
    path = resolve_config_path(name_or_path)
    try:
        return parse_config(path.read_text(), str(path))
    except UserError as exc:
        raise UserError(f"{path.name}: {exc}") from None


def dump_config(config: Config) -> str:
    return yaml.safe_dump(to_dict(config), sort_keys=False, default_flow_style=False)


def validate(config: Config) -> None:
    """Value checks the types cannot express."""
    if config.data.size < 8:
        raise UserError(f"data.size must be at least 8, got {config.data.size}")
    if config.data.pose_sigma <= 0:
        raise UserError(f"data.pose_sigma must be positive, got {config.data.pose_sigma}")
    if config.data.num_workers < 0 or config.train.threads < 0:
        raise UserError("data.num_workers and train.threads must not be negative")
    for key in ("log_every", "image_every", "checkpoint_every", "keep_checkpoints"):
        if getattr(config.train, key) < 1:
            raise UserError(f"train.{key} must be at least 1, got {getattr(config.train, key)}")
    for stage in STAGES:
        name = section_name(stage)
        section = getattr(config, name)
        schedule = section.schedule
        if schedule.batch_size < 1:
            raise UserError(f"{name}.schedule.batch_size must be at least 1, got {schedule.batch_size}")
        if schedule.steps < 0 or schedule.epochs < 0 or (schedule.steps == 0) == (schedule.epochs == 0):
            raise UserError(f"{name}.schedule: give exactly one of steps and epochs (the other 0), "
                            f"got steps {schedule.steps}, epochs {schedule.epochs}")
        if getattr(section, "parsing_input", "ground_truth") not in PARSING_INPUTS:
            raise UserError(f"{name}.parsing_input must be one of {', '.join(PARSING_INPUTS)}, "
                            f"got {section.parsing_input!r}")
    if config.fusion.clip_length < 2:
        raise UserError(f"fusion.clip_length must be at least 2, got {config.fusion.clip_length}")
    if config.baseline.clip_length < 2:
        raise UserError(f"baseline.clip_length must be at least 2, got {config.baseline.clip_length}")
    if config.baseline.generator.previous_frames < 0:
        raise UserError(f"baseline.generator.previous_frames must be 0 or more, got "
                        f"{config.baseline.generator.previous_frames}")


def _flatten(data: dict, prefix: str = "") -> dict[str, Any]:
    out = {}
    for k, v in data.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def stage_view(config: Config, stage: str) -> dict[str, Any]:
    """The flat key -> value settings that decide what stage `stage` learns: data, train and its own
    section, less RESUMABLE_KEYS. Resuming is allowed only when these are equal."""
    full = to_dict(config)
    section = section_name(stage)
    view = _flatten({"data": full["data"], "train": full["train"]})
    view.update(_flatten(full[section], f"{section}."))
    return {k: v for k, v in view.items()
            if k not in RESUMABLE_KEYS and k.split(".", 1)[-1] not in RESUMABLE_KEYS}


def config_difference(saved: Config, current: Config, stage: str) -> str | None:
    """The first setting of `stage` that differs ('key: saved -> current'), or None."""
    a, b = stage_view(saved, stage), stage_view(current, stage)
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            return f"{key}: {a.get(key)!r} -> {b.get(key)!r}"
    return None
