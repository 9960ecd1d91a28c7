"""Check that a QuantizedNetwork is exactly representable in the target's formats.

Lava's fixed-point Dense silently clips weights and truncates their low bits by sign
mode; stock LIF silently accepts out-of-range decays. The golden model refuses such a
network instead, naming the projection, the index and the value, so golden, Lava and
hardware all see the same numbers.
"""
from __future__ import annotations

import numpy as np

from ..errors import DataError, QuantizationError
from .formats import FixedFormat

SIGN_MODES = ("excitatory", "inhibitory", "mixed")


def weight_range(sign_mode: str, fmt: FixedFormat) -> tuple[int, int]:
    """Inclusive range Lava's Dense clips a weight matrix to, for a sign mode.

    Lava negates inhibitory matrices, clips to ``[0, 2**weight_bits - 1]`` and negates back;
    mixed matrices keep one extra value on the negative side.
    """
    top = (1 << fmt.weight_bits) - 1
    if sign_mode == "excitatory":
        return 0, top
    if sign_mode == "inhibitory":
        return -top, 0
    return -(1 << fmt.weight_bits), top


def truncation_bits(sign_mode: str, num_weight_bits: int, fmt: FixedFormat) -> int:
    """Low bits Lava's Dense zeroes (arithmetic shift right then left) for this projection."""
    return fmt.weight_bits - num_weight_bits + (1 if sign_mode == "mixed" else 0)


def lava_effective_weights(w: np.ndarray, sign_mode: str, num_weight_bits: int,
                           fmt: FixedFormat) -> np.ndarray:
    """What Lava's fixed-point Dense actually uses for ``w`` (clip, then truncate by sign mode)."""
    lo, hi = weight_range(sign_mode, fmt)
    k = truncation_bits(sign_mode, num_weight_bits, fmt)
    out = np.clip(np.asarray(w, np.int64), lo, hi)
    if sign_mode == "inhibitory":
        return -(((-out) >> k) << k)
    return (out >> k) << k


def _first_bad(mask: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(mask)[0])


def check_projection(proj, fmt: FixedFormat) -> None:
    """Raise :class:`QuantizationError` unless Dense would use ``proj``'s weights unchanged."""
    where = f"projections.{proj.name}"
    if not fmt.weight_exp_min <= int(proj.weight_exp) <= fmt.weight_exp_max:
        raise QuantizationError("weight exponent out of range", parameter=f"{where}.weight_exp",
                                value=int(proj.weight_exp),
                                allowed=f"[{fmt.weight_exp_min}, {fmt.weight_exp_max}]",
                                hint="rescale the weight mantissas of this projection")
    if not 1 <= int(proj.num_weight_bits) <= fmt.weight_bits:
        raise QuantizationError("num_weight_bits out of range", parameter=f"{where}.num_weight_bits",
                                value=int(proj.num_weight_bits), allowed=f"[1, {fmt.weight_bits}]")
    w = np.asarray(proj.w_post_pre, np.int64)
    if w.size == 0:
        return
    lo, hi = weight_range(proj.sign_mode, fmt)
    outside = (w < lo) | (w > hi)
    if outside.any():
        post, pre = _first_bad(outside)
        raise QuantizationError(
            f"weight outside the {proj.sign_mode} range: Lava's Dense would clip it",
            parameter=f"{where}.w_post_pre[{post},{pre}]", value=int(w[post, pre]),
            allowed=f"[{lo}, {hi}]",
            hint="split the projection by sign or raise weight_exp" if proj.sign_mode != "mixed"
            else "raise weight_exp so the mantissas fit")
    changed = lava_effective_weights(w, proj.sign_mode, int(proj.num_weight_bits), fmt) != w
    if changed.any():
        post, pre = _first_bad(changed)
        k = truncation_bits(proj.sign_mode, int(proj.num_weight_bits), fmt)
        raise QuantizationError(
            f"weight not a multiple of 2**{k}: Lava's Dense ({proj.sign_mode}, "
            f"num_weight_bits={int(proj.num_weight_bits)}) would silently truncate it to "
            f"{int(lava_effective_weights(w[post:post + 1, pre:pre + 1], proj.sign_mode, int(proj.num_weight_bits), fmt)[0, 0])}",
            parameter=f"{where}.w_post_pre[{post},{pre}]", value=int(w[post, pre]),
            allowed=f"multiples of {1 << k} in [{lo}, {hi}]",
            hint="mixed-sign projections lose their lowest bit in Lava: split by sign "
                 "(Dale's law) or quantize to even mantissas" if proj.sign_mode == "mixed"
            else "quantize to the projection's num_weight_bits")


