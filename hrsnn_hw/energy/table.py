"""Energy of several designs on several profiles: one table artifact, its JSON rows, its text, its figure.

Designs are compared on the same core budget by default: on every neuromorphic profile each
design is first mapped as compactly as the profile allows, then every design is mapped onto
the larger of those needs (:class:`~hrsnn_hw.energy.deployment.Deployment` with ``cores``),
so per-core costs (barrier, per-core overhead, a static share) are equal and the ratio of
dynamic energy follows the work (synaptic ops, spikes, active updates, messages).
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from .. import artifacts
from ..counting import ACTIVE_REPORTED, OpCounts, active_neurons
from ..errors import HrsnnError
from ..io import PathLike, to_jsonable
from ..profiles import HardwareProfile, load_profile
from ..records import SpikeRecord
from .conventional import ConventionalModel, price_conventional
from .deployment import Deployment
from .estimate import check_static
from .report import EnergyReport, format_joules, format_seconds, si_scale

TERM_ORDER = ("synaptic", "neuron_active", "neuron_idle", "spike_out", "routing", "learning", "overhead", "mac")
RATIO_COUNTS = ("synaptic_ops", "spikes", "neuron_updates_active", "messages", "hops")


@dataclass(frozen=True)
class DesignRun:
    """One design to price: its network, the record of its run, and what else is known.

    Attributes
    ----------
    name : str
    network : QuantizedNetwork
    record : SpikeRecord
        The run (the same inputs for every design of a comparison).
    active : ndarray of bool, optional
        SANA-FE's active rule per (sample, step, neuron), when the record holds no states.
    task : dict
        ``{"name": "accuracy", "value": 0.83}`` (shown beside the energy).
    """

    name: str
    network: Any
    record: SpikeRecord
    active: np.ndarray | None = None
    task: Mapping[str, Any] = field(default_factory=dict)


@artifacts.artifact("hrsnn_hw.EnergyTable", 2)
@dataclass(frozen=True)
class EnergyTable:
    """Every (profile, design) row, the design ratios per profile and the reports behind them.

    Attributes
    ----------
    reference : str
        The design others are divided by.
    rows : tuple of dict
        :meth:`EnergyReport.row` of every (profile, design), or an ``error`` row.
    ratios : dict
        Per profile: numerator / reference of dynamic and total energy (with bands), of the
        counts behind them, and of each dynamic term, on ``cores`` cores each.
    reports : dict of str to EnergyReport
        ``"profile/design"`` -> report.
    settings : dict
        Static convention, time model, mapping strategy, input placement, core budget rule.
    all_ratios : tuple of dict
        Every (design, reference) pair per profile (``ratios`` keeps the first per profile).
    """

    reference: str
    rows: tuple
    ratios: Mapping[str, Any]
    reports: Mapping[str, EnergyReport]
    settings: Mapping[str, Any] = field(default_factory=dict)
    all_ratios: tuple = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "rows", tuple(self.rows))
        object.__setattr__(self, "all_ratios", tuple(self.all_ratios))

    def report(self, profile: str, design: str) -> EnergyReport:
        try:
            return self.reports[f"{profile}/{design}"]
        except KeyError:
            raise HrsnnError("no such row", parameter="profile/design", value=f"{profile}/{design}",
                             allowed=f"one of {sorted(self.reports)}") from None

    def to_json(self) -> dict:
        """``{"reference", "rows", "ratios", "settings"}`` (the CLI's ``--json`` contract)."""
        return to_jsonable({"reference": self.reference, "rows": list(self.rows), "ratios": dict(self.ratios),
                            "settings": dict(self.settings)})

    @property
    def text(self) -> str:
        return table_text(self)


def _as_run(item) -> DesignRun:
    if isinstance(item, DesignRun):
        return item
    if isinstance(item, (tuple, list)) and len(item) in (3, 4):
        extra = dict(item[3]) if len(item) == 4 else {}
        return DesignRun(name=item[0], network=item[1], record=item[2], active=extra.get("active"),
                         task=extra.get("task", {}))
    raise HrsnnError("a design to price is a DesignRun or (name, network, record[, extras])", parameter="items",
                     value=type(item).__name__)


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or not b:
        return None
    return float(a) / float(b)


def compare_reports(num: EnergyReport, den: EnergyReport) -> dict:
    """Ratios of two reports on the same profile: dynamic and total (value and both band ends), counts, terms."""
    if num.profile != den.profile:
        raise HrsnnError("designs can only be compared on the same profile", parameter="denominator",
                         value=den.profile, allowed=num.profile)
    dyn = [_ratio(num.dynamic_j, den.dynamic_j), _ratio(num.dynamic_low_j, den.dynamic_low_j),
           _ratio(num.dynamic_high_j, den.dynamic_high_j)]
    tot = [_ratio(num.total_j, den.total_j), _ratio(num.total_low_j, den.total_low_j),
           _ratio(num.total_high_j, den.total_high_j)]

    def band(vals):
        ends = [v for v in vals if v is not None]
        return [min(ends), max(ends)] if ends else [None, None]
    return {"profile": num.profile, "numerator": num.design, "denominator": den.design,
            "cores": [num.n_cores, den.n_cores], "equal_cores": num.n_cores == den.n_cores,
            "dynamic": dyn[0], "dynamic_band": band(dyn), "total": tot[0], "total_band": band(tot),
            "static_convention": num.static_convention, "comparable_total": num.comparable and den.comparable,
            "counts": {k: _ratio(num.counts.get(k), den.counts.get(k)) for k in RATIO_COUNTS if k in num.counts},
            "terms": {k: _ratio(v, den.dynamic.get(k)) for k, v in num.dynamic.items()},
            "term_differences_j": {k: v - den.dynamic.get(k, 0.0) for k, v in num.dynamic.items()},
            "static_difference_j": (num.static_j or 0.0) - (den.static_j or 0.0)}


def energy_table(items: Sequence, profiles: Sequence[HardwareProfile | str], *, static: str = "chip",
                 time_per_step: str | float = "auto", inputs: str = "io", strategy: str = "pack_profiles",
                 equal_cores: bool = True, reference: str | None = None,
                 baseline: ConventionalModel | None = None, batch_size: int = 64) -> EnergyTable:
    """Energy per inference of every design on every profile, and each design's ratio to a reference.

    Parameters
    ----------
    items : sequence of DesignRun or (name, network, record[, extras])
        The designs, each with the record of its run (the same inputs for a fair comparison).
    profiles : sequence of HardwareProfile or names/paths
        Neuromorphic profiles map + count + price the spiking runs; conventional ones price
        ``baseline`` (at batch 1 and at ``batch_size``).
    static : {"chip", "core_share"}
        Static convention of every per-chip row.
    time_per_step : {"auto", "compute", "real_time", "tick"} or float
        Time model (``"auto"``: each profile's own).
    inputs, strategy : see :func:`hrsnn_hw.mapping.map_network`.
    equal_cores : bool
        Map every design on the same core budget, the larger of their needs (default).
    reference : str, optional
        Design the others are divided by (default: one named ``mrsnn``, any case, else the last).
    baseline : ConventionalModel, optional
        The non-spiking model for conventional profiles (without it they get an error row).
    batch_size : int
        The batch of the conventional rows' second price (beside batch 1).

    Returns
    -------
    EnergyTable
    """
    check_static(static)
    runs = [_as_run(it) for it in items]
    if not runs:
        raise HrsnnError("no designs to price", parameter="items", value=[], hint="give (name, network, record) tuples")
    names = [r.name for r in runs]
    if len(set(names)) != len(names):
        raise HrsnnError("design names must differ", parameter="items", value=names)
    if reference is None:
        reference = next((n for n in names if n.lower() == "mrsnn"), names[-1])
    elif reference not in names:
        raise HrsnnError("unknown reference design", parameter="reference", value=reference,
                         allowed=f"one of {names}")
    profs = [load_profile(p) for p in profiles]
    # The active rule does not depend on the placement: once per design, reused on every profile.
    activity: dict[str, tuple[np.ndarray, str]] = {}
    if any(p.kind == "neuromorphic" for p in profs):
        for run in runs:
            activity[run.name] = ((run.active, ACTIVE_REPORTED) if run.active is not None
                                  else active_neurons(run.record, run.network))
    reports: dict[str, EnergyReport] = {}
    rows: list[dict] = []
    ratios: dict[str, Any] = {}
    cache: dict[tuple, Any] = {}
    all_ratios: list[dict] = []
    for prof in profs:
        if prof.kind == "conventional":
            if baseline is None:
                rows.append({"profile": prof.name, "design": "-", "model": "conventional",
                             "error": "no conventional baseline model given"})
                continue
            rep = price_conventional(baseline, prof, batch_size=1)
            batched = price_conventional(baseline, prof, batch_size=batch_size)
            reports[f"{prof.name}/{baseline.name}"] = rep
            reports[f"{prof.name}/{baseline.name}@batch{batch_size}"] = batched
            row = rep.row()
            row.update({"dynamic_j_batched": batched.dynamic_j, "dynamic_low_j_batched": batched.dynamic_low_j,
                        "dynamic_high_j_batched": batched.dynamic_high_j, "batch_size_batched": batch_size,
                        "macs_per_frame": baseline.macs_per_frame, "macs": baseline.macs_per_inference})
            rows.append(row)
            continue
        deps: dict[str, Deployment] = {}
        for run in runs:
            try:
                deps[run.name] = _mapped(cache, run, prof, strategy, inputs, None)
            except HrsnnError as exc:
                rows.append({"profile": prof.name, "design": run.name, "model": "spiking", "error": str(exc)})
        budget = max((d.placement.n_neuron_cores for d in deps.values()), default=0)
        for run in runs:
            if run.name not in deps:
                continue
            dep = deps[run.name]
            if equal_cores and dep.placement.n_neuron_cores < budget:
                dep = _mapped(cache, run, prof, strategy, inputs, budget)
            rep = dep.price(_counted(cache, run, dep, activity[run.name]), static=static, time_per_step=time_per_step)
            rep = _with_task(rep, run)
            reports[f"{prof.name}/{run.name}"] = rep
            row = rep.row()
            row["core_budget"] = budget if equal_cores else None
            rows.append(row)
        den = reports.get(f"{prof.name}/{reference}")
        for run in runs:
            num = reports.get(f"{prof.name}/{run.name}")
            if den is None or num is None or run.name == reference:
                continue
            q = compare_reports(num, den)
            all_ratios.append(q)
            ratios.setdefault(prof.name, q)
    settings = {"static": static, "time_per_step": time_per_step, "inputs": inputs, "strategy": strategy,
                "equal_cores": equal_cores, "batch_size": batch_size,
                "core_budget_rule": "every design on the larger of the designs' core needs" if equal_cores else
                "each design on the fewest cores it needs"}
    return EnergyTable(reference=reference, rows=tuple(rows), ratios=ratios, reports=reports, settings=settings,
                       all_ratios=tuple(all_ratios))


def _limits_key(prof: HardwareProfile) -> str:
    """Profiles with the same per-core limits map a network the same way (loihi1 and loihi1_sanafe)."""
    return json.dumps(prof.raw.get("core_limits", {}), sort_keys=True)


def _mapped(cache: dict, run: DesignRun, prof: HardwareProfile, strategy: str, inputs: str,
            cores: int | None) -> Deployment:
    """The deployment of ``run`` on ``prof``, reusing a placement made for a profile with the same limits."""
    key = ("map", run.name, _limits_key(prof), strategy, inputs, cores)
    placement = cache.get(key)
    if placement is None:
        placement = Deployment.map(run.network, prof, strategy=strategy, inputs=inputs, cores=cores).placement
        cache[key] = placement
    elif placement.profile != prof.name:
        placement = dataclasses.replace(placement, profile=prof.name)
    return Deployment(network=run.network, profile=prof, placement=placement)


def _counted(cache: dict, run: DesignRun, dep: Deployment, activity: tuple) -> OpCounts:
    """Counts of ``run`` on ``dep``'s placement, reused for another profile with the same placement."""
    from .timing import has_compute_model
    p = dep.placement
    key = ("count", run.name, p.neuron_core.tobytes(), p.input_core.tobytes(), p.core_xy.tobytes(),
           p.core_tile.tobytes(), has_compute_model(dep.profile))
    counts = cache.get(key)
    if counts is None:
        counts = dep.count(run.record, active=activity[0], active_definition=activity[1])
        cache[key] = counts
    elif counts.placement_profile != dep.profile.name:
        counts = dataclasses.replace(counts, placement_profile=dep.profile.name)
    return counts


def _with_task(rep: EnergyReport, run: DesignRun) -> EnergyReport:
    from dataclasses import replace
    changes: dict[str, Any] = {}
    if rep.design != run.name:
        changes["design"] = run.name
    if run.task:
        changes["task"] = dict(run.task)
    return replace(rep, **changes) if changes else rep


def table_text(table: EnergyTable) -> str:
    """The table as text: one line per (profile, design), then the ratios."""
    head = ["profile", "design", "cores", "syn ops/MACs", "spikes", "dynamic", "dynamic band", "static", "convention",
            "total", "t/step", "latency", "task"]
    body = []
    for r in table.rows:
        if r.get("error"):
            body.append([r["profile"], r["design"], "-", "", "", "does not fit" if r.get("model") == "spiking"
                         else "n/a", r["error"][:70], "", "", "", "", "", ""])
            continue
        task = r.get("task_metric")
        body.append([r["profile"], r["design"] + ("" if r.get("comparable", True) else " *"),
                     str(r["cores"]) if r["model"] == "spiking" else "-",
                     _num(r.get("synaptic_ops")), _num(r.get("spikes")), format_joules(r["dynamic_j"]),
                     f"{format_joules(r['dynamic_low_j'])} .. {format_joules(r['dynamic_high_j'])}",
                     format_joules(r["static_j"]), r["static_convention"], format_joules(r["total_j"]),
                     format_seconds(r["time_per_step_s"]) + f" ({r['time_model']})" if r["time_model"] != "none" else "-",
                     format_seconds(r["latency_s"]) if r["latency_s"] else "-",
                     f"{r.get('task_metric_name')} {task:.4f}" if isinstance(task, float) else "-"])
        if r.get("batch_size_batched"):
            body.append(["", f"  @ batch {r['batch_size_batched']}", "", "", "", format_joules(r["dynamic_j_batched"]),
                         f"{format_joules(r['dynamic_low_j_batched'])} .. {format_joules(r['dynamic_high_j_batched'])}",
                         "", "", "", "", "", ""])
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(b, widths)).rstrip() for b in body]
    if any(not r.get("comparable", True) for r in table.rows if not r.get("error")):
        lines.append("* static not charged under the shared convention (see the row's static_convention): "
                     "not comparable on total energy")
    if table.ratios:
        lines.append("")
        lines.append("ratios on an equal core budget (band: both designs priced at the same end of every band)")
        for prof, q in table.ratios.items():
            fmt = (lambda v: "-" if v is None else f"{v:.3g}")
            counts = ", ".join(f"{k} {fmt(v)}" for k, v in q["counts"].items())
            lines.append(f"  {prof:<14} {q['numerator']}/{q['denominator']} on {q['cores'][0]} core(s): dynamic "
                         f"{fmt(q['dynamic'])} [{fmt(q['dynamic_band'][0])} .. {fmt(q['dynamic_band'][1])}], total "
                         f"{fmt(q['total'])} [{fmt(q['total_band'][0])} .. {fmt(q['total_band'][1])}]; {counts}")
    return "\n".join(lines)


