"""Who connects to whom in a :class:`QuantizedNetwork`, as the hardware stores it (O(synapses)).

A synapse exists where a projection's weight mantissa is nonzero: a compiler drops zero
entries (a weight that rounded to zero costs no memory and no synaptic op), and
:class:`~hrsnn_hw.fixedpoint.QuantizedProjection` never stores one. Sources are numbered
``0..N-1`` for the recurrent neurons and ``N..N+M-1`` for the input channels, so mapping and
counting share one index space. Everything here is sparse: memory and work grow with the
number of synapses, never with ``N x (N + M)``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse

from ..fixedpoint import QuantizedNetwork


@dataclass(frozen=True)
class Connectivity:
    """Synapse counts of a network, as sparse matrices.

    Attributes
    ----------
    n_neurons, n_inputs : int
        Recurrent neurons N and input channels M.
    synapses : scipy.sparse.csr_matrix of int32, shape (N, N + M)
        ``synapses[post, src]`` = number of stored synapses from source ``src`` to neuron
        ``post`` (one per projection with a nonzero mantissa there; usually 0 or 1). Row
        ``post`` lists its sources (``indices[indptr[post]:indptr[post + 1]]``, ascending).
    connected : scipy.sparse.csr_matrix of bool, shape (N, N + M)
        ``synapses > 0`` (same sparsity pattern).
    """

    n_neurons: int
    n_inputs: int
    synapses: scipy.sparse.csr_matrix
    connected: scipy.sparse.csr_matrix

    @property
    def n_sources(self) -> int:
        return self.n_neurons + self.n_inputs

    @property
    def fan_in(self) -> np.ndarray:
        """Stored synapses into each neuron, shape (N,)."""
        return np.asarray(self.synapses.sum(axis=1, dtype=np.int64)).ravel()

    @property
    def fan_out(self) -> np.ndarray:
        """Stored synapses out of each source, shape (N + M,)."""
        return np.asarray(self.synapses.sum(axis=0, dtype=np.int64)).ravel()

    @property
    def n_synapses(self) -> int:
        return int(self.synapses.sum(dtype=np.int64))


def connectivity(qnet: QuantizedNetwork) -> Connectivity:
    """Count the stored synapses of every projection of ``qnet`` (O(synapses))."""
    n, m = qnet.n_neurons, qnet.n_input
    posts, srcs = [], []
    for proj in qnet.projections:
        post, pre, _ = proj.synapses()
        posts.append(post)
        srcs.append(pre if proj.source == "recurrent" else pre + n)
    post = np.concatenate(posts) if posts else np.zeros(0, np.int64)
    src = np.concatenate(srcs) if srcs else np.zeros(0, np.int64)
    # duplicates (one per projection reaching the same pair) are summed into counts
    syn = scipy.sparse.csr_matrix((np.ones(post.size, np.int32), (post, src)), shape=(n, n + m))
    syn.sum_duplicates()
    syn.sort_indices()
    connected = syn.astype(bool)
    for arr in (syn.data, syn.indices, syn.indptr, connected.data, connected.indices, connected.indptr):
        arr.setflags(write=False)
    return Connectivity(n_neurons=n, n_inputs=m, synapses=syn, connected=connected)
