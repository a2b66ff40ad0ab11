"""Human A/B study as in the paper's Table II: `cpfnet study create`, `serve`, `results`.

create: a study folder from one folder of generated videos per method (NAME=DIR; the same file name in two
folders = the same source dance and target photo), optionally with the foreground-only "(F)" variant and
attention checks (one side visibly broken).

serve: the rating web app on localhost (raters get a randomised sequence of pairs, left and right at random,
both videos in sync; a vote is stored before it is acknowledged; a rater who comes back continues where they
left off) and a live results page for the admin token. Votes go to STUDY/votes.sqlite3, or --db
postgresql://... for many raters.

results: Table II from the votes: per pair of methods the preference ratio with 95% intervals (Wilson, and a
bootstrap over raters), an exact binomial test (Holm-adjusted), raters who failed attention checks excluded
and counted. Writes OUT (Markdown) and OUT with .json.
"""

from __future__ import annotations

import argparse
import os


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="URL", default=os.environ.get("CPFNET_STUDY_DB"),
                        help="votes database: sqlite:///PATH or postgresql://USER:PASS@HOST/DB "
                             "(default $CPFNET_STUDY_DB, else STUDY/votes.sqlite3)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sections = __doc__.split("\n\n")
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True

    create = sub.add_parser("create", help="make a study folder from folders of generated videos",
                            description=sections[1])
    create.add_argument("out", metavar="STUDY", help="the study folder to make (must not exist, or be empty)")
    create.add_argument("methods", nargs="+", metavar="NAME=DIR",
                        help="one folder of videos per method (the name defaults to the folder's name)")
    create.add_argument("--reference", metavar="NAME",
                        help="compare this method (yours) with each other one; default: every pair of methods")
    create.add_argument("--variants", default="full", metavar="LIST",
                        help="full, fg (the foreground only on grey, Table II's (F)) or full,fg (default full)")
    create.add_argument("--fg-masks", choices=("segment", "files"), default="segment",
                        help="how the foreground is cut out: segment (cpfnet prepare's MediaPipe person mask of the "
                             "output) or files (the method's own masks, DIR/masks/NAME.mp4, white = person)")
    create.add_argument("--pairs-per-rater", type=int, default=20, metavar="N", help="pairs per rater (default 20)")
    create.add_argument("--checks-per-rater", type=int, default=2, metavar="K",
                        help="attention checks per rater, mixed in among the pairs (default 2; 0 for none)")
    create.add_argument("--check-kind", choices=("shuffled", "frozen"), default="shuffled",
                        help="the broken side of a check: frames shuffled in time, or the first frame frozen")
    create.add_argument("--title", default="Which video looks more real?", help="the page's title")
    create.add_argument("--question", default=None, help="the question raters answer (default: the paper's)")
    create.add_argument("--seed", type=int, default=0, help="seed for the choice of attention checks (default 0)")
    create.add_argument("--overwrite", action="store_true", help="replace STUDY if it exists")
    create.add_argument("--no-progress", action="store_true", help="no progress bar")

    serve = sub.add_parser("serve", help="serve the rating page and the admin page", description=sections[2])
    serve.add_argument("study", metavar="STUDY", help="a folder made by `cpfnet study create`")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 for everyone)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    serve.add_argument("--threads", type=int, default=8, help="worker threads (default 8)")
    serve.add_argument("--secure-cookies", action="store_true",
                       help="mark cookies Secure (when raters reach the app over HTTPS, behind a proxy)")
    _add_db(serve)

    results = sub.add_parser("results", help="Table II from the votes", description=sections[3])
    results.add_argument("study", metavar="STUDY", help="a folder made by `cpfnet study create`")
    results.add_argument("--out", metavar="TABLE.md", help="write the table here and the numbers beside it as .json")
    results.add_argument("--allowed-check-failures", type=int, default=0, metavar="N",
                         help="raters who chose the broken side of more than N checks are excluded (default 0)")
    results.add_argument("--bootstrap", type=int, default=2000, metavar="B", help="bootstrap resamples (default 2000)")
    results.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    _add_db(results)


