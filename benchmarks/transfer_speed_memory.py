"""Frames per second per stage and overall, and peak memory, of the transfer pipeline.

    python benchmarks/transfer_speed_memory.py [--config tiny] [--sizes 64 128] [--frames 60 600]
                                               [--photo 720x1280] [--batch-size N] [--threads N]

Each (size, frames) case runs in a fresh child process (so its peak RSS is its own): the stages of the
config with random weights (speed does not depend on training), a random target photo of --photo size, a
synthetic dance of --frames poses, all frames generated, pasted into the photo and encoded to H.264 in a
temporary folder. x264 buffers some 40-60 frames ahead, so the shortest case should be longer than that
for a fair memory comparison. Pose estimation (MediaPipe) is not included: it is `cpfnet prepare`'s and
benchmarked by benchmarks/prepare_speed_memory.py. The last column compares peak memory with the case's
shortest run.
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


def child(config_name: str, size: int, frames: int, photo: tuple[int, int], batch_size: int, threads: int) -> dict:
    import numpy as np
    import torch

    from cpfnet.configs.experiment import load_config
    from cpfnet.heap import buffers_kept, one_arena
    from cpfnet.io.video import VideoWriter
    from cpfnet.stages.registry import CPF_STAGES, stage
    from cpfnet.transfer.models import TrainedStages
    from cpfnet.transfer.pipeline import TransferPipeline
    from cpfnet.transfer.target import Target

    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    config = load_config(config_name)
    nets = {name: stage(name).build(config.stage(name)) for name in CPF_STAGES}  # inference networks only
    for group in nets.values():
        for module in group.values():
            module.eval().requires_grad_(False)
    stages = TrainedStages(nets["parsing"]["generator"], nets["flow"]["flow"], nets["foreground"]["generator"],
                           nets["fusion"]["fusion"], config.data.size, config.data.pose_sigma, Path("."))
    width, height = photo
    rng = np.random.default_rng(0)
    side = 0.8 * height
    box = ((width - side) / 2, 0.1 * height, (width + side) / 2, 0.1 * height + side)
    # A standing person in crop pixels of a unit crop, scaled to the pipeline's size.
    unit = np.array([(.5, .15), (.5, .25), (.4, .26), (.37, .4), (.36, .52), (.6, .26), (.63, .4), (.64, .52),
                     (.44, .52), (.44, .7), (.44, .88), (.56, .52), (.56, .7), (.56, .88), (.48, .13), (.52, .13),
                     (.46, .14), (.54, .14)])
    pose = np.concatenate([unit * size, np.ones((18, 1))], axis=1).astype(np.float32)
    target = Target(rng.integers(0, 256, (size, size, 3), dtype=np.uint8),
                    rng.integers(0, 20, (size, size), dtype=np.uint8), pose, box,
                    rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
    in_photo = target.pose_in_photo
    t = np.arange(frames)[:, None]
    poses = np.repeat(in_photo[None], frames, axis=0)
    poses[:, 4, 1] -= 0.2 * side * (1 + np.sin(t / 5))[:, 0]  # a waving wrist
    poses[:, :, 0] += (20 * np.sin(t / 15))  # swaying
    pipeline = TransferPipeline(stages, "cpu", batch_size=batch_size or None, size=size)  # 0: transfer's own
    one_arena()  # the heap as transfer_video sets it for its networks' part
    with tempfile.TemporaryDirectory() as tmp, buffers_kept():
        start = time.perf_counter()
        with VideoWriter(Path(tmp) / "out.mp4", fps=25) as writer:
            encode = 0.0
            for frame in pipeline.frames(poses, target):
                e = time.perf_counter()
                writer.write(frame)
                encode += time.perf_counter() - e
        total = time.perf_counter() - start
    seconds = dict(pipeline.timings.seconds, encode=encode)
    return {"size": size, "frames": frames, "seconds": total, "stage_seconds": seconds,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="tiny")
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    parser.add_argument("--frames", type=int, nargs="+", default=[60, 600])
    parser.add_argument("--photo", default="720x1280", help="target photo WIDTHxHEIGHT")
    parser.add_argument("--batch-size", type=int, default=0,
                        help="frames per batch of stages 1-2b (default: cpfnet transfer's, by crop size)")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    photo = tuple(int(v) for v in args.photo.split("x"))
    if args.child:
        size, frames = (int(v) for v in args.child.split(","))
        print(json.dumps(child(args.config, size, frames, photo, args.batch_size, args.threads)))
        return
    batch = args.batch_size or "cpfnet transfer's (auto_batch_size)"
    print(f"config {args.config}, photo {args.photo}, batch {batch}; seconds per frame by stage")
    header = ("size", "frames", "parsing", "flow", "foreground", "fusion", "paste", "encode", "frames/s", "peak MB",
              "vs shortest")
    print("| " + " | ".join(header) + " |\n|" + "---|" * len(header))
    for size in args.sizes:
        base = None
        for frames in args.frames:
            out = subprocess.run([sys.executable, __file__, "--config", args.config, "--photo", args.photo,
                                  "--batch-size", str(args.batch_size), "--threads", str(args.threads),
                                  "--child", f"{size},{frames}"], capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            base = base or r["peak_mb"]
            per = [r["stage_seconds"].get(k, 0.0) / frames * 1000 for k in header[2:8]]
            print(f"| {size} | {frames} | " + " | ".join(f"{v:.1f} ms" for v in per)
                  + f" | {frames / r['seconds']:.2f} | {r['peak_mb']:.0f} | {100 * (r['peak_mb'] / base - 1):+.1f}% |")


if __name__ == "__main__":
    main()
