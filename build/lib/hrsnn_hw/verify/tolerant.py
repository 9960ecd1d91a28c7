"""The tolerant rungs of the equivalence ladder (4 and 5): float reference vs fixed point.

Rung 4 compares the Brian2 float network with the quantized one on the same inputs, per
neuron: spike-count correlation and rate difference (quantization moves spikes, so this is
statistical), and, as a tight check of the update order and of the de-quantization, Brian2
running the de-quantized parameters against the golden model's float twin (the same
numbers in the same order: their spikes should agree almost everywhere).

Rung 5 compares the task metric of the float network with that of the deployed
fixed-point network on the test split.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..records import SpikeRecord

#: Default tolerances (stated in the verification report).
RATE_CORRELATION_MIN = 0.8
RELATIVE_RATE_DIFFERENCE_MAX = 0.25
TWIN_SPIKE_AGREEMENT_MIN = 0.99
ACCURACY_DROP_MAX = 0.03
NRMSE_RELATIVE_INCREASE_MAX = 0.15


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
        d["max_abs_neuron_rate_difference"] = float(np.max(np.abs(self.per_neuron_rate_difference)))
        return d


def compare_rates(a: SpikeRecord, b: SpikeRecord) -> RateComparison:
    """Spike-count statistics of two records of the same inputs (same shapes)."""
    if a.spikes.shape != b.spikes.shape:
        raise ValueError(f"records differ in shape: {a.spikes.shape} vs {b.spikes.shape}")
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


SMALL_TEST_SET = 100


def task_metric_verdict(float_metric: float, fixed_metric: float, metric_name: str,
                        n_test: int | None = None) -> dict:
    """Rung 5: is the fixed-point task metric within the stated tolerance of the float one?

    Accuracy may drop by at most 3 points. On a small test set (fewer than 100 samples, the
    quick configurations) one sample is worth more than a point, so the allowed drop is the
    larger of 3 points and two binomial standard errors of the float accuracy.
    """
    if metric_name == "accuracy":
        drop = float_metric - fixed_metric
        allowed = ACCURACY_DROP_MAX
        text = f"accuracy drop <= {ACCURACY_DROP_MAX:.2f} ({100 * ACCURACY_DROP_MAX:.0f} points)"
        if n_test is not None and n_test < SMALL_TEST_SET:
            se2 = 2.0 * float(np.sqrt(max(float_metric * (1 - float_metric), 1e-12) / n_test))
            if se2 > allowed:
                allowed = se2
                text = f"accuracy drop <= {allowed:.3f} (2 binomial SE at n = {n_test}; 3 points at n >= {SMALL_TEST_SET})"
        ok = drop <= allowed
        return {"ok": bool(ok), "float": float_metric, "fixed": fixed_metric, "difference": -drop,
                "allowed_drop": allowed, "tolerance": text}
    increase = (fixed_metric - float_metric) / float_metric if float_metric > 0 else np.inf
    ok = increase <= NRMSE_RELATIVE_INCREASE_MAX
    return {"ok": bool(ok), "float": float_metric, "fixed": fixed_metric, "relative_increase": float(increase),
            "tolerance": f"NRMSE relative increase <= {100 * NRMSE_RELATIVE_INCREASE_MAX:.0f} %"}
