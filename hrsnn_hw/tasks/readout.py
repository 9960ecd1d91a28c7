"""Host-side linear readouts fitted on network states, and task evaluation: the one readout module.

Every readout is a scikit-learn estimator behind a :class:`FlooredStandardScaler` (features
standardised with training statistics, with a floor on the spread) with its regularisation
chosen by cross-validation on the training data only. Folds are fixed (no shuffling), so a
fit is deterministic:

- :class:`RidgeReadout` (regression): :class:`sklearn.linear_model.RidgeCV` over contiguous
  blocks (:class:`~sklearn.model_selection.KFold` without shuffling), as is right for time
  series whose neighbouring frames are correlated; or, with ``cv="loo"``, RidgeCV's efficient
  leave-one-out (generalised cross-validation) with one penalty per target, used by the
  memory-capacity readouts whose targets are i.i.d. in time;
- :class:`RidgeClassifierReadout`: :class:`sklearn.linear_model.RidgeClassifierCV` over
  interleaved folds (sample i in fold i mod k), so class-sorted training sets still put every
  class in every fold;
- :class:`LogisticReadout`: :class:`sklearn.linear_model.LogisticRegressionCV` over unshuffled
  stratified folds.
"""
from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np
from sklearn.preprocessing import StandardScaler

from ..errors import DataError
from .metrics import accuracy as _accuracy
from .metrics import nrmse as _nrmse

__all__ = ["RidgeReadout", "RidgeClassifierReadout", "LogisticReadout", "FlooredStandardScaler",
           "evaluate_classification", "evaluate_prediction", "DEFAULT_ALPHAS", "DEFAULT_CS",
           "SCALE_FLOOR"]

#: Ridge penalties searched (features are standardised, so these are on a fixed scale).
DEFAULT_ALPHAS: tuple[float, ...] = tuple(float(a) for a in np.logspace(-3, 5, 17))
#: Inverse L2 penalties searched by the logistic readout.
DEFAULT_CS: tuple[float, ...] = (0.001, 0.01, 0.1, 1.0, 10.0, 100.0)
#: Floor of a feature's spread, relative to the median spread of the non-constant features.
SCALE_FLOOR = 1e-2


def _features(name: str, x: Any, n_rows: int | None = None) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError("features must be numeric", parameter=name, value=type(x).__name__) from None
    if arr.ndim != 2:
        raise DataError("features must be 2-D (n_samples, n_features)", parameter=name, value=arr.shape)
    if n_rows is not None and arr.shape[0] != n_rows:
        raise DataError("features and targets differ in number of samples", parameter=name,
                        value=arr.shape[0], allowed=str(n_rows))
    if not np.all(np.isfinite(arr)):
        raise DataError("non-finite feature values", parameter=name, value="NaN/inf",
                        hint="check the spike record / feature extraction")
    return arr


def _check_alphas(alphas: Sequence[float], name: str = "alphas") -> np.ndarray:
    a = np.asarray(alphas, dtype=np.float64).ravel()
    if a.size == 0 or not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise DataError("regularisation grid must hold positive finite values", parameter=name,
                        value=list(np.asarray(alphas).ravel()[:5]), allowed="(0, inf)")
    return np.sort(a)


def _check_cv(cv: Any, allow_loo: bool = False) -> int | str:
    if allow_loo and cv == "loo":
        return "loo"
    if isinstance(cv, bool) or not isinstance(cv, (int, np.integer)) or cv < 1:
        raise DataError("number of CV folds must be a positive integer", parameter="cv", value=cv,
                        allowed=">= 1 (1 = no CV)" + (" or 'loo'" if allow_loo else ""))
    return int(cv)


def _fitted_features(readout: Any, fitted: str, x: Any) -> np.ndarray:
    """``x`` checked against a fitted readout and standardised with its training statistics."""
    if not hasattr(readout, fitted):
        raise DataError("readout used before fit", parameter="readout", value="unfitted",
                        hint="call fit(features_train, y_train) first")
    x = _features("x", x)
    if x.shape[1] != readout.n_features_in_:
        raise DataError("wrong number of features", parameter="x", value=x.shape[1],
                        allowed=str(readout.n_features_in_),
                        hint="use the same feature extraction (bins, neurons) as for fitting")
    return readout.scaler_.transform(x)


