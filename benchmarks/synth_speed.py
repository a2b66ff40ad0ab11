"""Speed of `cpfnet synth`: wall-clock seconds and frames per second of the real command.

    python benchmarks/synth_speed.py [--videos 8] [--frames 60] [--size 256] [--workers 2] [--supersample 2]

Runs the installed `cpfnet synth` into a temporary folder (deleted afterwards) and prints the time, the
frame rate, the load average before and after (other processes share the CPU), the per-frame cost of
the renderer's stages in this process, the output size, and the CPU time of all the command's processes
(a load-independent figure when other jobs share the machine). Issue 2 asks for 8 x 60 frames at 256 within
5 minutes on this machine's 2 cores. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def stage_times(size: int, supersample: int, frames: int = 10) -> dict[str, float]:
    """Milliseconds per frame of each stage, one process, one video."""
    from cpfnet.synth import ground_truth
    from cpfnet.synth.generate import setup_video
    from cpfnet.synth.motion import keypoints_3d
    from cpfnet.synth.render import Renderer

    t0 = time.perf_counter()
    setup = setup_video(0, 0, 0, frames, 25.0, size)
    renderer = Renderer(setup.body, setup.camera, setup.identity.lighting, setup.identity.scene, supersample)
    t1 = time.perf_counter()
    posed = [renderer.pose(w) for w in setup.world]
    points = keypoints_3d(setup.body, setup.world)
    poses = np.stack([ground_truth.keypoints(renderer, p, x) for p, x in zip(posed, points)])
    t2 = time.perf_counter()
    a = ground_truth.appearance_index(poses)
    appearance = renderer.render(posed[a], colour=False)["parsing"]
    render, flow = 0.0, 0.0
    for p in posed:
        s = time.perf_counter()
        frame = renderer.render(p)
        m = time.perf_counter()
        ground_truth.appearance_flow(renderer, frame, posed[a], appearance)
        render += m - s
        flow += time.perf_counter() - m
    return {"setup + room (per video)": 1e3 * (t1 - t0), "pose + keypoints": 1e3 * (t2 - t1) / frames,
            "render (rgb, labels)": 1e3 * render / frames, "flow + visibility": 1e3 * flow / frames}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=8)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--supersample", type=int, default=2)
    args = parser.parse_args()

    script = Path(sys.executable).with_name("cpfnet")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "cpfnet.cli"]
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())} ({os.cpu_count()} CPUs)")
    with tempfile.TemporaryDirectory(prefix="synth-speed-") as tmp:
        out = Path(tmp) / "data"
        start = time.perf_counter()
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(command + ["synth", "--out", str(out), "--videos", str(args.videos), "--frames",
                                  str(args.frames), "--size", str(args.size), "--workers", str(args.workers),
                                  "--supersample", str(args.supersample), "--no-progress"], check=True)
        seconds = time.perf_counter() - start
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
        total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    frames = args.videos * args.frames
    print(f"load average after:  {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"cpfnet synth --videos {args.videos} --frames {args.frames} --size {args.size} "
          f"--workers {args.workers} --supersample {args.supersample}")
    print(f"  {seconds:.1f} s wall clock, {frames / seconds:.2f} frames/s, {total / 2 ** 20:.0f} MiB written")
    print(f"  {cpu:.1f} CPU seconds in all its processes ({1e3 * cpu / frames:.0f} ms per frame): about "
          f"{cpu / min(args.workers, os.cpu_count() or 1):.0f} s of wall clock on idle cores")
    print("per-frame stages in one process (ms):")
    for name, ms in stage_times(args.size, args.supersample).items():
        print(f"  {name:26s} {ms:8.1f}")


if __name__ == "__main__":
    main()
