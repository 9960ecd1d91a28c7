"""Checks that make a :class:`NetworkSpec` trustworthy: every error names field, value and range."""
from __future__ import annotations

import numpy as np

from ..errors import SpecError
from .model import INPUT, NEURON_FIELDS, STDP_FIELDS, NetworkSpec

# (lower bound, lower inclusive, upper bound, unit) per neuron parameter.
NEURON_RANGES = {
    "tau_m": (0.0, False, np.inf, "s"),
    "tau_syn": (0.0, False, np.inf, "s"),
    "v_th": (0.0, False, np.inf, "V"),
    "refractory": (0.0, True, np.inf, "s"),
    "bias": (-np.inf, True, np.inf, "V"),
}
#: Largest magnitude of a voltage in units of its neuron's threshold. Fixed-point targets store
#: voltages as integers scaled to the threshold and the float reference adds them step by step:
#: beyond 2^53 the scaled value is not even an exact integer in double precision, and values like
#: a 1e308 V bias overflow float64 in the first step. (A dequantized no-leak neuron reaches
#: ~1e13, so the limit is not tighter; the quantizer reports narrower target ranges itself.)
MAX_SCALED = 2.0**53
STDP_RANGES = {
    "eta_plus": (0.0, True, np.inf, "V"),
    "eta_minus": (0.0, True, np.inf, "V"),
    "tau_plus": (0.0, False, np.inf, "s"),
    "tau_minus": (0.0, False, np.inf, "s"),
}


def _range_text(lo: float, lo_incl: bool, hi: float, unit: str) -> str:
    left = "[" if lo_incl else "("
    hi_text = "inf" if np.isinf(hi) else f"{hi:g}"
    lo_text = "-inf" if np.isinf(lo) else f"{lo:g}"
    return f"{left}{lo_text}, {hi_text}) {unit}".strip()


def check_array(values: np.ndarray, path: str, n: int, lo: float, lo_incl: bool, hi: float,
                unit: str, hint: str | None = None) -> None:
    """Raise :class:`SpecError` for the first bad element of ``values``."""
    values = np.asarray(values, dtype=np.float64)
    if values.shape != (n,):
        raise SpecError("array has the wrong length", parameter=path, value=f"shape {values.shape}",
                        allowed=f"shape ({n},)")
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.argmax(bad))
        raise SpecError("value is NaN or infinite", parameter=path, index=i, value=float(values[i]),
                        allowed=_range_text(lo, lo_incl, hi, unit))
    below = values < lo if lo_incl else values <= lo
    above = values > hi
    bad = below | above
    if bad.any():
        i = int(np.argmax(bad))
        raise SpecError("value out of range", parameter=path, index=i, value=float(values[i]),
                        allowed=_range_text(lo, lo_incl, hi, unit), hint=hint)


def _check_scaled(scaled: np.ndarray, path: str, values: np.ndarray) -> None:
    """Refuse values whose magnitude in units of the threshold overflows (see MAX_SCALED)."""
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        bad = ~(np.abs(scaled) <= MAX_SCALED)
    if bad.any():
        i = int(np.argmax(bad))
        raise SpecError("value too large: scaled to the neuron's threshold it overflows", parameter=path, index=i,
                        value=float(np.asarray(values).ravel()[i]), allowed="|value| <= 2^53 x v_th",
                        hint="volts, not microvolts? a value this size cannot be simulated or quantized")


