"""Running the search: evaluating trials, one worker loop, and K worker processes on one study.

A worker repeatedly takes the budget lock, fails and re-queues the trials of dead workers
(optuna's heartbeat and retry callback, see :mod:`.store`), asks optuna for a trial if the
study still has fewer than ``budget`` COMPLETE + RUNNING trials,
evaluates the design on the search seeds and tells optuna the objective values (and the
constraint values, through ``Trial.set_constraint``). Every trial records, as user
attributes: ``worker`` (host, pid, ...), ``seeds``, ``metrics`` (averaged over the seeds),
``metrics_per_seed`` (when several), ``wall_time_s``, and ``failure`` when it failed.

Several machines: run the same ``hrsnn-hw optimize`` command (same ``--study-name``, same
options) on each, pointing ``--storage`` at one database URL (or one SQLite file on a shared
filesystem whose locks work); add ``--worker-only`` on all but one so only one does the re-evaluation
and reports. Or, with a Dask cluster (``--cluster tcp://host:port``), one command submits the
workers to the cluster (:func:`run_cluster_workers`): each runs :func:`run_worker` on the study
of ``--storage`` (a database server's URL; an SQLite file only with a cluster on this machine).
"""
from __future__ import annotations

import logging
import math
import multiprocessing as mp
import os
import signal
import sys
import time
import traceback
import warnings
from typing import Any, Callable, Mapping

import optuna
from optuna.trial import FrozenTrial, TrialState

from ..errors import HrsnnError, StudyMismatchError
from ..evaluation import DEFAULT_EVALUATOR, Evaluator, evaluator_reference, resolve_evaluator  # noqa: F401 (re-exported)
from ..io import to_jsonable
from ..lifecycle import child_init, termination_handled
from .config import StudyConfig
from .samplers import make_sampler
from .store import (CONFIG_ATTR, OptimizeError, WorkerIdentity, budget_lock, fail_and_retry, heartbeat,
                    open_storage, reap_dead_local_trials)

log = logging.getLogger("hrsnn_hw.optimize")

CONSTRAINT_CAP = 1e300  # optuna stores constraint values as JSON numbers: no infinities
_WAIT_FOR_OTHERS_S = 0.5


