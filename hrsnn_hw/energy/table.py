"""Energy of several designs on several profiles: one table, one JSON document, one figure."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Sequence

import numpy as np

from ..counting import count_ops
from ..errors import HrsnnError
from ..io import PathLike, to_jsonable
from ..mapping import map_network
from ..profiles import HardwareProfile, load_profile
from ..fixedpoint import QuantizedNetwork
from ..records import SpikeRecord
from .baseline import VARIANTS, compare_designs, conventional_baseline
from .estimate import estimate_energy
from .report import EnergyReport, format_joules

TERM_ORDER = ("synaptic", "neuron_active", "neuron_idle", "neuron_updates", "spike_out", "routing", "learning",
              "overhead", "static", "mac")


def _as_profile(p: HardwareProfile | str) -> HardwareProfile:
    return p if isinstance(p, HardwareProfile) else load_profile(p)


def energy_table(items: Sequence[tuple[str, QuantizedNetwork, SpikeRecord]],
                 profiles: Sequence[HardwareProfile | str], *, static: str = "per_chip",
                 time_per_step: str | float = "profile", inputs: str = "io", strategy: str = "pack_profiles",
                 reference: str | None = None, baseline_variants: Sequence[str] = VARIANTS) -> dict:
    """Energy per inference of every design on every profile, and each design's ratio to a reference.

    Parameters
    ----------
    items : sequence of (design name, QuantizedNetwork, SpikeRecord)
        The designs, each with the record of its run (the same inputs for a fair comparison).
    profiles : sequence of HardwareProfile or names/paths
        Neuromorphic profiles map + count + price the spiking run; conventional ones price the
        rate baseline (each of ``baseline_variants``).
    static, time_per_step : see :func:`estimate_energy`.
    inputs, strategy : see :func:`hrsnn_hw.mapping.map_network`.
    reference : str, optional
        Design the others are divided by (default: one named ``mrsnn``, any case, else the last).

    Returns
    -------
    dict
        ``rows`` (one per profile x design x model: total, low, high, terms, cores, error),
        ``ratios`` (design / reference per profile and model), ``reports``
        (``"profile/design/model"`` -> :class:`EnergyReport`), ``text`` (the table).
        A design that cannot be mapped onto a profile gets a row with ``error`` set.
    """
    if not items:
        raise HrsnnError("no designs to price", parameter="items", value=[],
                         hint="give (name, qnet, record) tuples")
    names = [name for name, _, _ in items]
    if len(set(names)) != len(names):
        raise HrsnnError("design names must differ", parameter="items", value=names)
    if reference is None:
        reference = next((n for n in names if n.lower() == "mrsnn"), names[-1])
    elif reference not in names:
        raise HrsnnError("unknown reference design", parameter="reference", value=reference,
                         allowed=f"one of {names}")
    profs = [_as_profile(p) for p in profiles]
    reports: dict[str, EnergyReport] = {}
    rows: list[dict] = []
    for prof in profs:
        for name, qnet, record in items:
            if prof.kind == "conventional":
                for variant in baseline_variants:
                    rep = conventional_baseline(qnet, record.sample_lengths, prof, variant=variant, design=name)
                    reports[f"{prof.name}/{name}/{rep.model}"] = rep
                    rows.append(_row(rep))
                continue
            try:
                placement = map_network(qnet, prof, strategy=strategy, inputs=inputs)
            except HrsnnError as exc:
                rows.append({"profile": prof.name, "design": name, "model": "spiking", "error": str(exc)})
                continue
            counts = count_ops(record, qnet, placement)
            rep = estimate_energy(counts, prof, placement, static=static, time_per_step=time_per_step)
            rep = _renamed(rep, name)
            reports[f"{prof.name}/{name}/spiking"] = rep
            rows.append(_row(rep))
    ratios = []
    for key, rep in reports.items():
        prof_name, name, model = key.split("/")
        ref = reports.get(f"{prof_name}/{reference}/{model}")
        if ref is not None and name != reference:
            ratios.append(compare_designs(rep, ref))
    return {"reference": reference, "rows": rows, "ratios": ratios, "reports": reports,
            "text": table_text(rows, ratios)}


def _renamed(rep: EnergyReport, name: str) -> EnergyReport:
    return rep if rep.design == name else replace(rep, design=name)


def _row(rep: EnergyReport) -> dict:
    return {"profile": rep.profile, "design": rep.design, "model": rep.model, "total_J": rep.total,
            "low_J": rep.low, "high_J": rep.high, "terms_J": dict(rep.terms), "n_cores": rep.n_cores,
            "time_per_inference_s": rep.time_per_inference, "error": None}


def table_text(rows: Sequence[dict], ratios: Sequence[dict]) -> str:
    """The table: one line per profile x design x model, one column per term, then the ratios."""
    terms = [t for t in TERM_ORDER if any(t in r.get("terms_J", {}) for r in rows)]
    terms += sorted({t for r in rows for t in r.get("terms_J", {})} - set(terms))
    head = ["profile", "design", "model", "cores", "total", "band"] + terms
    body = []
    for r in rows:
        if r.get("error"):
            body.append([r["profile"], r["design"], r["model"], "-", "does not fit", r["error"][:60]]
                        + ["" for _ in terms])
            continue
        body.append([r["profile"], r["design"], r["model"], str(r["n_cores"]), format_joules(r["total_J"]),
                     f"{format_joules(r['low_J'])} .. {format_joules(r['high_J'])}"]
                    + [format_joules(r["terms_J"][t]) if t in r["terms_J"] else "" for t in terms])
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(b, widths)) for b in body]
    if ratios:
        lines.append("")
        lines.append("energy ratios (same profile, same model; band: both designs at the same end of every price band)")
        for q in ratios:
            fmt = (lambda v: "-" if v is None else f"{v:.3g}")
            lines.append(f"  {q['profile']:<14} {q['model']:<12} {q['numerator']}/{q['denominator']} = "
                         f"{fmt(q['ratio'])} [{fmt(q['low'])} .. {fmt(q['high'])}]")
    return "\n".join(lines)


def table_json(table: dict) -> dict:
    """The JSON document of :func:`energy_table`'s result (reports in full)."""
    return to_jsonable({"format": "hrsnn_hw.EnergyTable", "version": 1, "reference": table["reference"],
                        "rows": table["rows"], "ratios": table["ratios"],
                        "reports": {k: v.to_dict() for k, v in table["reports"].items()}})


