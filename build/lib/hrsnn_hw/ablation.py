"""The 2x2 ablation the paper rests on: {hom, het neurons} x {hom, het STDP} over seeds.

Every arm is derived from one heterogeneous base design with
:func:`hrsnn_hw.spec.make_arm`, so for a given seed the four networks share connectivity
and initial weights and differ only in heterogeneity. Comparisons are paired by seed.

The paper's two claims are tested on the computed numbers:

1. *heterogeneous neurons raise MC*: MC differences (het - hom neurons) at equal STDP,
   pooled over both STDP conditions and all seeds; the claim holds here when the mean
   difference is positive and a one-sided paired t-test gives p < ``alpha``.
2. *heterogeneous STDP lowers activity while keeping MC*: activity differences
   (het - hom STDP) at equal neurons; holds when the mean is negative with p < ``alpha``
   and the mean relative MC change is no worse than ``-mc_tolerance``.
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from .experiment import ExperimentConfig, evaluate_design, load_design
from .io import write_json_atomic, write_text_atomic
from .spec import make_arm

ARMS: dict[str, tuple[bool, bool]] = {
    "mrsnn": (False, False),
    "het_neurons_hom_stdp": (True, False),
    "hom_neurons_het_stdp": (False, True),
    "hrsnn": (True, True),
}
ARM_LABELS = {"mrsnn": "hom. neurons + hom. STDP (MRSNN)", "het_neurons_hom_stdp": "het. neurons + hom. STDP",
              "hom_neurons_het_stdp": "hom. neurons + het. STDP", "hrsnn": "het. neurons + het. STDP (HRSNN)"}
METRICS = ("mc", "activity", "efficiency", "task_metric", "spikes_per_inference")


@dataclass(frozen=True)
class AblationResult:
    """Per-arm, per-seed metrics, their summary and the verdict on the paper's claims."""

    task: str
    seeds: tuple[int, ...]
    runs: Mapping[str, list[dict]]
    summary: Mapping[str, dict]
    claims: Mapping[str, dict]
    task_metric_name: str
    config: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"task": self.task, "seeds": list(self.seeds), "task_metric_name": self.task_metric_name,
                "arms": {arm: {"label": ARM_LABELS[arm], "hetero_neurons": ARMS[arm][0],
                               "hetero_stdp": ARMS[arm][1], **self.summary[arm], "runs": self.runs[arm]}
                         for arm in ARMS},
                "claims": dict(self.claims), "config": self.config}

    def to_markdown(self) -> str:
        name = self.task_metric_name
        lines = [f"| arm | MC | activity (spikes/neuron/step) | E = MC/activity | {name} | spikes/inference |",
                 "|---|---|---|---|---|---|"]
        for arm in ARMS:
            s = self.summary[arm]
            cells = [f"{s[m]['mean']:.4g} ± {s[m]['std']:.2g}" for m in METRICS]
            lines.append(f"| {ARM_LABELS[arm]} | " + " | ".join(cells) + " |")
        lines.append("")
        lines.append(f"Mean ± standard deviation over seeds {list(self.seeds)} on `{self.task}`.")
        lines.append("")
        for claim in self.claims.values():
            lines.append(f"- **{claim['claim']}**: {claim['verdict']}. {claim['evidence']}")
        return "\n".join(lines) + "\n"

    def plot(self, path: str | Path) -> Path:
        from .plotting import pyplot, save_figure
        plt = pyplot()
        panels = [("mc", "memory capacity"), ("activity", "spikes / neuron / step"),
                  ("efficiency", "E = MC / activity"), ("task_metric", self.task_metric_name)]
        fig, axes = plt.subplots(1, 4, figsize=(15, 3.6))
        colors = ["#999999", "#4c72b0", "#dd8452", "#55a868"]
        x = np.arange(len(ARMS))
        for ax, (metric, label) in zip(axes, panels):
            means = [self.summary[a][metric]["mean"] for a in ARMS]
            stds = [self.summary[a][metric]["std"] for a in ARMS]
            ax.bar(x, means, yerr=stds, capsize=4, color=colors)
            for i, arm in enumerate(ARMS):
                vals = [r[metric] for r in self.runs[arm]]
                ax.scatter(np.full(len(vals), i), vals, s=10, color="k", zorder=3)
            ax.set_xticks(x, ["MRSNN", "het N", "het STDP", "HRSNN"], fontsize=8)
            ax.set_title(label, fontsize=10)
        fig.suptitle(f"2x2 ablation on {self.task} ({len(self.seeds)} seeds; bars: mean ± std, dots: seeds)",
                     fontsize=10)
        fig.tight_layout()
        return save_figure(fig, path)


