"""The 2x2 ablation the paper rests on: {hom, het neurons} x {hom, het STDP} over seeds.

Every arm is derived from one heterogeneous base design with
:func:`hrsnn_hw.spec.make_arm`, so for a given seed the four networks share connectivity
and initial weights and differ only in heterogeneity. Comparisons are paired by seed, and the
seed is the unit of analysis: each claim gets exactly one value per seed (:mod:`hrsnn_hw.stats`).

The paper's two claims, with the rules of :class:`~hrsnn_hw.stats.Thresholds`:

1. *heterogeneous neurons raise MC*: per seed, the relative MC change from homogeneous to
   heterogeneous neurons, averaged over the two STDP arms of that seed (the factorial main
   effect); supported when its bootstrap interval lies above ``mc_gain``.
2. *heterogeneous STDP lowers activity while keeping MC*: per seed, the relative activity
   change and the relative MC change from homogeneous to heterogeneous STDP (averaged over
   the two neuron arms); supported when activity falls (interval below ``-activity_drop``)
   and MC is kept (interval above ``-mc_tolerance``).

Beside the arms: controls of the same seeds (the network before STDP; the trained weights
shuffled across synapses), showing what training contributes, and non-spiking references on
the same split (:mod:`hrsnn_hw.nonspiking`), showing what the reservoir adds.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .errors import BackendError, DataError
from .evaluation import EvalJob, Evaluator, evaluate_many
from .executor import Executor
from .experiment import CONTROLS, ExperimentConfig, load_design
from .io import write_json_atomic, write_text_atomic
from .spec import make_arm
from .stats import PairedEffect, Thresholds, bootstrap_mean_ci, effect_of_differences, paired_effect, summarise

ARMS: dict[str, tuple[bool, bool]] = {
    "mrsnn": (False, False),
    "het_neurons_hom_stdp": (True, False),
    "hom_neurons_het_stdp": (False, True),
    "hrsnn": (True, True),
}
ARM_SHORT = {"mrsnn": "MRSNN", "het_neurons_hom_stdp": "het N", "hom_neurons_het_stdp": "het STDP", "hrsnn": "HRSNN"}
ARM_LABELS = {"mrsnn": "hom. neurons + hom. STDP (MRSNN)", "het_neurons_hom_stdp": "het. neurons + hom. STDP",
              "hom_neurons_het_stdp": "hom. neurons + het. STDP", "hrsnn": "het. neurons + het. STDP (HRSNN)"}
CONTROL_LABELS = {"untrained": "untrained (before STDP)", "shuffled": "trained weights shuffled across synapses"}
METRICS = ("mc", "activity", "efficiency", "task_metric", "spikes_per_inference")
DEFAULT_SEEDS = 10
QUICK_SEEDS = 3
MIN_SEEDS = 3
# (treatment, baseline) per seed: the two simple effects of each factor.
NEURON_PAIRS = (("het_neurons_hom_stdp", "mrsnn"), ("hrsnn", "hom_neurons_het_stdp"))
STDP_PAIRS = (("hom_neurons_het_stdp", "mrsnn"), ("hrsnn", "het_neurons_hom_stdp"))

CLAIM_1 = "heterogeneous_neurons_raise_mc"
CLAIM_2 = "heterogeneous_stdp_lowers_activity"


@dataclass(frozen=True)
class AblationResult:
    """Per-arm, per-seed metrics, controls, references, and the verdicts on the paper's claims.

    Attributes
    ----------
    task : str
    seeds : tuple of int
        Seeds every arm completed (the statistics' units).
    runs : mapping
        ``{arm: [metrics of seed s, ...]}`` (each with ``seed``; arms with controls carry
        ``controls: {name: metrics}``).
    summary : mapping
        ``{arm: {metric: summarise(...)}}``.
    claims : mapping
        ``{claim: {...}}`` with the verdict, the per-seed effects and their intervals.
    contrasts : mapping
        Descriptive paired effects (HRSNN minus MRSNN), no verdict.
    controls : mapping
        ``{arm: {control: {"summary": ..., "effects": {metric: trained - control}}}}``.
    references : mapping
        ``{name: {"label", "runs", "summary"}}`` of the non-spiking references.
    thresholds : Thresholds
    task_metric_name : str
    higher_is_better : bool
    failed : list
        Jobs that failed (their seeds are left out of every arm).
    config : dict
    """

    task: str
    seeds: tuple[int, ...]
    runs: Mapping[str, list]
    summary: Mapping[str, dict]
    claims: Mapping[str, dict]
    contrasts: Mapping[str, dict]
    controls: Mapping[str, dict]
    references: Mapping[str, dict]
    thresholds: Thresholds
    task_metric_name: str
    higher_is_better: bool = True
    failed: list = field(default_factory=list)
    config: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"task": self.task, "seeds": list(self.seeds), "task_metric_name": self.task_metric_name,
                "higher_is_better": self.higher_is_better, "thresholds": self.thresholds.as_dict(),
                "rules": self.thresholds.describe(),
                "arms": {arm: {"label": ARM_LABELS[arm], "hetero_neurons": ARMS[arm][0],
                               "hetero_stdp": ARMS[arm][1], **self.summary[arm], "runs": self.runs[arm]}
                         for arm in ARMS},
                "claims": dict(self.claims), "contrasts": dict(self.contrasts), "controls": dict(self.controls),
                "references": dict(self.references), "failed": list(self.failed), "config": self.config}

    # ------------------------------------------------------------------ report
    def to_markdown(self) -> str:
        name = self.task_metric_name
        th = self.thresholds
        lines = ["Rules, fixed before the runs:", "", *[f"- {rule}" for rule in th.describe()], ""]
        lines += [f"| network | MC | activity (spikes/neuron/step) | E = MC/activity | {name} | spikes/inference |",
                  "|---|---|---|---|---|---|"]
        for arm in ARMS:
            cells = [_mean_sd(self.summary[arm][m]) for m in METRICS]
            lines.append(f"| {ARM_LABELS[arm]} | " + " | ".join(cells) + " |")
        for arm, per_control in self.controls.items():
            for control, entry in per_control.items():
                cells = [_mean_sd(entry["summary"][m]) for m in METRICS]
                lines.append(f"| control: {_short(arm)}, {CONTROL_LABELS[control]} | " + " | ".join(cells) + " |")
        for ref in self.references.values():
            s = ref["summary"]
            lines.append(f"| non-spiking: {ref['label']} | {_mean_sd(s['mc'])} | - | - | "
                         f"{_mean_sd(s['task_metric'])} | - |")
        lines += ["", f"Mean ± sample standard deviation over {len(self.seeds)} seeds {list(self.seeds)} on "
                      f"`{self.task}`; controls and references on the same seeds and split."]
        if self.failed:
            lines.append(f"Left out after a failed run: {len(self.failed)} job(s) ({self.failed[0]['error'][:120]} ...).")
        lines += ["", "**The paper's claims** (one paired value per seed; relative change with its "
                      f"{100 * th.confidence:g} % bootstrap interval):", "",
                  "| claim | per-seed contrast | mean change | relative change [CI] | d_z | p (one-sided t) | verdict |",
                  "|---|---|---|---|---|---|---|"]
        for claim in self.claims.values():
            for i, row in enumerate(claim["tests"]):
                label = claim["claim"] if i == 0 else ""
                verdict = f"**{claim['verdict']}**" if i == 0 else ""
                lines.append(f"| {label} | {row['contrast']} | {_effect_cells(row['effect'])} | {verdict} |")
        lines.append("")
        for claim in self.claims.values():
            lines.append(f"- **{claim['claim']}**: {claim['verdict']}. {claim['evidence']}")
        secondary = [(f"claim {i}", row) for i, c in enumerate(self.claims.values(), start=1)
                     for row in c.get("simple_effects", [])]
        if secondary:
            lines += ["", "Simple effects (each factor at a fixed level of the other; shown, not used for a verdict):",
                      "", "| factor | contrast | mean change | relative change [CI] | d_z | p (one-sided t) |",
                      "|---|---|---|---|---|---|"]
            for claim, row in secondary:
                lines.append(f"| {claim} | {row['contrast']} | {_effect_cells(row['effect'])} |")
        if self.controls:
            lines += ["", "**Controls** (trained minus control, same seeds): what STDP training contributes.", "",
                      "| arm | control | metric | mean change | relative change [CI] | d_z | p (one-sided t) |",
                      "|---|---|---|---|---|---|---|"]
            for arm, per_control in self.controls.items():
                for control, entry in per_control.items():
                    for metric, eff in entry["effects"].items():
                        label = {"mc": "MC", "task_metric": name}.get(metric, metric)
                        lines.append(f"| {_short(arm)} | {control} | {label} | {_effect_cells(eff)} |")
        if self.contrasts:
            lines += ["", "**HRSNN minus MRSNN** (same seeds; descriptive):", "",
                      "| metric | mean change | relative change [CI] | d_z | p (one-sided t) |", "|---|---|---|---|---|"]
            for metric, eff in self.contrasts.items():
                label = {"mc": "MC", "efficiency": "E", "task_metric": name}.get(metric, metric)
                lines.append(f"| {label} | {_effect_cells(eff)} |")
        if self.references:
            better = "higher" if self.higher_is_better else "lower"
            parts = [f"{ref['label']} {_ci_text(ref['task_metric_ci'])}" for ref in self.references.values()]
            lines += ["", f"What the reservoir adds: the HRSNN's {name} is {_ci_text(self.summary_ci('hrsnn'))} "
                          f"({better} is better; mean [{100 * th.confidence:g} % bootstrap CI] over seeds) against "
                          + "; ".join(parts) + " on the same split."]
        return "\n".join(lines) + "\n"

    def summary_ci(self, arm: str, metric: str = "task_metric") -> dict:
        """Mean and bootstrap interval of one arm's metric over seeds."""
        values = [r[metric] for r in self.runs[arm]]
        ci = bootstrap_mean_ci(values, self.thresholds.confidence, self.thresholds.n_resamples)
        return {"mean": float(np.mean(values)), **ci.as_dict()}

    def plot(self, path: str | Path) -> Path:
        """Bars per arm (dots: seeds; hatched: controls; dashed: non-spiking references) and a
        forest plot of the per-seed relative effects with their intervals and thresholds."""
        from .plotting import pyplot, save_figure
        plt = pyplot()
        fig = plt.figure(figsize=(15, 7.5), layout="constrained")
        top, bottom = fig.subfigures(2, 1, height_ratios=[1.0, 0.8])
        panels = [("mc", "memory capacity"), ("activity", "spikes / neuron / step"),
                  ("efficiency", "E = MC / activity"), ("task_metric", self.task_metric_name)]
        colors = dict(zip(ARMS, ["#999999", "#4c72b0", "#dd8452", "#55a868"]))
        bars = [(a, ARM_SHORT[a], colors[a], None) for a in ARMS]
        bars += [(f"{arm}:{c}", f"{ARM_SHORT[arm]} {c}", colors[arm], "//")
                 for arm, per in self.controls.items() for c in per]
        axes = top.subplots(1, 4)
        for ax, (metric, label) in zip(axes, panels):
            for i, (key, _, color, hatch) in enumerate(bars):
                vals = np.array([r[metric] for r in self._runs_of(key)], dtype=float)
                ax.bar(i, np.nanmean(vals), yerr=np.nanstd(vals, ddof=1) if vals.size > 1 else 0, capsize=3,
                       color=color, hatch=hatch, edgecolor="k" if hatch else None, alpha=0.6 if hatch else 1.0)
                ax.scatter(np.full(vals.size, i), vals, s=8, color="k", zorder=3)
            if metric in ("mc", "task_metric"):
                for j, ref in enumerate(self.references.values()):
                    mean = ref["summary"][metric]["mean"]
                    if mean is not None:
                        ax.axhline(mean, ls="--", lw=1.2, color=f"C{j + 4}", label=f"non-spiking: {ref['label']}")
                if self.references:
                    ax.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.25), frameon=False)
            ax.set_xticks(np.arange(len(bars)), [b[1] for b in bars], fontsize=7, rotation=30, ha="right")
            ax.set_title(label, fontsize=10)
        top.suptitle(f"2x2 ablation on {self.task} ({len(self.seeds)} seeds; bars: mean ± sd, dots: seeds, "
                     "hatched: controls)", fontsize=10)
        ax = bottom.subplots(1, 1)
        rows = [(row["short"], row["effect"]) for claim in self.claims.values() for row in claim["tests"]]
        names = {"mc": "MC", "task_metric": self.task_metric_name}
        rows += [(f"{ARM_SHORT[arm]}: trained - {c}, {names.get(m, m)}", eff) for arm, per in self.controls.items()
                 for c, entry in per.items() for m, eff in entry["effects"].items()]
        y = np.arange(len(rows))[::-1]
        for yi, (label, eff) in zip(y, rows):
            ci, mean = eff["ci_relative"], eff["mean_relative"]
            ax.errorbar(100 * mean, yi, xerr=[[100 * (mean - ci["low"])], [100 * (ci["high"] - mean)]],
                        fmt="o", color="k", capsize=3)
            ax.scatter(100 * np.asarray(eff["relative"]), np.full(len(eff["relative"]), yi), s=6, color="0.6",
                       zorder=2)
        ax.axvline(0, color="k", lw=0.8)
        ax.axvline(-100 * self.thresholds.mc_tolerance, color="C3", lw=0.8, ls=":",
                   label=f"MC kept above -{100 * self.thresholds.mc_tolerance:g} % (claim 2)")
        ax.set_yticks(y, [r[0] for r in rows], fontsize=8)
        ax.set_xlabel(f"relative change (%): seeds (grey), mean and {100 * self.thresholds.confidence:g} % "
                      "bootstrap CI (black)")
        ax.legend(fontsize=7, loc="best")
        return save_figure(fig, path)

    def _runs_of(self, key: str) -> list[dict]:
        if ":" in key:
            arm, control = key.split(":")
            return [r["controls"][control] for r in self.runs[arm]]
        return list(self.runs[key])


