"""Random connectivity in O(synapses): Bernoulli(p) pairs drawn without an N x N mask.

Every (post, pre) pair is connected independently with probability ``p`` -- the same law as
``rng.random((n_post, n_pre)) < p`` -- but the sampler walks the row-major list of pairs by
geometric skips (the gap to the next connected pair is Geometric(p)), so time and memory grow
with the number of synapses drawn, not with ``n_post x n_pre``. Pairs come out sorted by
(post, pre), and the result is a deterministic function of the generator's state.
"""
from __future__ import annotations

import numpy as np


def bernoulli_pairs(rng: np.random.Generator, n_post: int, n_pre: int, p: float, *,
                    exclude_diagonal: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Connected pairs of an ``n_post x n_pre`` Bernoulli(``p``) matrix, sorted by (post, pre).

    Parameters
    ----------
    rng : numpy Generator
        Source of randomness (consumed deterministically).
    n_post, n_pre : int
        Matrix shape.
    p : float
        Connection probability in [0, 1].
    exclude_diagonal : bool
        Drop pairs with ``post == pre`` after drawing (no autapses: the other pairs keep
        probability ``p``).

    Returns
    -------
    post, pre : ndarray of int64
    """
    total = int(n_post) * int(n_pre)
    if total == 0 or p <= 0.0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if p >= 1.0:
        flat = np.arange(total, dtype=np.int64)
    else:
        expected = total * p
        chunk = int(min(total, expected + 6.0 * np.sqrt(expected) + 64))
        parts, last = [], -1
        while True:
            # positions = last + cumulative gaps; a gap of k means k - 1 unconnected pairs skipped
            pos = last + np.cumsum(rng.geometric(p, size=chunk))
            parts.append(pos[pos < total])
            if pos[-1] >= total:
                break
            last = int(pos[-1])
        flat = np.concatenate(parts)
    post, pre = np.divmod(flat, int(n_pre))
    if exclude_diagonal:
        keep = post != pre
        post, pre = post[keep], pre[keep]
    return post, pre
