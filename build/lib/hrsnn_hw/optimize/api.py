"""One call for a whole study: search, select, re-evaluate on fresh seeds, write reports."""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna

from ..io import to_jsonable, write_json_atomic, write_text_atomic
from ..spec import make_arm
from .config import StudyConfig
from .reeval import reevaluate
from .report import comparison_table, write_design
from .results import best_trial, knee_trial, pareto_trials, trial_record
from .runner import Evaluator, open_storage, quiet_optuna, run_search


@dataclass(frozen=True)
class OptimizeResult:
    """What a study produced.

    Attributes
    ----------
    study_name, storage : str
        Where the trials are.
    out : str or None
        Output directory.
    objectives : list of dict
        ``{"name", "metric", "direction"}`` per objective.
    constraints : list of str
        Constraint texts.
    trials : dict
        Trial counts by state (``complete``, ``fail``, ``running``, ``waiting``, ``pruned``).
    best : dict or None
        The selected trial (single objective: best feasible; multi-objective: the knee of the
        feasible Pareto front): ``trial``, ``params``, ``values`` (by objective name),
        ``metrics`` (search seeds), ``search_seeds``, ``design_file``. None if no feasible trial.
    pareto : list of dict
        Feasible Pareto front (multi-objective only).
    reeval : dict or None
        Fresh-seed re-evaluation (see :func:`hrsnn_hw.optimize.reeval.reevaluate`).
    files : dict
        Paths of everything written.
    timings : dict
        ``search_wall_s``, ``reeval_wall_s``, ``total_wall_s``, ``mean_trial_s``.
    table_markdown : str
        The comparison table (empty without re-evaluation).
    """

    study_name: str
    storage: str
    out: str | None
    objectives: list
    constraints: list
    trials: dict
    best: dict | None
    pareto: list = field(default_factory=list)
    reeval: dict | None = None
    files: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    table_markdown: str = ""

    def to_dict(self) -> dict:
        return to_jsonable(dataclasses.asdict(self))


def _summary(t: optuna.trial.FrozenTrial, config: StudyConfig) -> dict:
    return to_jsonable({"trial": t.number, "params": dict(t.params),
                        "values": {o.name: v for o, v in zip(config.objectives, t.values)},
                        "metrics": t.user_attrs.get("metrics"), "search_seeds": t.user_attrs.get("seeds")})


def optimize(config: StudyConfig, evaluator: Evaluator | str | None = None, *,
             progress: bool = False) -> OptimizeResult:
    """Run (or resume) a study to its budget, then select, re-evaluate and report.

    Parameters
    ----------
    config : StudyConfig
        The study (see :func:`hrsnn_hw.optimize.make_config`).
    evaluator : callable or str, optional
        ``f(design, task, *, seed, quick, profile, epochs) -> dict``; default
        ``hrsnn_hw.experiment.evaluate_design`` (imported lazily). With several workers it
        must be importable (a module-level function or ``"module:function"``).
    progress : bool
        Show a tqdm bar on stderr.

    Returns
    -------
    OptimizeResult
    """
    t0 = time.perf_counter()
    search = run_search(config, evaluator, progress=progress)
    base = dict(objectives=[{"name": o.name, "metric": o.metric, "direction": o.direction} for o in config.objectives],
                constraints=[c.text for c in config.constraints], study_name=config.study_name,
                storage=str(config.storage), out=str(config.out) if config.out else None, trials=search["trials"])
    if config.worker_only:  # another run does selection, re-evaluation and reports
        return OptimizeResult(best=None, timings={"search_wall_s": search["search_wall_s"]}, **base)
    quiet_optuna()
    study = optuna.load_study(study_name=config.study_name, storage=open_storage(config.storage))
    trials = study.get_trials(deepcopy=False)
    front = pareto_trials(trials, config) if config.multi_objective else []
    chosen = knee_trial(front, config) if config.multi_objective else best_trial(trials, config)
    files: dict[str, Any] = {"storage": str(config.storage)}
    out = config.out
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)

    reeval = None
    t_re = time.perf_counter()
    best_design = config.space.apply(config.base_design, chosen.params) if chosen is not None else None
    if chosen is not None and config.reeval_seeds > 0:
        designs = {"mrsnn": make_arm(config.base_design, hetero_neurons=False, hetero_stdp=False, name="mrsnn"),
                   "reference_hrsnn": config.base_design, "optimized": best_design}
        reeval = reevaluate(config, designs, evaluator, workers=config.workers)
    reeval_wall = time.perf_counter() - t_re
    table = comparison_table(reeval, config) if reeval else ""

    best = _summary(chosen, config) if chosen is not None else None
    pareto = [_summary(t, config) for t in front]
    base_name = str(config.base_design.get("name", "hrsnn"))
    if out is not None:
        if chosen is not None:
            how = ("knee of the feasible Pareto front" if config.multi_objective else "best feasible trial")
            e = ((reeval or {}).get("designs", {}).get("optimized", {}).get("efficiency") or {})
            fresh = (f" Re-evaluated E = {e['mean']:.4g} ± {e['std']:.3g} over {e['n']} fresh seeds."
                     if e.get("mean") is not None else "")
            desc = (f"Optimised by hrsnn-hw optimize from {base_name}: study {config.study_name!r}, trial "
                    f"{chosen.number} ({how}), objectives {[o.name for o in config.objectives]}, task "
                    f"{config.task}.{fresh}")
            files["best_design"] = str(write_design(best_design, out / "best_design.json",
                                                    name=f"{base_name}_optimized", description=desc))
            best["design_file"] = files["best_design"]
        for t, rec in zip(front, pareto):
            path = write_design(config.space.apply(config.base_design, t.params), out / "pareto" / f"trial_{t.number:04d}.json",
                                name=f"{base_name}_pareto_{t.number}",
                                description=f"Pareto-optimal design of study {config.study_name!r}, trial {t.number}.")
            rec["design_file"] = str(path)
        files["trials"] = str(write_json_atomic(out / "trials.json", [trial_record(t, config) for t in trials]))
        if table:
            files["summary"] = str(write_text_atomic(out / "summary.md", table))
        if config.figures:
            from .figures import write_figures
            files["figures"] = write_figures(study, config, out)
    walls = [t.user_attrs.get("wall_time_s") for t in trials if t.state.name == "COMPLETE"]
    walls = [w for w in walls if isinstance(w, (int, float))]
    timings = {"search_wall_s": search["search_wall_s"], "reeval_wall_s": reeval_wall,
               "total_wall_s": time.perf_counter() - t0,
               "mean_trial_s": float(np.mean(walls)) if walls else None}
    result = OptimizeResult(best=best, pareto=pareto, reeval=reeval, files=files, timings=timings,
                            table_markdown=table, **base)
    if out is not None:
        files["result"] = str(out / "result.json")
        write_json_atomic(out / "result.json", result.to_dict())
    return result
