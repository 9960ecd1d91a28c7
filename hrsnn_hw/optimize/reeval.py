"""Honest numbers after the search: re-evaluate on seeds the search never used.

The best trial was *selected* on its search-seed value, so that value is biased upward
(the winner's curse). The optimised design, the tuned MRSNN (best of the MRSNN study), the
reference HRSNN (the base design) and its MRSNN twin (every distribution replaced by its mean,
:func:`hrsnn_hw.spec.make_arm`) are re-run on the same ``reeval_seeds`` fresh seeds
(``seed + 100000 + i``) through :func:`hrsnn_hw.evaluation.evaluate_many`. The report gives
mean, sample standard deviation and the per-seed values, and the paired effects of the
optimised design over each other design (seed by seed, with a bootstrap interval).
"""
from __future__ import annotations

import json
from typing import Any, Mapping

import numpy as np

from ..errors import DataError
from ..evaluation import EvalJob, Evaluator, evaluate_many
from ..executor import Executor
from ..stats import paired_effect, summarise
from .config import StudyConfig

REPORTED = ("mc", "activity", "efficiency", "task_metric", "spikes_per_inference", "energy_per_inference_J")
PAIRED = ("efficiency", "mc", "activity", "task_metric")

__all__ = ["REPORTED", "PAIRED", "reevaluate", "mc_check", "summarise"]


def _network_key(design: Mapping[str, Any]) -> str:
    """What a design computes: everything but its name and description."""
    return json.dumps({k: v for k, v in design.items() if k not in ("name", "description")}, sort_keys=True,
                      default=str)


def _diff(a: Any, b: Any) -> float | None:
    if a is None or b is None:
        return None
    return float(a) - float(b)


def _paired(per: Mapping[str, Mapping[int, dict]], label: str, seeds: list[int], higher_is_better: bool) -> dict:
    common = [s for s in seeds if s in per[label] and s in per["optimized"]]
    out = {}
    for metric in PAIRED:
        opt = [per["optimized"][s].get(metric) for s in common]
        ref = [per[label][s].get(metric) for s in common]
        entry = summarise([_diff(a, b) for a, b in zip(opt, ref)])
        alternative = "less" if metric == "activity" or (metric == "task_metric" and not higher_is_better) else "greater"
        try:
            entry["effect"] = paired_effect(opt, ref, metric=metric, alternative=alternative).as_dict()
        except DataError:  # missing or non-finite values, or a zero baseline: the summary stands alone
            entry["effect"] = None
        out[metric] = entry
    return out


def reevaluate(config: StudyConfig, designs: Mapping[str, Mapping[str, Any]],
               evaluator: Evaluator | str | None = None, workers: int = 1,
               executor: Executor | None = None) -> dict:
    """Evaluate each design on the fresh seeds.

    Parameters
    ----------
    config : StudyConfig
        Task, evaluator options and ``reeval_seed_list``.
    designs : mapping of label to design dict
        For example ``{"mrsnn": ..., "tuned_mrsnn": ..., "reference_hrsnn": ..., "optimized": ...}``.
    evaluator : callable or str, optional
        See :func:`hrsnn_hw.evaluation.resolve_evaluator`.
    workers : int
        Local worker processes (1: in this process).
    executor : Executor, optional
        Where the seeds run instead (a Dask cluster, :func:`hrsnn_hw.executor.make_executor`).

    Returns
    -------
    dict
        ``{"seeds": [...], "designs": {label: {metric: summary, "task_metric_name": ..., "errors": [...]}},
        "paired": {label: {metric: summary of optimised - label, with "effect" (bootstrap interval)}}}``.
    """
    seeds = config.reeval_seed_list
    # Designs that are the same network (e.g. a tuned MRSNN whose best trial is the reference)
    # are evaluated once and reported under each label.
    first_label: dict[str, str] = {}
    same_as = {label: first_label.setdefault(_network_key(designs[label]), label) for label in designs}
    jobs = [EvalJob(label=label, design=designs[label], task=config.task, seed=s,
                    options={"quick": config.quick, "profile": config.profile, "epochs": config.epochs})
            for label in designs if same_as[label] == label for s in seeds]
    outcomes = evaluate_many(jobs, evaluator, executor=executor, workers=max(1, min(workers, len(jobs))))
    per: dict[str, dict[int, dict]] = {label: {} for label in designs}
    errors: dict[str, list[str]] = {label: [] for label in designs}
    for o in outcomes:
        for label in (lb for lb in designs if same_as[lb] == o.job.label):
            if o.ok:
                per[label][o.job.seed] = o.metrics
            else:
                errors[label].append(f"seed {o.job.seed}: {o.error}")
    out: dict[str, Any] = {"seeds": seeds, "designs": {}, "paired": {}}
    for label in designs:
        rows = [per[label][s] for s in seeds if s in per[label]]
        entry: dict[str, Any] = {m: summarise([r.get(m) for r in rows]) for m in REPORTED}
        entry["task_metric_name"] = next((r.get("task_metric_name") for r in rows if r.get("task_metric_name")), None)
        entry["errors"] = errors[label]
        if same_as[label] != label:
            entry["same_network_as"] = same_as[label]
        out["designs"][label] = entry
    if "optimized" in per:
        higher = config.task_metric.higher_is_better
        for label in designs:
            if label != "optimized":
                out["paired"][label] = _paired(per, label, seeds, higher)
    return out


def mc_check(reeval: Mapping[str, Any], against: str = "tuned_mrsnn") -> dict | None:
    """Is the optimised design's MC on fresh seeds not below ``against``'s? Read off the paired effect.

    Returns
    -------
    dict or None
        ``{"against", "holds", "mean_difference", "ci", "verdict"}``: ``holds`` when the mean
        paired difference is >= 0; ``verdict`` says whether the interval settles it. None
        without the data.
    """
    entry = (reeval.get("paired") or {}).get(against, {}).get("mc") or {}
    eff = entry.get("effect")
    if not eff:
        return None
    ci = eff["ci_difference"]
    mean = float(eff["mean_difference"])
    if ci["low"] >= 0:
        verdict = "not below (interval at or above 0)"
    elif ci["high"] < 0:
        verdict = "below (interval below 0)"
    else:
        verdict = "not settled by these seeds (interval spans 0)"
    return {"against": against, "holds": bool(mean >= 0), "mean_difference": mean,
            "ci": [float(ci["low"]), float(ci["high"])], "confidence": float(ci["confidence"]), "verdict": verdict,
            "n": int(eff["n"]), "values": [float(x) for x in np.asarray(eff["differences"])]}