class FlooredStandardScaler(StandardScaler):
    """:class:`~sklearn.preprocessing.StandardScaler` whose per-feature scale has a floor.

    A feature (nearly) constant on the training data carries nothing a readout can learn, and
    dividing by its tiny spread blows its held-out values up (a neuron that fired once in
    training; a filtered trace that barely moves gave |z| ~ 1e23). Spreads below ``floor``
    times the median spread of the non-constant features are raised to that value; a network
    whose every feature is constant keeps scale 1. scikit-learn's scalers have no such floor,
    hence this subclass (the only hand-written part of the scaling).

    Parameters
    ----------
    floor : float
        Relative floor (default :data:`SCALE_FLOOR`).
    """

    def __init__(self, *, floor: float = SCALE_FLOOR, copy: bool = True) -> None:
        super().__init__(copy=copy)
        self.floor = floor

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> "FlooredStandardScaler":
        super().fit(X, y, sample_weight)
        std = np.sqrt(self.var_)
        positive = std[std > 0]
        floor = float(self.floor) * float(np.median(positive)) if positive.size else 1.0
        self.scale_ = np.where(std > floor, std, floor)
        return self


def _contiguous_folds(n: int, k: int) -> list[tuple[np.ndarray, np.ndarray]]:
    idx = np.arange(n)
    return [(np.setdiff1d(idx, block), block) for block in np.array_split(idx, k)]


def _interleaved_folds(n: int, k: int) -> list[tuple[np.ndarray, np.ndarray]]:
    fold = np.arange(n) % k
    return [(np.flatnonzero(fold != f), np.flatnonzero(fold == f)) for f in range(k)]


class RidgeReadout:
    """Ridge regression readout (:class:`sklearn.linear_model.RidgeCV`) on floored standardised features.

    Parameters
    ----------
    alphas : sequence of float
        Penalties searched (on standardised features).
    cv : int or "loo"
        Number of contiguous folds (>= 2); 1 disables CV and uses the largest alpha;
        ``"loo"``: efficient leave-one-out with one penalty per target (i.i.d. targets only).
    floor : float
        Relative floor of the feature scaling (:class:`FlooredStandardScaler`).

    Attributes
    ----------
    alpha_ : float or ndarray
        The chosen penalty (one per target with ``cv="loo"`` and several targets).
    coef_ : ndarray, shape (n_features, n_outputs)
        Weights on the standardised features.
    intercept_ : ndarray, shape (n_outputs,)
    """

    def __init__(self, alphas: Sequence[float] = DEFAULT_ALPHAS, cv: int | str = 5,
                 floor: float = SCALE_FLOOR) -> None:
        self.alphas = _check_alphas(alphas)
        self.cv = _check_cv(cv, allow_loo=True)
        self.floor = float(floor)

    def _splits(self, n: int) -> Any:
        return _contiguous_folds(n, min(self.cv, n))

    def _estimator(self, n: int) -> Any:
        from sklearn.linear_model import Ridge, RidgeCV
        if self.cv == "loo":
            return RidgeCV(alphas=self.alphas, alpha_per_target=True)
        if self.cv < 2 or n < 2 or self.alphas.size == 1:
            return Ridge(alpha=float(self.alphas[-1]))
        return RidgeCV(alphas=self.alphas, cv=self._splits(n))

    def _fit_targets(self, x: np.ndarray, y2: np.ndarray) -> None:
        self.scaler_ = FlooredStandardScaler(floor=self.floor).fit(x)
        model = self._estimator(x.shape[0]).fit(self.scaler_.transform(x), y2)
        self.model_ = model
        alpha = getattr(model, "alpha_", getattr(model, "alpha", None))
        self.alpha_ = float(alpha) if np.ndim(alpha) == 0 else np.asarray(alpha, dtype=np.float64)
        self.coef_ = np.atleast_2d(model.coef_).T
        self.intercept_ = np.atleast_1d(model.intercept_)
        self.n_features_in_ = x.shape[1]

    def fit(self, x: Any, y: Any) -> "RidgeReadout":
        """Fit on training features (n, F) and targets (n,) or (n, C)."""
        y_arr = np.asarray(y, dtype=np.float64)
        self._y_1d = y_arr.ndim == 1
        y2 = y_arr.reshape(-1, 1) if self._y_1d else y_arr
        if y2.ndim != 2 or not np.all(np.isfinite(y2)):
            raise DataError("targets must be finite, shape (n,) or (n, C)", parameter="y",
                            value=y_arr.shape)
        x = _features("x", x, y2.shape[0])
        self._fit_targets(x, y2)
        return self

    def _decision(self, x: Any) -> np.ndarray:
        return _fitted_features(self, "coef_", x) @ self.coef_ + self.intercept_

    def predict(self, x: Any) -> np.ndarray:
        """Predicted targets, shaped like the training targets ((n,) or (n, C))."""
        out = self._decision(x)
        return out[:, 0] if self._y_1d else out


