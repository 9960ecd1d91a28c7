"""Reports of a study: the comparison table, the MC-activity front (Markdown) and the design files."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from ..io import write_json_atomic
from .config import StudyConfig

LABELS = {"mrsnn": "MRSNN (reference)", "tuned_mrsnn": "MRSNN (tuned, same budget)",
          "reference_hrsnn": "reference HRSNN", "optimized": "optimised HRSNN"}
ORDER = ("mrsnn", "tuned_mrsnn", "reference_hrsnn", "optimized")
PAIRED_LABELS = {"efficiency": "E", "mc": "MC", "activity": "activity", "task_metric": "task metric"}


def _cell(summary: Mapping[str, Any] | None, fmt: str) -> str:
    if not summary or summary.get("mean") is None:
        return "n/a"
    if summary.get("n", 0) > 1:
        return f"{summary['mean']:{fmt}} ± {summary['std']:{fmt}}"
    return f"{summary['mean']:{fmt}}"


def _joules_cell(summary: Mapping[str, Any] | None) -> str:
    """:func:`_cell` of an energy in joules, through the package's one joule formatter."""
    from ..energy import format_joules
    if not summary or summary.get("mean") is None:
        return "n/a"
    if summary.get("n", 0) > 1:
        return f"{format_joules(summary['mean'])} ± {format_joules(summary['std'])}"
    return format_joules(summary["mean"])


def _effect(entry: Mapping[str, Any] | None) -> str:
    eff = (entry or {}).get("effect")
    if not eff:
        return "n/a" if not entry or entry.get("mean") is None else f"{entry['mean']:+.4g}"
    ci = eff["ci_difference"]
    return f"{eff['mean_difference']:+.4g} [{ci['low']:+.4g}, {ci['high']:+.4g}]"


def comparison_table(reeval: Mapping[str, Any], config: StudyConfig, *, mc_check: Mapping[str, Any] | None = None,
                     notes: Sequence[str] = ()) -> str:
    """Markdown: each re-evaluated design x MC, activity, E, task metric (energy), then the paired
    differences of the optimised HRSNN over each design with their bootstrap intervals.

    Cells are mean ± sample std over the re-evaluation seeds.
    """
    designs = reeval.get("designs", {})
    metric_name = next((d.get("task_metric_name") for d in designs.values() if d.get("task_metric_name")),
                       config.task_metric.name)
    has_energy = any((d.get("energy_per_inference_J") or {}).get("mean") is not None for d in designs.values())
    head = ["design", "E = MC/activity", "MC", "activity (spikes/neuron/step)", f"{metric_name} ({config.task})"]
    if has_energy:
        head.append(f"energy/inference ({config.profile})")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key in ORDER:
        if key not in designs:
            continue
        d = designs[key]
        row = [LABELS[key], _cell(d.get("efficiency"), ".4g"), _cell(d.get("mc"), ".3g"), _cell(d.get("activity"), ".4g"),
               _cell(d.get("task_metric"), ".3f")]
        if has_energy:
            row.append(_joules_cell(d.get("energy_per_inference_J")))
        lines.append("| " + " | ".join(row) + " |")
    n = len(reeval.get("seeds", []))
    lines.append("")
    lines.append(f"Mean ± sample std over {n} fresh seed(s) {reeval.get('seeds')} not used in the search "
                 f"(task {config.task}{', quick' if config.quick else ''}).")
    for key in ORDER:
        other = (designs.get(key) or {}).get("same_network_as")
        if other:
            lines.append(f"The {LABELS[key]} is the same network as the {LABELS[other]} (its search found nothing "
                         "better): the same runs are shown for both.")
    paired = reeval.get("paired", {})
    if paired:
        conf = next((e["effect"]["ci_difference"]["confidence"] for p in paired.values() for e in p.values()
                     if e and e.get("effect")), 0.95)
        lines += ["", f"Optimised HRSNN minus each design, paired by seed (mean [{100 * conf:g} % bootstrap CI]):", "",
                  "| optimised HRSNN minus | " + " | ".join(PAIRED_LABELS.values()) + " |",
                  "|" + "---|" * (len(PAIRED_LABELS) + 1)]
        for key in ORDER:
            if key in paired:
                lines.append(f"| {LABELS[key]} | " + " | ".join(_effect(paired[key].get(m)) for m in PAIRED_LABELS)
                             + " |")
    if mc_check:
        lines += ["", f"MC of the optimised HRSNN against the {LABELS[mc_check['against']]} on fresh seeds: "
                      f"{mc_check['mean_difference']:+.3g} [{mc_check['ci'][0]:+.3g}, {mc_check['ci'][1]:+.3g}], "
                      f"{mc_check['verdict']}."]
    lines += list(notes)
    if config.command:
        lines.append("")
        lines.append(f"Command: `{config.command}`")
    return "\n".join(lines) + "\n"


