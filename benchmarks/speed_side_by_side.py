"""`cpfnet transfer` against the machine's conv ceiling and First Order Motion Model, in one run (issue 11).

    python benchmarks/speed_side_by_side.py [--quick] [--threads 2] [--precision auto] [--source VIDEO] [--photo PHOTO]

One run measures:
- the ceiling C of this machine: a 1x1 convolution of 2048 channels and a 2048 x 2048 matmul, GFLOP/s at
  --threads threads (speeds are stated as a ratio to C, so they carry to other machines);
- for `tiny`, `fast` (the shipped weights) and `paper` (random weights: speed does not depend on training)
  at crops 256 and 448, and tiny and fast also at their own size: `cpfnet transfer`'s own path
  (`transfer_video`: decode and pose estimation of a real source clip, the networks, paste-back into a
  720 x 1280 photo, H.264 encoding) with the milliseconds per frame of each part and frames/s end to end, the
  networks at `cpfnet transfer`'s default precision (auto: bf16 on a CPU that has it) unless --precision;
- peak memory (RSS high-water) of that run at F and at 10 F frames, each in a fresh process;
- each network alone (batch 1, torch.inference_mode): GFLOP per frame (the counter of
  benchmarks/network_cost.py: convolutions and matmuls), milliseconds, GFLOP/s and its share of C; at the
  largest crop also in bf16 as `--precision bf16` runs it (speed-up, and PSNR of its output against fp32);
- paste-back alone at 720 x 1280: `cpfnet.ops.crop.paste_back` (the --no-pixel-path paste) and the default
  pixel path's `cpfnet.transfer.pixel_path.paste_photo`;
- the shipped weights at their size and at 256 once more with the networks side by side with the paste
  (overlap on), in fp32 and in bf16 (with the PSNR of bf16 frames against fp32's), and at 256 with --low-memory.
It prints Markdown tables, First Order Motion Model's reference figures (issue 11) and the targets.

F is 40 frames at crops up to 128, 8 at 256 and 448 and 1 for `paper` (its networks take seconds per
frame), the batch `cpfnet transfer`'s own (`auto_batch_size`: 4 x 128^2 crop pixels' worth), at most F.
The source clip is the real sample (default ../shared/real/dance.mp4) played forwards and backwards to
length; the target photo is the real sample photo (../shared/real/person.jpg) scaled and cut to 720 x 1280.
frames/s leaves out the one-off preparation of the target photo. `--quick` (development): crops of 64, F = 8 (paper 1).
"""

from __future__ import annotations

import argparse
import copy
import json
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


