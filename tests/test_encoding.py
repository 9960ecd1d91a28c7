"""Spike encoders: hand examples, statistics, determinism, padding, argument checks."""
from __future__ import annotations

import numpy as np
import pytest

from hrsnn_hw.encoding import METHODS, encode, n_output_channels
from hrsnn_hw.errors import DataError, LossyConversionWarning

HAND = np.array([[0.0, 0.25, 0.05, 0.05, 0.31]])  # one sample, one channel, 5 frames


def _frame_counts(enc, spf):
    n, steps, c = enc.spikes.shape
    return enc.spikes.reshape(n, steps // spf, spf, c).sum(axis=2)


def test_level_crossing_hand_example():
    enc = encode(HAND, method="level_crossing", steps_per_frame=4, delta=0.1)
    # Levels floor(x / 0.1): 0, 2, 0, 0, 3 -> up 2 at frame 1, down 2 at frame 2, up 3 at frame 4.
    counts = _frame_counts(enc, 4)[0]
    np.testing.assert_array_equal(counts[:, 0], [0, 2, 0, 0, 3])  # up channel
    np.testing.assert_array_equal(counts[:, 1], [0, 0, 2, 0, 0])  # down channel
    assert enc.spikes.sum() == 7  # total number of level crossings
    # Spikes sit on consecutive steps from the frame's first step.
    assert np.flatnonzero(enc.spikes[0, :, 0]).tolist() == [4, 5, 16, 17, 18]
    assert np.flatnonzero(enc.spikes[0, :, 1]).tolist() == [8, 9]
    assert enc.params["dropped_events"] == 0 and enc.n_channels == 2


def test_level_crossing_cap_and_initial_zero():
    enc = encode(HAND, method="level_crossing", steps_per_frame=2, delta=0.1)
    assert _frame_counts(enc, 2)[0, 4, 0] == 2 and enc.params["dropped_events"] == 1
    enc0 = encode(np.array([[0.35, 0.35]]), method="level_crossing", steps_per_frame=5,
                  delta=0.1, initial="zero")
    assert _frame_counts(enc0, 5)[0, :, 0].tolist() == [3, 0]  # absolute level sent once


def test_level_crossing_counts_random_signal_and_channel_layout():
    rng = np.random.default_rng(3)
    x = rng.random((3, 40, 2))
    enc = encode(x, method="level_crossing", steps_per_frame=20, delta=0.07)
    lv = np.floor(x / 0.07 + 1e-9)
    steps = np.abs(np.diff(lv, axis=1)).sum(axis=1)  # (3, 2) crossings per sample and channel
    per_channel = enc.spikes.sum(axis=1)  # (3, 4): up0, down0, up1, down1
    np.testing.assert_array_equal(per_channel[:, 0::2] + per_channel[:, 1::2], steps)


def test_send_on_delta_resets_reference():
    enc = encode(HAND, method="send_on_delta", steps_per_frame=4, delta=0.1)
    counts = _frame_counts(enc, 4)[0]
    # r=0: +0.25 -> 2 up, r=0.25; -0.2 -> 2 down, r=0.05; 0; +0.26 -> 2 up (level crossing: 3).
    np.testing.assert_array_equal(counts[:, 0], [0, 2, 0, 0, 2])
    np.testing.assert_array_equal(counts[:, 1], [0, 0, 2, 0, 0])
    # Sub-delta drift accumulates until it reaches delta, then resets.
    slow = encode(np.array([[0.0, 0.06, 0.12, 0.18]]), method="send_on_delta", delta=0.1)
    assert slow.spikes[0, :, 0].tolist() == [False, False, True, False]


def test_rate_mean_matches_probability():
    x = np.full((20, 50, 2), 0.6)
    enc = encode(x, method="rate", steps_per_frame=10, seed=5, p_max=0.5)
    p = 0.3
    n = enc.spikes.size
    assert abs(enc.spikes.mean() - p) < 4 * np.sqrt(p * (1 - p) / n)
    assert not encode(np.zeros((2, 30, 1)), method="rate", steps_per_frame=3).spikes.any()


def test_population_receptive_fields():
    x = np.full((10, 100, 1), 0.5)
    enc = encode(x, method="population", steps_per_frame=5, seed=1, n_per_channel=5, p_max=0.8)
    assert enc.n_channels == 5
    rates = enc.spikes.mean(axis=(0, 1))
    centres = np.linspace(0, 1, 5)
    expected = 0.8 * np.exp(-0.5 * ((0.5 - centres) / (0.5 / 4)) ** 2)
    np.testing.assert_allclose(rates, expected, atol=0.02)
    assert np.argmax(rates) == 2


@pytest.mark.parametrize("method", METHODS)
def test_determinism_padding_and_lengths(method):
    rng = np.random.default_rng(0)
    x = rng.random((4, 12, 3))
    lengths = np.array([12, 5, 0, 9])
    x_nan = x.copy()
    x_nan[1, 5:] = np.nan  # padding may hold anything
    a = encode(x, lengths, method, 3, seed=7)
    b = encode(x_nan, lengths, method, 3, seed=7)
    np.testing.assert_array_equal(a.spikes, b.spikes)
    np.testing.assert_array_equal(a.sample_lengths, lengths * 3)
    assert a.n_channels == n_output_channels(method, 3)
    for i, length in enumerate(a.sample_lengths):
        assert not a.spikes[i, length:].any()
    if method in ("level_crossing", "send_on_delta"):
        # Deterministic methods: a sample encodes the same alone as inside a padded batch.
        alone = encode(x[1:2, :5], None, method, 3, seed=7)
        np.testing.assert_array_equal(alone.spikes[0], a.spikes[1, :15])
    assert a.params["method"] == method and a.params["steps_per_frame"] == 3
    with pytest.raises(ValueError):
        a.spikes[0, 0, 0] = True


@pytest.mark.parametrize("method", ["rate", "population"])
def test_seed_controls_random_methods(method):
    x = np.full((3, 20, 2), 0.5)
    a = encode(x, None, method, 4, seed=1)
    np.testing.assert_array_equal(a.spikes, encode(x, None, method, 4, seed=1).spikes)
    assert not np.array_equal(a.spikes, encode(x, None, method, 4, seed=2).spikes)
    # Sample b draws from its own stream: a batch of different padding gives the same spikes.
    wider = np.concatenate([x, np.zeros((3, 5, 2))], axis=1)
    w = encode(wider, np.full(3, 20), method, 4, seed=1)
    np.testing.assert_array_equal(w.spikes[:, :80], a.spikes)


def test_n_output_channels():
    assert n_output_channels("rate", 12) == 12
    assert n_output_channels("level_crossing", 12) == 24
    assert n_output_channels("send_on_delta", 1) == 2
    assert n_output_channels("population", 12, n_per_channel=6) == 72
    with pytest.raises(DataError, match="n_input_channels"):
        n_output_channels("rate", 0)


def test_out_of_range_inputs_warn_and_clip_or_raise():
    x = np.array([[0.5, 1.4, -0.2]])
    with pytest.warns(LossyConversionWarning, match=r"2 input value\(s\) outside \[0, 1\]"):
        enc = encode(x, method="rate", steps_per_frame=50, seed=0, p_max=1.0)
    assert enc.spikes[0, 50:100].all() and not enc.spikes[0, 100:].any()  # clipped to 1 and 0
    with pytest.raises(DataError) as err:
        encode(x, method="population", strict=True)
    assert err.value.parameter == "x" and err.value.value == 1.4


@pytest.mark.parametrize("kwargs, parameter", [
    (dict(method="poisson"), "method"),
    (dict(steps_per_frame=0), "steps_per_frame"),
    (dict(steps_per_frame=1.5), "steps_per_frame"),
    (dict(seed=-1), "seed"),
    (dict(method="rate", delta=0.1), "delta"),
    (dict(method="rate", p_max=1.5), "p_max"),
    (dict(method="level_crossing", delta=0.0), "delta"),
    (dict(method="send_on_delta", initial="last"), "initial"),
    (dict(method="population", n_per_channel=1), "n_per_channel"),
    (dict(lengths=[3]), "lengths"),
    (dict(lengths=[9, 1]), "lengths"),
])
def test_bad_arguments(kwargs, parameter):
    x = np.full((2, 4, 1), 0.5)
    with pytest.raises(DataError) as err:
        encode(x, **kwargs)
    assert err.value.parameter == parameter


def test_nan_in_valid_frames_is_reported():
    x = np.full((2, 4), 0.5)
    x[1, 2] = np.nan
    with pytest.raises(DataError, match="sample 1, frame 2, channel 0") as err:
        encode(x, method="level_crossing")
    assert err.value.parameter == "x"


def test_thermometer_is_deterministic_and_counts_levels():
    from hrsnn_hw.encoding import encode, n_output_channels
    x = np.array([[[0.0, 1.0], [0.3, 0.5], [0.99, 0.1]]])  # 1 sample, 3 frames, 2 channels
    enc = encode(x, np.array([2]), "thermometer", 4, seed=0, n_per_channel=5)
    assert enc.spikes.shape == (1, 12, 10) and n_output_channels("thermometer", 2, n_per_channel=5) == 10
    first = enc.spikes[0, ::4]
    assert first[:, :5].sum(axis=1).tolist() == [0, 1, 0]  # frame 2 is padding: silent
    assert first[:, 5:].sum(axis=1).tolist() == [5, 2, 0]
    assert not enc.spikes[0, 1::4].any() and not enc.spikes[0, 2::4].any()
    again = encode(x, np.array([2]), "thermometer", 4, seed=99, n_per_channel=5)
    assert np.array_equal(enc.spikes, again.spikes)  # no randomness at all
