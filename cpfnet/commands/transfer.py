"""Make the person in a photo dance like the person in a video.

Example: cpfnet transfer --source dance.mp4 --target me.jpg --out me_dancing.mp4 --side-by-side
Without --checkpoints it uses the small weights shipped with cpfnet (trained on synthetic dancers).
`--method NAME` runs a baseline of the paper's comparison (IV-A2) from RUNS/baseline-NAME instead.
"""

from __future__ import annotations

import argparse

CPFNET = "cpfnet"
PRECISION_HELP = ("what the networks compute in: fp32, bf16 (CPUs with AVX-512 BF16 or AMX, GPUs), fp16 (GPUs), "
                  "auto (bf16/fp16 on a GPU, bf16 on a CPU that has it, else fp32); default {}; README \"Performance\"")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", required=True, help="the dance video")
    parser.add_argument("--target", required=True, help="a photo of the person who should dance")
    parser.add_argument("--out", required=True, help="the output .mp4 (written when complete)")
    parser.add_argument("--method", default=CPFNET, metavar="NAME",
                        help="cpfnet (default), or NAME of a baseline trained into RUNS with `cpfnet train "
                             "baseline-NAME` (pix2pixhd, vid2vid, fewshot-vid2vid, ...; needs --checkpoints)")
    parser.add_argument("--checkpoints", metavar="RUNS", help="a RUNS folder of `cpfnet train` (default: shipped weights)")
    parser.add_argument("--size", type=int, help="crop size the stages run at (default: the size they were trained at)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default: cpu)")
    parser.add_argument("--batch-size", type=int,
                        help="frames per batch in stages 1 and 2 (default: 4 x 128^2 crop pixels' worth, 1-8 frames)")
    parser.add_argument("--precision", metavar="P",
                        help=PRECISION_HELP.format("auto (on the real self-reconstruction benchmark bf16 and fp32 "
                                                   "score the same: SSIM 0.7467 / 0.7466, 16.81 dB both)"))
    parser.add_argument("--compile", action="store_true",
                        help="run the networks through torch.compile (needs a C++ compiler on a CPU; falls back to "
                             "uncompiled with a warning): minutes of compiling first, pays for long videos")
    parser.add_argument("--side-by-side", action="store_true",
                        help="OUT shows source | source skeleton | result (as the paper's figures)")
    parser.add_argument("--no-flow", action="store_true",
                        help="the ablation without appearance flow: needs --checkpoints whose foreground stage "
                             "was trained with use_flow: false")
    parser.add_argument("--no-fusion", action="store_true",
                        help="the ablation without the fusion network: the generated parsing is the mask")
    parser.add_argument("--no-pixel-path", action="store_true",
                        help="paste the generated crop upsampled instead of warping the photo's own pixels at full "
                             "resolution (the paper's output; blurrier)")
    parser.add_argument("--generate-hidden", action="store_true",
                        help="with the pixel path, fill the parts the photo does not show with the generator's "
                             "pixels (its blend weight m) instead of the photo's warped pixels (default: the "
                             "photo's; they score better on real footage with the shipped weights)")
    parser.add_argument("--personalize", type=int, default=0, metavar="STEPS",
                        help="first fine-tune the generator on the target photo for STEPS steps (about 1 s each "
                             "at 128 px on a CPU core; default 0: off); implies --generate-hidden")
    parser.add_argument("--low-memory", action="store_true",
                        help="hand the networks' buffers back to the system after each use: 40-85 MB less "
                             "peak memory at 256 px crops, about half the speed (default: kept for reuse)")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--max-side", type=int, default=1920, metavar="PX",
                      help="scale a larger target photo down so the output's longer side is PX (default 1920; the "
                           "time per frame grows with the photo's megapixels)")
    size.add_argument("--full-size", action="store_true", help="keep the target photo's full size (no --max-side cap)")
    parser.add_argument("--min-person-fraction", type=float, default=0.5,
                        help="fail when the person is found in fewer of the source's frames than this (default 0.5)")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from cpfnet.device import resolve_device
    from cpfnet.errors import UserError
    from cpfnet.io.paths import Output, check_outputs
    from cpfnet.io.video import require_video
    from cpfnet.precision import resolve_precision
    from cpfnet.transfer.pipeline import auto_batch_size
    from cpfnet.transfer.video import transfer_video

    if args.size is not None and (args.size < 32 or args.size % 16):
        raise UserError(f"--size {args.size}: use a multiple of 16, at least 32")
    if args.batch_size is not None and args.batch_size < 1:
        raise UserError(f"--batch-size {args.batch_size}: must be at least 1")
    if args.size is not None:
        _check_memory(args.size, args.batch_size or auto_batch_size(args.size))
    if args.personalize < 0:
        raise UserError(f"--personalize {args.personalize}: give a number of steps, 0 or more")
    if args.max_side < 64:
        raise UserError(f"--max-side {args.max_side}: use at least 64 (or --full-size for no cap)")
    if not 0 <= args.min_person_fraction <= 1:
        raise UserError(f"--min-person-fraction {args.min_person_fraction}: must be in [0, 1]")
    resolve_precision(args.precision or "auto", resolve_device(args.device))  # before anything slow
    check_outputs([Output(Path(args.out), "--out")],
                  [("--source", args.source), ("--target", args.target), ("--checkpoints", args.checkpoints)])
    require_video(args.source, "--source")
    if args.method != CPFNET:
        pipeline = _baseline(args, resolve_device(args.device))
    else:
        pipeline = _cpfnet(args, resolve_device(args.device))
    out, side = (None, args.out) if args.side_by_side else (args.out, None)
    result = transfer_video(pipeline, args.source, args.target, out, side, personalize_steps=args.personalize,
                            max_side=None if args.full_size else args.max_side,
                            min_person_fraction=args.min_person_fraction, low_memory=args.low_memory)
    seconds = ", ".join(f"{k} {v:.1f}s" for k, v in result.stage_seconds.items())
    print(f"wrote {result.path}: {result.num_frames} frames, {result.width}x{result.height}, {result.fps:g} fps, "
          f"{result.num_frames / result.seconds:.2f} frames/s overall ({seconds})")
    return 0