def _summary(values: list[float]) -> dict:
    arr = np.asarray(values, dtype=float)
    return {"mean": float(np.nanmean(arr)), "std": float(np.nanstd(arr, ddof=1)) if arr.size > 1 else 0.0,
            "min": float(np.nanmin(arr)), "max": float(np.nanmax(arr)), "n": int(arr.size)}


def _paired(runs: Mapping[str, list[dict]], pairs: list[tuple[str, str]], metric: str) -> np.ndarray:
    diffs = []
    for a, b in pairs:
        for ra, rb in zip(runs[a], runs[b]):
            diffs.append(ra[metric] - rb[metric])
    return np.asarray(diffs, dtype=float)


def _one_sided_p(diffs: np.ndarray, alternative: str) -> float:
    from scipy import stats
    if diffs.size < 2 or np.allclose(diffs, diffs[0]):
        if diffs.size and ((alternative == "greater" and diffs.min() > 0) or (alternative == "less" and diffs.max() < 0)):
            return 0.0
        return 1.0
    return float(stats.ttest_1samp(diffs, 0.0, alternative=alternative).pvalue)


def judge_claims(runs: Mapping[str, list[dict]], alpha: float = 0.05, mc_tolerance: float = 0.05) -> dict:
    """Test the paper's two claims on paired per-seed results (see module docstring)."""
    neuron_pairs = [("het_neurons_hom_stdp", "mrsnn"), ("hrsnn", "hom_neurons_het_stdp")]
    stdp_pairs = [("hom_neurons_het_stdp", "mrsnn"), ("hrsnn", "het_neurons_hom_stdp")]
    d_mc = _paired(runs, neuron_pairs, "mc")
    p1 = _one_sided_p(d_mc, "greater")
    holds1 = bool(d_mc.mean() > 0 and p1 < alpha)
    base_mc = np.asarray([r["mc"] for a, b in neuron_pairs for r in runs[b]])
    claim1 = {"claim": "heterogeneous neurons raise memory capacity", "holds": holds1,
              "mean_difference": float(d_mc.mean()), "mean_relative_change": float(np.mean(d_mc / base_mc)),
              "p_value": p1, "n_pairs": int(d_mc.size),
              "verdict": "holds here" if holds1 else "not supported here",
              "evidence": (f"MC(het neurons) - MC(hom neurons) = {d_mc.mean():+.3g} on average "
                           f"({100 * np.mean(d_mc / base_mc):+.1f} %) over {d_mc.size} seed-paired comparisons, "
                           f"one-sided paired t-test p = {p1:.3g} (threshold {alpha}).")}
    d_act = _paired(runs, stdp_pairs, "activity")
    base_act = np.asarray([r["activity"] for a, b in stdp_pairs for r in runs[b]])
    p2 = _one_sided_p(d_act, "less")
    d_mc2 = _paired(runs, stdp_pairs, "mc")
    base_mc2 = np.asarray([r["mc"] for a, b in stdp_pairs for r in runs[b]])
    rel_mc2 = float(np.mean(d_mc2 / base_mc2))
    lowers = bool(d_act.mean() < 0 and p2 < alpha)
    keeps = bool(rel_mc2 >= -mc_tolerance)
    holds2 = lowers and keeps
    claim2 = {"claim": "heterogeneous STDP lowers spiking activity while keeping memory capacity",
              "holds": holds2, "lowers_activity": lowers, "keeps_mc": keeps,
              "mean_activity_difference": float(d_act.mean()),
              "mean_relative_activity_change": float(np.mean(d_act / base_act)), "p_value": p2,
              "mean_relative_mc_change": rel_mc2, "mc_tolerance": mc_tolerance, "n_pairs": int(d_act.size),
              "verdict": "holds here" if holds2 else "not supported here",
              "evidence": (f"activity(het STDP) - activity(hom STDP) = {d_act.mean():+.3g} spikes/neuron/step "
                           f"({100 * np.mean(d_act / base_act):+.1f} %), one-sided paired t-test p = {p2:.3g}; "
                           f"MC changes by {100 * rel_mc2:+.1f} % (kept if no worse than "
                           f"-{100 * mc_tolerance:.0f} %).")}
    return {"heterogeneous_neurons_raise_mc": claim1, "heterogeneous_stdp_lowers_activity": claim2}


