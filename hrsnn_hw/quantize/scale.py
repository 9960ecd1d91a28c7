"""The voltage scale (volts per integer unit of ``u`` and ``v``) and the worst-case state.

One scale serves the whole network because a neuron's ``u`` sums several projections.
Automatic choice: the *finest* scale (smallest ``v_scale``, so thresholds, biases and the
state carry the most integer precision) that still guarantees

* every threshold fits its mantissa: ``v_th <= vth_max * 2**vth_shift * v_scale``;
* ``u`` cannot wrap: the worst-case ``|u|`` (below) fits ``clip_limit = 2**(state_bits-1) - 1`` units;
* no weight saturates at the largest exponent;
* no bias saturates at the largest bias exponent.

Weights do not pull the other way: each projection picks its own exponent, so the
largest weight of every projection keeps the full mantissa whatever the scale, as long as
the exponent range allows (finer scales need larger exponents).

Worst-case ``|u|``: every presynaptic source spikes as often as it can (input channels every
step, neurons every ``refractory_steps + 1`` steps) with all spikes aligned; a train with
period ``P`` filtered by ``u <- a u + w`` peaks at ``w / (1 - a**P)``. Positive and negative
weights are bounded separately. It is a true bound on ``|u|`` (the truncating decay only
shrinks it), usually pessimistic by a large factor.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..spec import INPUT, NetworkSpec
from ..fixedpoint import NumberFormat
from .weights import register_layout


@dataclass(frozen=True)
class Synapses:
    """Every synapse of a spec in global indices (pre is the input channel for input synapses)."""

    post: np.ndarray
    pre: np.ndarray
    from_input: np.ndarray
    weight: np.ndarray
    projection: np.ndarray  # index into spec.projections


def collect_synapses(spec: NetworkSpec, weights: dict[str, np.ndarray] | None = None) -> Synapses:
    """Gather all projections' synapses; ``weights`` replaces some projections' weights (volts)."""
    posts, pres, inputs, ws, projs = [], [], [], [], []
    for k, proj in enumerate(spec.projections):
        post, pre = spec.global_indices(proj)
        posts.append(post)
        pres.append(pre)
        inputs.append(np.full(post.size, proj.pre == INPUT))
        ws.append(np.asarray(weights[proj.name] if weights and proj.name in weights else proj.weight, dtype=np.float64))
        projs.append(np.full(post.size, k, dtype=np.int64))
    cat = (lambda parts, dtype: np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype))
    return Synapses(post=cat(posts, np.int64), pre=cat(pres, np.int64), from_input=cat(inputs, bool),
                    weight=cat(ws, np.float64), projection=cat(projs, np.int64))


def worst_case_u(syn: Synapses, factor_u: np.ndarray, refractory_steps: np.ndarray,
                 n_neurons: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-neuron bounds on positive and negative ``u`` (in the weights' unit).

    Parameters
    ----------
    syn : Synapses
        All synapses with their weights.
    factor_u : ndarray, shape (n_neurons,)
        Per-step multiplier of ``u`` (in [0, 1)).
    refractory_steps : ndarray, shape (n_neurons,)
        Refractory steps of each (presynaptic) neuron.
    n_neurons : int
        Number of neurons.

    Returns
    -------
    pos, neg : ndarray, shape (n_neurons,)
        Largest reachable ``u`` and largest reachable ``-u`` (both >= 0).
    """
    if syn.post.size == 0:
        return np.zeros(n_neurons), np.zeros(n_neurons)
    period = np.where(syn.from_input, 1, np.asarray(refractory_steps, dtype=np.int64)[np.where(syn.from_input, 0, syn.pre)] + 1)
    a = np.asarray(factor_u, dtype=np.float64)[syn.post]
    peak = np.abs(syn.weight) / (1.0 - a ** period)
    pos = np.bincount(syn.post, weights=np.where(syn.weight > 0, peak, 0.0), minlength=n_neurons)
    neg = np.bincount(syn.post, weights=np.where(syn.weight < 0, peak, 0.0), minlength=n_neurons)
    return pos, neg


def worst_case_v_negative(u_neg: np.ndarray, bias: np.ndarray, factor_v: np.ndarray) -> np.ndarray:
    """Bound on ``-v``: the most negative ``u`` and bias integrated by the membrane (inf without leak)."""
    drive = u_neg + np.maximum(0.0, -np.asarray(bias, dtype=np.float64))
    leak = 1.0 - np.asarray(factor_v, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(leak > 0, drive / np.where(leak > 0, leak, 1.0), np.where(drive > 0, np.inf, 0.0))
    return out


def v_scale_bounds(spec: NetworkSpec, fmt: NumberFormat, bits: int, sign_modes: dict[str, str],
                   u_worst_volts: float, v_th_loihi: np.ndarray | None = None) -> dict[str, float]:
    """Lower bounds on ``v_scale`` (volts per unit), one per constraint (see module docstring).

    ``v_th_loihi`` are the thresholds the hardware compares with (Loihi's form, see
    :meth:`~hrsnn_hw.spec.NetworkSpec.loihi_threshold`); zeros are left out of the bound.
    """
    v_th = spec.loihi_threshold() if v_th_loihi is None else np.asarray(v_th_loihi, dtype=np.float64)
    bias = spec.neuron_param("bias")
    bounds = {"threshold": float(v_th.max()) / (fmt.vth_max * 2.0 ** fmt.vth_shift),
              "u_overflow": float(u_worst_volts) / fmt.clip_limit}
    weight_bound = 0.0
    for proj in spec.projections:
        if proj.n_synapses:
            _, max_mag, _ = register_layout(fmt, bits, sign_modes[proj.name])
            top = float(np.abs(proj.weight).max())
            weight_bound = max(weight_bound, top / (max_mag * 2.0 ** (fmt.weight_exp_max + fmt.u_shift)))
    bounds["weight_saturation"] = weight_bound
    bounds["bias_saturation"] = float(np.abs(bias).max()) / (fmt.bias_mant_max * 2.0 ** fmt.bias_exp_max)
    return bounds


def choose_v_scale(bounds: dict[str, float]) -> tuple[float, str]:
    """The finest scale meeting every bound, and the name of the binding constraint."""
    binding = max(bounds, key=lambda k: (bounds[k], k))
    return float(bounds[binding]), binding
