"""The run report: Markdown plus a self-contained HTML (figures embedded), all numbers computed."""
from __future__ import annotations

import base64
import html
import mimetypes
from pathlib import Path
from typing import Any

import numpy as np

from ..energy import format_joules
from ..errors import ArtifactError
from ..io import write_text_atomic
from ..plotting import pyplot, save_figure


def _fmt(x: Any, digits: int = 4) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, float):
        if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e5):
            return f"{x:.3e}"
        return f"{x:.{digits}g}"
    return str(x)


def design_figure(pipe, path: Path) -> Path:
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    for name in pipe.designs:
        spec = pipe.train(name).spec
        tau = spec.neuron_param("tau_m") * 1e3
        axes[0].hist(tau, bins=40, alpha=0.6, label=name)
        rule = spec.stdp[0] if spec.stdp else None
        if rule is not None:
            axes[1].hist(rule.eta_plus * 1e6, bins=40, alpha=0.6, label=name)
    axes[0].set_xlabel("tau_m (ms)")
    axes[0].set_ylabel("neurons")
    axes[0].set_title("membrane time constants")
    axes[1].set_xlabel("eta_plus (uV per unit trace)")
    axes[1].set_title("STDP potentiation rates (E->E synapses)")
    for ax in axes:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def training_figure(pipe, path: Path) -> Path:
    plt = pyplot()
    names = list(pipe.designs)
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 3.2), squeeze=False)
    for ax, name in zip(axes[0], names):
        trained = pipe.train(name)
        for rule in trained.spec.stdp:
            w0 = trained.initial.projection(rule.projection).weight * 1e3
            w1 = trained.spec.projection(rule.projection).weight * 1e3
            bins = np.linspace(0, rule.w_max * 1e3, 41)
            ax.hist(w0, bins=bins, alpha=0.5, label=f"{rule.projection} before")
            ax.hist(w1, bins=bins, alpha=0.5, label=f"{rule.projection} after STDP")
        ax.set_xlabel("weight (mV)")
        ax.set_title(f"{name}: unsupervised STDP")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def raster_figure(pipe, name: str, path: Path) -> Path:
    plt = pyplot()
    fl = pipe.test_record(name, "float")
    fx = pipe.test_record(name, "fixed")
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.4))
    for ax, rec, title in ((axes[0], fl, "Brian2 float"), (axes[1], fx, "fixed point (golden = Lava)")):
        n = int(rec.sample_lengths[0])
        t, i = np.nonzero(rec.spikes[0, :n])
        ax.scatter(t, i, s=1.5, color="k")
        ax.set_xlabel("step")
        ax.set_ylabel("neuron")
        ax.set_title(f"{name}, test sample 0: {title}", fontsize=9)
    steps = float(fl.sample_lengths.sum())
    ra = fl.spike_counts().sum(0) / steps
    rb = fx.spike_counts().sum(0) / steps
    axes[2].scatter(ra, rb, s=6)
    hi = max(ra.max(), rb.max(), 1e-6)
    axes[2].plot([0, hi], [0, hi], "r--", lw=1)
    axes[2].set_xlabel("rate, float (spikes/step)")
    axes[2].set_ylabel("rate, fixed point")
    axes[2].set_title("per-neuron rates on the test split", fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path)


def _utilization(pipe, name: str) -> str:
    from ..mapping import map_network
    from ..profiles import load_profile
    qnet = pipe.quantize(name)
    try:
        placement = map_network(qnet, load_profile(pipe.config.profile))
    except Exception as exc:  # a network that does not fit is a finding, reported as such
        return f"does not fit: {exc}"
    return placement.utilization.to_text()


_STYLE = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;line-height:1.4}"
          "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}"
          "pre{background:#f5f5f5;padding:8px;overflow-x:auto;font-size:12px}img{max-width:100%}")


