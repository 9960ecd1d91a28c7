"""Host-side readouts and task evaluation."""
from __future__ import annotations

import numpy as np
import pytest

from hrsnn_hw.errors import DataError
from hrsnn_hw.tasks.readout import (LogisticReadout, RidgeClassifierReadout, RidgeReadout,
                                    evaluate_classification, evaluate_prediction)


def _blobs(n_per_class, n_classes=3, n_features=10, sep=3.0, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=sep, size=(n_classes, n_features))
    y = np.repeat(np.arange(n_classes), n_per_class)  # class-sorted, like JapaneseVowels
    x = centres[y] + rng.normal(size=(y.size, n_features))
    return x, y


def test_ridge_recovers_linear_map_and_is_deterministic():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 8)) * np.arange(1, 9)  # unequal scales: standardisation matters
    w = rng.normal(size=(8, 2))
    y = x @ w + 3.0 + 0.01 * rng.normal(size=(400, 2))
    m = RidgeReadout().fit(x[:300], y[:300])
    pred = m.predict(x[300:])
    assert np.sqrt(np.mean((pred - y[300:]) ** 2)) < 0.05
    assert m.alpha_ <= 1.0  # clean data: little regularisation chosen
    m2 = RidgeReadout().fit(x[:300], y[:300])
    assert np.array_equal(m.coef_, m2.coef_) and np.array_equal(pred, m2.predict(x[300:]))
    assert m.predict(x[:3, :]).shape == (3, 2)
    assert RidgeReadout().fit(x, y[:, 0]).predict(x).shape == (400,)


def test_ridge_regularises_pure_noise_and_handles_silent_features():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(200, 50))
    x[:, 0] = 0.0  # a silent neuron: constant feature
    y = rng.normal(size=200)
    m = RidgeReadout().fit(x, y)
    assert m.alpha_ >= 100.0  # CV sees no signal
    assert np.all(np.isfinite(m.predict(x)))


@pytest.mark.slow
@pytest.mark.parametrize("cls", [RidgeClassifierReadout, LogisticReadout])
def test_classifiers_separate_blobs(cls):
    x, y = _blobs(60)
    train = np.arange(y.size) % 3 != 0  # class-sorted training set
    m = cls().fit(x[train], y[train])
    pred = m.predict(x[~train])
    assert np.mean(pred == y[~train]) > 0.95
    np.testing.assert_array_equal(m.classes_, [0, 1, 2])
    assert np.array_equal(pred, cls().fit(x[train], y[train]).predict(x[~train]))  # deterministic


@pytest.mark.slow
def test_evaluate_classification_reports():
    x, y = _blobs(30, n_classes=4, sep=1.0, seed=3)
    rng = np.random.default_rng(4)
    idx = rng.permutation(y.size)
    tr, te = idx[:80], idx[80:]
    for readout in ("ridge", "logistic"):
        r = evaluate_classification(x[tr], y[tr], x[te], y[te], readout=readout)
        conf = np.array(r["confusion"])
        assert conf.sum() == te.size and conf.shape == (4, 4)
        assert r["accuracy"] == pytest.approx(np.trace(conf) / te.size)
        assert r["accuracy"] == pytest.approx(np.mean(r["y_pred"] == y[te]))
        assert r["accuracy"] > 0.6 and r["regularisation"] > 0
    # Random features: near chance.
    noise = rng.normal(size=x.shape)
    r = evaluate_classification(noise[tr], y[tr], noise[te], y[te])
    assert r["accuracy"] < 0.6
    with pytest.raises(DataError) as err:
        evaluate_classification(x[tr], y[tr], x[te], y[te], readout="svm")
    assert err.value.parameter == "readout"
    with pytest.raises(DataError) as err:
        evaluate_classification(x[tr], y[tr].astype(float), x[te], y[te])
    assert err.value.parameter == "y_train"
    with pytest.raises(DataError, match="width"):
        evaluate_classification(x[tr], y[tr], x[te, :3], y[te])


def test_evaluate_prediction_on_delay_features():
    rng = np.random.default_rng(5)
    u = rng.random(1300)
    target = 0.5 * np.roll(u, 2) + 0.3 * np.roll(u, 4)  # a function of the past 5 inputs
    states = np.stack([np.roll(u, k) for k in range(6)], axis=1)
    tr, te = slice(0, 1000), slice(1000, 1300)
    r = evaluate_prediction(states[None, tr], target[None, tr, None], states[None, te],
                            target[None, te, None], horizon=0, washout=10)
    assert r["nrmse"] < 0.01 and r["horizon"] == 0
    assert r["n_train_frames"] == 990 and r["n_test_frames"] == 290
    # Missing memory of u(t-4) -> a clearly worse fit.
    r2 = evaluate_prediction(states[tr, :3], target[tr], states[te, :3], target[te], horizon=0)
    assert 0.3 < r2["nrmse"] < 0.9
    # Lengths drop padded frames.
    r3 = evaluate_prediction(states[None, tr], target[None, tr], states[None, te], target[None, te],
                             horizon=0, len_train=[500], len_test=[200])
    assert r3["n_train_frames"] == 500 and r3["n_test_frames"] == 200
    with pytest.raises(DataError) as err:
        evaluate_prediction(states[tr], target[tr], states[te], target[te], horizon=-1)
    assert err.value.parameter == "horizon"
    with pytest.raises(DataError) as err:
        evaluate_prediction(states[tr], target[tr], states[te], target[te], horizon=1, washout=1000)
    assert err.value.parameter == "washout"


def test_readout_argument_checks():
    with pytest.raises(DataError) as err:
        RidgeReadout(alphas=[0.0, 1.0])
    assert err.value.parameter == "alphas"
    with pytest.raises(DataError, match="before fit"):
        RidgeReadout().predict(np.zeros((2, 2)))
    with pytest.raises(DataError, match="non-finite"):
        RidgeReadout().fit(np.array([[np.nan], [1.0]]), np.array([0.0, 1.0]))
    m = RidgeReadout().fit(np.random.default_rng(0).normal(size=(20, 3)), np.arange(20.0))
    with pytest.raises(DataError, match="number of features"):
        m.predict(np.zeros((2, 4)))
