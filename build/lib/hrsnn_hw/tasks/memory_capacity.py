"""Linear short-term memory capacity (Jaeger 2001, "Short term memory in echo state networks").

Drive the network with i.i.d. uniform input u(t) (:func:`mc_input`), record one state vector
per input frame (e.g. :func:`~hrsnn_hw.tasks.features.frame_states`), then for every delay
k = 1..K fit a linear readout that reconstructs u(t - k) from state(t) on a training part and
measure the squared correlation r_k^2 between reconstruction and truth on the held-out part.
MC = sum_k r_k^2.

Delay 0 (the present input) is not counted, so a pure delay line of N units that holds
u(t), ..., u(t - N + 1) reaches MC = N - 1 plus the chance level of the delays it cannot
hold; chance r^2 on held-out data is about 1 / n_test per delay, so keep K well below n_test.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.linalg import solve

from ..errors import DataError
from ..records import SpikeRecord
from .features import frame_states

__all__ = ["mc_input", "MemoryCapacityResult", "memory_capacity", "memory_capacity_from_record"]


def mc_input(n_frames: int, seed: int = 0) -> np.ndarray:
    """I.i.d. uniform input in [0, 1] for a memory-capacity run.

    Returns
    -------
    ndarray of float64, shape (n_frames,)
        Encode it as one sample with one channel: ``encode(u[None, :, None], ...)``.
    """
    if isinstance(n_frames, bool) or not isinstance(n_frames, (int, np.integer)) or n_frames < 1:
        raise DataError("number of frames must be a positive integer", parameter="n_frames",
                        value=n_frames, allowed=">= 1")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise DataError("seed must be a non-negative integer", parameter="seed", value=seed,
                        allowed=">= 0")
    return np.random.default_rng(seed).random(int(n_frames))


@dataclass(frozen=True)
class MemoryCapacityResult:
    """Outcome of :func:`memory_capacity`.

    Attributes
    ----------
    mc : float
        Memory capacity, the sum of ``per_delay``.
    per_delay : ndarray of float64, shape (max_delay,)
        Held-out squared correlation r_k^2 for k = 1..max_delay (entry k - 1).
    max_delay : int
    washout : int
        Frames dropped at the start (network start-up).
    n_train, n_test : int
        Frames used to fit and to score the readouts.
    alpha : float
        Relative ridge penalty (times the mean eigenvalue of the standardised state Gram matrix).
    n_features : int
    """

    mc: float
    per_delay: np.ndarray
    max_delay: int
    washout: int
    n_train: int
    n_test: int
    alpha: float
    n_features: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly summary."""
        return {"mc": self.mc, "per_delay": self.per_delay.tolist(), "max_delay": self.max_delay,
                "washout": self.washout, "n_train": self.n_train, "n_test": self.n_test,
                "alpha": self.alpha, "n_features": self.n_features}


def _int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise DataError("must be an integer", parameter=name, value=value, allowed=f">= {minimum}")
    return int(value)


