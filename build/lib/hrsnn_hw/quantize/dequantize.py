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
from .formats import DU_OFFSET, DV_OFFSET
from .network import QuantizedNetwork
from .weights import single_spike_units


def _formats_int(qnet: QuantizedNetwork, key: str) -> int:
    try:
        return int(qnet.formats[key])
    except (KeyError, TypeError, ValueError):
        raise QuantizationError("the quantized network lacks a number format", parameter=f"formats.{key}",
                                value=None, hint="re-create it with hrsnn_hw.quantize.quantize") from None


def effective_neuron_params(qnet: QuantizedNetwork) -> dict[str, np.ndarray]:
    """Float parameters the integers stand for (SI units), one array per neuron.

    ``tau_m``/``tau_syn`` are ``-dt / ln(factor)``; ``v_th`` is the spec's threshold,
    ``vth * 2**vth_shift * v_scale * (1 - exp(-dt / tau_m))`` (see
    :meth:`hrsnn_hw.spec.NetworkSpec.loihi_threshold`). The two ends a spec cannot hold are
    mapped to the nearest valid float: no leak (``dv = 0``) to ``dt * 2**52`` (the float
    decay is then 1 to double precision) and a cleared current (factor 0) to ``dt / 800``
    (``exp(-800) == 0.0``).
    """
    unity = 1 << _formats_int(qnet, "decay_bits")
    du_off = int(qnet.formats.get("du_offset", DU_OFFSET))
    dv_off = int(qnet.formats.get("dv_offset", DV_OFFSET))
    vth_shift = _formats_int(qnet, "vth_shift")
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
    u_shift = _formats_int(qnet, "u_shift")
    projections, new_weights = [], {}
    for proj in spec.projections:
        qp = qprojs[proj.name]
        post, pre = spec.global_indices(proj)
        mant = qp.w_post_pre[post, pre].astype(np.int64)
        if np.count_nonzero(qp.w_post_pre) != np.count_nonzero(mant):
            raise QuantizationError("the quantized projection has weights where the spec has no synapse",
                                    parameter=f"projections.{proj.name}", value=int(np.count_nonzero(qp.w_post_pre)),
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