def _short(arm: str) -> str:
    return ARM_SHORT.get(arm, arm)


def _mean_sd(s: Mapping[str, Any]) -> str:
    if s.get("mean") is None:
        return "n/a"
    sd = s["std"] if s["std"] > 1e-9 * abs(s["mean"]) else 0.0  # no rounding noise of equal values
    return f"{s['mean']:.4g} ± {sd:.2g}"


def _ci_text(ci: Mapping[str, Any]) -> str:
    return f"{ci['mean']:.4g} [{ci['low']:.4g}, {ci['high']:.4g}]"


def _effect_cells(eff: Mapping[str, Any]) -> str:
    ci = eff["ci_relative"]
    dz = eff["effect_size_dz"]
    p = eff["p_value"]
    return (f"{eff['mean_difference']:+.3g} | {100 * eff['mean_relative']:+.1f} % [{100 * ci['low']:+.1f}, "
            f"{100 * ci['high']:+.1f}] | {'n/a' if not np.isfinite(dz) else f'{dz:.2g}'} | "
            f"{'n/a' if not np.isfinite(p) else f'{p:.3g}'}")


# ---------------------------------------------------------------------- statistics

def _column(runs: Mapping[str, list], arm: str, metric: str) -> np.ndarray:
    return np.asarray([r[metric] for r in runs[arm]], dtype=np.float64)