def _num(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.4g}"


def plot_energy(table: EnergyTable, path: PathLike) -> Path:
    """Stacked dynamic terms plus the static column, one panel per profile (own axis), whiskers = band."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from ..io import atomic_path
    rows = [r for r in table.rows if not r.get("error")]
    profiles = list(dict.fromkeys(r["profile"] for r in rows))
    terms = [t for t in TERM_ORDER if any(t in r["dynamic_terms_j"] for r in rows)]
    terms += sorted({t for r in rows for t in r["dynamic_terms_j"]} - set(terms))
    ncols = min(4, max(1, len(profiles)))
    nrows = -(-max(1, len(profiles)) // ncols)
    fig = Figure(figsize=(3.6 * ncols, 3.3 * nrows + 0.6))
    # a fixed layout (constrained layout costs more than the drawing itself)
    fig.subplots_adjust(left=0.07, right=0.99, top=0.95, bottom=0.1 + 0.2 / nrows, wspace=0.38, hspace=0.5)
    FigureCanvasAgg(fig)
    colors = {t: f"C{i % 10}" for i, t in enumerate(terms)}
    for k, prof in enumerate(profiles):
        ax = fig.add_subplot(nrows, ncols, k + 1)
        prow = [r for r in rows if r["profile"] == prof]
        x = np.arange(len(prow))
        scale, unit = _unit(max(max(r["total_high_j"], r["total_j"]) for r in prow))
        bottom = np.zeros(len(prow))
        for t in terms:
            vals = np.array([r["dynamic_terms_j"].get(t, 0.0) for r in prow]) / scale
            if vals.any():
                ax.bar(x, vals, bottom=bottom, color=colors[t], label=t, width=0.6)
                bottom += vals
        stat = np.array([r["static_j"] or 0.0 for r in prow]) / scale
        if stat.any():
            ax.bar(x, stat, bottom=bottom, color="0.85", hatch="//", edgecolor="0.5", width=0.6,
                   label=f"static ({table.settings.get('static', '')})")
        tot = np.array([r["total_j"] for r in prow]) / scale
        lo = np.array([r["total_low_j"] for r in prow]) / scale
        hi = np.array([r["total_high_j"] for r in prow]) / scale
        ax.errorbar(x, tot, yerr=np.vstack([np.maximum(tot - lo, 0), np.maximum(hi - tot, 0)]), fmt="none", ecolor="k",
                    capsize=4, lw=1)
        ax.set_xticks(x, [f"{r['design']}\n{r['cores']} core(s)" if r["model"] == "spiking" else r["design"]
                          for r in prow], fontsize=8)
        ax.set_title(prof, fontsize=10)
        ax.set_ylabel(f"energy per inference ({unit})", fontsize=8)
        ax.tick_params(axis="y", labelsize=8)
    handles = {}
    for ax in fig.axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(lab, h)
    if handles:
        fig.legend(list(handles.values()), list(handles.keys()), loc="lower center",
                   ncols=min(len(handles), 5), fontsize=8, frameon=False)
    path = Path(path)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=100)
    return path


def _unit(x: float) -> tuple[float, str]:
    scale, prefix = si_scale(x if x > 0 else 1e-12)
    return scale, f"{prefix}J"
