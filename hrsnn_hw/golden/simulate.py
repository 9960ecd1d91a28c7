"""Batched, event-driven golden simulation of a QuantizedNetwork (integer model and its float twin).

Samples run side by side as rows of (B, N) arrays. Synaptic input is computed each step
from the events (spikes, and input spikes or graded payloads) of the previous step by one
:class:`~.synapses.SynapseSet` over all sources: work grows with spikes x fan-out, not with
N^2 (dense blocks only where measured cheaper), and nothing of size B x T x N is held but
the results asked for. Samples are processed longest first so that finished samples simply drop off the
end of the batch: steps past a sample's length are never computed, so they cannot affect
anything (spikes and states there are False / 0).
"""
from __future__ import annotations

import contextlib
import functools
import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import __version__
from ..errors import DataError
from ..fixedpoint import NumberFormat
from ..records import SpikeRecord
from .kernel import NeuronParams, lif_step_float, network_params, step_inplace
from .synapses import SynapseSet, group_projections, wrap32
from .validate import check_inputs, check_network

OVERFLOW_KEYS = ("u_wrap", "v_clip", "u_input_overflow")
# Working set of one chunk of samples (bytes): states and temporaries, ~16 (B, N) int64 arrays.
_STATE_BYTES = 256 * 2**20
_MAX_BATCH = 512
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
    """A checked network turned into step constants and synapse groups (operators built on demand)."""

    fmt: NumberFormat
    params: NeuronParams
    rec_groups: tuple
    in_groups: tuple
    ops: dict = field(default_factory=dict, compare=False)

    def synapse_set(self, n_input: int, *, payload_max: int = 1, graded: bool = False,
                    out_scale: float = 1.0, twin: bool = False) -> SynapseSet:
        """The (cached) :class:`SynapseSet` of the whole network: sources are the neurons
        (columns ``0..N-1``) then the input channels (``N..N+M-1``)."""
        key = (n_input, payload_max, graded, out_scale, twin)
        ops = self.ops.get(key)
        if ops is None:
            n = self.params.n_neurons
            groups = self.rec_groups + self.in_groups
            rec = len(self.rec_groups)
            ops = SynapseSet(groups, n, n + n_input, twin=twin, out_scale=out_scale,
                             payload_max=[1] * rec + [payload_max] * len(self.in_groups),
                             graded=[False] * rec + [graded] * len(self.in_groups),
                             pre_offset=[0] * rec + [n] * len(self.in_groups))
            if len(self.ops) > 16:
                self.ops.clear()
            self.ops[key] = ops
        return ops


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
    groups = group_projections(qnet.projections)
    prep = Prepared(fmt=qnet.number_format, params=network_params(qnet),
                    rec_groups=tuple(g for g in groups if g.source == "recurrent"),
                    in_groups=tuple(g for g in groups if g.source == "input"))
    try:
        ref = weakref.ref(qnet, lambda _, k=key: _PREPARED.pop(k, None))
    except TypeError:  # not weak-referenceable: do not cache
        return prep
    _PREPARED[key] = (ref, prep)
    return prep


@dataclass(frozen=True)
class _Mode:
    """How a run represents ``a_in``: pre-shifted by ``u_shift`` (folded into the weights), or, when
    Lava's int32 ports could wrap it, unshifted and wrapped before the neuron adds it."""

    float_twin: bool
    wrap_a_in: bool
    ops: SynapseSet
    u_can_wrap: bool = True


def _mode(prep: Prepared, qnet, x: np.ndarray, float_twin: bool) -> _Mode:
    graded = x.dtype != bool
    payload_max = int(np.abs(x).max(initial=1)) if graded else 1
    m = qnet.n_input
    if float_twin:
        return _Mode(True, False, prep.synapse_set(m, payload_max=payload_max, graded=graded, twin=True))
    ops = prep.synapse_set(m, payload_max=payload_max, graded=graded, out_scale=float(1 << prep.fmt.u_shift))
    if ops.out_bound < _INT32:
        # |u_t| <= |u_{t-1}| (2**D - du - 1) / 2**D + A  =>  |u| <= A 2**D / (du + 1) for all t
        u_max = ops.abs_bound() * prep.fmt.decay_unity / (qnet.du + 1.0)
        return _Mode(False, False, ops, u_can_wrap=bool((u_max >= prep.fmt.wrap_limit).any()))
    # a_in may leave int32 (Lava's ports wrap it): keep it unshifted, wrap it, then shift
    return _Mode(False, True, prep.synapse_set(m, payload_max=payload_max, graded=graded))


