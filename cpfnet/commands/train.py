"""Train one stage of CPF-Net: `cpfnet train STAGE --config NAME|PATH --data DIR --runs RUNS`.

STAGE is parsing, flow, foreground or fusion; train them in that order into one RUNS folder (foreground needs
flow, fusion needs the other three). Each writes RUNS/STAGE/: the resolved config.yaml, checkpoints
(step_N/*.safetensors + training state, `latest` names the newest) and TensorBoard events
(`tensorboard --logdir RUNS`). Ctrl-C writes a checkpoint; --resume continues exactly where it stopped.
--cpu-budget SECONDS stops the stage (with a checkpoint, exit 0) once its training has spent that much CPU time,
counted over resumed runs and summed over torchrun's processes (cpfnet.training.cpu_budget): methods compared
at equal budgets. Training ends at the schedule's last step or the budget, whichever comes first.
Under `torchrun --nproc_per_node=K` the same command trains with K processes (DistributedDataParallel).
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("stage", metavar="STAGE",
                        help="parsing, flow, foreground or fusion; or a baseline of the paper's comparison: baseline-pix2pixhd, "
                             "baseline-vid2vid, baseline-fewshot-vid2vid, baseline-soft-gated, baseline-lwg")
    parser.add_argument("--config", required=True, metavar="NAME|PATH",
                        help="a shipped config (paper, tiny) or a YAML file")
    parser.add_argument("--data", required=True, metavar="DIR", help="folder of cpfnet video folders")
    parser.add_argument("--runs", required=True, metavar="RUNS",
                        help="the run folder: RUNS/STAGE is written, earlier stages are read from RUNS")
    parser.add_argument("--steps", type=int, metavar="N", help="train until step N (overrides the config's schedule)")
    parser.add_argument("--cpu-budget", type=float, metavar="SECONDS",
                        help="stop once the stage's training has used this many CPU-seconds (process time, summed "
                             "over processes, counted over resumed runs); pair with a large --steps")
    parser.add_argument("--resume", action="store_true", help="continue from RUNS/STAGE's latest checkpoint")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--seed", type=int, help="random seed (overrides the config's train.seed)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    import signal
    import sys
    from pathlib import Path

    from cpfnet import signals
    from cpfnet.errors import UserError
    from cpfnet.configs.experiment import check_trainable, load_config, validate
    from cpfnet.io.paths import Output, check_outputs
    from cpfnet.stages.registry import check_stage
    from cpfnet.training.trainer import train

    stage = check_stage(args.stage)
    check_outputs([Output(Path(args.runs), "--runs", "folder", replaced=False),
                   Output(Path(args.runs) / stage, f"--runs (its {stage} folder)", "folder", replaced=False)],
                  [("--data", args.data)])
    config = load_config(args.config)
    if args.steps is not None:
        if args.steps < 1:
            raise UserError(f"--steps must be at least 1, got {args.steps}")
        config.stage(stage).schedule.steps, config.stage(stage).schedule.epochs = args.steps, 0.0
    if args.cpu_budget is not None and not args.cpu_budget > 0:  # also rejects nan
        raise UserError(f"--cpu-budget must be a positive number of seconds, got {args.cpu_budget}")
    if args.seed is not None:
        config.train.seed = args.seed
    try:  # the overrides are checked as the file's own values were, before RUNS is touched
        validate(config)
        check_trainable(config, stage)
    except UserError as exc:
        raise UserError(f"{args.config}: {exc}") from None
    result = train(stage, config, args.data, args.runs, resume=args.resume, device=args.device,
                   progress=not args.no_progress, cpu_budget=args.cpu_budget)
    if result.checkpoint is not None:
        budget = (f", CPU budget {args.cpu_budget:g} s reached" if result.budget_reached else "")
        print(f"{stage}: step {result.step} of {result.total_steps}, {result.cpu_seconds:.1f} training CPU-s"
              f"{budget}, checkpoint {result.checkpoint}")
    if not result.interrupted:
        return 0
    signum = result.stop_signal or signal.SIGINT
    print(f"cpfnet train: interrupted ({signals.describe(signum)}) at step {result.step}; the checkpoint is written, "
          "continue with --resume", file=sys.stderr)
    return 128 + signum
