"""Memory capacity (Jaeger 2001) on systems whose answer is known."""
from __future__ import annotations

import numpy as np
import pytest

from hrsnn_hw.errors import DataError
from hrsnn_hw.records import SpikeRecord
from hrsnn_hw.tasks.memory_capacity import mc_input, memory_capacity, memory_capacity_from_record


def _delay_line(u, n_units):
    return np.stack([np.concatenate([np.zeros(k), u[:u.size - k]]) for k in range(n_units)], axis=1)


def test_mc_input_is_uniform_and_seeded():
    u = mc_input(5000, seed=3)
    assert u.shape == (5000,) and 0.0 <= u.min() and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.02 and abs(u.var() - 1 / 12) < 0.005
    assert np.array_equal(u, mc_input(5000, seed=3)) and not np.array_equal(u, mc_input(5000, seed=4))


@pytest.mark.parametrize("n_units", [1, 5, 10])
def test_delay_line_has_mc_n_minus_one(n_units):
    u = mc_input(3000, seed=1)
    r = memory_capacity(_delay_line(u, n_units), u, max_delay=20)
    assert n_units - 1.2 <= r.mc <= n_units + 0.05
    # It remembers exactly the delays it holds, and nothing beyond.
    np.testing.assert_allclose(r.per_delay_raw[:n_units - 1], 1.0, atol=1e-6)
    np.testing.assert_allclose(r.per_delay[:n_units - 1], 1.0, atol=0.01)  # minus a chance level
    assert np.abs(r.per_delay[n_units - 1:]).max() < 0.02
    assert r.mc == pytest.approx(r.per_delay.sum())
    assert r.n_train + r.n_test == 3000 - 20


@pytest.mark.slow
def test_random_state_has_no_memory_after_chance_correction():
    u = mc_input(3000, seed=2)
    states = np.random.default_rng(9).normal(size=(3000, 200))
    r = memory_capacity(states, u, max_delay=100)
    # 200 features and 100 delays: the raw sum is visibly above zero by chance alone, the
    # shuffled-target baseline measures that level and the corrected MC is about 0.
    assert r.mc_chance > 0.05 and r.mc_raw > 0.05
    assert abs(r.mc) < 0.5 * r.mc_chance + 0.05
    assert r.mc == pytest.approx(r.mc_raw - r.mc_chance)
    np.testing.assert_allclose(r.per_delay, r.per_delay_raw - r.per_delay_chance)
    uncorrected = memory_capacity(states, u, max_delay=100, n_shuffles=0)
    assert uncorrected.mc == uncorrected.mc_raw == pytest.approx(r.mc_raw) and uncorrected.mc_chance == 0.0


def test_nearly_constant_feature_cannot_blow_up_the_readout():
    # A trace that barely moves in training (spread 1e-20) and jumps at test time: without a
    # floor on the scaling its z-score reaches ~1e20 and the held-out fit collapses.
    u = mc_input(2000, seed=4)
    states = _delay_line(u, 5)
    wild = np.full((2000, 1), 1e-3)
    wild[:1000, 0] += 1e-20 * np.arange(1000)
    wild[1500:, 0] = 1.0
    r = memory_capacity(np.hstack([states, wild]), u, max_delay=10, train_fraction=0.45)
    assert r.mc > 3.5


@pytest.mark.slow
def test_echo_state_network_reference():
    # A 100-unit tanh ESN (spectral radius 0.9, small input): MC well above 5, below N.
    rng = np.random.default_rng(0)
    u = mc_input(3000, seed=0)
    w = rng.normal(size=(100, 100))
    w *= 0.9 / np.max(np.abs(np.linalg.eigvals(w)))
    w_in = rng.uniform(-0.1, 0.1, size=100)
    x = np.zeros(100)
    states = np.empty((3000, 100))
    for t in range(3000):
        x = np.tanh(w @ x + w_in * (u[t] - 0.5))
        states[t] = x
    r = memory_capacity(states, u, max_delay=100, washout=100)
    assert 15.0 < r.mc < 60.0
    assert r.per_delay[0] > 0.9


def test_from_record_binary_delay_line():
    # Neuron j spikes at the last step of frame t iff u(t - j) > 0.5. A thresholded uniform
    # has r^2 = corr(u, 1[u > 0.5])^2 = 0.75 with u, so MC ~ 0.75 * (N - 1).
    n_units, spf = 6, 2
    u = mc_input(2000, seed=5)
    bits = _delay_line(u, n_units) > 0.5
    spikes = np.zeros((1, 2000 * spf, n_units), bool)
    spikes[0, spf - 1::spf] = bits
    rec = SpikeRecord(spikes, np.array([2000 * spf]), 1e-3)
    r = memory_capacity_from_record(rec, u, spf, 0.05, max_delay=10)
    assert abs(r.mc - 0.75 * (n_units - 1)) < 0.15
    with pytest.raises(DataError, match="input length"):
        memory_capacity_from_record(rec, u[:-1], spf, 0.05)


def test_deterministic():
    u = mc_input(1500, seed=7)
    s = np.random.default_rng(1).normal(size=(1500, 20)) + _delay_line(u, 20)
    a = memory_capacity(s, u, max_delay=30)
    b = memory_capacity(s, u, max_delay=30)
    assert a.mc == b.mc and np.array_equal(a.per_delay, b.per_delay)
    assert a.alphas.shape == (30,)
    assert a.as_dict()["max_delay"] == 30


@pytest.mark.parametrize("kwargs, parameter", [
    (dict(max_delay=0), "max_delay"),
    (dict(alphas=[0.0]), "alphas"),
    (dict(n_shuffles=-1), "n_shuffles"),
    (dict(train_fraction=1.0), "train_fraction"),
    (dict(max_delay=199), "states"),
    (dict(washout=-1), "washout"),
])
def test_bad_arguments(kwargs, parameter):
    u = mc_input(200)
    with pytest.raises(DataError) as err:
        memory_capacity(_delay_line(u, 3), u, **kwargs)
    assert err.value.parameter == parameter
    with pytest.raises(DataError) as err:
        memory_capacity(_delay_line(u, 3), u[:-1])
    assert err.value.parameter == "u"