def _main_effect(runs: Mapping[str, list], pairs: Sequence[tuple[str, str]], metric: str, alternative: str,
                 th: Thresholds) -> PairedEffect:
    """One value per seed: the two simple effects of the factor averaged within the seed."""
    diffs = [_column(runs, a, metric) - _column(runs, b, metric) for a, b in pairs]
    rel = []
    for (a, b), d in zip(pairs, diffs):
        base = np.abs(_column(runs, b, metric))
        if np.any(base == 0) or not np.all(np.isfinite(base)):
            raise DataError("relative change to a zero or undefined baseline", parameter=f"{b}.{metric}",
                            value=base.tolist(), hint="a baseline network was silent or had no memory")
        rel.append(d / base)
    return effect_of_differences(np.mean(diffs, axis=0), np.mean(rel, axis=0), metric=metric,
                                 alternative=alternative, thresholds=th)


def _simple(runs: Mapping[str, list], pair: tuple[str, str], metric: str, alternative: str,
            th: Thresholds) -> dict:
    a, b = pair
    eff = paired_effect(_column(runs, a, metric), _column(runs, b, metric), metric=metric,
                        alternative=alternative, thresholds=th)
    return {"contrast": f"{metric}: {_short(a)} - {_short(b)}", "effect": eff.as_dict()}