def _data_uri(base: Path, src: str) -> str:
    """A local image file under ``base`` as a ``data:`` URI (the page must stand alone)."""
    root = base.resolve()
    path = (root / src).resolve()
    if "://" in src or src.startswith("data:") or root not in path.parents or not path.is_file():
        raise ArtifactError("report image must be a file inside the report directory", parameter="image",
                            value=src, allowed=f"a file under {root}")
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def markdown_to_html(md: str, base: Path, title: str = "hrsnn_hw report") -> str:
    """Markdown (CommonMark with tables, rendered by markdown-it-py) to one self-contained HTML page.

    Raw HTML in the Markdown is escaped, not passed through; every image is read from ``base``
    and embedded as a ``data:`` URI, so the page needs no other file.
    """
    from markdown_it import MarkdownIt
    parser = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = parser.parse(md)
    for token in tokens:
        for child in token.children or ():
            if child.type == "image":
                child.attrSet("src", _data_uri(Path(base), str(child.attrGet("src"))))
    body = parser.renderer.render(tokens, parser.options, {})
    return (f"<!doctype html>\n<html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head>\n<body>\n{body}</body></html>\n")


def _mc_frames_note(exp: Any, n_neurons: int) -> str:
    """How data-limited the MC estimate is: drive frames per readout feature (neuron)."""
    per = exp.mc_frames / max(n_neurons, 1)
    return (f"MC drive: {exp.mc_frames:,} frames of {exp.steps_per_frame} steps, delays 1..{exp.mc_max_delay}; "
            f"{per:.1f} frames per neuron for the largest design ({n_neurons} neurons). A ridge readout fitted on few "
            "frames per feature underestimates MC, so these are lower bounds, comparable between designs of one "
            "size (`hrsnn-hw capacity` drives at least 30 frames per neuron; docs/regime.md).")


