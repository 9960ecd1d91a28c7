"""Objectives and constraints: which evaluator metrics the study optimises or bounds.

The evaluator (``hrsnn_hw.experiment.evaluate_design``) returns one dict of metrics per
design and seed: ``mc``, ``activity`` (spikes/neuron/step), ``efficiency`` (E = mc /
activity), ``task_metric`` (+ ``task_metric_name`` and ``higher_is_better``),
``spikes_per_inference``, ``energy_per_inference_J`` (with a hardware profile) and
``wall_time_s``.

Objectives (``--objectives a,b``): ``efficiency`` (maximise, the default), ``task``
(accuracy maximised, NRMSE minimised), ``spikes`` (minimise spikes per inference),
``energy`` (minimise energy per inference on ``--profile``; the evaluator computes it on
the quantized network), plus ``mc`` (maximise) and ``activity`` (minimise).

Constraints (``--constraint "accuracy>=0.8"``): ``METRIC>=BOUND`` or ``METRIC<=BOUND``,
METRIC one of ``accuracy``/``nrmse`` (the task metric, which must be of that kind),
``task``, ``efficiency``, ``mc``, ``activity``, ``spikes``, ``energy``; BOUND a number or
``mrsnn``: the reference MRSNN's value of that metric on the search seeds (measured before
the search, :func:`hrsnn_hw.optimize.optimize`). A trial is feasible when every constraint
holds; optuna stores each as a value ``c`` with ``c <= 0`` feasible (``threshold - metric``
for ``>=``, ``metric - threshold`` for ``<=``).

The MC floor. E = MC / activity can be raised by firing less and remembering less: a nearly
silent network wins. So every objective that a silent network improves (``efficiency``,
``activity``, ``spikes``, ``energy``) carries ``mc>=mrsnn`` by default
(:func:`default_floor`): a design is feasible only if it remembers at least as much as the
homogeneous network it is compared with, on the same seeds. MC is bounded rather than a task
metric because MC is what E divides by, and the paper's claim is "fewer spikes at no loss of
memory"; a task floor can be added with ``--constraint``.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ..errors import SpecError

# name -> (metric key, direction); "task" gets its direction from the task.
_OBJECTIVES = {
    "efficiency": ("efficiency", "maximize"),
    "task": ("task_metric", None),
    "spikes": ("spikes_per_inference", "minimize"),
    "energy": ("energy_per_inference_J", "minimize"),
    "mc": ("mc", "maximize"),
    "activity": ("activity", "minimize"),
}
_CONSTRAINT_METRICS = {
    "accuracy": "task_metric", "nrmse": "task_metric", "task": "task_metric", "task_metric": "task_metric",
    "efficiency": "efficiency", "e": "efficiency", "mc": "mc", "activity": "activity",
    "spikes": "spikes_per_inference", "spikes_per_inference": "spikes_per_inference",
    "energy": "energy_per_inference_J", "energy_per_inference_j": "energy_per_inference_J",
}
# Built-in prediction tasks (scored by NRMSE, lower is better); every other built-in task
# is a classification scored by accuracy. User files are asked for their kind.
PREDICTION_TASKS = frozenset({"mackey_glass", "lorenz"})
_CONSTRAINT_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|=>|=<|>|<|==|=)\s*(\S+)\s*$")
#: Thresholds that name a reference design instead of a number.
REFERENCES = ("mrsnn",)
#: Objectives a silent network improves: they carry the MC floor by default.
SILENCE_REWARDED = frozenset({"efficiency", "activity", "spikes", "energy"})
MC_FLOOR = "mc>=mrsnn"
#: Relative tolerance within which a metric equals its bound (floating-point rounding, not noise).
BOUND_RTOL = 1e-9


@dataclass(frozen=True)
class TaskMetric:
    """How a task is scored: ``name`` (``"accuracy"``/``"nrmse"``) and its direction."""

    name: str
    higher_is_better: bool


def task_metric_of(task: str) -> TaskMetric:
    """The metric of a built-in task name or a user task file (read to learn its kind)."""
    if task in PREDICTION_TASKS:
        return TaskMetric("nrmse", False)
    from ..tasks import known_tasks
    if task in known_tasks():
        return TaskMetric("accuracy", True)
    if Path(task).suffix.lower() in (".npz", ".csv") or Path(task).is_file():
        from ..tasks import load_task
        kind = load_task(task).kind
        return TaskMetric("accuracy", True) if kind == "classification" else TaskMetric("nrmse", False)
    raise SpecError("unknown task", parameter="task", value=task,
                    allowed=f"one of {list(known_tasks())} or the path of an .npz/.csv file")


@dataclass(frozen=True)
class Objective:
    """One optimised metric.

    Attributes
    ----------
    name : str
        User-facing name (``"efficiency"``, ``"task"``, ...).
    metric : str
        Key in the evaluator's result dict.
    direction : str
        ``"maximize"`` or ``"minimize"``.
    label : str
        Axis label for figures and tables.
    """

    name: str
    metric: str
    direction: str
    label: str

    def value(self, metrics: Mapping[str, Any]) -> float:
        """The objective's value in ``metrics`` (NaN when missing or not finite)."""
        v = metrics.get(self.metric)
        if v is None or isinstance(v, bool) or not isinstance(v, (int, float)):
            return math.nan
        return float(v)

    def better(self, a: float, b: float) -> bool:
        """True when ``a`` is strictly better than ``b``."""
        return a > b if self.direction == "maximize" else a < b


