"""Weighted draws shared by the samplers of identities and rooms."""

from __future__ import annotations

import numpy as np


def pick(rng: np.random.Generator, weights: dict) -> str:
    """A name of `weights` (name -> relative weight, any positive scale), drawn by its weight: one
    `rng.choice` over the names in the dict's order, so the draw is part of the stream's order."""
    names = list(weights)
    p = np.array([weights[n] for n in names])
    return str(names[int(rng.choice(len(names), p=p / p.sum()))])
