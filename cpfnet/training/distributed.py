"""One process or many: the same training code under `python -m cpfnet ...` and under `torchrun`.

torchrun sets RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT; we then join the
process group (gloo on CPU, NCCL on CUDA), put each process on its own GPU, wrap the trained networks in
DistributedDataParallel and shard the data with a DistributedSampler. Only rank 0 writes checkpoints and logs.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from cpfnet.device import resolve_device
from cpfnet.errors import UserError

log = logging.getLogger(__name__)


@dataclass
class Context:
    """Where this process sits: rank in 0..world_size-1, its device."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1
    device: torch.device = torch.device("cpu")
    owns_group: bool = False  # setup() joined the process group, so teardown() leaves it

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup(device_name: str = "cpu") -> Context:
    """Join the process group when torchrun started us (WORLD_SIZE > 1), and pick this process's device."""
    device = resolve_device(device_name)
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Context(device=device)
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    local_world_size = int(os.environ.get("LOCAL_WORLD_SIZE", str(world_size)))
    if device.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise UserError(f"local rank {local_rank} but only {torch.cuda.device_count()} GPUs; run torchrun "
                            "with --nproc_per_node at most the number of GPUs")
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    # A caller that joined the group itself keeps it: train() can then run several times in one torchrun
    # process (joining a second time after leaving hangs in the rendezvous).
    owns = not dist.is_initialized()
    if owns:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", rank=rank, world_size=world_size)
    return Context(rank, world_size, local_rank, local_world_size, device, owns)


def teardown(ctx: Context) -> None:
    if ctx.distributed and ctx.owns_group and dist.is_initialized():
        # Leave together: a rank that destroys its gloo group while another still has a collective in flight
        # can abort that rank ("terminate called without an active exception").
        dist.barrier()
        dist.destroy_process_group()


def default_threads(ctx: Context) -> int:
    """CPU threads per process: the cores this process may use, shared among the processes on this machine."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores // ctx.local_world_size)


def wrap(module: nn.Module, ctx: Context) -> nn.Module:
    """DistributedDataParallel around a trained network when distributed, the network itself otherwise."""
    if not ctx.distributed:
        return module
    return DistributedDataParallel(module, device_ids=[ctx.device.index] if ctx.device.type == "cuda" else None)


def unwrap(module: nn.Module) -> nn.Module:
    return module.module if isinstance(module, DistributedDataParallel) else module


def any_rank(flag: bool, ctx: Context) -> bool:
    """True on every rank when `flag` is true on any (so all ranks stop at the same step)."""
    if not ctx.distributed:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=ctx.device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def gather(obj, ctx: Context) -> list:
    """Every rank's `obj`, in rank order, on every rank."""
    if not ctx.distributed:
        return [obj]
    out = [None] * ctx.world_size
    dist.all_gather_object(out, obj)
    return out


def barrier(ctx: Context) -> None:
    if ctx.distributed:
        dist.barrier()
