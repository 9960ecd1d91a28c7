"""One evaluator of seed pools: many (design, seed) jobs through one :mod:`~hrsnn_hw.executor`.

The 2x2 ablation, the optimiser's fresh-seed re-evaluation and its reference measurements
all evaluate a set of designs on a set of seeds; they all do it here. A job's evaluator is
``f(design, task, *, seed, **options) -> dict of metrics`` (by default
:func:`hrsnn_hw.experiment.evaluate_design`); a job that raises is reported in its
:class:`EvalOutcome` and the others go on.
"""
from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from .errors import HrsnnError
from .executor import Executor, InlineExecutor, make_executor

__all__ = ["DEFAULT_EVALUATOR", "Evaluator", "EvalJob", "EvalOutcome", "evaluate_many", "resolve_evaluator",
           "evaluator_reference"]

Evaluator = Callable[..., Mapping[str, Any]]
DEFAULT_EVALUATOR = "hrsnn_hw.experiment:evaluate_design"


def resolve_evaluator(evaluator: Evaluator | str | None) -> Evaluator:
    """A callable evaluator from a callable, ``"module:function"``, or None (the real one).

    Raises
    ------
    HrsnnError
        When the module or function does not exist.
    """
    if callable(evaluator):
        return evaluator
    ref = evaluator or DEFAULT_EVALUATOR
    if not isinstance(ref, str) or ":" not in ref:
        raise HrsnnError("an evaluator is given as module:function", parameter="--evaluator", value=ref,
                         hint=f"the default is {DEFAULT_EVALUATOR}")
    module, func = ref.split(":", 1)
    try:
        fn = getattr(importlib.import_module(module), func)
    except ImportError as exc:
        raise HrsnnError(f"cannot import the evaluator module ({exc})", parameter="--evaluator", value=ref,
                         hint="the real evaluator is hrsnn_hw.experiment.evaluate_design; for a dry run of the study "
                              "machinery use --evaluator hrsnn_hw.optimize.synthetic:evaluate") from None
    except AttributeError:
        raise HrsnnError("the evaluator module has no such function", parameter="--evaluator", value=ref) from None
    if not callable(fn):
        raise HrsnnError("the evaluator is not callable", parameter="--evaluator", value=ref)
    return fn


def evaluator_reference(evaluator: Evaluator | str | None) -> str:
    """The ``"module:function"`` name under which worker processes import ``evaluator``.

    Raises
    ------
    HrsnnError
        For a callable that cannot be imported by name (a lambda, a bound method, an instance).
    """
    if evaluator is None or isinstance(evaluator, str):
        resolve_evaluator(evaluator)
        return evaluator or DEFAULT_EVALUATOR
    ref = f"{getattr(evaluator, '__module__', '')}:{getattr(evaluator, '__qualname__', '')}"
    try:
        same = resolve_evaluator(ref) is evaluator
    except HrsnnError:
        same = False
    if not same:
        raise HrsnnError("worker processes need an importable evaluator", parameter="evaluator",
                         value=repr(evaluator), hint="pass a module-level function or a 'module:function' string, "
                                                     "or use one worker")
    return ref


@dataclass(frozen=True)
class EvalJob:
    """One evaluation: a design on a task with a seed.

    Attributes
    ----------
    label : str
        What the design is in the caller's report (an arm, ``"optimized"``, ...).
    design : mapping
        The design dict.
    task : str
        Task name or data file.
    seed : int
        Network instance, encoder, training and MC drive seed.
    options : mapping
        Further keyword arguments of the evaluator (``quick``, ``profile``, ``epochs``,
        ``config``, ``controls``, ...).
    """

    label: str
    design: Mapping[str, Any]
    task: str
    seed: int
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EvalOutcome:
    """What one job gave: its metrics, or the error that stopped it.

    Attributes
    ----------
    job : EvalJob
    metrics : dict or None
        The evaluator's result (None when it failed).
    error : str or None
        ``"ErrorType: message"`` when the evaluator raised.
    wall_time_s : float
    """

    job: EvalJob
    metrics: dict | None
    error: str | None
    wall_time_s: float

    @property
    def ok(self) -> bool:
        return self.error is None


def _run_job(evaluator: Evaluator | str | None, job: EvalJob) -> EvalOutcome:
    """Evaluate one job; an evaluator's failure becomes the outcome's error (interrupts propagate)."""
    t0 = time.perf_counter()
    try:
        fn = resolve_evaluator(evaluator)
        metrics = fn(dict(job.design), job.task, seed=int(job.seed), **dict(job.options))
        if not isinstance(metrics, Mapping):
            raise HrsnnError("the evaluator must return a dict of metrics", parameter="evaluator",
                             value=type(metrics).__name__)
        return EvalOutcome(job=job, metrics=dict(metrics), error=None, wall_time_s=time.perf_counter() - t0)
    except Exception as exc:  # one failed evaluation must not lose the pool
        return EvalOutcome(job=job, metrics=None, error=f"{type(exc).__name__}: {exc}"[:2000],
                           wall_time_s=time.perf_counter() - t0)


def evaluate_many(jobs: Sequence[EvalJob], evaluator: Evaluator | str | None = None, *,
                  executor: Executor | None = None, workers: int | None = None,
                  progress: Callable[[int, int], None] | None = None) -> list[EvalOutcome]:
    """Evaluate every job; outcomes in job order.

    Parameters
    ----------
    jobs : sequence of EvalJob
    evaluator : callable or str, optional
        ``f(design, task, *, seed, **options) -> dict``; default
        :func:`hrsnn_hw.experiment.evaluate_design`. With worker processes it must be
        importable by name (a module-level function or ``"module:function"``).
    executor : Executor, optional
        Where the jobs run (default :func:`hrsnn_hw.executor.make_executor` with ``workers``):
        local processes or a Dask cluster give the same outcomes as this process, bit for bit.
    workers : int, optional
        Local worker processes when no executor is given (default: CPUs, at most 4; 1 runs
        the jobs in this process).
    progress : callable, optional
        ``progress(done, total)`` after each finished job.

    Returns
    -------
    list of EvalOutcome
    """
    jobs = list(jobs)
    if executor is None:
        executor = make_executor(min(workers, max(1, len(jobs))) if workers else
                                 (None if len(jobs) > 1 else 1))
    ref: Evaluator | str | None = evaluator
    if not isinstance(executor, InlineExecutor):  # other processes or machines import it by name
        ref = evaluator_reference(evaluator)
    else:
        ref = resolve_evaluator(evaluator)
    outcomes: list[EvalOutcome | None] = [None] * len(jobs)
    done = 0
    labels = [f"{job.label} seed {job.seed}" for job in jobs]
    for index, outcome in executor.map_unordered(_run_job, [(ref, job) for job in jobs], labels=labels):
        outcomes[index] = outcome
        done += 1
        if progress is not None:
            progress(done, len(jobs))
    return [o for o in outcomes if o is not None]
