"""The experiment config: one YAML per experiment -> typed dataclasses that reject unknown keys.

`Config` has the shared `data` and `train` sections, then one section per stage of `cpfnet.stages.registry`
(parsing, flow, foreground, fusion, baseline), each the dataclass of its stage folder's config.py. The network
sections mirror the networks' own config dataclasses (`Net(**asdict(cfg))`), the loss sections the losses'.
Keys left out take the dataclass defaults, which are paper scale; the resolved config (every key filled in) is
saved beside the checkpoints as RUNS/STAGE/config.yaml.

Named configs ship with the package (cpfnet/configs/NAME.yaml); a path to a YAML file works too.
"""

from __future__ import annotations

from dataclasses import field, make_dataclass
from importlib import resources
from pathlib import Path

from cpfnet.body.pose_maps import POSE_CHANNELS
from cpfnet.configs.common import (DataConfig, TrainConfig, check_fixed_by_data, check_ranges,
                                   check_size_divisible)
from cpfnet.configs.dataclass_yaml import dump_yaml, from_dict, load_yaml
from cpfnet.errors import UserError
from cpfnet.memory import check_fits
from cpfnet.stages import registry


def _stage_section(self, name: str):
    """The section of stage `name` (e.g. 'baseline-pix2pixhd' -> config.baseline)."""
    return getattr(self, registry.stage(name).section)


Config = make_dataclass(
    "Config",
    [("data", DataConfig, field(default_factory=DataConfig)),
     ("train", TrainConfig, field(default_factory=TrainConfig))]
    + [(s.section, s.config, field(default_factory=s.config)) for s in registry.STAGES.values()],
    namespace={"stage": _stage_section},
)
Config.__module__ = __name__  # so pickle (DDP's spawned processes) finds it
Config.__doc__ = """A whole experiment: shared data and loop settings, then one section per registered stage."""


def known_configs() -> list[str]:
    """Names of the configs that ship with cpfnet (cpfnet/configs/*.yaml)."""
    return sorted(p.name[:-5] for p in resources.files("cpfnet.configs").iterdir() if p.name.endswith(".yaml"))


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


def validate(config: Config) -> None:
    """Value checks the types cannot express: every number in its key's range, each section's own
    `validate`, and the keys the data fixes."""
    config.data.validate("data")
    config.train.validate("train")
    check_ranges(config.data, "data")
    check_ranges(config.train, "train")
    for entry in registry.STAGES.values():
        section = getattr(config, entry.section)
        section.validate(entry.section)
        check_ranges(section, entry.section)
        check_fixed_by_data(section, entry.section)


def check_trainable(config: Config, stage: str) -> None:
    """What training `stage` needs of the config beyond `validate`: a crop size its networks can halve as
    often as they do, and one batch's inputs within the available memory (a floor: pose maps, frame and
    appearance image of every sample, float32; K frames each for clip stages). Checked before RUNS is touched."""
    section = config.stage(stage)
    size = config.data.size
    check_size_divisible(size, section, section_name(stage))
    batch = section.schedule.batch_size
    frames = getattr(section, "clip_length", 1)
    per_sample = (POSE_CHANNELS + 6) * frames
    check_fits(batch * per_sample * size * size * 4,
               f"one batch of {stage} ({batch} x {per_sample} channels x {size} x {size} x 4 bytes)",
               f"lower data.size or {section_name(stage)}.schedule.batch_size")


def section_name(stage: str) -> str:
    return registry.stage(stage).section


def parse_config(text: str, where: str = "config") -> Config:
    """YAML text -> Config (validated). An empty file is an error: it would silently mean every default
    (the paper's configuration); `{}` says that on purpose."""
    data = load_yaml(text, where)
    if data is None:
        raise UserError("the config file is empty (no keys); give the keys to change, a shipped config's name "
                        "(" + ", ".join(known_configs()) + "), or `{}` for every default (the paper's settings)")
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
    return dump_yaml(config)
