"""Datasets that work offline: bundled UCR/UEA sets, generated chaotic series, user files.

Every loader returns a :class:`TaskData` whose inputs are scaled to [0, 1] per channel with
statistics of the *training* split only (the spike encoders expect [0, 1]); the scaling is
kept in ``metadata["normalisation"]`` so predictions can be mapped back.

Layouts
-------
Classification
    ``x_train`` (n_train, T_max, C) zero-padded past ``len_train``; ``y_train`` (n_train,)
    integer labels 0..K-1 indexing ``class_names``. Train and test are padded separately,
    so their ``T_max`` may differ (JapaneseVowels: 26 and 29).
Prediction
    The long series is ONE sample per split: ``x_train`` (1, T_train, C) is the input u(t),
    ``y_train`` (1, T_train, C_out) the target, the series ``horizon`` frames later
    (``y[0, t] = series[t + horizon]``). The test split is the contiguous continuation of the
    training segment (it starts where the training inputs stop), generated after the system's
    own transient was discarded. A network simulated on the test sample starts from rest, so
    drop a few frames at the start of each segment when fitting and scoring (the
    ``washout`` argument of :func:`hrsnn_hw.tasks.readout.evaluate_prediction`;
    ``metadata["suggested_washout"]`` holds a default).
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal, Sequence

import numpy as np

from ..errors import DataError, clean_errors

__all__ = [
    "TaskData", "load_task", "known_tasks", "subset_task",
    "load_japanese_vowels", "load_basic_motions", "load_gunpoint", "load_unit_test",
    "mackey_glass", "lorenz63", "load_mackey_glass", "load_lorenz", "load_user_data",
]

Kind = Literal["classification", "prediction"]

#: Default number of samples per split in ``quick`` mode (classification).
QUICK_N_CLASSIFICATION = 60
#: Default training/test frames in ``quick`` mode (prediction).
QUICK_N_PREDICTION = (500, 250)


@dataclass(frozen=True)
class TaskData:
    """One task: inputs scaled to [0, 1], targets and the official (or generated) split.

    Attributes
    ----------
    name : str
        Task name (``"japanese_vowels"``, ``"mackey_glass"``, a file name...).
    kind : {"classification", "prediction"}
        What the readout does.
    x_train, x_test : ndarray of float64, shape (n, T_max, C)
        Inputs in [0, 1] (test inputs clipped into [0, 1]); zero past each sample's length.
    len_train, len_test : ndarray of int64, shape (n,)
        Number of valid frames of each sample.
    y_train, y_test : ndarray
        Classification: int64 labels, shape (n,). Prediction: float64 targets, shape
        (n, T_max, C_out), in the scaled units of ``metadata["normalisation"]`` (not clipped).
    class_names : tuple of str
        Name of each class label (empty for prediction).
    horizon : int
        Prediction horizon in input frames (0 for classification).
    metadata : dict
        ``source``, ``split``, ``normalisation`` and task-specific settings.
    """

    name: str
    kind: Kind
    x_train: np.ndarray
    len_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    len_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...] = ()
    horizon: int = 0
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in ("classification", "prediction"):
            raise DataError("unknown task kind", parameter="kind", value=self.kind,
                            allowed="'classification' or 'prediction'")
        for split in ("train", "test"):
            x = np.asarray(getattr(self, f"x_{split}"), dtype=np.float64)
            lengths = np.asarray(getattr(self, f"len_{split}"), dtype=np.int64)
            y = np.asarray(getattr(self, f"y_{split}"))
            if x.ndim != 3:
                raise DataError("inputs must be 3-D (n_samples, n_frames, n_channels)",
                                parameter=f"x_{split}", value=x.shape)
            if lengths.shape != (x.shape[0],) or np.any(lengths < 0) or np.any(lengths > x.shape[1]):
                raise DataError("lengths must be one per sample within [0, n_frames]",
                                parameter=f"len_{split}", value=lengths.shape,
                                allowed=f"shape ({x.shape[0]},), values 0..{x.shape[1]}")
            if self.kind == "classification":
                y = y.astype(np.int64)
                if y.shape != (x.shape[0],):
                    raise DataError("labels must be one per sample", parameter=f"y_{split}",
                                    value=y.shape, allowed=f"shape ({x.shape[0]},)")
                if y.size and (y.min() < 0 or y.max() >= len(self.class_names)):
                    raise DataError("label outside 0..K-1", parameter=f"y_{split}",
                                    value=int(y.max()), allowed=f"0..{len(self.class_names) - 1}")
            else:
                y = y.astype(np.float64)
                if y.ndim != 3 or y.shape[:2] != x.shape[:2]:
                    raise DataError("prediction targets must be (n_samples, n_frames, n_outputs) "
                                    "matching the inputs", parameter=f"y_{split}", value=y.shape,
                                    allowed=f"({x.shape[0]}, {x.shape[1]}, C_out)")
            for arr in (x, lengths, y):
                arr.setflags(write=False)
            object.__setattr__(self, f"x_{split}", x)
            object.__setattr__(self, f"len_{split}", lengths)
            object.__setattr__(self, f"y_{split}", y)
        if self.x_train.shape[2] != self.x_test.shape[2]:
            raise DataError("train and test have a different number of channels",
                            parameter="x_test", value=self.x_test.shape[2],
                            allowed=str(self.x_train.shape[2]))
        object.__setattr__(self, "class_names", tuple(str(c) for c in self.class_names))
        object.__setattr__(self, "horizon", int(self.horizon))

    @property
    def n_channels(self) -> int:
        """Number of input channels C."""
        return int(self.x_train.shape[2])

    @property
    def n_classes(self) -> int:
        """Number of classes K (0 for prediction)."""
        return len(self.class_names)

    @property
    def n_train(self) -> int:
        return int(self.x_train.shape[0])

    @property
    def n_test(self) -> int:
        return int(self.x_test.shape[0])


# ----------------------------------------------------------------------------------------
# Shared helpers
# ----------------------------------------------------------------------------------------

def _label_sort_key(label: str) -> tuple:
    # Numeric labels ("1".."9", "10") sort as numbers, others alphabetically.
    try:
        return (0, float(label), "")
    except ValueError:
        return (1, 0.0, label)


def _encode_labels(y_train: Sequence, y_test: Sequence, source: str) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    train = [str(v) for v in y_train]
    test = [str(v) for v in y_test]
    for split, labels in (("y_train", train), ("y_test", test)):
        if not labels:
            raise DataError("no samples in this split", parameter=f"{source}.{split}", value=0,
                            allowed=">= 1 sample")
        empty = [i for i, v in enumerate(labels) if not v.strip() or v.strip().lower() == "nan"]
        if empty:
            raise DataError("empty label", parameter=f"{source}.{split}", index=empty[0], value=labels[empty[0]],
                            hint="every sample needs a class label")
    names = tuple(sorted(set(train), key=_label_sort_key))
    index = {name: i for i, name in enumerate(names)}
    unseen = sorted(set(test) - set(names), key=_label_sort_key)
    if unseen:
        raise DataError("test labels that never occur in the training split",
                        parameter=f"{source}.y_test", value=unseen[:5],
                        allowed=f"one of the training labels {list(names)[:20]}",
                        hint="a classifier cannot predict a class it has not seen; "
                             "move some of those samples into the training split")
    if len(names) < 2:
        raise DataError("classification needs at least two classes in the training split",
                        parameter=f"{source}.y_train", value=f"{len(names)} class {list(names)}",
                        allowed=">= 2 classes",
                        hint="with one class every prediction is right and the accuracy means nothing")
    return (np.array([index[v] for v in train], dtype=np.int64),
            np.array([index[v] for v in test], dtype=np.int64), names)


def _valid_mask(lengths: np.ndarray, n_frames: int) -> np.ndarray:
    return np.arange(n_frames)[None, :] < lengths[:, None]


def _minmax_fit(x: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel min and range over valid frames only (padding would pull the min to 0)."""
    valid = x[_valid_mask(lengths, x.shape[1])]  # (n_valid_frames, C)
    if valid.shape[0] == 0:
        raise DataError("the training split has no valid frames", parameter="len_train",
                        value=int(lengths.sum()), allowed=">= 1 frame",
                        hint="check the lengths / the file")
    lo = valid.min(axis=0)
    span = valid.max(axis=0) - lo
    # A constant channel carries no information; map it to 0 instead of dividing by 0.
    span = np.where(span > 0, span, 1.0)
    return lo, span


