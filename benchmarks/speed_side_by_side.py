"""`cpfnet transfer` against the machine's conv ceiling and First Order Motion Model, in one run (issue 11).

    python benchmarks/speed_side_by_side.py [--quick] [--threads 2] [--source VIDEO] [--photo PHOTO]

One run measures:
- the ceiling C of this machine: a 1x1 convolution of 2048 channels and a 2048 x 2048 matmul, GFLOP/s at
  --threads threads (speeds are stated as a ratio to C, so they carry to other machines);
- for `tiny`, `fast` (the shipped weights) and `paper` (random weights: speed does not depend on training)
  at crops 256 and 448, and tiny and fast also at their own size: `cpfnet transfer`'s own path
  (`transfer_video`: decode and pose estimation of a real source clip, the networks, paste-back into a
  720 x 1280 photo, H.264 encoding) with the milliseconds per frame of each part and frames/s end to end;
- peak memory (RSS high-water) of that run at F and at 10 F frames, each in a fresh process;
- each network alone (batch 1, torch.inference_mode): GFLOP per frame (the counter of
  benchmarks/network_cost.py: convolutions and matmuls), milliseconds, GFLOP/s and its share of C; at the
  largest crop also under bf16 autocast (speed-up, and PSNR of its output against fp32);
- paste-back (`cpfnet.ops.crop.paste_back`, the --no-pixel-path paste) alone at 720 x 1280.
It prints Markdown tables, First Order Motion Model's reference figures (issue 11) and the targets.

F is 40 frames at crops up to 128, 8 at 256, 2 at 448 and 1 for `paper` (its networks take seconds per
frame), the batch min(8, F) so that the F and 10 F runs hold the same tensors. The source clip is the real
sample (default ../shared/real/dance.mp4) played forwards and backwards to length; the target photo is
the real sample photo (../shared/real/person.jpg) scaled and cut to 720 x 1280. frames/s leaves out the
one-off preparation of the target photo. `--quick` (development): crops of 64, F = 8 (paper 1).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "real"
PHOTO_SIZE = (720, 1280)  # width, height of the target photo (the issue's)

# FOMM, taichi-256 config, its own code unchanged, on this machine type (issue 11).
FOMM = {"frames_per_s": 1.24, "gflop": 110.0, "ceiling_share": 0.75, "peak_mb": 692.0}
PARTS = ("decode", "pose", "parsing", "flow", "foreground", "fusion", "paste", "encode")
NETWORKS = ("parsing", "flow", "foreground", "fusion")


def _best(run, repeat: int) -> float:
    run()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def ceiling(repeat: int) -> dict[str, float]:
    """GFLOP/s of a 1x1 convolution of 2048 channels (on 64 x 64) and of a 2048 x 2048 matmul."""
    import torch

    torch.manual_seed(0)
    conv = torch.nn.Conv2d(2048, 2048, 1, bias=False).eval()
    x = torch.rand(1, 2048, 64, 64)
    a, b = torch.rand(2048, 2048), torch.rand(2048, 2048)
    with torch.inference_mode():
        conv_s = _best(lambda: conv(x), repeat)
        matmul_s = _best(lambda: a @ b, repeat)
    return {"conv": 2 * 2048 * 2048 * 64 * 64 / conv_s / 1e9, "matmul": 2 * 2048 ** 3 / matmul_s / 1e9}


def paste_cost(repeat: int) -> dict[int, float]:
    """Milliseconds of one `paste_back` of an S x S crop onto a 720 x 1280 frame, its box 0.8 of the height."""
    import numpy as np

    from cpfnet.ops.crop import paste_back

    width, height = PHOTO_SIZE
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    side = 0.8 * height
    box = ((width - side) / 2 + 0.3, 0.1 * height + 0.7, (width + side) / 2 + 0.3, 0.1 * height + side + 0.7)
    out = {}
    for size in (128, 256, 448):
        crop = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        mask = rng.random((size, size), dtype=np.float32)
        out[size] = 1000 * _best(lambda: paste_back(frame, crop, box, mask), repeat)
    return out


def make_inputs(folder: Path, source: Path, photo: Path, lengths: list[int]) -> tuple[Path, dict[int, Path]]:
    """The 720 x 1280 target photo and source clips of each length (the source forwards, then backwards...)."""
    import cv2
    import numpy as np

    from cpfnet.io.video import VideoWriter, iter_frames, probe

    image = cv2.imread(str(photo))
    if image is None:
        raise SystemExit(f"{photo}: not a readable photo")
    width, height = PHOTO_SIZE
    scale = max(width / image.shape[1], height / image.shape[0])
    image = cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    x0, y0 = (image.shape[1] - width) // 2, (image.shape[0] - height) // 2
    target = folder / "photo.png"
    cv2.imwrite(str(target), image[y0:y0 + height, x0:x0 + width])
    frames = list(iter_frames(source, count=max(lengths)))
    fps = probe(source).fps
    order = np.concatenate([np.arange(len(frames)), np.arange(len(frames) - 2, 0, -1)]) if len(frames) > 2 \
        else np.arange(len(frames))
    clips = {}
    for n in sorted(set(lengths)):
        clips[n] = folder / f"source_{n}.mp4"
        with VideoWriter(clips[n], fps=fps) as writer:
            for t in range(n):
                writer.write(frames[order[t % len(order)]])
    return target, clips


def _pipeline(config_name: str, size: int, batch: int):
    import torch

    from cpfnet.configs.experiment import load_config
    from cpfnet.stages.registry import CPF_STAGES, stage
    from cpfnet.transfer.models import TrainedStages
    from cpfnet.transfer.pipeline import TransferPipeline

    config = load_config(config_name)
    nets = {name: stage(name).build(config.stage(name)) for name in CPF_STAGES}  # inference networks only
    for group in nets.values():
        for module in group.values():
            module.eval().requires_grad_(False)
    if config_name == "fast":  # what users run: the shipped weights (trained in this configuration; no fusion)
        pipeline = TransferPipeline.from_checkpoints(None, "cpu", batch_size=batch, size=size)
    else:
        stages = TrainedStages(nets["parsing"]["generator"], nets["flow"]["flow"], nets["foreground"]["generator"],
                               nets["fusion"]["fusion"], config.data.size, config.data.pose_sigma, Path("."))
        pipeline = TransferPipeline(stages, torch.device("cpu"), batch_size=batch, size=size)
    return pipeline, nets["fusion"]["fusion"]


def _psnr(a, b) -> float:
    import math

    mse = float(((a.float() - b.float()) ** 2).mean())
    return math.inf if mse == 0 else 10 * math.log10(1 / mse)


def network_costs(pipeline, fusion, photo: Path, repeat: int, bf16: bool) -> dict[str, dict]:
    """Each network alone on one frame, as the pipeline calls it: GFLOP, seconds; with `bf16` also seconds
    and output PSNR (outputs scaled to [0, 1]) under bf16 autocast."""
    import torch

    from cpfnet.dataset.readers import image_to_tensor
    from cpfnet.ops.crop import crop_box
    from cpfnet.stages.flow.prior import run_flow
    from cpfnet.transfer.target import prepare_target

    from network_cost import measure  # a sibling script: benchmarks/ is on the path when run as a script

    size, stages = pipeline.size, pipeline.stages
    target = prepare_target(photo, size)
    with torch.inference_mode():
        appearance, _ = pipeline._appearance(target)
        keypoints = pipeline._keypoints(target.resized(size).pose[None])
        maps = pipeline._pose_maps(keypoints)
        parsing = stages.parsing(appearance.parsing, maps)["probs"]
        flow = run_flow(stages.flow, appearance.pose_maps, maps, appearance.pose, keypoints)
        foreground = stages.foreground(parsing, flow["flow"], flow["visibility"],
                                       appearance_features=appearance.features)["foreground"]
        background = image_to_tensor(crop_box(target.background, target.box, size))[None]
    calls = {  # network -> (run, its output scaled to [0, 1])
        "parsing": (lambda: stages.parsing(appearance.parsing, maps), lambda o: o["probs"]),
        "flow": (lambda: run_flow(stages.flow, appearance.pose_maps, maps, appearance.pose, keypoints),
                 lambda o: torch.cat([o["flow"] / size, o["visibility"]], 1)),
        "foreground": (lambda: stages.foreground(parsing, flow["flow"], flow["visibility"],
                                                 appearance_features=appearance.features),
                       lambda o: o["foreground"] * 0.5 + 0.5),
        "fusion": (lambda: fusion(background, foreground, foreground), lambda o: o["mask"]),
    }
    out = {}
    for name, (run, scaled) in calls.items():
        gflop, seconds = measure(run, repeat)
        row = {"gflop": gflop, "seconds": seconds}
        if bf16:
            def run_bf16(run=run):
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    return run()

            _, row["bf16_seconds"] = measure(run_bf16, repeat)
            with torch.inference_mode():
                row["bf16_psnr"] = _psnr(scaled(run()), scaled(run_bf16()))
        out[name] = row
    return out


def child(spec: dict) -> dict:
    """One configuration in this (fresh) process: the transfer, its peak RSS, then optionally the networks."""
    import torch

    from cpfnet.io.video import iter_frames
    from cpfnet.transfer.video import transfer_video

    torch.set_num_threads(spec["threads"])
    torch.manual_seed(0)
    pipeline, fusion = _pipeline(spec["config"], spec["size"], spec["batch"])
    with tempfile.TemporaryDirectory() as tmp:
        result = transfer_video(pipeline, spec["clip"], spec["photo"], Path(tmp) / "out.mp4", progress=False)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    for _ in iter_frames(spec["clip"]):
        pass
    out = {"frames": result.num_frames, "seconds": result.seconds, "stage_seconds": result.stage_seconds,
           "decode_seconds": time.perf_counter() - start, "peak_mb": peak_mb}
    if spec["networks"]:
        out["networks"] = network_costs(pipeline, fusion, Path(spec["photo"]), spec["repeat"], spec["bf16"])
    return out


def _run_child(spec: dict) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{spec['config']} at {spec['size']}, {spec['frames']} frames failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _frames(config: str, size: int, quick: bool) -> int:
    if config == "paper":
        return 1
    if quick:
        return 8
    return 40 if size <= 128 else 8 if size <= 256 else 2


def _cell(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="crops of 64, few frames: for development")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--source", type=Path, default=REAL / "dance.mp4", help="the source dance video")
    parser.add_argument("--photo", type=Path, default=REAL / "person.jpg", help="a photo of the target person")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return
    for path in (args.source, args.photo):
        if not path.is_file():
            raise SystemExit(f"{path}: no such file (give --source and --photo)")
    import torch

    torch.set_num_threads(args.threads)
    repeat = 1 if args.quick else 2
    rows = ([("tiny", 64), ("fast", 64), ("paper", 64)] if args.quick else
            [("tiny", 64), ("tiny", 256), ("tiny", 448), ("fast", 128), ("fast", 256), ("fast", 448),
             ("paper", 256), ("paper", 448)])
    largest = max(size for _, size in rows)
    started = time.perf_counter()
    c = ceiling(3 if args.quick else 5)
    pastes = paste_cost(3 if args.quick else 10)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        lengths = [k * _frames(config, size, args.quick) for config, size in rows for k in (1, 10)]
        photo, clips = make_inputs(Path(tmp), args.source, args.photo, lengths)
        for config, size in rows:
            frames = _frames(config, size, args.quick)
            spec = {"config": config, "size": size, "batch": min(8, frames), "threads": args.threads,
                    "photo": str(photo), "repeat": repeat}
            one = _run_child(dict(spec, frames=frames, clip=str(clips[frames]), networks=True, bf16=size == largest))
            ten = _run_child(dict(spec, frames=10 * frames, clip=str(clips[10 * frames]), networks=False, bf16=False))
            results.append((config, size, one, ten))
            print(f"  {config} {size}: done ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    print(report(c, pastes, results, args.threads))
    print(f"\n{time.perf_counter() - started:.0f} s in all, torch {torch.__version__}, {args.threads} threads, "
          f"{time.strftime('%Y-%m-%d')}")


def report(c: dict, pastes: dict, results: list, threads: int) -> str:
    ceil = c["conv"]
    lines = [f"Ceiling C: 1x1 conv of 2048 channels {c['conv']:.0f} GFLOP/s, 2048² matmul {c['matmul']:.0f} GFLOP/s "
             f"({threads} threads). Target 3x FOMM = C / 49 = {ceil / 49:.2f} frames/s.", ""]
    lines += ["End to end, `transfer_video` (decode + pose + networks + paste + encode), 720 x 1280 photo; ms per frame "
              "(the 10 F run):", "",
              "| config | crop | frames F | " + " | ".join(PARTS) + " | frames/s | x FOMM | peak MB (F) | peak MB (10 F) "
              "| 10 F vs F |", "|---" * (len(PARTS) + 8) + "|"]
    for config, size, one, ten in results:
        s, n = ten["stage_seconds"], ten["frames"]
        parts = dict(s, decode=ten["decode_seconds"], pose=s["pose"] - ten["decode_seconds"])
        per = [1000 * parts.get(k, 0.0) / n for k in PARTS]
        fps = n / (ten["seconds"] - s.get("target", 0.0))
        lines.append(f"| {config} | {size} | {one['frames']} | " + " | ".join(f"{v:.1f}" for v in per)
                     + f" | {fps:.2f} | {fps / FOMM['frames_per_s']:.2f} | {one['peak_mb']:.0f} | {ten['peak_mb']:.0f} "
                       f"| {100 * (ten['peak_mb'] / one['peak_mb'] - 1):+.1f}% |")
    lines += ["", "Each network alone, one frame (batch 1), fp32; bf16: under torch.autocast at the largest crop:", "",
              "| config | crop | network | GFLOP / frame | ms | GFLOP/s | % of C | bf16 ms | bf16 speed-up | bf16 PSNR dB |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for config, size, one, _ in results:
        for name, r in one["networks"].items():
            rate = r["gflop"] / r["seconds"]
            bf = r.get("bf16_seconds")
            lines.append(f"| {config} | {size} | {name} | {r['gflop']:.2f} | {1000 * r['seconds']:.1f} | {rate:.0f} | "
                         f"{100 * rate / ceil:.0f}% | {_cell(bf and 1000 * bf)} | {_cell(bf and r['seconds'] / bf, 2)} | "
                         f"{_cell(r.get('bf16_psnr'))} |")
    lines += ["", "paste_back (--no-pixel-path) alone, one frame at 720 x 1280: "
              + ", ".join(f"{v:.1f} ms at crop {k}" for k, v in pastes.items()) + ".",
              "", f"First Order Motion Model (issue 11's reference, taichi-256, same machine type): "
              f"{FOMM['frames_per_s']} frames/s at 256, {FOMM['gflop']:.0f} GFLOP/frame, "
              f"{100 * FOMM['ceiling_share']:.0f}% of its run's ceiling, {FOMM['peak_mb']:.0f} MB peak."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
