"""Table II from the votes: preference ratios, 95% intervals, significance, attention-check exclusion.

Per compared pair of methods (A vs B, in one variant) the preference ratio is the share of votes that chose
A, as the paper's "0.94 vs 0.06". Two 95% intervals: Wilson's score interval, which treats every vote as
independent, and a percentile bootstrap over raters (raters resampled with replacement, their votes kept
together), which allows for raters who differ in taste and so is the honest one when a few raters cast
many votes. The test is the two-sided exact binomial test of "no preference" (ratio 0.5), with Holm's
adjustment over the rows of the table. Raters who chose the broken side of more attention checks than
allowed are left out of every row, and counted.
"""

from __future__ import annotations

import math
from collections import defaultdict
from statistics import median
from typing import Iterable

import numpy as np
from scipy.stats import binomtest

from cpfnet.study.manifest import BROKEN, Study

Z95 = 1.959963984540054


def wilson_interval(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion k/n (n > 0)."""
    if n <= 0:
        raise ValueError("no trials")
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def binomial_p(k: int, n: int) -> float:
    """Two-sided exact binomial test of k successes in n trials against p = 0.5."""
    return float(binomtest(k, n, 0.5).pvalue)


def bootstrap_interval(per_rater: Iterable[tuple[int, int]], reps: int = 2000, seed: int = 0,
                       level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of sum(k) / sum(n), resampling raters' (k, n) with replacement."""
    counts = np.array(list(per_rater), dtype=np.int64).reshape(-1, 2)
    if counts[:, 1].sum() <= 0:
        raise ValueError("no trials")
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(counts), size=(reps, len(counts)))
    k, n = counts[picks, 0].sum(1), counts[picks, 1].sum(1)
    ratios = k / np.maximum(n, 1)
    lo, hi = np.quantile(ratios, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def holm(pvalues: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the input order."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def label(method: str, variant: str) -> str:
    return f"{method} (F)" if variant == "fg" else method


def compute_results(study: Study, votes: list[dict], raters: list[dict] | None = None,
                    allowed_failures: int = 0, bootstrap_reps: int = 2000, seed: int = 0) -> dict:
    """The table as a JSON-able dict: `rows` (one per compared pair) and `raters` (who was counted)."""
    checks: dict[str, list[bool]] = defaultdict(list)  # rater -> passed? per attention check answered
    for v in votes:
        item = study.items.get(v["item_id"])
        if item is not None and item.kind == "check":
            checks[v["rater_id"]].append(v["chosen_method"] != BROKEN)
    failed = {r for r, answers in checks.items() if answers.count(False) > allowed_failures}
    voters = {v["rater_id"] for v in votes}
    counted = [v for v in votes if v["rater_id"] not in failed and v["item_id"] in study.items
               and study.items[v["item_id"]].kind == "pair"]

    cells: dict[tuple[str, str, str], dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    left_a = defaultdict(int)
    for v in counted:
        item = study.items[v["item_id"]]
        key = (item.variant, *item.methods)
        k_n = cells[key][v["rater_id"]]
        k_n[0] += v["chosen_method"] == item.methods[0]
        k_n[1] += 1
        left_a[key] += v["choice"] == "left"
    rows = []
    for variant, a, b in study.comparisons():
        per_rater = cells.get((variant, a, b), {})
        k = sum(c[0] for c in per_rater.values())
        n = sum(c[1] for c in per_rater.values())
        row = {"variant": variant, "a": a, "b": b, "comparison": f"{label(a, variant)} vs {label(b, variant)}",
               "votes": n, "raters": len(per_rater), "a_votes": k, "b_votes": n - k,
               "ratio_a": None, "ratio_b": None, "wilson95": None, "bootstrap95": None, "p_binomial": None,
               "left_share": None}
        if n:
            row.update(ratio_a=k / n, ratio_b=(n - k) / n, wilson95=list(wilson_interval(k, n)),
                       bootstrap95=list(bootstrap_interval(per_rater.values(), bootstrap_reps, seed)),
                       p_binomial=binomial_p(k, n), left_share=left_a[(variant, a, b)] / n)
        rows.append(row)
    tested = [i for i, r in enumerate(rows) if r["p_binomial"] is not None]
    for i, p in zip(tested, holm([rows[i]["p_binomial"] for i in tested])):
        rows[i]["p_holm"] = p
    for r in rows:
        r.setdefault("p_holm", None)

    times = [v["client_ms"] for v in counted if v["client_ms"] is not None]
    lefts = sum(v["choice"] == "left" for v in counted)
    all_raters = [r["id"] for r in raters] if raters is not None else sorted(voters)
    return {
        "rows": rows,
        "raters": {
            "started": len(all_raters),
            "voted": len(voters),
            "completed": sum(1 for r in (raters or []) if r["votes"] >= study.per_rater),
            "excluded_failed_checks": len(failed & voters),
            "counted": len(voters - failed),
            "without_a_check_answered": len(voters - set(checks)),
        },
        "votes": {
            "total": len(votes),
            "counted": len(counted),
            "excluded_from_failed_raters": sum(1 for v in votes if v["rater_id"] in failed),
            "checks_answered": sum(len(a) for a in checks.values()),
            "checks_failed": sum(a.count(False) for a in checks.values()),
            "left_share": lefts / len(counted) if counted else None,
            "median_client_ms": median(times) if times else None,
        },
        "settings": {"allowed_check_failures": allowed_failures, "bootstrap_reps": bootstrap_reps, "seed": seed,
                     "interval": "95%", "test": "two-sided exact binomial vs 0.5, Holm-adjusted over rows"},
        "study": {"id": study.study_id, "title": study.title, "question": study.question},
    }


def _interval(values) -> str:
    return "-" if values is None else f"[{values[0]:.2f}, {values[1]:.2f}]"


def _p(value) -> str:
    if value is None:
        return "-"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def to_markdown(results: dict) -> str:
    """Table II as Markdown, with the rater accounting under it."""
    lines = ["| Comparison | Preference | 95% CI (Wilson) | 95% CI (bootstrap over raters) | Votes | Raters "
             "| p (binomial) | p (Holm) |",
             "| --- | --- | --- | --- | ---: | ---: | ---: | ---: |"]
    for r in results["rows"]:
        preference = "-" if r["ratio_a"] is None else f"{r['ratio_a']:.2f} vs {r['ratio_b']:.2f}"
        lines.append(f"| {r['comparison']} | {preference} | {_interval(r['wilson95'])} | "
                     f"{_interval(r['bootstrap95'])} | {r['votes']} | {r['raters']} | {_p(r['p_binomial'])} | "
                     f"{_p(r['p_holm'])} |")
    raters, votes, s = results["raters"], results["votes"], results["settings"]
    left = "-" if votes["left_share"] is None else f"{votes['left_share']:.2f}"
    time_ms = "-" if votes["median_client_ms"] is None else f"{votes['median_client_ms'] / 1000:.1f} s"
    lines += ["",
              f"Preference: the share of votes for the first method of the row over the second. "
              f"{raters['counted']} raters counted ({votes['counted']} votes); {raters['excluded_failed_checks']} "
              f"excluded for choosing the broken video in more than {s['allowed_check_failures']} attention "
              f"check(s) ({votes['excluded_from_failed_raters']} votes); {raters['without_a_check_answered']} "
              f"answered no check yet. {raters['started']} raters started, {raters['completed']} finished. "
              f"Share of votes for the left video: {left}; median time per vote: {time_ms}. "
              f"Test: {s['test']}; bootstrap: {s['bootstrap_reps']} resamples of raters."]
    return "\n".join(lines) + "\n"
