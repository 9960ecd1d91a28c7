"""Batched golden simulation of a QuantizedNetwork (integer model and its float twin).

Samples run side by side as rows of (B, N) arrays; each sample's input drive is
precomputed for all steps with one matrix product, recurrent input is one product
per step. Samples are processed longest first so that finished samples simply drop
off the end of the batch: steps past a sample's length are never computed, so they
cannot affect anything (spikes and states there are False / 0).
"""
from __future__ import annotations

import contextlib
import functools
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import __version__
from ..errors import DataError
from ..records import SpikeRecord
from .formats import FixedFormat, format_of
from .kernel import (NeuronParams, SynapseOp, SynapseSet, group_projections, lif_step, lif_step_float,
                     network_params)
from .validate import check_inputs, check_network

# Working-set budget per chunk of samples (bytes); the input drive (B, T, N) dominates.
_CHUNK_BYTES = 96 * 2**20
# Per-step products smaller than this (multiply-adds) run on one BLAS thread: for small GEMMs
# thread hand-off costs more than it saves, and on a shared machine spinning BLAS threads made
# the same simulation 2-3x slower and erratic. Larger products keep BLAS's default.
_SINGLE_THREAD_MACS = 1 << 26


def _blas_limit(ops: list[SynapseOp], batch: int):
    """Context that pins BLAS to one thread when every per-step product is small."""
    macs = max((batch * len(op.group.rows) * len(op.group.cols) for op in ops), default=0)
    if macs >= _SINGLE_THREAD_MACS:
        return contextlib.nullcontext()
    controller = _controller()
    return controller.limit(limits=1, user_api="blas") if controller is not None else contextlib.nullcontext()


@functools.lru_cache(maxsize=1)
def _controller():
    try:  # threadpoolctl comes with scikit-learn; without it BLAS keeps its default threads
        from threadpoolctl import ThreadpoolController
        return ThreadpoolController()
    except Exception:
        return None
OVERFLOW_KEYS = ("u_wrap", "v_clip", "u_input_overflow")


