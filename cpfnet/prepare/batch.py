"""Many inputs -> one dataset folder each (the `cpfnet prepare` command): shards, worker processes, failures
collected rather than raised, so one bad input cannot stop the others."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
import multiprocessing
import os
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from cpfnet.dataset.layout import META
from cpfnet import signals
from cpfnet.errors import UserError, is_disk_error
from cpfnet.io.paths import Output, check_outputs
from cpfnet.prepare.config import PrepareConfig
from cpfnet.prepare.inputs import dataset_names, take_shard
from cpfnet.prepare.video import prepare_video

log = logging.getLogger(__name__)


@dataclass
class PrepareReport:
    """What `prepare_many` did: folders written, inputs skipped (already done), (input, message) failures."""

    done: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)


@dataclass(frozen=True)
class PrepareJob:
    """One input of `prepare_many`: `prepare_video`'s arguments. `position` is the row of its progress bar
    (None: the bar's own line, for serial runs); each worker process's job gets a row no other running job has."""

    path: Path
    out: Path
    config: PrepareConfig
    overwrite: bool = False
    progress: bool = True
    openpose: Path | None = None
    parsing: Path | None = None
    position: int | None = None

    def run(self) -> tuple[str, str]:
        """("done", out folder) or ("failed", one-line message). Raises only the OSErrors of a full disk or an
        unwritable output (cpfnet.errors.DISK_ERRORS): every later input would fail the same way."""
        try:
            out = prepare_video(self.path, self.out, self.config, self.openpose, self.parsing, self.overwrite,
                                self.progress, self.position)
            return "done", str(out)
        except UserError as exc:
            return "failed", str(exc)
        except OSError as exc:
            if is_disk_error(exc):
                raise
            log.debug("%s failed:\n%s", self.path, traceback.format_exc())
            return "failed", f"{self.path}: unexpected {type(exc).__name__}: {exc} (run with -v for details)"
        except Exception as exc:  # a bug or an unforeseen file problem: report it, carry on with the others
            signals.reraise_if_terminated(exc)  # unless it is a SIGTERM in disguise: then stop
            log.debug("%s failed:\n%s", self.path, traceback.format_exc())
            return "failed", f"{self.path}: unexpected {type(exc).__name__}: {exc} (run with -v for details)"


def _run_job(job: PrepareJob) -> tuple[str, str]:
    return job.run()


def _init_worker(level: int) -> None:
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    signals.install()  # the parent's SIGTERM to its workers cleans up their temporaries, as Ctrl-C does


def resolve_external(root: str | os.PathLike | None, path: Path, name: str, single: bool,
                     option: str) -> Path | None:
    """The per-input folder of --openpose/--parsing: ROOT/<name> or ROOT/<stem>, or ROOT itself for one input."""
    if root is None:
        return None
    root = Path(root)
    for candidate in (root / name, root / path.stem):
        if candidate.is_dir():
            return candidate
    if single and root.is_dir():
        return root
    raise UserError(f"{option} {root}: no folder {name}/ for {path}; with several inputs give one subfolder "
                    "per input, named after it")


def _run_in_processes(jobs: list[PrepareJob], workers: int, record) -> None:
    """Run `jobs` in `workers` spawned processes, at most one job per worker at a time, so each running job
    can be given a free progress-bar row (1 .. workers; row 0 is the overall bar)."""
    context = multiprocessing.get_context("spawn")  # MediaPipe's threads do not survive fork
    waiting = list(reversed(jobs))
    free_rows = list(range(workers, 0, -1))
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                                                initargs=(logging.getLogger().level,)) as pool:
        running: dict[concurrent.futures.Future, tuple[PrepareJob, int]] = {}
        try:
            _drive(pool, waiting, free_rows, running, record)
        except BaseException:  # Ctrl-C or SIGTERM of this process: stop the workers (they clean up), then leave
            pool.shutdown(wait=False, cancel_futures=True)
            for child in multiprocessing.active_children():
                child.terminate()
            raise


def _drive(pool, waiting: list[PrepareJob], free_rows: list[int], running: dict, record) -> None:
    """Keep every worker busy until every job has been recorded."""
    while waiting or running:
        while waiting and free_rows:
            job, row = waiting.pop(), free_rows.pop()
            try:
                running[pool.submit(_run_job, dataclasses.replace(job, position=row))] = (job, row)
            except concurrent.futures.process.BrokenProcessPool as exc:
                record(job, "failed", f"{job.path}: its worker process died ({exc})")
                free_rows.append(row)
        done, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
        for future in done:
            job, row = running.pop(future)
            free_rows.append(row)
            try:
                outcome = future.result()
            except concurrent.futures.process.BrokenProcessPool as exc:  # a worker died (out of memory?)
                outcome = ("failed", f"{job.path}: its worker process died ({exc})")
            record(job, *outcome)


def prepare_many(inputs: list[Path], out_root: str | os.PathLike, config: PrepareConfig | None = None,
                 workers: int = 1, shard: tuple[int, int] | None = None, overwrite: bool = False,
                 skip_existing: bool = False, openpose: str | os.PathLike | None = None,
                 parsing: str | os.PathLike | None = None, progress: bool = True) -> PrepareReport:
    """Prepare each input into OUT_ROOT/<name> (name: the input's stem, deduplicated over all inputs, so
    every shard names alike). `shard=(i, n)` takes inputs i, i+n, i+2n, ...; `workers` processes run
    inputs in parallel, each with its own MediaPipe graphs. Failures are collected, not raised."""
    config = config or PrepareConfig()
    config.validate()
    out_root = Path(out_root)
    names = dataset_names(inputs)
    # Up front, for all inputs: no dataset folder may replace (or be) an input, --openpose or --parsing.
    read = [("INPUT", path) for path in inputs] + [("--openpose", openpose), ("--parsing", parsing)]
    check_outputs([Output(out_root, "--out", "folder", replaced=False)]
                  + [Output(out_root / name, "--out", "folder") for name in names], read)
    report = PrepareReport()
    jobs = []
    for path, name in take_shard(list(zip(inputs, names)), shard):
        out = out_root / name
        if skip_existing and (out / META).is_file():
            report.skipped.append(out)
            continue
        try:
            if out.exists() and not overwrite:
                raise UserError(f"{out} exists; pass --overwrite to replace it or --skip-existing to keep it")
            jobs.append(PrepareJob(
                path, out, config, overwrite, progress,
                openpose=resolve_external(openpose, path, name, len(inputs) == 1, "--openpose"),
                parsing=resolve_external(parsing, path, name, len(inputs) == 1, "--parsing")))
        except UserError as exc:
            report.failed.append((path, str(exc)))
    overall = tqdm(total=len(jobs), desc="inputs", unit="input", disable=not progress or len(jobs) < 2,
                   position=0, dynamic_ncols=True)

    def record(job: PrepareJob, status: str, message: str) -> None:
        if status == "done":
            report.done.append(Path(message))
        else:
            report.failed.append((job.path, message))
        overall.update(1)

    with overall:
        if workers <= 1 or len(jobs) <= 1:
            for job in jobs:
                record(job, *job.run())
        else:
            _run_in_processes(jobs, min(workers, len(jobs)), record)
    report.failed.sort(key=lambda item: str(item[0]))
    return report
