"""The CPU time a training run has spent, for `cpfnet train --cpu-budget SECONDS` (equal budgets across methods).

What is counted: `time.process_time()` (user + system CPU of the training process, all its threads) from the
start of the training loop: steps, logging, checkpoint writes and, with `data.num_workers: 0`, data loading.
Not counted: process start, imports, building the networks, loading the perceptual backbone or a checkpoint
(a few seconds a command, the same for every method), and DataLoader worker processes (their CPU is not this
process's; the tiny config loads in the training process). Under torchrun the budget is the SUM over all
ranks (the whole training's CPU, as one process on the same cores would spend it), all-reduced so that every
rank sees the same figure and stops at the same step. The figure accumulates over resumed runs: the
checkpoint's training state carries it ("cpu_seconds"), so a budget is the stage's total, however often the
run was stopped.
"""

from __future__ import annotations

import time

import torch
import torch.distributed as dist

from cpfnet.training.distributed import Context


class CpuClock:
    """Counts the CPU seconds of training, from construction on, plus `already` (from a checkpoint)."""

    def __init__(self, ctx: Context, already: float = 0.0):
        self.ctx = ctx
        self.already = float(already)
        self._start = time.process_time()

    def spent(self) -> float:
        """CPU seconds so far, summed over ranks (a collective call under torchrun: every rank must call it)."""
        own = time.process_time() - self._start
        if self.ctx.distributed:
            t = torch.tensor([own], dtype=torch.float64)  # gloo reduces CPU tensors; NCCL wants the device
            if self.ctx.device.type == "cuda":
                t = t.to(self.ctx.device)
            dist.all_reduce(t, op=dist.ReduceOp.SUM)
            own = float(t.item())
        return self.already + own
