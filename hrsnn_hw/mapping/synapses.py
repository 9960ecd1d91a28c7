"""The stored synapses of a network as one sparse source -> target matrix (O(synapses) memory).

Sources are numbered ``0..N-1`` for the recurrent neurons and ``N..N+M-1`` for the input
channels (the index space of :mod:`.connectivity`). Mapping and counting read synapses
only through :func:`synapse_pairs`, so the storage of a projection's weights (dense matrix
today, a sparse form later) changes in one place.
"""
from __future__ import annotations

import weakref

import numpy as np
import scipy.sparse


def synapse_pairs(proj) -> tuple[np.ndarray, np.ndarray]:
    """``(post, pre)`` indices of a projection's stored synapses (nonzero mantissas)."""
    if hasattr(proj, "synapses") and callable(proj.synapses):      # sparse projections
        post, pre, _ = proj.synapses()
        return np.asarray(post, np.int64), np.asarray(pre, np.int64)
    post, pre = np.nonzero(np.asarray(proj.w_post_pre))
    return post.astype(np.int64), pre.astype(np.int64)


# Networks are frozen, so their synapse matrix is built once per network object (mapping and
# counting on several profiles read it again and again).
_CACHE: dict[int, tuple[weakref.ref, scipy.sparse.csr_matrix]] = {}


def synapse_weights(proj) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(post, pre, weight mantissa)`` of a projection's stored synapses."""
    if hasattr(proj, "synapses") and callable(proj.synapses):
        post, pre, w = proj.synapses()
        return np.asarray(post, np.int64), np.asarray(pre, np.int64), np.asarray(w, np.int64)
    post, pre = synapse_pairs(proj)
    return post, pre, np.asarray(proj.w_post_pre)[post, pre].astype(np.int64)


def source_target_matrix(qnet) -> scipy.sparse.csr_matrix:
    """Stored synapses from each source to each neuron, CSR of shape (N + M, N), int32 counts.

    An entry counts the synapses of every projection between the pair (usually 0 or 1).
    Cached per network object; treat the result as read-only.
    """
    key = id(qnet)
    hit = _CACHE.get(key)
    if hit is not None and hit[0]() is qnet:
        return hit[1]
    mat = _build(qnet)
    try:
        _CACHE[key] = (weakref.ref(qnet, lambda _, k=key: _CACHE.pop(k, None)), mat)
    except TypeError:   # not weak-referenceable: no cache
        pass
    return mat


def _build(qnet) -> scipy.sparse.csr_matrix:
    n, m = qnet.n_neurons, qnet.n_input
    rows, cols = [], []
    for proj in qnet.projections:
        post, pre = synapse_pairs(proj)
        rows.append(pre if proj.source == "recurrent" else pre + n)
        cols.append(post)
    r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    mat = scipy.sparse.csr_matrix((np.ones(r.size, np.int32), (r, c)), shape=(n + m, n))
    mat.sum_duplicates()
    return mat


def projection_counts(qnet, names) -> tuple[np.ndarray, np.ndarray]:
    """Synapses of the projections in ``names``: out of each source (N + M,) and into each neuron (N,)."""
    n, m = qnet.n_neurons, qnet.n_input
    out_deg = np.zeros(n + m, np.int64)
    in_deg = np.zeros(n, np.int64)
    for proj in qnet.projections:
        if proj.name not in names:
            continue
        post, pre = synapse_pairs(proj)
        offset = 0 if proj.source == "recurrent" else n
        out_deg += np.bincount(pre + offset, minlength=n + m)
        in_deg += np.bincount(post, minlength=n)
    return out_deg, in_deg
