"""Float spec -> Loihi-style fixed point (:func:`quantize`) and back (:func:`dequantize`).

Order of work (everything that does not depend on the voltage scale first):

1. decays ``du``/``dv`` and refractory steps per neuron (:mod:`.decays`, :mod:`.neurons`);
2. the voltage scale ``v_scale`` (:mod:`.scale`: the finest scale with no threshold, weight
   or bias saturation and no possible ``u`` overflow), unless the policy gives one;
3. threshold mantissas, then neuron profiles ``(du, dv, vth, refractory_steps)``; if there are
   more than K, neurons are binned into at most K groups (:mod:`.binning`) and each group
   gets the profile of its geometric-mean time constants and threshold;
4. weight mantissas and one exponent per projection (:mod:`.weights`), biases;
5. the worst-case ``|u|`` with the quantized values; when the automatic scale lets it
   overflow (binning can lengthen a decay), the scale grows and steps 3-5 repeat.

Every lossy conversion is raised (strict policy) or warned and listed in the report.
"""
from __future__ import annotations

import math
import platform
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import __version__
from ..errors import QuantizationError
from ..fixedpoint import CoreLimits, NumberFormat, QuantizedNetwork, QuantizedProjection, core_limits
from ..profiles import HardwareProfile, load_profile
from ..spec import INPUT, NetworkSpec
from ..trained import TrainedNetwork
from .binning import bin_points
from .decays import DecayResult, factor_u, factor_v, quantize_du, quantize_dv, tau_of_factor, tau_range
from .issues import Issues, fmt_time, fmt_volts, locate
from .neurons import IntResult, quantize_bias, quantize_refractory, quantize_vth
from .policy import QuantizationPolicy
from .report import ParamStats, QuantizationReport
from .scale import (choose_v_scale, collect_synapses, v_scale_bounds, worst_case_u,
                    worst_case_v_negative)
from .weights import WeightResult, quantize_weights, register_layout, single_spike_units

MAX_SCALE_ITERATIONS = 8
K_EXPLANATION = ("K is applied to the whole network: the quantizer does not know the placement, and at most K "
                 "profiles network-wide keeps every core within its per-core limit whatever the mapper does. "
                 "A network spanning several cores could use up to K per core if the mapper grouped neurons "
                 "by profile; that is not attempted here.")
V_SCALE_RULE = ("finest v_scale (most integer precision for thresholds, biases and state) such that no threshold, "
                "weight or bias saturates, the worst-case |u| cannot wrap and (state_headroom=\"v\") the worst-case |v| "
                "cannot clip; each projection then picks its "
                "own weight exponent")


def _as_spec(net: Any) -> tuple[NetworkSpec, dict]:
    if isinstance(net, TrainedNetwork):
        return net.spec, {"source": "TrainedNetwork", "trained": dict(net.provenance)}
    if isinstance(net, NetworkSpec):
        return net, {"source": "NetworkSpec"}
    raise QuantizationError("expected a NetworkSpec or a TrainedNetwork", parameter="net", value=type(net).__name__,
                            hint="load one with hrsnn_hw.spec.load_spec or TrainedNetwork.load")


@dataclass
class _Layout:
    """Population bookkeeping for messages."""

    names: list[str]
    starts: np.ndarray

    def where(self, index: int) -> tuple[str, int]:
        return locate(self.names, self.starts, index)


@dataclass
class _State:
    """Everything that depends on v_scale (one pass of steps 3-5)."""

    v_scale: float
    vth0: IntResult
    keys0: np.ndarray
    labels: np.ndarray | None
    n_before: int
    du: np.ndarray
    dv: np.ndarray
    vth: IntResult
    refractory_steps: np.ndarray
    weights: dict[str, WeightResult]
    bias: IntResult
    u_pos: np.ndarray  # volts
    u_neg: np.ndarray


def _geomean_by(values: np.ndarray, labels: np.ndarray, m: int) -> np.ndarray:
    counts = np.bincount(labels, minlength=m)
    return np.exp(np.bincount(labels, weights=np.log(values), minlength=m) / counts)


def _bin_profiles(keys: np.ndarray, features: np.ndarray, k: int, method: str) -> tuple[np.ndarray | None, int]:
    """Cluster labels per neuron (None when the distinct profiles already fit) and the profile count."""
    uniq, inverse, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    if uniq.shape[0] <= k:
        return None, int(uniq.shape[0])
    point_features = np.stack([np.bincount(inverse, weights=features[:, c]) / counts
                               for c in range(features.shape[1])], axis=1)
    labels = bin_points(point_features, counts.astype(np.float64), k, method)
    return labels[inverse], int(uniq.shape[0])