def plot_energy(table: dict, path: PathLike) -> Path:
    """Stacked bars of the terms, one panel per profile (its own linear axis), whiskers = band."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = [r for r in table["rows"] if not r.get("error")]
    profiles = list(dict.fromkeys(r["profile"] for r in rows))
    terms = [t for t in TERM_ORDER if any(t in r["terms_J"] for r in rows)]
    terms += sorted({t for r in rows for t in r["terms_J"]} - set(terms))
    ncols = min(3, max(1, len(profiles)))
    nrows = -(-max(1, len(profiles)) // ncols)
    fig = Figure(figsize=(4.2 * ncols, 3.4 * nrows), constrained_layout=True)
    FigureCanvasAgg(fig)
    colors = {t: f"C{i % 10}" for i, t in enumerate(terms)}
    for k, prof in enumerate(profiles):
        ax = fig.add_subplot(nrows, ncols, k + 1)
        prow = [r for r in rows if r["profile"] == prof]
        labels = [r["design"] if r["model"] == "spiking" else f"{r['design']}\n{r['model']}" for r in prow]
        x = np.arange(len(prow))
        bottom = np.zeros(len(prow))
        scale, unit = _unit(max(r["high_J"] for r in prow))
        for t in terms:
            vals = np.array([r["terms_J"].get(t, 0.0) for r in prow]) / scale
            if vals.any():
                ax.bar(x, vals, bottom=bottom, color=colors[t], label=t, width=0.6)
                bottom += vals
        tot = np.array([r["total_J"] for r in prow]) / scale
        lo = np.array([r["low_J"] for r in prow]) / scale
        hi = np.array([r["high_J"] for r in prow]) / scale
        ax.errorbar(x, tot, yerr=[np.maximum(tot - lo, 0), np.maximum(hi - tot, 0)], fmt="none", ecolor="k",
                    capsize=4, lw=1)
        ax.set_xticks(x, labels, fontsize=8)
        ax.set_title(prof, fontsize=10)
        ax.set_ylabel(f"energy per inference ({unit})", fontsize=8)
        ax.tick_params(axis="y", labelsize=8)
    handles = {}
    for ax in fig.axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(lab, h)
    if handles:
        fig.legend(list(handles.values()), list(handles.keys()), loc="outside lower center",
                   ncols=min(len(handles), 6), fontsize=8)
    from ..io import atomic_path
    path = Path(path)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=120)
    return path


def _unit(x: float) -> tuple[float, str]:
    for scale, unit in ((1.0, "J"), (1e-3, "mJ"), (1e-6, "uJ"), (1e-9, "nJ"), (1e-12, "pJ")):
        if x >= scale:
            return scale, unit
    return 1e-12, "pJ"