def validate_spec(spec: NetworkSpec) -> None:
    """Validate a whole spec; raises :class:`SpecError` naming the first problem found."""
    if not isinstance(spec.dt, (int, float)) or not np.isfinite(spec.dt) or spec.dt <= 0:
        raise SpecError("time step must be positive and finite", parameter="dt", value=spec.dt,
                        allowed="(0, inf) s", hint="typical: 0.001 (1 ms)")
    if int(spec.n_input) != spec.n_input or spec.n_input < 1:
        raise SpecError("the number of input channels must be a positive integer", parameter="n_input",
                        value=spec.n_input, allowed="integers >= 1")
    if not spec.populations:
        raise SpecError("a spec needs at least one population", parameter="populations", value=0,
                        allowed=">= 1 population")
    names = [p.name for p in spec.populations]
    if len(set(names)) != len(names) or INPUT in names:
        raise SpecError("population names must be unique and not 'input'", parameter="populations",
                        value=names)
    for pop in spec.populations:
        if int(pop.n) != pop.n or pop.n < 1:
            raise SpecError("population size must be a positive integer", parameter=f"populations.{pop.name}.n",
                            value=pop.n, allowed="integers >= 1")
        for name in NEURON_FIELDS:
            lo, lo_incl, hi, unit = NEURON_RANGES[name]
            check_array(getattr(pop, name), f"populations.{pop.name}.{name}", pop.n, lo, lo_incl, hi, unit,
                        hint="time constants must be positive" if name.startswith("tau") else None)
    for pop in spec.populations:
        _check_scaled(np.abs(np.asarray(pop.bias, dtype=np.float64)) / np.asarray(pop.v_th, dtype=np.float64),
                      f"populations.{pop.name}.bias", pop.bias)
    sizes = {p.name: p.n for p in spec.populations}
    sizes[INPUT] = int(spec.n_input)
    signs = {p.name: p.excitatory for p in spec.populations}
    signs[INPUT] = True
    seen = set()
    for proj in spec.projections:
        path = f"projections.{proj.name}"
        if proj.name in seen:
            raise SpecError("duplicate projection", parameter=path, value=proj.name)
        seen.add(proj.name)
        if proj.pre not in sizes:
            raise SpecError("unknown source population", parameter=f"{path}.pre", value=proj.pre,
                            allowed=f"one of {sorted(sizes)}")
        if proj.post not in sizes or proj.post == INPUT:
            raise SpecError("unknown target population", parameter=f"{path}.post", value=proj.post,
                            allowed=f"one of {sorted(set(sizes) - {INPUT})}")
        if not np.isfinite(proj.probability) or not 0.0 <= proj.probability <= 1.0:
            raise SpecError("connection probability out of range", parameter=f"{path}.p",
                            value=proj.probability, allowed="[0, 1]")
        if not np.isfinite(proj.weight_scale) or proj.weight_scale < 0:
            raise SpecError("weight scale must be >= 0 and finite", parameter=f"{path}.weight",
                            value=proj.weight_scale, allowed="[0, inf) V")
        n_syn = proj.weight.size
        if proj.pre_index.shape != (n_syn,) or proj.post_index.shape != (n_syn,):
            raise SpecError("synapse arrays differ in length", parameter=f"{path}.synapses",
                            value=f"pre {proj.pre_index.shape}, post {proj.post_index.shape}, weight {proj.weight.shape}")
        if n_syn:
            if proj.pre_index.min() < 0 or proj.pre_index.max() >= sizes[proj.pre]:
                raise SpecError("presynaptic index out of range", parameter=f"{path}.synapses.pre",
                                value=int(proj.pre_index.max()), allowed=f"[0, {sizes[proj.pre] - 1}]")
            if proj.post_index.min() < 0 or proj.post_index.max() >= sizes[proj.post]:
                raise SpecError("postsynaptic index out of range", parameter=f"{path}.synapses.post",
                                value=int(proj.post_index.max()), allowed=f"[0, {sizes[proj.post] - 1}]")
            key = proj.post_index.astype(np.int64) * sizes[proj.pre] + proj.pre_index
            if np.unique(key).size != n_syn:
                raise SpecError("duplicate synapse", parameter=f"{path}.synapses", value="repeated (post, pre)")
            if not np.all(np.isfinite(proj.weight)):
                i = int(np.argmax(~np.isfinite(proj.weight)))
                raise SpecError("weight is NaN or infinite", parameter=f"{path}.weight", index=i,
                                value=float(proj.weight[i]), allowed="finite volts")
            if signs[proj.pre] and (proj.weight < 0).any():
                i = int(np.argmax(proj.weight < 0))
                raise SpecError("negative weight from an excitatory source (Dale's law)",
                                parameter=f"{path}.weight", index=i, value=float(proj.weight[i]),
                                allowed="[0, inf) V")
            if not signs[proj.pre] and (proj.weight > 0).any():
                i = int(np.argmax(proj.weight > 0))
                raise SpecError("positive weight from an inhibitory source (Dale's law)",
                                parameter=f"{path}.weight", index=i, value=float(proj.weight[i]),
                                allowed="(-inf, 0] V")
    v_th = {p.name: np.asarray(p.v_th, dtype=np.float64) for p in spec.populations}
    for proj in spec.projections:
        if proj.n_synapses:
            _check_scaled(np.abs(proj.weight) / v_th[proj.post][proj.post_index], f"projections.{proj.name}.weight",
                          proj.weight)
    projections = {p.name: p for p in spec.projections}
    for rule in spec.stdp:
        path = f"stdp.{rule.projection}"
        if rule.projection not in projections:
            raise SpecError("STDP rule for an unknown projection", parameter=path, value=rule.projection,
                            allowed=f"one of {sorted(projections)}")
        proj = projections[rule.projection]
        if not signs[proj.pre]:
            raise SpecError("STDP is defined on excitatory synapses only", parameter=path,
                            value=rule.projection, hint="remove the rule or make the source excitatory")
        for name in STDP_FIELDS:
            lo, lo_incl, hi, unit = STDP_RANGES[name]
            check_array(getattr(rule, name), f"{path}.{name}", proj.n_synapses, lo, lo_incl, hi, unit)
        if not np.isfinite(rule.w_max) or rule.w_max <= 0:
            raise SpecError("w_max must be positive and finite", parameter=f"{path}.w_max", value=rule.w_max,
                            allowed="(0, inf) V")
        if proj.n_synapses and proj.weight.max() > rule.w_max * (1 + 1e-12):
            i = int(np.argmax(proj.weight))
            raise SpecError("initial weight above the STDP bound", parameter=f"projections.{proj.name}.weight",
                            index=i, value=float(proj.weight[i]), allowed=f"[0, {rule.w_max:g}] V",
                            hint="raise stdp w_max or lower the weight scale")
        if rule.granularity not in ("synapse", "post"):
            raise SpecError("unknown STDP granularity", parameter=f"{path}.granularity",
                            value=rule.granularity, allowed="'synapse' or 'post'")
