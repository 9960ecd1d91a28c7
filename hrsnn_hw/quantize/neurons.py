"""Thresholds, biases and refractory periods -> integers (decays are in :mod:`.decays`)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..fixedpoint import NumberFormat


@dataclass(frozen=True)
class IntResult:
    """Integers of one per-neuron parameter and the problems met.

    Attributes
    ----------
    value : ndarray of int64
        The integers (mantissas or steps).
    exponent : ndarray of int64 or None
        Per-neuron exponent where the format has one (bias).
    effective : ndarray of float
        The value the integers stand for, in the parameter's SI unit.
    saturated : ndarray of bool
        Clipped at the largest magnitude.
    zeroed : ndarray of bool
        A nonzero value that became zero (for thresholds: fell below one unit and was raised to 1).
    """

    value: np.ndarray
    exponent: np.ndarray | None
    effective: np.ndarray
    saturated: np.ndarray
    zeroed: np.ndarray


def quantize_vth(v_th: np.ndarray, v_scale: float, fmt: NumberFormat) -> IntResult:
    """Threshold mantissas: ``v_th = vth * 2**vth_shift * v_scale``, rounded, in ``[1, vth_max]``.

    A mantissa of 0 would fire at any positive ``v``: it is raised to 1 and flagged.
    """
    unit = v_scale * 2.0 ** fmt.vth_shift
    raw = np.rint(np.asarray(v_th, dtype=np.float64) / unit)
    saturated = raw > fmt.vth_max
    zeroed = raw < 1
    value = np.clip(raw, 1, fmt.vth_max).astype(np.int64)
    return IntResult(value=value, exponent=None, effective=value * unit, saturated=saturated, zeroed=zeroed)


def quantize_bias(bias: np.ndarray, v_scale: float, fmt: NumberFormat) -> IntResult:
    """Bias mantissa and exponent per neuron: ``bias = bias_mant * 2**bias_exp * v_scale``.

    The exponent is the smallest in ``[0, bias_exp_max]`` at which the rounded mantissa fits
    its signed field, which keeps the most precision.
    """
    units = np.asarray(bias, dtype=np.float64) / v_scale
    n = units.size
    exponent = np.full(n, -1, dtype=np.int64)
    for e in range(fmt.bias_exp_max + 1):
        m = np.rint(units / 2.0 ** e)
        fits = (m >= fmt.bias_mant_min) & (m <= fmt.bias_mant_max) & (exponent < 0)
        exponent[fits] = e
    saturated = exponent < 0
    exponent[saturated] = fmt.bias_exp_max
    raw = np.rint(units / 2.0 ** exponent)
    mantissa = np.clip(raw, fmt.bias_mant_min, fmt.bias_mant_max).astype(np.int64)
    effective = mantissa * 2.0 ** exponent * v_scale
    zeroed = (units != 0) & (mantissa == 0)
    return IntResult(value=mantissa, exponent=exponent, effective=effective, saturated=saturated, zeroed=zeroed)


def quantize_refractory(refractory: np.ndarray, dt: float, fmt: NumberFormat) -> IntResult:
    """Refractory steps ``rint(refractory / dt)`` in ``[0, refractory_max_steps]``."""
    r = np.asarray(refractory, dtype=np.float64)
    raw = np.rint(r / dt)
    top = fmt.refractory_max_steps or 0  # a profile that names no refractory counter has none
    saturated = raw > top
    value = np.clip(raw, 0, top).astype(np.int64)
    zeroed = (r > 0) & (value == 0)
    return IntResult(value=value, exponent=None, effective=value * dt, saturated=saturated, zeroed=zeroed)
