"""Random QuantizedNetworks and inputs for tests and benchmarks, with the edge cases that matter.

Until ``quantize()`` exists these build fixed-point networks directly. Every network they
return passes :func:`hrsnn_hw.golden.validate.check_network` (weights are exactly what
Lava's Dense will use). Also: :func:`stack_networks` puts independent networks side by side
as one block-diagonal network (to run many small cases in one Lava run) and
:func:`split_record` cuts a record of a stacked run back into per-network records.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from ..fixedpoint import NumberFormat, QuantizedNetwork, QuantizedProjection, truncation_bits, weight_range
from .compose import split_record, stack_inputs, stack_networks  # noqa: F401  (re-exported)

__all__ = ["EDGE_CASES", "default_format", "random_inputs", "random_qnet", "reference_like_qnet", "split_record",
           "stack_inputs", "stack_networks"]

EDGE_CASES = ("weight_limits", "decay_extremes", "u_wrap", "v_clip", "silent", "saturated",
              "empty_projection", "weight_exp_range", "refractory")


def default_format() -> NumberFormat:
    """The Loihi 2 profile's number format."""
    return NumberFormat.from_profile("loihi2")


def _weights(rng: np.random.Generator, shape: tuple[int, int], p: float, sign_mode: str,
             num_weight_bits: int, fmt: NumberFormat, limits: bool, scale: float) -> np.ndarray:
    """Random representable mantissas with connection probability ``p``."""
    lo, hi = weight_range(sign_mode, fmt)
    step = 1 << truncation_bits(sign_mode, num_weight_bits, fmt)
    # magnitudes drawn on the grid Lava keeps, then signed
    mag_hi = max(hi, -lo)
    mag = rng.integers(1, max(2, int(mag_hi * scale) // step + 1), size=shape) * step
    if sign_mode == "excitatory":
        w = np.minimum(mag, hi // step * step)
    elif sign_mode == "inhibitory":
        w = -np.minimum(mag, -lo // step * step)
    else:
        sign = rng.choice((-1, 1), size=shape)
        w = np.clip(sign * mag, -(-lo // step) * step, hi // step * step)
    w = np.where(rng.random(shape) < p, w, 0)
    if limits and w.size:
        flat = w.reshape(-1)
        k = min(flat.size, 4)
        idx = rng.choice(flat.size, size=k, replace=False)
        extremes = {"excitatory": (hi // step * step, 0), "inhibitory": (-(-lo // step) * step, 0),
                    "mixed": (-(-lo // step) * step, hi // step * step)}[sign_mode]
        for j, i in enumerate(idx):
            flat[i] = extremes[j % 2]
        w = flat.reshape(shape)
    return w.astype(np.int64)


def random_qnet(rng: np.random.Generator, n_neurons: int, n_input: int, *, homogeneous: bool = False,
                edge_cases: Iterable[str] = (), p_connect: float = 0.25, frac_exc: float = 0.8,
                mixed_projection: bool = True, fmt: NumberFormat | None = None,
                name: str = "random") -> QuantizedNetwork:
    """A random fixed-point network (Dale's law, optional mixed-sign input projection).

    Parameters
    ----------
    rng : numpy Generator
        Source of randomness (same seed, same network).
    n_neurons, n_input : int
        Sizes.
    homogeneous : bool
        One du, dv, vth for all neurons and no refractory period (what stock Lava LIF can run);
        biases stay per neuron.
    edge_cases : iterable of str
        Any of :data:`EDGE_CASES`: weights at their limits, decays 0 and 4095, forced u wrap,
        forced v clipping (both signs), silent and saturated neurons, an empty projection,
        weight exponents over the full range, refractory periods (ignored when homogeneous).
    p_connect : float
        Connection probability of each projection.
    frac_exc : float
        Fraction of excitatory neurons.
    mixed_projection : bool
        Add a mixed-sign input projection (even mantissas: Lava drops the lowest bit of mixed weights).
    fmt : NumberFormat, optional
        Number format (default: the loihi2 profile's).
    name : str
        Design name.
    """
    edges = set(edge_cases)
    unknown = edges - set(EDGE_CASES)
    if unknown:
        raise ValueError(f"unknown edge cases {sorted(unknown)}; known: {EDGE_CASES}")
    fmt = fmt or default_format()
    n, dmax = n_neurons, fmt.decay_unity - 1
    n_exc = int(round(frac_exc * n))
    exc = np.arange(n) < n_exc

    def per_neuron(draw):
        return np.full(n, draw(1)[0]) if homogeneous else draw(n)

    if "decay_extremes" in edges:
        du = per_neuron(lambda k: rng.choice((0, dmax), size=k))
        dv = per_neuron(lambda k: rng.choice((0, dmax), size=k))
    else:
        du = per_neuron(lambda k: rng.integers(0, dmax + 1, size=k))
        dv = per_neuron(lambda k: rng.integers(0, dmax // 4, size=k))
    vth = per_neuron(lambda k: rng.integers(100, 1000, size=k))
    bias_exp = rng.integers(0, min(3, fmt.bias_exp_max) + 1, size=n)
    bias_mant = np.where(rng.random(n) < 0.5, 0, rng.integers(-40, 41, size=n))
    refr = np.zeros(n, np.int64)
    if not homogeneous:
        refr = rng.integers(0, 3, size=n) if "refractory" not in edges else rng.integers(0, 7, size=n)
        refr = np.minimum(refr, fmt.refractory_max_steps or refr.max(initial=0))

    bias_half = 1 << (fmt.bias_mant_bits - 1)
    vth_max = (1 << fmt.vth_mant_bits) - 1
    special = rng.permutation(n)
    cursor = 0

    def take(k: int) -> np.ndarray:
        nonlocal cursor
        idx = special[cursor:cursor + k]
        cursor += len(idx)
        return idx

    if "silent" in edges:
        i = take(max(1, n // 10))
        bias_mant[i], bias_exp[i] = -bias_half, fmt.bias_exp_max
        if not homogeneous:
            vth[i] = vth_max
    if "saturated" in edges:
        i = take(max(1, n // 10))
        bias_mant[i], bias_exp[i] = bias_half - 1, fmt.bias_exp_max
        if not homogeneous:
            vth[i] = 0
    if "v_clip" in edges:
        up, down = take(max(1, n // 10)), take(max(1, n // 10))
        bias_mant[up], bias_exp[up] = bias_half - 1, fmt.bias_exp_max
        bias_mant[down], bias_exp[down] = -bias_half, fmt.bias_exp_max
        if not homogeneous:
            vth[up] = vth_max
            dv[np.concatenate([up, down])] = 0

    def exp_draw() -> int:
        if "weight_exp_range" in edges:
            return int(rng.integers(fmt.weight_exp_min, fmt.weight_exp_max + 1))
        return int(rng.integers(-2, 3))

    def nwb_draw() -> int:
        return int(fmt.weight_bits if "weight_limits" in edges or rng.random() < 0.5
                   else rng.integers(fmt.weight_bits - 3, fmt.weight_bits + 1))

    limits = "weight_limits" in edges
    projections = []

    def add(pname: str, source: str, rows: np.ndarray, n_cols: int, cols: np.ndarray, sign: str,
            scale: float = 0.5, p: float | None = None, exp: int | None = None) -> None:
        nwb = nwb_draw()
        w = np.zeros((n, n_cols), np.int64)
        if len(rows) and len(cols):
            w[np.ix_(rows, cols)] = _weights(rng, (len(rows), len(cols)), p_connect if p is None else p,
                                             sign, nwb, fmt, limits, scale)
        projections.append(QuantizedProjection.from_dense(name=pname, source=source, w_post_pre=w,
                                                          weight_exp=exp_draw() if exp is None else exp,
                                                          num_weight_bits=nwb, sign_mode=sign))

    all_rows, exc_idx, inh_idx = np.arange(n), np.flatnonzero(exc), np.flatnonzero(~exc)
    if n_input:
        add("input->all", "input", all_rows, n_input, np.arange(n_input), "excitatory", scale=0.6)
        if mixed_projection:
            add("input~mixed", "input", all_rows, n_input, np.arange(n_input), "mixed", scale=0.4)
    add("exc->all", "recurrent", all_rows, n, exc_idx, "excitatory", scale=0.25)
    add("inh->all", "recurrent", all_rows, n, inh_idx, "inhibitory", scale=0.8)
    if "u_wrap" in edges:
        # a few neurons whose current barely decays receive huge inputs: u must wrap
        i = take(max(1, n // 10))
        if not homogeneous:
            du[i] = 0
        src = np.arange(n_input) if n_input else exc_idx
        add("wrap-driver", "input" if n_input else "recurrent", i, n_input if n_input else n, src,
            "excitatory", scale=1.0, p=1.0, exp=fmt.weight_exp_max)
    if "empty_projection" in edges:
        projections.append(QuantizedProjection.from_dense(name="empty", source="recurrent",
                                                          w_post_pre=np.zeros((n, n), np.int64), weight_exp=0,
                                                          num_weight_bits=fmt.weight_bits, sign_mode="excitatory"))
    if homogeneous:
        du, dv, vth = (np.full(n, a[0]) for a in (du, dv, vth))
    return QuantizedNetwork(name=name, dt=1e-3, n_input=n_input, du=du, dv=dv, vth=vth,
                            bias_mant=bias_mant, bias_exp=bias_exp, refractory_steps=refr,
                            projections=tuple(projections), excitatory=exc,
                            number_format=fmt, v_scale=1.0,
                            provenance={"profile": fmt.profile, "generator": "random_qnet"})


def random_inputs(rng: np.random.Generator, n_samples: int, n_steps: int, n_input: int, *,
                  rate: float = 0.15, ragged: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Bernoulli input rasters (B, T, n_input) and sample lengths (ragged: between T/2 and T)."""
    x = rng.random((n_samples, n_steps, n_input)) < rate
    if ragged and n_samples > 1:
        lengths = rng.integers(max(1, n_steps // 2), n_steps + 1, size=n_samples)
        lengths[0] = n_steps
    else:
        lengths = np.full(n_samples, n_steps)
    return x, lengths.astype(np.int64)


def reference_like_qnet(rng: np.random.Generator, n_neurons: int = 200, n_input: int = 24, *,
                        weight_scale: float | None = None, fmt: NumberFormat | None = None,
                        name: str = "reference-like") -> QuantizedNetwork:
    """A stand-in for the quantized reference HRSNN until ``quantize()`` exists.

    Shapes follow the reference design ``hrsnn``: 80 % excitatory, gamma-distributed membrane time
    constants (mean 20 ms exc / 10 ms inh, cv 0.6, clipped to [2, 400] ms) at dt = 1 ms, tau_syn
    5 ms, 2 refractory steps, connection probabilities 0.2 (input), 0.1 (E->E, I->I), 0.2 (E->I,
    I->E), one excitatory/inhibitory projection per source population (Dale's law). Decays use
    ``dv = round(2**D (1 - exp(-dt/tau_m)))`` and ``du = round(2**D (1 - exp(-dt/tau_syn))) - 1``.
    Weight scales are hand-tuned for a firing activity of a few percent under 10 % input rate at
    N = 200; recurrent weights are multiplied by ``weight_scale`` (default ``min(1, 200 / N)``,
    keeping the summed recurrent drive per neuron roughly constant as N grows).
    """
    fmt = fmt or default_format()
    n, dt = n_neurons, 1e-3
    n_exc = int(round(0.8 * n))
    exc = np.arange(n) < n_exc
    mean = np.where(exc, 0.02, 0.01)
    cv = 0.6
    tau_m = np.clip(rng.gamma(1 / cv**2, mean * cv**2), 0.002, 0.4)
    unity = fmt.decay_unity
    dv = np.clip(np.round(unity * (1 - np.exp(-dt / tau_m))), 0, unity - 1).astype(np.int64)
    du_val = int(np.clip(round(unity * (1 - np.exp(-dt / 0.005))) - 1, 0, unity - 1))
    du = np.full(n, du_val)
    vth = np.full(n, 300)
    refr = np.full(n, 2)
    nwb = fmt.weight_bits
    e_idx, i_idx = np.flatnonzero(exc), np.flatnonzero(~exc)
    ws = min(1.0, 200.0 / n) if weight_scale is None else float(weight_scale)

    def block(rows, cols, p, mean_w, sign, n_cols):
        w = np.zeros((n, n_cols), np.int64)
        lo, hi = weight_range(sign, fmt)
        mags = np.clip(np.round(rng.gamma(4.0, max(mean_w, 1.0) / 4.0, size=(len(rows), len(cols)))), 1,
                       max(hi, -lo))
        w[np.ix_(rows, cols)] = np.where(rng.random((len(rows), len(cols))) < p,
                                         mags if sign == "excitatory" else -mags, 0)
        return w

    all_rows = np.arange(n)
    projections = (
        QuantizedProjection.from_dense(name="input->all", source="input", sign_mode="excitatory", num_weight_bits=nwb,
                            weight_exp=1, w_post_pre=block(all_rows, np.arange(n_input), 0.2, 60, "excitatory",
                                                           n_input)),
        QuantizedProjection.from_dense(name="exc->all", source="recurrent", sign_mode="excitatory", num_weight_bits=nwb,
                            weight_exp=-1,
                            w_post_pre=block(e_idx, e_idx, 0.1, 40 * ws, "excitatory", n)
                            + block(i_idx, e_idx, 0.2, 80 * ws, "excitatory", n)),
        QuantizedProjection.from_dense(name="inh->all", source="recurrent", sign_mode="inhibitory", num_weight_bits=nwb,
                            weight_exp=0,
                            w_post_pre=block(e_idx, i_idx, 0.2, 60 * ws, "inhibitory", n)
                            + block(i_idx, i_idx, 0.1, 40 * ws, "inhibitory", n)),
    )
    return QuantizedNetwork(name=name, dt=dt, n_input=n_input, du=du, dv=dv, vth=vth,
                            bias_mant=np.zeros(n, np.int64), bias_exp=np.zeros(n, np.int64),
                            refractory_steps=refr, projections=projections, excitatory=exc,
                            number_format=fmt,
                            provenance={"profile": fmt.profile, "generator": "reference_like_qnet"})