def _run_chunk(x: np.ndarray, lengths: np.ndarray, p: NeuronParams, mode: _Mode, record: bool,
               count_active: bool, saturate_v: bool = False) -> _Outputs:
    """Simulate samples sorted by decreasing length.

    The integer model runs :func:`~.kernel.step_inplace` on float64 arrays holding integers
    (exact); records are stored as int64.
    """
    bc, n = len(lengths), p.n_neurons
    tc = int(lengths[0]) if bc else 0
    float_twin = mode.float_twin
    out = _Outputs(spikes=np.zeros((bc, tc, n), bool), counts=np.zeros((bc, len(OVERFLOW_KEYS)), np.int64))
    if record:
        out.u = np.zeros((bc, tc, n), np.float64 if float_twin else np.int64)
        out.v = np.zeros((bc, tc, n), np.float64 if float_twin else np.int64)
    if count_active:
        out.active_per_step = np.zeros((bc, tc), np.int32)
        out.active_per_neuron = np.zeros((bc, n), np.int32)
    if tc == 0:
        return out
    ops = mode.ops
    m = x.shape[2]
    x_state = np.zeros((2, bc, n))  # (u, v): integers in float64 (exact), or the twin's floats
    refr = np.zeros((bc, n))
    # sources of the synaptic input of a step: last step's spikes, then last step's input
    # (every projection adds one step of delay); spikes are written straight into src[:, :n]
    src = np.zeros((bc, n + m), x.dtype)
    s_prev = src[:, :n] if x.dtype == bool else np.zeros((bc, n), bool)
    a_in = np.zeros((bc, n))
    refractory_on = p.has_refractory
    twin_step = functools.partial(lif_step_float, saturate_v=saturate_v)
    active = bc
    counts = out.counts
    for t in range(tc):
        while active and lengths[active - 1] <= t:
            active -= 1
        if active < s_prev.shape[0]:
            x_state, refr, src, a_in = x_state[:, :active], refr[:active], src[:active], a_in[:active]
            s_prev = src[:, :n] if x.dtype == bool else s_prev[:active]
        if t and m:
            src[:, n:] = x[:active, t - 1]
        a_in.fill(0.0)
        ops.add_into(a_in, src)
        if float_twin:
            r = twin_step(x_state[0], x_state[1], refr, a_in, p)
            x_state = np.stack([r.u, r.v])
            refr = r.refractory.astype(np.float64)
            np.copyto(s_prev, r.spikes)
            events = ()
        else:
            a_step = a_in
            if mode.wrap_a_in:
                a_step = wrap32(np.rint(a_in).astype(np.int64)) * float(1 << p.u_shift)
            # src was read above: the step overwrites the spike columns with this step's spikes
            events = step_inplace(x_state, refr, s_prev, a_step, p, refractory_on=refractory_on,
                                  u_can_wrap=mode.u_can_wrap)
        if x.dtype != bool:
            src[:, :n] = s_prev
        out.spikes[:active, t] = s_prev
        if record:
            out.u[:active, t] = x_state[0]
            out.v[:active, t] = x_state[1]
        if count_active:
            act = (x_state[0] != 0) | (x_state[1] != 0) | s_prev
            out.active_per_step[:active, t] = act.sum(axis=1)
            out.active_per_neuron[:active] += act
        for k, mask in enumerate(events):
            if mask is not None:
                counts[:active, k] += mask.sum(axis=1)
    return out


def _simulate(qnet, input_spikes, sample_lengths, record_states: bool, batch_size: int | None,
              float_twin: bool, count_active: bool = False, saturate_v: bool = False) -> SpikeRecord:
    prep = prepare(qnet)
    fmt, p = prep.fmt, prep.params
    x, lengths = check_inputs(qnet, input_spikes, sample_lengths)
    n, (b, t_max) = qnet.n_neurons, x.shape[:2]
    mode = _mode(prep, qnet, x, float_twin)

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
        with _blas_limit(mode.ops, len(idx)):
            res = _run_chunk(x[idx], lengths[idx], p, mode, record_states, count_active, saturate_v)
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
