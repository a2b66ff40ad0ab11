"""Each rater's sequence: which pairs, in which order, which method on the left.

Pairs are drawn least-shown first (ties broken at random), so that every pair gets about the same number
of raters, as the paper's "each video will be evaluated by 5 independent workers". Attention checks go in
at random positions, never first (the first pair teaches the interface). Left and right are a fair coin
per pair, so a rater's side preference averages out of every row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from cpfnet.study.manifest import Study


@dataclass(frozen=True)
class Assignment:
    position: int
    item_id: str
    left: str  # method shown on the left
    right: str


def draw_sequence(study: Study, shown: Mapping[str, int], rng: np.random.Generator) -> list[Assignment]:
    """A new rater's sequence of `study.per_rater` assignments.

    Args:
        shown: item id -> how many raters were already given it (missing = 0).
    """
    def least_shown(items, k):
        keys = rng.random(len(items))
        order = sorted(range(len(items)), key=lambda i: (shown.get(items[i].id, 0), keys[i]))
        return [items[i] for i in order[:k]]

    pairs = least_shown(study.pairs, study.pairs_per_rater)
    pairs = [pairs[i] for i in rng.permutation(len(pairs))]
    checks = least_shown(study.checks, study.checks_per_rater)
    sequence = list(pairs)
    for check in checks:
        sequence.insert(int(rng.integers(1, len(sequence) + 1)), check)
    out = []
    for position, item in enumerate(sequence):
        a, b = item.methods
        if rng.random() < 0.5:
            a, b = b, a
        out.append(Assignment(position, item.id, a, b))
    return out
