"""Figures of a study (matplotlib, Agg canvas; no global backend change).

``history.png`` (objective per trial and best so far), ``importance.png`` (fANOVA
parameter importance, optuna's evaluator on a scikit-learn random forest), ``slices.png``
(objective against each parameter), with several objectives ``pareto.png``, and
``mc_activity.png`` (every trial of the HRSNN and the tuned-MRSNN studies in the MC-activity
plane, their fronts, lines of equal E, the MC floor and the selected designs).
"""
from __future__ import annotations

import logging
import math
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
from optuna.trial import FrozenTrial, TrialState

from ..io import atomic_path
from .config import StudyConfig
from .results import is_feasible, knee_trial, pareto_trials

log = logging.getLogger("hrsnn_hw.optimize")


def _figure(w: float, h: float, layout: str | None = None):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(w, h), dpi=110, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def _complete(trials: Sequence[FrozenTrial]) -> list[FrozenTrial]:
    return [t for t in trials if t.state == TrialState.COMPLETE and t.values is not None
            and all(math.isfinite(v) for v in t.values)]


def plot_history(trials: Sequence[FrozenTrial], config: StudyConfig, path: Path) -> Path:
    """Objective value of every complete trial, and the best feasible value so far."""
    done = _complete(trials)
    m = len(config.objectives)
    fig = _figure(6.0, 2.8 * m)
    for k, obj in enumerate(config.objectives):
        ax = fig.add_subplot(m, 1, k + 1)
        feas = [t for t in done if is_feasible(t, config)]
        infeas = [t for t in done if not is_feasible(t, config)]
        ax.scatter([t.number for t in feas], [t.values[k] for t in feas], s=16, label="feasible trial")
        if infeas:
            ax.scatter([t.number for t in infeas], [t.values[k] for t in infeas], s=16, marker="x", color="0.6",
                       label="infeasible trial")
        if m == 1 and feas:
            best, xs, ys = None, [], []
            for t in sorted(feas, key=lambda t: t.number):
                if best is None or obj.better(t.values[0], best):
                    best = t.values[0]
                xs.append(t.number)
                ys.append(best)
            ax.step(xs, ys, where="post", color="C3", label="best so far")
        ax.set_ylabel(obj.label)
        ax.legend(fontsize=7, loc="best")
    ax.set_xlabel("trial")
    fig.suptitle(f"optimisation history ({config.study_name}, sampler {config.sampler})", fontsize=9)
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp)
    return path


def plot_importance(study, config: StudyConfig, path: Path) -> Path | None:
    """fANOVA importance of each parameter for the first objective (None if it cannot be computed)."""
    import optuna
    if len(_complete(study.get_trials(deepcopy=False))) < 3:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            imp = optuna.importance.get_param_importances(
                study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=config.seed),
                target=lambda t: t.values[0])
    except Exception as exc:  # too few or too uniform trials
        log.info("no parameter importance: %s", exc)
        return None
    names = list(imp)[::-1]
    fig = _figure(6.5, 0.35 * len(names) + 1.2)
    ax = fig.add_subplot(1, 1, 1)
    ax.barh(names, [imp[n] for n in names])
    ax.set_xlabel(f"fANOVA importance for {config.objectives[0].label}")
    ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp)
    return path


def plot_slices(trials: Sequence[FrozenTrial], config: StudyConfig, path: Path) -> Path:
    """First objective against each searched parameter."""
    done = _complete(trials)
    params = config.space.params
    cols = min(3, len(params))
    rows = int(math.ceil(len(params) / cols))
    fig = _figure(3.2 * cols + 0.8, 2.6 * rows, layout="constrained")
    for i, p in enumerate(params):
        ax = fig.add_subplot(rows, cols, i + 1)
        pts = [(t.params[p.path], t.values[0], t.number) for t in done if p.path in t.params]
        if pts:
            x, y, n = (np.array(v) for v in zip(*pts))
            sc = ax.scatter(x, y, c=n, cmap="viridis", s=14)
        if p.log:
            ax.set_xscale("log")
        ax.set_xlabel(p.path, fontsize=7)
        ax.tick_params(labelsize=7)
        if i % cols == 0:
            ax.set_ylabel(config.objectives[0].label, fontsize=7)
    if done:
        fig.colorbar(sc, ax=fig.axes, label="trial", shrink=0.6)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp)
    return path


