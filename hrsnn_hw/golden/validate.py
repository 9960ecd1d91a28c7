"""Check that a QuantizedNetwork is exactly representable in the target's formats.

Lava's fixed-point Dense silently clips weights and truncates their low bits by sign
mode; stock LIF silently accepts out-of-range decays. The golden model refuses such a
network instead, naming the projection, the index and the value, so golden, Lava and
hardware all see the same numbers.
"""
from __future__ import annotations

import numpy as np

from ..errors import DataError, QuantizationError
from ..fixedpoint import SIGN_MODES, NumberFormat, lava_effective_weights, truncation_bits, weight_range


def check_projection(proj, fmt: NumberFormat) -> None:
    """Raise :class:`QuantizationError` unless Dense would use ``proj``'s weights unchanged (O(synapses))."""
    where = f"projections.{proj.name}"
    if not fmt.weight_exp_min <= int(proj.weight_exp) <= fmt.weight_exp_max:
        raise QuantizationError("weight exponent out of range", parameter=f"{where}.weight_exp",
                                value=int(proj.weight_exp),
                                allowed=f"[{fmt.weight_exp_min}, {fmt.weight_exp_max}]",
                                hint="rescale the weight mantissas of this projection")
    if not 1 <= int(proj.num_weight_bits) <= fmt.weight_bits:
        raise QuantizationError("num_weight_bits out of range", parameter=f"{where}.num_weight_bits",
                                value=int(proj.num_weight_bits), allowed=f"[1, {fmt.weight_bits}]")
    if not proj.n_synapses:
        return
    post, pre, w = proj.synapses()
    lo, hi = weight_range(proj.sign_mode, fmt)
    outside = (w < lo) | (w > hi)
    if outside.any():
        i = _first_in_matrix_order(outside, post, pre, proj.n_pre)
        raise QuantizationError(
            f"weight outside the {proj.sign_mode} range: Lava's Dense would clip it",
            parameter=f"{where}.w_post_pre[{post[i]},{pre[i]}]", value=int(w[i]),
            allowed=f"[{lo}, {hi}]",
            hint="split the projection by sign or raise weight_exp" if proj.sign_mode != "mixed"
            else "raise weight_exp so the mantissas fit")
    effective = lava_effective_weights(w, proj.sign_mode, int(proj.num_weight_bits), fmt)
    changed = effective != w
    if changed.any():
        i = _first_in_matrix_order(changed, post, pre, proj.n_pre)
        k = truncation_bits(proj.sign_mode, int(proj.num_weight_bits), fmt)
        raise QuantizationError(
            f"weight not a multiple of 2**{k}: Lava's Dense ({proj.sign_mode}, "
            f"num_weight_bits={int(proj.num_weight_bits)}) would silently truncate it to {int(effective[i])}",
            parameter=f"{where}.w_post_pre[{post[i]},{pre[i]}]", value=int(w[i]),
            allowed=f"multiples of {1 << k} in [{lo}, {hi}]",
            hint="mixed-sign projections lose their lowest bit in Lava: split by sign "
                 "(Dale's law) or quantize to even mantissas" if proj.sign_mode == "mixed"
            else "quantize to the projection's num_weight_bits")


def _first_in_matrix_order(mask: np.ndarray, post: np.ndarray, pre: np.ndarray, n_pre: int) -> int:
    """Index of the flagged synapse that comes first in row-major (post, pre) order."""
    bad = np.flatnonzero(mask)
    return int(bad[np.argmin(post[bad] * max(n_pre, 1) + pre[bad])])


def _check_range(qnet, name: str, lo: int, hi: int, hint: str | None = None) -> None:
    arr = np.asarray(getattr(qnet, name))
    bad = (arr < lo) | (arr > hi)
    if bad.any():
        i = int(np.argmax(bad))
        raise QuantizationError(f"{name} out of the representable range", parameter=name, index=i,
                                value=int(arr[i]), allowed=f"[{lo}, {hi}]", hint=hint)


def check_network(qnet, fmt: NumberFormat | None = None) -> None:
    """Raise :class:`QuantizationError` unless every integer of ``qnet`` is representable.

    Checks decays, threshold and bias mantissas/exponents, refractory steps and every
    projection (see :func:`check_projection`) against ``fmt`` (default: the network's own
    :attr:`~hrsnn_hw.fixedpoint.QuantizedNetwork.number_format`).
    """
    fmt = qnet.number_format if fmt is None else fmt
    dmax = fmt.decay_unity - 1
    _check_range(qnet, "du", 0, dmax)
    _check_range(qnet, "dv", 0, dmax)
    _check_range(qnet, "vth", 0, fmt.vth_mant_max)
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
    """Validate an input raster and sample lengths.

    ``input_spikes`` of dtype bool (or 0/1 values) are binary spikes; an integer dtype with other
    values carries graded-spike payloads (Loihi 2), allowed when the network's number format
    has ``spike_payload_bits`` and every payload fits that signed width.

    Returns
    -------
    x : ndarray, shape (B, T, n_input)
        bool for binary spikes, int64 for payloads.
    lengths : ndarray of int64, shape (B,)
    """
    x = np.asarray(input_spikes)
    if x.ndim != 3 or x.shape[2] != qnet.n_input:
        raise DataError("input_spikes must have shape (n_samples, n_steps, n_input)",
                        parameter="input_spikes", value=f"shape {x.shape}",
                        allowed=f"(B, T, {qnet.n_input})")
    if x.dtype != bool:
        binary = bool(np.isin(x, (0, 1)).all())
        if binary:
            x = x.astype(bool)
        elif np.issubdtype(x.dtype, np.integer):
            x = _check_payloads(x, qnet.number_format)
        else:
            raise DataError("input_spikes must be boolean (binary spikes) or integer (graded payloads)",
                            parameter="input_spikes", value=f"dtype {x.dtype}",
                            allowed="bool or {0, 1}; integers for graded spikes",
                            hint="round and cast a real-valued drive to an integer dtype for graded spikes")
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


def _check_payloads(x: np.ndarray, fmt: NumberFormat) -> np.ndarray:
    """Graded payloads as int64, or a :class:`DataError` naming the profile's limit."""
    if not fmt.spike_payload_bits:
        raise DataError("graded (integer) input spikes need a target with graded spikes",
                        parameter="input_spikes", value=f"integer payloads up to {int(np.abs(x).max())}",
                        allowed=f"binary spikes (bool or 0/1) on profile {fmt.profile or '?'!s}",
                        hint="quantize for a profile with number_format.spike_payload_bits (loihi2), "
                             "or binarise the input (e.g. x != 0)")
    lo, hi = fmt.payload_range
    x64 = x.astype(np.int64)
    bad = (x64 < lo) | (x64 > hi)
    if bad.any():
        b, t, m = (int(i) for i in np.argwhere(bad)[0])
        raise DataError("graded spike payload out of range", parameter=f"input_spikes[{b},{t},{m}]",
                        value=int(x64[b, t, m]), allowed=f"[{lo}, {hi}] ({fmt.spike_payload_bits}-bit signed, "
                                                           f"profile {fmt.profile or '?'})",
                        hint="rescale the drive to the payload width")
    return x64
