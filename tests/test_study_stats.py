"""Table II statistics: Wilson and bootstrap intervals, the binomial test, Holm, attention-check exclusion."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cpfnet.study.manifest import BROKEN, Item, Study
from cpfnet.study.stats import (binomial_p, bootstrap_interval, compute_results, holm, to_markdown,
                                wilson_interval)


def test_wilson_interval_known_values():
    # Worked by hand from Wilson (1927): centre (p + z^2/2n) / (1 + z^2/n), half-width
    # z sqrt(p(1-p)/n + z^2/4n^2) / (1 + z^2/n), z = 1.96.
    lo, hi = wilson_interval(94, 100)
    assert lo == pytest.approx(0.8752, abs=5e-4) and hi == pytest.approx(0.9722, abs=5e-4)
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=5e-4)
    lo, hi = wilson_interval(5, 10)
    assert lo == pytest.approx(1 - hi) and lo == pytest.approx(0.2366, abs=5e-4)
    with pytest.raises(ValueError):
        wilson_interval(0, 0)


def test_binomial_test_and_holm():
    assert binomial_p(5, 10) == pytest.approx(1.0)
    assert binomial_p(10, 10) == pytest.approx(2 * 0.5 ** 10)
    assert binomial_p(8, 10) == pytest.approx(2 * sum(math.comb(10, k) for k in (8, 9, 10)) / 1024)
    # Holm: sorted p * (m - rank), made monotone, capped at 1, returned in input order.
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def test_bootstrap_over_raters():
    # Raters who agree: a tight interval around the pooled ratio.
    lo, hi = bootstrap_interval([(9, 10)] * 20, reps=500, seed=1)
    assert lo == hi == pytest.approx(0.9)
    # Raters split into all-A and all-B: resampling raters shows that the ratio is poorly known, where the
    # Wilson interval over the 200 votes would claim +-0.07.
    lo, hi = bootstrap_interval([(10, 10)] * 10 + [(0, 10)] * 10, reps=2000, seed=1)
    assert lo <= 0.3 and hi >= 0.7  # 20 raters: sd of the ratio 0.11
    w_lo, w_hi = wilson_interval(100, 200)
    assert w_hi - w_lo < 0.15
    assert bootstrap_interval([(3, 4), (1, 4)], seed=0) == bootstrap_interval([(3, 4), (1, 4)], seed=0)


def _study() -> Study:
    items = {}
    for k in range(4):
        items[f"p{k}"] = Item(f"p{k}", "pair", "full", f"v{k}", ("ours", "base"), {"ours": f"o{k}", "base": f"b{k}"})
        items[f"f{k}"] = Item(f"f{k}", "pair", "fg", f"v{k}", ("ours", "base"), {"ours": f"O{k}", "base": f"B{k}"})
    items["c0"] = Item("c0", "check", "full", "v0", ("ours", BROKEN), {"ours": "o0", BROKEN: "x0"})
    return Study(root=None, study_id="s", title="t", question="q", methods=["ours", "base"], reference="ours",
                 pairs_per_rater=8, checks_per_rater=1, check_kind="shuffled", created="", items=items)


def _vote(rater, item, chosen, other, left=True, ms=1000):
    return {"rater_id": rater, "item_id": item, "position": 0, "choice": "left" if left else "right",
            "chosen_method": chosen, "left_method": chosen if left else other,
            "right_method": other if left else chosen, "client_ms": ms, "server_ms": ms, "created_at": 0.0}


def test_results_table_excludes_raters_who_fail_checks():
    study = _study()
    votes = []
    # Three good raters: ours wins 3 of 4 full pairs and all 4 foreground pairs; they pass the check.
    for r in ("a", "b", "c"):
        votes.append(_vote(r, "c0", "ours", BROKEN))
        for k in range(4):
            votes.append(_vote(r, f"p{k}", "ours" if k < 3 else "base", "base" if k < 3 else "ours", left=k % 2 == 0))
            votes.append(_vote(r, f"f{k}", "ours", "base", left=k % 2 == 1))
    # A careless rater picks the broken video and always the baseline: left out everywhere.
    votes.append(_vote("z", "c0", BROKEN, "ours"))
    votes += [_vote("z", f"p{k}", "base", "ours") for k in range(4)]
    result = compute_results(study, votes, bootstrap_reps=200)
    full, fg = result["rows"]
    assert full["comparison"] == "ours vs base" and fg["comparison"] == "ours (F) vs base (F)"
    assert (full["votes"], full["a_votes"], full["raters"]) == (12, 9, 3)
    assert full["ratio_a"] == pytest.approx(0.75) and full["ratio_b"] == pytest.approx(0.25)
    assert full["wilson95"] == pytest.approx(list(wilson_interval(9, 12)))
    assert full["p_binomial"] == pytest.approx(binomial_p(9, 12))
    assert (fg["votes"], fg["a_votes"]) == (12, 12) and fg["bootstrap95"] == [1.0, 1.0]
    assert [full["p_holm"], fg["p_holm"]] == pytest.approx(holm([full["p_binomial"], fg["p_binomial"]]))
    assert result["raters"]["excluded_failed_checks"] == 1 and result["raters"]["counted"] == 3
    assert result["votes"]["excluded_from_failed_raters"] == 5 and result["votes"]["checks_failed"] == 1
    assert full["left_share"] == pytest.approx(0.5)
    # One failure allowed: the careless rater counts again.
    lenient = compute_results(study, votes, allowed_failures=1, bootstrap_reps=200)
    assert lenient["rows"][0]["votes"] == 16 and lenient["rows"][0]["a_votes"] == 9
    table = to_markdown(result)
    assert "| ours vs base | 0.75 vs 0.25 |" in table and "| ours (F) vs base (F) | 1.00 vs 0.00 |" in table
    assert "1 excluded" in table


def test_results_with_no_votes():
    result = compute_results(_study(), [])
    assert [r["votes"] for r in result["rows"]] == [0, 0] and result["rows"][0]["ratio_a"] is None
    assert "| ours vs base | - |" in to_markdown(result)
    assert np.isfinite(result["raters"]["started"])
