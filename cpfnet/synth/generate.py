"""Render synthetic dance videos with exact ground truth into the dataset layout (`cpfnet synth`).

Seeding: identity i draws from `SeedSequence(seed, spawn_key=(0, i))`, motion m from `(1, m)` and the
camera of motion m from `(2, m)`: the children that spawning the seed's sequence would give, addressed
directly so any video can be rendered alone, in any process, in any order, with identical bytes.
Video v shows identity v dancing motion v // M (M = identities per motion), so the M videos of a motion
are the same dance (joint angles and root motion) on M people.
"""

from __future__ import annotations

import multiprocessing
import os
import queue as queue_module
import signal
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from tqdm import tqdm

from cpfnet import __version__, signals
from cpfnet.dataset.layout import VideoFolderWriter, VideoMeta
from cpfnet.errors import UserError
from cpfnet.io import lock
from cpfnet.io.atomic import atomic_dir
from cpfnet.memory import check_fits
from cpfnet.io.paths import Output, check_outputs
from cpfnet.synth import ground_truth
from cpfnet.synth.body import BodyModel, build_body
from cpfnet.synth.camera import Camera, frame_camera
from cpfnet.synth.identity import Identity, sample_identity
from cpfnet.synth.motion import Motion, animate, keypoints_3d, sample_motion
from cpfnet.synth.render import Renderer
from cpfnet.synth.skeleton import NUM_BONES

MIN_SIZE = 64


@dataclass
class SynthConfig:
    """Settings of `cpfnet synth` (one field per command-line option)."""

    out: str
    videos: int = 8
    frames: int = 60
    size: int = 256
    seed: int = 0
    identities_per_motion: int = 1
    workers: int | None = None
    overwrite: bool = False
    fps: float = 25.0
    supersample: int = 2


def validate(cfg: SynthConfig) -> None:
    """Reject bad settings before any work, with one line saying what to do."""
    if cfg.videos < 1:
        raise UserError(f"--videos must be at least 1, got {cfg.videos}")
    if cfg.frames < 2:
        raise UserError(f"--frames must be at least 2 (an appearance frame and a target), got {cfg.frames}")
    if cfg.size < MIN_SIZE:
        raise UserError(f"--size must be at least {MIN_SIZE} pixels, got {cfg.size}")
    if cfg.seed < 0:
        raise UserError(f"--seed must be 0 or positive, got {cfg.seed}")
    if cfg.identities_per_motion < 1:
        raise UserError(f"--identities-per-motion must be at least 1, got {cfg.identities_per_motion}")
    if cfg.videos % cfg.identities_per_motion:
        raise UserError(f"--videos ({cfg.videos}) must be a multiple of --identities-per-motion "
                        f"({cfg.identities_per_motion})")
    if cfg.workers is not None and cfg.workers < 1:
        raise UserError(f"--workers must be at least 1, got {cfg.workers}")
    if not cfg.fps > 0:
        raise UserError(f"--fps must be positive, got {cfg.fps}")
    if not 1 <= cfg.supersample <= 4:
        raise UserError(f"--supersample must be 1 to 4, got {cfg.supersample}")
    # A floor of one frame's ray casting: per colour sample a float64 ray (origin, direction) and colour.
    samples = cfg.size * cfg.size * cfg.supersample ** 2
    check_fits(samples * 9 * 8, f"--size {cfg.size} (one frame: {cfg.size} x {cfg.size} x {cfg.supersample}^2 "
               "samples x 9 float64)", "use a smaller --size or --supersample")
    check_fits(cfg.frames * NUM_BONES * 16 * 8, f"--frames {cfg.frames} (the dance: a 4 x 4 float64 transform "
               f"per frame and bone, {NUM_BONES} bones)", "use fewer --frames")
    out = Path(cfg.out)
    check_outputs([Output(out, "--out", "folder")])
    if out.is_dir() and any(out.iterdir()) and not cfg.overwrite:
        raise UserError(f"{out} exists and is not empty; pass --overwrite to replace it")


@dataclass
class VideoTask:
    index: int
    identity: int
    motion: int


