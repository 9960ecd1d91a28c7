"""The fixed-point step: the one executable definition of the arithmetic.

Lava 0.10's bit-accurate LIF (``lava/proc/lif/models.py``, ``AbstractPyLifModelFixed``)
and Dense (``lava/proc/dense/models.py``, ``PyDenseModelBitAcc``), extended with per-neuron
``du``/``dv``/``vth``/bias and a refractory counter. The golden simulator and the Lava
``HeteroLIF`` process models both run :func:`step_inplace` (the models through the functional
wrapper :func:`lif_step`); the float twin is :func:`lif_step_float`.

One step, for any leading batch shape ``(..., N)``::

    u <- decay(u, 2**D - (du + 1)) + (a_in << u_shift)    D = decay_bits; Lava's ds_offset = 1
    u wraps once: u > M -> u - 2M;  u <= -M -> u + 2M      M = 2**(state_bits - 1)
    refractory (counter > 0): v <- 0, counter -= 1, no spike
    else: v <- clip(decay(v, 2**D - dv) + u + bias, -(M-1), M-1)
          spike where v > vth << vth_shift; v <- 0 and counter <- refractory_steps there
    decay(x, m) = sign(x*m) * (|x*m| >> D)                 (rounds toward zero, 64-bit product)

Synaptic input (Lava Dense, fixed point): ``a_in = sum_p shift(W_p @ s_p, weight_exp_p)``,
an arithmetic shift (floor for negative exponents) of each projection's integer sum, from the
spikes of the previous step (one step of delay per projection); see :mod:`.synapses`.

Lava wraps u with one conditional add, which is a true 24-bit wrap only while the shifted
input alone stays inside the state range; larger inputs are counted as
``u_input_overflow`` (the value then follows Lava, not any hardware).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..fixedpoint import DU_OFFSET, DV_OFFSET, NumberFormat


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

    @property
    def has_refractory(self) -> bool:
        return self._has_refractory

    def __post_init__(self) -> None:
        object.__setattr__(self, "_has_refractory", bool(np.any(self.refractory_steps)))
        # decay multipliers as exact float scales m / 2**D (see _trunc_mul)
        object.__setattr__(self, "scale_u", self.decay_u * 2.0 ** -self.decay_shift)
        object.__setattr__(self, "scale_v", self.decay_v * 2.0 ** -self.decay_shift)
        # the same integers as float64 (exact), for steps run in the float representation
        object.__setattr__(self, "bias_f", self.bias_eff.astype(np.float64))
        object.__setattr__(self, "vth_f", self.vth_eff.astype(np.float64))
        object.__setattr__(self, "refractory_f", self.refractory_steps.astype(np.float64))
        # (2, 1, N): both decays in one multiply of the stacked (u, v) state
        object.__setattr__(self, "scales", np.stack([self.scale_u, self.scale_v])[:, None, :])

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


def _trunc_mul(x: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``x * scale`` rounded toward zero, in ``x``'s kind (int64 for integers, float64 for floats).

    ``scale = m / 2**D`` is exact in float64 (m < 2**13), and so is ``x * scale`` as long as
    ``|x * m| < 2**53``: states are at most 32-bit (Lava stores them in int32) and m <= 2**12,
    so the product has at most 44 significant bits. Float multiply + trunc is therefore the
    same integer as the 64-bit integer product shifted toward zero, in fewer numpy calls.
    """
    t = np.multiply(x, scale)
    np.trunc(t, out=t)
    return t if x.dtype.kind == "f" else t.astype(np.int64)


def decay(x: np.ndarray, multiplier: np.ndarray, shift: int) -> np.ndarray:
    """``sign(x*m) * (|x*m| >> shift)``: Lava's decay, rounding toward zero (see :func:`_trunc_mul`)."""
    return _trunc_mul(x, np.asarray(multiplier, np.float64) * 2.0 ** -shift)


_NO_EVENT: dict[tuple, np.ndarray] = {}


def _no_event(shape: tuple) -> np.ndarray:
    """A shared read-only all-False mask (no allocation per step when nothing overflowed)."""
    mask = _NO_EVENT.get(shape)
    if mask is None:
        if len(_NO_EVENT) > 64:
            _NO_EVENT.clear()
        mask = _NO_EVENT[shape] = np.zeros(shape, bool)
        mask.setflags(write=False)
    return mask


def is_no_event(mask: np.ndarray) -> bool:
    """True if ``mask`` is the shared all-False mask of :func:`lif_step` (nothing to count)."""
    return _NO_EVENT.get(mask.shape) is mask


