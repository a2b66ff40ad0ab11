"""What a training run shows: TensorBoard scalars and image grids in RUNS/STAGE/, and a tqdm bar with the
losses. Only rank 0 logs; scalars are the mean over each `log_every` steps of rank 0's values."""

from __future__ import annotations

import time
from pathlib import Path

import torch

from cpfnet.training.distributed import Context
from cpfnet.training.visuals import grid


class TrainLogger:
    def __init__(self, stage_dir: Path, ctx: Context, total_steps: int, start_step: int, log_every: int,
                 progress: bool = True):
        self.enabled = ctx.is_main
        self.log_every = log_every
        self.sums: dict[str, torch.Tensor] = {}
        self.count = 0
        self.last_time = time.perf_counter()
        self.writer = None
        self.bar = None
        if not self.enabled:
            return
        from torch.utils.tensorboard import SummaryWriter
        from tqdm import tqdm

        # purge_step hides events an interrupted run wrote after the checkpoint it resumes from.
        self.writer = SummaryWriter(str(stage_dir), purge_step=start_step if start_step else None)
        self.bar = tqdm(total=total_steps, initial=start_step, desc=f"train {stage_dir.name}", unit="step",
                        disable=not progress, dynamic_ncols=True)

    def add(self, values: dict[str, torch.Tensor]) -> None:
        """Accumulate one step's scalars (kept on the device until the next log: no sync per step)."""
        if not self.enabled:
            return
        for k, v in values.items():
            v = v.detach().float()
            self.sums[k] = self.sums[k] + v if k in self.sums else v
        self.count += 1

    def step(self, step: int, extra: dict[str, float] | None = None) -> None:
        """Advance the bar to `step`; every `log_every` steps write the means and show them on the bar."""
        if not self.enabled:
            return
        self.bar.update(1)
        if step % self.log_every and step != self.bar.total:
            return
        if not self.count:
            return
        now = time.perf_counter()
        means = {k: float(v) / self.count for k, v in self.sums.items()}
        means["time/seconds_per_step"] = (now - self.last_time) / self.count
        means.update(extra or {})
        for k, v in means.items():
            self.writer.add_scalar(k, v, step)
        self.bar.set_postfix({k.split("/", 1)[1]: f"{v:.3g}" for k, v in means.items() if k.startswith("loss/")},
                             refresh=False)
        self.sums, self.count, self.last_time = {}, 0, now

    def images(self, step: int, columns: dict[str, torch.Tensor]) -> None:
        """One grid per call: a row per sample, a column per entry (their names go to the text tab)."""
        if self.enabled and columns:
            self.writer.add_image("samples", grid(columns), step)
            self.writer.add_text("samples/columns", ", ".join(columns), step)

    def message(self, text: str) -> None:
        if self.enabled:
            self.bar.write(text)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        if self.bar is not None:
            self.bar.close()
