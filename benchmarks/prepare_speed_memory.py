"""Speed and memory of `cpfnet prepare` on the sample video and on the sample looped 10 times.

Each run is `cpfnet prepare` in a fresh process, started by a fresh measuring process that reads
resource.getrusage(RUSAGE_CHILDREN).ru_maxrss, so every peak belongs to one run only. Streaming means the
10x longer video must peak within 10% of the short one. Frames per second are wall-clock, start-up
(imports, MediaPipe models) included; "marginal" is (extra frames) / (extra seconds) of the long run,
the speed once running.

    .venv/bin/python benchmarks/prepare_speed_memory.py [--video ../shared/real/dance.mp4] [--loops 10]
        [--size 448] [--background inpaint]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_VIDEO = ROOT.parent / "shared" / "real" / "dance.mp4"


def loop_video(source: Path, target: Path, loops: int) -> int:
    """Write `source` `loops` times in a row into `target` without re-encoding (packets with shifted
    timestamps; every loop starts on the source's first key frame). Returns the frame count."""
    frames = 0
    with av.open(str(source)) as src:
        stream = src.streams.video[0]
        packets = [p for p in src.demux(stream) if p.dts is not None]
        step = max(p.pts for p in packets) + max(p.duration or 0 for p in packets) - min(p.pts for p in packets)
        with av.open(str(target), "w") as dst:
            out = dst.add_stream_from_template(stream)
            for k in range(loops):
                for p in packets:
                    copy = av.Packet(bytes(p))
                    copy.pts, copy.dts, copy.duration = p.pts + k * step, p.dts + k * step, p.duration
                    copy.is_keyframe, copy.time_base, copy.stream = p.is_keyframe, p.time_base, out
                    dst.mux(copy)
                    frames += 1
    return frames


def _child(video: str, out: str, extra: list[str]) -> None:
    """Measuring process: run prepare once, print its wall time and peak RSS as JSON."""
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "cpfnet.cli", "prepare", video, "--out", out, "--no-progress",
                             *extra], capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    if result.returncode:
        sys.stderr.write(result.stderr)
        sys.exit(result.returncode)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # kilobytes on Linux
    print(json.dumps({"seconds": seconds, "peak_mb": peak_kb / 1024}))


def measure(video: Path, out: Path, extra: list[str]) -> dict:
    result = subprocess.run([sys.executable, __file__, "--child", str(video), str(out), "--", *extra],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--loops", type=int, default=10)
    parser.add_argument("--size", type=int, default=448)
    parser.add_argument("--background", default="inpaint", choices=("inpaint", "median"))
    parser.add_argument("--child", nargs=2, metavar=("VIDEO", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("extra", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child, args.extra)
        return 0
    if not args.video.is_file():
        print(f"no sample video at {args.video}", file=sys.stderr)
        return 2
    extra = ["--size", str(args.size), "--background", args.background]
    with tempfile.TemporaryDirectory(prefix="cpfnet-prepare-bench-") as tmp:
        tmp = Path(tmp)
        long_video = tmp / f"{args.video.stem}_x{args.loops}.mp4"
        long_frames = loop_video(args.video, long_video, args.loops)
        short_frames = long_frames // args.loops
        rows = []
        for name, video, frames in (("sample", args.video, short_frames), (f"looped x{args.loops}", long_video,
                                                                            long_frames)):
            figures = measure(video, tmp / f"out_{len(rows)}", extra)
            rows.append((name, frames, figures))
            print(f"{name:>12}: {frames:5d} frames  {figures['seconds']:7.1f} s  "
                  f"{frames / figures['seconds']:5.2f} frames/s  peak RSS {figures['peak_mb']:7.1f} MB", flush=True)
    (_, f0, s), (_, f1, l) = rows
    marginal = (f1 - f0) / max(1e-9, l["seconds"] - s["seconds"])
    growth = l["peak_mb"] / s["peak_mb"] - 1
    print(f"marginal speed: {marginal:.2f} frames/s; peak memory of the long run vs the short: {100 * growth:+.1f}% "
          f"({'within' if abs(growth) <= 0.10 else 'NOT within'} 10%)")
    return 0 if abs(growth) <= 0.10 else 1


if __name__ == "__main__":
    sys.exit(main())
