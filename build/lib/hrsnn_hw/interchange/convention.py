"""How the hrsnn_hw neuron maps onto NIR's ``CubaLIF``: the formulas both directions share.

hrsnn_hw computes, per step of length ``dt`` (see :mod:`hrsnn_hw.spec.model`)::

    u[t] = alpha_u u[t-1] + W_in x[t-1] + W_rec s[t-1]              alpha_u = exp(-dt/tau_syn)
    v[t] = alpha_v v[t-1] + (1 - alpha_v) (u[t] + bias)             alpha_v = exp(-dt/tau_m)
    v[t] > v_th -> spike, v <- 0, held at 0 for round(refractory/dt) steps

i.e. ``tau_m dv/dt = -v + u + bias`` with ``u`` held over each step (zero-order hold).
NIR's ``CubaLIF`` is the continuous-time system::

    tau_syn dI/dt = -I + w_in * S          (S: the output of the Linear node feeding it)
    tau_mem dv/dt = (v_leak - v) + r * I
    v > v_threshold -> spike, v <- v_reset

so ``r = 1`` and ``v_leak = bias``: the membranes are the same equation. The simulators that
run NIR graphs in steps (snnTorch, lava-dl, Norse, Rockpool) read a spike as the value 1
during one step and integrate with forward Euler::

    I[t] = (1 - dt/tau_syn) I[t-1] + (dt/tau_syn) w_in S[t]
    v[t] = (1 - dt/tau_mem) v[t-1] + (dt/tau_mem) (v_leak + r I[t])

so with ``w_in = tau_syn/dt`` one spike of weight ``W`` raises ``I`` by exactly ``W`` (``I``
is ``u``, in volts, and the Linear weights are our weights, unchanged), and under the
``"euler"`` convention below ``dt/tau_mem = 1 - alpha_v``, which makes the Euler membrane
step identical to ours.

The time constants follow one of two conventions (``decay``):

``"exact"`` (default)
    ``tau_syn``, ``tau_mem`` are our time constants. Our exponential decay is the exact
    solution of the leak term, so a simulator that integrates the ODE exactly reproduces
    our decays; a forward-Euler simulator decays by ``1 - dt/tau`` instead of
    ``exp(-dt/tau)``, a difference of order ``(dt/tau)^2`` (large when ``tau`` is a few
    ``dt``: 0.5 against 0.61 at ``tau = 2 dt``).
``"euler"``
    ``tau = dt / (1 - exp(-dt/tau_ours))``, so that a forward-Euler simulator's
    ``1 - dt/tau`` equals our ``alpha`` (to rounding): pick this for snnTorch or lava-dl.

What the mapping does not carry (it is in the metadata, used by :func:`from_nir`, and
ignored by other tools): the refractory period (CubaLIF has none); the one-step delay of
every projection (NIR edges are instantaneous; a stepped simulator delays the recurrent
loop by one step but not the input path, so there the input arrives one step earlier);
the population names and Dale signs, the synapse lists and STDP rules (a frozen network is
exported: plasticity has no NIR primitive and is dropped).
"""
from __future__ import annotations

import numpy as np

from ..errors import SpecError

NIR_FORMAT = "hrsnn_hw.nir"
NIR_VERSION = 1
DECAYS = ("exact", "euler")
# hrsnn_hw delivers every projection's input one step after the presynaptic spike.
DELAY_STEPS = 1
# Exact per-neuron values kept in the CubaLIF node's metadata for a bit-exact re-import.
NEURON_META = ("tau_m", "tau_syn", "v_th", "bias", "refractory")
# A foreign gain within this many ulps of 1 is rounding, not a real scale.
UNIT_GAIN_ULPS = 4


def check_decay(decay: str) -> str:
    """Return ``decay`` if it names a convention, else raise :class:`SpecError`."""
    if decay not in DECAYS:
        raise SpecError("unknown time-constant convention", parameter="decay", value=decay,
                        allowed=f"one of {list(DECAYS)}",
                        hint="'exact' for ODE-exact simulators, 'euler' for snnTorch / lava-dl")
    return decay


def tau_to_nir(tau: np.ndarray, dt: float, decay: str) -> np.ndarray:
    """Our time constants (s) as the NIR ``tau`` of convention ``decay``."""
    tau = np.asarray(tau, dtype=np.float64)
    if decay == "exact":
        return tau.copy()
    return dt / -np.expm1(-dt / tau)


def tau_from_nir(tau_nir: np.ndarray, dt: float, decay: str, parameter: str) -> np.ndarray:
    """NIR time constants as ours: the inverse of :func:`tau_to_nir`.

    Raises :class:`SpecError` for a non-positive time constant, or under ``"euler"`` for
    one at or below ``dt`` (its Euler decay ``1 - dt/tau`` is not in (0, 1)).
    """
    tau_nir = np.asarray(tau_nir, dtype=np.float64)
    bad = ~(np.isfinite(tau_nir) & (tau_nir > 0))
    if bad.any():
        i = int(np.argmax(bad))
        raise SpecError("time constant must be positive and finite", parameter=parameter, index=i,
                        value=float(tau_nir[i]), allowed="(0, inf)")
    if decay == "exact":
        return tau_nir.copy()
    bad = tau_nir <= dt
    if bad.any():
        i = int(np.argmax(bad))
        raise SpecError("a forward-Euler time constant must exceed dt", parameter=parameter, index=i,
                        value=float(tau_nir[i]), allowed=f"({dt:g}, inf)",
                        hint="import with decay='exact', or check dt")
    return -dt / np.log1p(-dt / tau_nir)


def current_gain(tau_nir: np.ndarray, dt: float) -> np.ndarray:
    """The ``w_in`` (for ``tau_syn``) that makes one spike of weight W raise ``I`` by W."""
    return np.asarray(tau_nir, dtype=np.float64) / dt


def membrane_r(tau_mem_nir: np.ndarray) -> np.ndarray:
    """CubaLIF's ``r``: 1, since our membrane is ``tau_m dv/dt = -v + u + bias``."""
    return np.ones_like(np.asarray(tau_mem_nir, dtype=np.float64))


def v_leak_from_bias(bias: np.ndarray, tau_mem_nir: np.ndarray, dt: float) -> np.ndarray:
    """``v_leak``: our bias is the membrane's resting drive, so they are equal."""
    return np.asarray(bias, dtype=np.float64).copy()


def bias_from_v_leak(v_leak: np.ndarray, tau_mem_nir: np.ndarray, dt: float) -> np.ndarray:
    """Inverse of :func:`v_leak_from_bias`."""
    return np.asarray(v_leak, dtype=np.float64).copy()


def is_unit(gain: np.ndarray) -> bool:
    """True if every element of ``gain`` is 1 up to a few ulps of rounding."""
    return bool(np.all(np.abs(np.asarray(gain) - 1.0) <= UNIT_GAIN_ULPS * np.finfo(np.float64).eps))