def plan(cfg: SynthConfig) -> list[VideoTask]:
    m = cfg.identities_per_motion
    return [VideoTask(v, v, v // m) for v in range(cfg.videos)]


@dataclass
class Setup:
    """Everything that defines one video (rebuildable from the seed and the ids alone)."""

    identity: Identity
    body: BodyModel
    motion: Motion
    camera: Camera
    world: np.ndarray  # [T, B, 4, 4] bone transforms per frame


def camera_stream(seed: int, motion: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(seed, spawn_key=(2, motion))


def setup_video(seed: int, identity: int, motion: int, frames: int, fps: float, size: int) -> Setup:
    """Identity `identity` dancing motion `motion` of `seed`, `frames` long, seen at `size` pixels."""
    person = sample_identity(seed, identity)
    body = build_body(person)
    dance = sample_motion(seed, motion, frames, fps)
    camera = frame_camera(size, body.height, np.random.default_rng(camera_stream(seed, motion)))
    world = animate(body, dance, person.shape.scale)
    return Setup(person, body, dance, camera, world)


def render_video(task: VideoTask, cfg: SynthConfig, root: Path, progress: Callable[[int], None] | None = None) -> Path:
    """Render one video folder `root/video_XXXX` (through `VideoFolderWriter`, atomically).

    Two passes: keypoints of every frame first (a few rays each), which choose the appearance frame
    (paper IV-A1); then each frame is rendered once and its flow and visibility computed against the
    appearance frame, streaming to disk (memory does not grow with the video)."""
    setup = setup_video(cfg.seed, task.identity, task.motion, cfg.frames, cfg.fps, cfg.size)
    renderer = Renderer(setup.body, setup.camera, setup.identity.lighting, setup.identity.scene, cfg.supersample)
    posed = [renderer.pose(w) for w in setup.world]
    points = keypoints_3d(setup.body, setup.world)
    poses = np.stack([ground_truth.keypoints(renderer, p, x) for p, x in zip(posed, points)])
    a = ground_truth.appearance_index(poses)
    appearance_parsing = renderer.render(posed[a], colour=False)["parsing"]
    size = cfg.size
    with VideoFolderWriter(root / f"video_{task.index:04d}", with_flow=True) as writer:
        for i in range(cfg.frames):
            frame = renderer.render(posed[i])
            flow, visibility = ground_truth.appearance_flow(renderer, frame, posed[a], appearance_parsing)
            writer.add_frame(frame["rgb"], frame["parsing"], flow, visibility)
            if progress is not None:
                progress(1)
        meta = VideoMeta(
            fps=float(cfg.fps), size=size, num_frames=cfg.frames, appearance_index=a,
            crop_boxes=[[0.0, 0.0, float(size), float(size)]] * cfg.frames, original_size=[size, size],
            source="synthetic", identity=task.identity, motion=task.motion,
            extra={
                "generator": f"cpfnet {__version__} synth",
                "seed": cfg.seed,
                "identity_spawn_key": [0, task.identity],
                "motion_spawn_key": [1, task.motion],
                "camera_spawn_key": [2, task.motion],
                "identities_per_motion": cfg.identities_per_motion,
                "supersample": cfg.supersample,
                "person": setup.identity.summary(),
                "dance": setup.motion.summary,
                "camera": setup.camera.summary(),
            })
        return writer.finish(meta, poses, renderer.background())


# ---- parallel driver -------------------------------------------------------------------------------
def _worker(tasks, events, cfg: dict, root: str) -> None:
    """A worker process: renders the videos it takes from `tasks` until it gets None; reports frames,
    finished videos and errors on `events`."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops the workers
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler (inherited by fork): just die
    import cv2
    cv2.setNumThreads(1)
    config = SynthConfig(**cfg)
    while (task := tasks.get()) is not None:
        try:
            render_video(VideoTask(**task), config, Path(root), lambda n: events.put(("frames", n)))
            events.put(("done", task["index"]))
        except Exception as exc:  # noqa: BLE001 - everything goes back to the parent
            message = str(exc) if isinstance(exc, UserError) else traceback.format_exc()
            events.put(("error", (isinstance(exc, UserError), message)))
            return


def default_workers(videos: int) -> int:
    return max(1, min(os.cpu_count() or 1, videos))


def _run_parallel(tasks: list[VideoTask], cfg: SynthConfig, root: Path, workers: int, bar: tqdm) -> None:
    methods = multiprocessing.get_all_start_methods()
    # Not fork: a child forked from a process that already used OpenCV's (or torch's) thread pools can
    # deadlock in them (seen in the test suite). forkserver forks from a clean server; spawn elsewhere.
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    task_queue, events = ctx.Queue(), ctx.Queue()
    for task in tasks:
        task_queue.put(asdict(task))
    for _ in range(workers):
        task_queue.put(None)
    procs = [ctx.Process(target=_worker, args=(task_queue, events, asdict(cfg), str(root)), daemon=True)
             for _ in range(workers)]
    for p in procs:
        p.start()
    try:
        done = 0
        while done < len(tasks):
            try:
                kind, payload = events.get(timeout=0.5)
            except queue_module.Empty:
                dead = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
                if dead:
                    raise RuntimeError(f"a synth worker process died (exit code {dead[0]})") from None
                continue
            if kind == "frames":
                bar.update(payload)
            elif kind == "done":
                done += 1
            else:
                user, message = payload
                if user:
                    raise UserError(message)
                raise RuntimeError(f"a synth worker failed:\n{message}")
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(10)
            if p.is_alive():
                p.kill()
                p.join()


def generate(cfg: SynthConfig, show_progress: bool = True) -> Path:
    """Render every video of `cfg` into `cfg.out`, built beside it and moved into place at the end: an
    error or an interruption (Ctrl-C, SIGTERM) leaves nothing behind."""
    validate(cfg)
    out = Path(cfg.out)
    tasks = plan(cfg)
    workers = min(cfg.workers or default_workers(cfg.videos), cfg.videos)
    # One writer per OUT (cpfnet.io.lock); validate again under the lock, in case a run just finished.
    with signals.sigterm_raises(), lock.hold(lock.lock_beside(out), f"the dataset folder {out}"):
        validate(cfg)
        with atomic_dir(out, overwrite=out.exists()) as tmp, \
                tqdm(total=cfg.videos * cfg.frames, unit="frame", desc="synth", disable=not show_progress) as bar:
            if workers == 1:
                for task in tasks:
                    render_video(task, cfg, tmp, bar.update)
            else:
                _run_parallel(tasks, cfg, tmp, workers, bar)
    return out
