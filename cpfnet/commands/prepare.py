"""Prepare real videos and photos as datasets: poses, masks, parsing, 448 crops, clean background.

Each INPUT (a video, a photo, or a folder of them) becomes OUT/<name>/ in the dataset layout (meta.json,
frames/, parsing/, poses.npy, background.png, background_full.png), named after the input's file name.
Poses come from MediaPipe (as OpenPose COCO-18), gaps filled and Savitzky-Golay smoothed; parsing from a
coarse parser working on MediaPipe's person mask (LIP labels); the appearance frame is the one with the
largest keypoint-confidence sum. A failing input does not stop the others: failures are listed at the end
and the exit code is 1.

Job arrays: give every job the same INPUTs and --shard $INDEX/$COUNT (e.g. SLURM_ARRAY_TASK_ID/N); each
job takes every COUNT-th input from INDEX on, and all jobs name their outputs alike.
With --openpose DIR or --parsing DIR and several inputs, DIR holds one subfolder per input, named
after it (DIR/<name>/); with one input DIR itself holds its files.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from cpfnet.prepare.config import PrepareConfig

    d = PrepareConfig()
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="video files, photos, or folders of them")
    parser.add_argument("--out", required=True, metavar="DIR", help="where the dataset folders go")
    parser.add_argument("--size", type=int, default=d.size, help=f"crop size in pixels (default {d.size})")
    parser.add_argument("--workers", type=int, default=1,
                        help="inputs processed in parallel, one process each (default 1)")
    parser.add_argument("--shard", metavar="i/n", help="only inputs i, i+n, i+2n, ... (for job arrays)")
    parser.add_argument("--overwrite", action="store_true", help="replace existing dataset folders")
    parser.add_argument("--skip-existing", action="store_true",
                        help="leave finished dataset folders alone (resume an interrupted run)")
    parser.add_argument("--openpose", metavar="DIR", help="OpenPose COCO-18 JSON files to use instead of MediaPipe")
    parser.add_argument("--parsing", metavar="DIR",
                        help="LIP label PNGs (e.g. from Graphonomy or SCHP) to use instead of the coarse parser")
    parser.add_argument("--savgol-window", type=int, default=d.savgol_window,
                        help=f"Savitzky-Golay window in frames (default {d.savgol_window}; 1: no smoothing)")
    parser.add_argument("--savgol-order", type=int, default=d.savgol_order,
                        help=f"Savitzky-Golay polynomial order (default {d.savgol_order})")
    parser.add_argument("--max-gap", type=int, default=d.max_gap,
                        help=f"interpolate joints missing for at most this many frames (default {d.max_gap})")
    parser.add_argument("--background", choices=("inpaint", "median"), default=d.background,
                        help="inpaint the appearance frame (default), or the median of frames where the person "
                             "has moved away (fixed camera; falls back to inpainting)")
    parser.add_argument("--median-frames", type=int, default=d.median_frames,
                        help=f"frames sampled for --background median (memory: this many frames; default "
                             f"{d.median_frames})")
    parser.add_argument("--padding", type=float, default=d.padding,
                        help=f"crop margin on each side, fraction of the person's size (default {d.padding})")
    parser.add_argument("--crop", choices=("auto", "fixed", "track"), default=d.crop_mode,
                        help="one crop box for the whole video (fixed), one that follows the person (track), "
                             "or fixed when the person stays in place (auto, default)")
    parser.add_argument("--min-person-fraction", type=float, default=d.min_person_fraction,
                        help=f"fail when the person is found in fewer frames than this (default "
                             f"{d.min_person_fraction})")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    import logging
    import sys

    from cpfnet.errors import UserError
    from cpfnet.prepare.batch import prepare_many
    from cpfnet.prepare.config import PrepareConfig
    from cpfnet.prepare.inputs import find_inputs, parse_shard

    config = PrepareConfig(size=args.size, padding=args.padding, crop_mode=args.crop,
                           savgol_window=args.savgol_window, savgol_order=args.savgol_order, max_gap=args.max_gap,
                           min_person_fraction=args.min_person_fraction, background=args.background,
                           median_frames=args.median_frames)
    config.validate()
    if args.workers < 1:
        raise UserError(f"--workers {args.workers}: must be at least 1")
    if args.overwrite and args.skip_existing:
        raise UserError("--overwrite and --skip-existing contradict each other; pick one")
    shard = parse_shard(args.shard) if args.shard else None
    inputs = find_inputs(args.inputs)
    report = prepare_many(inputs, args.out, config, workers=args.workers, shard=shard, overwrite=args.overwrite,
                          skip_existing=args.skip_existing, openpose=args.openpose, parsing=args.parsing,
                          progress=not args.no_progress)
    log = logging.getLogger("cpfnet.prepare")
    total = len(report.done) + len(report.failed) + len(report.skipped)
    log.info("prepared %d of %d inputs into %s%s", len(report.done), total, args.out,
             f" ({len(report.skipped)} already there)" if report.skipped else "")
    if report.failed and total == 1:  # one input: one line, as every other command's errors
        print(f"cpfnet prepare: error: {report.failed[0][1]}", file=sys.stderr)
        return 1
    if report.failed:
        print(f"cpfnet prepare: {len(report.failed)} of {total} inputs failed:", file=sys.stderr)
        for _, message in report.failed:
            print(f"  {message}", file=sys.stderr)
        return 1
    return 0
