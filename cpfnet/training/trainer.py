"""The one training loop every stage shares: data order, optimizer steps, logging, checkpoints, resume.

Per step: the stage's `generator_step` gives named loss terms; their sum is minimised by the "generator"
optimizer; adversarial stages then run `discriminator_step` and step the "discriminator" optimizer (the
paper's alternating updates, III-C). Checkpoints every `train.checkpoint_every` steps, at the end, and when
Ctrl-C / SIGTERM asks the run to stop, and when a CPU budget (`cpu_budget`, CPU-seconds; cpfnet.training.cpu_budget
says what counts) is spent; `resume=True` continues exactly where the latest checkpoint left off.
"""

from __future__ import annotations

import contextlib
import logging
import math
import random
import signal
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from cpfnet.errors import UserError
from cpfnet.io import lock
from cpfnet.io.atomic import atomic_file, remove_stale_in
from cpfnet.io.files import write_text
from cpfnet.configs.experiment import Config, dump_config
from cpfnet.stages import registry
from cpfnet.stages.weights import CONFIG, STATE, damaged_checkpoint_remedy, latest_checkpoint, load_weights, read_config
from cpfnet.training import distributed
from cpfnet.training.checkpoint import load_training_state, rng_state, save_checkpoint, set_rng_state
from cpfnet.training.cpu_budget import CpuClock
from cpfnet.training.data import make_loader, to_device
from cpfnet.training.logging import TrainLogger
from cpfnet.training.resume import config_difference

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    stage_dir: Path
    step: int  # the step the run ended at
    total_steps: int
    checkpoint: Path | None  # the checkpoint written last (None on ranks other than 0)
    interrupted: bool
    networks: dict  # the trained networks (unwrapped), as this process holds them at the end
    cpu_seconds: float = 0.0  # training CPU time of the stage so far, over resumed runs and summed over ranks
    budget_reached: bool = False  # the run stopped because cpu_seconds reached the CPU budget
    stop_signal: int | None = None  # the signal that stopped an interrupted run (SIGINT, SIGTERM)


class _StopRequest:
    """First Ctrl-C or SIGTERM: finish the step, write a checkpoint, stop. A second Ctrl-C aborts at once."""

    def __init__(self):
        self.requested = False
        self.signum: int | None = None
        self._previous = {}

    def __enter__(self) -> "_StopRequest":
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested, self.signum = True, self.signum or signum
        log.warning("stopping after this step and writing a checkpoint (Ctrl-C again to abort without one)")

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _optimize(optimizer: torch.optim.Optimizer, losses: dict[str, torch.Tensor]) -> torch.Tensor:
    total = sum(losses.values())
    optimizer.zero_grad(set_to_none=True)
    total.backward()
    optimizer.step()
    return total.detach()


def check_run_folder(stage: str, config: Config, runs: Path, resume: bool) -> Path | None:
    """The checkpoint to resume from (None: start at step 0); one-line errors for an occupied RUNS/STAGE
    without --resume and for a config that differs from the one a resumed run was trained with."""
    stage_dir = runs / stage
    existing = latest_checkpoint(stage_dir)
    if existing is None:
        if resume:
            log.info("%s has no checkpoint to resume; starting at step 0", stage_dir)
        return None
    if not resume:
        raise UserError(f"{stage_dir} already has checkpoints; pass --resume to continue or choose another --runs")
    difference = config_difference(read_config(stage_dir), config, stage)
    if difference:
        raise UserError(f"the config differs from the one {stage_dir} was trained with ({difference}); resume "
                        "with the same config or choose another --runs")
    return existing


