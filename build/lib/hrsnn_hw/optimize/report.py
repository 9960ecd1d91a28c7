"""Reports of a study: the comparison table (Markdown) and the optimised design files."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from ..io import write_json_atomic
from .config import StudyConfig

LABELS = {"mrsnn": "MRSNN", "reference_hrsnn": "reference HRSNN", "optimized": "optimised HRSNN"}


def _cell(summary: Mapping[str, Any] | None, fmt: str) -> str:
    if not summary or summary.get("mean") is None:
        return "n/a"
    if summary.get("n", 0) > 1:
        return f"{summary['mean']:{fmt}} ± {summary['std']:{fmt}}"
    return f"{summary['mean']:{fmt}}"


def comparison_table(reeval: Mapping[str, Any], config: StudyConfig) -> str:
    """Markdown table: MRSNN, reference HRSNN, optimised HRSNN x MC, activity, E, task metric, energy.

    Cells are mean ± sample std over the re-evaluation seeds.
    """
    designs = reeval.get("designs", {})
    metric_name = next((d.get("task_metric_name") for d in designs.values() if d.get("task_metric_name")),
                       config.task_metric.name)
    has_energy = any((d.get("energy_per_inference_J") or {}).get("mean") is not None for d in designs.values())
    head = ["design", "MC", "activity (spikes/neuron/step)", "E = MC/activity", f"{metric_name} ({config.task})"]
    if has_energy:
        head.append(f"energy/inference (J, {config.profile})")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key in ("mrsnn", "reference_hrsnn", "optimized"):
        if key not in designs:
            continue
        d = designs[key]
        row = [LABELS[key], _cell(d.get("mc"), ".3g"), _cell(d.get("activity"), ".4g"), _cell(d.get("efficiency"), ".4g"),
               _cell(d.get("task_metric"), ".3f")]
        if has_energy:
            row.append(_cell(d.get("energy_per_inference_J"), ".3g"))
        lines.append("| " + " | ".join(row) + " |")
    n = len(reeval.get("seeds", []))
    lines.append("")
    lines.append(f"Mean ± sample std over {n} fresh seed(s) {reeval.get('seeds')} not used in the search "
                 f"(task {config.task}{', quick' if config.quick else ''}).")
    paired = reeval.get("paired", {})
    for ref in ("reference_hrsnn", "mrsnn"):
        e = (paired.get(ref) or {}).get("efficiency")
        if e and e.get("mean") is not None:
            lines.append(f"Paired E difference, optimised - {LABELS[ref]}: {e['mean']:+.4g} ± {e['std']:.3g} "
                         f"(same seeds).")
    if config.command:
        lines.append("")
        lines.append(f"Command: `{config.command}`")
    return "\n".join(lines) + "\n"


def write_design(design: Mapping[str, Any], path: Path, *, name: str, description: str) -> Path:
    """Write a design file in the format of the bundled reference designs (loadable by ``load_spec``)."""
    out = dict(design)
    out["name"] = name
    out["description"] = description
    ordered = {k: out[k] for k in ("format", "version", "name", "description") if k in out}
    ordered.update({k: v for k, v in out.items() if k not in ordered})
    return write_json_atomic(path, ordered)
