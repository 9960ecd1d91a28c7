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
    big = p.wrap_limit
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