def _restore(task, checkpoint: Path, ctx: distributed.Context, steps_per_epoch: int) -> tuple[int, float]:
    """Load weights, optimizers and this process's RNG states from `checkpoint`; -> the step it was taken at
    and the training CPU seconds spent until then (0 for checkpoints older than the CPU budget)."""
    load_weights(checkpoint, task.networks)
    state = load_training_state(checkpoint)
    try:
        for name, optimizer in task.optimizers.items():
            optimizer.load_state_dict(state["optimizers"][name])
    except (KeyError, ValueError, TypeError) as exc:
        raise UserError(f"{checkpoint / STATE}: its optimizer state does not fit this stage ({type(exc).__name__}: "
                        f"{str(exc)[:120]}); {damaged_checkpoint_remedy(checkpoint)}") from None
    if (state["steps_per_epoch"], state["world_size"]) != (steps_per_epoch, ctx.world_size):
        log.warning("the data or the number of processes changed since %s: training continues, but not "
                    "bit for bit as an uninterrupted run would have", checkpoint)
    rngs = state["rng"]
    set_rng_state(rngs[ctx.rank] if ctx.rank < len(rngs) else rngs[0])
    return state["step"], float(state.get("cpu_seconds", 0.0))


def train(stage: str, config: Config, data: str | Path, runs: str | Path, resume: bool = False,
          device: str = "cpu", progress: bool = True, cpu_budget: float | None = None) -> TrainResult:
    """Train `stage` on the video folders under `data` into RUNS/STAGE (see cpfnet.training.checkpoint), until
    the schedule's last step or, with `cpu_budget`, until the stage's training CPU seconds reach it (then a
    checkpoint; resume with a larger budget or none to continue)."""
    registry.check_stage(stage)
    if cpu_budget is not None and not cpu_budget > 0:
        raise UserError(f"the CPU budget must be a positive number of seconds, got {cpu_budget}")
    data, runs = Path(data), Path(runs)
    if not data.is_dir():
        raise UserError(f"data folder {data} not found; make one with `cpfnet synth` or `cpfnet prepare`")
    ctx = distributed.setup(device)
    try:
        with _run_lock(runs / stage, ctx):
            return _train(stage, config, data, runs, resume, ctx, progress, cpu_budget)
    finally:
        distributed.teardown(ctx)


@contextlib.contextmanager
def _run_lock(stage_dir: Path, ctx: distributed.Context) -> Iterator[None]:
    """Rank 0 holds RUNS/STAGE's lock for the whole run (cpfnet.io.lock); when it cannot, every rank stops
    with the holder's name (the other ranks would otherwise wait for rank 0 in the first collective)."""
    with contextlib.ExitStack() as stack:
        refused = None
        if ctx.is_main:
            try:
                stack.enter_context(lock.hold(lock.lock_inside(stage_dir), str(stage_dir)))
            except UserError as exc:
                refused = str(exc)
        if distributed.any_rank(refused is not None, ctx):
            raise UserError(refused or f"rank 0 could not lock {stage_dir}: another run is writing it")
        if ctx.is_main:  # what a killed run of this stage left half-written: no live writer can own it now
            for path in remove_stale_in(stage_dir):
                log.info("removed %s, left by a run that was killed", path)
        yield