def _labels(name: str, y: Any, n: int) -> np.ndarray:
    arr = np.asarray(y)
    if arr.shape != (n,) or not np.issubdtype(arr.dtype, np.integer):
        raise DataError("labels must be integers 0..K-1, one per sample", parameter=name,
                        value=(arr.shape, str(arr.dtype)), allowed=f"shape ({n},), integer dtype",
                        hint="TaskData.y_train holds such labels")
    if arr.size and arr.min() < 0:
        raise DataError("negative label", parameter=name, value=int(arr.min()), allowed=">= 0")
    return arr.astype(np.int64)


class RidgeClassifierReadout(RidgeReadout):
    """One-vs-rest ridge classifier (:class:`sklearn.linear_model.RidgeClassifierCV`, targets
    +1/-1), penalty by interleaved k-fold CV.

    ``predict`` returns the class with the largest decision value (ties: the lowest label).
    Classes are those seen in training (``classes_``).
    """

    def __init__(self, alphas: Sequence[float] = DEFAULT_ALPHAS, cv: int = 5,
                 floor: float = SCALE_FLOOR) -> None:
        super().__init__(alphas=alphas, cv=_check_cv(cv), floor=floor)

    def _estimator(self, n: int) -> Any:
        from sklearn.linear_model import RidgeClassifier, RidgeClassifierCV
        if self.cv < 2 or n < 2 or self.alphas.size == 1:
            return RidgeClassifier(alpha=float(self.alphas[-1]))
        return RidgeClassifierCV(alphas=self.alphas, cv=_interleaved_folds(n, min(self.cv, n)))

    def fit(self, x: Any, y: Any) -> "RidgeClassifierReadout":
        x_arr = np.asarray(x)
        labels = _labels("y", y, x_arr.shape[0] if x_arr.ndim else -1)
        x = _features("x", x, labels.shape[0])
        self.classes_ = np.unique(labels)
        if self.classes_.size < 2:
            raise DataError("a classifier needs at least 2 classes in training", parameter="y",
                            value=self.classes_.tolist(), allowed=">= 2 distinct labels")
        self._y_1d = False
        self._fit_targets(x, labels)
        return self

    def decision_function(self, x: Any) -> np.ndarray:
        """Decision values, shape (n, n_classes) (one column for two classes)."""
        return self._decision(x)

    def predict(self, x: Any) -> np.ndarray:
        d = self._decision(x)
        if d.shape[1] == 1:  # scikit-learn's binary form: one decision value, positive class 1
            return self.classes_[(d[:, 0] > 0).astype(np.int64)]
        return self.classes_[np.argmax(d, axis=1)]


