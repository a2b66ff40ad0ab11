"""Copy a trained RUNS folder's inference weights into cpfnet/weights/default (the weights `cpfnet transfer`
and `cpfnet demo` use when no --checkpoints is given).

    python scripts/ship_weights.py RUNS [--without fusion]

Keeps, per stage, config.yaml and the latest checkpoint's inference networks (no discriminator, no
optimizer state), so the shipped files stay small. The old default is replaced only once the copy is complete.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from cpfnet.io.atomic import atomic_dir
from cpfnet.stages import registry
from cpfnet.stages.weights import CONFIG, LATEST, require_checkpoint, weights_file
from cpfnet.transfer.models import DEFAULT_RUNS


def ship(runs: Path, dest: Path = DEFAULT_RUNS, without: tuple[str, ...] = ()) -> None:
    """`without`: stages left out (the pipeline runs without a stage the folder lacks: fusion)."""
    with atomic_dir(dest, overwrite=True) as tmp:
        for stage in (s for s in registry.CPF_STAGES if s not in without):
            checkpoint = require_checkpoint(runs, stage)
            (tmp / stage / checkpoint.name).mkdir(parents=True)
            shutil.copyfile(runs / stage / CONFIG, tmp / stage / CONFIG)
            (tmp / stage / LATEST).write_text(checkpoint.name + "\n")
            for name in registry.stage(stage).networks:
                shutil.copyfile(weights_file(checkpoint, name), weights_file(tmp / stage / checkpoint.name, name))
    total = sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())
    print(f"shipped {runs} -> {dest} ({total / 2**20:.1f} MiB)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", type=Path)
    parser.add_argument("--without", nargs="*", default=[], choices=["fusion"],
                        help="leave these stages out (transfer then runs without them)")
    args = parser.parse_args()
    ship(args.runs, without=tuple(args.without))
