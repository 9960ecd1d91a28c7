"""Controls for what training learned: the same weights, shuffled across a projection's synapses.

A trained projection whose weights are permuted among its own synapses keeps every
distributional property (mean, spread, fraction at a bound, the total drive) but loses which
synapse learned what; comparing a trained network with its shuffled twin (and with the
untrained one) tells structure from statistics.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from ..errors import SpecError
from .distributions import field_rng
from .model import NetworkSpec

__all__ = ["shuffle_weights"]


def shuffle_weights(spec: NetworkSpec, projections: Iterable[str] | None = None, seed: int = 0) -> NetworkSpec:
    """``spec`` with the weights of each named projection permuted across its synapses.

    Parameters
    ----------
    spec : NetworkSpec
        Typically a trained network (``TrainedNetwork.spec``).
    projections : iterable of str, optional
        Projections to shuffle (default: those with an STDP rule, i.e. the trained ones).
    seed : int
        Seed of the permutations (one independent stream per projection).

    Returns
    -------
    NetworkSpec
        Same connectivity (pre/post indices), every shuffled projection's weight multiset
        unchanged, the assignment of weights to synapses permuted.
    """
    names = [r.projection for r in spec.stdp] if projections is None else list(projections)
    known = {p.name for p in spec.projections}
    for name in names:
        if name not in known:
            raise SpecError("unknown projection", parameter="projections", value=name,
                            allowed=f"one of {sorted(known)}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SpecError("seed must be a non-negative integer", parameter="seed", value=seed, allowed=">= 0")
    weights = {}
    for name in names:
        w = spec.projection(name).weight
        weights[name] = w[field_rng(int(seed), f"shuffle.{name}").permutation(w.size)]
    return spec.with_weights(weights)
