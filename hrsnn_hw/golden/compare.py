"""Exact and rounding-bounded comparisons of two SpikeRecords (numpy only).

:func:`compare_exact` is the test of the exact rungs of the equivalence ladder (every spike,
every u and v at every valid step); :func:`compare_int_float` is rung 3 (golden integer model
vs its float twin within a derived rounding bound, overflow reported as a failure).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ..errors import VerificationError
from ..records import SpikeRecord
from .kernel import network_params
from .synapses import group_projections

# step order inside one update: u first, then v, then the spike decision
_VAR_ORDER = ("u", "v", "spikes")


@dataclass(frozen=True)
class Divergence:
    """Where two records first differ (earliest step; then sample, variable order u, v, spikes, neuron)."""

    step: int
    sample: int
    neuron: int
    population: str | None
    population_index: int | None
    variable: str
    value_a: Any
    value_b: Any

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ExactComparison:
    """Result of an exact rung.

    Attributes
    ----------
    ok : bool
        True when every compared variable is identical at every valid step.
    names : tuple of str
        Labels of record a and record b (``("golden", "lava")``).
    variables : tuple of str
        Variables compared (spikes always; u, v when both records hold them).
    first_divergence : Divergence or None
    n_steps_compared : int
        Valid sample-steps compared (sum of sample lengths).
    n_spikes : int
        Spikes of record a over the valid steps (so "ok" is not vacuous).
    n_mismatches : dict
        Number of differing values per variable.
    reason : str
        Empty when ok; else what failed.
    """

    ok: bool
    names: tuple[str, str]
    variables: tuple[str, ...]
    first_divergence: Divergence | None
    n_steps_compared: int
    n_spikes: int
    n_mismatches: dict = field(default_factory=dict)
    reason: str = ""

    def as_dict(self) -> dict:
        d = dict(self.__dict__)
        d["first_divergence"] = None if self.first_divergence is None else self.first_divergence.as_dict()
        return d

    def raise_if_failed(self) -> None:
        """Raise :class:`~hrsnn_hw.errors.VerificationError` naming the first divergence."""
        if self.ok:
            return
        d = self.first_divergence
        where = "" if d is None else (f" at step {d.step}, sample {d.sample}, neuron {d.neuron}"
                                      f"{'' if d.population is None else f' ({d.population}[{d.population_index}])'}"
                                      f", {d.variable}: {self.names[0]}={d.value_a!r} {self.names[1]}={d.value_b!r}")
        raise VerificationError(f"{self.names[0]} vs {self.names[1]}: {self.reason}{where}",
                                parameter=None if d is None else d.variable,
                                value=None if d is None else (d.value_a, d.value_b))


def _population(qnet, neuron: int) -> tuple[str | None, int | None]:
    if qnet is None:
        return None, None
    exc = np.asarray(qnet.excitatory, bool)
    pop = "exc" if exc[neuron] else "inh"
    return pop, int(np.count_nonzero(exc[:neuron] == exc[neuron]))


def compare_exact(rec_a: SpikeRecord, rec_b: SpikeRecord, names: Sequence[str] = ("a", "b"), *,
                  qnet=None, variables: Sequence[str] | None = None) -> ExactComparison:
    """Compare spikes, u and v of two records at every valid step, exactly.

    Parameters
    ----------
    rec_a, rec_b : SpikeRecord
        Same samples, same sample lengths, same neurons.
    names : pair of str
        Labels used in the result and messages.
    qnet : QuantizedNetwork, optional
        Used to name the population (exc/inh) of the diverging neuron.
    variables : sequence of str, optional
        Default: spikes, plus u and v when both records hold them.
    """
    names = (str(names[0]), str(names[1]))
    if variables is None:
        variables = ["spikes"] + [k for k in ("u", "v")
                                  if getattr(rec_a, k) is not None and getattr(rec_b, k) is not None]
    variables = tuple(k for k in _VAR_ORDER if k in variables)
    for k in variables:
        if getattr(rec_a, k) is None or getattr(rec_b, k) is None:
            raise VerificationError("a record lacks a variable to compare", parameter=k,
                                    hint="run with record_states=True")

    def fail(reason: str) -> ExactComparison:
        return ExactComparison(False, names, variables, None, 0, 0, {}, reason)

    if rec_a.spikes.shape[0] != rec_b.spikes.shape[0] or rec_a.n_neurons != rec_b.n_neurons:
        return fail(f"shape mismatch: {rec_a.spikes.shape} vs {rec_b.spikes.shape}")
    if not np.array_equal(rec_a.sample_lengths, rec_b.sample_lengths):
        return fail("sample lengths differ")
    lengths = rec_a.sample_lengths
    t = int(lengths.max(initial=0))
    if rec_a.n_steps < t or rec_b.n_steps < t:
        return fail("a record is shorter than its sample lengths")
    valid = (np.arange(t)[None, :] < lengths[:, None])[:, :, None]
    best: tuple | None = None
    mismatches = {}
    for order, k in enumerate(variables):
        a = np.asarray(getattr(rec_a, k))[:, :t]
        b = np.asarray(getattr(rec_b, k))[:, :t]
        diff = (a != b) & valid
        mismatches[k] = int(diff.sum())
        if not mismatches[k]:
            continue
        per_bt = diff.any(axis=2)
        steps = np.where(per_bt.any(axis=1), per_bt.argmax(axis=1), t)
        sample = int(np.argmin(steps))
        step = int(steps[sample])
        neuron = int(np.argmax(diff[sample, step]))
        key = (step, sample, order, neuron)
        if best is None or key < best[0]:
            best = (key, k, a[sample, step, neuron].item(), b[sample, step, neuron].item())
    n_spikes = int((rec_a.spikes[:, :t] & valid).sum())
    if best is None:
        return ExactComparison(True, names, variables, None, int(lengths.sum()), n_spikes, mismatches, "")
    (step, sample, _, neuron), var, va, vb = best
    pop, pidx = _population(qnet, neuron)
    div = Divergence(step=step, sample=sample, neuron=neuron, population=pop, population_index=pidx,
                     variable=var, value_a=va, value_b=vb)
    return ExactComparison(False, names, variables, div, int(lengths.sum()), n_spikes, mismatches,
                           f"{sum(mismatches.values())} values differ")


# ----------------------------------------------------------------------------- rung 3

@dataclass(frozen=True)
class IntFloatComparison:
    """Golden integer model vs its float twin (rung 3).

    Attributes
    ----------
    ok : bool
        No overflow event in the integer run and every |u|/|v| difference within its bound
        at every step before the first spike divergence of its sample.
    max_abs_u, max_abs_v : float
        Largest |int - float| over the compared steps (integer LSBs).
    max_bound_ratio : float
        Largest error / bound (<= 1 when ok).
    bound_u_max, bound_v_max : float
        Largest bound value reached.
    first_spike_divergence : dict or None
        ``{sample, step, neuron, int, float}`` of the earliest spike that differs. A divergence is
        not a failure: rounding can flip a spike whose v sits within the bound of its threshold;
        states after it are not compared.
    spike_mismatch_fraction : float
        Fraction of valid (sample, step, neuron) entries whose spike differs (after divergence too).
    steps_compared : int
        Sample-steps compared (before each sample's divergence).
    overflow : dict
        The integer run's overflow counts.
    reason : str
    """

    ok: bool
    max_abs_u: float
    max_abs_v: float
    max_bound_ratio: float
    bound_u_max: float
    bound_v_max: float
    first_spike_divergence: dict | None
    spike_mismatch_fraction: float
    steps_compared: int
    overflow: dict
    reason: str = ""

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def rounding_bounds(qnet, rec_int: SpikeRecord) -> tuple[np.ndarray, np.ndarray]:
    """Per-step bounds E_u, E_v (B, T, N) on |int - float| while both runs have the same spikes.

    With lambda_u = (2**D - du - 1)/2**D, lambda_v = (2**D - dv)/2**D and P_i the number of
    synapse groups with a negative weight exponent that target neuron i (each floors its sum,
    an error in (-1, 0]), every integer decay rounds toward zero (error < 1 LSB), so::

        E_u[t] = lambda_u * E_u[t-1] + 1 + 2**u_shift * P_i          (-> (1 + 2**u_shift P_i) / (1 - lambda_u))
        E_v[t] = lambda_v * E_v[t-1] + 1 + E_u[t]                      (bias is exact: bias_exp >= 0)

    and E_v restarts at 0 where the neuron spiked (both v are reset to 0). The float twin runs in
    float64, whose own rounding (~1e-16 relative) is covered by a 1e-9 relative slack.
    """
    fmt = qnet.number_format
    p = network_params(qnet)
    scale = float(fmt.decay_unity)
    lam_u, lam_v = p.decay_u / scale, p.decay_v / scale
    floors = np.zeros(qnet.n_neurons)
    for g in group_projections(qnet.projections):
        if g.weight_exp < 0:
            floors[g.rows] += 1
    inc_u = 1.0 + float(1 << fmt.u_shift) * floors
    b, t, n = rec_int.spikes.shape
    eu = np.zeros((b, t, n))
    ev = np.zeros((b, t, n))
    cu, cv = np.zeros((b, n)), np.zeros((b, n))
    for k in range(t):
        cu = lam_u * cu + inc_u
        cv = lam_v * cv + 1.0 + cu
        eu[:, k], ev[:, k] = cu, cv
        cv = np.where(rec_int.spikes[:, k], 0.0, cv)
    return eu, ev


def compare_int_float(qnet, rec_int: SpikeRecord, rec_float: SpikeRecord, *,
                      allow_v_saturation: bool = False) -> IntFloatComparison:
    """Rung 3: |u_int - u_float| and |v_int - v_float| against :func:`rounding_bounds`.

    Both records must hold u and v (``record_states=True``). Each sample is compared up to its
    first spike divergence (exclusive); overflow in the integer run makes the rung fail with an
    explicit reason (the float twin never wraps or clips). With ``allow_v_saturation`` (use it
    with a twin run with ``saturate_v=True``) clipping of ``v`` at its rails is defined
    behaviour modelled by both runs: it is reported in ``overflow`` but does not fail the
    rung; a wrap of ``u`` always does.
    """
    for rec, label in ((rec_int, "rec_int"), (rec_float, "rec_float")):
        if rec.u is None or rec.v is None:
            raise VerificationError("record lacks u/v", parameter=label, hint="run with record_states=True")
    lengths = rec_int.sample_lengths
    b, t, _ = rec_int.spikes.shape
    valid = np.arange(t)[None, :] < lengths[:, None]
    spike_diff = (rec_int.spikes != rec_float.spikes[:, :t]) & valid[:, :, None]
    per_bt = spike_diff.any(axis=2)
    div_step = np.where(per_bt.any(axis=1), per_bt.argmax(axis=1), lengths)
    first = None
    if per_bt.any():
        sample = int(np.argmin(np.where(per_bt.any(axis=1), div_step, np.iinfo(np.int64).max)))
        step = int(div_step[sample])
        neuron = int(np.argmax(spike_diff[sample, step]))
        first = {"sample": sample, "step": step, "neuron": neuron,
                 "int": bool(rec_int.spikes[sample, step, neuron]),
                 "float": bool(rec_float.spikes[sample, step, neuron])}
    compared = (np.arange(t)[None, :] < np.minimum(div_step, lengths)[:, None])[:, :, None]
    eu, ev = rounding_bounds(qnet, rec_int)
    du = np.abs(rec_int.u.astype(np.float64) - rec_float.u[:, :t])
    dv = np.abs(rec_int.v.astype(np.float64) - rec_float.v[:, :t])
    slack_u = 1e-9 * np.abs(rec_float.u[:, :t]) + 1e-9
    slack_v = 1e-9 * np.abs(rec_float.v[:, :t]) + 1e-9
    ratio_u = np.where(compared, (du - slack_u) / eu, 0.0)
    ratio_v = np.where(compared, (dv - slack_v) / ev, 0.0)
    max_ratio = float(max(ratio_u.max(initial=0.0), ratio_v.max(initial=0.0)))
    overflow = dict(rec_int.provenance.get("overflow", {}))
    events = {k: v for k, v in overflow.items() if k != "samples_with_overflow" and v
              and not (allow_v_saturation and k == "v_clip")}
    reasons = []
    if events:
        reasons.append(f"overflow in the integer model: {events}")
    if max_ratio > 1.0:
        reasons.append(f"rounding error exceeds its bound (ratio {max_ratio:.3g})")
    return IntFloatComparison(
        ok=not reasons, max_abs_u=float(np.where(compared, du, 0).max(initial=0.0)),
        max_abs_v=float(np.where(compared, dv, 0).max(initial=0.0)), max_bound_ratio=max_ratio,
        bound_u_max=float(np.where(compared, eu, 0).max(initial=0.0)),
        bound_v_max=float(np.where(compared, ev, 0).max(initial=0.0)), first_spike_divergence=first,
        spike_mismatch_fraction=float(spike_diff.sum() / max(1, valid.sum() * rec_int.n_neurons)),
        steps_compared=int(compared[:, :, 0].sum()), overflow=overflow, reason="; ".join(reasons))