def _check_range(qnet, name: str, lo: int, hi: int, hint: str | None = None) -> None:
    arr = np.asarray(getattr(qnet, name))
    bad = (arr < lo) | (arr > hi)
    if bad.any():
        i = int(np.argmax(bad))
        raise QuantizationError(f"{name} out of the representable range", parameter=name, index=i,
                                value=int(arr[i]), allowed=f"[{lo}, {hi}]", hint=hint)


def check_network(qnet, fmt: FixedFormat) -> None:
    """Raise :class:`QuantizationError` unless every integer of ``qnet`` is representable.

    Checks decays, threshold and bias mantissas/exponents, refractory steps and every
    projection (see :func:`check_projection`).
    """
    dmax = fmt.decay_unity - 1
    _check_range(qnet, "du", 0, dmax)
    _check_range(qnet, "dv", 0, dmax)
    _check_range(qnet, "vth", 0, (1 << fmt.vth_mant_bits) - 1)
    half = 1 << (fmt.bias_mant_bits - 1)
    _check_range(qnet, "bias_mant", -half, half - 1, hint="raise bias_exp and shrink the mantissa")
    _check_range(qnet, "bias_exp", 0, fmt.bias_exp_max)
    rmax = fmt.refractory_max_steps if fmt.refractory_max_steps is not None else np.iinfo(np.int32).max
    _check_range(qnet, "refractory_steps", 0, rmax)
    for proj in qnet.projections:
        if proj.sign_mode not in SIGN_MODES:
            raise QuantizationError("unknown sign mode", parameter=f"projections.{proj.name}.sign_mode",
                                    value=proj.sign_mode, allowed=str(SIGN_MODES))
        check_projection(proj, fmt)


def check_inputs(qnet, input_spikes, sample_lengths) -> tuple[np.ndarray, np.ndarray]:
    """Validate an input raster and sample lengths; return them as bool / int64 arrays."""
    x = np.asarray(input_spikes)
    if x.ndim != 3 or x.shape[2] != qnet.n_input:
        raise DataError("input_spikes must have shape (n_samples, n_steps, n_input)",
                        parameter="input_spikes", value=f"shape {x.shape}",
                        allowed=f"(B, T, {qnet.n_input})")
    if x.dtype != bool:
        if not np.isin(x, (0, 1)).all():
            raise DataError("input_spikes must be boolean (or 0/1)", parameter="input_spikes",
                            value=f"dtype {x.dtype}", allowed="{0, 1}")
        x = x.astype(bool)
    if sample_lengths is None:
        lengths = np.full(x.shape[0], x.shape[1], np.int64)
    else:
        lengths = np.asarray(sample_lengths)
        if lengths.shape != (x.shape[0],) or not np.issubdtype(lengths.dtype, np.integer):
            raise DataError("sample_lengths must be one integer per sample", parameter="sample_lengths",
                            value=f"shape {lengths.shape}, dtype {lengths.dtype}",
                            allowed=f"({x.shape[0]},) integers")
        lengths = lengths.astype(np.int64)
        bad = (lengths < 0) | (lengths > x.shape[1])
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError("sample length out of range", parameter="sample_lengths", index=i,
                            value=int(lengths[i]), allowed=f"[0, {x.shape[1]}]")
    return x, lengths