def step_inplace(x: np.ndarray, refractory: np.ndarray, spikes: np.ndarray, a_shifted: np.ndarray,
                 p: NeuronParams, *, refractory_on: bool, u_can_wrap: bool = True):
    """One bit-accurate LIF step, in place: the one implementation of the arithmetic.

    Every value is an integer held in float64 (exact: all stay far below 2**53, the decay
    products included, see :func:`_trunc_mul`), so each line is one numpy call on the whole
    batch and nothing is allocated in the common case.

    Parameters
    ----------
    x : ndarray of float64, shape (2, ..., N)
        ``x[0]`` = u, ``x[1]`` = v; updated in place.
    refractory : ndarray of float64, shape (..., N)
        Steps each neuron is still held (> 0) -- values <= 0 mean free; updated in place
        (counts down past 0: compare with ``> 0``).
    spikes : ndarray of bool, shape (..., N)
        Written with this step's spikes.
    a_shifted : ndarray of float64, shape (..., N)
        Synaptic input of this step, ``a_in << u_shift``.
    p : NeuronParams
    refractory_on : bool
        Some neuron may be held (``p.has_refractory`` or a counter > 0): otherwise the
        refractory bookkeeping is skipped.
    u_can_wrap : bool
        False when the caller has proven ``|u| < 2**(state_bits-1)`` for every input it can give.

    Returns
    -------
    (u_wrapped, v_clipped, u_input_overflow) : ndarray of bool or None each
        Masks of this step's overflow events, ``None`` where there was none.
    """
    big = float(p.wrap_limit)
    vmax = big - 1.0
    scales = p.scales if x.ndim == 3 else p.scales.reshape((2,) + (1,) * (x.ndim - 2) + (-1,))
    np.multiply(x, scales, out=x)    # u * (2**D - du - 1) / 2**D and v * (2**D - dv) / 2**D
    np.trunc(x, out=x)               # ... rounded toward zero: Lava's sign(p) (|p| >> D)
    u, v = x[0], x[1]
    u += a_shifted
    u_wrapped = u_overflow = None
    if u_can_wrap and u.size and (u.max() > big or u.min() <= -big):
        over = u > big
        under = u <= -big
        u_wrapped = over | under
        # Lava wraps with one conditional add/subtract, not a modulo
        u -= over * (2.0 * big)
        u += under * (2.0 * big)
        u_overflow = (u > big) | (u <= -big)
        if not u_overflow.any():
            u_overflow = None
    v += u
    v += p.bias_f
    if refractory_on:
        # held neurons: v <- 0 (so nothing clips and, as thresholds are >= 0, nothing spikes)
        np.multiply(v, refractory <= 0, out=v)
    v_clipped = None
    if v.size and (v.max() > vmax or v.min() < -vmax):
        v_clipped = np.abs(v) > vmax
        np.clip(v, -vmax, vmax, out=v)
    np.greater(v, p.vth_f, out=spikes)
    np.copyto(v, 0.0, where=spikes)
    if refractory_on:
        # held neurons count down, spiking ones load their period
        refractory -= 1.0
        np.copyto(refractory, p.refractory_f, where=spikes)
    return u_wrapped, v_clipped, u_overflow


def lif_step(u: np.ndarray, v: np.ndarray, refractory: np.ndarray, a_in: np.ndarray,
             p: NeuronParams, *, input_shifted: bool = False) -> StepResult:
    """One bit-accurate LIF step (see the module docstring); inputs are not modified.

    A functional wrapper of :func:`step_inplace` for any integer or float representation
    of the state (Lava's process models pass int arrays). Results have the dtype of ``u``
    (``refractory`` keeps its own).

    Parameters
    ----------
    u, v, refractory : ndarray, shape (..., N)
        State before the step (``refractory``: non-negative integer counts).
    a_in : ndarray, shape (..., N)
        Synaptic input of this step (already shifted by each projection's ``weight_exp``).
    p : NeuronParams
        Per-neuron constants.
    input_shifted : bool
        ``a_in`` is already ``a_in << u_shift``.
    """
    shape = np.broadcast_shapes(np.shape(u), np.shape(v), np.shape(refractory), np.shape(a_in))
    x = np.empty((2, *shape))
    x[0] = u
    x[1] = v
    r = np.array(np.broadcast_to(refractory, shape), np.float64)
    spikes = np.zeros(shape, bool)
    a = np.asarray(a_in, np.float64) if input_shifted else np.asarray(a_in, np.float64) * float(1 << p.u_shift)
    refractory_on = p.has_refractory or bool((r > 0).any())
    wrapped, clipped, overflow = step_inplace(x, r, spikes, np.broadcast_to(a, shape), p,
                                              refractory_on=refractory_on)
    dtype = np.asarray(u).dtype if np.asarray(u).dtype.kind in "if" else np.int64
    refr_dtype = np.asarray(refractory).dtype if np.asarray(refractory).dtype.kind in "iuf" else np.int64
    none = _no_event(shape)
    return StepResult(x[0].astype(dtype), x[1].astype(dtype), np.maximum(r, 0).astype(refr_dtype), spikes,
                      none if wrapped is None else wrapped, none if clipped is None else clipped,
                      none if overflow is None else overflow,
                      wrapped is not None or clipped is not None)


def lif_step_float(u: np.ndarray, v: np.ndarray, refractory: np.ndarray, a_in: np.ndarray,
                   p: NeuronParams, saturate_v: bool = False) -> StepResult:
    """The float twin of :func:`lif_step`: same integer-domain constants, no rounding or wrap.

    ``a_in`` is the float synaptic input (weights times ``2**weight_exp``, no floor).
    The overflow masks report where the integer model *would* wrap or clip. With
    ``saturate_v`` the twin clips ``v`` to the same 24-bit rails as the integer model
    (saturation is defined behaviour of the hardware, not rounding), so that comparing the
    two isolates rounding error.
    """
    big = float(p.wrap_limit)
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
