"""Task metrics, spiking activity and the paper's spike efficiency E = MC / S."""
from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np

from ..errors import DataError
from ..records import SpikeRecord

__all__ = ["nrmse", "accuracy", "spiking_activity", "spikes_per_inference", "spike_efficiency"]


def _as_2d(name: str, y: Any) -> np.ndarray:
    arr = np.asarray(y, dtype=np.float64)
    if arr.ndim == 0:
        raise DataError("expected an array of values", parameter=name, value=arr.item())
    # Everything but the last axis indexes time (and samples); the last axis is the channel.
    return arr.reshape(-1, 1) if arr.ndim == 1 else arr.reshape(-1, arr.shape[-1])


def nrmse(y_true: Any, y_pred: Any, per_channel: bool = False) -> float | np.ndarray:
    """Normalised root-mean-square error: RMSE / std(y_true), per output channel.

    Parameters
    ----------
    y_true, y_pred : array_like, same shape
        1-D (one channel) or (..., C): leading axes are pooled, the last is the channel.
    per_channel : bool
        Return one value per channel instead of their mean.

    Returns
    -------
    float or ndarray
        0 is perfect; 1 is what predicting the target's mean gives.

    Raises
    ------
    DataError
        For mismatched shapes, non-finite values, or a constant target (std 0: undefined).
    """
    t = _as_2d("y_true", y_true)
    p = _as_2d("y_pred", y_pred)
    if np.shape(y_true) != np.shape(y_pred):
        raise DataError("prediction and target shapes differ", parameter="y_pred",
                        value=np.shape(y_pred), allowed=str(np.shape(y_true)))
    if t.shape[0] < 2:
        raise DataError("NRMSE needs at least 2 values per channel", parameter="y_true",
                        value=t.shape[0], allowed=">= 2")
    for name, arr in (("y_true", t), ("y_pred", p)):
        if not np.all(np.isfinite(arr)):
            raise DataError("non-finite values", parameter=name, value="NaN/inf",
                            hint="a diverging readout or a bad target")
    std = t.std(axis=0)
    if np.any(std == 0):
        c = int(np.flatnonzero(std == 0)[0])
        raise DataError("constant target: NRMSE is undefined", parameter="y_true", value=0.0,
                        index=c, allowed="a target with non-zero variance",
                        hint="use RMSE for a constant target")
    values = np.sqrt(np.mean((p - t) ** 2, axis=0)) / std
    return values if per_channel else float(values.mean())


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of equal labels."""
    t = np.asarray(y_true)
    p = np.asarray(y_pred)
    if t.shape != p.shape or t.ndim != 1:
        raise DataError("labels must be two 1-D arrays of the same length", parameter="y_pred",
                        value=p.shape, allowed=str(t.shape))
    if t.size == 0:
        raise DataError("accuracy of zero samples is undefined", parameter="y_true", value=0,
                        allowed=">= 1 sample")
    return float(np.mean(t == p))


def spiking_activity(record: SpikeRecord) -> float:
    """Spiking activity S: spikes per neuron per valid time step over the whole batch."""
    if not isinstance(record, SpikeRecord):
        raise DataError("expected a SpikeRecord", parameter="record", value=type(record).__name__)
    return record.activity()


def spikes_per_inference(record: SpikeRecord) -> float:
    """Mean total spikes of the layer per sample (one inference = one sample)."""
    if not isinstance(record, SpikeRecord):
        raise DataError("expected a SpikeRecord", parameter="record", value=type(record).__name__)
    if record.n_samples == 0:
        raise DataError("no samples in the record", parameter="record.n_samples", value=0,
                        allowed=">= 1")
    return float(record.total_spikes_per_sample().mean())


def spike_efficiency(mc: float, activity: float,
                     on_zero: Literal["raise", "nan"] = "raise") -> float:
    """Spike efficiency E = memory capacity / spiking activity (higher is better).

    Policy for a silent network (activity == 0): E is undefined, never ``inf``: infinity
    would rank a network that does nothing as the best design in an optimiser. By default a
    :class:`DataError` is raised; with ``on_zero="nan"`` the function returns ``nan`` so a
    search loop can record a failed trial (test with ``math.isnan``).

    Parameters
    ----------
    mc : float
        Memory capacity (>= 0, finite).
    activity : float
        Spikes per neuron per step (>= 0, finite), e.g. :func:`spiking_activity`.
    on_zero : {"raise", "nan"}
        What to do when ``activity`` is 0.
    """
    if on_zero not in ("raise", "nan"):
        raise DataError("unknown zero-activity policy", parameter="on_zero", value=on_zero,
                        allowed="'raise' or 'nan'")
    for name, value in (("mc", mc), ("activity", activity)):
        try:
            v = float(value)
        except (TypeError, ValueError):
            v = float("nan")
        if not (math.isfinite(v) and v >= 0):
            raise DataError("must be a finite number >= 0", parameter=name, value=value,
                            allowed="[0, inf)")
    if float(activity) == 0.0:
        if on_zero == "nan":
            return float("nan")
        raise DataError("spike efficiency is undefined for a silent network", parameter="activity",
                        value=0.0, allowed="> 0",
                        hint="increase input/recurrent weights, or pass on_zero='nan' to get nan")
    return float(mc) / float(activity)
