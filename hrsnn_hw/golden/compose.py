"""Independent networks side by side as one block-diagonal network, and back.

Used to run many small networks (or many samples of one network) in a single Lava run:
the stacked network computes exactly what each part computes alone.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..fixedpoint import QuantizedNetwork, QuantizedProjection
from ..records import SpikeRecord


def stack_networks(qnets: Sequence[QuantizedNetwork], name: str = "stacked") -> QuantizedNetwork:
    """Independent networks side by side as one block-diagonal network.

    Neurons and input channels are concatenated in order; every projection keeps its own
    exponent, bit width and sign mode (named ``"<k>/<name>"``). The stacked network computes
    exactly what each network computes alone.
    """
    sizes = [q.n_neurons for q in qnets]
    ins = [q.n_input for q in qnets]
    n, m = sum(sizes), sum(ins)
    noff, ioff = np.cumsum([0] + sizes), np.cumsum([0] + ins)
    projections = []
    for k, q in enumerate(qnets):
        for proj in q.projections:
            c0 = ioff[k] if proj.source == "input" else noff[k]
            post, pre, w = proj.synapses()
            projections.append(QuantizedProjection.from_synapses(
                name=f"{k}/{proj.name}", source=proj.source, n_post=n, n_pre=m if proj.source == "input" else n,
                post=post + noff[k], pre=pre + c0, weight=w, weight_exp=proj.weight_exp,
                num_weight_bits=proj.num_weight_bits, sign_mode=proj.sign_mode))
    cat = {f: np.concatenate([getattr(q, f) for q in qnets])
           for f in ("du", "dv", "vth", "bias_mant", "bias_exp", "refractory_steps", "excitatory")}
    return QuantizedNetwork(name=name, dt=qnets[0].dt, n_input=m, projections=tuple(projections),
                            number_format=qnets[0].number_format, v_scale=qnets[0].v_scale,
                            provenance={**qnets[0].provenance, "stacked": [q.name for q in qnets]}, **cat)


def stack_inputs(inputs: Sequence[np.ndarray]) -> np.ndarray:
    """Concatenate per-network input rasters (B, T, n_input_k) along channels."""
    return np.concatenate(list(inputs), axis=2)


def split_record(rec: SpikeRecord, sizes: Sequence[int]) -> list[SpikeRecord]:
    """Cut a record of a stacked network into one record per network (neuron blocks in order)."""
    out, start = [], 0
    for size in sizes:
        sl = slice(start, start + size)
        out.append(SpikeRecord(spikes=rec.spikes[..., sl], sample_lengths=rec.sample_lengths, dt=rec.dt,
                               provenance=dict(rec.provenance),
                               v=None if rec.v is None else rec.v[..., sl],
                               u=None if rec.u is None else rec.u[..., sl]))
        start += size
    return out
