"""Time constants <-> 12-bit decays, with Lava's offsets.

The float model multiplies by ``alpha = exp(-dt / tau)`` each step; the fixed model by
``factor / 2**decay_bits`` with ``factor = 4096 - (du + 1)`` for ``u`` and ``4096 - dv``
for ``v``. Rounding: the factor is the multiple of 1/4096 nearest to ``alpha`` (round half
to even), i.e. ``du = rint(4096 (1 - alpha_u)) - 1`` and ``dv = rint(4096 (1 - alpha_v))``,
then clipped to ``[0, 4095]``. Two ends cannot be met:

* ``dv`` rounding to 0 means *no leak* (an integrator), and ``du`` below its floor (the +1
  offset) means the smallest leak, 1/4096 per step, is forced: tau too long for this dt;
* ``dv`` above 4095 would need a factor below 1/4096 (saturates), and ``du = 4095`` clears
  ``u`` every step: tau too short for this dt.

(The decay's multiply-and-shift truncates toward zero, ``sign(x d) (|x d| >> 12)``; that is
state rounding, handled by the golden model, not a parameter error.)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..fixedpoint import DU_OFFSET, DV_OFFSET, NumberFormat


@dataclass(frozen=True)
class DecayResult:
    """Integer decays of one variable and where they hit the ends of the range.

    Attributes
    ----------
    value : ndarray of int64
        ``du`` or ``dv`` per neuron.
    ideal : ndarray of float
        The unrounded decay (``4096 (1 - alpha) - offset``).
    too_long : ndarray of bool
        Leak lost (``dv == 0`` from a finite tau) or forced (``du`` clipped up to 0).
    too_short : ndarray of bool
        Decay at or beyond the largest value (the factor would be below 1/4096).
    """

    value: np.ndarray
    ideal: np.ndarray
    too_long: np.ndarray
    too_short: np.ndarray


def _quantize(tau: np.ndarray, dt: float, fmt: NumberFormat, offset: int) -> DecayResult:
    tau = np.asarray(tau, dtype=np.float64)
    unity = fmt.decay_unity
    leak = -np.expm1(-dt / tau)  # 1 - alpha, accurate for tau >> dt
    ideal = unity * leak - offset
    nearest = np.rint(unity * leak).astype(np.int64)  # 4096 - nearest = the factor nearest to alpha
    raw = nearest - offset
    too_long = nearest == 0  # dv: no leak at all; du: below the +1 floor, a leak is forced
    too_short = nearest >= unity  # the nearest factor is 0
    value = np.clip(raw, 0, fmt.decay_max)
    return DecayResult(value=value, ideal=ideal, too_long=too_long, too_short=too_short)


def quantize_dv(tau_m: np.ndarray, dt: float, fmt: NumberFormat) -> DecayResult:
    """Voltage decays ``dv`` for membrane time constants ``tau_m`` (seconds)."""
    return _quantize(tau_m, dt, fmt, DV_OFFSET)


def quantize_du(tau_syn: np.ndarray, dt: float, fmt: NumberFormat) -> DecayResult:
    """Current decays ``du`` for synaptic time constants ``tau_syn`` (seconds)."""
    return _quantize(tau_syn, dt, fmt, DU_OFFSET)


def factor_v(dv: np.ndarray, fmt: NumberFormat) -> np.ndarray:
    """Multiplier of ``v`` per step, as a float in [0, 1]."""
    return (fmt.decay_unity - (np.asarray(dv, dtype=np.int64) + DV_OFFSET)) / fmt.decay_unity


def factor_u(du: np.ndarray, fmt: NumberFormat) -> np.ndarray:
    """Multiplier of ``u`` per step, as a float in [0, 1]."""
    return (fmt.decay_unity - (np.asarray(du, dtype=np.int64) + DU_OFFSET)) / fmt.decay_unity


def tau_of_factor(factor: np.ndarray, dt: float) -> np.ndarray:
    """Effective time constant ``-dt / ln(factor)``: inf for 1 (no leak), 0 for 0 (cleared)."""
    factor = np.asarray(factor, dtype=np.float64)
    with np.errstate(divide="ignore"):
        out = -dt / np.log(np.where(factor > 0, factor, 1.0))
    out = np.where(factor >= 1.0, np.inf, out)
    return np.where(factor <= 0.0, 0.0, out)


def tau_range(dt: float, fmt: NumberFormat, variable: str) -> tuple[float, float]:
    """Shortest and longest time constant a decay can represent at step ``dt``.

    ``variable`` is ``"v"`` (``dv`` in 1..4095) or ``"u"`` (``du`` in 0..4095; 0 s stands for
    a current cleared every step).
    """
    unity = fmt.decay_unity
    longest = float(-dt / np.log((unity - 1) / unity))
    shortest = float(dt / np.log(unity)) if variable == "v" else 0.0
    return shortest, longest
