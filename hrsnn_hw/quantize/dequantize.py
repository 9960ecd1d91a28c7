"""Fixed point -> floats: the network the integers stand for (Brian2's side of rung 4)."""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from ..errors import QuantizationError
from ..spec import NetworkSpec
from ..trained import TrainedNetwork
from .core import _as_spec
from .decays import tau_of_factor
from ..fixedpoint import DU_OFFSET, DV_OFFSET, QuantizedNetwork
from .weights import single_spike_units


def _mantissas_at(qp, post: np.ndarray, pre: np.ndarray) -> tuple[np.ndarray, int]:
    """Mantissas of ``qp`` at the synapses ``(post, pre)`` (0 where none is stored) and how many
    of them are stored; O(synapses), by binary search in the sorted (pre, post) keys."""
    q_post, q_pre, q_w = qp.synapses()
    keys = q_pre * max(qp.n_post, 1) + q_post  # ascending: synapses are grouped by pre, post sorted
    want = np.asarray(pre, np.int64) * max(qp.n_post, 1) + np.asarray(post, np.int64)
    pos = np.minimum(np.searchsorted(keys, want), max(keys.size - 1, 0))
    found = (keys[pos] == want) if keys.size else np.zeros(want.shape, bool)
    return np.where(found, q_w[pos] if keys.size else 0, 0).astype(np.int64), int(np.count_nonzero(found))


def effective_neuron_params(qnet: QuantizedNetwork) -> dict[str, np.ndarray]:
    """Float parameters the integers stand for (SI units), one array per neuron.

    ``tau_m``/``tau_syn`` are ``-dt / ln(factor)``; ``v_th`` is the spec's threshold,
    ``vth * 2**vth_shift * v_scale * (1 - exp(-dt / tau_m))`` (see
    :meth:`hrsnn_hw.spec.NetworkSpec.loihi_threshold`). The two ends a spec cannot hold are
    mapped to the nearest valid float: no leak (``dv = 0``) to ``dt * 2**52`` (the float
    decay is then 1 to double precision) and a cleared current (factor 0) to ``dt / 800``
    (``exp(-800) == 0.0``).
    """
    fmt = qnet.number_format
    unity, du_off, dv_off, vth_shift = fmt.decay_unity, DU_OFFSET, DV_OFFSET, fmt.vth_shift
    dt = float(qnet.dt)
    tau_m = tau_of_factor((unity - (qnet.dv + dv_off)) / unity, dt)
    tau_syn = tau_of_factor((unity - (qnet.du + du_off)) / unity, dt)
    tau_m = np.where(np.isinf(tau_m), dt * 2.0 ** 52, tau_m)
    tau_syn = np.where(tau_syn <= 0, dt / 800.0, tau_syn)
    # The integers hold Loihi's form (threshold v_th / (1 - a_v)); the spec's threshold is the
    # effective Loihi threshold times the membrane gain of the effective tau_m.
    gain = -np.expm1(-dt / tau_m)
    return {"tau_m": tau_m, "tau_syn": tau_syn, "v_th": qnet.vth * 2.0 ** vth_shift * qnet.v_scale * gain,
            "bias": qnet.bias_mant * np.power(2.0, qnet.bias_exp) * qnet.v_scale,
            "refractory": qnet.refractory_steps * dt}


def dequantize(qnet: QuantizedNetwork, spec: NetworkSpec | TrainedNetwork) -> NetworkSpec:
    """The float network the integers stand for, with the structure of ``spec``.

    Parameters
    ----------
    qnet : QuantizedNetwork
        Output of :func:`quantize`.
    spec : NetworkSpec or TrainedNetwork
        The network it was quantized from (its populations, projections and STDP rules are
        copied with :func:`dataclasses.replace`; only parameter values change).

    Returns
    -------
    NetworkSpec
        Effective time constants, thresholds (``vth * 2**vth_shift * v_scale``), biases,
        refractory periods (``steps * dt``) and weights (volts one spike adds to ``u``:
        ``shift(w_mant, weight_exp) * 2**u_shift * v_scale``). An STDP rule's ``w_max`` is
        raised to the largest de-quantized weight where rounding pushed one above it.
    """
    spec, _ = _as_spec(spec)
    if qnet.n_neurons != spec.n_neurons or qnet.n_input != spec.n_input or not math.isclose(qnet.dt, spec.dt):
        raise QuantizationError("the quantized network does not match the spec", parameter="spec",
                                value=f"{spec.name}: {spec.n_neurons} neurons, {spec.n_input} inputs, dt {spec.dt}",
                                allowed=f"{qnet.n_neurons} neurons, {qnet.n_input} inputs, dt {qnet.dt}",
                                hint="pass the spec the network was quantized from")
    qprojs = {p.name: p for p in qnet.projections}
    if set(qprojs) != {p.name for p in spec.projections}:
        raise QuantizationError("projections differ between the quantized network and the spec",
                                parameter="spec.projections", value=sorted(p.name for p in spec.projections),
                                allowed=str(sorted(qprojs)), hint="pass the spec the network was quantized from")
    params = effective_neuron_params(qnet)
    populations = []
    for pop in spec.populations:
        sl = spec.population_slice(pop.name)
        populations.append(dataclasses.replace(pop, **{k: v[sl] for k, v in params.items()}))
    u_shift = qnet.number_format.u_shift
    projections, new_weights = [], {}
    for proj in spec.projections:
        qp = qprojs[proj.name]
        post, pre = spec.global_indices(proj)
        mant, stored = _mantissas_at(qp, post, pre)
        if qp.n_synapses != stored:
            raise QuantizationError("the quantized projection has weights where the spec has no synapse",
                                    parameter=f"projections.{proj.name}", value=qp.n_synapses,
                                    allowed=f"{proj.n_synapses} synapses", hint="pass the spec it was quantized from")
        w = single_spike_units(mant, qp.weight_exp) * 2.0 ** u_shift * qnet.v_scale
        new_weights[proj.name] = w
        projections.append(dataclasses.replace(proj, weight=w))
    rules = []
    for rule in spec.stdp:
        w = new_weights.get(rule.projection)
        top = float(w.max()) if w is not None and w.size else 0.0
        rules.append(dataclasses.replace(rule, w_max=max(rule.w_max, top)))
    return dataclasses.replace(spec, dt=float(qnet.dt), populations=tuple(populations),
                               projections=tuple(projections), stdp=tuple(rules))
