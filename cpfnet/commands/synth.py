"""Render synthetic dancers with exact ground truth (parsing, keypoints, background, flow, visibility).

Writes OUT/video_0000, OUT/video_0001, ... in the cpfnet dataset layout (see docs/synth.md). Video v shows
identity v dancing motion v // M (M = --identities-per-motion): the M videos of a motion are the same dance
on M different people, a true target for cross-identity transfer. Deterministic for a seed; OUT is
written atomically (an error or Ctrl-C leaves nothing).
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (must not exist, or be empty)")
    parser.add_argument("--videos", type=int, default=8, metavar="N", help="number of videos (default 8)")
    parser.add_argument("--frames", type=int, default=60, metavar="T", help="frames per video (default 60, >= 2)")
    parser.add_argument("--size", type=int, default=256, metavar="S",
                        help="square frame size in pixels (default 256, >= 64)")
    parser.add_argument("--seed", type=int, default=0, metavar="K", help="random seed (default 0)")
    parser.add_argument("--identities-per-motion", type=int, default=1, metavar="M",
                        help="render each motion on M identities; N must be a multiple of M (default 1)")
    parser.add_argument("--workers", type=int, default=None, metavar="W",
                        help="parallel processes (default: min(CPU count, videos))")
    parser.add_argument("--fps", type=float, default=25.0, help="frame rate of the dances (default 25)")
    parser.add_argument("--supersample", type=int, default=2, metavar="A",
                        help="A x A colour samples per pixel for anti-aliasing (1-4, default 2)")
    parser.add_argument("--preview", metavar="DIR",
                        help="also write preview grids (RGB, parsing, keypoints, flow-warped appearance, visibility, "
                             "flow) of every video into DIR")
    parser.add_argument("--overwrite", action="store_true", help="replace OUT if it exists and is not empty")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from cpfnet.synth.generate import SynthConfig, generate

    cfg = SynthConfig(out=args.out, videos=args.videos, frames=args.frames, size=args.size, seed=args.seed,
                      identities_per_motion=args.identities_per_motion, workers=args.workers,
                      overwrite=args.overwrite, fps=args.fps, supersample=args.supersample)
    out = generate(cfg, show_progress=not args.no_progress)
    print(f"wrote {cfg.videos} video{'s' if cfg.videos != 1 else ''} of {cfg.frames} frames ({cfg.size}x{cfg.size}) to {out}")
    if args.preview:
        from cpfnet.dataset.layout import find_videos
        from cpfnet.synth.preview import write_previews

        paths = write_previews(find_videos(out), args.preview, stacked="synth_preview.png")
        print(f"previews in {args.preview}: {', '.join(p.name for p in paths)}")
    return 0