def _bound_weights(res: WeightResult, v_scale: float, fmt: NumberFormat) -> np.ndarray:
    """Per-synapse weights (volts) that bound what the hardware delivers.

    With a negative exponent the summed input is floored: a positive sum never exceeds the
    unshifted (linear) value, a negative one never goes below the sum of single-spike floors.
    """
    linear = res.mantissa * 2.0 ** (res.weight_exp + fmt.u_shift) * v_scale
    return np.where(res.mantissa < 0, np.minimum(res.effective, linear), np.maximum(res.effective, linear))


class _Quantizer:
    """One quantization run (holds the inputs shared by the passes)."""

    def __init__(self, spec: NetworkSpec, fmt: NumberFormat, limits: CoreLimits, policy: QuantizationPolicy,
                 source: dict, profile_version: int) -> None:
        self.spec, self.fmt, self.limits, self.policy, self.source = spec, fmt, limits, policy, source
        self.profile_version = int(profile_version)
        self.bits = policy.weight_bits if policy.weight_bits is not None else fmt.weight_bits
        if self.bits > fmt.weight_bits:
            raise QuantizationError("more weight bits than the target's weight register", parameter="policy.weight_bits",
                                    value=self.bits, allowed=f"1..{fmt.weight_bits} for {fmt.profile}",
                                    hint="leave weight_bits=None for the profile's width")
        self.n = spec.n_neurons
        self.dt = float(spec.dt)
        if policy.max_neuron_profiles is not None:
            self.k, self.k_source = policy.max_neuron_profiles, "policy.max_neuron_profiles"
        elif math.isfinite(limits.neuron_profiles):
            self.k, self.k_source = int(limits.neuron_profiles), "profile core_limits.neuron_profiles_per_core"
        else:
            self.k, self.k_source = max(1, spec.n_neurons), "unlimited (the profile sets no neuron_profiles_per_core)"
        starts = np.cumsum([0] + [p.n for p in spec.populations])[:-1]
        self.layout = _Layout(list(spec.population_names), np.asarray(starts))
        self.tau_m = spec.neuron_param("tau_m")
        self.tau_syn = spec.neuron_param("tau_syn")
        self.v_th_spec = spec.neuron_param("v_th")
        self.v_th = spec.loihi_threshold()  # replaced below by the form with the quantized decays
        self.bias_v = spec.neuron_param("bias")
        self.refractory = spec.neuron_param("refractory")
        self.signs = {p.name: p.excitatory for p in spec.populations}
        self.sign_modes = {proj.name: ("excitatory" if proj.pre == INPUT or self.signs[proj.pre] else "inhibitory")
                           for proj in spec.projections}
        # Step 1: independent of the voltage scale.
        self.dv0 = quantize_dv(self.tau_m, self.dt, fmt)
        self.du0 = quantize_du(self.tau_syn, self.dt, fmt)
        self.refr0 = quantize_refractory(self.refractory, self.dt, fmt)
        # The hardware compares v' = v / (1 - a_v) with v_th / (1 - a_v) (Loihi's form); dividing
        # by the gain of the *quantized* decay keeps the spec's threshold exact in its own units.
        gain0 = 1.0 - factor_v(self.dv0.value, fmt)
        self.v_th = np.where(gain0 > 0, self.v_th_spec / np.where(gain0 > 0, gain0, 1.0), self.v_th)
        self.features = np.column_stack([np.log(self.tau_m), np.log(self.tau_syn), np.log(self.v_th_spec),
                                         np.log1p(self.refr0.value.astype(np.float64))])

    # --- step 2 --------------------------------------------------------------------------
    def initial_scale(self) -> tuple[float, dict[str, float], str]:
        syn = collect_synapses(self.spec)
        pos, neg = worst_case_u(syn, factor_u(self.du0.value, self.fmt), self.refr0.value, self.n)
        worst = float(max(pos.max(initial=0.0), neg.max(initial=0.0)))
        # A neuron without leak (dv = 0) cannot hold its threshold's form anyway (reported as an
        # error or warning); it must not drag the whole network's scale with it.
        v_th_bound = np.where(self.dv0.value == 0, 0.0, self.v_th)
        bounds = v_scale_bounds(self.spec, self.fmt, self.bits, self.sign_modes, worst, v_th_bound)
        if self.policy.state_headroom == "v":
            v_worst = self._v_worst(pos, neg, self.bias_v, self.v_th, factor_v(self.dv0.value, self.fmt))
            bounds["v_clip"] = v_worst / self.fmt.clip_limit
        v_scale, binding = choose_v_scale(bounds)
        return v_scale, bounds, binding

    @staticmethod
    def _v_worst(u_pos: np.ndarray, u_neg: np.ndarray, bias: np.ndarray, v_th: np.ndarray,
                 fv: np.ndarray) -> float:
        # Below the threshold v integrates the most negative u and bias (bounded by the leak);
        # above it v resets, so one step's largest rise on top of the threshold bounds it.
        neg = worst_case_v_negative(u_neg, bias, fv)
        neg = neg[np.isfinite(neg)]  # a neuron without leak has no bound; its clipping stays reported
        pos = v_th + u_pos + np.maximum(bias, 0.0)
        return float(max(neg.max(initial=0.0), pos.max(initial=0.0)))

    # --- steps 3-5 -----------------------------------------------------------------------
    def run_at(self, v_scale: float) -> _State:
        fmt = self.fmt
        vth0 = quantize_vth(self.v_th, v_scale, fmt)
        keys0 = np.column_stack([self.du0.value, self.dv0.value, vth0.value, self.refr0.value])
        labels, n_before = _bin_profiles(keys0, self.features, self.k, self.policy.binning)
        if labels is None:
            du, dv, vth, refr = self.du0.value, self.dv0.value, vth0, self.refr0.value
        else:
            m = int(labels.max()) + 1
            counts = np.bincount(labels, minlength=m)
            du = quantize_du(_geomean_by(self.tau_syn, labels, m), self.dt, fmt).value[labels]
            dv = quantize_dv(_geomean_by(self.tau_m, labels, m), self.dt, fmt).value[labels]
            dv_rep = quantize_dv(_geomean_by(self.tau_m, labels, m), self.dt, fmt).value
            gain_rep = 1.0 - factor_v(dv_rep, fmt)
            theta_rep = _geomean_by(self.v_th_spec, labels, m)
            vth_rep = quantize_vth(theta_rep / np.where(gain_rep > 0, gain_rep, 1.0), v_scale, fmt)
            vth = IntResult(value=vth_rep.value[labels], exponent=None, effective=vth_rep.effective[labels],
                            saturated=vth0.saturated, zeroed=vth0.zeroed)
            refr_rep = np.rint(np.bincount(labels, weights=self.refr0.value.astype(np.float64), minlength=m) / counts)
            refr = refr_rep.astype(np.int64)[labels]
        weights = {proj.name: quantize_weights(proj.weight, self.sign_modes[proj.name], v_scale, fmt, self.bits)
                   for proj in self.spec.projections}
        bias = quantize_bias(self.bias_v, v_scale, fmt)
        syn = collect_synapses(self.spec, {name: _bound_weights(w, v_scale, fmt) for name, w in weights.items()})
        u_pos, u_neg = worst_case_u(syn, factor_u(du, fmt), refr, self.n)
        return _State(v_scale=v_scale, vth0=vth0, keys0=keys0, labels=labels, n_before=n_before, du=du, dv=dv,
                      vth=vth, refractory_steps=refr, weights=weights, bias=bias, u_pos=u_pos, u_neg=u_neg)

    def u_worst_units(self, state: _State) -> float:
        """Worst-case state in units: |u|, and |v| too under ``state_headroom="v"``."""
        worst = float(max(state.u_pos.max(initial=0.0), state.u_neg.max(initial=0.0)))
        if self.policy.state_headroom == "v":
            worst = max(worst, self._v_worst(state.u_pos, state.u_neg, state.bias.effective, self.v_th,
                                             factor_v(state.dv, self.fmt)))
        return worst / state.v_scale

    # --- issues --------------------------------------------------------------------------
    def _first(self, mask: np.ndarray) -> tuple[str, int, int]:
        i = int(np.argmax(mask))
        pop, local = self.layout.where(i)
        return pop, local, i

    def report_decay(self, issues: Issues, res: DecayResult, name: str, variable: str) -> None:
        fmt, dt = self.fmt, self.dt
        tau = self.tau_m if name == "tau_m" else self.tau_syn
        lo, hi = tau_range(dt, fmt, variable)
        field_name = "dv" if variable == "v" else "du"
        allowed = f"representable {name} at dt = {fmt_time(dt)}: {fmt_time(lo)} .. {fmt_time(hi)}"
        if res.too_long.any():
            pop, local, i = self._first(res.too_long)
            count = int(res.too_long.sum())
            if variable == "v":
                what = f"rounds to a {fmt.decay_bits}-bit decay of 0 (no leak)"
            else:
                what = (f"needs a decay below the du floor (du = 0 still leaks 1/{fmt.decay_unity} per step, "
                        f"{name} = {fmt_time(hi)})")
            issues.add(QuantizationError(
                f"{name} = {fmt_time(tau[i])} at dt = {fmt_time(dt)} {what}; {count} neuron(s) affected",
                parameter=f"populations.{pop}.{name}", index=local, value=float(tau[i]), allowed=allowed,
                hint=f"lower {name} or raise dt"))
        if res.too_short.any():
            pop, local, i = self._first(res.too_short)
            count = int(res.too_short.sum())
            if variable == "v":
                what = (f"is shorter than the shortest representable decay ({field_name} = {fmt.decay_max}, "
                        f"{name} = {fmt_time(lo)}): saturated")
            else:
                what = f"rounds to a decay factor of 0 ({field_name} = {fmt.decay_max}): u is cleared every step"
            issues.add(QuantizationError(
                f"{name} = {fmt_time(tau[i])} at dt = {fmt_time(dt)} {what}; {count} neuron(s) affected",
                parameter=f"populations.{pop}.{name}", index=local, value=float(tau[i]), allowed=allowed,
                hint=f"raise {name} or lower dt"))

    def report_neurons(self, issues: Issues, st: _State) -> None:
        fmt, dt = self.fmt, self.dt
        if self.refr0.saturated.any():
            pop, local, i = self._first(self.refr0.saturated)
            issues.add(QuantizationError(
                f"refractory = {fmt_time(self.refractory[i])} at dt = {fmt_time(dt)} needs "
                f"{int(np.rint(self.refractory[i] / dt))} steps; the target holds at most {fmt.refractory_max_steps}: "
                f"clipped ({int(self.refr0.saturated.sum())} neuron(s))",
                parameter=f"populations.{pop}.refractory", index=local, value=float(self.refractory[i]),
                allowed=f"[0, {fmt_time(fmt.refractory_max_steps * dt)}] at dt = {fmt_time(dt)}",
                hint="shorten the refractory period or raise dt"))
        if self.refr0.zeroed.any():
            pop, local, i = self._first(self.refr0.zeroed)
            issues.add(QuantizationError(
                f"refractory = {fmt_time(self.refractory[i])} is shorter than half a step at dt = {fmt_time(dt)}: "
                f"lost ({int(self.refr0.zeroed.sum())} neuron(s))",
                parameter=f"populations.{pop}.refractory", index=local, value=float(self.refractory[i]),
                allowed=f"0, or >= {fmt_time(dt / 2)} at dt = {fmt_time(dt)}", hint="lengthen it, set it to 0, or lower dt"))
        unit = st.v_scale * 2.0 ** fmt.vth_shift
        if st.vth0.saturated.any():
            pop, local, i = self._first(st.vth0.saturated)
            issues.add(QuantizationError(
                f"threshold v_th / (1 - exp(-dt/tau_m)) = {fmt_volts(self.v_th[i])} exceeds the largest representable threshold "
                f"({fmt.vth_mant_bits}-bit mantissa {fmt.vth_max} x {fmt_volts(unit)}) at v_scale = {st.v_scale:.4g} V: "
                f"clipped ({int(st.vth0.saturated.sum())} neuron(s))",
                parameter=f"populations.{pop}.v_th", index=local, value=float(self.v_th[i]),
                allowed=f"(0, {fmt_volts(fmt.vth_max * unit)}]", hint="raise v_scale or leave it None (automatic)"))
        if st.vth0.zeroed.any():
            pop, local, i = self._first(st.vth0.zeroed)
            issues.add(QuantizationError(
                f"threshold v_th / (1 - exp(-dt/tau_m)) = {fmt_volts(self.v_th[i])} is below half a threshold unit ({fmt_volts(unit)}) at "
                f"v_scale = {st.v_scale:.4g} V: raised to vth = 1 ({int(st.vth0.zeroed.sum())} neuron(s))",
                parameter=f"populations.{pop}.v_th", index=local, value=float(self.v_th[i]),
                allowed=f"[{fmt_volts(unit / 2)}, {fmt_volts(fmt.vth_max * unit)}]",
                hint="narrow the threshold distribution, or lower v_scale"))
        bias = st.bias
        biggest = fmt.bias_mant_max * 2.0 ** fmt.bias_exp_max * st.v_scale
        if bias.saturated.any():
            pop, local, i = self._first(bias.saturated)
            issues.add(QuantizationError(
                f"bias = {fmt_volts(self.bias_v[i])} exceeds the largest representable bias at v_scale = "
                f"{st.v_scale:.4g} V: clipped ({int(bias.saturated.sum())} neuron(s))",
                parameter=f"populations.{pop}.bias", index=local, value=float(self.bias_v[i]),
                allowed=f"[{fmt_volts(-biggest)}, {fmt_volts(biggest)}]", hint="raise v_scale or lower the bias"))
        if bias.zeroed.any():
            pop, local, i = self._first(bias.zeroed)
            issues.add(QuantizationError(
                f"bias = {fmt_volts(self.bias_v[i])} is below half a unit ({fmt_volts(st.v_scale)}): lost "
                f"({int(bias.zeroed.sum())} neuron(s))",
                parameter=f"populations.{pop}.bias", index=local, value=float(self.bias_v[i]),
                allowed=f"0 or |bias| >= {fmt_volts(st.v_scale / 2)}", hint="set it to 0, raise it, or lower v_scale"))

    def report_weights(self, issues: Issues, st: _State) -> None:
        fmt = self.fmt
        for proj in self.spec.projections:
            res = st.weights[proj.name]
            if not proj.n_synapses:
                continue
            smallest, largest = self._weight_range(res, st.v_scale)
            allowed = f"|w| from {fmt_volts(smallest)} to {fmt_volts(largest)} (weight_exp {res.weight_exp})"
            if res.zeroed.any():
                i = int(np.argmax(res.zeroed))
                issues.add(QuantizationError(
                    f"{int(res.zeroed.sum())} of {proj.n_synapses} weights of projection {proj.name} round to 0 with "
                    f"{self.bits}-bit mantissas (lost synapses; first: synapse {i}, post {int(proj.post_index[i])}, "
                    f"pre {int(proj.pre_index[i])}): their dynamic range needs more bits",
                    parameter=f"projections.{proj.name}.weight", index=i, value=float(proj.weight[i]),
                    allowed=allowed, hint="raise weight_bits, prune weights below the smallest representable, "
                                          "or narrow the weight distribution"))
            if res.saturated.any():
                i = int(np.argmax(res.saturated))
                issues.add(QuantizationError(
                    f"{int(res.saturated.sum())} weights of projection {proj.name} exceed the largest representable "
                    f"weight at weight_exp_max = {fmt.weight_exp_max}: clipped",
                    parameter=f"projections.{proj.name}.weight", index=i, value=float(proj.weight[i]),
                    allowed=allowed, hint="raise v_scale or leave it None (automatic)"))
            elif (res.weight_exp == fmt.weight_exp_min and res.bits_used < self.bits
                  and np.any(proj.weight != 0) and not res.zeroed.all()):
                i = int(np.argmax(np.abs(proj.weight)))
                issues.add(QuantizationError(
                    f"weights of projection {proj.name} are too small for the exponent range at v_scale = "
                    f"{st.v_scale:.4g} V: the largest uses {res.bits_used} of {self.bits} mantissa bits",
                    parameter=f"projections.{proj.name}.weight", index=i, value=float(proj.weight[i]),
                    allowed=allowed, hint="lower v_scale or leave it None (automatic)"))

    def _weight_range(self, res: WeightResult, v_scale: float) -> tuple[float, float]:
        fmt = self.fmt
        e = res.weight_exp
        min_m = res.step if e >= 0 else res.step * math.ceil(2 ** -e / res.step)
        per_unit = 2.0 ** fmt.u_shift * v_scale
        smallest = float(single_spike_units(np.array([min(min_m, res.max_mantissa)]), e)[0]) * per_unit
        largest = float(single_spike_units(np.array([res.max_mantissa]), e)[0]) * per_unit
        return smallest, largest

    def report_overflow(self, issues: Issues, st: _State) -> None:
        worst = self.u_worst_units(st)
        if worst > self.fmt.clip_limit:
            worst_per_neuron = np.maximum(st.u_pos, st.u_neg)
            i = int(np.argmax(worst_per_neuron))
            pop, local = self.layout.where(i)
            needed = float(worst_per_neuron[i]) / self.fmt.clip_limit
            issues.add(QuantizationError(
                f"worst-case |u| of neuron {pop}[{local}] is {worst:.4g} units (every input at its fastest rate), beyond "
                f"the {self.fmt.state_bits}-bit range +-{self.fmt.clip_limit}: u can wrap",
                parameter="policy.v_scale", value=st.v_scale, allowed=f">= {needed:.4g} V per unit",
                hint="leave v_scale None (automatic) or raise it"))

    # --- main ----------------------------------------------------------------------------
    def run(self) -> tuple[QuantizedNetwork, QuantizationReport]:
        issues = Issues(self.policy.strict)
        self.report_decay(issues, self.dv0, "tau_m", "v")
        self.report_decay(issues, self.du0, "tau_syn", "u")
        auto_scale, bounds, binding = self.initial_scale()
        explicit = self.policy.v_scale is not None
        v_scale = float(self.policy.v_scale) if explicit else auto_scale
        iterations = 0
        while True:
            iterations += 1
            state = self.run_at(v_scale)
            worst = self.u_worst_units(state)
            if explicit or worst <= self.fmt.clip_limit or iterations >= MAX_SCALE_ITERATIONS:
                break
            v_scale = v_scale * (worst / self.fmt.clip_limit) * (1.0 + 1e-12)
            binding = "v_clip" if self.policy.state_headroom == "v" else "u_overflow"
        self.report_neurons(issues, state)
        self.report_weights(issues, state)
        self.report_overflow(issues, state)
        choice = {"explicit": explicit, "rule": "given by policy.v_scale" if explicit else V_SCALE_RULE,
                  "bounds": bounds, "binding": "policy" if explicit else binding, "automatic_value": auto_scale,
                  "iterations": iterations, "vth_max_used": int(state.vth.value.max()),
                  "vth_max_representable": self.fmt.vth_max}
        return self._build(state, issues, choice)

    def _build(self, st: _State, issues: Issues, choice: dict) -> tuple[QuantizedNetwork, QuantizationReport]:
        spec, fmt, dt = self.spec, self.fmt, self.dt
        projections = []
        for proj in spec.projections:
            res = st.weights[proj.name]
            post, pre = spec.global_indices(proj)
            cols = spec.n_input if proj.pre == INPUT else self.n
            # per-synapse arrays straight into the sparse form; mantissas that rounded to 0 are dropped
            projections.append(QuantizedProjection.from_synapses(
                name=proj.name, source="input" if proj.pre == INPUT else "recurrent", n_post=self.n, n_pre=cols,
                post=post, pre=pre, weight=res.mantissa, weight_exp=res.weight_exp, num_weight_bits=self.bits,
                sign_mode=self.sign_modes[proj.name]))
        final_keys = np.column_stack([st.du, st.dv, st.vth.value, st.refractory_steps])
        uniq, profile_id, counts = np.unique(final_keys, axis=0, return_inverse=True, return_counts=True)
        profile_id = profile_id.reshape(-1)
        provenance = {"profile": fmt.profile, "profile_version": self.profile_version, "rounding": "nearest",
                      "policy": self.policy.as_dict(), **self.source,
                      "spec": {"name": spec.name, "seed": spec.seed, "dt": spec.dt, "n_neurons": self.n,
                               "n_input": spec.n_input},
                      "v_scale": {"value": st.v_scale, "binding": choice["binding"]},
                      "neuron_profiles": int(uniq.shape[0]), "neuron_profiles_limit": self.k,
                      "versions": {"hrsnn_hw": __version__, "numpy": np.__version__, "python": platform.python_version()}}
        qnet = QuantizedNetwork(name=spec.name, dt=dt, n_input=spec.n_input, du=st.du, dv=st.dv, vth=st.vth.value,
                                bias_mant=st.bias.value, bias_exp=st.bias.exponent,
                                refractory_steps=st.refractory_steps, projections=tuple(projections),
                                excitatory=spec.is_excitatory(), number_format=fmt, v_scale=st.v_scale,
                                provenance=provenance)
        parameters, arrays = self._errors(st)
        fu, fv = factor_u(uniq[:, 0], fmt), factor_v(uniq[:, 1], fmt)
        table = [{"id": j, "du": int(row[0]), "dv": int(row[1]), "vth": int(row[2]), "refractory_steps": int(row[3]),
                  "n_neurons": int(counts[j]), "tau_syn_eff": float(tau_of_factor(fu[j], dt)),
                  "tau_m_eff": float(tau_of_factor(fv[j], dt)),
                  "v_th_eff": float(row[2] * 2.0 ** fmt.vth_shift * st.v_scale)} for j, row in enumerate(uniq)]
        arrays["profile_id"] = profile_id
        profiles = {"limit": self.k, "limit_source": self.k_source, "before": st.n_before, "after": int(uniq.shape[0]),
                    "binned": st.labels is not None, "method": self.policy.binning if st.labels is not None else "none",
                    "explanation": K_EXPLANATION, "cores_min": int(math.ceil(self.n / self.limits.neurons)),
                    "distinct_thresholds": int(np.unique(st.vth.value).size),
                    "threshold_profiles_per_core": (int(self.limits.threshold_profiles)
                                                    if math.isfinite(self.limits.threshold_profiles) else None), "table": table}
        overflow = self._overflow(st)
        arrays["u_worst_pos_units"] = st.u_pos / st.v_scale
        arrays["u_worst_neg_units"] = st.u_neg / st.v_scale
        proj_info = {}
        for proj in spec.projections:
            res = st.weights[proj.name]
            smallest, largest = self._weight_range(res, st.v_scale)
            _, _, truncated = register_layout(fmt, self.bits, self.sign_modes[proj.name])
            proj_info[proj.name] = {
                "weight_exp": res.weight_exp, "sign_mode": self.sign_modes[proj.name], "num_weight_bits": self.bits,
                "n_synapses": proj.n_synapses, "n_lost": int(res.zeroed.sum()), "n_saturated": int(res.saturated.sum()),
                "max_mantissa": int(np.abs(res.mantissa).max(initial=0)), "bits_used": res.bits_used,
                "truncated_low_bits": truncated, "single_spike_shift_bits": max(0, -res.weight_exp),
                "smallest_nonzero_V": smallest, "largest_V": largest}
        report = QuantizationReport(name=spec.name, profile=fmt.profile, policy=self.policy.as_dict(), dt=dt,
                                    v_scale=st.v_scale, v_scale_choice=choice, parameters=parameters,
                                    projections=proj_info, neuron_profiles=profiles, overflow=overflow,
                                    warnings=tuple(issues.messages), arrays=arrays, provenance=provenance)
        return qnet, report

    def _overflow(self, st: _State) -> dict:
        fmt = self.fmt
        pos_units, neg_units = st.u_pos / st.v_scale, st.u_neg / st.v_scale
        worst = float(max(pos_units.max(initial=0.0), neg_units.max(initial=0.0)))
        i = int(np.argmax(np.maximum(pos_units, neg_units))) if self.n else 0
        pop, local = self.layout.where(i)
        v_neg = worst_case_v_negative(neg_units, st.bias.effective / st.v_scale, factor_v(st.dv, fmt))
        return {"assumption": "every input channel spikes every step and every neuron every refractory_steps + 1 "
                              "steps, all aligned (an upper bound)",
                "clip_limit": fmt.clip_limit, "u_worst_pos_units": float(pos_units.max(initial=0.0)),
                "u_worst_neg_units": float(neg_units.max(initial=0.0)), "u_worst_units": worst,
                "u_worst_neuron": f"{pop}[{local}]",
                "u_headroom": (fmt.clip_limit / worst) if worst > 0 else math.inf,
                "u_overflow_possible": bool(worst > fmt.clip_limit),
                "v_negative_worst_units": float(v_neg.max(initial=0.0)),
                "v_negative_clip_possible": int(np.count_nonzero(v_neg > fmt.clip_limit)),
                "v_note": "v clips (does not wrap); clipping far below the threshold only delays recovery"}

    def _errors(self, st: _State) -> tuple[dict[str, ParamStats], dict[str, np.ndarray]]:
        fmt, dt = self.fmt, self.dt
        params: dict[str, ParamStats] = {}
        arrays: dict[str, np.ndarray] = {}

        def split(name: str, unit: str, requested: np.ndarray, rounded: np.ndarray, final: np.ndarray,
                  **counts: Any) -> None:
            with np.errstate(invalid="ignore", divide="ignore"):
                def rel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
                    out = np.where(a == b, 0.0, (a - b) / np.where(requested != 0, np.abs(requested), np.nan))
                    return np.where(np.isnan(out), np.inf, out)
                r_total, r_round, r_bin = rel(final, requested), rel(rounded, requested), rel(final, rounded)
            params[name] = ParamStats.compute(name, unit, requested, final, rel=r_total, **counts)
            params[f"{name}.rounding"] = ParamStats.compute(f"{name}.rounding", unit, requested, rounded, rel=r_round)
            params[f"{name}.binning"] = ParamStats.compute(f"{name}.binning", unit, rounded, final, rel=r_bin)
            arrays[f"{name}_eff"] = final
            arrays[f"{name}_rel_err"] = r_total
            arrays[f"{name}_rel_err_rounding"] = r_round
            arrays[f"{name}_rel_err_binning"] = r_bin

        dv_sat = self.dv0.too_short
        split("tau_m", "s", self.tau_m, tau_of_factor(factor_v(self.dv0.value, fmt), dt),
              tau_of_factor(factor_v(st.dv, fmt), dt), clipped=dv_sat, saturated=dv_sat, zeroed=self.dv0.value == 0)
        split("tau_syn", "s", self.tau_syn, tau_of_factor(factor_u(self.du0.value, fmt), dt),
              tau_of_factor(factor_u(st.du, fmt), dt), clipped=self.du0.too_long)
        vth_bits_used = int(int(st.vth.value.max()).bit_length())
        # In the spec's units: the effective Loihi threshold times the effective membrane gain.
        split("v_th", "V", self.v_th_spec, st.vth0.effective * (1.0 - factor_v(self.dv0.value, fmt)),
              st.vth.effective * (1.0 - factor_v(st.dv, fmt)),
              clipped=st.vth0.saturated | st.vth0.zeroed, saturated=st.vth0.saturated, zeroed=st.vth0.zeroed,
              bits_lost=fmt.vth_mant_bits - vth_bits_used)
        split("refractory", "s", self.refractory, self.refr0.effective, st.refractory_steps * dt,
              clipped=self.refr0.saturated, saturated=self.refr0.saturated, zeroed=self.refr0.zeroed)
        b = st.bias
        params["bias"] = ParamStats.compute("bias", "V", self.bias_v, b.effective, clipped=b.saturated,
                                            saturated=b.saturated, zeroed=b.zeroed,
                                            exponent=sorted(int(e) for e in np.unique(b.exponent)))
        arrays["bias_eff"] = b.effective
        with np.errstate(invalid="ignore", divide="ignore"):
            bias_rel = np.where(b.effective == self.bias_v, 0.0, (b.effective - self.bias_v) / np.abs(self.bias_v))
        arrays["bias_rel_err"] = np.where(np.isnan(bias_rel), np.inf, bias_rel)
        for proj in self.spec.projections:
            res = st.weights[proj.name]
            key = f"weights[{proj.name}]"
            stats = ParamStats.compute(key, "V", proj.weight, res.effective, clipped=res.saturated,
                                       saturated=res.saturated, zeroed=res.zeroed,
                                       bits_lost=(max(0, self.bits - res.bits_used) + max(0, -res.weight_exp)
                                                  if np.any(proj.weight != 0) else None),
                                       exponent=res.weight_exp)
            params[key] = stats
            with np.errstate(invalid="ignore", divide="ignore"):
                rel = np.where(res.effective == proj.weight, 0.0, (res.effective - proj.weight) / np.abs(proj.weight))
            arrays[f"weights_rel_err[{proj.name}]"] = np.where(np.isnan(rel), np.inf, rel)
        return params, arrays


