"""What may change when a run is resumed: `config_difference` compares the settings that decide what a stage
learns (data, train and its own section) with those it was trained with, less RESUMABLE_KEYS."""

from __future__ import annotations

from typing import Any

from cpfnet.configs.dataclass_yaml import to_dict
from cpfnet.configs.experiment import Config
from cpfnet.stages import registry

# Keys that may change when a run is resumed: they decide how long and how visibly it trains, not what.
RESUMABLE_KEYS = {"schedule.steps", "schedule.epochs", "train.log_every", "train.image_every",
                  "train.checkpoint_every", "train.keep_checkpoints", "train.threads", "data.num_workers"}


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
    section = registry.stage(stage).section
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
