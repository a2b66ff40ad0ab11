"""I3D speed for FVD: clips per second at 224 x 224 x 30 frames, per batch size, and peak memory.

    python benchmarks/fvd_speed.py [--batch-sizes 1 2 4] [--frames 30] [--repeats 3] [--device cpu]

Also times the preprocessing of a 30-frame clip (TF1 bilinear resize from 1108 x 692) and the Frechet
distance of 2 x 256 clips. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import torch

from cpfnet.evaluation.frechet import frechet_distance_from_features
from cpfnet.evaluation.fvd import preprocess_clip
from cpfnet.evaluation.i3d_weights import load_i3d


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}")

    start = time.perf_counter()
    model = load_i3d(device=args.device).fuse_batch_norm()
    print(f"load weights: {time.perf_counter() - start:.2f} s")

    clip = np.random.default_rng(0).integers(0, 256, (args.frames, 1108, 692, 3), dtype=np.uint8)
    start = time.perf_counter()
    x = preprocess_clip(clip)
    print(f"preprocess {args.frames} frames 1108x692 -> 224x224: {time.perf_counter() - start:.3f} s")

    for batch_size in args.batch_sizes:
        batch = x[None].expand(batch_size, *x.shape).contiguous().to(args.device)
        with torch.inference_mode():
            model(batch)  # warm-up: oneDNN picks its kernels on the first call
            times, cpu = [], []
            for _ in range(args.repeats):
                start, start_cpu = time.perf_counter(), time.process_time()
                model(batch)
                if args.device.startswith("cuda"):
                    torch.cuda.synchronize()
                times.append(time.perf_counter() - start)
                cpu.append(time.process_time() - start_cpu)
        best = min(times)
        # CPU seconds per clip show the cost even when other processes share the cores (wall time then lies).
        print(f"I3D batch {batch_size} x {args.frames} frames: best {best:.2f} s, median {np.median(times):.2f} s "
              f"-> {batch_size / best:.2f} clips/s; {min(cpu) / batch_size:.2f} CPU s per clip; "
              f"peak RSS so far {peak_rss_mb():.0f} MB")

    features = np.random.default_rng(1).normal(size=(2, 256, 400))
    start = time.perf_counter()
    frechet_distance_from_features(features[0], features[1])
    print(f"Frechet distance, 256 vs 256 clips: {time.perf_counter() - start:.3f} s")
    features = np.random.default_rng(1).normal(size=(2, 2048, 400))
    start = time.perf_counter()
    frechet_distance_from_features(features[0], features[1])
    print(f"Frechet distance, 2048 vs 2048 clips: {time.perf_counter() - start:.3f} s")


if __name__ == "__main__":
    main()