def quantize(net: NetworkSpec | TrainedNetwork, profile: HardwareProfile | str,
             policy: QuantizationPolicy | None = None) -> tuple[QuantizedNetwork, QuantizationReport]:
    """Convert a float network into the target's fixed point.

    Parameters
    ----------
    net : NetworkSpec or TrainedNetwork
        The network (a trained network contributes its ``spec``); never modified.
    profile : HardwareProfile or str
        Target profile (or its name, ``"loihi2"``); every bit width and limit comes from it.
    policy : QuantizationPolicy, optional
        Choices (strictness, K, weight bits, voltage scale, binning); defaults to a lenient
        policy with the profile's values.

    Returns
    -------
    QuantizedNetwork
        Integer parameters in Lava's semantics (see :mod:`hrsnn_hw.fixedpoint.network`).
    QuantizationReport
        Errors per parameter, the choices made and every warning.

    Raises
    ------
    QuantizationError
        Under a strict policy, at the first lossy conversion (naming population, index,
        value, the representable range and a hint); always for impossible requests.
    """
    spec, source = _as_spec(net)
    if policy is None:
        policy = QuantizationPolicy()
    if not isinstance(policy, QuantizationPolicy):
        raise QuantizationError("expected a QuantizationPolicy", parameter="policy", value=type(policy).__name__)
    if isinstance(profile, str):
        profile = load_profile(profile)
    fmt = NumberFormat.from_profile(profile)
    limits, _ = core_limits(profile)
    return _Quantizer(spec, fmt, limits, policy, source, int(profile.version)).run()
