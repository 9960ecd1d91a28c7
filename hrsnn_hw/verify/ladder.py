"""The equivalence ladder, assembled in one place: :func:`verify`.

| rung | pair | tier |
|---|---|---|
| 1 | golden vs Lava stock LIF / LIFRefractory per neuron profile + Dense (the network itself) | exact |
| 2 | golden vs Lava HeteroLIF + Dense (the deployment) | exact |
| 3 | golden integer vs its float twin | rounding bound; a u wrap fails it |
| 4 | Brian2 float vs the quantized network; Brian2 de-quantized vs the float twin | tolerant |
| 5 | task metric, float vs fixed point, on paired test samples | one-sided test with a tolerance |

An exact rung that fails names the first divergence: sample, step, neuron, variable and both values.
The pipeline's verify stage, the notebooks and the tests all call :func:`verify`.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

import numpy as np

from .. import __version__
from ..backends import simulate
from ..errors import DataError
from ..golden.validate import check_inputs
from ..records import SpikeRecord
from .exact import exact_rung, float_rung
from .report import RungResult, VerificationReport
from .tolerant import TaskPredictions, Tolerances, compare_rates, task_verdict

#: rung -> (pair, tier, question); the report and documentation read this.
RUNGS: dict[int, tuple[str, str, str]] = {
    1: ("golden vs Lava stock LIF/LIFRefractory per neuron profile + Dense", "exact",
        "is the golden kernel's per-neuron arithmetic right, on the network itself?"),
    2: ("golden vs Lava HeteroLIF + Dense (the deployment)", "exact", "is the compiled deployment right?"),
    3: ("golden integer vs golden float twin (v rails in both)", "bounded", "rounding and overflow"),
    4: ("Brian2 float vs the quantized network", "tolerant",
        "discretisation, update order, parameter quantisation"),
    5: ("task metric, float vs fixed point, paired test samples", "paired test",
        "does the deployed network still do the task?"),
}


#: Backends whose runs of the exact inputs :func:`verify` can take instead of simulating them.
RECORD_BACKENDS = ("golden", "lava", "lava-stock")


def _divergence_text(cmp: Any) -> str | None:
    div = getattr(cmp, "first_divergence", None)
    if div is None:
        return getattr(cmp, "reason", None) or None
    d = div.as_dict() if hasattr(div, "as_dict") else dict(div)
    return ", ".join(f"{k}={v}" for k, v in d.items() if v is not None)


def exact_row(rung: int, pair: str, cmp: Any, extra: Mapping[str, Any] | None = None,
              note: str = "") -> RungResult:
    """A row of an exact rung from an :class:`~hrsnn_hw.golden.compare.ExactComparison`."""
    d = {**cmp.as_dict(), **(extra or {})}
    value = f"{cmp.n_steps_compared} steps, {cmp.n_spikes} spikes{note}" if cmp.ok else "diverged"
    return RungResult(rung=rung, pair=pair, tier="exact", metric="spikes, u, v at every step", value=value,
                      tolerance="identical", ok=bool(cmp.ok), details=d,
                      first_divergence=None if cmp.ok else _divergence_text(cmp))


def float_row(cmp: Any) -> RungResult:
    """Rung 3's row from an :class:`~hrsnn_hw.golden.compare.IntFloatComparison`."""
    ov = cmp.overflow or {}
    wraps = int(ov.get("u_wrap", 0)) + int(ov.get("u_input_overflow", 0))
    return RungResult(rung=3, pair=RUNGS[3][0], tier="bounded", metric="max abs(int - float) / rounding bound",
                      value=f"{cmp.max_bound_ratio:.3g}; u wraps {wraps}; v clips {int(ov.get('v_clip', 0))}",
                      tolerance="<= 1, no u wrap (v clips reported)", ok=bool(cmp.ok), details=cmp.as_dict(),
                      first_divergence=None if cmp.ok else cmp.reason)