class LogisticReadout:
    """Multinomial logistic regression (sklearn, lbfgs), C chosen by stratified CV on train.

    Parameters
    ----------
    Cs : sequence of float
        Inverse penalties searched.
    cv : int
        Stratified folds (unshuffled); reduced to the smallest class size, and CV is skipped
        (C = 1) when that is below 2.
    max_iter : int
        lbfgs iterations.
    floor : float
        Relative floor of the feature scaling (:class:`FlooredStandardScaler`).

    Attributes
    ----------
    C_ : float
        The chosen inverse penalty.
    converged_ : bool
        False when some lbfgs fit stopped at ``max_iter`` (its ConvergenceWarning is not shown).
    """

    def __init__(self, Cs: Sequence[float] = DEFAULT_CS, cv: int = 5, max_iter: int = 2000,
                 floor: float = SCALE_FLOOR) -> None:
        self.Cs = _check_alphas(Cs, "Cs")
        self.cv = _check_cv(cv)
        self.max_iter = int(max_iter)
        self.floor = float(floor)

    def fit(self, x: Any, y: Any) -> "LogisticReadout":
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
        from sklearn.model_selection import StratifiedKFold

        x_arr = np.asarray(x)
        labels = _labels("y", y, x_arr.shape[0] if x_arr.ndim else -1)
        x = _features("x", x, labels.shape[0])
        self.classes_ = np.unique(labels)
        if self.classes_.size < 2:
            raise DataError("a classifier needs at least 2 classes in training", parameter="y",
                            value=self.classes_.tolist(), allowed=">= 2 distinct labels")
        self.scaler_ = FlooredStandardScaler(floor=self.floor).fit(x)
        xs = self.scaler_.transform(x)
        k = min(self.cv, int(np.bincount(labels)[self.classes_].min()))
        with warnings.catch_warnings():
            # lbfgs may stop at max_iter on separable data; the fit is still usable and the
            # warning would only repeat per fold.
            warnings.simplefilter("ignore", ConvergenceWarning)
            if k >= 2 and self.Cs.size > 1:
                model = LogisticRegressionCV(Cs=list(self.Cs), cv=StratifiedKFold(k), max_iter=self.max_iter,
                                             scoring="neg_log_loss")
                model.fit(xs, labels)
                self.C_ = float(model.C_[0])
            else:
                self.C_ = float(self.Cs[0]) if self.Cs.size == 1 else 1.0
                model = LogisticRegression(C=self.C_, max_iter=self.max_iter).fit(xs, labels)
        self.model_ = model
        # Convergence warnings are silenced above; the outcome is kept here instead.
        self.converged_ = bool(np.max(model.n_iter_) < self.max_iter)
        self.n_features_in_ = x.shape[1]
        return self

    def predict(self, x: Any) -> np.ndarray:
        return self.model_.predict(_fitted_features(self, "model_", x)).astype(np.int64)


def _make_classifier(readout: str, kw: dict) -> RidgeClassifierReadout | LogisticReadout:
    if readout == "ridge":
        return RidgeClassifierReadout(**kw)
    if readout == "logistic":
        return LogisticReadout(**kw)
    raise DataError("unknown classification readout", parameter="readout", value=readout,
                    allowed="'ridge' or 'logistic'")


def evaluate_classification(features_train: Any, y_train: Any, features_test: Any, y_test: Any,
                            readout: str = "ridge", **readout_kw: Any) -> dict[str, Any]:
    """Fit a classifier readout on training features and score it on the test features.

    Parameters
    ----------
    features_train, features_test : array_like, shape (n, F)
        E.g. :func:`~hrsnn_hw.tasks.features.final_state` or ``binned_counts``.
    y_train, y_test : array_like of int, shape (n,)
    readout : {"ridge", "logistic"}
    **readout_kw
        Passed to the readout (``alphas``/``Cs``, ``cv``...).

    Returns
    -------
    dict
        ``accuracy`` (test), ``train_accuracy``, ``readout``, ``regularisation`` (alpha or C),
        ``confusion`` (K x K list, rows = true class), ``n_train``, ``n_test``, ``n_features``,
        ``n_classes`` and ``y_pred`` (ndarray).
    """
    xtr = _features("features_train", features_train)
    ytr = _labels("y_train", y_train, xtr.shape[0])
    xte = _features("features_test", features_test)
    yte = _labels("y_test", y_test, xte.shape[0])
    if xte.shape[1] != xtr.shape[1]:
        raise DataError("train and test features differ in width", parameter="features_test",
                        value=xte.shape[1], allowed=str(xtr.shape[1]))
    model = _make_classifier(readout, readout_kw).fit(xtr, ytr)
    pred = model.predict(xte)
    n_classes = int(max(ytr.max(initial=0), yte.max(initial=0), pred.max(initial=0)) + 1)
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(confusion, (yte, pred), 1)
    return {"accuracy": _accuracy(yte, pred), "train_accuracy": _accuracy(ytr, model.predict(xtr)),
            "readout": readout,
            "regularisation": model.alpha_ if readout == "ridge" else model.C_,
            "confusion": confusion.tolist(), "n_train": int(xtr.shape[0]), "n_test": int(xte.shape[0]),
            "n_features": int(xtr.shape[1]), "n_classes": n_classes, "y_pred": pred}