def _not_judged(n: int, th: Thresholds) -> str | None:
    return f"not judged ({n} seeds < {th.min_seeds})" if n < th.min_seeds else None


def judge_claims(runs: Mapping[str, list], thresholds: Thresholds | None = None) -> dict:
    """Verdicts on the paper's two claims from per-seed results of the four arms (see module docstring).

    Parameters
    ----------
    runs : mapping
        ``{arm: [metrics per seed]}`` for every arm of :data:`ARMS`, seeds in the same order.
    thresholds : Thresholds, optional

    Returns
    -------
    dict
        ``{CLAIM_1: {...}, CLAIM_2: {...}}``; each with ``verdict`` (``"supported"``,
        ``"contradicted"``, ``"inconclusive"`` or ``"not judged (...)"``), ``holds``,
        ``tests`` (the per-seed effects the verdict reads), ``simple_effects`` and ``evidence``.
    """
    th = thresholds or Thresholds()
    n = len(runs["mrsnn"])
    if any(len(runs[a]) != n for a in ARMS):
        raise DataError("every arm needs one result per seed", parameter="runs",
                        value={a: len(runs[a]) for a in ARMS})
    pct = lambda x: f"{100 * x:+.1f} %"  # noqa: E731

    # Claim 1 ---------------------------------------------------------------------------
    mc1 = _main_effect(runs, NEURON_PAIRS, "mc", "greater", th)
    ci = mc1.ci_relative
    verdict = _not_judged(n, th) or ("supported" if ci.above(th.mc_gain) else
                                     "contradicted" if ci.below(0.0) else "inconclusive")
    claim1 = {"claim": "heterogeneous neurons raise memory capacity", "verdict": verdict,
              "holds": verdict == "supported", "n_seeds": n,
              "tests": [{"contrast": "MC: het - hom neurons (mean of both STDP arms per seed)",
                         "short": "claim 1: MC, het - hom neurons", "effect": mc1.as_dict()}],
              "simple_effects": [_simple(runs, p, "mc", "greater", th) for p in NEURON_PAIRS],
              "evidence": (f"MC(het neurons) - MC(hom neurons) = {mc1.text()}; one value per seed; "
                           f"one-sided paired t-test p = {mc1.p_value:.3g} (secondary).")}

    # Claim 2 ---------------------------------------------------------------------------
    act = _main_effect(runs, STDP_PAIRS, "activity", "less", th)
    mc2 = _main_effect(runs, STDP_PAIRS, "mc", "greater", th)
    a_ci, m_ci = act.ci_relative, mc2.ci_relative
    lowers = a_ci.below(-th.activity_drop)
    raises = a_ci.above(0.0)
    keeps = m_ci.above(-th.mc_tolerance)
    loses = m_ci.below(-th.mc_tolerance)
    verdict2 = _not_judged(n, th) or ("supported" if lowers and keeps else
                                      "contradicted" if raises or loses else "inconclusive")
    claim2 = {"claim": "heterogeneous STDP lowers spiking activity while keeping memory capacity",
              "verdict": verdict2, "holds": verdict2 == "supported", "n_seeds": n,
              "lowers_activity": bool(lowers), "raises_activity": bool(raises), "keeps_mc": bool(keeps),
              "loses_mc": bool(loses),
              "tests": [{"contrast": "activity: het - hom STDP (mean of both neuron arms per seed)",
                         "short": "claim 2: activity, het - hom STDP", "effect": act.as_dict()},
                        {"contrast": "MC: het - hom STDP (mean of both neuron arms per seed)",
                         "short": "claim 2: MC, het - hom STDP", "effect": mc2.as_dict()}],
              "simple_effects": ([_simple(runs, p, "activity", "less", th) for p in STDP_PAIRS]
                                 + [_simple(runs, p, "mc", "greater", th) for p in STDP_PAIRS]),
              "evidence": (f"activity(het STDP) - activity(hom STDP) = {act.text(' spikes/neuron/step')}; "
                           f"MC changes by {pct(mc2.mean_relative)} ({100 * th.confidence:g} % CI "
                           f"[{pct(m_ci.low)}, {pct(m_ci.high)}]; kept if the interval lies above "
                           f"-{100 * th.mc_tolerance:g} %).")}
    return {CLAIM_1: claim1, CLAIM_2: claim2}


