"""State features from a SpikeRecord: hand examples and cross-consistency."""
from __future__ import annotations

import math

import numpy as np
import pytest

from hrsnn_hw.errors import DataError
from hrsnn_hw.records import SpikeRecord
from hrsnn_hw.tasks.features import binned_counts, filtered_traces, final_state, frame_states


def _record(spikes, lengths):
    return SpikeRecord(spikes=np.asarray(spikes, bool), sample_lengths=np.asarray(lengths), dt=1e-3)


@pytest.fixture(scope="module")
def rec():
    rng = np.random.default_rng(2)
    s = rng.random((3, 24, 4)) < 0.3
    lengths = np.array([24, 12, 18])
    for b, length in enumerate(lengths):
        s[b, length:] = False
    return _record(s, lengths)


def test_binned_counts_hand_example():
    s = np.zeros((1, 8, 2), bool)
    s[0, [0, 1, 5], 0] = True
    s[0, 6, 1] = True
    r = _record(s, [7])  # 7 valid steps, 2 bins -> edges 0, 4 (round(3.5) = 4), 7
    f = binned_counts(r, 2)
    np.testing.assert_allclose(f, [[2 / 4, 0 / 4, 1 / 3, 1 / 3]])  # bin-major layout


def test_binned_counts_short_sample_and_validation():
    r = _record(np.ones((1, 5, 1), bool), [2])
    f = binned_counts(r, 4)  # more bins than steps: empty bins are 0, not NaN
    assert np.all(np.isfinite(f)) and f.sum() == pytest.approx(2.0)
    with pytest.raises(DataError) as err:
        binned_counts(r, 0)
    assert err.value.parameter == "n_bins"
    with pytest.raises(DataError, match="SpikeRecord"):
        binned_counts(np.ones((1, 5, 1)), 2)


def test_filtered_traces_matches_recursion(rec):
    tau = 4.0
    tr = filtered_traces(rec, tau)
    decay = math.exp(-1 / tau)
    for b in range(rec.n_samples):
        x = np.zeros(rec.n_neurons)
        for t in range(rec.n_steps):
            x = decay * x + rec.spikes[b, t]
            expected = x if t < rec.sample_lengths[b] else 0.0
            np.testing.assert_allclose(tr[b, t], expected, rtol=1e-12, atol=1e-15)


def test_final_state_is_last_valid_trace_plus_rate(rec):
    tr = filtered_traces(rec, 5.0)
    fs = final_state(rec, 5.0)
    n = rec.n_neurons
    for b, length in enumerate(rec.sample_lengths):
        np.testing.assert_allclose(fs[b, :n], tr[b, length - 1], rtol=1e-12)
        np.testing.assert_allclose(fs[b, n:], rec.spikes[b, :length].sum(0) / length)
    empty = final_state(_record(np.zeros((1, 4, 2), bool), [0]), 5.0)
    assert not empty.any()


def test_frame_states_sample_traces_at_frame_ends(rec):
    fr = frame_states(rec, 6, 3.0)
    tr = filtered_traces(rec, 3.0)
    assert fr.shape == (3, 4, 4)
    np.testing.assert_allclose(fr, tr[:, 5::6], rtol=1e-12, atol=1e-14)
    assert not fr[1, 2:].any()  # frames past the 12 valid steps are zero
    with pytest.raises(DataError, match="whole number of frames"):
        frame_states(rec, 5, 3.0)
    with pytest.raises(DataError) as err:
        frame_states(rec, 6, 0.0)
    assert err.value.parameter == "tau_steps"


def test_features_are_deterministic(rec):
    a = (binned_counts(rec, 3), final_state(rec, 7.0), frame_states(rec, 4, 7.0))
    b = (binned_counts(rec, 3), final_state(rec, 7.0), frame_states(rec, 4, 7.0))
    for x, y in zip(a, b):
        assert np.array_equal(x, y)


def test_frame_states_of_one_long_sample_is_chunked_bit_identically_and_in_bounded_memory():
    """One MC drive is one long sample: its states must not cost 8x its raster as float64."""
    import tracemalloc

    from scipy.signal import lfilter

    from hrsnn_hw.tasks import features as F
    rng = np.random.default_rng(0)
    n_steps, n = 40_000, 500                    # 20 MB raster; as float64 it would be 160 MB
    spikes = rng.random((1, n_steps, n)) < 0.05
    rec = SpikeRecord(spikes=spikes, sample_lengths=np.array([n_steps]), dt=1e-3)
    tracemalloc.start()
    states = F.frame_states(rec, 5, 5.0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 3 * states.nbytes + 40e6      # output, the frame contributions, one block
    decay = np.exp(-1.0 / 5.0)
    whole = lfilter([1.0], [1.0, -decay ** 5],
                    np.einsum("bfkn,k->bfn", spikes.reshape(1, -1, 5, n).astype(np.float64),
                              decay ** np.arange(4, -1, -1)), axis=1)
    assert np.array_equal(states, whole)
