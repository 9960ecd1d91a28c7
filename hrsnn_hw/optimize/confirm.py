"""Confirming the selection on further seeds: a constraint must hold beyond the seed it was found on.

The search pushes E = MC / activity up until MC sits on the floor ``mc>=mrsnn``, so the best
feasible trial is, more often than not, one whose MC was high by chance on its search seeds
(the winner's curse): on fresh seeds its MC falls below the floor. Measured with one search
seed (budget 40, 10 fresh seeds): the optimised HRSNN's MC was below the reference MRSNN's by
-0.113 [-0.194, -0.035], although every feasible trial met the floor on its search seed.

So before a study's design is selected, its ``confirm_top`` best feasible trials (single
objective: by value; several objectives: the feasible Pareto front, nearest the knee first)
are run again on ``confirm_seeds`` confirmation seeds (``seed + 200000 + i``, disjoint from
the search and re-evaluation seeds), beside the reference MRSNN on the same seeds. Every
constraint is checked again on the confirmation seeds alone (a reference constraint against
the reference's mean there, i.e. the paired mean difference), and the selection is the best
candidate by its objective(s) on the confirmation seeds among those whose constraints still
hold. The search seeds are left out of that check because the candidates were chosen on them.
When no candidate holds, the one with the smallest violation is selected and marked
``confirmed: false``. The re-evaluation seeds stay unused until the final comparison.

Both studies (the HRSNN and the tuned MRSNN) go through the same confirmation.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from optuna.trial import FrozenTrial

from ..evaluation import EvalJob, Evaluator, evaluate_many
from ..executor import Executor
from ..io import to_jsonable
from .config import StudyConfig
from .mrsnn import measure_reference
from .objectives import Constraint
from .results import knee_order, non_dominated, pareto_trials, ranked_feasible
from .runner import average_metrics

__all__ = ["candidates", "confirm_selection"]

def candidates(trials: Sequence[FrozenTrial], config: StudyConfig) -> list[FrozenTrial]:
    """The ``config.confirm_top`` trials a study would select on its search seeds, best first.

    Single objective: the best feasible trials by value. Several objectives: the feasible Pareto
    front, nearest the knee first.
    """
    if config.multi_objective:
        front = pareto_trials(trials, config)
        ordered = [front[i] for i in knee_order([t.values for t in front], config.directions)] if front else []
    else:
        ordered = ranked_feasible(trials, config)
    return ordered[:config.confirm_top]


def _resolved(constraints: Sequence[Constraint], reference: Mapping[str, Any] | None) -> list[Constraint]:
    """Reference constraints re-resolved to the reference's value on the confirmation seeds."""
    out = []
    for c in constraints:
        if c.reference:  # the caller measured the reference whenever a constraint names it
            c = c.with_threshold(float(reference[c.metric]))
        out.append(c)
    return out


def _select(rows: list[dict], config: StudyConfig) -> dict | None:
    """The confirmed row to select: best objective among the feasible, else the least violating."""
    feasible = [r for r in rows if r["feasible"]]
    if feasible:
        values = [[o.value(r["metrics"]) for o in config.objectives] for r in feasible]
        if config.multi_objective:
            front = non_dominated(values, config.directions)
            return feasible[front[knee_order([values[i] for i in front], config.directions)[0]]]
        sign = -1.0 if config.directions[0] == "maximize" else 1.0
        return min(zip(feasible, values), key=lambda rv: sign * rv[1][0])[0]
    measured = [r for r in rows if r["metrics"] is not None]
    if not measured:
        return None
    return min(measured, key=lambda r: max(r["violations"].values(), default=0.0))


def confirm_selection(studies: Mapping[str, tuple[StudyConfig, Sequence[FrozenTrial]]],
                      evaluator: Evaluator | str | None = None, *, executor: Executor | None = None,
                      workers: int = 1) -> dict:
    """Run each study's best feasible trials on the confirmation seeds and select among them.

    Parameters
    ----------
    studies : mapping of label to (StudyConfig, trials)
        For example ``{"hrsnn": (config, trials), "tuned_mrsnn": (m_config, m_trials)}``; the
        first study's config gives the seeds, the task and the reference design.
    evaluator : callable or str, optional
        See :func:`hrsnn_hw.evaluation.resolve_evaluator`.
    executor : Executor, optional
        Where the runs go (a Dask cluster).
    workers : int
        Local worker processes.

    Returns
    -------
    dict
        ``{"seeds", "top", "reference": {"metrics", "per_seed", "seeds"} or None, "studies": {label:
        {"study_name", "search_selected", "selected", "confirmed", "candidates": [{"trial",
        "search_metrics", "metrics", "per_seed", "errors", "violations", "feasible"}]}}}``;
        ``selected`` is a trial number (None when the study has no feasible trial).

    Raises
    ------
    OptimizeError
        When the reference MRSNN fails on a confirmation seed (the floor cannot be checked;
        :func:`hrsnn_hw.optimize.mrsnn.measure_reference`).
    """
    first = next(iter(studies.values()))[0]
    seeds = first.confirm_seed_list
    options = {"quick": first.quick, "profile": first.profile, "epochs": first.epochs}
    picked = {label: candidates(trials, cfg) for label, (cfg, trials) in studies.items()}
    needs_reference = any(c.reference for cfg, _ in studies.values() for c in cfg.constraints)
    reference = measure_reference(first, evaluator, executor=executor, seeds=seeds) if needs_reference else None
    jobs = []
    for label, (cfg, _) in studies.items():
        for t in picked[label]:
            design = cfg.space.apply(cfg.base_design, t.params)
            jobs += [EvalJob(label=f"{label}:{t.number}", design=design, task=cfg.task, seed=s, options=options)
                     for s in seeds]
    outcomes = evaluate_many(jobs, evaluator, executor=executor, workers=max(1, min(workers, len(jobs))))
    by_label: dict[str, list] = {}
    for o in outcomes:
        by_label.setdefault(o.job.label, []).append(o)

    report: dict[str, Any] = {"seeds": seeds, "top": first.confirm_top,
                              "reference": to_jsonable(reference), "studies": {}}
    for label, (cfg, _) in studies.items():
        constraints = _resolved(cfg.constraints, reference["metrics"] if reference else None)
        rows = []
        for t in picked[label]:
            runs = by_label[f"{label}:{t.number}"]
            errors = [f"seed {o.job.seed}: {o.error}" for o in runs if not o.ok]
            per_seed = [dict(o.metrics) for o in runs if o.ok]
            metrics = average_metrics(per_seed) if per_seed and not errors else None
            violations = ({c.text: c.violation(metrics) for c in constraints} if metrics is not None
                          else {c.text: math.inf for c in constraints})
            rows.append({"trial": t.number, "search_metrics": t.user_attrs.get("metrics"), "metrics": metrics,
                         "per_seed": per_seed, "errors": errors, "violations": violations,
                         "feasible": metrics is not None and all(c.holds(violations[c.text]) for c in constraints)})
        chosen = _select(rows, cfg)
        report["studies"][label] = {
            "study_name": cfg.study_name, "search_selected": picked[label][0].number if picked[label] else None,
            "selected": chosen["trial"] if chosen else None, "confirmed": bool(chosen and chosen["feasible"]),
            "thresholds": {c.text: c.threshold for c in constraints}, "candidates": rows}
    return to_jsonable(report)