def parse_objectives(text: str | list[str] | tuple[str, ...], task_metric: TaskMetric | None,
                     profile: str | None) -> tuple[Objective, ...]:
    """Parse ``"efficiency"`` or ``"task,spikes"`` into objectives.

    Raises
    ------
    SpecError
        Unknown or repeated objective, ``energy`` without a profile.
    """
    names = [n.strip() for n in (text.split(",") if isinstance(text, str) else text) if n.strip()]
    if not names:
        raise SpecError("no objective given", parameter="--objectives", value=text,
                        allowed=f"comma-separated names from {sorted(_OBJECTIVES)}")
    out = []
    for name in names:
        key = name.lower()
        if key not in _OBJECTIVES:
            raise SpecError("unknown objective", parameter="--objectives", value=name,
                            allowed=f"one of {sorted(_OBJECTIVES)}",
                            hint="for example --objectives task,spikes for a Pareto front")
        if key in (o.name for o in out):
            raise SpecError("objective given twice", parameter="--objectives", value=name)
        metric, direction = _OBJECTIVES[key]
        label = {"efficiency": "E = MC / activity", "spikes": "spikes per inference",
                 "energy": "energy per inference (J)", "mc": "memory capacity",
                 "activity": "activity (spikes/neuron/step)"}.get(key, key)
        if key == "task":
            tm = task_metric or TaskMetric("accuracy", True)
            direction = "maximize" if tm.higher_is_better else "minimize"
            label = tm.name
        if key == "energy" and not profile:
            raise SpecError("the energy objective needs a hardware profile", parameter="--objectives",
                            value=name, hint="add --profile loihi2 (energy is computed on the quantized network)")
        out.append(Objective(name=key, metric=metric, direction=direction, label=label))
    return tuple(out)


@dataclass(frozen=True)
class Constraint:
    """``metric >= threshold`` or ``metric <= threshold``.

    Attributes
    ----------
    text : str
        Normalised text (``"accuracy>=0.8"``), also the optuna constraint key.
    name : str
        Name as written (``"accuracy"``).
    metric : str
        Key in the evaluator's result dict.
    op : str
        ``">="`` or ``"<="``.
    threshold : float
        The bound.
    """

    text: str
    name: str
    metric: str
    op: str
    threshold: float
    reference: str | None = None

    @property
    def resolved(self) -> bool:
        """False while the threshold of a reference constraint (``mc>=mrsnn``) is not measured."""
        return math.isfinite(self.threshold)

    def with_threshold(self, value: float) -> "Constraint":
        """This constraint with its reference threshold measured (its text, the optuna key, unchanged)."""
        if not math.isfinite(float(value)):
            raise SpecError("the reference value of a constraint is not a finite number", parameter=self.text,
                            value=value, hint="the reference design failed or was silent on the search seeds")
        return Constraint(text=self.text, name=self.name, metric=self.metric, op=self.op, threshold=float(value),
                          reference=self.reference)

    def describe(self) -> str:
        """``mc>=mrsnn (= 1.23)`` or the text itself."""
        if self.reference and self.resolved:
            return f"{self.text} (= {self.threshold:.4g})"
        return self.text

    def violation(self, metrics: Mapping[str, Any]) -> float:
        """Optuna's constraint value: ``<= 0`` feasible, larger is more violated (inf if missing)."""
        if not self.resolved:
            raise SpecError("the threshold of a reference constraint has not been measured", parameter=self.text,
                            value=self.reference, hint="run the study with hrsnn_hw.optimize.optimize, which measures "
                                                       "the reference design first")
        v = metrics.get(self.metric)
        if v is None or isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(float(v)):
            return math.inf
        excess = self.threshold - float(v) if self.op == ">=" else float(v) - self.threshold
        return 0.0 if abs(excess) <= self.slack else excess

    @property
    def slack(self) -> float:
        """How far a metric may pass the bound and still equal it: rounding, not noise. The
        reference design, averaged in another order or rebuilt from its searched values, must
        meet its own floor."""
        return BOUND_RTOL * max(1.0, abs(self.threshold)) if self.resolved else 0.0

    def holds(self, violation: float) -> bool:
        """Whether a stored violation (optuna's constraint value) is feasible."""
        return violation <= self.slack


