"""What one optimisation study is: design, search space, objectives, evaluation and run settings."""
from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..errors import SpecError
from .objectives import Constraint, Objective, TaskMetric, parse_constraint, parse_objectives, task_metric_of
from .space import SearchSpace

SAMPLERS = ("gp", "tpe", "random", "nsga2", "optuna-gp")
# Re-evaluation seeds start here and confirmation seeds at the next offset; search seeds are
# seed .. seed + search_seeds - 1, so the three sets are disjoint while each count is below
# REEVAL_SEED_OFFSET (checked in StudyConfig).
REEVAL_SEED_OFFSET = 100_000
CONFIRM_SEED_OFFSET = 200_000


def design_digest(design: Mapping[str, Any]) -> str:
    """SHA-256 of a design's canonical JSON (to recognise the same base design on resume)."""
    return hashlib.sha256(json.dumps(design, sort_keys=True, default=str).encode()).hexdigest()


def _positive_int(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < minimum:
        raise SpecError("expected an integer", parameter=name, value=value, allowed=f"integers >= {minimum}")
    return int(value)


@dataclass(frozen=True)
class StudyConfig:
    """Everything that defines an optimisation study and how it is run.

    Attributes
    ----------
    base_design : dict
        The design the searched values are written into (the reference design ``hrsnn``).
    space : SearchSpace
        Searched parameters and bounds.
    objectives : tuple of Objective
        One (single-objective) or more (Pareto front).
    constraints : tuple of Constraint
        Feasibility conditions on the metrics.
    task : str
        Task name passed to the evaluator.
    task_metric : TaskMetric
        How the task is scored.
    quick, profile, epochs
        Passed to the evaluator (``profile`` also enables energy in the reports).
    seed : int
        Base seed: sampler seed, search seeds ``seed .. seed + search_seeds - 1`` and
        re-evaluation seeds ``seed + 100000 + i``.
    search_seeds : int
        Seeds averaged per trial during the search (common random numbers across trials).
    budget : int
        Number of COMPLETE trials the study should hold (across resumes and workers).
    workers : int
        Worker processes on this machine (with ``cluster``: optuna workers submitted to the
        cluster; 1 means one per worker thread of the cluster).
    sampler : str
        ``gp`` (scikit-learn GP, default), ``tpe``, ``random``, ``nsga2``, ``optuna-gp`` (torch).
    n_startup : int or None
        Quasi-random trials before the model-based sampler starts (None: automatic).
    storage : str
        SQLite file path or database URL (optuna RDB storage). With a ``cluster`` on another
        machine it must be a database server's URL (SQLite over a network filesystem is unsafe).
    study_name : str
        Name of the study inside the storage.
    out : Path or None
        Where reports, figures and design files go.
    reeval_seeds : int
        Fresh seeds for the final re-evaluation (0: none).
    confirm_seeds : int
        Seeds (``seed + 200000 + i``) on which the ``confirm_top`` best feasible trials of each
        study are run again before one is selected: the selection is the best of those whose
        constraints still hold there (:mod:`hrsnn_hw.optimize.confirm`). 0: select on the search
        seeds alone. Not part of the fingerprint (it does not change the trials).
    confirm_top : int
        How many of each study's best feasible trials are confirmed.
    heartbeat_s, stale_after_s, max_retries, max_consecutive_failures
        Worker liveness and failure handling (see :mod:`hrsnn_hw.optimize.store`).
    figures : bool
        Write figures.
    worker_only : bool
        Only contribute trials; selection, re-evaluation and reports are left to another
        run. Stateful samplers (tpe, random, nsga2) then also seed by host and process, so
        workers started with the same options on several machines do not repeat each other.
    command : str
        The command line that made the study (for the reports).
    mc_floor : bool
        Add ``mc>=mrsnn`` when an objective rewards silence (see
        :func:`hrsnn_hw.optimize.objectives.default_floor`); applied by
        :func:`hrsnn_hw.optimize.optimize`.
    tune_mrsnn : bool
        Also search the MRSNN's homogeneous parameters with the same budget, objectives and
        constraints (study ``<study_name>-mrsnn``), so the final comparison is tuned vs tuned.
    cluster : str or None
        A Dask scheduler's address (``tcp://host:port``): the trials run as optuna workers on
        its workers, sharing the study through ``storage``; the reference and the
        re-evaluation seeds run there too. Not part of the fingerprint (where trials run does
        not change them).
    cluster_timeout_s : float
        Seconds to wait for the scheduler and its first worker.
    """

    base_design: dict
    space: SearchSpace
    objectives: tuple[Objective, ...]
    constraints: tuple[Constraint, ...] = ()
    task: str = "japanese_vowels"
    task_metric: TaskMetric = TaskMetric("accuracy", True)
    quick: bool = False
    profile: str | None = None
    epochs: int | None = None
    seed: int = 0
    search_seeds: int = 1
    budget: int = 40
    workers: int = 1
    sampler: str = "gp"
    n_startup: int | None = None
    storage: str = ""
    study_name: str = "hrsnn"
    out: Path | None = None
    reeval_seeds: int = 5
    confirm_seeds: int = 5
    confirm_top: int = 5
    heartbeat_s: float = 10.0
    stale_after_s: float = 300.0
    max_retries: int = 3
    max_consecutive_failures: int = 5
    figures: bool = True
    worker_only: bool = False
    command: str = ""
    mc_floor: bool = True
    tune_mrsnn: bool = True
    cluster: str | None = None
    cluster_timeout_s: float = 10.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_design", copy.deepcopy(dict(self.base_design)))
        object.__setattr__(self, "objectives", tuple(self.objectives))
        object.__setattr__(self, "constraints", tuple(self.constraints))
        if not self.objectives:
            raise SpecError("no objective", parameter="objectives", value=())
        if self.sampler not in SAMPLERS:
            raise SpecError("unknown sampler", parameter="--sampler", value=self.sampler, allowed=f"one of {list(SAMPLERS)}")
        _positive_int(self.budget, "--budget", 1)
        _positive_int(self.workers, "--workers", 1)
        _positive_int(self.search_seeds, "--search-seeds", 1)
        _positive_int(self.reeval_seeds, "--reeval-seeds", 0)
        _positive_int(self.confirm_seeds, "--confirm-seeds", 0)
        _positive_int(self.confirm_top, "--confirm-top", 1)
        for name, count in (("--search-seeds", self.search_seeds), ("--reeval-seeds", self.reeval_seeds),
                            ("--confirm-seeds", self.confirm_seeds)):
            if count >= REEVAL_SEED_OFFSET:  # the seed sets would overlap
                raise SpecError("too many seeds", parameter=name, value=count, allowed=f"< {REEVAL_SEED_OFFSET}")
        if self.n_startup is not None:
            _positive_int(self.n_startup, "--n-startup", 1)
        if not self.storage:
            raise SpecError("no study storage given", parameter="--storage", value=self.storage,
                            hint="give --out DIR (database DIR/study.db) or --storage PATH|URL")
        if self.out is not None:
            object.__setattr__(self, "out", Path(self.out))
        if self.cluster is not None:
            _check_cluster_storage(self.cluster, self.storage)

    @property
    def directions(self) -> list[str]:
        return [o.direction for o in self.objectives]

    @property
    def multi_objective(self) -> bool:
        return len(self.objectives) > 1

    @property
    def search_seed_list(self) -> list[int]:
        return [self.seed + i for i in range(self.search_seeds)]

    @property
    def reeval_seed_list(self) -> list[int]:
        return [self.seed + REEVAL_SEED_OFFSET + i for i in range(self.reeval_seeds)]

    @property
    def confirm_seed_list(self) -> list[int]:
        return [self.seed + CONFIRM_SEED_OFFSET + i for i in range(self.confirm_seeds)]

    def n_startup_trials(self) -> int:
        """Start-up trials: the user's number, else d + 1 clamped to [3, max(3, budget // 2)]."""
        if self.n_startup is not None:
            return int(self.n_startup)
        return int(min(max(len(self.space) + 1, 3), max(3, self.budget // 2)))

    def fingerprint(self) -> dict:
        """What must not change between the runs of one study (checked on resume)."""
        return {"search_space": self.space.to_dict()["params"],
                "objectives": [[o.name, o.metric, o.direction] for o in self.objectives],
                "constraints": [c.text for c in self.constraints], "task": self.task, "quick": self.quick,
                "profile": self.profile, "epochs": self.epochs, "search_seeds": self.search_seed_list,
                "base_design_sha256": design_digest(self.base_design)}


def _check_cluster_storage(cluster: str, storage: str) -> None:
    """A study shared with a cluster's workers: a database server, or SQLite on this machine only."""
    from ..executor import check_cluster_address, is_local_address
    check_cluster_address(cluster, parameter="--cluster")
    text = str(storage)
    sqlite = "://" not in text or text.startswith("sqlite:")
    if sqlite and not is_local_address(cluster):
        raise SpecError("a study shared with a cluster on other machines needs a database server", parameter="--storage",
                        value=text, allowed="a database URL, e.g. postgresql://user@dbhost/optuna or "
                                            "mysql+pymysql://user@dbhost/optuna",
                        hint="SQLite files over a network filesystem lose or corrupt trials (their locks do not "
                             "hold); an SQLite file is accepted only with a cluster on this machine "
                             "(tcp://127.0.0.1:PORT)")


def make_config(base_design: Mapping[str, Any], space: SearchSpace, *, objectives: str | list[str] = "efficiency",
                constraints: list[str] | tuple[str, ...] = (), task: str = "japanese_vowels",
                profile: str | None = None, validate: bool = True, **kw: Any) -> StudyConfig:
    """Parse objectives/constraints for ``task`` and build a validated :class:`StudyConfig`.

    Raises
    ------
    SpecError
        Bad search space (unknown path, bounds, ...), objective, constraint or setting.
    """
    needs_metric = "task" in (objectives if isinstance(objectives, str) else ",".join(objectives)) or bool(constraints)
    tm = task_metric_of(task) if needs_metric else TaskMetric("accuracy", True)
    objs = parse_objectives(objectives, tm, profile)
    cons = tuple(parse_constraint(c, tm, profile) for c in constraints)
    if len({c.text for c in cons}) != len(cons):
        raise SpecError("constraint given twice", parameter="--constraint", value=[c.text for c in cons])
    if validate:
        space.validate(base_design)
    return StudyConfig(base_design=dict(base_design), space=space, objectives=objs, constraints=cons, task=task,
                       task_metric=tm, profile=profile, **kw)
