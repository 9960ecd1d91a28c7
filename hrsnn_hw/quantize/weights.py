"""Weights (volts) -> integer mantissas with one exponent per projection.

One spike through a synapse adds ``w / v_scale`` integer units to ``u``; the hardware adds
``shift(w_mant, weight_exp) << u_shift``. Mantissas live in Lava's Dense weight register
(``register_bits`` = the profile's ``weight_bits``, 8): excitatory ``0..255``, inhibitory
``-255..0``, mixed ``-256..255``. With ``bits`` effective bits the low
``register_bits - bits`` bits (one more when mixed: Lava's lost bit) are zero, so that Lava's
truncation of those bits (``num_weight_bits``) is a no-op and ``w_mant`` can be handed to
Dense as it is. The exponent is the smallest in the profile's range at which the largest
weight does not overflow, so the largest weight uses the top half of the mantissa range.

A negative exponent shifts the *summed* input right (flooring): one spike alone delivers
``floor(w_mant / 2**-weight_exp)``. Errors and de-quantized weights use that single-spike
value.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..fixedpoint import SIGN_MODES, NumberFormat, lava_effective_weights, truncation_bits

@dataclass(frozen=True)
class WeightResult:
    """Quantized weights of one projection, per synapse.

    Attributes
    ----------
    mantissa : ndarray of int64
        Register values (multiples of ``step``).
    weight_exp : int
        Shared exponent.
    effective : ndarray of float
        Volts one spike adds to ``u`` (the single-spike value, see module docstring).
    step : int
        Spacing of representable mantissas (``2**(register_bits - bits + mixed)``).
    max_mantissa : int
        Largest representable mantissa magnitude.
    saturated : ndarray of bool
        Synapses clipped to ``max_mantissa``.
    zeroed : ndarray of bool
        Nonzero weights whose single spike delivers nothing (lost synapses).
    """

    mantissa: np.ndarray
    weight_exp: int
    effective: np.ndarray
    step: int
    max_mantissa: int
    saturated: np.ndarray
    zeroed: np.ndarray

    @property
    def bits_used(self) -> int:
        """Bits of the largest mantissa in units of ``step`` (the effective bits actually used)."""
        top = int(np.abs(self.mantissa).max()) // self.step if self.mantissa.size else 0
        return int(top).bit_length()


def register_layout(fmt: NumberFormat, bits: int, sign_mode: str) -> tuple[int, int, int]:
    """(step, largest magnitude, truncated low bits) of the weight register for ``bits`` bits."""
    truncated = truncation_bits(sign_mode, bits, fmt)
    step = 1 << truncated
    max_mag = (((1 << fmt.weight_bits) - 1) // step) * step
    return step, max_mag, truncated


def single_spike_units(mantissa: np.ndarray, weight_exp: int) -> np.ndarray:
    """Integer units (before ``<< u_shift``) one spike delivers: ``mantissa`` shifted by ``weight_exp``."""
    m = np.asarray(mantissa, dtype=np.int64)
    return np.left_shift(m, weight_exp) if weight_exp >= 0 else np.right_shift(m, -weight_exp)


def lava_truncation_is_noop(mantissa: np.ndarray, fmt: NumberFormat, bits: int, sign_mode: str) -> bool:
    """True if Lava's Dense (clip to the register, drop the low bits) leaves ``mantissa`` unchanged."""
    m = np.asarray(mantissa, dtype=np.int64)
    return bool(np.array_equal(lava_effective_weights(m, sign_mode, bits, fmt), m))


def choose_weight_exp(max_abs_units: float, fmt: NumberFormat, step: int, max_mag: int) -> tuple[int, bool]:
    """Smallest exponent in the profile's range at which the largest weight does not overflow.

    ``max_abs_units`` is the largest ``|w| / (v_scale 2**u_shift)``. Returns the exponent and
    whether even the largest exponent overflows (the weights saturate).
    """
    if max_abs_units <= 0:
        return 0, False
    for e in range(fmt.weight_exp_min, fmt.weight_exp_max + 1):
        if step * np.rint(max_abs_units / 2.0 ** e / step) <= max_mag:
            return e, False
    return fmt.weight_exp_max, True


def quantize_weights(weight: np.ndarray, sign_mode: str, v_scale: float, fmt: NumberFormat,
                     bits: int) -> WeightResult:
    """Quantize one projection's weights (volts, one per synapse).

    Parameters
    ----------
    weight : ndarray, shape (n_synapses,)
        Signed weights in volts.
    sign_mode : str
        ``"excitatory"``, ``"inhibitory"`` or ``"mixed"``.
    v_scale : float
        Volts per integer unit of ``u``.
    fmt : NumberFormat
        Target formats.
    bits : int
        Effective mantissa bits (1 .. ``fmt.weight_bits``).
    """
    if sign_mode not in SIGN_MODES:
        raise ValueError(f"sign_mode must be one of {SIGN_MODES}, got {sign_mode!r}")
    w = np.asarray(weight, dtype=np.float64)
    step, max_mag, _ = register_layout(fmt, bits, sign_mode)
    units = w / (v_scale * 2.0 ** fmt.u_shift)
    top = float(np.abs(units).max()) if units.size else 0.0
    weight_exp, _ = choose_weight_exp(top, fmt, step, max_mag)
    raw = step * np.rint(units / 2.0 ** weight_exp / step)
    saturated = np.abs(raw) > max_mag
    mantissa = np.clip(raw, -max_mag, max_mag).astype(np.int64)
    if not lava_truncation_is_noop(mantissa, fmt, bits, sign_mode):
        raise RuntimeError("internal error: weight mantissas are not invariant under Lava's truncation")
    spike_units = single_spike_units(mantissa, weight_exp)
    effective = spike_units * (2.0 ** fmt.u_shift) * v_scale
    zeroed = (w != 0) & (spike_units == 0)
    return WeightResult(mantissa=mantissa, weight_exp=int(weight_exp), effective=effective, step=step,
                        max_mantissa=max_mag, saturated=saturated, zeroed=zeroed)
