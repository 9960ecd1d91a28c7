"""The equivalence ladder: from the golden kernel up to the deployed task metric.

| rung | pair | tier |
|---|---|---|
| 1 | golden kernel vs Lava's stock bit-accurate LIF/Dense (homogeneous twin of the network) | exact |
| 2 | golden vs Lava HeteroLIF + Dense (the network itself) | exact |
| 3 | golden integer vs its float twin | rounding bound, overflow is a failure |
| 4 | Brian2 float vs the quantized network (and Brian2 de-quantized vs the float twin) | tolerant |
| 5 | task metric, Brian2 float vs deployed fixed point | tolerant |

An exact rung that fails names the first divergence: sample, step, neuron, variable and both values.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ..io import PathLike, to_jsonable, write_json_atomic
from ..quantize.network import QuantizedNetwork
from ..spec import NetworkSpec
from . import tolerant

VERIFICATION_KIND = "hrsnn_hw.VerificationReport"
VERIFICATION_VERSION = 1


@dataclass(frozen=True)
class RungResult:
    """One row of the ladder."""

    rung: int
    pair: str
    tier: str
    metric: str
    value: str
    tolerance: str
    ok: bool
    details: dict = field(default_factory=dict)
    first_divergence: str | None = None

    @property
    def verdict(self) -> str:
        return "PASS" if self.ok else "FAIL"


@dataclass(frozen=True)
class VerificationReport:
    """All rungs that ran, with their verdicts."""

    rungs: tuple[RungResult, ...]
    provenance: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rungs)

    def as_dict(self) -> dict:
        return {"format": VERIFICATION_KIND, "version": VERIFICATION_VERSION, "ok": self.ok,
                "rungs": [to_jsonable({**dataclasses.asdict(r), "verdict": r.verdict}) for r in self.rungs],
                "provenance": self.provenance}

    def save(self, path: PathLike) -> None:
        write_json_atomic(path, self.as_dict())

    def to_text(self) -> str:
        head = f"{'rung':<5}{'pair':<52}{'metric':<34}{'value':<30}{'verdict'}"
        lines = [head, "-" * len(head)]
        for r in self.rungs:
            lines.append(f"{r.rung:<5}{r.pair[:51]:<52}{r.metric[:33]:<34}{r.value[:29]:<30}{r.verdict}")
            if r.first_divergence:
                lines.append(f"     first divergence: {r.first_divergence}")
        lines.append(f"overall: {'PASS' if self.ok else 'FAIL'}")
        return "\n".join(lines)

    def to_markdown(self) -> str:
        lines = ["| rung | pair | tier | metric | value | tolerance | verdict |", "|---|---|---|---|---|---|---|"]
        for r in self.rungs:
            lines.append(f"| {r.rung} | {r.pair} | {r.tier} | {r.metric} | {r.value} | {r.tolerance} | {r.verdict} |")
        for r in self.rungs:
            if r.first_divergence:
                lines.append(f"\nRung {r.rung} first divergence: {r.first_divergence}")
        return "\n".join(lines) + "\n"


def homogeneous_twin(qnet: QuantizedNetwork) -> QuantizedNetwork:
    """The network with every neuron at the most common (du, dv, vth, bias) and no refractory
    period: the form Lava's stock LIF can hold (one du/dv/vth per process)."""
    def mode(values: np.ndarray) -> int:
        vals, counts = np.unique(values, return_counts=True)
        return int(vals[np.argmax(counts)])
    n = qnet.n_neurons
    return dataclasses.replace(
        qnet, name=f"{qnet.name}-homogeneous",
        du=np.full(n, mode(qnet.du)), dv=np.full(n, mode(qnet.dv)), vth=np.full(n, mode(qnet.vth)),
        bias_mant=np.full(n, mode(qnet.bias_mant)), bias_exp=np.full(n, mode(qnet.bias_exp)),
        refractory_steps=np.zeros(n, dtype=np.int64))


def _divergence_text(cmp: Any) -> str | None:
    div = getattr(cmp, "first_divergence", None)
    if div is None:
        return None
    d = div.as_dict() if hasattr(div, "as_dict") else dict(div)
    return ", ".join(f"{k}={v}" for k, v in d.items() if v is not None)


def exact_row(rung: int, pair: str, cmp: Any) -> RungResult:
    d = cmp.as_dict() if hasattr(cmp, "as_dict") else {}
    steps = d.get("n_steps_compared", d.get("steps_compared", "?"))
    spikes = d.get("n_spikes", "?")
    value = f"{steps} steps, {spikes} spikes" if cmp.ok else "diverged"
    return RungResult(rung=rung, pair=pair, tier="exact", metric="spikes, u, v at every step",
                      value=value, tolerance="identical", ok=bool(cmp.ok), details=to_jsonable(d),
                      first_divergence=None if cmp.ok else _divergence_text(cmp))


