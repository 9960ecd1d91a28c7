"""The tolerant rungs of the equivalence ladder (4 and 5): float reference vs fixed point.

Rung 4 compares the Brian2 float network with the quantized one on the same inputs, per
neuron: spike-count correlation and rate difference (quantization moves spikes, so this is
statistical), and, as a tight check of the update order and of the de-quantization, Brian2
running the de-quantized parameters against the golden model's float twin (the same
numbers in the same order: their spikes should agree almost everywhere).

Rung 5 asks whether the deployed fixed-point network still does the task. For classification it
decides on the *paired* predictions of the two networks on the same test samples
(:func:`paired_accuracy_test`): only the samples on which exactly one of them is right carry
information about a difference (McNemar), and the verdict is a one-sided test of "the accuracy
drop exceeds the stated tolerance", so a small test set widens the bound instead of failing on
noise. Prediction tasks (NRMSE over correlated time steps, no independent pairs) keep a relative
tolerance on the metric.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from ..errors import DataError
from ..records import SpikeRecord


@dataclass(frozen=True)
class Tolerances:
    """The stated pass conditions of the tolerant rungs (written into every report).

    Attributes
    ----------
    rate_correlation_min : float
        Rung 4a: Pearson correlation of per-(sample, neuron) spike counts, Brian2 float vs golden.
    relative_rate_difference_max : float
        Rung 4a: |mean rate fixed - mean rate float| / mean rate float.
    twin_spike_agreement_min : float
        Rung 4b: fraction of (sample, step, neuron) spike decisions shared by Brian2 on the
        de-quantized network and the golden float twin.
    accuracy_drop_max : float
        Rung 5: largest acceptable drop of accuracy from float to fixed point (fraction, 0.03 = 3 points).
    confidence : float
        Rung 5: one-sided confidence of the bound on the drop; the rung fails only when the
        drop exceeds ``accuracy_drop_max`` at this confidence.
    nrmse_relative_increase_max : float
        Rung 5, prediction tasks: largest acceptable (NRMSE_fixed - NRMSE_float) / NRMSE_float.
    """

    rate_correlation_min: float = 0.8
    relative_rate_difference_max: float = 0.25
    twin_spike_agreement_min: float = 0.99
    accuracy_drop_max: float = 0.03
    confidence: float = 0.95
    nrmse_relative_increase_max: float = 0.15

    def __post_init__(self) -> None:
        for name, lo, hi in (("rate_correlation_min", -1.0, 1.0), ("relative_rate_difference_max", 0.0, np.inf),
                             ("twin_spike_agreement_min", 0.0, 1.0), ("accuracy_drop_max", 0.0, 1.0),
                             ("confidence", 0.5, 1.0), ("nrmse_relative_increase_max", 0.0, np.inf)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi \
                    or (name == "confidence" and value >= 1.0):
                raise DataError("tolerance out of range", parameter=f"tolerances.{name}", value=value,
                                allowed=f"[{lo}, {hi}{')' if name == 'confidence' else ']'}")

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RateComparison:
    """Per-neuron spike counts of two runs of the same inputs.

    Attributes
    ----------
    correlation : float
        Pearson correlation of the (sample, neuron) spike counts.
    mean_rate_a, mean_rate_b : float
        Spikes per neuron per step.
    relative_rate_difference : float
        |mean_rate_b - mean_rate_a| / mean_rate_a.
    per_neuron_rate_difference : ndarray
        Rate of b minus rate of a per neuron (spikes/step).
    spike_agreement : float
        Fraction of valid (sample, step, neuron) entries with the same spike/no-spike.
    """

    correlation: float
    mean_rate_a: float
    mean_rate_b: float
    relative_rate_difference: float
    per_neuron_rate_difference: np.ndarray = field(repr=False)
    spike_agreement: float

    def as_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k != "per_neuron_rate_difference"}
        d["max_abs_neuron_rate_difference"] = float(np.max(np.abs(self.per_neuron_rate_difference), initial=0.0))
        return d


def compare_rates(a: SpikeRecord, b: SpikeRecord) -> RateComparison:
    """Spike-count statistics of two records of the same inputs (same shapes)."""
    if a.spikes.shape != b.spikes.shape:
        raise DataError("records differ in shape", parameter="records", value=f"{a.spikes.shape} vs {b.spikes.shape}",
                        hint="compare runs of the same inputs")
    ca = a.spike_counts().astype(float)
    cb = b.spike_counts().astype(float)
    steps = float(a.sample_lengths.sum())
    if ca.std() == 0 or cb.std() == 0:
        corr = 1.0 if np.array_equal(ca, cb) else 0.0
    else:
        corr = float(np.corrcoef(ca.ravel(), cb.ravel())[0, 1])
    rate_a = ca.sum(axis=0) / steps
    rate_b = cb.sum(axis=0) / steps
    mean_a, mean_b = float(rate_a.mean()), float(rate_b.mean())
    rel = abs(mean_b - mean_a) / mean_a if mean_a > 0 else (0.0 if mean_b == 0 else np.inf)
    valid = np.arange(a.n_steps)[None, :] < a.sample_lengths[:, None]
    same = (a.spikes == b.spikes)[valid]
    return RateComparison(correlation=corr, mean_rate_a=mean_a, mean_rate_b=mean_b,
                          relative_rate_difference=float(rel), per_neuron_rate_difference=rate_b - rate_a,
                          spike_agreement=float(same.mean()) if same.size else 1.0)


@dataclass(frozen=True)
class TaskPredictions:
    """The task outputs of the float reference and of the fixed-point network on one test split (rung 5).

    Build it with :meth:`classification` (paired labels) or :meth:`prediction` (metric values).

    Attributes
    ----------
    metric : str
        ``"accuracy"`` or ``"nrmse"``.
    float_value, fixed_value : float
        The metric of each network.
    y_true, y_float, y_fixed : ndarray or None
        Labels and the two networks' predicted labels, one per test sample (classification).
    where : str
        Which split and simulator, for the report (``"golden model, 370 test samples"``).
    """

    metric: str
    float_value: float
    fixed_value: float
    y_true: np.ndarray | None = None
    y_float: np.ndarray | None = None
    y_fixed: np.ndarray | None = None
    where: str = ""

    @classmethod
    def classification(cls, y_true, y_float, y_fixed, where: str = "") -> "TaskPredictions":
        """Paired predicted labels of the same test samples; accuracies are computed from them."""
        arrays = []
        for name, y in (("y_true", y_true), ("y_float", y_float), ("y_fixed", y_fixed)):
            arr = np.asarray(y)
            if arr.ndim != 1 or arr.size == 0:
                raise DataError("labels must be a non-empty 1-D array", parameter=name, value=arr.shape)
            arrays.append(arr)
        if not arrays[0].shape == arrays[1].shape == arrays[2].shape:
            raise DataError("paired predictions must cover the same samples", parameter="y_fixed",
                            value=[a.shape for a in arrays], hint="predict the same test split with both networks")
        y_true, y_float, y_fixed = arrays
        return cls(metric="accuracy", float_value=float(np.mean(y_float == y_true)),
                   fixed_value=float(np.mean(y_fixed == y_true)), y_true=y_true, y_float=y_float,
                   y_fixed=y_fixed, where=where)

    @classmethod
    def prediction(cls, float_nrmse: float, fixed_nrmse: float, where: str = "") -> "TaskPredictions":
        """NRMSE of a prediction task (its time steps are not independent pairs)."""
        return cls(metric="nrmse", float_value=float(float_nrmse), fixed_value=float(fixed_nrmse), where=where)


def paired_accuracy_test(y_true, y_float, y_fixed, *, max_drop: float = 0.03, confidence: float = 0.95) -> dict:
    """Rung 5 for classification: has the accuracy dropped by more than ``max_drop``?

    Of N paired test samples, ``n10`` are right under float and wrong under fixed point and
    ``n01`` the reverse; the accuracy drop is ``(n10 - n01) / N``. Conditional on the
    ``m = n10 + n01`` discordant samples, ``n10 ~ Binomial(m, q)`` (McNemar's exact test is
    the test of q = 1/2) and ``drop = (m / N) (2 q - 1)``. The exact one-sided lower confidence
    bound on q (Clopper-Pearson, ``scipy.stats.binomtest``) gives a lower bound on the drop;
    the rung fails when that bound exceeds ``max_drop``, i.e. when the data show at
    ``confidence`` that the fixed-point network is worse by more than the tolerance.

    Returns
    -------
    dict
        ``ok``, ``n``, ``n10``, ``n01``, ``float``, ``fixed`` (accuracies), ``drop``,
        ``drop_lower_bound``, ``mcnemar_p`` (one-sided exact p of "fixed point is worse"),
        ``max_drop``, ``confidence``, ``tolerance`` (the stated condition).
    """
    from scipy.stats import binomtest
    p = TaskPredictions.classification(y_true, y_float, y_fixed)
    right_float, right_fixed = p.y_float == p.y_true, p.y_fixed == p.y_true
    n = int(p.y_true.size)
    n10 = int(np.count_nonzero(right_float & ~right_fixed))
    n01 = int(np.count_nonzero(~right_float & right_fixed))
    m = n10 + n01
    if m:
        test = binomtest(n10, m, 0.5, alternative="greater")
        q_low = float(test.proportion_ci(confidence_level=confidence, method="exact").low)
        p_value = float(test.pvalue)
    else:
        q_low, p_value = 0.5, 1.0
    bound = (m / n) * (2.0 * q_low - 1.0)
    return {"ok": bool(bound <= max_drop), "n": n, "n10": n10, "n01": n01, "float": p.float_value,
            "fixed": p.fixed_value, "drop": (n10 - n01) / n, "drop_lower_bound": float(bound),
            "mcnemar_p": p_value, "max_drop": float(max_drop), "confidence": float(confidence),
            "tolerance": (f"fails if the accuracy drop exceeds {100 * max_drop:g} points at {100 * confidence:g} % "
                          "one-sided confidence (exact McNemar bound on the paired samples)")}


def task_verdict(task: TaskPredictions, tolerances: Tolerances = Tolerances()) -> dict:
    """Rung 5's verdict for either kind of task (see :func:`paired_accuracy_test`)."""
    if task.metric == "accuracy":
        if task.y_true is None:
            raise DataError("rung 5 on accuracy needs the paired predictions", parameter="task.y_fixed",
                            hint="build the task with TaskPredictions.classification(y_true, y_float, y_fixed)")
        return paired_accuracy_test(task.y_true, task.y_float, task.y_fixed, max_drop=tolerances.accuracy_drop_max,
                                    confidence=tolerances.confidence)
    if task.metric != "nrmse":
        raise DataError("unknown task metric", parameter="task.metric", value=task.metric,
                        allowed="'accuracy' or 'nrmse'")
    base = task.float_value
    increase = (task.fixed_value - base) / base if base > 0 else (0.0 if task.fixed_value <= base else np.inf)
    limit = tolerances.nrmse_relative_increase_max
    return {"ok": bool(increase <= limit), "float": base, "fixed": task.fixed_value,
            "relative_increase": float(increase), "max_relative_increase": limit,
            "tolerance": f"NRMSE relative increase <= {100 * limit:g} %"}