def _minmax_apply(x: np.ndarray, lengths: np.ndarray, lo: np.ndarray, span: np.ndarray,
                  clip: bool) -> tuple[np.ndarray, int]:
    out = (x - lo) / span
    n_clipped = 0
    if clip:
        valid = _valid_mask(lengths, x.shape[1])[..., None]
        outside = ((out < 0) | (out > 1)) & valid
        n_clipped = int(outside.sum())
        out = np.clip(out, 0.0, 1.0)
    out[~_valid_mask(lengths, x.shape[1])] = 0.0
    return out, n_clipped


def _normalise_classification(x_tr: np.ndarray, l_tr: np.ndarray, x_te: np.ndarray,
                              l_te: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict]:
    lo, span = _minmax_fit(x_tr, l_tr)
    x_tr_n, _ = _minmax_apply(x_tr, l_tr, lo, span, clip=True)
    x_te_n, n_clip = _minmax_apply(x_te, l_te, lo, span, clip=True)
    n_valid = int(l_te.sum()) * x_te.shape[2]
    info = {"method": "minmax per channel, training split statistics, test inputs clipped to [0, 1]",
            "x_min": lo.tolist(), "x_range": span.tolist(),
            "test_values_clipped": n_clip,
            "test_fraction_clipped": n_clip / n_valid if n_valid else 0.0}
    return x_tr_n, x_te_n, info


def _classification_task(name: str, x_tr: np.ndarray, l_tr: np.ndarray, y_tr: Sequence,
                         x_te: np.ndarray, l_te: np.ndarray, y_te: Sequence, metadata: dict,
                         normalise: bool = True) -> TaskData:
    y_tr_i, y_te_i, names = _encode_labels(y_tr, y_te, name)
    if normalise:
        x_tr, x_te, info = _normalise_classification(x_tr, l_tr, x_te, l_te)
    else:
        info = {"method": "none (inputs used as given)"}
    meta = dict(metadata)
    meta["normalisation"] = info
    return TaskData(name=name, kind="classification", x_train=x_tr, len_train=l_tr, y_train=y_tr_i,
                    x_test=x_te, len_test=l_te, y_test=y_te_i, class_names=names, horizon=0,
                    metadata=meta)