def _check_memory(size: int, batch: int) -> None:
    """A floor of what stages 1-2 hold per batch at `size`: pose maps, parsing and image, float32."""
    from cpfnet.body.parsing_labels import NUM_LABELS
    from cpfnet.body.pose_maps import POSE_CHANNELS
    from cpfnet.memory import check_fits

    channels = POSE_CHANNELS + NUM_LABELS + 3
    check_fits(batch * channels * size * size * 4,
               f"--size {size} (one batch: {batch} x {channels} channels x {size} x {size} x 4 bytes)",
               "use a smaller --size (the stages' own size is the default) or --batch-size")


def methods() -> list[str]:
    """--method's values: cpfnet and every baseline of the registry (stage baseline-NAME -> NAME)."""
    from cpfnet.stages import registry

    return [CPFNET, *(name.removeprefix("baseline-") for name in registry.BASELINES)]


def _baseline(args: argparse.Namespace, device):
    """The baseline's pipeline from RUNS/baseline-NAME (its crop box follows the dancer, as CPF-Net's)."""
    from cpfnet.errors import UserError
    from cpfnet.stages import registry
    from cpfnet.stages.weights import require_checkpoint

    if args.method not in methods():
        raise UserError(f"unknown --method {args.method!r}; known: {', '.join(methods())}")
    stage = f"baseline-{args.method}"
    used = [flag for flag, on in (("--size", args.size is not None), ("--no-flow", args.no_flow),
                                  ("--no-fusion", args.no_fusion), ("--no-pixel-path", args.no_pixel_path),
                                  ("--generate-hidden", args.generate_hidden), ("--personalize", args.personalize > 0),
                                  ("--precision", args.precision is not None), ("--compile", args.compile)) if on]
    if used:
        raise UserError(f"{used[0]} applies to --method cpfnet only (a baseline runs at the size it was trained at)")
    if args.checkpoints is None:
        raise UserError(f"--method {args.method} needs --checkpoints RUNS with a trained {stage} stage "
                        f"(cpfnet train {stage} --config NAME --data DIR --runs RUNS); no baseline weights ship")
    require_checkpoint(args.checkpoints, stage, needed_by=f"--method {args.method}")
    return registry.stage(stage).pipeline_class().from_checkpoints(args.checkpoints, device)


def _cpfnet(args: argparse.Namespace, device):
    from cpfnet.errors import UserError
    from cpfnet.transfer.pipeline import TransferPipeline

    pipeline = TransferPipeline.from_checkpoints(args.checkpoints, device, use_fusion=False if args.no_fusion else None,
                                                 batch_size=args.batch_size, size=args.size, precision=args.precision or "auto",
                                                 compile_networks=args.compile,
                                                 pixel_path=False if args.no_pixel_path or args.no_flow else None,
                                                 generate_hidden=args.generate_hidden or args.personalize > 0)
    if args.generate_hidden and not pipeline.pixel_path:
        raise UserError("--generate-hidden chooses what the pixel path shows: drop --no-pixel-path/--no-flow, "
                        "or drop --generate-hidden")
    if args.personalize and not pipeline.use_flow:
        raise UserError("--personalize needs checkpoints whose foreground stage uses appearance flow")
    if args.no_flow and pipeline.use_flow:
        raise UserError("--no-flow: these checkpoints' foreground stage uses appearance flow; give --checkpoints "
                        "of a run trained with foreground.generator.use_flow: false")
    if not args.no_flow and not pipeline.use_flow:
        raise UserError("these checkpoints' foreground stage was trained without appearance flow; pass --no-flow")
    return pipeline
