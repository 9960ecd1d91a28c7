"""Firing-rate distribution of a spike record: is the reservoir in a working regime?

A reservoir that integrates has few silent neurons (they carry nothing), few saturated ones
(firing as fast as the refractory period allows, they carry nothing either) and irregular
spike trains. Numpy only; rates in spikes per step over each sample's valid steps.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..errors import DataError
from ..records import SpikeRecord

__all__ = ["firing_statistics"]


def _isi_cv(spikes: np.ndarray) -> np.ndarray:
    """CV of the inter-spike intervals of every neuron of one sample (NaN below 3 spikes)."""
    t, i = np.nonzero(spikes)
    order = np.lexsort((t, i))
    t, i = t[order], i[order]
    out = np.full(spikes.shape[1], np.nan)
    if t.size < 2:
        return out
    same = i[1:] == i[:-1]
    isi = np.diff(t)[same].astype(np.float64)
    owner = i[1:][same]
    counts = np.bincount(owner, minlength=spikes.shape[1])
    mean = np.bincount(owner, weights=isi, minlength=spikes.shape[1])
    sq = np.bincount(owner, weights=isi * isi, minlength=spikes.shape[1])
    ok = counts >= 2
    mu = mean[ok] / counts[ok]
    var = np.maximum(sq[ok] / counts[ok] - mu * mu, 0.0)
    out[ok] = np.sqrt(var) / mu
    return out


def firing_statistics(record: SpikeRecord, max_rate: Any = 1.0, saturation: float = 0.9) -> dict[str, Any]:
    """Silent and saturated fractions, rate percentiles and CV of ISI of a record.

    Parameters
    ----------
    record : SpikeRecord
    max_rate : float or array_like of shape (n_neurons,)
        Highest possible rate per neuron, spikes per step (``1 / (1 + refractory_steps)``).
    saturation : float
        A neuron is saturated when its rate reaches this fraction of ``max_rate``.

    Returns
    -------
    dict
        ``silent_fraction`` (no spike at all), ``saturated_fraction``, ``rate_percentiles``
        (5, 25, 50, 75, 95; spikes per step), ``cv_isi_median`` and ``cv_isi_mean`` over neurons
        with at least 3 spikes in a sample (NaN if none), ``n_neurons``.
    """
    if not isinstance(record, SpikeRecord):
        raise DataError("expected a SpikeRecord", parameter="record", value=type(record).__name__)
    if not 0.0 < float(saturation) <= 1.0:
        raise DataError("saturation must be a fraction of the highest rate", parameter="saturation",
                        value=saturation, allowed="(0, 1]")
    steps = int(record.sample_lengths.sum())
    counts = record.spike_counts().sum(axis=0)
    rate = counts / steps if steps else np.zeros(record.n_neurons)
    top = np.broadcast_to(np.asarray(max_rate, dtype=np.float64), rate.shape)
    cvs = [_isi_cv(record.spikes[b, :record.sample_lengths[b]]) for b in range(record.n_samples)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # neurons with too few spikes: NaN, not a warning
        cv = np.nanmean(np.stack(cvs), axis=0) if cvs else np.full(rate.shape, np.nan)
    finite = cv[np.isfinite(cv)]
    return {"n_neurons": int(record.n_neurons),
            "silent_fraction": float(np.mean(counts == 0)) if rate.size else 0.0,
            "saturated_fraction": float(np.mean(rate >= saturation * top)) if rate.size else 0.0,
            "rate_percentiles": {str(q): float(np.percentile(rate, q)) for q in (5, 25, 50, 75, 95)} if rate.size else {},
            "cv_isi_median": float(np.median(finite)) if finite.size else float("nan"),
            "cv_isi_mean": float(np.mean(finite)) if finite.size else float("nan")}