def _create(args: argparse.Namespace) -> int:
    from pathlib import Path

    from cpfnet.io.paths import Output, check_outputs
    from cpfnet.study.manifest import DEFAULT_QUESTION, StudyConfig, create_study

    check_outputs([Output(Path(args.out), "STUDY", "folder")],
                  [(f"NAME=DIR {m}", m.partition("=")[2] or None) for m in args.methods])

    cfg = StudyConfig(out=args.out, methods=args.methods, reference=args.reference,
                      variants=tuple(v.strip() for v in args.variants.split(",") if v.strip()),
                      fg_masks=args.fg_masks, pairs_per_rater=args.pairs_per_rater,
                      checks_per_rater=args.checks_per_rater, check_kind=args.check_kind, title=args.title,
                      question=args.question or DEFAULT_QUESTION, seed=args.seed, overwrite=args.overwrite)
    from tqdm import tqdm

    bars = []  # opened at the first finished video, so that a bad argument is one line and nothing else

    def progress(done: int, total: int) -> None:
        if not bars:
            bars.append(tqdm(total=total, desc="study videos", unit="video", disable=args.no_progress,
                             dynamic_ncols=True))
        bars[0].update(done - bars[0].n)

    try:
        study = create_study(cfg, progress=progress)
    finally:
        for bar in bars:
            bar.close()
    print(f"wrote {study.root}: {len(study.pairs)} pairs, {len(study.checks)} attention checks, "
          f"{len(study.methods)} methods; each rater rates {study.pairs_per_rater} pairs and "
          f"{study.checks_per_rater} checks")
    print(f"serve it: cpfnet study serve {study.root}")
    return 0


def _store(study, url):
    from cpfnet.study.store import open_store

    return open_store(url or study.default_db_url(), study.study_id)


def _serve(args: argparse.Namespace) -> int:
    from cpfnet.errors import UserError
    from cpfnet.study.manifest import load_study
    from cpfnet.study.server import serve

    if args.threads < 1:
        raise UserError("--threads must be at least 1")
    study = load_study(args.study)
    serve(study, _store(study, args.db), host=args.host, port=args.port, threads=args.threads,
          secure_cookies=args.secure_cookies)
    return 0


def _results(args: argparse.Namespace) -> int:
    from pathlib import Path

    from cpfnet.errors import UserError
    from cpfnet.io.atomic import atomic_file, write_json
    from cpfnet.io.paths import Output, check_outputs
    from cpfnet.study.manifest import load_study
    from cpfnet.study.stats import compute_results, to_markdown

    if args.allowed_check_failures < 0 or args.bootstrap < 1:
        raise UserError("--allowed-check-failures must be >= 0 and --bootstrap >= 1")
    if args.out and Path(args.out).suffix.lower() == ".json":
        raise UserError("--out is the Markdown table (TABLE.md); the JSON goes beside it")
    if args.out:
        out = Path(args.out)
        check_outputs([Output(out, "--out"), Output(out.with_suffix(".json"), "--out's .json")],
                      [("STUDY", args.study)])
    study = load_study(args.study)
    store = _store(study, args.db)
    try:
        results = compute_results(study, store.votes(), store.raters(), args.allowed_check_failures,
                                  args.bootstrap, args.seed)
    finally:
        store.close()
    table = to_markdown(results)
    print(table, end="")
    if args.out:
        out = Path(args.out)
        with atomic_file(out) as tmp:
            tmp.write_text(f"# {study.title}: results\n\n{table}")
        write_json(out.with_suffix(".json"), results)
        print(f"wrote {out} and {out.with_suffix('.json')}")
    return 0


def run(args: argparse.Namespace) -> int:
    return {"create": _create, "serve": _serve, "results": _results}[args.action](args)
