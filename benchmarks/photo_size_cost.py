"""What a large target photo costs `cpfnet transfer`, with the default cap on the output's longer side
(1920 px) and with --full-size: wall time and peak memory of whole runs, and the cost per megapixel.

    python benchmarks/photo_size_cost.py [--frames 100] [--mp-frames 24] [--sizes 750x1100 1500x2200 3000x4400]

Each case is one `cpfnet transfer` of the first --frames frames of ../shared/real/dance.mp4 onto
../shared/real/person.jpg (750 x 1101) resized to the case's size (a 6000 x 8000 JPEG is the sample photo
upscaled), run as a child process with one torch thread; its wall time and peak resident memory are its own
(os.wait4). Everything counts: start-up, MediaPipe on the photo and on the video, the networks, blending,
pasting and H.264 encoding. The per-megapixel figures are the slope of a least-squares line through
--full-size runs of --mp-frames frames at --sizes, per frame (time) and overall (memory).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "real"


def _photo(folder: Path, width: int, height: int) -> Path:
    import cv2

    path = folder / f"photo_{width}x{height}.jpg"
    if not path.exists():
        image = cv2.imread(str(REAL / "person.jpg"))
        scaled = cv2.resize(image, (width, height), interpolation=cv2.INTER_CUBIC if width > image.shape[1]
                            else cv2.INTER_AREA)
        cv2.imwrite(str(path), scaled, [cv2.IMWRITE_JPEG_QUALITY, 92])
    return path


def _clip(folder: Path, frames: int) -> Path:
    from cpfnet.io.video import VideoWriter, iter_frames, probe

    path = folder / f"dance_{frames}.mp4"
    if not path.exists():
        with VideoWriter(path, fps=probe(REAL / "dance.mp4").fps) as writer:
            for frame in iter_frames(REAL / "dance.mp4", count=frames):
                writer.write(frame)
    return path


def run_case(source: Path, photo: Path, out: Path, *options: str) -> dict:
    """One `cpfnet transfer` child: {"seconds", "peak_mb", "size"} (the output's size, from its log line)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-m", "cpfnet.cli", "transfer", "--source", str(source), "--target", str(photo),
            "--out", str(out), *options]
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as log, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(args, stdout=log, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        err.seek(0)
        text = log.read()
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed:\n{err.read()[-3000:]}")
    size = text.split(" frames, ")[1].split(",")[0] if " frames, " in text else "?"
    return {"seconds": seconds, "peak_mb": usage.ru_maxrss / 1024, "size": size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=100, help="frames of the clip for the 3x comparison")
    parser.add_argument("--mp-frames", type=int, default=24, help="frames of the clip for the per-megapixel runs")
    parser.add_argument("--sizes", nargs="+", default=["750x1100", "1500x2200", "3000x4400"],
                        help="photo sizes WxH of the --full-size runs")
    parser.add_argument("--no-per-megapixel", action="store_true", help="only the 3x comparison")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    if not (REAL / "dance.mp4").is_file():
        raise SystemExit(f"needs the samples in {REAL}")
    results: dict = {"cases": {}}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clip = _clip(folder, args.frames)
        small, large = _photo(folder, 750, 1100), _photo(folder, 6000, 8000)
        for name, photo in (("750x1100 photo, default", small), ("6000x8000 photo, default (capped)", large)):
            case = run_case(clip, photo, folder / "out.mp4")
            results["cases"][name] = case
            print(f"{name}: {args.frames} frames in {case['seconds']:.1f} s, peak {case['peak_mb']:.0f} MB, "
                  f"output {case['size']}", flush=True)
        a, b = results["cases"].values()
        results["ratio"] = {"time": b["seconds"] / a["seconds"], "memory": b["peak_mb"] / a["peak_mb"]}
        print(f"6000x8000 / 750x1100 by default: time x{results['ratio']['time']:.2f}, memory "
              f"x{results['ratio']['memory']:.2f} (the issue asks for at most x3)", flush=True)
        points = None if args.no_per_megapixel else _per_megapixel(folder, args, results)
    if points is not None:
        mp, seconds, peak = (np.array(v) for v in zip(*points))
        per_frame = np.polyfit(mp, seconds / args.mp_frames, 1)[0]
        memory = np.polyfit(mp, peak, 1)[0]
        results["per_megapixel"] = {"seconds_per_frame": per_frame, "peak_mb": memory}
        print(f"cost per megapixel of the photo (least squares): {per_frame:.3f} s per frame, {memory:.0f} MB of "
              "peak memory")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


def _per_megapixel(folder: Path, args: argparse.Namespace, results: dict) -> list[tuple[float, float, float]]:
    """--full-size runs of --mp-frames frames at each of --sizes: [(megapixels, seconds, peak MB)]."""
    short = _clip(folder, args.mp_frames)
    points = []
    for text in args.sizes:
        width, height = map(int, text.split("x"))
        case = run_case(short, _photo(folder, width, height), folder / "out.mp4", "--full-size")
        megapixels = width * height / 1e6
        points.append((megapixels, case["seconds"], case["peak_mb"]))
        results["cases"][f"{text} photo, --full-size, {args.mp_frames} frames"] = case
        print(f"{text} ({megapixels:.1f} MP) --full-size: {args.mp_frames} frames in {case['seconds']:.1f} s, "
              f"peak {case['peak_mb']:.0f} MB", flush=True)
    return points


if __name__ == "__main__":
    main()
