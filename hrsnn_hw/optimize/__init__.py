"""Bayesian optimisation of an HRSNN's heterogeneity (``hrsnn-hw optimize``).

The paper picks the distributions of the neuron time constants and STDP parameters by
Bayesian optimisation with a Gaussian-process surrogate, to raise the spike efficiency
E = memory capacity / activity while keeping task performance. This package makes that a
study one can run, interrupt, resume and spread over processes and machines:

* :mod:`.space` - the searched numbers of a design (dotted paths, bounds, log/int);
* :mod:`.objectives` - objectives (E, task, spikes, energy), constraints and the default MC floor;
* :mod:`.mrsnn` - the reference MRSNN's measurement and the tuned-MRSNN study (same budget);
* :mod:`.gp_sampler` - a torch-free GP + expected-improvement optuna sampler on scikit-learn;
* :mod:`.store` - optuna RDB storage (SQLite or a server) with its heartbeat and retry callback, the budget lock;
* :mod:`.runner` - trial evaluation, the worker loop, parallel worker processes;
* :mod:`.confirm` - each study's best feasible trials run again on confirmation seeds before one
  is selected (a constraint met on the search seeds alone does not carry);
* :mod:`.reeval`, :mod:`.report`, :mod:`.figures`, :mod:`.api` - fresh-seed re-evaluation,
  tables, the MC-activity front, design files and figures, and :func:`optimize` tying them
  together;
* :mod:`.synthetic` - a cheap deterministic stand-in evaluator for tests and demos.

The objective itself (training and measuring a design) is
``hrsnn_hw.experiment.evaluate_design``, injected as a callable.
"""
from .api import OptimizeResult, optimize
from .config import CONFIRM_SEED_OFFSET, REEVAL_SEED_OFFSET, SAMPLERS, StudyConfig, make_config
from .confirm import confirm_selection
from .gp_sampler import SklearnGPSampler
from .objectives import (Constraint, Objective, TaskMetric, default_floor, parse_constraint, parse_objectives,
                         task_metric_of)
from .mrsnn import homogeneous_space, measure_reference, mrsnn_study
from .reeval import mc_check, reevaluate
from .results import best_trial, knee_trial, mc_activity_front, mc_activity_points, pareto_trials
from .runner import DEFAULT_EVALUATOR, open_study, resolve_evaluator, run_search, run_worker
from .samplers import make_sampler
from .space import (SearchParam, SearchSpace, apply_values, parse_param, read_space_file, space_from_cli,
                    space_from_dict)
from .store import OptimizeError, open_storage

__all__ = [
    "optimize", "OptimizeResult", "StudyConfig", "make_config", "SAMPLERS", "REEVAL_SEED_OFFSET",
    "CONFIRM_SEED_OFFSET", "confirm_selection",
    "SklearnGPSampler", "make_sampler", "Objective", "Constraint", "TaskMetric", "parse_objectives",
    "parse_constraint", "task_metric_of", "default_floor", "homogeneous_space", "measure_reference", "mrsnn_study",
    "mc_check", "mc_activity_front", "mc_activity_points", "SearchParam", "SearchSpace", "parse_param", "space_from_cli",
    "space_from_dict", "read_space_file", "apply_values", "reevaluate", "best_trial", "pareto_trials",
    "knee_trial", "run_search", "run_worker", "open_study", "resolve_evaluator", "DEFAULT_EVALUATOR",
    "OptimizeError", "open_storage",
]