def write_report(pipe, summary: dict) -> Path:
    """Write ``report/report.md`` and ``report/report.html`` for a finished pipeline run."""
    d = pipe.out / "report"
    d.mkdir(parents=True, exist_ok=True)
    cfg = pipe.config
    names = list(pipe.designs)
    design_figure(pipe, d / "design.png")
    training_figure(pipe, d / "training.png")
    for n in names:
        raster_figure(pipe, n, d / f"raster-{n}.png")
    stages = summary.get("stages", {})
    table = pipe.energy() if "energy" in stages else None

    def energy_on(name: str, profile: str) -> dict | None:
        for r in table.rows if table is not None else ():
            if r.get("design") == name and r.get("profile") == profile and not r.get("error"):
                return r
        return None

    def measured(name: str, stage: str):
        """The stage's Measurement, when this run reached it."""
        if f"{stage}-{name}" not in stages:
            return None
        return pipe.float_metrics(name) if stage == "float" else pipe.fixed_metrics(name)

    def verified(name: str):
        return pipe.verify(name) if f"verify-{name}" in stages else None
    md = [f"# hrsnn_hw run report: {', '.join(names)} on `{cfg.task}`", "",
          f"Design `{cfg.design}` (baseline: {cfg.baseline or 'none'}), deployment profile `{cfg.profile}`, "
          f"seed {cfg.seed}{', quick mode' if cfg.quick else ''}. Every number below was computed by this run "
          f"(`summary.json` holds them all).", "",
          "## Summary", ""]
    first = measured(names[0], "float")
    metric = first.task.metric_name if first is not None else "task metric"
    md.append(f"| design | MC (float) | activity (float) | E (float) | {metric} (float) | MC (fixed) | activity "
              f"(fixed) | E (fixed) | {metric} (fixed) | spikes/inference (fixed) | energy/inference on {cfg.profile} "
              "[band] | verification |")
    md.append("|---" * 12 + "|")
    for n in names:
        cells = []
        for stage in ("float", "fixed"):
            m = measured(n, stage)
            cells += ([m.mc, m.activity, m.efficiency, m.task.metric] if m is not None else [None] * 4)
        x = measured(n, "fixed")
        cells.append(x.task.spikes_per_inference if x is not None else None)
        e = energy_on(n, cfg.profile)
        e_text = (f"{format_joules(e.get('total_j'), missing='n/a')} [{format_joules(e.get('total_low_j'), missing='n/a')}"
                  f" - {format_joules(e.get('total_high_j'), missing='n/a')}]" if e else "n/a")
        ver = verified(n)
        md.append(f"| {n} | " + " | ".join(_fmt(c) for c in cells) +
                  f" | {e_text} | {'n/a' if ver is None else ('PASS' if ver.ok else 'FAIL')} |")
    md += ["", "MC: memory capacity (sum over delays 1..K of held-out squared correlations minus their chance "
           "level on shuffled targets); activity: spikes per neuron per "
           "step during the MC drive; E = MC / activity. Fixed: the quantized network run by the golden model "
           "(bit-identical to Lava, see the verification ladder).", "",
           _mc_frames_note(pipe.exp, max(pipe.train(n).spec.n_neurons for n in names)), "",
           "## Firing-rate distribution under the MC drive", "",
           "| design | stage | MC protocol | MC (counts) | MC (traces) | silent | saturated | median rate | "
           "CV of ISI (median) |", "|---|---|---|---|---|---|---|---|---|"]
    for n in names:
        for stage in ("float", "fixed"):
            m = measured(n, stage)
            details = m.memory.details if m is not None else {}
            fr = details.get("firing") or {}
            if not fr:
                continue
            md.append(f"| {n} | {stage} | {details.get('mc_protocol', 'n/a')} | {_fmt(m.mc)} | "
                      f"{_fmt(details.get('mc_traces'))} | {100 * fr['silent_fraction']:.1f} % | "
                      f"{100 * fr['saturated_fraction']:.1f} % | {_fmt(fr['rate_percentiles'].get('50'))} | "
                      f"{_fmt(fr['cv_isi_median'])} |")
    md += ["", "A reservoir that integrates has few silent neurons, few saturated ones (firing as fast as "
           "the refractory period allows) and irregular spike trains (CV of ISI near 1).", "",
           "## Design", "", "![design](design.png)", ""]
    for n in names:
        spec = pipe.train(n).spec
        taus = "; ".join(f"{p.name} tau_m mean {p.tau_m.mean() * 1e3:.3g} ms, CV {p.tau_m.std() / p.tau_m.mean():.3g}"
                         for p in spec.populations)
        md.append(f"- **{n}**: {spec.n_neurons} neurons ({', '.join(f'{p.name} {p.n}' for p in spec.populations)}), "
                  f"{spec.n_input} inputs, {sum(p.n_synapses for p in spec.projections)} synapses; {taus}.")
    md += ["", "## Unsupervised training (STDP)", "", "![training](training.png)", ""]
    for n in names:
        tr = pipe.train(n).training
        per_epoch = tr.get("per_epoch", [])
        if per_epoch:
            last = per_epoch[-1]
            md.append(f"- **{n}**: {tr.get('epochs')} epoch(s) over {tr.get('n_samples')} unlabelled samples; "
                      f"activity in the last epoch {_fmt(last.get('activity'))} spikes/neuron/step; "
                      f"{_fmt(last.get('wall_time_s'))} s per epoch.")
    md += ["", "## Activity: float reference vs fixed point", ""]
    for n in names:
        md.append(f"![raster {n}](raster-{n}.png)")
        md.append("")
    md += ["## Quantization", ""]
    for n in names:
        qreport = pipe.quantization_report(n)
        md += [f"### {n}", "", "```", qreport.to_text().rstrip(), "```", ""]
        qreport.plot(d / f"quantization-{n}.png")
        md += [f"![quantization {n}](quantization-{n}.png)", ""]
    md += ["## Mapping and utilisation", ""]
    for n in names:
        md += [f"### {n} on {cfg.profile}", "", "```", _utilization(pipe, n).rstrip(), "```", ""]
    md += ["## Verification ladder", ""]
    for n in names:
        ver = verified(n)
        if ver is not None:
            md += [f"### {n}", "", ver.to_markdown().rstrip(), ""]
    if table is not None:
        from ..energy import plot_energy
        md += ["## Energy per inference", "", "```", table.text.rstrip(), "```", ""]
        plot_energy(table, d / "energy.png")
        md += ["![energy](energy.png)", ""]
    md += ["## Environment", "", "| item | value |", "|---|---|"]
    for k, v in summary["environment"].items():
        md.append(f"| {k} | {v} |")
    md += ["", "Stages (skipped = inputs unchanged since the cached run):", "", "| stage | skipped | wall time (s) |",
           "|---|---|---|"]
    for k, v in summary.get("stages", {}).items():
        md.append(f"| {k} | {v['skipped']} | {v['wall_time_s']} |")
    text = "\n".join(md) + "\n"
    write_text_atomic(d / "report.md", text)
    write_text_atomic(d / "report.html", markdown_to_html(text, d, title=f"hrsnn_hw run report: {', '.join(names)}"))
    return d / "report.md"