def _judge_or_explain(runs: Mapping[str, list], th: Thresholds) -> dict:
    try:
        return judge_claims(runs, th)
    except DataError as exc:  # e.g. a silent baseline arm: say why there is no verdict
        note = f"not judged ({exc})"
        return {key: {"claim": label, "verdict": note, "holds": False, "tests": [], "evidence": note}
                for key, label in ((CLAIM_1, "heterogeneous neurons raise memory capacity"),
                                   (CLAIM_2, "heterogeneous STDP lowers spiking activity while keeping memory "
                                             "capacity"))}


def _contrasts(runs: Mapping[str, list], higher_is_better: bool, th: Thresholds) -> dict:
    out = {}
    for metric, alternative in (("efficiency", "greater"), ("mc", "greater"), ("activity", "less"),
                                ("task_metric", "greater" if higher_is_better else "less")):
        try:
            out[metric] = paired_effect(_column(runs, "hrsnn", metric), _column(runs, "mrsnn", metric),
                                        metric=metric, alternative=alternative, thresholds=th).as_dict()
        except DataError:
            continue
    return out


def _control_effects(runs: Mapping[str, list], arm: str, control: str, higher_is_better: bool,
                     th: Thresholds) -> dict:
    trained = runs[arm]
    ctl = [r["controls"][control] for r in trained]
    effects = {}
    for metric, alternative in (("mc", "greater"), ("activity", "less"),
                                ("task_metric", "greater" if higher_is_better else "less")):
        try:
            effects[metric] = paired_effect([r[metric] for r in trained], [c[metric] for c in ctl], metric=metric,
                                            alternative=alternative, thresholds=th).as_dict()
        except DataError:
            continue
    return {"label": CONTROL_LABELS[control], "summary": {m: summarise([c.get(m) for c in ctl]) for m in METRICS},
            "effects": effects}