def rate_rows(rec_brian, rec_golden, rec_brian_dequantized, rec_twin, tol: Tolerances) -> list[RungResult]:
    """Rung 4's two rows from the four runs of the same inputs."""
    rates = compare_rates(rec_brian, rec_golden)
    ok_rates = (rates.correlation >= tol.rate_correlation_min
                and rates.relative_rate_difference <= tol.relative_rate_difference_max)
    twin = compare_rates(rec_brian_dequantized, rec_twin)
    return [
        RungResult(rung=4, pair="Brian2 float vs quantized (golden integer)", tier="tolerant",
                   metric="spike-count correlation; rate difference",
                   value=f"r = {rates.correlation:.3f}; {100 * rates.relative_rate_difference:.1f} %",
                   tolerance=(f"r >= {tol.rate_correlation_min:g}; <= "
                              f"{100 * tol.relative_rate_difference_max:g} %"),
                   ok=bool(ok_rates), details=rates.as_dict()),
        RungResult(rung=4, pair="Brian2 de-quantized vs golden float twin", tier="tolerant",
                   metric="spike agreement (same params, same order)", value=f"{100 * twin.spike_agreement:.3f} %",
                   tolerance=f">= {100 * tol.twin_spike_agreement_min:g} %",
                   ok=bool(twin.spike_agreement >= tol.twin_spike_agreement_min), details=twin.as_dict()),
    ]


def task_row(task: TaskPredictions, tol: Tolerances) -> RungResult:
    """Rung 5's row (see :func:`hrsnn_hw.verify.tolerant.task_verdict`)."""
    v = {**task_verdict(task, tol), "where": task.where}
    if task.metric == "accuracy":
        value = (f"{v['float']:.4f} -> {v['fixed']:.4f}; {v['n10']} vs {v['n01']} discordant of {v['n']}; "
                 f"drop bound {100 * v['drop_lower_bound']:+.1f} pts")
        metric = "accuracy, paired (McNemar exact bound)"
    else:
        value = f"{v['float']:.4f} -> {v['fixed']:.4f} ({100 * v['relative_increase']:+.1f} %)"
        metric = "NRMSE"
    return RungResult(rung=5, pair=f"task {task.metric}: float vs fixed point", tier="paired test"
                      if task.metric == "accuracy" else "tolerant", metric=metric, value=value,
                      tolerance=v["tolerance"], ok=v["ok"], details=v)


def _given(records: Mapping[str, SpikeRecord], name: str, x: np.ndarray, lengths: np.ndarray,
           states: bool) -> SpikeRecord | None:
    """A caller's run of backend ``name``, checked to be a run of these inputs."""
    rec = records.get(name)
    if rec is None:
        return None
    if not isinstance(rec, SpikeRecord):
        raise DataError("records must map backend names to SpikeRecords", parameter=f"records[{name!r}]",
                        value=type(rec).__name__)
    same = rec.spikes.shape[:2] == x.shape[:2] and np.array_equal(rec.sample_lengths, lengths)
    if same and rec.input_spikes is not None:
        valid = np.arange(x.shape[1])[None, :, None] < lengths[:, None, None]
        same = np.array_equal(np.asarray(rec.input_spikes) != 0, (np.asarray(x) != 0) & valid)
    if not same:
        raise DataError("a given record is not a run of the inputs being verified", parameter=f"records[{name!r}]",
                        hint="pass the run of exactly input_spikes / sample_lengths, or leave it out")
    if states and (rec.u is None or rec.v is None):
        raise DataError("a given record lacks u and v", parameter=f"records[{name!r}]",
                        hint="run it with record_states=True")
    return rec