def _num(value: Any, fmt: str) -> str:
    return "n/a" if value is None or isinstance(value, str) else f"{value:{fmt}}"


def confirmation_table(confirmation: Mapping[str, Any], config: StudyConfig) -> str:
    """Markdown: each study's confirmed candidates, their objectives and MC on the search and the
    confirmation seeds, whether every constraint still holds there, and which one was selected."""
    seeds = confirmation["seeds"]
    ref = (confirmation.get("reference") or {}).get("metrics") or {}
    names = [o.name for o in config.objectives]
    metrics = [o.metric for o in config.objectives] + ([] if "mc" in [o.metric for o in config.objectives] else ["mc"])
    labels = [PAIRED_LABELS.get(m, n) for m, n in zip(metrics, names + ["mc"])]
    lines = [f"Confirmation before selecting: up to {confirmation['top']} best feasible trials of each study, run again "
             f"on {len(seeds)} confirmation seed{'' if len(seeds) == 1 else 's'} {seeds} (not the search seeds, on which they were chosen, nor the "
             "fresh re-evaluation seeds); each constraint is checked on these seeds alone"
             + (f", the MC floor against the reference MRSNN's MC there ({ref['mc']:.4g})" if "mc" in ref else "")
             + ". The selection is the best candidate whose constraints hold.", ""]
    head = ["study", "trial"] + [f"{lb} (search)" for lb in labels] + [f"{lb} (confirmation)" for lb in labels]         + ["constraints hold", "selected"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    study_labels = {"hrsnn": "HRSNN", "tuned_mrsnn": "MRSNN (tuned)"}
    notes = []
    for key, study in confirmation["studies"].items():
        for row in study["candidates"]:
            search = row.get("search_metrics") or {}
            conf = row.get("metrics") or {}
            held = "yes" if row["feasible"] else ("failed" if row["errors"] else "no")
            mark = "yes" if row["trial"] == study["selected"] else ""
            lines.append("| " + " | ".join([study_labels.get(key, key), str(row["trial"])]
                                           + [_num(search.get(m), ".4g") for m in metrics]
                                           + [_num(conf.get(m), ".4g") for m in metrics] + [held, mark]) + " |")
        if study["selected"] is not None and not study["confirmed"]:
            notes.append(f"{study_labels.get(key, key)}: no candidate met the constraints on the confirmation seeds; "
                         f"the least violating one (trial {study['selected']}) is selected.")
    if notes:
        lines += [""] + notes
    return "\n".join(lines) + "\n"


def front_table(points: Sequence[Mapping[str, Any]], task_metric: str, *, label: str = "") -> str:
    """Markdown table of an MC-activity front (trial, MC, activity, E, task metric, feasible)."""
    lines = [f"| {label or 'trial'} | MC | activity (spikes/neuron/step) | E = MC/activity | {task_metric} | feasible |",
             "|---|---|---|---|---|---|"]
    for p in points:
        e = p.get("efficiency")
        tm = p.get("task_metric")
        lines.append(f"| {p['trial']} | {p['mc']:.3g} | {p['activity']:.4g} | "
                     f"{'n/a' if e is None else f'{e:.4g}'} | {'n/a' if tm is None else f'{tm:.3f}'} | "
                     f"{'yes' if p['feasible'] else 'no'} |")
    return "\n".join(lines) + "\n"


def write_design(design: Mapping[str, Any], path: Path, *, name: str, description: str) -> Path:
    """Write a design file in the format of the bundled reference designs (loadable by ``load_spec``)."""
    out = dict(design)
    out["name"] = name
    out["description"] = description
    ordered = {k: out[k] for k in ("format", "version", "name", "description") if k in out}
    ordered.update({k: v for k, v in out.items() if k not in ordered})
    return write_json_atomic(path, ordered)
