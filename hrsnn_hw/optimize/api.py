"""One call for a whole study: reference, search (HRSNN and tuned MRSNN), select, re-evaluate, report."""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna

from ..executor import DaskExecutor, Executor
from ..io import to_jsonable, write_json_atomic, write_text_atomic
from .config import StudyConfig
from .confirm import confirm_selection
from .mrsnn import measure_reference, mrsnn_study, reference_design, resolve_constraints
from .objectives import default_floor
from .reeval import mc_check, reevaluate
from .report import comparison_table, confirmation_table, front_table, write_design
from .results import best_trial, knee_trial, mc_activity_front, mc_activity_points, pareto_trials, trial_record
from .runner import Evaluator, open_storage, open_study, quiet_optuna, run_search


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
        Constraint texts (``mc>=mrsnn`` is the default MC floor).
    constraint_values : dict
        Threshold of every constraint, reference constraints measured (``{"mc>=mrsnn": 1.23}``).
    reference : dict or None
        The reference MRSNN's metrics on the search seeds (``metrics``, ``per_seed``, ``seeds``).
    trials : dict
        Trial counts by state (``complete``, ``fail``, ``running``, ``waiting``, ``pruned``).
    best : dict or None
        The selected trial (single objective: best feasible; multi-objective: the knee of the
        feasible Pareto front; with ``confirm_seeds``, among the trials whose constraints still
        hold on the confirmation seeds): ``trial``, ``params``, ``values`` (by objective name),
        ``metrics`` (search seeds), ``search_seeds``, ``confirmation`` (``metrics`` on the
        confirmation seeds, ``feasible``), ``design_file``. None if no feasible trial.
    pareto : list of dict
        Feasible Pareto front of the objectives (multi-objective only).
    mc_activity_front : list of dict
        The HRSNN study's trials that no other trial beats on both MC and activity.
    tuned_mrsnn : dict or None
        The MRSNN study (same budget over the homogeneous parameters): ``study_name``,
        ``trials``, ``best`` (as ``best``), ``mc_activity_front``; None when not run.
    confirmation : dict or None
        Each study's best feasible trials re-run on the confirmation seeds and the selection
        among them (:func:`hrsnn_hw.optimize.confirm.confirm_selection`); None with
        ``confirm_seeds`` 0.
    reeval : dict or None
        Fresh-seed re-evaluation (see :func:`hrsnn_hw.optimize.reeval.reevaluate`).
    mc_check : dict or None
        The optimised HRSNN's MC against the tuned MRSNN's (else the reference MRSNN's) on the
        fresh seeds (:func:`hrsnn_hw.optimize.reeval.mc_check`).
    files : dict
        Paths of everything written.
    timings : dict
        ``search_wall_s``, ``confirm_wall_s``, ``reeval_wall_s``, ``total_wall_s``, ``mean_trial_s``.
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
    constraint_values: dict = field(default_factory=dict)
    reference: dict | None = None
    pareto: list = field(default_factory=list)
    mc_activity_front: list = field(default_factory=list)
    tuned_mrsnn: dict | None = None
    confirmation: dict | None = None
    reeval: dict | None = None
    mc_check: dict | None = None
    files: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    table_markdown: str = ""

    def to_dict(self) -> dict:
        return to_jsonable(dataclasses.asdict(self))


def _summary(t: optuna.trial.FrozenTrial, config: StudyConfig, confirmation: dict | None = None) -> dict:
    out = {"trial": t.number, "params": dict(t.params),
           "values": {o.name: v for o, v in zip(config.objectives, t.values)},
           "metrics": t.user_attrs.get("metrics"), "search_seeds": t.user_attrs.get("seeds")}
    if confirmation is not None:
        row = next(r for r in confirmation["candidates"] if r["trial"] == t.number)
        out["confirmation"] = {"seeds": config.confirm_seed_list, "metrics": row["metrics"],
                               "feasible": row["feasible"]}
    return to_jsonable(out)


def _trial(trials, number: int | None):
    return None if number is None else next(t for t in trials if t.number == number)


def prepare(config: StudyConfig, evaluator: Evaluator | str | None = None, *,
            executor: Executor | None = None) -> tuple[StudyConfig, dict | None]:
    """Add the default MC floor and measure reference thresholds (the reference MRSNN on the search seeds).

    Returns
    -------
    (StudyConfig, dict or None)
        The config whose constraints are all resolved, and the reference measurement (None when
        nothing needed it).
    """
    if config.mc_floor:
        floor = default_floor(config.objectives, config.constraints)
        if floor is not None:
            config = dataclasses.replace(config, constraints=config.constraints + (floor,))
    needs = any(c.reference and not c.resolved for c in config.constraints)
    if not needs and not config.tune_mrsnn:
        return config, None
    reference = measure_reference(config, evaluator, executor=executor)
    return resolve_constraints(config, reference), reference


def start_from_base(config: StudyConfig) -> bool:
    """Make the base design the first trial of a new study (both studies start from their
    reference design, so neither search can end below it on the search seeds for want of
    trying it). Returns True when it was queued."""
    study = open_study(config)
    if study.get_trials(deepcopy=False):
        return False
    values = config.space.values_in(config.base_design)
    if values is None:
        return False
    study.enqueue_trial(values, user_attrs={"start": "base design"}, skip_if_exists=True)
    return True


def _select(config: StudyConfig):
    quiet_optuna()
    study = optuna.load_study(study_name=config.study_name, storage=open_storage(config.storage))
    trials = study.get_trials(deepcopy=False)
    front = pareto_trials(trials, config) if config.multi_objective else []
    chosen = knee_trial(front, config) if config.multi_objective else best_trial(trials, config)
    return study, trials, front, chosen


def optimize(config: StudyConfig, evaluator: Evaluator | str | None = None, *,
             progress: bool = False, executor: Executor | None = None) -> OptimizeResult:
    """Run (or resume) a study to its budget, then select, re-evaluate and report.

    Before the search, the reference MRSNN is evaluated on the search seeds: it sets the MC
    floor ``mc>=mrsnn`` that objectives a silent network would win carry by default
    (``config.mc_floor``). With ``config.tune_mrsnn`` a second study (``<name>-mrsnn``)
    searches the MRSNN's homogeneous parameters with the same budget, objectives and
    constraints. With ``config.confirm_seeds`` each study's ``confirm_top`` best feasible
    trials are run again on confirmation seeds and the design is selected among those whose
    constraints still hold there (:mod:`hrsnn_hw.optimize.confirm`: a floor met on the search
    seeds alone does not carry to fresh seeds). The re-evaluation on fresh seeds then sets the
    optimised HRSNN beside the tuned MRSNN, the reference HRSNN and the reference MRSNN.

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
    executor : Executor, optional
        The cluster of ``config.cluster`` when already connected (default: connect here, and
        disconnect at the end).

    Returns
    -------
    OptimizeResult
    """
    if config.cluster is not None and executor is None:
        with DaskExecutor(config.cluster, timeout=config.cluster_timeout_s) as cluster:
            return optimize(config, evaluator, progress=progress, executor=cluster)
    t0 = time.perf_counter()
    config, reference = prepare(config, evaluator, executor=executor)
    start_from_base(config)
    search = run_search(config, evaluator, progress=progress, executor=executor)
    m_config = mrsnn_study(config) if config.tune_mrsnn else None
    m_search = None
    if m_config is not None:
        start_from_base(m_config)
        m_search = run_search(m_config, evaluator, progress=progress, executor=executor)
    base = dict(objectives=[{"name": o.name, "metric": o.metric, "direction": o.direction} for o in config.objectives],
                constraints=[c.text for c in config.constraints],
                constraint_values={c.text: c.threshold for c in config.constraints},
                reference=reference, study_name=config.study_name,
                storage=str(config.storage), out=str(config.out) if config.out else None, trials=search["trials"])
    search_wall = search["search_wall_s"] + (m_search["search_wall_s"] if m_search else 0.0)
    if config.worker_only:  # another run does selection, re-evaluation and reports
        return OptimizeResult(best=None, timings={"search_wall_s": search_wall}, **base)
    study, trials, front, chosen = _select(config)
    files: dict[str, Any] = {"storage": str(config.storage)}
    out = config.out
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)

    m_chosen = None
    m_trials: list = []
    if m_config is not None:
        _, m_trials, _, m_chosen = _select(m_config)
    confirmation = None
    confirmed: dict = {}
    t_confirm = time.perf_counter()
    if config.confirm_seeds > 0 and (chosen is not None or m_chosen is not None):
        studies = {"hrsnn": (config, trials)}
        if m_config is not None:
            studies["tuned_mrsnn"] = (m_config, m_trials)
        confirmation = confirm_selection(studies, evaluator, executor=executor, workers=config.workers)
        confirmed = confirmation["studies"]
        chosen = _trial(trials, confirmed["hrsnn"]["selected"])
        if m_config is not None:
            m_chosen = _trial(m_trials, confirmed["tuned_mrsnn"]["selected"])
    confirm_wall = time.perf_counter() - t_confirm

    tuned = None
    m_points: list = []
    if m_config is not None:
        m_points = mc_activity_points(m_trials, m_config)
        tuned = {"study_name": m_config.study_name, "trials": m_search["trials"],
                 "space": m_config.space.to_dict()["params"],
                 "best": (_summary(m_chosen, m_config, confirmed.get("tuned_mrsnn")) if m_chosen is not None
                          else None),
                 "mc_activity_front": mc_activity_front(m_points)}

    reeval = None
    t_re = time.perf_counter()
    best_design = config.space.apply(config.base_design, chosen.params) if chosen is not None else None
    tuned_design = m_config.space.apply(m_config.base_design, m_chosen.params) if m_chosen is not None else None
    if chosen is not None and config.reeval_seeds > 0:
        designs = {"mrsnn": reference_design(config)}
        if tuned_design is not None:
            designs["tuned_mrsnn"] = tuned_design
        designs.update({"reference_hrsnn": config.base_design, "optimized": best_design})
        reeval = reevaluate(config, designs, evaluator, workers=config.workers, executor=executor)
    reeval_wall = time.perf_counter() - t_re
    check = None
    if reeval:
        check = mc_check(reeval, "tuned_mrsnn" if "tuned_mrsnn" in reeval["designs"] else "mrsnn")
    notes = []
    if config.tune_mrsnn and m_config is None:
        notes.append("The MRSNN was not tuned: the search space has no homogeneous parameter (only spreads).")
    table = comparison_table(reeval, config, mc_check=check, notes=notes) if reeval else ""

    best = _summary(chosen, config, confirmed.get("hrsnn")) if chosen is not None else None
    pareto = [_summary(t, config) for t in front]
    points = mc_activity_points(trials, config)
    mc_front = mc_activity_front(points)
    base_name = str(config.base_design.get("name", "hrsnn"))
    if out is not None:
        if chosen is not None:
            how = ("knee of the feasible Pareto front" if config.multi_objective else "best feasible trial")
            if confirmation is not None:
                how += (f" among the {config.confirm_top} best, on {config.confirm_seeds} confirmation seeds"
                        + ("" if confirmed["hrsnn"]["confirmed"] else "; no candidate met the constraints there"))
            e = ((reeval or {}).get("designs", {}).get("optimized", {}).get("efficiency") or {})
            fresh = (f" Re-evaluated E = {e['mean']:.4g} ± {e['std']:.3g} over {e['n']} fresh seeds."
                     if e.get("mean") is not None else "")
            desc = (f"Optimised by hrsnn-hw optimize from {base_name}: study {config.study_name!r}, trial "
                    f"{chosen.number} ({how}), objectives {[o.name for o in config.objectives]}, constraints "
                    f"{[c.describe() for c in config.constraints]}, task {config.task}.{fresh}")
            files["best_design"] = str(write_design(best_design, out / "best_design.json",
                                                    name=f"{base_name}_optimized", description=desc))
            best["design_file"] = files["best_design"]
        if tuned_design is not None:
            files["tuned_mrsnn_design"] = str(write_design(
                tuned_design, out / "tuned_mrsnn_design.json", name="mrsnn_tuned",
                description=(f"MRSNN tuned by hrsnn-hw optimize (study {m_config.study_name!r}, trial "
                             f"{m_chosen.number}, same budget and objectives as {config.study_name!r}).")))
            tuned["best"]["design_file"] = files["tuned_mrsnn_design"]
        for t, rec in zip(front, pareto):
            path = write_design(config.space.apply(config.base_design, t.params), out / "pareto" / f"trial_{t.number:04d}.json",
                                name=f"{base_name}_pareto_{t.number}",
                                description=f"Pareto-optimal design of study {config.study_name!r}, trial {t.number}.")
            rec["design_file"] = str(path)
        files["trials"] = str(write_json_atomic(out / "trials.json", [trial_record(t, config) for t in trials]))
        summary_md = table
        if confirmation is not None:
            summary_md += ("\n" if summary_md else "") + confirmation_table(confirmation, config)
        if mc_front:
            summary_md += ("\n" if summary_md else "") + _front_section(mc_front, tuned, config)
        if summary_md:
            files["summary"] = str(write_text_atomic(out / "summary.md", summary_md))
        if config.figures:
            from .figures import plot_mc_activity, write_figures
            files["figures"] = write_figures(study, config, out)
            studies = {"HRSNN": {"points": points, "front": mc_front, "selected": chosen.number if chosen else None}}
            if tuned is not None:
                studies["MRSNN"] = {"points": m_points, "front": tuned["mc_activity_front"],
                                    "selected": m_chosen.number if m_chosen else None}
            floor = next((c.threshold for c in config.constraints if c.metric == "mc" and c.op == ">="), None)
            files["figures"]["mc_activity"] = str(plot_mc_activity(
                studies, out / "mc_activity.png", floor=floor, reference=(reference or {}).get("metrics")))
    walls = [t.user_attrs.get("wall_time_s") for t in trials if t.state.name == "COMPLETE"]
    walls = [w for w in walls if isinstance(w, (int, float))]
    timings = {"search_wall_s": search_wall, "confirm_wall_s": confirm_wall, "reeval_wall_s": reeval_wall,
               "total_wall_s": time.perf_counter() - t0,
               "mean_trial_s": float(np.mean(walls)) if walls else None}
    result = OptimizeResult(best=best, pareto=pareto, mc_activity_front=mc_front, tuned_mrsnn=tuned,
                            confirmation=confirmation, reeval=reeval,
                            mc_check=check, files=files, timings=timings, table_markdown=table, **base)
    if out is not None:
        files["result"] = str(out / "result.json")
        write_json_atomic(out / "result.json", result.to_dict())
    return result


def _front_section(front: list, tuned: dict | None, config: StudyConfig) -> str:
    name = config.task_metric.name
    text = ["Trade-off of the search (search seeds): trials no other trial beats on both MC and activity.", "",
            "HRSNN study:", "", front_table(front, name)]
    if tuned and tuned.get("mc_activity_front"):
        text += ["MRSNN study (homogeneous parameters, same budget):", "", front_table(tuned["mc_activity_front"], name)]
    return "\n".join(text)
