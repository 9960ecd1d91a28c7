"""Batched, event-driven golden simulation of a QuantizedNetwork (integer model and its float twin).

Samples run side by side as rows of (B, N) arrays. Synaptic input is computed from the
events (spikes or graded payloads) of the previous step by :class:`~.synapses.SynapseSet`:
work grows with spikes x fan-out, not with N^2 (dense blocks only where measured cheaper).
The input drive is precomputed for blocks of steps, so its memory stays bounded whatever
B x T x N. Samples are processed longest first so that finished samples simply drop off the
end of the batch: steps past a sample's length are never computed, so they cannot affect
anything (spikes and states there are False / 0).
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
from ..fixedpoint import NumberFormat
from ..records import SpikeRecord
from .kernel import NeuronParams, lif_step, lif_step_float, network_params
from .synapses import SynapseSet, group_projections, wrap32
from .validate import check_inputs, check_network

OVERFLOW_KEYS = ("u_wrap", "v_clip", "u_input_overflow")
# Working set of one chunk of samples (bytes): states and temporaries, ~16 (B, N) int64 arrays.
_STATE_BYTES = 256 * 2**20
_MAX_BATCH = 512
# Input drive precomputed per block of steps: at most this many bytes (B x steps x N int64).
_DRIVE_BYTES = 64 * 2**20
# Per-step products smaller than this (multiply-adds) run on one BLAS thread: for small GEMMs
# thread hand-off costs more than it saves, and on a shared machine spinning BLAS threads made
# the same simulation 2-3x slower and erratic. Larger products keep BLAS's default.
_SINGLE_THREAD_MACS = 1 << 26
_INT32 = 1 << 31


def _blas_limit(ops: SynapseSet, batch: int):
    """Context that pins BLAS to one thread when every per-step product is small."""
    if batch * ops.block_entries >= _SINGLE_THREAD_MACS:
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


def _chunk_size(n_samples: int, n_neurons: int) -> int:
    return int(max(1, min(n_samples, _MAX_BATCH, _STATE_BYTES // max(1, 16 * 8 * n_neurons))))


@dataclass(frozen=True)
class Prepared:
    """A checked network turned into step constants and synapse operators."""

    fmt: NumberFormat
    params: NeuronParams
    rec_ops: SynapseSet
    in_groups: tuple


@dataclass
class _Outputs:
    """What one chunk of samples returns (arrays indexed like the chunk)."""

    spikes: np.ndarray
    counts: np.ndarray
    u: np.ndarray | None = None
    v: np.ndarray | None = None
    active_per_step: np.ndarray | None = None
    active_per_neuron: np.ndarray | None = None


# QuantizedNetworks are frozen with read-only arrays, so the checked and prepared form of one
# can be reused across calls (sweeps call simulate() many times on the same network).
_PREPARED: dict[int, tuple[weakref.ref, Prepared]] = {}


def prepare(qnet) -> Prepared:
    """Check ``qnet`` (:func:`check_network`) and build its constants; cached per network object."""
    key = id(qnet)
    hit = _PREPARED.get(key)
    if hit is not None and hit[0]() is qnet:
        return hit[1]
    check_network(qnet)
    n = qnet.n_neurons
    groups = group_projections(qnet.projections)
    prep = Prepared(fmt=qnet.number_format, params=network_params(qnet),
                    rec_ops=SynapseSet([g for g in groups if g.source == "recurrent"], n, n),
                    in_groups=tuple(g for g in groups if g.source == "input"))
    try:
        ref = weakref.ref(qnet, lambda _, k=key: _PREPARED.pop(k, None))
    except TypeError:  # not weak-referenceable: do not cache
        return prep
    _PREPARED[key] = (ref, prep)
    return prep


def _input_ops(prep: Prepared, n: int, n_input: int, x: np.ndarray) -> SynapseSet:
    graded = x.dtype != bool
    payload_max = int(np.abs(x).max(initial=1)) if graded else 1
    return SynapseSet(prep.in_groups, n, n_input, payload_max=payload_max, graded=graded)


def _run_chunk(x: np.ndarray, lengths: np.ndarray, p: NeuronParams, in_ops: SynapseSet,
               rec_ops: SynapseSet, record: bool, float_twin: bool, count_active: bool,
               saturate_v: bool = False) -> _Outputs:
    """Simulate samples sorted by decreasing length."""
    bc, n = len(lengths), p.n_neurons
    tc = int(lengths[0]) if bc else 0
    dtype = np.float64 if float_twin else np.int64
    out = _Outputs(spikes=np.zeros((bc, tc, n), bool), counts=np.zeros((bc, len(OVERFLOW_KEYS)), np.int64))
    if record:
        out.u = np.zeros((bc, tc, n), dtype)
        out.v = np.zeros((bc, tc, n), dtype)
    if count_active:
        out.active_per_step = np.zeros((bc, tc), np.int32)
        out.active_per_neuron = np.zeros((bc, n), np.int32)
    if tc == 0:
        return out
    # Lava's ports are int32: a_in wraps modulo 2**32 only if the bound on it allows
    wrap_a_in = not float_twin and in_ops.out_bound + rec_ops.out_bound >= _INT32
    step = (functools.partial(lif_step_float, saturate_v=saturate_v) if float_twin else lif_step)
    block = int(max(1, min(tc, _DRIVE_BYTES // max(1, bc * n * 8))))
    u = np.zeros((bc, n), dtype)
    v = np.zeros((bc, n), dtype)
    refr = np.zeros((bc, n), np.int64)
    s_prev = np.zeros((bc, n), bool)
    active = bc
    counts = out.counts
    drive = None
    t0 = 0
    for t in range(tc):
        while active and lengths[active - 1] <= t:
            active -= 1
        if t % block == 0:
            # input spikes of step t drive step t + 1 (every projection adds one step of delay):
            # drive[:, k] = W_in x[:, t0 + k - 1], for the samples still running
            t0, t1 = t, min(tc, t + block)
            drive = np.zeros((active, t1 - t0, n), dtype)
            lo, first = max(t0 - 1, 0), (1 if t0 == 0 else 0)
            if t1 - 1 > lo and in_ops.n_groups:
                src = x[:active, lo:t1 - 1]
                flat = np.zeros((active * src.shape[1], n), dtype)
                in_ops.add_into(flat, src.reshape(-1, src.shape[-1]), float_twin)
                drive[:, first:] = flat.reshape(active, src.shape[1], n)
        if active < len(u):
            u, v, refr, s_prev = u[:active], v[:active], refr[:active], s_prev[:active]
        a_in = drive[:active, t - t0].copy()
        rec_ops.add_into(a_in, s_prev, float_twin)
        if wrap_a_in:
            a_in = wrap32(a_in)
        r = step(u, v, refr, a_in, p)
        u, v, refr, s_prev = r.u, r.v, r.refractory, r.spikes
        out.spikes[:active, t] = s_prev
        if record:
            out.u[:active, t] = u
            out.v[:active, t] = v
        if count_active:
            act = (u != 0) | (v != 0) | s_prev
            out.active_per_step[:active, t] = act.sum(axis=1)
            out.active_per_neuron[:active] += act
        if not float_twin and r.any_event:
            for k, mask in enumerate((r.u_wrapped, r.v_clipped, r.u_input_overflow)):
                if mask.any():
                    counts[:active, k] += mask.sum(axis=1)
    return out


def _simulate(qnet, input_spikes, sample_lengths, record_states: bool, batch_size: int | None,
              float_twin: bool, count_active: bool = False, saturate_v: bool = False) -> SpikeRecord:
    prep = prepare(qnet)
    fmt, p, rec_ops = prep.fmt, prep.params, prep.rec_ops
    x, lengths = check_inputs(qnet, input_spikes, sample_lengths)
    n, (b, t_max) = qnet.n_neurons, x.shape[:2]
    in_ops = _input_ops(prep, n, qnet.n_input, x)

    dtype = np.float64 if float_twin else np.int64
    spikes = np.zeros((b, t_max, n), bool)
    states = {k: np.zeros((b, t_max, n), dtype) for k in ("u", "v")} if record_states else {}
    counts = np.zeros((b, len(OVERFLOW_KEYS)), np.int64)
    active_step = np.zeros((b, t_max), np.int32) if count_active else None
    active_neuron = np.zeros((b, n), np.int32) if count_active else None
    order = np.argsort(-lengths, kind="stable")
    if batch_size is None:
        batch_size = _chunk_size(b, n)
    if batch_size < 1:
        raise DataError("batch_size must be positive", parameter="batch_size", value=batch_size,
                        allowed="[1, inf) or None")
    for start in range(0, b, batch_size):
        idx = order[start:start + batch_size]
        with _blas_limit(rec_ops, len(idx)):
            res = _run_chunk(x[idx], lengths[idx], p, in_ops, rec_ops, record_states, float_twin,
                             count_active, saturate_v)
        tc = res.spikes.shape[1]
        spikes[idx, :tc] = res.spikes
        counts[idx] = res.counts
        if record_states:
            states["u"][idx, :tc] = res.u
            states["v"][idx, :tc] = res.v
        if count_active:
            active_step[idx, :tc] = res.active_per_step
            active_neuron[idx] = res.active_per_neuron

    valid_in = np.arange(t_max)[None, :, None] < lengths[:, None, None]
    graded = x.dtype != bool
    prov: dict[str, Any] = {
        "backend": "golden", "fidelity": "float" if float_twin else "fixed",
        "design": qnet.name, "profile": qnet.provenance.get("profile"), "seed": qnet.provenance.get("seed"),
        "format": fmt.as_dict(), "versions": {"hrsnn_hw": __version__, "numpy": np.__version__},
        "input": {"kind": "graded" if graded else "binary",
                  "payload_max": int(np.abs(x).max(initial=0)) if graded else 1},
    }
    if not float_twin:
        totals = counts.sum(axis=0)
        prov["overflow"] = {k: int(c) for k, c in zip(OVERFLOW_KEYS, totals)}
        prov["overflow"]["samples_with_overflow"] = int(counts.any(axis=1).sum())
    events = (x != 0) if graded else x
    return SpikeRecord(spikes=spikes, sample_lengths=lengths, dt=float(qnet.dt), provenance=prov,
                       v=states.get("v"), u=states.get("u"), input_spikes=events & valid_in,
                       active_per_step=active_step, active_per_neuron=active_neuron)


def simulate(qnet, input_spikes, sample_lengths=None, *, record_states: bool = False,
             batch_size: int | None = None, count_active: bool = False) -> SpikeRecord:
    """Run the bit-accurate fixed-point model on a batch of samples.

    Parameters
    ----------
    qnet : QuantizedNetwork
        The network; checked first (every weight must be exactly representable in Lava's
        Dense, every neuron constant in range) -- :class:`~hrsnn_hw.errors.QuantizationError`.
    input_spikes : ndarray, shape (B, T, n_input)
        Input raster; ``input_spikes[b, t]`` reaches ``u`` at step ``t + 1``. bool (or 0/1):
        binary spikes. An integer dtype with other values: graded spikes whose integer payload
        multiplies the weight (Loihi 2; the network's ``number_format.spike_payload_bits``
        bounds the signed payload, a profile without it refuses them with a
        :class:`~hrsnn_hw.errors.DataError`).
    sample_lengths : ndarray of int, shape (B,), optional
        Valid steps per sample (default: all ``T``). Later steps are padding: silent, never computed.
    record_states : bool
        Also return ``u`` and ``v`` (int64, after each step; 0 in padding).
    batch_size : int, optional
        Samples simulated together (default: as many as fit a ~256 MB working set, at most 512).
    count_active : bool
        Also count, per step and per neuron, the neurons whose state is nonzero or that spiked
        (without recording u and v): :attr:`SpikeRecord.active_per_step` (B, T) and
        :attr:`SpikeRecord.active_per_neuron` (B, N), int32.

    Returns
    -------
    SpikeRecord
        ``input_spikes`` holds the input events (nonzero payloads). ``provenance``: backend
        "golden", fidelity "fixed", the number format, the input kind, and ``overflow``:
        counts of u wraps, v clips and u-input overflows over all valid steps, plus
        ``samples_with_overflow``.
    """
    return _simulate(qnet, input_spikes, sample_lengths, record_states, batch_size, False, count_active)


def simulate_float(qnet, input_spikes, sample_lengths=None, *, record_states: bool = False,
                   batch_size: int | None = None, saturate_v: bool = False,
                   count_active: bool = False) -> SpikeRecord:
    """The float twin of :func:`simulate`: same integer-domain constants, exact real arithmetic.

    Decays multiply by ``(2**D - d) / 2**D`` without rounding, weights by ``2**weight_exp``
    without flooring, and nothing wraps or clips. ``u``/``v`` are float64 in the integer
    domain (same units as :func:`simulate`), so the difference of the two isolates rounding
    and overflow. ``saturate_v=True`` clips ``v`` at the integer model's rails (the hardware's
    defined saturation), leaving rounding as the only difference. Graded inputs as in
    :func:`simulate`. Provenance: backend "golden", fidelity "float".
    """
    return _simulate(qnet, input_spikes, sample_lengths, record_states, batch_size, True, count_active,
                     saturate_v)
