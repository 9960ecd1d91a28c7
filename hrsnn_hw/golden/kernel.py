"""The compiled golden model: the one executable definition of the fixed-point arithmetic.

Lava 0.10's bit-accurate LIF (``lava/proc/lif/models.py``, ``AbstractPyLifModelFixed``)
and Dense (``lava/proc/dense/models.py``, ``PyDenseModelBitAcc``), extended with per-neuron
``du``/``dv``/``vth``/bias and a refractory counter, compiled by numba in exact int64
arithmetic. :func:`neuron_step` is the only implementation of the neuron: the golden
simulator's time loop (:func:`run_samples`, driven by :mod:`.simulate`)
calls it per neuron and step, and the Lava ``HeteroLIF`` process models call it through
:func:`lif_step`. The float twin is :func:`neuron_step_float` (:func:`lif_step_float`,
:func:`run_samples_float`).

One step of one neuron::

    u <- decay(u, 2**D - (du + 1)) + (a_in << u_shift)    D = decay_bits; Lava's ds_offset = 1
    u wraps once: u > M -> u - 2M;  u <= -M -> u + 2M      M = 2**(state_bits - 1)
    refractory (counter > 0): v <- 0, counter -= 1, no spike
    else: v <- clip(decay(v, 2**D - dv) + u + bias, -(M-1), M-1)
          spike where v > vth << vth_shift; v <- 0 and counter <- refractory_steps there
    decay(x, m) = sign(x*m) * (|x*m| >> D)                 (rounds toward zero, 64-bit product)

Synaptic input (Lava Dense, fixed point): ``a_in = wrap32(sum_p shift(W_p @ s_p, weight_exp_p))``,
an arithmetic shift (floor for negative exponents) of each projection's integer sum, from the
events of the previous step (one step of delay per projection), added in Lava's int32 ports;
:func:`scatter` and :func:`finish_inputs` compute it from the CSR arrays of a
:class:`~.synapses.SynapseSet`.

Lava wraps u with one conditional add, which is a true 24-bit wrap only while the shifted
input alone stays inside the state range; larger inputs are counted as
``u_input_overflow`` (the value then follows Lava, not any hardware).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numba
import numpy as np

from ..fixedpoint import DU_OFFSET, DV_OFFSET, NumberFormat

# bits of the ``flags`` a step returns: the overflow events of that step
U_WRAPPED = 1
V_CLIPPED = 2
U_INPUT_OVERFLOW = 4
NUMBA_VERSION = numba.__version__

# Every compiled function of the golden model lives in this one file, on purpose: numba's on-disk
# cache is invalidated by the source file's timestamp only, not by the functions a cached function
# calls in other files, so a loop compiled here from a rule defined elsewhere could keep running
# the old rule after an edit. (tests/test_golden.py checks that no other module compiles code.)
# The cache sits next to this file (__pycache__) or, in a read-only install, in the user's cache
# directory (numba's fallbacks; NUMBA_CACHE_DIR overrides both).

def _compile(fn, **options):
    try:
        return numba.njit(cache=True, nogil=True, **options)(fn)
    except RuntimeError:  # numba found no writable cache directory at all: compile on every start
        return numba.njit(nogil=True, **options)(fn)


def _jit(fn):
    return _compile(fn)


def _jit_inline(fn):
    # inlined into its compiled callers at numba's IR level: no call, and no reference counting of
    # the arrays passed (atomic increments per call would cost more than the rule itself)
    return _compile(fn, inline="always")


@dataclass(frozen=True)
class NeuronParams:
    """Per-neuron integer constants of the step, precomputed from a network's Vars.

    Attributes
    ----------
    decay_u, decay_v : ndarray of int64, shape (N,)
        Multipliers ``2**D - (du + 1)`` and ``2**D - dv``.
    vth_eff : ndarray of int64, shape (N,)
        ``vth << vth_shift``, the value v is compared against.
    bias_eff : ndarray of int64, shape (N,)
        ``bias_mant << bias_exp`` (``>>`` for a negative exponent, as Lava does).
    refractory_steps : ndarray of int64, shape (N,)
        Steps a neuron is held at v = 0 after a spike.
    decay_shift, u_shift : int
        ``decay_bits`` and the synaptic-input alignment shift.
    wrap_limit : int
        ``2**(state_bits - 1)`` (:attr:`~hrsnn_hw.fixedpoint.NumberFormat.wrap_limit`); ``v`` clips
        one below it.
    """

    decay_u: np.ndarray
    decay_v: np.ndarray
    vth_eff: np.ndarray
    bias_eff: np.ndarray
    refractory_steps: np.ndarray
    decay_shift: int
    u_shift: int
    wrap_limit: int

    def __post_init__(self) -> None:
        for name in ("decay_u", "decay_v", "vth_eff", "bias_eff", "refractory_steps"):
            arr = np.ascontiguousarray(getattr(self, name), np.int64)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        # the float twin's decay factors m / 2**D (exact in float64: m < 2**13)
        object.__setattr__(self, "scale_u", self.decay_u * 2.0 ** -self.decay_shift)
        object.__setattr__(self, "scale_v", self.decay_v * 2.0 ** -self.decay_shift)

    @property
    def n_neurons(self) -> int:
        return int(self.decay_u.shape[0])


def neuron_params(du, dv, vth, bias_mant, bias_exp, refractory_steps, fmt: NumberFormat) -> NeuronParams:
    """Build :class:`NeuronParams` from integer per-neuron arrays (scalars broadcast to ``du``'s shape)."""
    du = np.atleast_1d(np.asarray(du, np.int64))
    shape = du.shape
    dv, vth, bias_mant, bias_exp, refr = (np.broadcast_to(np.asarray(a, np.int64), shape)
                                          for a in (dv, vth, bias_mant, bias_exp, refractory_steps))
    bias_eff = np.where(bias_exp >= 0, bias_mant << np.maximum(bias_exp, 0),
                        bias_mant >> np.maximum(-bias_exp, 0))
    unity = fmt.decay_unity
    return NeuronParams(decay_u=(unity - (du + DU_OFFSET)).astype(np.int64),
                        decay_v=(unity - (dv + DV_OFFSET)).astype(np.int64),
                        vth_eff=vth << fmt.vth_shift, bias_eff=bias_eff.astype(np.int64),
                        refractory_steps=np.array(refr, np.int64), decay_shift=fmt.decay_bits,
                        u_shift=fmt.u_shift, wrap_limit=fmt.wrap_limit)


def network_params(qnet) -> NeuronParams:
    """:class:`NeuronParams` of a :class:`~hrsnn_hw.fixedpoint.QuantizedNetwork` (in its own format)."""
    return neuron_params(qnet.du, qnet.dv, qnet.vth, qnet.bias_mant, qnet.bias_exp,
                         qnet.refractory_steps, qnet.number_format)


class StepResult(NamedTuple):
    """New state after one step, the spikes, masks of the overflow events of that step, and
    ``any_event`` (True when any of those masks is set, so callers can skip counting)."""

    u: np.ndarray
    v: np.ndarray
    refractory: np.ndarray
    spikes: np.ndarray
    u_wrapped: np.ndarray
    v_clipped: np.ndarray
    u_input_overflow: np.ndarray
    any_event: bool = True


# ----------------------------------------------------------------------------- compiled scalar rules

@_jit_inline
def decay_scalar(x, multiplier, shift):
    """``sign(x*m) * (|x*m| >> shift)`` on int64: Lava's decay, rounding toward zero."""
    prod = x * multiplier
    sign = prod >> 63  # 0 or -1: branch-free (the sign of a state is unpredictable)
    return ((((prod ^ sign) - sign) >> shift) ^ sign) - sign


@_jit_inline
def neuron_step(u, v, refractory, a_shifted, decay_u, decay_v, vth_eff, bias_eff, refractory_steps,
                decay_shift, wrap_limit):
    """One bit-accurate LIF step of one neuron, int64 scalars: THE arithmetic (module docstring).

    Parameters
    ----------
    u, v, refractory : int64
        State before the step (``refractory``: steps the neuron is still held, >= 0).
    a_shifted : int64
        Synaptic input of this step, ``a_in << u_shift``.
    decay_u, decay_v, vth_eff, bias_eff, refractory_steps : int64
        The neuron's constants (:class:`NeuronParams`).
    decay_shift, wrap_limit : int64

    Returns
    -------
    (u, v, refractory, spike, flags) : (int64, int64, int64, bool, int64)
        ``flags`` has :data:`U_WRAPPED`, :data:`V_CLIPPED`, :data:`U_INPUT_OVERFLOW` set for the
        overflow events of this step.
    """
    flags = 0
    u = decay_scalar(u, decay_u, decay_shift) + a_shifted
    if u > wrap_limit or u <= -wrap_limit:
        # Lava wraps with one conditional add/subtract, not a modulo
        if u > wrap_limit:
            u -= 2 * wrap_limit
        else:
            u += 2 * wrap_limit
        flags = U_WRAPPED
        if u > wrap_limit or u <= -wrap_limit:
            flags |= U_INPUT_OVERFLOW
    spike = False
    if refractory > 0:
        # held: v <- 0 (nothing clips and, as thresholds are >= 0, nothing spikes)
        v = 0
        refractory -= 1
    else:
        v = decay_scalar(v, decay_v, decay_shift) + u + bias_eff
        v_max = wrap_limit - 1
        if v > v_max or v < -v_max:
            v = v_max if v > 0 else -v_max
            flags |= V_CLIPPED
        if v > vth_eff:
            v = 0
            refractory = refractory_steps
            spike = True
        else:
            refractory = 0
    # one exit: the inlined step stays one straight block in the caller's loop
    return u, v, refractory, spike, flags


@_jit_inline
def neuron_step_float(u, v, refractory, a_in, scale_u, scale_v, vth_eff, bias_eff, refractory_steps,
                      input_scale, wrap_limit, saturate_v):
    """The float twin of :func:`neuron_step` (float64): the same update without rounding or wrap.

    ``a_in`` is the float synaptic input (weights times ``2**weight_exp``, no floor), multiplied by
    ``input_scale = 2**u_shift``; ``scale_u/v = decay_u/v / 2**D``. ``flags`` report where the integer
    model *would* wrap u or clip v. With ``saturate_v`` v is clipped to the integer model's rails.
    """
    big = float(wrap_limit)
    u_new = u * scale_u + a_in * input_scale
    held = refractory > 0
    y = v * scale_v + u_new + bias_eff
    flags = 0
    if u_new > big or u_new <= -big:
        flags |= U_WRAPPED
    if not held and (y > big - 1.0 or y < -(big - 1.0)):
        flags |= V_CLIPPED
    if saturate_v:
        y = min(max(y, -(big - 1.0)), big - 1.0)
    spike = (not held) and y > vth_eff
    if held:
        return u_new, 0.0, refractory - 1.0, False, flags
    if spike:
        return u_new, 0.0, float(refractory_steps), True, flags
    return u_new, y, 0.0, False, flags


# ----------------------------------------------------------------------------- synaptic input (see .synapses)

@_jit_inline
def wrap32_scalar(x):
    """Two's-complement wrap of an int64 into int32's range (Lava's int32 containers)."""
    return ((x + 2147483648) & 0xFFFFFFFF) - 2147483648


@_jit_inline
def scatter(acc, ptr, target, weight, source, payload):
    """Add ``weight * payload`` of every synapse of ``source`` into ``acc[target]`` (one event)."""
    # unsigned indices (all are >= 0) skip numba's negative-index wraparound: -15 % per event
    for k in range(np.uint64(ptr[source]), np.uint64(ptr[source + 1])):
        acc[np.uint64(target[k])] += weight[k] * payload


@_jit_inline
def finish_inputs(acc, part_exp, a_in):
    """Each neuron's ``a_in`` from its part sums, which are reset to 0 (``a_in`` int64, in place).

    ``a_in = wrap32(sum_p shift(acc_p, exp_p))``: each part's sum shifted arithmetically by its
    exponent (flooring for negative ones), the total wrapped by Lava's int32 port. The sums are
    accumulated in int32 (``acc``), which is exact where it must be: a part that floors either
    cannot leave int32 (checked when its :class:`~.synapses.SynapseSet` is built) or is Lava's
    graded int32 accumulator, which wraps the same way; every other part only adds and shifts
    left before the port's wrap, and sums modulo 2**32 give the same wrapped total.
    One loop per part, so each is a straight run over the neurons.
    """
    n = a_in.shape[0]
    last = part_exp.shape[0] - 1
    for part in range(last + 1):
        # one pass per part: read and reset its sums, shift, add (the conditions are loop-invariant)
        off = part * n
        e = part_exp[part]
        for i in range(n):
            x = np.int64(acc[off + i])
            acc[off + i] = 0
            x = (x << e) if e >= 0 else (x >> -e)
            if part > 0:
                x += a_in[i]
            if part == last:
                x = wrap32_scalar(x)
            a_in[i] = x


@_jit_inline
def finish_inputs_float(acc, a_in):
    """The float twin's ``a_in`` (its one part sum, reset to 0): no rounding, no wrap."""
    for i in range(a_in.shape[0]):
        a_in[i] = acc[i]
        acc[i] = 0.0


@_jit
def accumulate_rows(ptr, target, weight, part_exp, n_post, row_ptr, sources, payloads, out):
    acc = np.zeros(part_exp.shape[0] * n_post, np.int32)
    for row in range(out.shape[0]):
        for e in range(row_ptr[row], row_ptr[row + 1]):
            scatter(acc, ptr, target, weight, sources[e], payloads[e])
        finish_inputs(acc, part_exp, out[row])


@_jit
def accumulate_rows_float(ptr, target, weight, n_post, row_ptr, sources, payloads, out):
    acc = np.zeros(n_post, np.float64)  # the twin has one part
    for row in range(out.shape[0]):
        for e in range(row_ptr[row], row_ptr[row + 1]):
            scatter(acc, ptr, target, weight, sources[e], payloads[e])
        finish_inputs_float(acc, out[row])


# ----------------------------------------------------------------------------- time loops (see .simulate)

@_jit
def _run_sample(b, length, ptr, target, weight, part_exp,
                decay_u, decay_v, vth_eff, bias_eff, refractory_steps, decay_shift, u_shift, wrap_limit,
                in_ptr, in_src, in_val, t_stride, record, count_active,
                spikes, u_rec, v_rec, active_step, active_neuron, counts):
    """Sample ``b`` of the integer model, steps ``0..length-1``, into its rows of the outputs."""
    n = decay_u.shape[0]
    u = np.zeros(n, np.int64)
    v = np.zeros(n, np.int64)
    refractory = np.zeros(n, np.int64)
    acc = np.zeros(part_exp.shape[0] * n, np.int32)  # see finish_inputs
    a_in = np.zeros(n, np.int64)
    spiked = np.zeros(n, np.uint8)
    flagged = np.zeros(n, np.uint8)
    fired = np.empty(n, np.int64)
    n_fired = 0
    for t in range(length):
        # events of step t-1 reach the neurons now (one step of delay per projection)
        for q in range(n_fired):
            scatter(acc, ptr, target, weight, fired[q], 1)
        if t > 0:
            base = b * t_stride + t - 1
            for e in range(in_ptr[base], in_ptr[base + 1]):
                scatter(acc, ptr, target, weight, in_src[e], in_val[e])
        finish_inputs(acc, part_exp, a_in)
        # the step itself, with no side exit (what the loop records is read in the passes below:
        # conditional stores in this loop made it ~3x slower)
        any_flag = 0
        for i in range(np.uint64(n)):  # unsigned: no wraparound code on the dozen indexings below
            ui, vi, ri, spike, flags = neuron_step(u[i], v[i], refractory[i], a_in[i] << u_shift, decay_u[i],
                                                   decay_v[i], vth_eff[i], bias_eff[i], refractory_steps[i],
                                                   decay_shift, wrap_limit)
            u[i] = ui
            v[i] = vi
            refractory[i] = ri
            spiked[i] = spike
            flagged[i] = flags
            any_flag |= flags
        n_fired = 0
        for i in range(np.uint64(n)):  # branch-free compaction of the spiking neurons
            fired[n_fired] = i
            n_fired += spiked[i]
        for q in range(n_fired):
            spikes[b, t, fired[q]] = True
        if any_flag:  # rare: count the overflow events of this step
            for i in range(n):
                counts[b, 0] += (flagged[i] & U_WRAPPED) != 0
                counts[b, 1] += (flagged[i] & V_CLIPPED) != 0
                counts[b, 2] += (flagged[i] & U_INPUT_OVERFLOW) != 0
        if record:
            u_rec[b, t, :] = u
            v_rec[b, t, :] = v
        if count_active:
            n_active = 0
            for i in range(n):
                active = (u[i] != 0) | (v[i] != 0) | (spiked[i] != 0)
                n_active += active
                active_neuron[b, i] += active
            active_step[b, t] = n_active


@_jit
def _run_sample_float(b, length, ptr, target, weight, scale_u, scale_v, vth_eff, bias_eff, refractory_steps,
                      input_scale, wrap_limit, saturate_v, in_ptr, in_src, in_val, t_stride, record,
                      count_active, spikes, u_rec, v_rec, active_step, active_neuron, counts):
    """Sample ``b`` of the float twin (same loop as :func:`_run_sample`, :func:`~.kernel.neuron_step_float`)."""
    n = scale_u.shape[0]
    u = np.zeros(n, np.float64)
    v = np.zeros(n, np.float64)
    refractory = np.zeros(n, np.float64)
    acc = np.zeros(n, np.float64)
    a_in = np.zeros(n, np.float64)
    spiked = np.zeros(n, np.uint8)
    flagged = np.zeros(n, np.uint8)
    fired = np.empty(n, np.int64)
    n_fired = 0
    for t in range(length):
        for q in range(n_fired):
            scatter(acc, ptr, target, weight, fired[q], 1)
        if t > 0:
            base = b * t_stride + t - 1
            for e in range(in_ptr[base], in_ptr[base + 1]):
                scatter(acc, ptr, target, weight, in_src[e], in_val[e])
        finish_inputs_float(acc, a_in)
        any_flag = 0
        for i in range(np.uint64(n)):
            ui, vi, ri, spike, flags = neuron_step_float(u[i], v[i], refractory[i], a_in[i], scale_u[i],
                                                         scale_v[i], vth_eff[i], bias_eff[i], refractory_steps[i],
                                                         input_scale, wrap_limit, saturate_v)
            u[i] = ui
            v[i] = vi
            refractory[i] = ri
            spiked[i] = spike
            flagged[i] = flags
            any_flag |= flags
        n_fired = 0
        for i in range(np.uint64(n)):
            fired[n_fired] = i
            n_fired += spiked[i]
        for q in range(n_fired):
            spikes[b, t, fired[q]] = True
        if any_flag:
            for i in range(n):
                counts[b, 0] += (flagged[i] & U_WRAPPED) != 0
                counts[b, 1] += (flagged[i] & V_CLIPPED) != 0
        if record:
            u_rec[b, t, :] = u
            v_rec[b, t, :] = v
        if count_active:
            n_active = 0
            for i in range(n):
                active = (u[i] != 0.0) | (v[i] != 0.0) | (spiked[i] != 0)
                n_active += active
                active_neuron[b, i] += active
            active_step[b, t] = n_active


@_jit
def run_samples(lengths, ptr, target, weight, part_exp, decay_u, decay_v, vth_eff, bias_eff,
                refractory_steps, decay_shift, u_shift, wrap_limit, in_ptr, in_src, in_val, t_stride, record,
                count_active, spikes, u_rec, v_rec, active_step, active_neuron, counts):
    for b in range(lengths.shape[0]):
        _run_sample(b, lengths[b], ptr, target, weight, part_exp, decay_u, decay_v, vth_eff, bias_eff,
                    refractory_steps, decay_shift, u_shift, wrap_limit, in_ptr, in_src, in_val, t_stride, record,
                    count_active, spikes, u_rec, v_rec, active_step, active_neuron, counts)


@_jit
def run_samples_float(lengths, ptr, target, weight, scale_u, scale_v, vth_eff, bias_eff, refractory_steps,
                      input_scale, wrap_limit, saturate_v, in_ptr, in_src, in_val, t_stride, record, count_active,
                      spikes, u_rec, v_rec, active_step, active_neuron, counts):
    for b in range(lengths.shape[0]):
        _run_sample_float(b, lengths[b], ptr, target, weight, scale_u, scale_v, vth_eff, bias_eff,
                          refractory_steps, input_scale, wrap_limit, saturate_v, in_ptr, in_src, in_val, t_stride,
                          record, count_active, spikes, u_rec, v_rec, active_step, active_neuron, counts)


# ----------------------------------------------------------------------------- array wrappers

@_jit
def _step_rows(u, v, refractory, a_shifted, decay_u, decay_v, vth_eff, bias_eff, refractory_steps,
               decay_shift, wrap_limit, spikes, flags):
    """:func:`neuron_step` over (rows, N) int64 arrays, in place (``spikes``/``flags`` written)."""
    rows, n = u.shape
    for b in range(rows):
        for i in range(n):
            u[b, i], v[b, i], refractory[b, i], spikes[b, i], flags[b, i] = neuron_step(
                u[b, i], v[b, i], refractory[b, i], a_shifted[b, i], decay_u[i], decay_v[i], vth_eff[i],
                bias_eff[i], refractory_steps[i], decay_shift, wrap_limit)


@_jit
def _step_rows_float(u, v, refractory, a_in, scale_u, scale_v, vth_eff, bias_eff, refractory_steps,
                     input_scale, wrap_limit, saturate_v, spikes, flags):
    """:func:`neuron_step_float` over (rows, N) float64 arrays, in place."""
    rows, n = u.shape
    for b in range(rows):
        for i in range(n):
            u[b, i], v[b, i], refractory[b, i], spikes[b, i], flags[b, i] = neuron_step_float(
                u[b, i], v[b, i], refractory[b, i], a_in[b, i], scale_u[i], scale_v[i], vth_eff[i],
                bias_eff[i], refractory_steps[i], input_scale, wrap_limit, saturate_v)


@_jit
def _decay_flat(x, multiplier, shift, out):
    for k in range(x.size):
        out[k] = decay_scalar(x[k], multiplier[k], shift)


def decay(x: np.ndarray, multiplier: np.ndarray, shift: int) -> np.ndarray:
    """``sign(x*m) * (|x*m| >> shift)``: Lava's decay, rounding toward zero (int64, broadcast)."""
    xb, mb = np.broadcast_arrays(np.asarray(x, np.int64), np.asarray(multiplier, np.int64))
    out = np.empty(xb.shape, np.int64)
    _decay_flat(np.array(xb).reshape(-1), np.array(mb).reshape(-1), int(shift), out.reshape(-1))
    return out


def _rows(arrays, shape, dtype):
    n = shape[-1] if shape else 1
    return [np.array(np.broadcast_to(a, shape), dtype).reshape(-1, n) for a in arrays]


def _result(shape, u, v, r, spikes, flags, dtype, refr_dtype) -> StepResult:
    flags = flags.reshape(shape)
    return StepResult(u.reshape(shape).astype(dtype, copy=False), v.reshape(shape).astype(dtype, copy=False),
                      r.reshape(shape).astype(refr_dtype, copy=False), spikes.reshape(shape),
                      (flags & U_WRAPPED) != 0, (flags & V_CLIPPED) != 0, (flags & U_INPUT_OVERFLOW) != 0,
                      bool(flags.any()))


def lif_step(u: np.ndarray, v: np.ndarray, refractory: np.ndarray, a_in: np.ndarray,
             p: NeuronParams, *, input_shifted: bool = False) -> StepResult:
    """One bit-accurate LIF step (:func:`neuron_step` on every neuron); inputs are not modified.

    Parameters
    ----------
    u, v, refractory : ndarray of integers, shape (..., N)
        State before the step (``refractory``: non-negative integer counts).
    a_in : ndarray of integers, shape (..., N)
        Synaptic input of this step (already shifted by each projection's ``weight_exp``).
    p : NeuronParams
        Per-neuron constants.
    input_shifted : bool
        ``a_in`` is already ``a_in << u_shift``.

    Returns
    -------
    StepResult
        ``u``/``v`` in the dtype of ``u`` (int64 unless it is an int or float array),
        ``refractory`` in its own.
    """
    shape = np.broadcast_shapes(np.shape(u), np.shape(v), np.shape(refractory), np.shape(a_in))
    uu, vv, rr, aa = _rows((u, v, refractory, a_in), shape, np.int64)
    if not input_shifted:
        aa <<= p.u_shift
    spikes = np.zeros(uu.shape, bool)
    flags = np.zeros(uu.shape, np.int64)
    _step_rows(uu, vv, rr, aa, p.decay_u, p.decay_v, p.vth_eff, p.bias_eff, p.refractory_steps,
               p.decay_shift, p.wrap_limit, spikes, flags)
    dtype = np.asarray(u).dtype if np.asarray(u).dtype.kind in "if" else np.int64
    refr_dtype = np.asarray(refractory).dtype if np.asarray(refractory).dtype.kind in "iuf" else np.int64
    return _result(shape, uu, vv, rr, spikes, flags, dtype, refr_dtype)


def lif_step_float(u: np.ndarray, v: np.ndarray, refractory: np.ndarray, a_in: np.ndarray,
                   p: NeuronParams, saturate_v: bool = False) -> StepResult:
    """The float twin of :func:`lif_step` (:func:`neuron_step_float` on every neuron).

    ``a_in`` is the float synaptic input (weights times ``2**weight_exp``, no floor).
    The overflow masks report where the integer model *would* wrap or clip. With
    ``saturate_v`` the twin clips ``v`` to the same 24-bit rails as the integer model
    (saturation is defined behaviour of the hardware, not rounding), so that comparing the
    two isolates rounding error. ``u``/``v`` are float64; ``refractory`` keeps its dtype.
    """
    shape = np.broadcast_shapes(np.shape(u), np.shape(v), np.shape(refractory), np.shape(a_in))
    uu, vv, rr, aa = _rows((u, v, refractory, a_in), shape, np.float64)
    spikes = np.zeros(uu.shape, bool)
    flags = np.zeros(uu.shape, np.int64)
    _step_rows_float(uu, vv, rr, aa, p.scale_u, p.scale_v, p.vth_eff.astype(np.float64),
                     p.bias_eff.astype(np.float64), p.refractory_steps, float(1 << p.u_shift),
                     p.wrap_limit, bool(saturate_v), spikes, flags)
    refr_dtype = np.asarray(refractory).dtype if np.asarray(refractory).dtype.kind in "iuf" else np.int64
    return _result(shape, uu, vv, rr, spikes, flags, np.float64, refr_dtype)