def quiet_optuna() -> None:
    """optuna logs every trial at INFO; the study prints its own progress."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def average_metrics(per_seed: list[Mapping[str, Any]]) -> dict:
    """Mean of every numeric metric over seeds; other values from the first seed (None stays None)."""
    out: dict[str, Any] = {}
    for key, first in per_seed[0].items():
        values = [r.get(key) for r in per_seed]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            out[key] = float(sum(float(v) for v in values) / len(values))
        elif any(v is None for v in values) and not isinstance(first, (str, bool)):
            out[key] = None
        else:
            out[key] = first
    return out


def evaluate_on_seeds(design: Mapping[str, Any], config: StudyConfig, evaluator: Evaluator,
                      seeds: list[int]) -> tuple[dict, list[dict]]:
    """Run the evaluator once per seed; return the averaged and the per-seed metrics."""
    per_seed = []
    for s in seeds:
        result = evaluator(design, config.task, seed=int(s), quick=config.quick, profile=config.profile,
                           epochs=config.epochs)
        if not isinstance(result, Mapping):
            raise OptimizeError("the evaluator must return a dict of metrics", parameter="evaluator",
                                value=type(result).__name__)
        per_seed.append(dict(result))
    return average_metrics(per_seed), per_seed


def _check_contract(metrics: Mapping[str, Any], config: StudyConfig) -> None:
    """Metrics the objectives and constraints need are present and of the expected kind."""
    needed = {o.metric for o in config.objectives} | {c.metric for c in config.constraints}
    missing = sorted(k for k in needed if k not in metrics)
    if missing:
        raise OptimizeError("the evaluator result lacks a metric the study needs", parameter=missing[0],
                            value=sorted(metrics), hint="energy_per_inference_J needs --profile" if
                            "energy_per_inference_J" in missing else None)
    uses_task = "task_metric" in needed
    name = metrics.get("task_metric_name")
    if uses_task and name is not None and name != config.task_metric.name:
        raise OptimizeError("the evaluator scores the task with another metric than expected",
                            parameter="task_metric_name", value=name, allowed=config.task_metric.name)


def _set_trial_attrs(study: optuna.Study, trial_id: int, attrs: Mapping[str, Any]) -> None:
    for key, value in attrs.items():
        study._storage.set_trial_user_attr(trial_id, key, to_jsonable(value))


def run_trial(study: optuna.Study, trial: optuna.Trial, config: StudyConfig, evaluator: Evaluator) -> str:
    """Evaluate one asked trial and tell optuna; return ``"complete"`` or ``"fail"``.

    Raises
    ------
    KeyboardInterrupt
        After failing the trial and re-queueing its parameters.
    OptimizeError
        When the evaluator breaks its contract (a missing metric): no later trial can succeed.
    """
    params = dict(trial.params)
    design = config.space.apply(config.base_design, params)
    seeds = config.search_seed_list
    t0 = time.perf_counter()
    try:
        with heartbeat(study, trial._trial_id):
            metrics, per_seed = evaluate_on_seeds(design, config, evaluator, seeds)
        _check_contract(metrics, config)
    except KeyboardInterrupt:
        fail_and_retry(study, trial._trial_id, "interrupted")
        raise
    except OptimizeError as exc:
        _set_trial_attrs(study, trial._trial_id, {"seeds": seeds, "wall_time_s": time.perf_counter() - t0,
                                                  "failure": {"kind": "contract", "message": str(exc)}})
        study.tell(trial, state=TrialState.FAIL)
        raise
    except Exception as exc:  # the evaluator's failure on this design: recorded, the study goes on
        kind = "error" if isinstance(exc, HrsnnError) else "exception"
        detail = {"kind": kind, "type": type(exc).__name__, "message": str(exc)[:2000]}
        if kind == "exception":
            detail["traceback"] = traceback.format_exc(limit=8)[-4000:]
        _set_trial_attrs(study, trial._trial_id, {"seeds": seeds, "wall_time_s": time.perf_counter() - t0,
                                                  "failure": detail})
        study.tell(trial, state=TrialState.FAIL)
        log.warning("trial %d failed: %s: %s", trial.number, type(exc).__name__, str(exc)[:300])
        return "fail"
    wall = time.perf_counter() - t0
    values = [o.value(metrics) for o in config.objectives]
    attrs: dict[str, Any] = {"seeds": seeds, "metrics": metrics, "wall_time_s": wall}
    if len(per_seed) > 1:
        attrs["metrics_per_seed"] = per_seed
    if not all(math.isfinite(v) for v in values):
        attrs["failure"] = {"kind": "non-finite", "message": f"objective values {values} are not finite"}
        _set_trial_attrs(study, trial._trial_id, attrs)
        study.tell(trial, state=TrialState.FAIL)
        log.warning("trial %d failed: non-finite objective %s", trial.number, values)
        return "fail"
    _set_trial_attrs(study, trial._trial_id, attrs)
    for c in config.constraints:
        trial.set_constraint(c.text, min(c.violation(metrics), CONSTRAINT_CAP))
    study.tell(trial, values if config.multi_objective else values[0])
    return "complete"


def _suggest_all(trial: optuna.Trial, config: StudyConfig) -> None:
    for p in config.space.params:
        if p.integer:
            trial.suggest_int(p.path, int(p.low), int(p.high), log=p.log)
        else:
            trial.suggest_float(p.path, p.low, p.high, log=p.log)


def _storage_of(config: StudyConfig):
    return open_storage(config.storage, heartbeat_s=config.heartbeat_s, grace_s=config.stale_after_s,
                        max_retries=config.max_retries)


def count_states(study: optuna.Study) -> dict[str, int]:
    counts = {s.name.lower(): 0 for s in TrialState}
    for t in study.get_trials(deepcopy=False):
        counts[t.state.name.lower()] += 1
    return counts


def run_worker(config: StudyConfig, evaluator: Evaluator | str | None = None, worker_index: int = 0,
               on_trial: Callable[[optuna.Study], None] | None = None,
               should_stop: Callable[[], bool] | None = None) -> dict:
    """One worker: run trials on the study until it holds ``budget`` complete trials.

    Parameters
    ----------
    config : StudyConfig
        The study (it must exist in ``config.storage``; see :func:`open_study`).
    evaluator : callable or str, optional
        See :func:`resolve_evaluator`.
    worker_index : int
        Index of this worker (seeds stateful samplers apart).
    on_trial : callable, optional
        Called with the study after every finished trial (progress display).
    should_stop : callable, optional
        Asked before every trial; True ends the worker (a cluster's workers, whose threads
        cannot be interrupted, stop this way when the run that submitted them is stopped).

    Returns
    -------
    dict
        ``{"complete": n, "failed": n}`` trials finished by this worker.
    """
    quiet_optuna()
    fn = resolve_evaluator(evaluator)
    me = WorkerIdentity.current(worker_index)
    study = optuna.load_study(study_name=config.study_name, storage=_storage_of(config),
                              sampler=make_sampler(config, worker_index))
    done = {"complete": 0, "failed": 0}
    consecutive = 0
    with termination_handled():  # SIGTERM fails and re-queues the running trial like Ctrl-C
        while True:
            trial = None
            if should_stop is not None and should_stop():
                break
            with budget_lock(config.storage):
                reap_dead_local_trials(study, me)
                trials = study.get_trials(deepcopy=False)
                complete = sum(t.state == TrialState.COMPLETE for t in trials)
                running = sum(t.state == TrialState.RUNNING for t in trials)
                if complete >= config.budget:
                    break
                if complete + running < config.budget:
                    # Record the worker before sampling (the GP fit takes a while), so that a
                    # trial found RUNNING with a dead worker is retried at once.
                    with warnings.catch_warnings():
                        # we run optuna's heartbeat thread ourselves around the evaluation
                        warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed")
                        trial = study.ask()
                    study._storage.set_trial_user_attr(trial._trial_id, "worker", me.to_dict())
                    if trial.user_attrs.get("failure"):  # a retry inherits its original's record
                        study._storage.set_trial_user_attr(trial._trial_id, "failure", None)
                    _suggest_all(trial, config)
            if trial is None:
                # the budget is taken by other workers' running trials: if one of them dies,
                # its retry is ours to run, so wait for them rather than leave
                time.sleep(_WAIT_FOR_OTHERS_S)
                continue
            outcome = run_trial(study, trial, config, fn)
            if outcome == "complete":
                done["complete"] += 1
                consecutive = 0
            else:
                done["failed"] += 1
                consecutive += 1
                if consecutive >= config.max_consecutive_failures:
                    last = study._storage.get_trial(trial._trial_id).user_attrs.get("failure", {})
                    raise OptimizeError(f"{consecutive} trials in a row failed", parameter="evaluator",
                                        value=last.get("message"),
                                        hint="see the failures recorded in the study (trials.json); narrow the "
                                             "search space if the evaluator rejects part of it")
            if on_trial is not None:
                on_trial(study)
    return done


def _worker_entry(config: StudyConfig, evaluator: Evaluator | str | None, worker_index: int,
                  errors: Any, log_level: int, parent_pid: int) -> None:
    # SIGTERM when the parent dies (even by kill -9): the worker then fails and re-queues its
    # trial like on Ctrl-C, and exits
    child_init(parent_pid, ignore_sigint=False, death_signal=signal.SIGTERM)
    logging.basicConfig(level=log_level, format="%(message)s", stream=sys.stderr)
    try:
        run_worker(config, evaluator, worker_index)
    except KeyboardInterrupt as exc:
        sys.exit(128 + int(getattr(exc, "signum", signal.SIGINT)))
    except HrsnnError as exc:
        errors.put((type(exc).__name__, str(exc), exc.parameter))
        sys.exit(2)
    except BaseException as exc:
        errors.put((type(exc).__name__, f"{exc}\n{traceback.format_exc(limit=6)}", None))
        sys.exit(1)


def open_study(config: StudyConfig) -> optuna.Study:
    """Create the study, or load it and check it was made with the same setup.

    Raises
    ------
    OptimizeError
        When a study of that name exists with another search space, objectives, task, ...
    """
    quiet_optuna()
    study = optuna.create_study(study_name=config.study_name, storage=_storage_of(config), load_if_exists=True,
                                directions=config.directions)
    stored = study.user_attrs.get(CONFIG_ATTR)
    mine = to_jsonable(config.fingerprint())
    if stored is None:
        if study.get_trials(deepcopy=False):
            raise StudyMismatchError("the study exists but was not made by hrsnn-hw optimize", parameter="--study-name",
                                value=config.study_name, hint="choose another --study-name")
        study.set_user_attr(CONFIG_ATTR, mine)
    elif stored != mine:
        differ = sorted(k for k in set(stored) | set(mine) if stored.get(k) != mine.get(k))
        raise StudyMismatchError("this study was started with a different setup, so it cannot be resumed with this one",
                            parameter=differ[0], value=mine.get(differ[0]), allowed=str(stored.get(differ[0])),
                            hint="repeat the original options to resume, or start a new study with another "
                                 "--study-name or --out")
    if [d.name.lower() for d in study.directions] != config.directions:
        raise StudyMismatchError("the study's directions differ", parameter="--objectives",
                            value=config.directions, allowed=[d.name.lower() for d in study.directions])
    return study


def run_search(config: StudyConfig, evaluator: Evaluator | str | None = None, *,
               progress: bool = False, executor: Any = None) -> dict:
    """Run the search with ``config.workers`` workers (spawned processes when more than one),
    or as workers on the Dask cluster of ``config.cluster`` (``executor``, its
    :class:`~hrsnn_hw.executor.DaskExecutor`, connected here when not given).

    Returns
    -------
    dict
        Trial counts by state, and the search wall time.
    """
    t0 = time.perf_counter()
    make_sampler(config, 0)  # fail fast (e.g. optuna-gp without torch) before touching the storage
    resolve_evaluator(evaluator)
    study = open_study(config)
    bar = _ProgressBar(config, study) if progress else None
    try:
        if config.cluster is not None:
            run_cluster_workers(config, evaluator, study, executor, bar)
        elif config.workers == 1:
            run_worker(config, evaluator, 0, on_trial=bar.update if bar else None)
        else:
            _run_processes(config, evaluator, study, bar)
            if count_states(study)["complete"] < config.budget:
                # a worker was lost (killed): finish in this process, which also reaps its trial
                run_worker(config, evaluator, config.workers, on_trial=bar.update if bar else None)
    finally:
        if bar:
            bar.close()
    counts = count_states(study)
    return {"trials": counts, "search_wall_s": time.perf_counter() - t0}


def _cluster_worker(config: StudyConfig, evaluator: str, worker_index: int, stop_event: str) -> dict:
    """One optuna worker on a cluster's worker thread; it stops when the run sets ``stop_event``."""
    from distributed import Event
    stop = Event(stop_event)
    return run_worker(config, evaluator, worker_index, should_stop=stop.is_set)


