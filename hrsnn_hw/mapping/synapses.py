"""The stored synapses by source: the source -> target view of :func:`.connectivity.connectivity`.

Mapping and counting walk synapses from each spiking source to its targets, so they read the
transpose of :class:`.connectivity.Connectivity`'s matrix (CSR by source, O(synapses)),
built once per network object and cached (tables price one network on several profiles).
"""
from __future__ import annotations

import weakref

import numpy as np
import scipy.sparse

from .connectivity import connectivity

# Networks are frozen, so their synapse matrix is built once per network object.
_CACHE: dict[int, tuple[weakref.ref, scipy.sparse.csr_matrix]] = {}


def synapse_pairs(proj) -> tuple[np.ndarray, np.ndarray]:
    """``(post, pre)`` indices of a projection's stored synapses."""
    post, pre, _ = proj.synapses()
    return np.asarray(post, np.int64), np.asarray(pre, np.int64)


def synapse_weights(proj) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(post, pre, weight mantissa)`` of a projection's stored synapses."""
    post, pre, w = proj.synapses()
    return np.asarray(post, np.int64), np.asarray(pre, np.int64), np.asarray(w, np.int64)


def source_target_matrix(qnet) -> scipy.sparse.csr_matrix:
    """Stored synapses from each source to each neuron, CSR of shape (N + M, N), int32 counts.

    The transpose of :attr:`Connectivity.synapses` (an entry counts the synapses of every
    projection between the pair, usually 0 or 1). Cached per network object; read-only.
    """
    key = id(qnet)
    hit = _CACHE.get(key)
    if hit is not None and hit[0]() is qnet:
        return hit[1]
    mat = connectivity(qnet).synapses.T.tocsr()
    mat.sort_indices()
    try:
        _CACHE[key] = (weakref.ref(qnet, lambda _, k=key: _CACHE.pop(k, None)), mat)
    except TypeError:   # not weak-referenceable: no cache
        pass
    return mat


def projection_counts(qnet, names) -> tuple[np.ndarray, np.ndarray]:
    """Synapses of the projections in ``names``: out of each source (N + M,) and into each neuron (N,)."""
    n, m = qnet.n_neurons, qnet.n_input
    out_deg = np.zeros(n + m, np.int64)
    in_deg = np.zeros(n, np.int64)
    for proj in qnet.projections:
        if proj.name in names:
            offset = 0 if proj.source == "recurrent" else n
            out_deg[offset:offset + proj.n_pre] += proj.fan_out()
            in_deg += proj.fan_in()
    return out_deg, in_deg