def memory_capacity(states: Any, u: Any, max_delay: int = 100, washout: int = 0,
                    train_fraction: float = 0.6, n_train: int | None = None,
                    alpha: float = 1e-6) -> MemoryCapacityResult:
    """Memory capacity of a state sequence driven by ``u``.

    Parameters
    ----------
    states : array_like, shape (T, n_features)
        State after input frame t (row t).
    u : array_like, shape (T,)
        The i.i.d. input that drove the network.
    max_delay : int
        Largest delay K (>= 1).
    washout : int
        Frames dropped at the start. Rows used are t >= max(washout, max_delay), so every
        target u(t - k) exists.
    train_fraction : float
        Fraction of the usable rows used for fitting (the first ones), if ``n_train`` is None.
    n_train : int, optional
        Number of fitting rows; the rest is held out.
    alpha : float
        Ridge penalty relative to the mean eigenvalue of the standardised Gram matrix
        (tiny by default: the readouts are nearly least squares, only kept well-posed).

    Returns
    -------
    MemoryCapacityResult
    """
    x = np.asarray(states, dtype=np.float64)
    u = np.asarray(u, dtype=np.float64)
    if x.ndim != 2:
        raise DataError("states must be (T, n_features)", parameter="states", value=x.shape,
                        hint="use frame_states(record, ...)[0] for a one-sample record")
    if u.shape != (x.shape[0],):
        raise DataError("input must be one value per state row", parameter="u", value=u.shape,
                        allowed=f"({x.shape[0]},)")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(u))):
        raise DataError("non-finite states or input", parameter="states", value="NaN/inf")
    max_delay = _int("max_delay", max_delay, 1)
    washout = _int("washout", washout, 0)
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        a = float("nan")
    if not (math.isfinite(a) and a > 0):
        raise DataError("ridge penalty must be positive", parameter="alpha", value=alpha,
                        allowed="(0, inf)", hint="1e-6 is nearly least squares")
    start = max(washout, max_delay)
    n_rows = x.shape[0] - start
    if n_train is None:
        if not (0.0 < float(train_fraction) < 1.0):
            raise DataError("train_fraction must be strictly between 0 and 1",
                            parameter="train_fraction", value=train_fraction, allowed="(0, 1)")
        n_fit = int(math.floor(n_rows * float(train_fraction)))
    else:
        n_fit = _int("n_train", n_train, 1)
    n_test = n_rows - n_fit
    if n_fit < 2 or n_test < 2:
        raise DataError("too few frames for the washout, delays and split", parameter="states",
                        value=x.shape[0],
                        allowed=f"> max(washout, max_delay) + 4 = {start + 4} frames",
                        hint="drive the network for longer (several times max_delay)")
    rows = np.arange(start, x.shape[0])
    # Column k-1 holds u(t - k): all K targets share one Gram matrix, so one solve fits the
    # K independent readouts.
    targets = u[rows[:, None] - np.arange(1, max_delay + 1)[None, :]]
    xs = x[rows]
    tr, te = slice(0, n_fit), slice(n_fit, None)
    mean = xs[tr].mean(axis=0)
    std = xs[tr].std(axis=0)
    std = np.where(std > 0, std, 1.0)  # silent units: constant feature, scale 1 (no 0/0)
    z = (xs - mean) / std
    ym = targets[tr].mean(axis=0)
    gram = z[tr].T @ z[tr]
    ridge = a * max(float(np.trace(gram)) / gram.shape[0], 1e-12)
    w = solve(gram + ridge * np.eye(gram.shape[0]), z[tr].T @ (targets[tr] - ym), assume_a="pos")
    pred = z[te] @ w + ym
    truth = targets[te]
    pc = pred - pred.mean(axis=0)
    tc = truth - truth.mean(axis=0)
    num = np.sum(pc * tc, axis=0) ** 2
    den = np.sum(pc * pc, axis=0) * np.sum(tc * tc, axis=0)
    # A constant prediction carries no memory: r^2 = 0 rather than 0/0.
    r2 = np.divide(num, den, out=np.zeros(max_delay), where=den > 0)
    return MemoryCapacityResult(mc=float(r2.sum()), per_delay=r2, max_delay=max_delay,
                                washout=washout, n_train=n_fit, n_test=n_test, alpha=a,
                                n_features=int(x.shape[1]))


def memory_capacity_from_record(record: SpikeRecord, u: Any, steps_per_frame: int,
                                tau_steps: float, **kw: Any) -> MemoryCapacityResult:
    """MC of a one-sample spike record driven by ``u``: frame-end traces as states.

    Parameters
    ----------
    record : SpikeRecord
        One sample (the whole drive), e.g. from encoding ``mc_input`` and simulating.
    u : array_like, shape (n_frames,)
    steps_per_frame, tau_steps
        As for :func:`~hrsnn_hw.tasks.features.frame_states`.
    **kw
        Passed to :func:`memory_capacity` (``max_delay``, ``washout``...).
    """
    if not isinstance(record, SpikeRecord) or record.n_samples != 1:
        raise DataError("expected a SpikeRecord holding one sample", parameter="record",
                        value=getattr(record, "n_samples", type(record).__name__), allowed="1 sample",
                        hint="drive the network with the whole input sequence as one sample")
    states = frame_states(record, steps_per_frame, tau_steps)[0]
    n_valid = int(record.sample_lengths[0]) // int(steps_per_frame)
    u = np.asarray(u, dtype=np.float64)
    if u.shape != (n_valid,):
        raise DataError("input length does not match the record's frames", parameter="u",
                        value=u.shape, allowed=f"({n_valid},)")
    return memory_capacity(states[:n_valid], u, **kw)