def plot_pareto(trials: Sequence[FrozenTrial], config: StudyConfig, path: Path) -> Path:
    """The first two objectives: all trials, the feasible Pareto front and its knee point."""
    done = _complete(trials)
    front = sorted(pareto_trials(trials, config), key=lambda t: t.values[0])
    knee = knee_trial(front, config)
    fig = _figure(5.5, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    feas = [t for t in done if is_feasible(t, config)]
    infeas = [t for t in done if not is_feasible(t, config)]
    ax.scatter([t.values[0] for t in feas], [t.values[1] for t in feas], s=14, color="0.55", label="trial")
    if infeas:
        ax.scatter([t.values[0] for t in infeas], [t.values[1] for t in infeas], s=14, marker="x", color="0.8",
                   label="infeasible")
    if front:
        ax.plot([t.values[0] for t in front], [t.values[1] for t in front], "o-", color="C3", ms=5,
                label="Pareto front")
    if knee is not None:
        ax.scatter([knee.values[0]], [knee.values[1]], marker="*", s=160, color="C1", zorder=5,
                   label=f"knee (trial {knee.number})")
    ax.set_xlabel(config.objectives[0].label + f" ({config.objectives[0].direction[:3]})")
    ax.set_ylabel(config.objectives[1].label + f" ({config.objectives[1].direction[:3]})")
    ax.legend(fontsize=7)
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp)
    return path


def write_figures(study, config: StudyConfig, out: Path) -> dict[str, str]:
    """Every figure that applies; returns ``{name: path}``."""
    out.mkdir(parents=True, exist_ok=True)
    trials = study.get_trials(deepcopy=False)
    files = {"history": plot_history(trials, config, out / "history.png"),
             "slices": plot_slices(trials, config, out / "slices.png")}
    imp = plot_importance(study, config, out / "importance.png")
    if imp is not None:
        files["importance"] = imp
    if config.multi_objective:
        files["pareto"] = plot_pareto(trials, config, out / "pareto.png")
    return {k: str(v) for k, v in files.items()}


def plot_mc_activity(studies: dict, path: Path, *, floor: float | None = None,
                     reference: dict | None = None) -> Path:
    """MC against activity for every complete trial of each study, with its front.

    Parameters
    ----------
    studies : dict
        ``{label: {"points": [...], "front": [...], "selected": trial number or None}}`` (see
        :func:`hrsnn_hw.optimize.results.mc_activity_points`).
    path : Path
    floor : float, optional
        The MC floor (a horizontal line).
    reference : dict, optional
        The reference MRSNN's metrics on the search seeds (a marker).
    """
    fig = _figure(6.4, 4.6)
    ax = fig.add_subplot(1, 1, 1)
    acts = [p["activity"] for s in studies.values() for p in s["points"]]
    mcs = [p["mc"] for s in studies.values() for p in s["points"]]
    if reference and isinstance(reference.get("activity"), (int, float)):
        acts.append(reference["activity"])
        mcs.append(reference["mc"])
    for k, (label, s) in enumerate(studies.items()):
        color = f"C{k}"
        feas = [p for p in s["points"] if p["feasible"]]
        infeas = [p for p in s["points"] if not p["feasible"]]
        if feas:
            ax.scatter([p["activity"] for p in feas], [p["mc"] for p in feas], s=14, color=color, alpha=0.6,
                       label=f"{label} trials")
        if infeas:
            ax.scatter([p["activity"] for p in infeas], [p["mc"] for p in infeas], s=14, marker="x", color=color,
                       alpha=0.5, label=f"{label} infeasible")
        front = s["front"]
        if front:
            ax.step([p["activity"] for p in front], [p["mc"] for p in front], where="post", color=color, lw=1.2,
                    label=f"{label} front (MC vs activity)")
        chosen = [p for p in s["points"] if p["trial"] == s.get("selected")]
        if chosen:
            ax.scatter([chosen[0]["activity"]], [chosen[0]["mc"]], marker="*", s=180, color=color, edgecolor="k",
                       zorder=5, label=f"{label} selected (trial {chosen[0]['trial']})")
    if reference and isinstance(reference.get("activity"), (int, float)):
        ax.scatter([reference["activity"]], [reference["mc"]], marker="D", s=50, color="k", zorder=6,
                   label="reference MRSNN")
    if floor is not None:
        ax.axhline(floor, color="C3", ls=":", lw=1, label=f"MC floor {floor:.3g}")
    if acts:
        lo, hi = min(acts), max(acts)
        if lo > 0 and hi / lo > 10:
            ax.set_xscale("log")
        x = np.linspace(0.9 * lo, 1.1 * hi, 50) if lo > 0 else np.linspace(0, 1.1 * hi, 50)
        top = 1.1 * max(mcs)
        for e in np.quantile([m / a for m, a in zip(mcs, acts) if a > 0] or [1.0], [0.1, 0.5, 0.9]):
            ax.plot(x, e * x, color="0.8", lw=0.8, zorder=0)
            xe = min(top / e, x[-1])
            ax.annotate(f"E = {e:.3g}", (xe, e * xe), fontsize=6, color="0.5", ha="right", va="bottom")
        ax.set_ylim(bottom=0, top=top)
    ax.set_xlabel("activity (spikes / neuron / step), lower is better")
    ax.set_ylabel("memory capacity, higher is better")
    ax.legend(fontsize=6, loc="best")
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp)
    return path
