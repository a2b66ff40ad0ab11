"""Throughput and latency of `cpfnet study serve` under simulated raters (localhost only).

    python benchmarks/study_load.py [--raters 1 50] [--seconds 10] [--db URL] [--threads 8]

Makes a small study in a temporary folder (3 methods x 6 tiny clips; 10 pairs and 2 checks per rater), starts
the real server in its own process, and for each rater count runs `cpfnet.study.loadtest.run_load` (each rater
a thread with its own connection, voting with no think time) and prints the votes per second, the vote
latency percentiles, the errors, and whether every acknowledged vote is in the database. The load generator
shares the 2 cores with the server, so these are lower bounds for the server alone. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_study(root: Path) -> Path:
    from cpfnet.io.video import VideoWriter
    from cpfnet.study.manifest import StudyConfig, create_study

    methods = []
    for m, colour in (("ours", (200, 70, 60)), ("p2p", (70, 200, 60)), ("v2v", (60, 70, 200))):
        (root / m).mkdir(parents=True)
        for k in range(6):
            with VideoWriter(root / m / f"clip{k}.mp4", 8, preset="ultrafast") as w:
                for t in range(6):
                    frame = np.full((64, 64, 3), 230, np.uint8)
                    frame[20:50, 10 + 5 * t:20 + 5 * t] = colour
                    w.write(frame)
        methods.append(f"{m}={root / m}")
    study = create_study(StudyConfig(out=str(root / "study"), methods=methods, reference="ours", pairs_per_rater=10,
                                     checks_per_rater=2))
    return study.root


def start_server(study: Path, db: str, threads: int, log: Path) -> tuple[subprocess.Popen, str]:
    out = open(log, "w")
    proc = subprocess.Popen([sys.executable, "-m", "cpfnet.cli", "study", "serve", str(study), "--port", "0",
                             "--db", db, "--threads", str(threads)], stdout=out, stderr=subprocess.STDOUT,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))
    for _ in range(1200):
        match = re.search(r"^rating page: (http://\S+?)/\s*$", log.read_text(), re.M)
        if match:
            return proc, match.group(1)
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("the server did not start:\n" + log.read_text())


def stored_ok(report, db: str, study_id: str) -> bool:
    from cpfnet.study.store import open_store

    store = open_store(db, study_id)
    try:
        votes = {(v["rater_id"], v["item_id"]): (v["choice"], v["position"]) for v in store.votes()}
        ids = {t: store.rater_by_token(t).id for t in {a.token for a in report.acks}}
        return len(votes) == len(report.acks) and all(
            votes.get((ids[a.token], a.item)) == (a.choice, a.position) for a in report.acks)
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raters", type=int, nargs="+", default=[1, 50])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--db", help="database URL (default: a new SQLite file per run)")
    parser.add_argument("--threads", type=int, default=8, help="server threads (default 8)")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()

    from cpfnet.study.loadtest import run_load
    from cpfnet.study.manifest import load_study

    rows = []
    with tempfile.TemporaryDirectory(prefix="cpfnet-study-bench-") as tmp:
        tmp = Path(tmp)
        study = load_study(make_study(tmp))
        for n in args.raters:
            db = args.db or f"sqlite:///{tmp / f'votes-{n}.sqlite3'}"
            proc, url = start_server(study.root, db, args.threads, tmp / f"server-{n}.log")
            try:
                load_before = os.getloadavg()[0]
                report = run_load(url, raters=n, seconds=args.seconds)
            finally:
                proc.terminate()
                proc.wait(30)
            row = report.summary() | {"db": "postgresql" if db.startswith("postgres") else "sqlite",
                                      "all_acks_stored": stored_ok(report, db, study.study_id),
                                      "load_before": round(load_before, 2), "server_threads": args.threads}
            rows.append(row)
            print(json.dumps(row), flush=True)
    print("\n| database | raters | votes/s | p50 ms | p95 ms | p99 ms | max ms | errors | every ack stored |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in rows:
        print(f"| {r['db']} | {r['raters']} | {r['votes_per_s']} | {r['vote_ms_p50']} | {r['vote_ms_p95']} | "
              f"{r['vote_ms_p99']} | {r['vote_ms_max']} | {r['errors']} | {r['all_acks_stored']} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