def _evaluate(args: tuple) -> tuple[str, int, dict]:
    arm, design, seed, config = args
    out = evaluate_design(design, config.task, seed=seed, config=config)
    return arm, seed, out


def run_ablation(base_design: str | Mapping[str, Any] = "hrsnn", *,
                 config: ExperimentConfig | None = None, seeds: tuple[int, ...] = (0, 1, 2, 3, 4),
                 workers: int | None = None, progress: Callable[[int, int], None] | None = None,
                 evaluator: Callable[[tuple], tuple[str, int, dict]] | None = None) -> AblationResult:
    """Train and measure the four arms over ``seeds`` (in parallel worker processes).

    Parameters
    ----------
    base_design : path or dict
        The heterogeneous design the arms are derived from.
    config : ExperimentConfig
        Task and measurement settings (default: the documented default).
    seeds : tuple of int
        Network/encoder/training seeds; at least 3.
    workers : int, optional
        Worker processes (default: the number of CPUs, at most 4; 1 runs in-process).
    progress : callable, optional
        Called as ``progress(done, total)`` after each evaluation.
    """
    from .errors import DataError
    config = config or ExperimentConfig.default()
    seeds = tuple(int(s) for s in seeds)
    if len(seeds) < 3 or len(set(seeds)) != len(seeds):
        raise DataError("the ablation needs at least 3 distinct seeds", parameter="seeds", value=list(seeds),
                        allowed=">= 3 distinct integers", hint="e.g. --seeds 5")
    base = load_design(base_design)
    designs = {arm: make_arm(base, hetero_neurons=hn, hetero_stdp=hs, name=arm) for arm, (hn, hs) in ARMS.items()}
    jobs = [(arm, designs[arm], seed, config) for seed in seeds for arm in ARMS]
    evaluator = evaluator or _evaluate
    if workers is None:
        workers = max(1, min(4, os.cpu_count() or 1))
    results: dict[tuple[str, int], dict] = {}
    if workers == 1:
        for i, job in enumerate(jobs):
            arm, seed, out = evaluator(job)
            results[(arm, seed)] = out
            if progress:
                progress(i + 1, len(jobs))
    else:
        with cf.ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
            futures = [pool.submit(evaluator, job) for job in jobs]
            for i, fut in enumerate(cf.as_completed(futures)):
                arm, seed, out = fut.result()
                results[(arm, seed)] = out
                if progress:
                    progress(i + 1, len(jobs))
    runs = {arm: [dict(results[(arm, s)], seed=s) for s in seeds] for arm in ARMS}
    summary = {arm: {m: _summary([r[m] for r in runs[arm]]) for m in METRICS} for arm in ARMS}
    metric_name = runs["hrsnn"][0]["task_metric_name"]
    return AblationResult(task=config.task, seeds=seeds, runs=runs, summary=summary, claims=judge_claims(runs),
                          task_metric_name=metric_name, config=config.as_dict())


def write_ablation(result: AblationResult, out: str | Path) -> dict[str, str]:
    """Write ``ablation.json``, ``ablation.md`` and ``ablation.png`` into ``out``."""
    out = Path(out)
    paths = {"json": out / "ablation.json", "markdown": out / "ablation.md", "figure": out / "ablation.png"}
    write_json_atomic(paths["json"], result.as_dict())
    write_text_atomic(paths["markdown"], result.to_markdown())
    result.plot(paths["figure"])
    return {k: str(v) for k, v in paths.items()}