# ---------------------------------------------------------------------- running

def _references(names: Sequence[str], config: ExperimentConfig, seeds: Sequence[int], n_units: int,
                th: Thresholds) -> dict:
    """Non-spiking references on the task's split, one run per seed (they are cheap)."""
    from .nonspiking import REFERENCES, reference_metrics
    from .tasks import load_task
    if not names:
        return {}
    task = load_task(config.task, quick=config.quick)
    out = {}
    for name in names:
        runs = [dict(reference_metrics(name, task, seed=s, n_units=n_units, n_bins=config.n_bins,
                                       readout=config.readout, mc_frames=config.mc_frames,
                                       mc_washout=config.mc_washout, mc_max_delay=config.mc_max_delay),
                     seed=s) for s in seeds]
        values = [r["task_metric"] for r in runs]
        ci = bootstrap_mean_ci(values, th.confidence, th.n_resamples)
        out[name] = {"label": REFERENCES[name], "runs": runs,
                     "summary": {m: summarise([r[m] for r in runs]) for m in ("mc", "task_metric")},
                     "task_metric_ci": {"mean": float(np.mean(values)), **ci.as_dict()}}
    return out


def run_ablation(base_design: str | Mapping[str, Any] = "hrsnn", *,
                 config: ExperimentConfig | None = None, seeds: Sequence[int] = tuple(range(DEFAULT_SEEDS)),
                 workers: int | None = None, executor: Executor | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 evaluator: Evaluator | str | None = None,
                 controls: Sequence[str] = CONTROLS, control_arms: Sequence[str] = ("hrsnn",),
                 references: Sequence[str] = ("linear", "esn"),
                 thresholds: Thresholds | None = None) -> AblationResult:
    """Train and measure the four arms (and the controls) over ``seeds``; judge the claims.

    Parameters
    ----------
    base_design : path, name or dict
        The heterogeneous design the arms are derived from.
    config : ExperimentConfig
        Task and measurement settings (default: the documented default).
    seeds : sequence of int
        Network/encoder/training seeds; at least 3 distinct (verdicts need ``thresholds.min_seeds``).
    workers : int, optional
        Local worker processes (default: CPUs, at most 4; 1 runs in this process).
    executor : Executor, optional
        Where the jobs run (overrides ``workers``).
    progress : callable, optional
        ``progress(done, total)`` after each (arm, seed) job.
    evaluator : callable or str, optional
        ``f(design, task, *, seed, config, controls) -> dict`` (default
        :func:`hrsnn_hw.experiment.evaluate_design`).
    controls : sequence of str
        Control networks measured for ``control_arms`` (:data:`hrsnn_hw.experiment.CONTROLS`).
    control_arms : sequence of str
        Arms whose controls are measured (default the HRSNN).
    references : sequence of str
        Non-spiking references (:data:`hrsnn_hw.nonspiking.REFERENCES`).
    thresholds : Thresholds, optional
        Verdict rules (default :class:`~hrsnn_hw.stats.Thresholds`).

    Raises
    ------
    DataError
        Fewer than 3 distinct seeds, an unknown arm or control.
    BackendError
        When fewer than 3 seeds completed in every arm.
    """
    config = config or ExperimentConfig.default()
    th = thresholds or Thresholds()
    seeds = tuple(int(s) for s in seeds)
    if len(seeds) < MIN_SEEDS or len(set(seeds)) != len(seeds):
        raise DataError(f"the ablation needs at least {MIN_SEEDS} distinct seeds", parameter="seeds",
                        value=list(seeds), allowed=f">= {MIN_SEEDS} distinct integers",
                        hint=f"e.g. --seeds {DEFAULT_SEEDS}")
    controls = tuple(controls)
    bad = sorted(set(controls) - set(CONTROLS)) or sorted(set(control_arms) - set(ARMS))
    if bad:
        raise DataError("unknown control or control arm", parameter="controls", value=bad[0],
                        allowed=f"controls {list(CONTROLS)}, arms {list(ARMS)}")
    base = load_design(base_design)
    designs = {arm: make_arm(base, hetero_neurons=hn, hetero_stdp=hs, name=arm) for arm, (hn, hs) in ARMS.items()}
    jobs = [EvalJob(label=arm, design=designs[arm], task=config.task, seed=seed,
                    options={"config": config, **({"controls": controls} if controls and arm in control_arms else {})})
            for seed in seeds for arm in ARMS]
    outcomes = evaluate_many(jobs, evaluator, executor=executor, workers=workers, progress=progress)
    failed = [{"arm": o.job.label, "seed": o.job.seed, "error": o.error} for o in outcomes if not o.ok]
    bad_seeds = {f["seed"] for f in failed}
    kept = tuple(s for s in seeds if s not in bad_seeds)
    if len(kept) < MIN_SEEDS:
        first = failed[0] if failed else {"arm": None, "seed": None, "error": "no result"}
        raise BackendError(f"too few seeds completed every arm ({len(kept)} of {len(seeds)})",
                           parameter=f"{first['arm']} seed {first['seed']}", value=first["error"],
                           hint="see the error above; the other runs were not lost, rerun with more seeds")
    by_key = {(o.job.label, o.job.seed): o.metrics for o in outcomes if o.ok}
    runs = {arm: [dict(by_key[(arm, s)], seed=s) for s in kept] for arm in ARMS}
    summary = {arm: {m: summarise([r.get(m) for r in runs[arm]]) for m in METRICS} for arm in ARMS}
    metric_name = runs["hrsnn"][0]["task_metric_name"]
    higher = bool(runs["hrsnn"][0].get("higher_is_better", metric_name != "nrmse"))
    control_effects = {arm: {c: _control_effects(runs, arm, c, higher, th) for c in controls}
                       for arm in control_arms if controls}
    n_units = _n_neurons(base)
    return AblationResult(task=config.task, seeds=kept, runs=runs, summary=summary,
                          claims=_judge_or_explain(runs, th), contrasts=_contrasts(runs, higher, th),
                          controls=control_effects, references=_references(references, config, kept, n_units, th),
                          thresholds=th, task_metric_name=metric_name, higher_is_better=higher, failed=failed,
                          config=config.as_dict())


def _n_neurons(design: Mapping[str, Any]) -> int:
    pops = design.get("populations") or {}
    return int(sum(int(p.get("n", 0)) for p in pops.values() if isinstance(p, Mapping))) or 200


def write_ablation(result: AblationResult, out: str | Path) -> dict[str, str]:
    """Write ``ablation.json``, ``ablation.md`` and ``ablation.png`` into ``out``."""
    out = Path(out)
    paths = {"json": out / "ablation.json", "markdown": out / "ablation.md", "figure": out / "ablation.png"}
    write_json_atomic(paths["json"], result.as_dict())
    write_text_atomic(paths["markdown"], result.to_markdown())
    result.plot(paths["figure"])
    return {k: str(v) for k, v in paths.items()}