def _chunk_size(n_samples: int, n_steps: int, n_neurons: int, record: bool) -> int:
    per_sample = max(1, n_steps * n_neurons * 8 * (1 + (2 if record else 0)))
    return int(max(1, min(n_samples, _CHUNK_BYTES // per_sample)))


def _run_chunk(x: np.ndarray, lengths: np.ndarray, p: NeuronParams, in_ops: list[SynapseOp],
               rec_ops: SynapseSet, record: bool, float_twin: bool,
               saturate_v: bool = False) -> dict[str, np.ndarray]:
    """Simulate samples sorted by decreasing length; returns spikes (and states) of the chunk."""
    bc, n = len(lengths), p.n_neurons
    tc = int(lengths[0]) if bc else 0
    dtype = np.float64 if float_twin else np.int64
    out = {"spikes": np.zeros((bc, tc, n), bool), "counts": np.zeros((bc, len(OVERFLOW_KEYS)), np.int64)}
    if record:
        out["u"] = np.zeros((bc, tc, n), dtype)
        out["v"] = np.zeros((bc, tc, n), dtype)
    if tc == 0:
        return out
    # every projection adds one step of delay: input spikes of step t drive step t + 1
    drive = np.zeros((bc, tc, n), dtype)
    if tc > 1:
        for op in in_ops:
            op.add_into(drive[:, 1:], x[:, :tc - 1], float_twin)
    step = (functools.partial(lif_step_float, saturate_v=saturate_v) if float_twin else lif_step)
    u = np.zeros((bc, n), dtype)
    v = np.zeros((bc, n), dtype)
    refr = np.zeros((bc, n), np.int64)
    s_prev = np.zeros((bc, n), bool)
    active = bc
    counts = out["counts"]
    for t in range(tc):
        while active and lengths[active - 1] <= t:
            active -= 1
        if active < len(u):
            u, v, refr, s_prev = u[:active], v[:active], refr[:active], s_prev[:active]
        a_in = drive[:active, t].copy()
        rec_ops.add_into(a_in, s_prev, float_twin)
        r = step(u, v, refr, a_in, p)
        u, v, refr, s_prev = r.u, r.v, r.refractory, r.spikes
        out["spikes"][:active, t] = s_prev
        if record:
            out["u"][:active, t] = u
            out["v"][:active, t] = v
        if not float_twin and r.any_event:
            for k, mask in enumerate((r.u_wrapped, r.v_clipped, r.u_input_overflow)):
                if mask.any():
                    counts[:active, k] += mask.sum(axis=1)
    return out


@dataclass(frozen=True)
class Prepared:
    """A checked network turned into step constants and synapse operators."""

    fmt: FixedFormat
    params: NeuronParams
    in_ops: tuple[SynapseOp, ...]
    rec_ops: SynapseSet


# QuantizedNetworks are frozen with read-only arrays, so the checked and prepared form of one
# can be reused across calls (sweeps call simulate() many times on the same network).
_PREPARED: dict[int, tuple[weakref.ref, Any, Prepared]] = {}


def prepare(qnet, profile=None) -> Prepared:
    """Check ``qnet`` (:func:`check_network`) and build its constants; cached per network object."""
    key = id(qnet)
    hit = _PREPARED.get(key)
    if hit is not None and hit[0]() is qnet and hit[1] == profile:
        return hit[2]
    fmt = format_of(qnet, profile)
    check_network(qnet, fmt)
    n = qnet.n_neurons
    groups = group_projections(qnet.projections)
    prep = Prepared(fmt=fmt, params=network_params(qnet, fmt),
                    in_ops=tuple(SynapseOp(g, n, qnet.n_input) for g in groups if g.source == "input"),
                    rec_ops=SynapseSet([SynapseOp(g, n, n) for g in groups if g.source == "recurrent"], n))
    if isinstance(profile, (str, type(None))):
        try:
            ref = weakref.ref(qnet, lambda _, k=key: _PREPARED.pop(k, None))
        except TypeError:  # not weak-referenceable: do not cache
            return prep
        _PREPARED[key] = (ref, profile, prep)
    return prep


def _simulate(qnet, input_spikes, sample_lengths, record_states: bool, batch_size: int | None,
              float_twin: bool, profile, saturate_v: bool = False) -> SpikeRecord:
    prep = prepare(qnet, profile)
    fmt, p, in_ops, rec_ops = prep.fmt, prep.params, list(prep.in_ops), prep.rec_ops
    x, lengths = check_inputs(qnet, input_spikes, sample_lengths)
    n, (b, t_max) = qnet.n_neurons, x.shape[:2]

    dtype = np.float64 if float_twin else np.int64
    spikes = np.zeros((b, t_max, n), bool)
    states = {k: np.zeros((b, t_max, n), dtype) for k in ("u", "v")} if record_states else {}
    counts = np.zeros((b, len(OVERFLOW_KEYS)), np.int64)
    order = np.argsort(-lengths, kind="stable")
    if batch_size is None:
        batch_size = _chunk_size(b, int(lengths.max(initial=0)), n, record_states)
    if batch_size < 1:
        raise DataError("batch_size must be positive", parameter="batch_size", value=batch_size,
                        allowed="[1, inf) or None")
    for start in range(0, b, batch_size):
        idx = order[start:start + batch_size]
        with _blas_limit(list(rec_ops.ops), len(idx)):
            res = _run_chunk(x[idx], lengths[idx], p, in_ops, rec_ops, record_states, float_twin, saturate_v)
        tc = res["spikes"].shape[1]
        spikes[idx, :tc] = res["spikes"]
        counts[idx] = res["counts"]
        for k in states:
            states[k][idx, :tc] = res[k]

    valid_in = np.arange(t_max)[None, :, None] < lengths[:, None, None]
    prov: dict[str, Any] = {
        "backend": "golden", "fidelity": "float" if float_twin else "fixed",
        "design": qnet.name, "profile": qnet.provenance.get("profile"), "seed": qnet.provenance.get("seed"),
        "format": fmt.as_dict(), "versions": {"hrsnn_hw": __version__, "numpy": np.__version__},
    }
    if not float_twin:
        totals = counts.sum(axis=0)
        prov["overflow"] = {k: int(c) for k, c in zip(OVERFLOW_KEYS, totals)}
        prov["overflow"]["samples_with_overflow"] = int(counts.any(axis=1).sum())
    return SpikeRecord(spikes=spikes, sample_lengths=lengths, dt=float(qnet.dt), provenance=prov,
                       v=states.get("v"), u=states.get("u"), input_spikes=x & valid_in)


def simulate(qnet, input_spikes, sample_lengths=None, *, record_states: bool = False,
             batch_size: int | None = None, profile=None) -> SpikeRecord:
    """Run the bit-accurate fixed-point model on a batch of samples.

    Parameters
    ----------
    qnet : QuantizedNetwork
        The network; checked first (every weight must be exactly representable in Lava's
        Dense, every neuron constant in range) -- :class:`~hrsnn_hw.errors.QuantizationError`.
    input_spikes : ndarray of bool, shape (B, T, n_input)
        Input raster; ``input_spikes[b, t]`` reaches ``u`` at step ``t + 1``.
    sample_lengths : ndarray of int, shape (B,), optional
        Valid steps per sample (default: all ``T``). Later steps are padding: silent, never computed.
    record_states : bool
        Also return ``u`` and ``v`` (int64, after each step; 0 in padding).
    batch_size : int, optional
        Samples simulated together (default: as many as fit a ~96 MB working set).
    profile : HardwareProfile or str, optional
        Fallback for number formats missing from ``qnet.formats``.

    Returns
    -------
    SpikeRecord
        ``provenance``: backend "golden", fidelity "fixed", the number format, and ``overflow``:
        counts of u wraps, v clips and u-input overflows over all valid steps, plus
        ``samples_with_overflow``.
    """
    return _simulate(qnet, input_spikes, sample_lengths, record_states, batch_size, False, profile)


def simulate_float(qnet, input_spikes, sample_lengths=None, *, record_states: bool = False,
                   batch_size: int | None = None, profile=None, saturate_v: bool = False) -> SpikeRecord:
    """The float twin of :func:`simulate`: same integer-domain constants, exact real arithmetic.

    Decays multiply by ``(2**D - d) / 2**D`` without rounding, weights by ``2**weight_exp``
    without flooring, and nothing wraps or clips. ``u``/``v`` are float64 in the integer
    domain (same units as :func:`simulate`), so the difference of the two isolates rounding
    and overflow. ``saturate_v=True`` clips ``v`` at the integer model's rails (the hardware's
    defined saturation), leaving rounding as the only difference. Provenance: backend
    "golden", fidelity "float".
    """
    return _simulate(qnet, input_spikes, sample_lengths, record_states, batch_size, True, profile, saturate_v)