def _train(stage: str, config: Config, data: Path, runs: Path, resume: bool, ctx: distributed.Context,
           progress: bool, cpu_budget: float | None) -> TrainResult:
    resume_from = check_run_folder(stage, config, runs, resume)
    if ctx.device.type == "cpu":
        torch.set_num_threads(config.train.threads or distributed.default_threads(ctx))
    else:  # fixed input sizes: let cuDNN pick the fastest kernels (GPU runs are not bit-exact anyway)
        torch.backends.cudnn.benchmark = True
    seed = config.train.seed
    seed_everything(seed)
    task = registry.stage(stage).task_class()(config, runs, ctx)
    dataset = task.dataset(data)
    schedule = task.section.schedule
    loader, sampler, local_batch, steps_per_epoch = make_loader(
        dataset, ctx, schedule.batch_size, seed, config.data.num_workers, stage)
    total = schedule.steps or max(1, math.ceil(schedule.epochs * steps_per_epoch))

    step, cpu_spent = _restore(task, resume_from, ctx, steps_per_epoch) if resume_from is not None else (0, 0.0)
    task.distribute()
    task.train_mode()

    stage_dir = runs / stage
    distributed.barrier(ctx)  # every rank has checked RUNS before rank 0 writes to it

    def checkpoint(at: int, cpu_seconds: float) -> Path | None:
        rngs = distributed.gather(rng_state(), ctx)
        path = None
        if ctx.is_main:
            state = {"step": at, "epoch": at // steps_per_epoch, "batch_in_epoch": at % steps_per_epoch,
                     "steps_per_epoch": steps_per_epoch, "world_size": ctx.world_size, "dataset_size": len(dataset),
                     "optimizers": {k: o.state_dict() for k, o in task.optimizers.items()}, "rng": rngs,
                     "cpu_seconds": cpu_seconds}
            path = save_checkpoint(stage_dir, at, task.networks, state, config.train.keep_checkpoints)
        distributed.barrier(ctx)
        return path

    written, stopping, logger = resume_from, False, None
    over_budget = cpu_budget is not None and cpu_spent >= cpu_budget
    clock = CpuClock(ctx, cpu_spent)  # started after the setup above: the budget counts training only
    # From here on (before config.yaml appears) a Ctrl-C ends the run with a checkpoint after the next step.
    with _StopRequest() as stop:
        try:
            if ctx.is_main:
                with atomic_file(stage_dir / CONFIG) as tmp:
                    write_text(tmp, f"# resolved config of `cpfnet train {stage}`\n" + dump_config(config))
                log.info("training %s: %d samples, %d steps per epoch, global batch %d (%d per process x %d), "
                         "steps %d -> %d", stage, len(dataset), steps_per_epoch, schedule.batch_size, local_batch,
                         ctx.world_size, step, total)
                if cpu_budget is not None:
                    log.info("CPU budget %.1f s, %.1f s spent before this run", cpu_budget, cpu_spent)
            logger = TrainLogger(stage_dir, ctx, total, step, config.train.log_every, progress)
            while step < total and not stopping and not over_budget:
                epoch, position = divmod(step, steps_per_epoch)
                sampler.set_position(epoch, position * local_batch)
                for batch in loader:
                    batch = to_device(batch, ctx.device)
                    generated = task.generator_step(batch)
                    scalars = {"loss/total": _optimize(task.optimizers["generator"], generated.losses)}
                    scalars.update({f"loss/{k}": v for k, v in generated.losses.items()})
                    scalars.update({f"metrics/{k}": v for k, v in generated.metrics.items()})
                    if task.adversarial:
                        judged = task.discriminator_step(batch, generated)
                        _optimize(task.optimizers["discriminator"], judged.losses)
                        scalars.update({f"loss/{k}": v for k, v in judged.losses.items()})
                    step += 1
                    logger.add(scalars)
                    logger.step(step, {"epoch": step / steps_per_epoch})
                    if ctx.is_main and (step % config.train.image_every == 0 or step == total):
                        with torch.no_grad():
                            logger.images(step, task.images(batch, generated))
                    stopping = distributed.any_rank(stop.requested, ctx)
                    if cpu_budget is not None:  # the clock's sum over ranks: all ranks decide alike
                        over_budget = clock.spent() >= cpu_budget
                    if step % config.train.checkpoint_every == 0 or step == total or stopping or over_budget:
                        written = checkpoint(step, clock.spent())
                    if stopping or over_budget or step >= total:
                        break
        finally:
            if logger is not None:
                logger.close()
    if stopping and ctx.is_main:
        log.warning("stopped at step %d of %d; continue with --resume", step, total)
    spent = clock.spent()
    if over_budget and ctx.is_main:
        log.info("CPU budget of %.1f s reached at step %d of %d (%.1f CPU-s); a larger budget and --resume "
                 "continue", cpu_budget, step, total, spent)
    return TrainResult(stage_dir, step, total, written, stopping, task.networks, spent, over_budget,
                       stop_signal=stop.signum if stopping else None)