def parse_constraint(text: str, task_metric: TaskMetric | None, profile: str | None) -> Constraint:
    """Parse ``"accuracy>=0.8"`` / ``"nrmse<=0.3"`` / ``"spikes<=5000"``."""
    m = _CONSTRAINT_RE.match(text or "")
    if not m:
        raise SpecError("cannot parse constraint", parameter="--constraint", value=text,
                        hint='write METRIC>=NUMBER or METRIC<=NUMBER, e.g. "accuracy>=0.8"')
    name, op, number = m.group(1), m.group(2), m.group(3)
    op = {"=>": ">=", "=<": "<="}.get(op, op)
    if op not in (">=", "<="):
        raise SpecError("constraints use >= or <=", parameter="--constraint", value=text, allowed=">=, <=",
                        hint="strict and equality constraints are not supported: noisy metrics are never "
                             "exactly equal")
    key = name.lower()
    if key not in _CONSTRAINT_METRICS:
        raise SpecError("unknown metric in constraint", parameter="--constraint", value=name,
                        allowed=f"one of {sorted(set(_CONSTRAINT_METRICS) - {'e', 'energy_per_inference_j'})}")
    reference = number.lower() if number.lower() in REFERENCES else None
    if reference is None:
        try:
            threshold = float(number)
        except ValueError:
            raise SpecError("constraint bound is not a number", parameter="--constraint", value=number,
                            allowed=f"a number or one of {list(REFERENCES)}") from None
        if not math.isfinite(threshold):
            raise SpecError("constraint bound must be finite", parameter="--constraint", value=number)
    else:
        threshold = math.nan
    if key in ("accuracy", "nrmse") and task_metric is not None and task_metric.name != key:
        raise SpecError(f"the task is scored by {task_metric.name}, not {key}", parameter="--constraint",
                        value=text, hint=f"write the constraint on {task_metric.name} (or 'task')")
    if _CONSTRAINT_METRICS[key] == "energy_per_inference_J" and not profile:
        raise SpecError("an energy constraint needs a hardware profile", parameter="--constraint", value=text,
                        hint="add --profile loihi2")
    bound = reference if reference else f"{threshold:g}"
    return Constraint(text=f"{key}{op}{bound}", name=key, metric=_CONSTRAINT_METRICS[key], op=op,
                      threshold=threshold, reference=reference)


def default_floor(objectives: tuple[Objective, ...], constraints: tuple[Constraint, ...]) -> Constraint | None:
    """The MC floor ``mc>=mrsnn`` when an objective rewards silence and no lower bound on MC is given
    (see the module docstring); None otherwise."""
    if not any(o.name in SILENCE_REWARDED for o in objectives):
        return None
    if any(c.metric == "mc" and c.op == ">=" for c in constraints):
        return None
    return parse_constraint(MC_FLOOR, None, None)


def dominates(a: list[float], b: list[float], directions: list[str]) -> bool:
    """True when objective vector ``a`` Pareto-dominates ``b``."""
    better_or_equal = all((x >= y) if d == "maximize" else (x <= y) for x, y, d in zip(a, b, directions))
    strictly = any((x > y) if d == "maximize" else (x < y) for x, y, d in zip(a, b, directions))
    return better_or_equal and strictly
