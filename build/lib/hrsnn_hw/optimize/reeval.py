"""Honest numbers after the search: re-evaluate on seeds the search never used.

The best trial was *selected* on its search-seed value, so that value is biased upward
(the winner's curse). The optimised design, the reference HRSNN (the base design) and its
MRSNN twin (every distribution replaced by its mean, :func:`hrsnn_hw.spec.make_arm`) are
re-run on the same ``reeval_seeds`` fresh seeds (``seed + 100000 + i``); the report gives
mean, sample standard deviation and the per-seed values, and the paired differences
(optimised minus reference, seed by seed) since all designs share the seeds.
"""
from __future__ import annotations

import math
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Mapping

import numpy as np

from .config import StudyConfig
from .runner import Evaluator, resolve_evaluator

REPORTED = ("mc", "activity", "efficiency", "task_metric", "spikes_per_inference", "energy_per_inference_J")


def _one(design: Mapping[str, Any], task: str, seed: int, quick: bool, profile: str | None,
         epochs: int | None, evaluator: Evaluator | str | None) -> dict:
    fn = resolve_evaluator(evaluator)
    try:
        return {"ok": True, "metrics": dict(fn(design, task, seed=seed, quick=quick, profile=profile, epochs=epochs))}
    except Exception as exc:  # one failed evaluation must not lose the whole report
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}


def _one_packed(args: tuple) -> dict:
    return _one(*args)


def summarise(values: list[float | None]) -> dict:
    """Mean, sample std (ddof=1), n and the values; None entries are left out."""
    vals = [float(v) for v in values if v is not None and isinstance(v, (int, float)) and math.isfinite(float(v))]
    if not vals:
        return {"mean": None, "std": None, "n": 0, "values": []}
    arr = np.array(vals)
    return {"mean": float(arr.mean()), "std": float(arr.std(ddof=1)) if arr.size > 1 else 0.0, "n": int(arr.size),
            "values": vals}


def reevaluate(config: StudyConfig, designs: Mapping[str, Mapping[str, Any]],
               evaluator: Evaluator | str | None = None, workers: int = 1) -> dict:
    """Evaluate each design on the fresh seeds.

    Parameters
    ----------
    config : StudyConfig
        Task, evaluator options and ``reeval_seed_list``.
    designs : mapping of label to design dict
        For example ``{"mrsnn": ..., "reference_hrsnn": ..., "optimized": ...}``.
    evaluator : callable or str, optional
        See :func:`hrsnn_hw.optimize.runner.resolve_evaluator`.
    workers : int
        Evaluate in this many spawned processes (1: in this process).

    Returns
    -------
    dict
        ``{"seeds": [...], "designs": {label: {metric: summary, "task_metric_name": ..., "errors": [...]}},
        "paired": {label: {metric: summary of optimised - label}}}``.
    """
    seeds = config.reeval_seed_list
    jobs = [(label, s) for label in designs for s in seeds]
    args = [(designs[label], config.task, s, config.quick, config.profile, config.epochs) for label, s in jobs]
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=mp.get_context("spawn")) as pool:
            results = list(pool.map(_one_packed, [a + (evaluator,) for a in args]))
    else:
        fn = resolve_evaluator(evaluator)
        results = [_one(*a, fn) for a in args]
    per: dict[str, dict[int, dict]] = {label: {} for label in designs}
    errors: dict[str, list[str]] = {label: [] for label in designs}
    for (label, s), res in zip(jobs, results):
        if res["ok"]:
            per[label][s] = res["metrics"]
        else:
            errors[label].append(f"seed {s}: {res['error']}")
    out: dict[str, Any] = {"seeds": seeds, "designs": {}, "paired": {}}
    for label in designs:
        rows = [per[label][s] for s in seeds if s in per[label]]
        entry = {m: summarise([r.get(m) for r in rows]) for m in REPORTED}
        entry["task_metric_name"] = next((r.get("task_metric_name") for r in rows if r.get("task_metric_name")), None)
        entry["errors"] = errors[label]
        out["designs"][label] = entry
    if "optimized" in per:
        for label in designs:
            if label == "optimized":
                continue
            common = [s for s in seeds if s in per[label] and s in per["optimized"]]
            out["paired"][label] = {
                m: summarise([_diff(per["optimized"][s].get(m), per[label][s].get(m)) for s in common])
                for m in ("efficiency", "task_metric", "mc", "activity")}
    return out


def _diff(a: Any, b: Any) -> float | None:
    if a is None or b is None:
        return None
    return float(a) - float(b)