def run_exact_rungs(qnet: QuantizedNetwork, x: np.ndarray, lengths: np.ndarray,
                    rungs: Sequence[int] = (1, 2, 3), timeout_s: float = 600.0,
                    golden_record: Any = None) -> list[RungResult]:
    """Rungs 1-3 on ``qnet`` driven by the raster ``x`` (Lava for 1 and 2).

    ``golden_record``: the golden run of ``qnet`` on ``x`` with states, when the caller has it
    (rung 3 then does not simulate it again).
    """
    rows: list[RungResult] = []
    if 1 in rungs or 2 in rungs:
        from ..lava_backend.ladder import exact_rung
        if 1 in rungs:
            twin = homogeneous_twin(qnet)
            rows.append(exact_row(1, "golden vs Lava stock LIF + Dense (homogeneous twin)",
                                  exact_rung(twin, x, lengths, rung=1, timeout_s=timeout_s)))
        if 2 in rungs:
            rows.append(exact_row(2, "golden vs Lava HeteroLIF + Dense",
                                  exact_rung(qnet, x, lengths, rung=2, timeout_s=timeout_s)))
    if 3 in rungs:
        from ..golden import compare_int_float, simulate, simulate_float
        rec_int = golden_record if golden_record is not None else simulate(qnet, x, lengths, record_states=True)
        rec_float = simulate_float(qnet, x, lengths, record_states=True, saturate_v=True)
        cmp = compare_int_float(qnet, rec_int, rec_float, allow_v_saturation=True)
        d = cmp.as_dict()
        ov = cmp.overflow or {}
        wraps = int(ov.get("u_wrap", 0)) + int(ov.get("u_input_overflow", 0))
        rows.append(RungResult(
            rung=3, pair="golden integer vs golden float twin (v rails in both)", tier="bounded",
            metric="max abs(int - float) / rounding bound",
            value=f"{cmp.max_bound_ratio:.3g}; u wraps {wraps}; v clips {int(ov.get('v_clip', 0))}",
            tolerance="<= 1, no u wrap (v clips reported)", ok=bool(cmp.ok), details=to_jsonable(d),
            first_divergence=None if cmp.ok else cmp.reason))
    return rows


def run_rate_rung(spec_float: NetworkSpec, qnet: QuantizedNetwork, spec_dequantized: NetworkSpec,
                  x: np.ndarray, lengths: np.ndarray, target: str | None = None) -> list[RungResult]:
    """Rung 4: Brian2 float vs golden integer (statistics) and Brian2 de-quantized vs float twin."""
    from ..golden import simulate, simulate_float
    from ..refsim import SimulatorConfig
    from ..refsim import simulate as brian2_simulate
    config = SimulatorConfig(target=target) if target else SimulatorConfig()
    rec_brian = brian2_simulate(spec_float, x, lengths, config=config)
    rec_golden = simulate(qnet, x, lengths)
    rates = tolerant.compare_rates(rec_brian, rec_golden)
    ok_rates = (rates.correlation >= tolerant.RATE_CORRELATION_MIN
                and rates.relative_rate_difference <= tolerant.RELATIVE_RATE_DIFFERENCE_MAX)
    rows = [RungResult(
        rung=4, pair="Brian2 float vs quantized (golden integer)", tier="tolerant",
        metric="spike-count correlation; rate difference",
        value=f"r = {rates.correlation:.3f}; {100 * rates.relative_rate_difference:.1f} %",
        tolerance=(f"r >= {tolerant.RATE_CORRELATION_MIN}; <= "
                   f"{100 * tolerant.RELATIVE_RATE_DIFFERENCE_MAX:.0f} %"),
        ok=bool(ok_rates), details=rates.as_dict())]
    rec_brian_dq = brian2_simulate(spec_dequantized, x, lengths, config=config)
    rec_twin = simulate_float(qnet, x, lengths)
    twin = tolerant.compare_rates(rec_brian_dq, rec_twin)
    rows.append(RungResult(
        rung=4, pair="Brian2 de-quantized vs golden float twin", tier="tolerant",
        metric="spike agreement (same params, same order)",
        value=f"{100 * twin.spike_agreement:.3f} %", tolerance=f">= {100 * tolerant.TWIN_SPIKE_AGREEMENT_MIN:.0f} %",
        ok=bool(twin.spike_agreement >= tolerant.TWIN_SPIKE_AGREEMENT_MIN), details=twin.as_dict()))
    return rows


def task_rung(float_metric: float, fixed_metric: float, metric_name: str, where: str,
              n_test: int | None = None) -> RungResult:
    """Rung 5 as a row."""
    v = tolerant.task_metric_verdict(float_metric, fixed_metric, metric_name, n_test)
    return RungResult(rung=5, pair=f"task {metric_name}: Brian2 float vs fixed point ({where})", tier="tolerant",
                      metric=metric_name, value=f"{float_metric:.4f} -> {fixed_metric:.4f}",
                      tolerance=v["tolerance"], ok=v["ok"], details=v)
