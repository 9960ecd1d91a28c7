"""Who connects to whom in a :class:`QuantizedNetwork`, as the hardware stores it.

A synapse exists where a projection's weight mantissa is nonzero: a compiler drops
zero entries (a weight that rounded to zero costs no memory and no synaptic op).
Sources are numbered ``0..N-1`` for the recurrent neurons and ``N..N+M-1`` for the
input channels, so mapping and counting share one index space.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..quantize.network import QuantizedNetwork


def _frozen(arr: np.ndarray) -> np.ndarray:
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True)
class Connectivity:
    """Synapse counts of a network.

    Attributes
    ----------
    n_neurons, n_inputs : int
        Recurrent neurons N and input channels M.
    synapses : ndarray of int32, shape (N, N + M)
        ``synapses[post, src]`` = number of stored synapses from source ``src`` to neuron
        ``post`` (one per projection with a nonzero mantissa there; usually 0 or 1).
    connected : ndarray of bool, shape (N, N + M)
        ``synapses > 0``.
    """

    n_neurons: int
    n_inputs: int
    synapses: np.ndarray
    connected: np.ndarray

    @property
    def n_sources(self) -> int:
        return self.n_neurons + self.n_inputs

    @property
    def fan_in(self) -> np.ndarray:
        """Stored synapses into each neuron, shape (N,)."""
        return self.synapses.sum(axis=1, dtype=np.int64)

    @property
    def fan_out(self) -> np.ndarray:
        """Stored synapses out of each source, shape (N + M,)."""
        return self.synapses.sum(axis=0, dtype=np.int64)

    @property
    def n_synapses(self) -> int:
        return int(self.synapses.sum(dtype=np.int64))

    def fan_out_to_cores(self, neuron_core: np.ndarray, n_cores: int) -> np.ndarray:
        """Synapses from each source into each core, shape (N + M, n_cores)."""
        onehot = np.zeros((self.n_neurons, n_cores), dtype=np.int64)
        onehot[np.arange(self.n_neurons), neuron_core] = 1
        return self.synapses.T.astype(np.int64) @ onehot


def connectivity(qnet: QuantizedNetwork) -> Connectivity:
    """Count the stored synapses of every projection of ``qnet``."""
    n, m = qnet.n_neurons, qnet.n_input
    syn = np.zeros((n, n + m), dtype=np.int32)
    for proj in qnet.projections:
        nz = proj.w_post_pre != 0
        if proj.source == "recurrent":
            syn[:, :n] += nz
        else:
            syn[:, n:] += nz
    return Connectivity(n_neurons=n, n_inputs=m, synapses=_frozen(syn), connected=_frozen(syn > 0))