def run_cluster_workers(config: StudyConfig, evaluator: Evaluator | str | None, study: optuna.Study,
                        executor: Any = None, bar: "_ProgressBar | None" = None) -> list[dict]:
    """The search as optuna workers on the Dask cluster of ``config.cluster``.

    ``config.workers`` workers are submitted (1: one per worker thread of the cluster); they
    share the study through ``config.storage`` (made absolute, as the cluster's workers do not
    share this process's working directory). Ctrl-C or SIGTERM here sets a cluster-wide event:
    each worker ends after its running trial (Dask cannot interrupt a running task).

    Returns
    -------
    list of dict
        Each worker's ``{"complete": n, "failed": n}``.
    """
    import uuid

    from ..evaluation import evaluator_reference
    from ..executor import DaskExecutor
    from .store import is_url, storage_url
    ref = evaluator_reference(evaluator)
    if not is_url(str(config.storage)):
        import dataclasses
        config = dataclasses.replace(config, storage=storage_url(config.storage))
    own = executor is None
    if own:
        executor = DaskExecutor(config.cluster, timeout=config.cluster_timeout_s)
    try:
        from distributed import Event
        n = config.workers if config.workers > 1 else executor.workers
        stop = Event(f"hrsnn-optimize-stop-{uuid.uuid4().hex}", client=executor.client)
        done: list[dict] = []
        try:
            jobs = [(config, ref, i, stop.name) for i in range(n)]
            for _, counts in executor.map_unordered(_cluster_worker, jobs,
                                                    labels=[f"optuna worker {i}" for i in range(n)],
                                                    tick=(lambda: bar.update(study)) if bar else None):
                done.append(counts)
                if bar:
                    bar.update(study)
        except BaseException:
            try:
                stop.set()
            except Exception:  # the cluster is gone: nothing left to stop
                pass
            raise
        return done
    finally:
        if own:
            executor.close()


