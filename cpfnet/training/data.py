"""Data order that a resumed run can reproduce exactly.

Epoch e's order is a fixed function of (seed, e): DistributedSampler's permutation seeded with seed + e, each
rank taking every world_size-th sample. A run resumed at step s restarts epoch s // steps_per_epoch and skips
the batches of it already consumed. The DataLoader gets its own generator, so worker seeding never draws from
the global RNG that the networks' noise uses.
"""

from __future__ import annotations

import signal
from typing import Iterator

import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from cpfnet.errors import UserError
from cpfnet.training.distributed import Context


class ResumableSampler(DistributedSampler):
    """DistributedSampler (shuffled with `seed`) that can start an epoch `skip` samples in."""

    def __init__(self, dataset: Dataset, ctx: Context, seed: int):
        super().__init__(dataset, num_replicas=ctx.world_size, rank=ctx.rank, shuffle=True, seed=seed)
        self.skip = 0

    def set_position(self, epoch: int, skip: int) -> None:
        self.set_epoch(epoch)
        self.skip = skip

    def __iter__(self) -> Iterator[int]:
        return iter(list(super().__iter__())[self.skip:])

    def __len__(self) -> int:
        return self.num_samples - self.skip


def _quiet_worker(_: int) -> None:
    # Ctrl-C and SIGTERM reach the whole process group; the main process handles them (writes a checkpoint),
    # so workers must not die under it. They exit when the main process closes the loader.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def make_loader(dataset: Dataset, ctx: Context, batch_size: int, seed: int, num_workers: int,
                stage: str) -> tuple[DataLoader, ResumableSampler, int, int]:
    """-> (loader, sampler, per-process batch size, steps per epoch). `batch_size` is the global batch."""
    if batch_size % ctx.world_size:
        raise UserError(f"{stage}.schedule.batch_size {batch_size} cannot be split over {ctx.world_size} "
                        f"processes; use a multiple of {ctx.world_size}")
    local = batch_size // ctx.world_size
    sampler = ResumableSampler(dataset, ctx, seed)
    steps_per_epoch = sampler.num_samples // local
    if steps_per_epoch == 0:
        raise UserError(f"{len(dataset)} training samples are fewer than one batch of {batch_size}; use more data "
                        f"or a smaller {stage}.schedule.batch_size")
    loader = DataLoader(dataset, batch_size=local, sampler=sampler, num_workers=num_workers, drop_last=True,
                        pin_memory=ctx.device.type == "cuda", worker_init_fn=_quiet_worker if num_workers else None,
                        generator=torch.Generator().manual_seed(seed), persistent_workers=False)
    return loader, sampler, local, steps_per_epoch


def to_device(batch: dict, device: torch.device) -> dict:
    return {k: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
