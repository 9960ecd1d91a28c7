"""The fixed-point step: the one executable definition of the arithmetic.

Lava 0.10's bit-accurate LIF (``lava/proc/lif/models.py``, ``AbstractPyLifModelFixed``)
and Dense (``lava/proc/dense/models.py``, ``PyDenseModelBitAcc``), extended with per-neuron
``du``/``dv``/``vth``/bias and a refractory counter. The golden simulator and the Lava
``HeteroLIF`` process models both call :func:`lif_step` / :func:`lif_step_float`.

One step, for any leading batch shape ``(..., N)``::

    u <- decay(u, 2**D - (du + 1)) + (a_in << u_shift)    D = decay_bits; Lava's ds_offset = 1
    u wraps once: u > M -> u - 2M;  u <= -M -> u + 2M      M = 2**(state_bits - 1)
    refractory (counter > 0): v <- 0, counter -= 1, no spike
    else: v <- clip(decay(v, 2**D - dv) + u + bias, -(M-1), M-1)
          spike where v > vth << vth_shift; v <- 0 and counter <- refractory_steps there
    decay(x, m) = sign(x*m) * (|x*m| >> D)                 (rounds toward zero, 64-bit product)

Synaptic input (Lava Dense, fixed point): ``a_in = sum_p shift(W_p @ s_p, weight_exp_p)``,
an arithmetic shift (floor for negative exponents) of each projection's integer sum, from the
spikes of the previous step (one step of delay per projection); see :class:`SynapseGroup`.

Lava wraps u with one conditional add, which is a true 24-bit wrap only while the shifted
input alone stays inside the state range; larger inputs are counted as
``u_input_overflow`` (the value then follows Lava, not any hardware).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Sequence

import numpy as np

from .formats import FixedFormat

# Lava's 1-bit "ds_offset" register: the effective current decay is du + 1, so that a decay of
# exactly 2**decay_bits (full reset of u each step) is reachable; the voltage offset is 0.
DU_OFFSET = 1
DV_OFFSET = 0

# A float32 matmul of 0/1 spikes with integer weights is exact while every partial sum stays
# below 2**24 (the float32 significand); beyond that float64 is exact up to 2**53.
_FLOAT32_EXACT = 1 << 24


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
    state_max : int
        ``2**(state_bits - 1)``.
    """

    decay_u: np.ndarray
    decay_v: np.ndarray
    vth_eff: np.ndarray
    bias_eff: np.ndarray
    refractory_steps: np.ndarray
    decay_shift: int
    u_shift: int
    state_max: int

    @property
    def has_refractory(self) -> bool:
        return self._has_refractory

    def __post_init__(self) -> None:
        object.__setattr__(self, "_has_refractory", bool(np.any(self.refractory_steps)))
        # decay multipliers as exact float scales m / 2**D (see _trunc_mul)
        object.__setattr__(self, "scale_u", self.decay_u * 2.0 ** -self.decay_shift)
        object.__setattr__(self, "scale_v", self.decay_v * 2.0 ** -self.decay_shift)

    @property
    def n_neurons(self) -> int:
        return int(self.decay_u.shape[0])


def neuron_params(du, dv, vth, bias_mant, bias_exp, refractory_steps, fmt: FixedFormat) -> NeuronParams:
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
                        u_shift=fmt.u_shift, state_max=fmt.state_max)


def network_params(qnet, fmt: FixedFormat) -> NeuronParams:
    """:class:`NeuronParams` of a :class:`~hrsnn_hw.quantize.network.QuantizedNetwork`."""
    return neuron_params(qnet.du, qnet.dv, qnet.vth, qnet.bias_mant, qnet.bias_exp,
                         qnet.refractory_steps, fmt)


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