def _prediction_task(name: str, series: np.ndarray, target_cols: Sequence[int], horizon: int,
                     n_train: int, n_test: int, metadata: dict, normalise: bool = True,
                     suggested_washout: int = 100) -> TaskData:
    """Cut a (T, C) series into one training and one contiguous test sample."""
    series = np.asarray(series, dtype=np.float64)
    need = n_train + n_test + horizon
    if series.shape[0] < need:
        raise DataError("series too short for the requested split and horizon",
                        parameter="n_train + n_test + horizon", value=need,
                        allowed=f"<= {series.shape[0]} frames",
                        hint="reduce n_train/n_test/horizon or provide a longer series")
    cols = list(target_cols)
    x_tr = series[:n_train]
    y_tr = series[horizon:n_train + horizon][:, cols]
    x_te = series[n_train:n_train + n_test]
    y_te = series[n_train + horizon:n_train + n_test + horizon][:, cols]
    if normalise:
        lo = x_tr.min(axis=0)
        span = x_tr.max(axis=0) - lo
        span = np.where(span > 0, span, 1.0)
        x_tr = (x_tr - lo) / span
        x_te_raw = (x_te - lo) / span
        n_clip = int(((x_te_raw < 0) | (x_te_raw > 1)).sum())
        x_te = np.clip(x_te_raw, 0.0, 1.0)
        # Targets use the scaling of the channel they come from and are never clipped:
        # clipping them would hide errors from the metric.
        y_tr = (y_tr - lo[cols]) / span[cols]
        y_te = (y_te - lo[cols]) / span[cols]
        info = {"method": "minmax per channel, training inputs' statistics; test inputs clipped "
                          "to [0, 1], targets scaled like their source channel and not clipped",
                "x_min": lo.tolist(), "x_range": span.tolist(),
                "y_min": lo[cols].tolist(), "y_range": span[cols].tolist(),
                "test_values_clipped": n_clip,
                "test_fraction_clipped": n_clip / x_te.size if x_te.size else 0.0}
    else:
        info = {"method": "none (inputs used as given)"}
    meta = dict(metadata)
    meta.update({"normalisation": info, "target_channels": cols, "n_train_frames": n_train,
                 "n_test_frames": n_test,
                 "layout": "one sample per split; y[0, t] = series[t + horizon]; test continues "
                           "the training segment",
                 "suggested_washout": min(suggested_washout, n_train // 4, n_test // 4)})
    return TaskData(name=name, kind="prediction",
                    x_train=x_tr[None], len_train=np.array([n_train]), y_train=y_tr[None],
                    x_test=x_te[None], len_test=np.array([n_test]), y_test=y_te[None],
                    class_names=(), horizon=horizon, metadata=meta)


def _check_int(name: str, value: Any, minimum: int, hint: str | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise DataError("must be an integer", parameter=name, value=value,
                        allowed=f">= {minimum}", hint=hint)
    return int(value)


def _check_positive(name: str, value: Any, hint: str | None = None) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    if not (math.isfinite(v) and v > 0):
        raise DataError("must be a positive finite number", parameter=name, value=value,
                        allowed="(0, inf)", hint=hint)
    return v


# ----------------------------------------------------------------------------------------
# Bundled UCR/UEA sets (sktime 1.2.0 ships the files)
# ----------------------------------------------------------------------------------------

def _nested_to_padded(X: Any) -> tuple[np.ndarray, np.ndarray]:
    """sktime "nested_univ" DataFrame -> zero-padded (n, T_max, C) array and lengths."""
    n, c = X.shape
    cells = [[np.asarray(X.iloc[i, j], dtype=np.float64) for j in range(c)] for i in range(n)]
    lengths = np.array([min(len(s) for s in row) for row in cells], dtype=np.int64)
    t_max = int(lengths.max()) if n else 0
    out = np.zeros((n, t_max, c), dtype=np.float64)
    for i, row in enumerate(cells):
        for j, s in enumerate(row):
            out[i, :lengths[i], j] = s[:lengths[i]]
    if not np.all(np.isfinite(out)):
        raise DataError("non-finite values in a bundled dataset", parameter="dataset",
                        value="NaN/inf", hint="the sktime installation may be damaged")
    return out, lengths


def _load_sktime(loader_name: str, task_name: str, description: str) -> TaskData:
    # Lazy: sktime is heavy to import and only these loaders need it.
    try:
        from sktime import datasets as skd
        import sktime
    except ImportError as exc:  # pragma: no cover - sktime is a hard dependency
        raise DataError("sktime is needed for the bundled UCR/UEA datasets",
                        parameter="task", value=task_name, allowed="sktime==1.2.0 installed",
                        hint="pip install 'sktime==1.2.0'") from exc
    loader: Callable = getattr(skd, loader_name)
    parts = {}
    for split in ("train", "test"):
        X, y = loader(split=split, return_type="nested_univ")
        x, lengths = _nested_to_padded(X)
        parts[split] = (x, lengths, [str(v) for v in np.asarray(y)])
    meta = {"source": f"sktime {sktime.__version__} sktime.datasets.{loader_name}",
            "split": "official train/test split", "description": description}
    return _classification_task(task_name, parts["train"][0], parts["train"][1], parts["train"][2],
                                parts["test"][0], parts["test"][1], parts["test"][2], meta)


def load_japanese_vowels() -> TaskData:
    """JapaneseVowels (UEA): 12 LPC-cepstrum channels, 9 speakers, 270 train / 370 test, 7-29 frames.

    Loaded through ``sktime.datasets.load_japanese_vowels(return_type="nested_univ")``
    (the 3-D numpy form fails because the lengths differ); zero-padded per split.
    """
    return _load_sktime("load_japanese_vowels", "japanese_vowels",
                        "12-channel LPC cepstra of the vowel /ae/ by 9 male speakers")


def load_basic_motions() -> TaskData:
    """BasicMotions (UEA): 6 channels, 4 classes, 40 train / 40 test, length 100 (a smoke set)."""
    return _load_sktime("load_basic_motions", "basic_motions",
                        "accelerometer and gyroscope, 4 activities")


def load_gunpoint() -> TaskData:
    """GunPoint (UCR): 1 channel, 2 classes, 50 train / 150 test, length 150."""
    return _load_sktime("load_gunpoint", "gunpoint", "hand x-position, gun draw vs point")


def load_unit_test() -> TaskData:
    """UnitTest (sktime's Chinatown subset): 1 channel, 2 classes, 20 train / 22 test, length 24."""
    return _load_sktime("load_unit_test", "unit_test", "sktime's small unit-test set")


# ----------------------------------------------------------------------------------------
# Generated chaotic series
# ----------------------------------------------------------------------------------------

def mackey_glass(n_steps: int, tau: float = 17.0, beta: float = 0.2, gamma: float = 0.1,
                 n: float = 10.0, h: float = 1.0, seed: int | None = None, *, dt: float = 0.1,
                 x0: float = 1.2, discard: int = 1000) -> np.ndarray:
    """Mackey-Glass series ``dx/dt = beta x(t-tau) / (1 + x(t-tau)^n) - gamma x(t)``.

    Integrated with classical RK4 at sub-step ``dt`` on a history buffer (the delayed value at
    the RK4 half step is the mean of its two neighbouring grid values), then sampled every
    ``h`` time units. Unlike some published generators this is correct for any ``h`` that is a
    multiple of ``dt``.

    Parameters
    ----------
    n_steps : int
        Number of returned samples (after ``discard``).
    tau, beta, gamma, n : float
        Delay and coefficients; tau = 17 gives the classic mildly chaotic attractor.
    h : float
        Sampling interval in time units (a multiple of ``dt``).
    seed : int or None
        None: the conventional constant history x = ``x0`` on [-tau, 0]. An int: the history
        is drawn uniformly from [x0 - 0.1, x0 + 0.1] (deterministic for the seed).
    dt : float
        Integration sub-step; ``tau`` and ``h`` must be multiples of it.
    x0 : float
        Initial history value.
    discard : int
        Number of samples (of ``h``) dropped first so the result lies on the attractor.

    Returns
    -------
    ndarray of float64, shape (n_steps,)
    """
    n_steps = _check_int("n_steps", n_steps, 1)
    discard = _check_int("discard", discard, 0)
    for name, value in (("tau", tau), ("beta", beta), ("gamma", gamma), ("n", n), ("h", h),
                        ("dt", dt), ("x0", x0)):
        _check_positive(name, value)
    m = int(round(tau / dt))
    k = int(round(h / dt))
    if abs(m * dt - tau) > 1e-9 * max(1.0, tau):
        raise DataError("tau must be a multiple of the integration step", parameter="tau",
                        value=tau, allowed=f"multiples of dt={dt}", hint="change dt or tau")
    if abs(k * dt - h) > 1e-9 * max(1.0, h):
        raise DataError("the sampling interval must be a multiple of the integration step",
                        parameter="h", value=h, allowed=f"multiples of dt={dt}",
                        hint="change dt or h")
    n_sub = (n_steps + discard) * k
    # Python floats in a list: a scalar loop is ~5x faster than on numpy elements.
    if seed is None:
        hist = [float(x0)] * (m + 1)
    else:
        rng = np.random.default_rng(seed)
        hist = (x0 + rng.uniform(-0.1, 0.1, size=m + 1)).tolist()
    xs = hist + [0.0] * n_sub  # xs[i] is x at time (i - m) * dt
    half = 0.5 * dt

    def f(x: float, xd: float) -> float:
        return beta * xd / (1.0 + xd ** n) - gamma * x

    for i in range(m, m + n_sub):
        x = xs[i]
        d0 = xs[i - m]
        d1 = xs[i - m + 1]
        dm = 0.5 * (d0 + d1)
        k1 = f(x, d0)
        k2 = f(x + half * k1, dm)
        k3 = f(x + half * k2, dm)
        k4 = f(x + dt * k3, d1)
        xs[i + 1] = x + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    sampled = np.asarray(xs[m:], dtype=np.float64)[::k]
    return sampled[discard + 1:discard + 1 + n_steps]


def lorenz63(n_steps: int, dt: float = 0.02, sigma: float = 10.0, rho: float = 28.0,
             beta: float = 8.0 / 3.0, seed: int | None = None, *, discard: int = 2500,
             rtol: float = 1e-9, atol: float = 1e-9) -> np.ndarray:
    """Lorenz-63 trajectory sampled every ``dt`` (scipy ``solve_ivp``, DOP853, rtol 1e-9).

    Parameters
    ----------
    n_steps : int
        Number of returned samples (after ``discard``).
    dt : float
        Sampling interval in time units.
    sigma, rho, beta : float
        The classic chaotic parameters by default.
    seed : int or None
        None: start at (1, 1, 1). An int: start at (1, 1, 1) + N(0, 1) (deterministic).
    discard : int
        Samples dropped first (the transient onto the attractor).

    Returns
    -------
    ndarray of float64, shape (n_steps, 3)
        Columns x, y, z.
    """
    from scipy.integrate import solve_ivp

    n_steps = _check_int("n_steps", n_steps, 1)
    discard = _check_int("discard", discard, 0)
    for name, value in (("dt", dt), ("sigma", sigma), ("rho", rho), ("beta", beta)):
        _check_positive(name, value)
    start = np.ones(3)
    if seed is not None:
        start = start + np.random.default_rng(seed).standard_normal(3)

    def rhs(_t: float, s: np.ndarray) -> list[float]:
        x, y, z = s
        return [sigma * (y - x), x * (rho - z) - y, x * y - beta * z]

    total = n_steps + discard
    t_eval = np.arange(total) * dt
    sol = solve_ivp(rhs, (0.0, t_eval[-1]), start, method="DOP853", t_eval=t_eval,
                    rtol=rtol, atol=atol)
    if not sol.success:  # pragma: no cover - only with absurd parameters
        raise DataError(f"Lorenz integration failed ({sol.message})", parameter="dt", value=dt)
    return np.ascontiguousarray(sol.y.T[discard:])


def load_mackey_glass(horizon: int = 10, n_train: int = 2000, n_test: int = 1000, *,
                      tau: float = 17.0, h: float = 1.0, seed: int | None = None,
                      normalise: bool = True) -> TaskData:
    """Mackey-Glass (tau = 17) prediction: from x(t) predict x(t + horizon * h).

    The default horizon is 10 samples of h = 1 time unit: one step ahead at h = 1 is nearly
    the identity, while 10 units ahead (about 1/5 of the ~50-unit quasi-period) needs memory
    of the recent trajectory. The series is generated once, after a 1000-unit transient.

    Returns
    -------
    TaskData
        ``kind="prediction"``; 1 input channel, 1 target channel; see the module docstring.
    """
    horizon = _check_int("horizon", horizon, 1)
    n_train = _check_int("n_train", n_train, 2)
    n_test = _check_int("n_test", n_test, 2)
    series = mackey_glass(n_train + n_test + horizon, tau=tau, h=h, seed=seed)[:, None]
    meta = {"source": "generated: hrsnn_hw.tasks.datasets.mackey_glass (RK4, dt=0.1)",
            "split": "train segment then contiguous test segment",
            "generator": {"tau": tau, "beta": 0.2, "gamma": 0.1, "n": 10, "h": h, "seed": seed,
                          "discard": 1000},
            "horizon_time_units": horizon * h, "channel_names": ["x"]}
    return _prediction_task("mackey_glass", series, [0], horizon, n_train, n_test, meta, normalise)


def load_lorenz(horizon: int = 10, n_train: int = 2000, n_test: int = 1000, *,
                dt: float = 0.02, target: str = "x", seed: int | None = None,
                normalise: bool = True) -> TaskData:
    """Lorenz-63 prediction: from (x, y, z)(t) predict ``target``(t + horizon * dt).

    The default horizon is 10 samples of dt = 0.02, i.e. 0.2 time units, about 0.18 of a
    Lyapunov time (the maximal exponent is ~0.906): well beyond the near-identity one-step
    task, still predictable from the present state.

    Parameters
    ----------
    target : {"x", "y", "z", "xyz"}
        The predicted coordinate(s).
    """
    horizon = _check_int("horizon", horizon, 1)
    n_train = _check_int("n_train", n_train, 2)
    n_test = _check_int("n_test", n_test, 2)
    names = ["x", "y", "z"]
    if target == "xyz":
        cols = [0, 1, 2]
    elif target in names:
        cols = [names.index(target)]
    else:
        raise DataError("unknown Lorenz target", parameter="target", value=target,
                        allowed="'x', 'y', 'z' or 'xyz'")
    series = lorenz63(n_train + n_test + horizon, dt=dt, seed=seed)
    meta = {"source": "generated: hrsnn_hw.tasks.datasets.lorenz63 (solve_ivp DOP853, rtol 1e-9)",
            "split": "train segment then contiguous test segment",
            "generator": {"dt": dt, "sigma": 10.0, "rho": 28.0, "beta": 8.0 / 3.0, "seed": seed,
                          "discard": 2500},
            "horizon_time_units": horizon * dt, "channel_names": names,
            "target": target}
    return _prediction_task("lorenz", series, cols, horizon, n_train, n_test, meta, normalise)


# ----------------------------------------------------------------------------------------
# User files
# ----------------------------------------------------------------------------------------

_NPZ_HINT = ("an .npz needs arrays x_train, y_train, x_test, y_test (x: (n, T, C) or (n, T)), "
             "optionally len_train, len_test")
_CSV_CLASS_HINT = "classification CSV columns: split,sample,t,label,ch0,ch1,..."


def _as_3d(name: str, arr: np.ndarray, where: str) -> np.ndarray:
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise DataError("array must be numeric", parameter=f"{where}:{name}", value=str(arr.dtype),
                        hint=_NPZ_HINT)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3:
        raise DataError("array must be (n_samples, n_frames, n_channels) or (n_samples, n_frames)",
                        parameter=f"{where}:{name}", value=arr.shape, hint=_NPZ_HINT)
    return arr.astype(np.float64)


def _lengths_for(name: str, x: np.ndarray, given: np.ndarray | None,
                 where: str) -> tuple[np.ndarray, np.ndarray]:
    """Validated lengths, and x with its padding set to 0."""
    n, t_max = x.shape[:2]
    if given is None:
        # Trailing all-NaN frames are padding (the UCR/UEA convention for unequal lengths).
        finite_any = np.any(np.isfinite(x), axis=2)
        idx = np.arange(1, t_max + 1)[None, :] * finite_any
        lengths = idx.max(axis=1).astype(np.int64) if t_max else np.zeros(n, np.int64)
    else:
        lengths = np.asarray(given)
        if lengths.shape != (n,) or not np.issubdtype(lengths.dtype, np.number):
            raise DataError("lengths must be one integer per sample",
                            parameter=f"{where}:len_{name}", value=lengths.shape,
                            allowed=f"shape ({n},)", hint=_NPZ_HINT)
        if np.any(lengths != np.round(lengths)) or np.any(lengths < 1) or np.any(lengths > t_max):
            bad = int(np.flatnonzero((lengths < 1) | (lengths > t_max) | (lengths != np.round(lengths)))[0])
            raise DataError("length outside the array", parameter=f"{where}:len_{name}",
                            value=lengths[bad], index=bad, allowed=f"integers 1..{t_max}",
                            hint="a length counts the valid frames of a sample")
        lengths = lengths.astype(np.int64)
    valid = _valid_mask(lengths, t_max)
    bad = ~np.isfinite(x) & valid[..., None]
    if bad.any():
        s, t, c = (int(v) for v in np.argwhere(bad)[0])
        raise DataError("non-finite value inside a sample's valid frames",
                        parameter=f"{where}:x_{name}", value=float(x[s, t, c]),
                        index=s, allowed="finite numbers",
                        hint=f"sample {s}, frame {t}, channel {c}; give len_{name} or mark only "
                             "trailing padding frames with NaN")
    if np.any(lengths < 1):
        s = int(np.flatnonzero(lengths < 1)[0])
        raise DataError("sample without any valid frame", parameter=f"{where}:x_{name}",
                        value="all NaN", index=s, hint="remove the empty sample")
    x = np.where(valid[..., None], x, 0.0)
    return x, lengths


def _load_npz(path: Path, kind: Kind, horizon: int | None, normalise: bool) -> TaskData:
    where = path.name
    try:
        npz = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read the .npz file ({exc})", parameter="path", value=str(path),
                        hint=_NPZ_HINT) from None
    with npz:
        keys = set(npz.files)
        missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in keys]
        if missing:
            raise DataError("missing array in the .npz file", parameter=f"{where}:{missing[0]}",
                            value=sorted(keys), allowed="x_train, y_train, x_test, y_test",
                            hint=_NPZ_HINT)
        try:
            arrays = {k: npz[k] for k in npz.files}
        except ValueError as exc:  # object arrays need pickle, which is refused
            raise DataError(f"an array cannot be read without pickle ({exc})", parameter="path",
                            value=str(path), hint="save plain numeric/string arrays") from None
    parts = {}
    for split in ("train", "test"):
        x = _as_3d(f"x_{split}", arrays[f"x_{split}"], where)
        x, lengths = _lengths_for(split, x, arrays.get(f"len_{split}"), where)
        y = arrays[f"y_{split}"]
        if kind == "classification":
            if y.ndim != 1 or y.shape[0] != x.shape[0]:
                raise DataError("labels must be one per sample", parameter=f"{where}:y_{split}",
                                value=y.shape, allowed=f"shape ({x.shape[0]},)", hint=_NPZ_HINT)
            if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
                raise DataError("non-finite label", parameter=f"{where}:y_{split}", value="NaN")
            # Labels 1.0 and 1 must name the same class.
            labels = [str(int(v)) if y.dtype.kind == "f" and float(v).is_integer() else str(v)
                      for v in y.tolist()]
            parts[split] = (x, lengths, labels)
        else:
            y = _as_3d(f"y_{split}", y, where)
            if y.shape[:2] != x.shape[:2]:
                raise DataError("targets must match the inputs in samples and frames",
                                parameter=f"{where}:y_{split}", value=y.shape,
                                allowed=f"({x.shape[0]}, {x.shape[1]}, C_out)", hint=_NPZ_HINT)
            if not np.all(np.isfinite(y[_valid_mask(lengths, y.shape[1])])):
                raise DataError("non-finite target inside the valid frames",
                                parameter=f"{where}:y_{split}", value="NaN/inf")
            y = np.where(_valid_mask(lengths, y.shape[1])[..., None], y, 0.0)
            parts[split] = (x, lengths, y)
    if parts["train"][0].shape[2] != parts["test"][0].shape[2]:
        raise DataError("train and test have a different number of channels",
                        parameter=f"{where}:x_test", value=parts["test"][0].shape[2],
                        allowed=str(parts["train"][0].shape[2]))
    meta = {"source": f"user file {path}", "split": "as given in the file"}
    if kind == "classification":
        return _classification_task(path.stem, *parts["train"], *parts["test"], meta, normalise)
    if "horizon" in arrays and horizon is None:
        horizon = int(np.asarray(arrays["horizon"]).item())
    horizon = 1 if horizon is None else _check_int("horizon", horizon, 0)
    (x_tr, l_tr, y_tr), (x_te, l_te, y_te) = parts["train"], parts["test"]
    info: dict = {"method": "none (inputs used as given)"}
    if normalise:
        lo, span = _minmax_fit(x_tr, l_tr)
        x_tr, _ = _minmax_apply(x_tr, l_tr, lo, span, clip=True)
        x_te, n_clip = _minmax_apply(x_te, l_te, lo, span, clip=True)
        # The targets have their own units; scaled with their own training statistics.
        ylo, yspan = _minmax_fit(y_tr, l_tr)
        y_tr = np.where(_valid_mask(l_tr, y_tr.shape[1])[..., None], (y_tr - ylo) / yspan, 0.0)
        y_te = np.where(_valid_mask(l_te, y_te.shape[1])[..., None], (y_te - ylo) / yspan, 0.0)
        info = {"method": "minmax per channel, training statistics; test inputs clipped, "
                          "targets scaled with their own training statistics, not clipped",
                "x_min": lo.tolist(), "x_range": span.tolist(), "y_min": ylo.tolist(),
                "y_range": yspan.tolist(), "test_values_clipped": n_clip}
    meta.update({"normalisation": info,
                 "layout": "as given: y is taken as already aligned; horizon only recorded",
                 "suggested_washout": int(min(100, l_tr.min() // 4, l_te.min() // 4))})
    return TaskData(name=path.stem, kind="prediction", x_train=x_tr, len_train=l_tr, y_train=y_tr,
                    x_test=x_te, len_test=l_te, y_test=y_te, horizon=horizon, metadata=meta)


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = [r for r in csv.reader(fh) if r and any(cell.strip() for cell in r)]
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read the CSV file ({exc})", parameter="path", value=str(path)) from None
    if not rows:
        raise DataError("empty CSV file", parameter="path", value=str(path),
                        hint="the first row must be a header")
    header = [h.strip() for h in rows[0]]
    return header, rows[1:]


def _float_cell(path: Path, line: int, column: str, text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = float("nan")
    if not math.isfinite(v):
        raise DataError("not a finite number", parameter=f"{path.name}:{column}", value=text,
                        index=line, allowed="finite numbers",
                        hint=f"line {line} of the file (header = line 1)")
    return v


def _load_csv_classification(path: Path, normalise: bool) -> TaskData:
    header, rows = _read_csv(path)
    fixed = ["split", "sample", "t", "label"]
    if header[:4] != fixed:
        raise DataError("unexpected CSV header", parameter=f"{path.name}:header", value=header[:6],
                        allowed="split,sample,t,label,ch0,ch1,...", hint=_CSV_CLASS_HINT)
    channels = header[4:]
    if not channels:
        raise DataError("no channel columns", parameter=f"{path.name}:header", value=header,
                        allowed="at least one column after 'label'", hint=_CSV_CLASS_HINT)
    # samples[split][sample_id] -> (label, {t: values}), kept in order of first appearance
    samples: dict[str, dict[str, tuple[str, dict[int, list[float]]]]] = {"train": {}, "test": {}}
    for r_i, row in enumerate(rows):
        line = r_i + 2
        if len(row) != len(header):
            raise DataError("wrong number of columns", parameter=f"{path.name}:line {line}",
                            value=len(row), allowed=str(len(header)), hint=_CSV_CLASS_HINT)
        split, sid, t_text, label = (c.strip() for c in row[:4])
        if split not in samples:
            raise DataError("unknown split", parameter=f"{path.name}:split", value=split,
                            index=line, allowed="'train' or 'test'", hint=f"line {line}")
        try:
            t = int(t_text)
        except ValueError:
            t = -1
        if t < 0:
            raise DataError("time index must be an integer >= 0", parameter=f"{path.name}:t",
                            value=t_text, index=line, allowed="0, 1, 2, ...", hint=f"line {line}")
        values = [_float_cell(path, line, channels[j], row[4 + j]) for j in range(len(channels))]
        entry = samples[split].setdefault(sid, (label, {}))
        if entry[0] != label:
            raise DataError("a sample changes label", parameter=f"{path.name}:label", value=label,
                            index=line, allowed=f"{entry[0]!r} (the sample's first label)",
                            hint=f"line {line}, sample {sid!r}")
        if t in entry[1]:
            raise DataError("duplicate time index", parameter=f"{path.name}:t", value=t, index=line,
                            hint=f"line {line}, sample {sid!r}")
        entry[1][t] = values
    parts = {}
    for split, smp in samples.items():
        if not smp:
            raise DataError("no rows for this split", parameter=f"{path.name}:split", value=split,
                            allowed="both 'train' and 'test' rows", hint=_CSV_CLASS_HINT)
        lengths = []
        for sid, (_, frames) in smp.items():
            if sorted(frames) != list(range(len(frames))):
                gap = next(i for i in range(len(frames) + 1) if i not in frames)
                raise DataError("time indices of a sample must be 0..L-1 without gaps",
                                parameter=f"{path.name}:t", value=sorted(frames)[:8],
                                hint=f"sample {sid!r} ({split}) misses t={gap}")
            lengths.append(len(frames))
        lengths_a = np.array(lengths, dtype=np.int64)
        x = np.zeros((len(smp), int(lengths_a.max()), len(channels)))
        for i, (_, frames) in enumerate(smp.values()):
            x[i, :len(frames)] = [frames[t] for t in range(len(frames))]
        parts[split] = (x, lengths_a, [lab for lab, _ in smp.values()])
    meta = {"source": f"user file {path}", "split": "as given in the file",
            "channel_names": channels}
    return _classification_task(path.stem, *parts["train"], *parts["test"], meta, normalise)


def _load_csv_prediction(path: Path, horizon: int, target: str | Sequence[str] | None,
                         train_fraction: float, normalise: bool) -> TaskData:
    header, rows = _read_csv(path)
    if len(set(header)) != len(header) or any(not h for h in header):
        raise DataError("column names must be unique and non-empty", parameter=f"{path.name}:header",
                        value=header, hint="prediction CSV: one named column per channel, one row per time step")
    data = np.empty((len(rows), len(header)))
    for r_i, row in enumerate(rows):
        if len(row) != len(header):
            raise DataError("wrong number of columns", parameter=f"{path.name}:line {r_i + 2}",
                            value=len(row), allowed=str(len(header)))
        for j, cell in enumerate(row):
            data[r_i, j] = _float_cell(path, r_i + 2, header[j], cell.strip())
    if target is None:
        cols = list(range(len(header)))
    else:
        names = [target] if isinstance(target, str) else list(target)
        unknown = [n for n in names if n not in header]
        if unknown:
            raise DataError("target column not in the file", parameter="target", value=unknown[0],
                            allowed=f"one of {header}", hint="pass the column name(s) to predict")
        cols = [header.index(n) for n in names]
    if not (0.0 < train_fraction < 1.0):
        raise DataError("train_fraction must be strictly between 0 and 1", parameter="train_fraction",
                        value=train_fraction, allowed="(0, 1)")
    usable = data.shape[0] - horizon
    n_train = int(math.floor(usable * train_fraction))
    n_test = usable - n_train
    if n_train < 2 or n_test < 2:
        raise DataError("series too short for the split and horizon", parameter=f"{path.name}:rows",
                        value=data.shape[0], allowed=f">= horizon + 4 = {horizon + 4}",
                        hint="provide more rows or a smaller horizon")
    meta = {"source": f"user file {path}", "split": f"first {train_fraction:.0%} train, rest test",
            "channel_names": header, "target": [header[c] for c in cols]}
    return _prediction_task(path.stem, data, cols, horizon, n_train, n_test, meta, normalise)


@clean_errors(DataError, "path", "see help(hrsnn_hw.tasks.load_user_data) for the file layouts")
def load_user_data(path: str | Path, kind: Kind = "classification", *, horizon: int | None = None,
                   target: str | Sequence[str] | None = None, train_fraction: float = 0.7,
                   normalise: bool = True) -> TaskData:
    """Load a user's dataset from ``.npz`` or ``.csv``.

    Formats
    -------
    ``.npz`` (either kind)
        Arrays ``x_train``, ``y_train``, ``x_test``, ``y_test``; x of shape (n, T, C) or (n, T).
        Optional ``len_train``/``len_test`` (valid frames per sample); without them trailing
        all-NaN frames count as padding. Classification: y of shape (n,), any labels (mapped
        to 0..K-1 in sorted order). Prediction: y of shape (n, T, C_out) or (n, T), already
        aligned with x (``y[:, t]`` is the target at input frame t); an optional scalar
        ``horizon`` array or the ``horizon`` argument is recorded.
    ``.csv``, classification (long format)
        Header ``split,sample,t,label,ch0,ch1,...``; one row per sample and frame; ``split`` is
        ``train`` or ``test``; ``t`` runs 0..L-1 within each sample.
    ``.csv``, prediction
        Header of channel names, one row per time step. Inputs are all columns, the target is
        ``target`` (a column name or list; default all columns) ``horizon`` rows later
        (default 1). The first ``train_fraction`` of the rows is training, the rest test.

    Raises
    ------
    DataError
        Naming the file, key/column (and line), the value and a hint.
    """
    path = Path(path)
    if kind not in ("classification", "prediction"):
        raise DataError("unknown task kind", parameter="kind", value=kind,
                        allowed="'classification' or 'prediction'")
    if not path.is_file():
        raise DataError("data file not found", parameter="path", value=str(path),
                        hint="give the path of an .npz or .csv file")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return _load_npz(path, kind, horizon, normalise)
    if suffix == ".csv":
        if kind == "classification":
            return _load_csv_classification(path, normalise)
        h = 1 if horizon is None else _check_int("horizon", horizon, 1)
        return _load_csv_prediction(path, h, target, train_fraction, normalise)
    raise DataError("unsupported data file type", parameter="path", value=str(path),
                    allowed=".npz or .csv", hint="convert the data to one of these formats")


# ----------------------------------------------------------------------------------------
# Registry
# ----------------------------------------------------------------------------------------

_REGISTRY: dict[str, Callable[..., TaskData]] = {
    "japanese_vowels": load_japanese_vowels,
    "basic_motions": load_basic_motions,
    "gunpoint": load_gunpoint,
    "unit_test": load_unit_test,
    "mackey_glass": load_mackey_glass,
    "lorenz": load_lorenz,
}
DEFAULT_TASK = "japanese_vowels"


def known_tasks() -> tuple[str, ...]:
    """Names accepted by :func:`load_task` (besides a path to a user file)."""
    return tuple(_REGISTRY)


def _quick_indices(y: np.ndarray, n: int) -> np.ndarray:
    """First samples of each class taken round-robin: deterministic and roughly stratified."""
    if n >= y.shape[0]:
        return np.arange(y.shape[0])
    per_class = [list(np.flatnonzero(y == c)) for c in np.unique(y)]
    chosen: list[int] = []
    depth = 0
    while len(chosen) < n:
        for members in per_class:
            if depth < len(members) and len(chosen) < n:
                chosen.append(int(members[depth]))
        depth += 1
    return np.sort(np.array(chosen, dtype=np.int64))


def subset_task(task: TaskData, n_train: int, n_test: int) -> TaskData:
    """A smaller classification task: the first samples of each class, round-robin.

    Keeps the full task's scaling (fitted on its whole training split) and class names; the
    subset is deterministic. Prediction tasks are cut with their loaders' ``n_train``/``n_test``.
    """
    if task.kind != "classification":
        raise DataError("subset_task applies to classification tasks", parameter="task.kind",
                        value=task.kind, hint="for prediction pass n_train/n_test to the loader")
    n_train = _check_int("n_train", n_train, 1)
    n_test = _check_int("n_test", n_test, 1)
    parts = {}
    for split, n in (("train", n_train), ("test", n_test)):
        idx = _quick_indices(getattr(task, f"y_{split}"), n)
        lengths = getattr(task, f"len_{split}")[idx]
        t_max = int(lengths.max())
        parts[split] = (getattr(task, f"x_{split}")[idx, :t_max], lengths,
                        getattr(task, f"y_{split}")[idx], idx)
    meta = dict(task.metadata)
    meta["subset"] = {"train_indices": parts["train"][3].tolist(),
                      "test_indices": parts["test"][3].tolist(),
                      "rule": "first samples of each class, round-robin; scaling of the full task"}
    return TaskData(name=task.name, kind=task.kind, x_train=parts["train"][0],
                    len_train=parts["train"][1], y_train=parts["train"][2],
                    x_test=parts["test"][0], len_test=parts["test"][1], y_test=parts["test"][2],
                    class_names=task.class_names, horizon=task.horizon, metadata=meta)


def load_task(name: str = DEFAULT_TASK, quick: bool = False, **kw: Any) -> TaskData:
    """Load a task by name, or a user file by path.

    Parameters
    ----------
    name : str
        One of :func:`known_tasks` (default ``"japanese_vowels"``) or the path of an ``.npz``
        / ``.csv`` file (keyword arguments go to :func:`load_user_data`).
    quick : bool
        A small deterministic subset so a whole pipeline runs in seconds: classification keeps
        60 train / 60 test samples (round-robin over classes, see :func:`subset_task`);
        generated prediction tasks use 500 train / 250 test frames unless ``n_train``/``n_test``
        are given; a user's prediction file is loaded whole.
    **kw
        Passed to the loader.

    Raises
    ------
    DataError
        For an unknown name (listing the known ones) or a bad file.
    """
    if not isinstance(name, (str, Path)):
        raise DataError("task name must be a string", parameter="name", value=name,
                        allowed=f"one of {list(_REGISTRY)} or a path")
    key = str(name)
    if key in _REGISTRY:
        loader = _REGISTRY[key]
        if quick and key in ("mackey_glass", "lorenz"):
            kw.setdefault("n_train", QUICK_N_PREDICTION[0])
            kw.setdefault("n_test", QUICK_N_PREDICTION[1])
        try:
            task = loader(**kw)
        except TypeError as exc:
            raise DataError(f"bad option for task {key!r} ({exc})", parameter="kw",
                            value=sorted(kw), hint=f"see help(hrsnn_hw.tasks.datasets.{loader.__name__})") from None
    elif Path(key).suffix.lower() in (".npz", ".csv") or Path(key).is_file():
        task = load_user_data(key, **kw)
    else:
        raise DataError("unknown task", parameter="name", value=key,
                        allowed=f"one of {list(_REGISTRY)} or the path of an .npz/.csv file",
                        hint="check the spelling")
    if quick and task.kind == "classification":
        task = subset_task(task, QUICK_N_CLASSIFICATION, QUICK_N_CLASSIFICATION)
    return task