def peak_mb() -> float:
    """This process's peak RSS in MB: VmHWM, which starts afresh at exec (getrusage's ru_maxrss would carry
    the forking parent's resident size into the child)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024


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


def paste_cost(repeat: int) -> dict[str, dict[int, float]]:
    """Milliseconds of one paste of an S x S crop onto a 720 x 1280 frame, its box 0.8 of the height, the mask a
    standing person's (a soft ellipse 0.4 of the crop wide, 0.9 high): {"paste_back": `paste_back` (the
    --no-pixel-path paste), "pixel path": `paste_photo` (the default: the photo warped along a crop flow at
    full resolution, within the mask)}, each {S: ms}. Call it with the heap set as `transfer_video` sets it
    for the pastes (`buffers_kept`); the pastes' buffers and the frames are kept from call to call as the
    pipeline keeps them."""
    import numpy as np
    import torch

    from cpfnet.ops.crop import paste_back
    from cpfnet.ops.warp import identity_flow
    from cpfnet.ops.workspace import FrameBuffers, Workspace
    from cpfnet.transfer.pixel_path import paste_photo, photo_rgba

    work = Workspace()

    width, height = PHOTO_SIZE
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    buffers = FrameBuffers(frame)  # the frame each paste writes into: a kept buffer, as `transfer_video` has
    rgba = photo_rgba(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), rng.random((height, width)) > 0.5)
    side = round(0.8 * height)  # boxes on whole pixels, as TransferPipeline's (`follow_boxes(whole_pixels=True)`)
    box = ((width - side) // 2, height // 10, (width + side) // 2, height // 10 + side)
    out: dict[str, dict[int, float]] = {"paste_back": {}, "pixel path": {}}
    for size in (128, 256, 448):
        crop = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        yy, xx = (np.mgrid[0:size, 0:size] + 0.5) / size
        mask = np.clip(8 * (1 - ((xx - 0.5) / 0.2) ** 2 - ((yy - 0.5) / 0.45) ** 2), 0, 1).astype(np.float32)
        out["paste_back"][size] = 1000 * _best(lambda: paste_back(frame, crop, box, mask, work=work,
                                                                   out=buffers.next()), repeat)
        flow = identity_flow(1, size, size) + torch.randn(1, 2, 1, 1)  # the photo's person one pixel off
        bound = torch.from_numpy(mask)[None, None]
        out["pixel path"][size] = 1000 * _best(lambda: paste_photo(frame, rgba, flow, box, box, bound, work=work,
                                                                   out=buffers.next()), repeat)
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


def _pipeline(config_name: str, size: int, batch: int, precision: str = "fp32", overlap: bool | None = None):
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
        pipeline = TransferPipeline.from_checkpoints(None, "cpu", batch_size=batch, size=size, precision=precision,
                                                     overlap=overlap)
    else:
        stages = TrainedStages(nets["parsing"]["generator"], nets["flow"]["flow"], nets["foreground"]["generator"],
                               nets["fusion"]["fusion"], config.data.size, config.data.pose_sigma, Path("."))
        pipeline = TransferPipeline(stages, torch.device("cpu"), batch_size=batch, size=size, precision=precision,
                                    overlap=overlap)
    return pipeline, nets["fusion"]["fusion"]


def _psnr(a, b) -> float:
    import math

    mse = float(((a.float() - b.float()) ** 2).mean())
    return math.inf if mse == 0 else 10 * math.log10(1 / mse)


def network_costs(pipeline, fusion, photo: Path, repeat: int, bf16: bool) -> dict[str, dict]:
    """Each network alone on one frame, as the pipeline calls it: GFLOP, seconds; with `bf16` also seconds
    and output PSNR (outputs scaled to [0, 1]) in bf16 as `--precision bf16` runs it."""
    import torch

    from cpfnet.dataset.readers import image_to_tensor
    from cpfnet.ops.crop import crop_box
    from cpfnet.ops.foreground import person_mask
    from cpfnet.precision import for_precision
    from cpfnet.stages.flow.prior import run_flow
    from cpfnet.transfer.pipeline import running_stages
    from cpfnet.transfer.target import prepare_target

    from network_cost import measure  # a sibling script: benchmarks/ is on the path when run as a script

    size, stages = pipeline.size, pipeline.stages
    target = prepare_target(photo, size)
    with torch.inference_mode():
        # The target encoded once, as the pipeline does (its parsing and pose in stages 1 and 2a's first
        # convolutions, I_a in the generator's features): what each frame costs is the rest.
        appearance, _ = pipeline._appearance(target, generating=True)
        keypoints = pipeline._keypoints(target.resized(size).pose[None])
        maps = pipeline._pose_maps(keypoints)
        parsing = stages.parsing(None, maps, appearance_encoded=appearance.parsing_encoded)["probs"]
        flow = run_flow(stages.flow, None, maps, appearance.pose, keypoints, appearance.pose_encoded)
        foreground = stages.foreground(parsing, flow["flow"], flow["visibility"],
                                       appearance_features=appearance.features)["foreground"]
        background = image_to_tensor(crop_box(target.background, target.box, size))[None]
        person = person_mask(parsing)  # stage 1's, the prior of a `mask_prior` fusion stage (ignored otherwise)

    def calls(stages, fusion, appearance) -> dict:  # network -> (run, its output scaled to [0, 1])
        return {
            "parsing": (lambda: stages.parsing(None, maps, appearance_encoded=appearance.parsing_encoded),
                        lambda o: o["probs"]),
            "flow": (lambda: run_flow(stages.flow, None, maps, appearance.pose, keypoints, appearance.pose_encoded),
                     lambda o: torch.cat([o["flow"] / size, o["visibility"]], 1)),
            "foreground": (lambda: stages.foreground(parsing, flow["flow"], flow["visibility"],
                                                     appearance_features=appearance.features),
                           lambda o: o["foreground"] * 0.5 + 0.5),
            "fusion": (lambda: fusion(background, foreground, foreground, person), lambda o: o["mask"]),
        }

    if bf16:  # as `--precision bf16` runs them on a CPU: bf16 copies of the weights (cpfnet.precision)
        low = copy.copy(pipeline)
        low.stages, low.precision = running_stages(pipeline.plain_stages, "bf16", "cpu", False), "bf16"
        with torch.inference_mode():
            low_calls = calls(low.stages, for_precision(fusion, "bf16", "cpu"), low._appearance(target, True)[0])
    out = {}
    for name, (run, scaled) in calls(stages, fusion, appearance).items():
        gflop, seconds = measure(run, repeat)
        row = {"gflop": gflop, "seconds": seconds}
        if bf16:
            run_bf16 = low_calls[name][0]
            _, row["bf16_seconds"] = measure(run_bf16, repeat)
            with torch.inference_mode():
                row["bf16_psnr"] = _psnr(scaled(run()), scaled(run_bf16()))
        out[name] = row
    return out


def _as_the_pipeline_runs(function, *args):
    """`function(*args)` in a new thread with subnormals flushed, this thread's OpenMP team freed and the heap
    keeping freed buffers, as `transfer_video` runs its networks (this thread's team exists without flushing;
    a new thread's starts with it; two teams on 2 cores slow each other: cpfnet.openmp; cpfnet.heap)."""
    from concurrent.futures import ThreadPoolExecutor

    from cpfnet.denormals import flushed
    from cpfnet.heap import buffers_kept
    from cpfnet.openmp import release_threads

    release_threads()

    def run():
        with flushed():
            return function(*args)

    with buffers_kept(), ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def child(spec: dict) -> dict:
    """One configuration in this (fresh) process: the transfer, its peak RSS, then optionally the networks."""
    if spec.get("encoder_only"):
        return encoder_memory(spec["frames"])
    import torch

    from cpfnet.io.video import iter_frames
    from cpfnet.transfer.video import transfer_video

    torch.set_num_threads(spec["threads"])
    torch.manual_seed(0)
    pipeline, fusion = _pipeline(spec["config"], spec["size"], spec["batch"], spec.get("precision", "fp32"),
                                 spec.get("overlap"))
    with tempfile.TemporaryDirectory() as tmp:
        result = transfer_video(pipeline, spec["clip"], spec["photo"], Path(tmp) / "out.mp4", progress=False,
                                low_memory=spec.get("low_memory", False))
    peak = peak_mb()
    start = time.perf_counter()
    for _ in iter_frames(spec["clip"]):
        pass
    out = {"frames": result.num_frames, "seconds": result.seconds, "stage_seconds": result.stage_seconds,
           "decode_seconds": time.perf_counter() - start, "peak_mb": peak}
    if spec["networks"]:
        out["networks"] = _as_the_pipeline_runs(network_costs, pipeline, fusion, Path(spec["photo"]), spec["repeat"],
                                                spec["bf16"])
    if spec.get("psnr_frames"):
        out["frame_psnr"] = frame_psnr(spec, pipeline)
    return out


def frame_psnr(spec: dict, pipeline) -> float:
    """PSNR (dB) of this pipeline's frames against the same pipeline's in fp32, over the crop boxes: the
    first F frames of the clip (the rest of the photo is the same in both)."""
    import numpy as np

    from cpfnet import prepare
    from cpfnet.ops.crop import box_region
    from cpfnet.transfer.retarget import retarget_poses
    from cpfnet.transfer.target import prepare_target

    person = prepare_target(spec["photo"], pipeline.size)
    poses, _, _ = prepare.pose_sequence(spec["clip"], progress=False)
    moved = retarget_poses(poses, person.pose_in_photo)[:spec["psnr_frames"]]
    reference, _ = _pipeline(spec["config"], spec["size"], spec["batch"])
    errors, count = 0.0, 0
    for a, b in zip(pipeline.outputs(moved, person), reference.outputs(moved, person)):
        x0, y0, x1, y1 = box_region(a["box"], person.background.shape[1], person.background.shape[0])
        diff = a["frame"][y0:y1, x0:x1].astype(np.float64) - b["frame"][y0:y1, x0:x1]
        errors, count = errors + float((diff ** 2).sum()), count + diff.size
    return float("inf") if errors == 0 else 10 * np.log10(255 ** 2 * count / errors)


def encoder_memory(frames: int) -> dict:
    """Peak RSS of H.264-encoding `frames` frames of 720 x 1280 alone (x264 holds its look-ahead frames)."""
    import numpy as np

    from cpfnet.io.video import VideoWriter

    width, height = PHOTO_SIZE
    frame = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    with tempfile.TemporaryDirectory() as tmp:
        with VideoWriter(Path(tmp) / "out.mp4", fps=16) as writer:
            for t in range(frames):
                writer.write(np.roll(frame, 7 * t, axis=1))
    return {"frames": frames, "peak_mb": peak_mb()}


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
    # At least 8: x264's look-ahead and MediaPipe's buffers fill over the first frames, so 10 F against F with F
    # of 2 measured that filling (x264 alone: 97 MB at 2 frames, 148 at 20), not growth with the video's length.
    return 40 if size <= 128 else 8


def _cell(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="crops of 64, few frames: for development")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--precision", default="auto",
                        help="the end-to-end runs' precision (default auto, as `cpfnet transfer` runs)")
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

    from cpfnet.heap import buffers_kept
    from cpfnet.precision import cpu_has_bf16, resolve_precision
    from cpfnet.transfer.pipeline import auto_batch_size

    bf16 = cpu_has_bf16()
    precision = resolve_precision(args.precision, "cpu")
    torch.set_num_threads(args.threads)
    repeat = 1 if args.quick else 2
    rows = ([("tiny", 64), ("fast", 64), ("paper", 64)] if args.quick else
            [("tiny", 64), ("tiny", 256), ("tiny", 448), ("fast", 128), ("fast", 256), ("fast", 448),
             ("paper", 256), ("paper", 448)])
    largest = max(size for _, size in rows)
    started = time.perf_counter()
    plain = ceiling(3 if args.quick else 5)  # glibc's default heap: the conv's 33.5 MB output mapped every call
    with buffers_kept():  # the heap as transfer_video sets it for the networks and the pastes
        c = dict(ceiling(3 if args.quick else 5), plain_conv=plain["conv"])
        pastes = paste_cost(3 if args.quick else 10)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        lengths = [k * _frames(config, size, args.quick) for config, size in rows for k in (1, 10)]
        photo, clips = make_inputs(Path(tmp), args.source, args.photo, lengths)
        for config, size in rows:
            frames = _frames(config, size, args.quick)
            spec = {"config": config, "size": size, "batch": min(auto_batch_size(size), frames),
                    "threads": args.threads, "photo": str(photo), "repeat": repeat, "precision": precision}
            one = _run_child(dict(spec, frames=frames, clip=str(clips[frames]), networks=True,
                                  bf16=bf16 and size == largest))
            ten = _run_child(dict(spec, frames=10 * frames, clip=str(clips[10 * frames]), networks=False, bf16=False))
            results.append((config, size, one, ten))
            print(f"  {config} {size}: done ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
        # The same runs with the parts side by side (the default takes turns without fusion on a CPU), in bf16
        # and (at 256) with --low-memory: the shipped weights at their size and at 256.
        extras = {}
        for config, size in [row for row in rows if row[0] == "fast"][:2]:
            frames = _frames(config, size, args.quick)
            spec = {"config": config, "size": size, "batch": min(auto_batch_size(size), frames),
                    "threads": args.threads, "photo": str(photo), "repeat": repeat, "frames": frames,
                    "clip": str(clips[frames]), "networks": False, "bf16": False, "precision": precision}
            extras[(size, "side by side")] = _run_child(dict(spec, overlap=True))
            if precision != "fp32":
                extras[(size, "fp32")] = _run_child(dict(spec, precision="fp32"))
            if bf16:
                extras[(size, "bf16")] = _run_child(dict(spec, precision="bf16", psnr_frames=frames))
            if size == 256:  # --low-memory against the memory targets: F and 10 F frames
                extras[(size, "low memory")] = [_run_child(dict(spec, low_memory=True)),
                                                _run_child(dict(spec, low_memory=True, frames=10 * frames,
                                                                clip=str(clips[10 * frames])))]
            print(f"  {config} {size} side by side / bf16: done ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
        counts = sorted({k * _frames(config, size, args.quick) for config, size in rows for k in (1, 10)})
        encoder = {n: _run_child({"encoder_only": True, "frames": n, "threads": args.threads})["peak_mb"]
                   for n in counts}
    print(report(c, pastes, results, args.threads, extras, encoder, precision))
    print(f"\n{time.perf_counter() - started:.0f} s in all, torch {torch.__version__}, {args.threads} threads, "
          f"{time.strftime('%Y-%m-%d')}")


def _fps(run: dict) -> float:
    """Frames per second of a child's transfer, the one-off target preparation left out."""
    return run["frames"] / (run["seconds"] - run["stage_seconds"].get("target", 0.0))


def _per_frame(run: dict) -> dict[str, float]:
    """ms per frame of each part (decode measured alone, pose estimation = the pose pass minus it)."""
    s, n = run["stage_seconds"], run["frames"]
    parts = dict(s, decode=run["decode_seconds"], pose=s["pose"] - run["decode_seconds"])
    return {k: 1000 * parts.get(k, 0.0) / n for k in PARTS}


def report(c: dict, pastes: dict, results: list, threads: int, extras: dict, encoder: dict, precision: str) -> str:
    ceil = c["conv"]
    target_fps = ceil / 49
    lines = [f"Ceiling C: 1x1 conv of 2048 channels {c['conv']:.0f} GFLOP/s, 2048² matmul {c['matmul']:.0f} GFLOP/s "
             f"({threads} threads; with the networks' heap, cpfnet.heap.buffers_kept). 3x FOMM = C / 49 = "
             f"{target_fps:.2f} frames/s. The same conv with glibc's default heap (its output mapped and faulted in "
             f"at every call, as the ceilings before 2026-12-03 here were measured): {c['plain_conv']:.0f} GFLOP/s.",
             ""]
    lines += [f"End to end, `transfer_video` (decode + pose + networks + paste + encode), 720 x 1280 photo, the "
              f"networks in {precision} (`cpfnet transfer`'s default on this CPU, or --precision); ms per frame "
              "of each part (the 10 F run; x264's threads and, with fusion, the networks' worker run beside the "
              "paste, so the parts add up to more than the wall time):", "",
              "| config | crop | F | " + " | ".join(PARTS) + " | frames/s | x FOMM | peak MB (F) | peak MB (10 F) "
              "| 10 F vs F |", "|---" * (len(PARTS) + 8) + "|"]
    for config, size, one, ten in results:
        per = _per_frame(ten)
        fps = _fps(ten)
        lines.append(f"| {config} | {size} | {one['frames']} | " + " | ".join(f"{per[k]:.1f}" for k in PARTS)
                     + f" | {fps:.2f} | {fps / FOMM['frames_per_s']:.2f} | {one['peak_mb']:.0f} | {ten['peak_mb']:.0f} "
                       f"| {100 * (ten['peak_mb'] / one['peak_mb'] - 1):+.1f}% |")
    lines += ["", "x264 alone (720 x 1280, its look-ahead): peak MB " +
              ", ".join(f"{v:.0f} at {n} frames" for n, v in encoder.items()) + "."]
    for (size, kind), run in extras.items():
        base = next(one for config, sz, one, _ in results if config == "fast" and sz == size)
        if kind == "side by side":
            lines.append(f"fast at {size}, the networks side by side with the paste (overlap on): {_fps(run):.2f} "
                         f"frames/s, peak MB {run['peak_mb']:.0f}; in turn (the default) {_fps(base):.2f} "
                         f"({_fps(base) / _fps(run):.2f}x), {base['peak_mb']:.0f}.")
        elif kind == "low memory":
            one, ten = run
            lines.append(f"fast at {size}, --low-memory: {_fps(one):.2f} frames/s against {_fps(base):.2f}; peak MB "
                         f"{one['peak_mb']:.0f} at F, {ten['peak_mb']:.0f} at 10 F "
                         f"({100 * (ten['peak_mb'] / one['peak_mb'] - 1):+.1f}%).")
        elif kind == "bf16":
            fp32 = extras.get((size, "fp32"), base)
            lines.append(f"fast at {size}, bf16 end to end: {_fps(run):.2f} frames/s against fp32's "
                         f"{_fps(fp32):.2f} ({_fps(run) / _fps(fp32):.2f}x); frames' PSNR against fp32 in the crop "
                         f"boxes {run['frame_psnr']:.1f} dB; peak MB {fp32['peak_mb']:.0f} in fp32.")
    lines += ["", "Each network alone, one frame (batch 1), fp32; bf16 (bf16 weights, as `--precision bf16` runs them) "
              "at the largest crop:", "",
              "| config | crop | network | GFLOP / frame | ms | GFLOP/s | % of C | bf16 ms | bf16 speed-up | bf16 PSNR dB |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for config, size, one, _ in results:
        for name, r in one["networks"].items():
            rate = r["gflop"] / r["seconds"]
            bf = r.get("bf16_seconds")
            lines.append(f"| {config} | {size} | {name} | {r['gflop']:.2f} | {1000 * r['seconds']:.1f} | {rate:.0f} | "
                         f"{100 * rate / ceil:.0f}% | {_cell(bf and 1000 * bf)} | {_cell(bf and r['seconds'] / bf, 2)} | "
                         f"{_cell(r.get('bf16_psnr'))} |")
    lines += [""] + [f"{kind} paste alone, one frame at 720 x 1280: "
                     + ", ".join(f"{v:.1f} ms at crop {k}" for k, v in by_size.items()) + "." for kind, by_size in
                     pastes.items()]
    lines += [f"First Order Motion Model (issue 11's reference, taichi-256, on this machine type): "
              f"{FOMM['frames_per_s']} frames/s at 256, {FOMM['gflop']:.0f} GFLOP/frame, "
              f"{100 * FOMM['ceiling_share']:.0f}% of its run's ceiling, {FOMM['peak_mb']:.0f} MB peak.", "",
              "Targets (issue 11):"]
    lines += [f"- {'met' if ok else 'NOT met'}: {what}" for ok, what in targets(ceil, pastes, results, extras)]
    return "\n".join(lines)


def targets(ceil: float, pastes: dict, results: list, extras: dict) -> list[tuple[bool, str]]:
    out = []
    for kind, by_size in pastes.items():
        worst = max(by_size.values())
        out.append((worst <= 3, f"{kind} paste at most 3 ms per frame at 720 x 1280 (worst {worst:.1f} ms)"))
    shares = [(config, size, _per_frame(ten)["paste"] / (1000 / _fps(ten))) for config, size, _, ten in results]
    config, size, share = max(shares, key=lambda r: r[2])
    out.append((share < 0.1, f"paste (the default pixel path) under 10% of the per-frame time everywhere "
                             f"(worst {100 * share:.0f}%, {config} at {size})"))
    for config, size, _, ten in results:
        if config == "fast" and size == 256:
            out.append((_fps(ten) >= ceil / 49, f"fast at 256 at least C / 49 = {ceil / 49:.2f} frames/s "
                                                f"({_fps(ten):.2f})"))
    for config, size, one, _ in results:
        if config == "paper" and size == 448:
            low = min(one["networks"].items(), key=lambda kv: kv[1]["gflop"] / kv[1]["seconds"])
            rate = low[1]["gflop"] / low[1]["seconds"]
            out.append((rate >= 0.85 * ceil, f"paper at 448: every network at least 85% of C in fp32 "
                                             f"(lowest {low[0]}, {100 * rate / ceil:.0f}%)"))
            if all("bf16_seconds" in r for r in one["networks"].values()):
                speed = min(r["seconds"] / r["bf16_seconds"] for r in one["networks"].values())
                psnr = min(r["bf16_psnr"] for r in one["networks"].values())
                out.append((speed >= 1.5, f"paper at 448 in bf16 at least 1.5x fp32 (slowest network {speed:.2f}x)"))
                out.append((psnr >= 35, f"bf16 output PSNR against fp32 at least 35 dB (lowest {psnr:.1f})"))
    peaks = [(config, one["peak_mb"]) for config, size, one, _ in results if size == 256]
    if peaks:
        config, peak = max(peaks, key=lambda r: r[1])
        out.append((peak <= FOMM["peak_mb"], f"peak memory at 256 at most FOMM's {FOMM['peak_mb']:.0f} MB "
                                             f"(worst {peak:.0f} MB, {config})"))
    growth = [(config, size, ten["peak_mb"] / one["peak_mb"] - 1) for config, size, one, ten in results]
    config, size, worst = max(growth, key=lambda r: r[2])
    out.append((worst <= 0.05, f"10x frames at most +5% peak memory everywhere (worst {100 * worst:+.1f}%, "
                               f"{config} at {size})"))
    if (256, "low memory") in extras:
        one, ten = extras[(256, "low memory")]
        peak, grown = max(one["peak_mb"], ten["peak_mb"]), ten["peak_mb"] / one["peak_mb"] - 1
        out.append((peak <= FOMM["peak_mb"] and grown <= 0.05,
                    f"fast at 256 with --low-memory: peak at most {FOMM['peak_mb']:.0f} MB, 10x frames at most +5% "
                    f"({peak:.0f} MB, {100 * grown:+.1f}%)"))
    return out


if __name__ == "__main__":
    main()
