"""Run the whole job on built-in data: a synthetic dance onto another synthetic person, scored, and the
real sample dance onto the real sample photo.

Writes into --out: synthetic_transfer.mp4, synthetic_side_by_side.mp4 (source | skeleton | result | truth),
synthetic_preview.png (rows: source, skeleton, result, truth, the photo), and, when ../shared/real holds the
samples, real_transfer.mp4, real_side_by_side.mp4 and real_preview.png. Prints SSIM and PSNR of the
synthetic result against the true render, next to pasting the photo's person unchanged into every frame.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="demo_output", metavar="DIR", help="output folder (default demo_output)")
    parser.add_argument("--checkpoints", metavar="RUNS", help="a RUNS folder of `cpfnet train` (default: shipped weights)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the synthetic dancers (default 2026)")
    parser.add_argument("--frames", type=int, default=48, help="frames of the synthetic dance (default 48)")
    parser.add_argument("--real", metavar="DIR", help="folder with dance.mp4 and person.jpg (default ../shared/real)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    from cpfnet.device import resolve_device
    from cpfnet.errors import UserError
    from cpfnet.io.paths import Output, check_outputs
    from cpfnet.memory import check_fits
    from cpfnet.transfer.demo import REAL_SAMPLES, SYNTHETIC_COPIES, SYNTHETIC_SIZE, real_demo, synthetic_demo
    from cpfnet.transfer.pipeline import TransferPipeline

    if args.frames < 8:
        raise UserError(f"--frames {args.frames}: use at least 8")
    check_fits(args.frames * SYNTHETIC_COPIES * SYNTHETIC_SIZE ** 2 * 3,
               f"--frames {args.frames} ({SYNTHETIC_COPIES} copies of each {SYNTHETIC_SIZE} x {SYNTHETIC_SIZE} RGB "
               "frame)", "use fewer --frames")
    out = Path(args.out)
    check_outputs([Output(out, "--out", "folder", replaced=False)],
                  [("--real", Path(args.real) if args.real else REAL_SAMPLES), ("--checkpoints", args.checkpoints)])
    # As `cpfnet transfer` runs by default: bf16 where the CPU has it (README "Performance").
    pipeline = TransferPipeline.from_checkpoints(args.checkpoints, resolve_device(args.device), precision="auto")
    out.mkdir(parents=True, exist_ok=True)  # after the weights load: a damaged checkpoint leaves no folder
    print(f"stages from {pipeline.stages.runs} ({pipeline.size}x{pipeline.size} crops)")
    scores = synthetic_demo(pipeline, out, args.seed, args.frames, progress=not args.no_progress)
    print(f"synthetic transfer vs the true render: SSIM {scores.ssim:.3f}, PSNR {scores.psnr:.2f} dB "
          f"(pasting the photo unchanged: SSIM {scores.baseline_ssim:.3f}, PSNR {scores.baseline_psnr:.2f} dB)")
    real = real_demo(pipeline, out, Path(args.real) if args.real else REAL_SAMPLES, progress=not args.no_progress)
    if real is None:
        print(f"real samples not found in {args.real or REAL_SAMPLES}: skipped the real transfer")
    else:
        print(f"real transfer: {real.num_frames} frames at {real.width}x{real.height}, "
              f"{real.num_frames / real.seconds:.2f} frames/s overall")
    for path in sorted(out.iterdir()):
        print(f"  {path}")
    return 0
