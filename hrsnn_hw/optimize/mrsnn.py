"""The homogeneous side of a fair comparison.

* :func:`measure_reference`: the reference MRSNN (the base design's homogeneous twin) on the
  search seeds, before the search: the value ``mc>=mrsnn`` and other reference constraints
  are resolved to, and a point in the MC-activity figure.
* :func:`mrsnn_study`: a second study, same budget, sampler, seeds, objectives and
  constraints, over the MRSNN's homogeneous parameters (the searched means and scalars of the
  space, without the spreads), so the optimised HRSNN is compared with a tuned MRSNN rather
  than an untuned one.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from ..evaluation import EvalJob, Evaluator, evaluate_many
from ..executor import Executor
from ..spec import make_arm
from .config import StudyConfig
from .runner import average_metrics
from .space import SearchSpace
from .store import OptimizeError

#: Last path parts that set a spread (heterogeneity): not searched for the MRSNN.
SPREAD_FIELDS = ("cv", "shape")
MRSNN_SUFFIX = "-mrsnn"


def reference_design(config: StudyConfig) -> dict:
    """The base design's homogeneous twin (every distribution replaced by its mean)."""
    return make_arm(config.base_design, hetero_neurons=False, hetero_stdp=False, name="mrsnn")


def homogeneous_space(space: SearchSpace) -> SearchSpace | None:
    """The parameters of ``space`` that do not set a spread (None when there are none)."""
    params = tuple(p for p in space.params if p.path.rsplit(".", 1)[-1] not in SPREAD_FIELDS)
    if not params:
        return None
    return SearchSpace(params, source=f"homogeneous parameters of {space.source}")


def measure_reference(config: StudyConfig, evaluator: Evaluator | str | None, *,
                      executor: "Executor | None" = None, seeds: list[int] | None = None) -> dict:
    """The reference MRSNN's metrics on the search seeds (or on ``seeds``).

    Returns
    -------
    dict
        ``{"metrics": averaged over the seeds, "per_seed": [...], "seeds": [...]}``.

    Raises
    ------
    OptimizeError
        When the reference design cannot be evaluated (no threshold, no comparison).
    """
    design = reference_design(config)
    seeds = list(config.search_seed_list if seeds is None else seeds)
    jobs = [EvalJob(label="mrsnn", design=design, task=config.task, seed=s,
                    options={"quick": config.quick, "profile": config.profile, "epochs": config.epochs})
            for s in seeds]
    outcomes = evaluate_many(jobs, evaluator, executor=executor, workers=min(config.workers, len(jobs)))
    failed = [o for o in outcomes if not o.ok]
    if failed:
        raise OptimizeError("the reference MRSNN could not be evaluated", parameter=f"mrsnn seed {failed[0].job.seed}",
                            value=failed[0].error,
                            hint="the study's constraints and comparison need it; check the base design and task")
    per_seed = [dict(o.metrics) for o in outcomes]
    return {"metrics": average_metrics(per_seed), "per_seed": per_seed, "seeds": seeds}


def resolve_constraints(config: StudyConfig, reference: Mapping[str, Any]) -> StudyConfig:
    """``config`` with every reference constraint's threshold set from ``reference["metrics"]``."""
    metrics = reference["metrics"]
    resolved = []
    for c in config.constraints:
        if c.reference and not c.resolved:
            value = metrics.get(c.metric)
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise OptimizeError("the reference design has no value for a constraint's metric",
                                    parameter=c.text, value=value)
            c = c.with_threshold(float(value))
        resolved.append(c)
    return dataclasses.replace(config, constraints=tuple(resolved))


def mrsnn_study(config: StudyConfig) -> StudyConfig | None:
    """The tuned-MRSNN study of ``config`` (same storage, budget, objectives, constraints and seeds),
    or None when the search space has no homogeneous parameter."""
    space = homogeneous_space(config.space)
    if space is None:
        return None
    design = reference_design(config)
    space.validate(design)
    return dataclasses.replace(config, base_design=design, space=space,
                               study_name=config.study_name + MRSNN_SUFFIX,
                               out=(config.out / "mrsnn") if config.out is not None else None,
                               reeval_seeds=0, figures=False, tune_mrsnn=False)