def _run_processes(config: StudyConfig, evaluator: Evaluator | str | None, study: optuna.Study,
                   bar: "_ProgressBar | None") -> None:
    ctx = mp.get_context("spawn")
    errors = ctx.Queue()
    # Workers receive the evaluator by name ("module:function") and import it themselves.
    ref = evaluator_reference(evaluator) if callable(evaluator) else evaluator
    level = logging.getLogger().level
    procs = [ctx.Process(target=_worker_entry, args=(config, ref, i, errors, level, os.getpid()),
                         name=f"hrsnn-optimize-{i}") for i in range(config.workers)]
    with termination_handled():
        try:
            for p in procs:
                p.start()
            from ..rundir import note_resources
            note_resources(pids=[p.pid for p in procs])  # reaped by the next run if this one is killed
            while any(p.is_alive() for p in procs):
                for p in procs:
                    p.join(timeout=1.0 / len(procs))
                if bar:
                    bar.update(study)
        except KeyboardInterrupt:
            # Ctrl-C reaches the workers too (same process group), SIGTERM sent to this process
            # alone does not: pass it on. Each worker then fails and re-queues its trial; who
            # is still alive after the grace period is killed.
            for p in procs:
                if p.is_alive() and p.pid is not None:
                    try:
                        os.kill(p.pid, signal.SIGTERM)
                    except ProcessLookupError:
                        pass
            deadline = time.monotonic() + 30.0
            for p in procs:
                p.join(timeout=max(0.0, deadline - time.monotonic()))
            for p in procs:
                if p.is_alive():
                    p.kill()
                    p.join(timeout=10)
            raise
    if bar:
        bar.update(study)
    messages = []
    while not errors.empty():
        messages.append(errors.get())
    if messages:
        name, text, parameter = messages[0]
        raise OptimizeError(f"a worker stopped: {name}: {text}", parameter=parameter)
    bad = [p.exitcode for p in procs if p.exitcode not in (0, None)]
    if bad:
        log.warning("worker exit codes %s", bad)


