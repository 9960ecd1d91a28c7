"""Reading a finished search: feasible trials, the best trial, the Pareto front, the knee point."""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
from optuna.trial import FrozenTrial, TrialState

from ..io import to_jsonable
from .config import StudyConfig
from .objectives import dominates
from .store import retried_from


def is_feasible(trial: FrozenTrial, config: StudyConfig) -> bool:
    """Every configured constraint recorded and satisfied (``c <= 0``)."""
    cons = trial.constraints
    return all(c.text in cons and c.holds(cons[c.text]) for c in config.constraints)


def usable(trials: Sequence[FrozenTrial], config: StudyConfig) -> list[FrozenTrial]:
    """COMPLETE, feasible trials with finite values."""
    return [t for t in trials if t.state == TrialState.COMPLETE and t.values is not None
            and all(math.isfinite(v) for v in t.values) and is_feasible(t, config)]


def ranked_feasible(trials: Sequence[FrozenTrial], config: StudyConfig) -> list[FrozenTrial]:
    """Feasible trials of a single-objective study, best search-time value first (ties by number)."""
    sign = -1.0 if config.directions[0] == "maximize" else 1.0
    return sorted(usable(trials, config), key=lambda t: (sign * t.values[0], t.number))


def best_trial(trials: Sequence[FrozenTrial], config: StudyConfig) -> FrozenTrial | None:
    """Best feasible trial of a single-objective study by its search-time value (None if none)."""
    ranked = ranked_feasible(trials, config)
    return ranked[0] if ranked else None


def non_dominated(values: Sequence[Sequence[float]], directions: Sequence[str]) -> list[int]:
    """Indices of the objective vectors no other vector Pareto-dominates, in input order."""
    vecs = [list(v) for v in values]
    return [i for i, v in enumerate(vecs) if not any(dominates(w, v, directions) for w in vecs)]


def pareto_trials(trials: Sequence[FrozenTrial], config: StudyConfig) -> list[FrozenTrial]:
    """Feasible non-dominated trials, by trial number."""
    cands = usable(trials, config)
    return [cands[i] for i in non_dominated([t.values for t in cands], config.directions)]


def knee_order(values: Sequence[Sequence[float]], directions: Sequence[str]) -> list[int]:
    """Indices of objective vectors by their distance to the ideal point after scaling each objective
    to [0, 1] (the knee first; ties by index)."""
    signs = np.array([-1.0 if d == "maximize" else 1.0 for d in directions])
    y = np.asarray(values, dtype=np.float64).reshape(len(values), len(directions)) * signs
    lo, hi = y.min(axis=0), y.max(axis=0)
    z = (y - lo) / np.where(hi - lo > 0, hi - lo, 1.0)
    return [int(i) for i in np.argsort(np.sqrt((z ** 2).sum(axis=1)), kind="stable")]


def knee_trial(front: Sequence[FrozenTrial], config: StudyConfig) -> FrozenTrial | None:
    """The front member closest to the ideal point after scaling each objective to [0, 1]."""
    if not front:
        return None
    return front[knee_order([t.values for t in front], config.directions)[0]]


def trial_record(t: FrozenTrial, config: StudyConfig) -> dict:
    """A JSON-friendly summary of one trial."""
    rec: dict[str, Any] = {"number": t.number, "state": t.state.name.lower(), "params": dict(t.params),
                           "values": list(t.values) if t.values is not None else None}
    for key in ("metrics", "seeds", "wall_time_s", "worker", "failure", "metrics_per_seed"):
        if key in t.user_attrs:
            rec[key] = t.user_attrs[key]
    if config.constraints:
        rec["constraints"] = {k: v for k, v in t.constraints.items()}
        rec["feasible"] = is_feasible(t, config) if t.state == TrialState.COMPLETE else None
    if retried_from(t) is not None:
        rec["retry_of"] = retried_from(t)
    return to_jsonable(rec)


def mc_activity_points(trials: Sequence[FrozenTrial], config: StudyConfig) -> list[dict]:
    """Every COMPLETE trial as ``{"trial", "mc", "activity", "efficiency", "task_metric", "feasible"}``
    (from its recorded metrics, whatever the study's objectives)."""
    points = []
    for t in trials:
        m = t.user_attrs.get("metrics") or {}
        mc, act = m.get("mc"), m.get("activity")
        if t.state != TrialState.COMPLETE or not all(isinstance(v, (int, float)) and math.isfinite(v)
                                                        for v in (mc, act)):
            continue
        points.append({"trial": t.number, "mc": float(mc), "activity": float(act),
                       "efficiency": m.get("efficiency"), "task_metric": m.get("task_metric"),
                       "feasible": is_feasible(t, config), "params": dict(t.params)})
    return points


def mc_activity_front(points: Sequence[dict]) -> list[dict]:
    """The points no other point beats on both MC (higher) and activity (lower), by activity.

    This is the trade-off E = MC / activity folds into one number: each point of the front is
    the most MC the study found at its activity.
    """
    keep = non_dominated([[p["mc"], p["activity"]] for p in points], ["maximize", "minimize"])
    front = [points[i] for i in keep]
    return sorted(front, key=lambda p: (p["activity"], -p["mc"], p["trial"]))