def _trunc_mul(x: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``x * scale`` rounded toward zero, as int64.

    ``scale = m / 2**D`` is exact in float64 (m < 2**13), and so is ``x * scale`` as long as
    ``|x * m| < 2**53``: states are at most 32-bit (Lava stores them in int32) and m <= 2**12,
    so the product has at most 44 significant bits. Float multiply + trunc is therefore the
    same integer as the 64-bit integer product shifted toward zero, in fewer numpy calls.
    """
    t = np.multiply(x, scale)
    np.trunc(t, out=t)
    return t.astype(np.int64)


def decay(x: np.ndarray, multiplier: np.ndarray, shift: int) -> np.ndarray:
    """``sign(x*m) * (|x*m| >> shift)``: Lava's decay, rounding toward zero (see :func:`_trunc_mul`)."""
    return _trunc_mul(x, np.asarray(multiplier, np.float64) * 2.0 ** -shift)


def lif_step(u: np.ndarray, v: np.ndarray, refractory: np.ndarray, a_in: np.ndarray,
             p: NeuronParams) -> StepResult:
    """One bit-accurate LIF step (see the module docstring); inputs are not modified.

    Parameters
    ----------
    u, v, refractory : ndarray of int64, shape (..., N)
        State before the step.
    a_in : ndarray of int, shape (..., N)
        Synaptic input of this step (already shifted by each projection's ``weight_exp``).
    p : NeuronParams
        Per-neuron constants.
    """
    big = p.state_max
    u_new = _trunc_mul(u, p.scale_u)
    u_new += np.left_shift(a_in, p.u_shift, dtype=np.int64)
    over = u_new > big
    under = u_new <= -big
    u_wrapped = over | under
    any_wrap = bool(u_wrapped.any())
    if any_wrap:
        # Lava wraps with one conditional add/subtract, not a modulo
        u_new -= (over.astype(np.int64) - under.astype(np.int64)) * (2 * big)
        u_input_overflow = (u_new > big) | (u_new <= -big)
    else:
        u_input_overflow = u_wrapped

    y = _trunc_mul(v, p.scale_v)
    y += u_new
    y += p.bias_eff
    vmax = big - 1
    v_clipped = y > vmax
    v_clipped |= y < -vmax
    any_clip = bool(v_clipped.any())
    if any_clip:
        np.minimum(y, vmax, out=y)
        np.maximum(y, -vmax, out=y)
    spikes = y > p.vth_eff
    if p._has_refractory or refractory.any():
        held = refractory > 0
        free = ~held
        v_clipped &= free
        spikes &= free
        # held neurons count down (refractory - True), spiking ones load their period
        refr_new = np.where(spikes, p.refractory_steps, refractory - held)
        np.copyto(y, 0, where=held | spikes)
    else:
        refr_new = refractory
        np.copyto(y, 0, where=spikes)
    return StepResult(u_new, y, refr_new, spikes, u_wrapped, v_clipped, u_input_overflow, any_wrap or any_clip)


def lif_step_float(u: np.ndarray, v: np.ndarray, refractory: np.ndarray, a_in: np.ndarray,
                   p: NeuronParams, saturate_v: bool = False) -> StepResult:
    """The float twin of :func:`lif_step`: same integer-domain constants, no rounding or wrap.

    ``a_in`` is the float synaptic input (weights times ``2**weight_exp``, no floor).
    The overflow masks report where the integer model *would* wrap or clip. With
    ``saturate_v`` the twin clips ``v`` to the same 24-bit rails as the integer model
    (saturation is defined behaviour of the hardware, not rounding), so that comparing the
    two isolates rounding error.
    """
    big = float(p.state_max)
    u_new = u * p.scale_u + np.asarray(a_in, np.float64) * float(1 << p.u_shift)
    held = refractory > 0
    y = v * p.scale_v + u_new + p.bias_eff
    if saturate_v:
        y_clipped = np.clip(y, -(big - 1), big - 1)
    else:
        y_clipped = y
    spikes = (y_clipped > p.vth_eff) & ~held
    v_new = np.where(held | spikes, 0.0, y_clipped)
    refr_new = np.where(held, refractory - 1, np.where(spikes, p.refractory_steps, 0))
    u_out = (u_new > big) | (u_new <= -big)
    v_out = ((y > big - 1) | (y < -(big - 1))) & ~held
    return StepResult(u_new, v_new, refr_new, spikes, u_out, v_out, np.zeros_like(u_out),
                      bool(u_out.any() or v_out.any()))


# ----------------------------------------------------------------------------- synapses

@dataclass(frozen=True)
class SynapseGroup:
    """Projections that share source, ``weight_exp``, ``num_weight_bits`` and sign mode and can be
    summed into one matrix without changing any result (disjoint synapses, and disjoint target
    rows when the exponent shifts right, because flooring does not distribute over a sum).

    Attributes
    ----------
    source : str
        ``"input"`` or ``"recurrent"``.
    names : tuple of str
        The projections merged here.
    rows, cols : ndarray of int64
        Target neurons / source channels with at least one synapse.
    w : ndarray of int64, shape (len(rows), len(cols))
        The weight mantissas on that support.
    weight_exp, num_weight_bits : int
    sign_mode : str
    """

    source: str
    names: tuple[str, ...]
    rows: np.ndarray
    cols: np.ndarray
    w: np.ndarray
    weight_exp: int
    num_weight_bits: int
    sign_mode: str

    def dense(self, n_post: int, n_pre: int) -> np.ndarray:
        """The full (n_post, n_pre) int64 matrix."""
        out = np.zeros((n_post, n_pre), np.int64)
        out[np.ix_(self.rows, self.cols)] = self.w
        return out

    def matmul_operand(self) -> np.ndarray:
        """``w.T`` in the narrowest float type in which the spike sums are exact."""
        row_abs = np.abs(self.w).sum(axis=1).max(initial=0)
        dtype = np.float32 if row_abs < _FLOAT32_EXACT else np.float64
        return np.ascontiguousarray(self.w.T, dtype=dtype)

    def shift(self, acc: np.ndarray) -> np.ndarray:
        """Dense's arithmetic shift of an integer accumulator by ``weight_exp``."""
        return acc << self.weight_exp if self.weight_exp > 0 else acc >> -self.weight_exp


def _support(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    nz = w != 0
    return np.flatnonzero(nz.any(axis=1)), np.flatnonzero(nz.any(axis=0))


def group_projections(projections: Sequence, merge: bool = True) -> tuple[SynapseGroup, ...]:
    """Drop empty projections and merge those that can share one matrix (see :class:`SynapseGroup`).

    The result computes exactly what the projections compute one by one (Lava Dense semantics).
    """
    pending: list[tuple[tuple, list[str], np.ndarray]] = []
    for proj in projections:
        w = np.asarray(proj.w_post_pre, np.int64)
        if not w.any():
            continue
        key = (proj.source, int(proj.weight_exp), int(proj.num_weight_bits), proj.sign_mode)
        for entry in pending if merge else ():
            ekey, names, ew = entry
            if ekey != key or ew.shape != w.shape or ((ew != 0) & (w != 0)).any():
                continue
            if key[1] < 0 and ((ew != 0).any(axis=1) & (w != 0).any(axis=1)).any():
                continue
            entry[2] = ew + w
            names.append(proj.name)
            break
        else:
            pending.append([key, [proj.name], w])
    groups = []
    for (source, exp, nwb, sign), names, w in pending:
        rows, cols = _support(w)
        groups.append(SynapseGroup(source=source, names=tuple(names), rows=rows, cols=cols,
                                   w=w[np.ix_(rows, cols)], weight_exp=exp, num_weight_bits=nwb,
                                   sign_mode=sign))
    return tuple(groups)


def _as_slice(idx: np.ndarray):
    """``slice`` for a contiguous ascending index array, else the array itself."""
    if len(idx) and idx[-1] - idx[0] + 1 == len(idx):
        return slice(int(idx[0]), int(idx[-1]) + 1)
    return idx


class SynapseOp:
    """A :class:`SynapseGroup` ready for repeated products with spike batches."""

    __slots__ = ("group", "rows", "cols", "wt", "_wt64", "_wt_int", "full_cols", "full_rows")

    def __init__(self, group: SynapseGroup, n_post: int, n_pre: int) -> None:
        self.group = group
        self.wt = group.matmul_operand()
        self._wt64: np.ndarray | None = None
        self._wt_int: np.ndarray | None = None
        # contiguous supports (populations are blocks) index as slices: views, no fancy indexing
        self.rows = _as_slice(group.rows)
        self.cols = _as_slice(group.cols)
        self.full_cols = len(group.cols) == n_pre
        self.full_rows = len(group.rows) == n_post

    def _product(self, s: np.ndarray, wt: np.ndarray) -> np.ndarray:
        sub = s if self.full_cols else s[..., self.cols]
        lead = sub.shape[:-1]
        # one 2-D GEMM over all leading dims (samples x steps) instead of a stack of small ones
        flat = sub.reshape(-1, sub.shape[-1]).astype(wt.dtype, copy=False)
        return (flat @ wt).reshape(*lead, wt.shape[1])

    def accumulate(self, s: np.ndarray) -> np.ndarray:
        """Integer input ``shift(W @ s)`` on ``rows`` for spikes ``s`` of shape (..., n_pre)."""
        if s.ndim == 2 and s.shape[0] == 1:
            # one sample: summing the rows of the active sources beats a tiny GEMM call
            if self._wt_int is None:
                self._wt_int = np.ascontiguousarray(self.group.w.T)
            sub = s[0] if self.full_cols else s[0, self.cols]
            acc = self._wt_int[np.flatnonzero(sub)].sum(axis=0, keepdims=True)
            return self.group.shift(acc)
        return self.group.shift(self._product(s, self.wt).astype(np.int64))

    def accumulate_float(self, s: np.ndarray) -> np.ndarray:
        """Float twin: ``W @ s * 2**weight_exp`` with no flooring."""
        if self._wt64 is None:
            self._wt64 = self.wt.astype(np.float64)
        return self._product(s, self._wt64) * 2.0 ** self.group.weight_exp

    def add_into(self, a_in: np.ndarray, s: np.ndarray, float_twin: bool = False) -> None:
        """Add this group's contribution for spikes ``s`` into ``a_in`` (..., n_post) in place."""
        contrib = self.accumulate_float(s) if float_twin else self.accumulate(s)
        if self.full_rows:
            a_in += contrib
        else:
            a_in[..., self.rows] += contrib


class SynapseSet:
    """All synapse groups from one source, applied together.

    For a batch of one sample (the latency case) the active sources' rows of one concatenated
    integer matrix are gathered and summed once, then split per group for its shift: a handful
    of numpy calls per step instead of one GEMM call chain per group.
    """

    def __init__(self, ops: Sequence[SynapseOp], n_pre: int) -> None:
        self.ops = tuple(ops)
        self._n_pre = n_pre
        self._cat: np.ndarray | None = None
        self._bounds: list[tuple[int, int]] = []

    def _concat(self) -> np.ndarray:
        if self._cat is None:
            widths = [len(op.group.rows) for op in self.ops]
            cat = np.zeros((self._n_pre, sum(widths)), np.int64)
            start = 0
            for op, width in zip(self.ops, widths):
                cat[op.cols, start:start + width] = op.group.w.T
                self._bounds.append((start, start + width))
                start += width
            self._cat = cat
        return self._cat

    def add_into(self, a_in: np.ndarray, s: np.ndarray, float_twin: bool = False) -> None:
        """Add every group's contribution for spikes ``s`` (..., n_pre) into ``a_in`` in place."""
        if float_twin or not self.ops or s.ndim != 2 or s.shape[0] != 1:
            for op in self.ops:
                op.add_into(a_in, s, float_twin)
            return
        cat = self._concat()
        acc = cat[np.flatnonzero(s[0])].sum(axis=0)
        for op, (lo, hi) in zip(self.ops, self._bounds):
            contrib = op.group.shift(acc[lo:hi])
            if op.full_rows:
                a_in[0] += contrib
            else:
                a_in[0, op.rows] += contrib