class _ProgressBar:
    """tqdm bar of complete trials with the best value so far (stderr)."""

    def __init__(self, config: StudyConfig, study: optuna.Study) -> None:
        from tqdm import tqdm
        self.config = config
        n = count_states(study)["complete"]
        self.bar = tqdm(total=config.budget, initial=min(n, config.budget), desc="optimize", unit="trial",
                        file=sys.stderr, dynamic_ncols=True)
        self.n = n
        self.update(study)

    def update(self, study: optuna.Study) -> None:
        from .results import best_trial, pareto_trials
        trials = study.get_trials(deepcopy=False)
        n = sum(t.state == TrialState.COMPLETE for t in trials)
        if n > self.n:
            self.bar.update(min(n, self.config.budget) - min(self.n, self.config.budget))
            self.n = n
        if self.config.multi_objective:
            self.bar.set_postfix_str(f"pareto front: {len(pareto_trials(trials, self.config))}")
        else:
            best = best_trial(trials, self.config)
            obj = self.config.objectives[0]
            if best is not None:
                self.bar.set_postfix_str(f"best {obj.name}={best.values[0]:.4g} (trial {best.number})")

    def close(self) -> None:
        self.bar.close()


def frozen_trials(config: StudyConfig) -> list[FrozenTrial]:
    """All trials of the study, fresh from the storage."""
    quiet_optuna()
    return optuna.load_study(study_name=config.study_name, storage=open_storage(config.storage)).get_trials(
        deepcopy=False)
