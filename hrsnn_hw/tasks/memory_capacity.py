"""Linear short-term memory capacity (Jaeger 2001, "Short term memory in echo state networks").

Drive the network with i.i.d. uniform input u(t) (:func:`mc_input`), record one state vector
per input frame (e.g. :func:`~hrsnn_hw.tasks.features.frame_states`), then for every delay
k = 1..K fit a linear readout that reconstructs u(t - k) from state(t) on a training part and
measure the squared correlation r_k^2 between reconstruction and truth on the held-out part.

The readouts are scikit-learn's RidgeCV (one penalty per delay, by efficient leave-one-out
cross-validation, which suits targets that are i.i.d. in time) on features standardised with
a floor (:class:`~hrsnn_hw.tasks.readout.FlooredStandardScaler`). A readout with many features
finds some correlation in held-out data even where there is no memory, and summed over K = 100
delays that chance level is not small; it is measured by fitting and scoring the same readouts
on time-shuffled targets and subtracted delay by delay: MC = sum_k (r_k^2 - chance_k).

Delay 0 (the present input) is not counted, so a pure delay line of N units that holds
u(t), ..., u(t - N + 1) reaches MC = N - 1.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..errors import DataError
from ..records import SpikeRecord
from .features import frame_states
from .readout import DEFAULT_ALPHAS, RidgeReadout

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
        Chance-corrected memory capacity: ``mc_raw - mc_chance`` (the sum of ``per_delay``).
    per_delay : ndarray of float64, shape (max_delay,)
        Chance-corrected held-out r_k^2 for k = 1..max_delay (entry k - 1); may dip below 0
        where a delay is not remembered (left unclipped so that the sum stays unbiased).
    mc_raw, per_delay_raw
        The held-out squared correlations before the correction.
    mc_chance, per_delay_chance
        The same readouts fitted and scored on time-shuffled targets (no memory can explain
        them): what a network without memory scores with this many features and frames.
    max_delay : int
    washout : int
        Frames dropped at the start (network start-up).
    n_train, n_test : int
        Frames used to fit and to score the readouts.
    alphas : ndarray of float64, shape (max_delay,)
        Ridge penalty chosen per delay by efficient leave-one-out CV (RidgeCV).
    n_features : int
    n_shuffles : int
        Shuffled-target fits averaged into the chance level (0: no correction).
    """

    mc: float
    per_delay: np.ndarray
    mc_raw: float
    per_delay_raw: np.ndarray
    mc_chance: float
    per_delay_chance: np.ndarray
    max_delay: int
    washout: int
    n_train: int
    n_test: int
    alphas: np.ndarray
    n_features: int
    n_shuffles: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly summary."""
        return {"mc": self.mc, "mc_raw": self.mc_raw, "mc_chance": self.mc_chance,
                "per_delay": self.per_delay.tolist(), "per_delay_raw": self.per_delay_raw.tolist(),
                "per_delay_chance": self.per_delay_chance.tolist(), "max_delay": self.max_delay,
                "washout": self.washout, "n_train": self.n_train, "n_test": self.n_test,
                "alphas": self.alphas.tolist(), "n_features": self.n_features, "n_shuffles": self.n_shuffles}


def _int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise DataError("must be an integer", parameter=name, value=value, allowed=f">= {minimum}")
    return int(value)


def _held_out_r2(z_train: np.ndarray, y_train: np.ndarray, z_test: np.ndarray, y_test: np.ndarray,
                 alphas: Any) -> tuple[np.ndarray, np.ndarray]:
    """Squared correlation per target column of a ridge readout fitted on train, scored on test."""
    model = RidgeReadout(alphas=alphas, cv="loo").fit(z_train, y_train)
    pred = model.predict(z_test)
    pc = pred - pred.mean(axis=0)
    tc = y_test - y_test.mean(axis=0)
    num = np.sum(pc * tc, axis=0) ** 2
    den = np.sum(pc * pc, axis=0) * np.sum(tc * tc, axis=0)
    # A constant prediction carries no memory: r^2 = 0 rather than 0/0.
    r2 = np.divide(num, den, out=np.zeros(y_train.shape[1]), where=den > 0)
    return r2, np.broadcast_to(np.asarray(model.alpha_, dtype=np.float64), (y_train.shape[1],)).copy()


def memory_capacity(states: Any, u: Any, max_delay: int = 100, washout: int = 0,
                    train_fraction: float = 0.6, n_train: int | None = None,
                    alphas: Sequence[float] = DEFAULT_ALPHAS, n_shuffles: int = 1,
                    seed: int = 0) -> MemoryCapacityResult:
    """Chance-corrected memory capacity of a state sequence driven by ``u``.

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
    alphas : sequence of float
        Ridge penalties searched per delay (on features standardised with a floor,
        :class:`~hrsnn_hw.tasks.readout.FlooredStandardScaler`).
    n_shuffles : int
        Time-shuffled copies of the targets fitted and scored like the real ones; their mean
        r_k^2 is the chance level subtracted per delay (0 disables the correction).
    seed : int
        Seed of the shuffles.

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
    n_shuffles = _int("n_shuffles", n_shuffles, 0)
    seed = _int("seed", seed, 0)
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
    # Column k-1 holds u(t - k): the K readouts share their features and are fitted at once.
    targets = u[rows[:, None] - np.arange(1, max_delay + 1)[None, :]]
    xs = x[rows]
    tr, te = slice(0, n_fit), slice(n_fit, None)
    r2, chosen = _held_out_r2(xs[tr], targets[tr], xs[te], targets[te], alphas)
    chance = np.zeros(max_delay)
    rng = np.random.default_rng([seed, 0x5348])
    for _ in range(n_shuffles):
        # Permuting the rows breaks every link between a state and the input it followed,
        # while keeping the number of features, frames and the targets' distribution.
        shuffled = targets[rng.permutation(targets.shape[0])]
        chance += _held_out_r2(xs[tr], shuffled[tr], xs[te], shuffled[te], alphas)[0]
    if n_shuffles:
        chance /= n_shuffles
    corrected = r2 - chance
    return MemoryCapacityResult(mc=float(corrected.sum()), per_delay=corrected, mc_raw=float(r2.sum()),
                                per_delay_raw=r2, mc_chance=float(chance.sum()), per_delay_chance=chance,
                                max_delay=max_delay, washout=washout, n_train=n_fit, n_test=n_test,
                                alphas=chosen, n_features=int(x.shape[1]), n_shuffles=n_shuffles)


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