def verify(network, input_spikes, sample_lengths=None, *, rungs: Iterable[int] | None = None,
           reference=None, rate_inputs: tuple[np.ndarray, np.ndarray] | None = None,
           task: TaskPredictions | None = None, records: Mapping[str, SpikeRecord] | None = None,
           tolerances: Tolerances = Tolerances(), brian2_target: str | None = None, timeout_s: float = 600.0,
           provenance: Mapping[str, Any] | None = None) -> VerificationReport:
    """Run the equivalence ladder on a quantized network; the one place it is assembled.

    Parameters
    ----------
    network : QuantizedNetwork
        The deployed network.
    input_spikes, sample_lengths
        Inputs of the exact rungs 1-3 (every spike, u and v compared at every step).
    rungs : iterable of int, optional
        Which rungs to run. Default: 1-3, plus 4 when ``reference`` is given and 5 when
        ``task`` is given. Asking for a rung without its inputs is an error.
    reference : NetworkSpec or TrainedNetwork, optional
        The float network ``network`` was quantized from (rung 4; Brian2).
    rate_inputs : (input_spikes, sample_lengths), optional
        Inputs of rung 4 (default: the exact rungs' inputs).
    task : TaskPredictions, optional
        The two networks' task outputs on the same test split (rung 5).
    records : mapping of backend name to SpikeRecord, optional
        Runs already made on ``input_spikes`` (``"golden"``, ``"lava"``, ``"lava-stock"``; with
        u and v); they are checked to be runs of these inputs and not simulated again.
    tolerances : Tolerances
        The stated pass conditions of rungs 4 and 5.
    brian2_target : str, optional
        Brian2 code-generation target of rung 4.
    timeout_s : float
        Longest Lava run.
    provenance : mapping, optional
        Added to the report's provenance (design, profile...).

    Returns
    -------
    VerificationReport
    """
    from ..fixedpoint import QuantizedNetwork
    if not isinstance(network, QuantizedNetwork):
        raise DataError("verify() checks a quantized network", parameter="network", value=type(network).__name__,
                        allowed="QuantizedNetwork", hint="quantize the network first")
    if rungs is None:
        todo = {1, 2, 3} | ({4} if reference is not None else set()) | ({5} if task is not None else set())
    else:
        todo = set()
        for r in rungs:
            if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or int(r) not in RUNGS:
                raise DataError("unknown rung", parameter="rungs", value=r, allowed=f"some of {list(RUNGS)}")
            todo.add(int(r))
    if 4 in todo and reference is None:
        raise DataError("rung 4 needs the float reference network", parameter="reference",
                        hint="pass the NetworkSpec or TrainedNetwork the network was quantized from")
    if 5 in todo and task is None:
        raise DataError("rung 5 needs the task outputs of both networks", parameter="task",
                        hint="pass TaskPredictions.classification(y_true, y_float, y_fixed)")
    x, lengths = check_inputs(network, input_spikes, sample_lengths)
    records = dict(records or {})
    unknown = sorted(set(records) - set(RECORD_BACKENDS))
    if unknown:
        raise DataError("records are keyed by the backend that made them", parameter="records", value=unknown[0],
                        allowed=f"some of {list(RECORD_BACKENDS)}")
    rows: list[RungResult] = []
    golden = None
    rate_samples = None
    if todo & {1, 2, 3}:
        golden = _given(records, "golden", x, lengths, states=True) or \
            simulate(network, x, lengths, backend="golden", record_states=True)
    if 1 in todo:
        stock = _given(records, "lava-stock", x, lengths, states=True) or \
            simulate(network, x, lengths, backend="lava-stock", record_states=True, timeout_s=timeout_s)
        cmp = exact_rung(network, x, lengths, backend="lava-stock", golden=golden, other=stock)
        profiles = stock.provenance.get("neuron_profiles")
        refractory = stock.provenance.get("refractory_profiles")
        note = f", {profiles} neuron profiles" + (f" ({refractory} refractory)" if refractory else "")
        rows.append(exact_row(1, RUNGS[1][0], cmp, {"neuron_profiles": profiles, "refractory_profiles": refractory},
                              note=note if profiles is not None else ""))
    if 2 in todo:
        lava = _given(records, "lava", x, lengths, states=True) or \
            simulate(network, x, lengths, backend="lava", record_states=True, timeout_s=timeout_s)
        rows.append(exact_row(2, RUNGS[2][0], exact_rung(network, x, lengths, backend="lava", golden=golden,
                                                         other=lava)))
    if 3 in todo:
        rows.append(float_row(float_rung(network, x, lengths, golden=golden)))
    if 4 in todo:
        from ..quantize import dequantize
        xr, lr = (x, lengths) if rate_inputs is None else check_inputs(network, *rate_inputs)
        rate_samples = int(len(lr))
        opts = {"target": brian2_target} if brian2_target else {}
        rows += rate_rows(simulate(reference, xr, lr, backend="brian2", **opts),
                          simulate(network, xr, lr, backend="golden"),
                          simulate(dequantize(network, reference), xr, lr, backend="brian2", **opts),
                          simulate(network, xr, lr, backend="golden-float"), tolerances)
    if 5 in todo:
        rows.append(task_row(task, tolerances))
    rows.sort(key=lambda r: r.rung)
    prov = {"design": network.name, "profile": network.provenance.get("profile"),
            "exact_samples": int(len(lengths)), "exact_steps": int(lengths.sum()),
            "rate_samples": rate_samples,
            "tolerances": tolerances.as_dict(), "rungs": sorted(todo),
            "versions": {"hrsnn_hw": __version__, "numpy": np.__version__}, **dict(provenance or {})}
    return VerificationReport(rungs=tuple(rows), provenance=prov)