def _frames(name: str, features: Any, y: Any, lengths: Any, washout: int) -> tuple[np.ndarray, np.ndarray]:
    """(n_seg, T, F) features and (n_seg, T[, C]) targets -> rows after each segment's washout."""
    f = np.asarray(features, dtype=np.float64)
    t = np.asarray(y, dtype=np.float64)
    if f.ndim == 2:
        f = f[None]
        t = t[None]
    if f.ndim != 3:
        raise DataError("features must be (n_frames, F) or (n_segments, n_frames, F)",
                        parameter=f"features_{name}", value=f.shape)
    if t.ndim == 2:
        t = t[..., None]
    if t.ndim != 3 or t.shape[:2] != f.shape[:2]:
        raise DataError("targets must match the features in segments and frames",
                        parameter=f"y_{name}", value=np.asarray(y).shape,
                        allowed=f"{f.shape[:2]} (+ output channels)")
    if lengths is None:
        lens = np.full(f.shape[0], f.shape[1], dtype=np.int64)
    else:
        lens = np.asarray(lengths, dtype=np.int64).reshape(-1)
        if lens.shape != (f.shape[0],) or np.any(lens < 0) or np.any(lens > f.shape[1]):
            raise DataError("one length per segment within the frames", parameter=f"len_{name}",
                            value=lens.tolist()[:5], allowed=f"{f.shape[0]} values in 0..{f.shape[1]}")
    rows_x, rows_y = [], []
    for s in range(f.shape[0]):
        rows_x.append(f[s, washout:lens[s]])
        rows_y.append(t[s, washout:lens[s]])
    x_rows = np.concatenate(rows_x, axis=0)
    y_rows = np.concatenate(rows_y, axis=0)
    if x_rows.shape[0] < 2:
        raise DataError("fewer than 2 frames left after the washout", parameter="washout",
                        value=washout, allowed=f"< {int(lens.min()) - 1}",
                        hint="reduce the washout or provide longer segments")
    return x_rows, y_rows


def evaluate_prediction(features_train: Any, y_train: Any, features_test: Any, y_test: Any,
                        horizon: int, washout: int = 0, *, len_train: Any = None,
                        len_test: Any = None, **readout_kw: Any) -> dict[str, Any]:
    """Fit a ridge readout on per-frame states and report the test NRMSE.

    Parameters
    ----------
    features_train, features_test : array_like, shape (n_frames, F) or (n_segments, n_frames, F)
        Per-frame states, e.g. :func:`~hrsnn_hw.tasks.features.frame_states`.
    y_train, y_test : array_like
        Targets per frame: (n_frames,), (n_frames, C) or (n_segments, n_frames[, C]) —
        ``TaskData.y_train`` as is.
    horizon : int
        Prediction horizon in frames (reported, ``TaskData.horizon``).
    washout : int
        Frames dropped at the start of every segment (network start-up), train and test.
    len_train, len_test : array_like of int, optional
        Valid frames per segment (``TaskData.len_train``); padding is ignored.
    **readout_kw
        Passed to :class:`RidgeReadout`.

    Returns
    -------
    dict
        ``nrmse`` (test, mean over output channels), ``nrmse_per_channel``, ``train_nrmse``,
        ``horizon``, ``washout``, ``alpha``, ``n_train_frames``, ``n_test_frames``,
        ``n_features`` and ``y_pred`` (ndarray, rows of the scored test frames).
    """
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 0:
        raise DataError("horizon must be a non-negative integer (frames)", parameter="horizon",
                        value=horizon, allowed=">= 0")
    if isinstance(washout, bool) or not isinstance(washout, (int, np.integer)) or washout < 0:
        raise DataError("washout must be a non-negative integer (frames)", parameter="washout",
                        value=washout, allowed=">= 0")
    xtr, ytr = _frames("train", features_train, y_train, len_train, int(washout))
    xte, yte = _frames("test", features_test, y_test, len_test, int(washout))
    if xte.shape[1] != xtr.shape[1]:
        raise DataError("train and test features differ in width", parameter="features_test",
                        value=xte.shape[1], allowed=str(xtr.shape[1]))
    model = RidgeReadout(**readout_kw).fit(xtr, ytr)
    pred = model.predict(xte)
    per_channel = _nrmse(yte, pred, per_channel=True)
    return {"nrmse": float(np.mean(per_channel)), "nrmse_per_channel": per_channel.tolist(),
            "train_nrmse": _nrmse(ytr, model.predict(xtr)), "horizon": int(horizon),
            "washout": int(washout), "alpha": model.alpha_, "n_train_frames": int(xtr.shape[0]),
            "n_test_frames": int(xte.shape[0]), "n_features": int(xtr.shape[1]), "y_pred": pred}
