"""Metrics: NRMSE, accuracy, spiking activity and the spike-efficiency policy."""
from __future__ import annotations

import math

import numpy as np
import pytest

from hrsnn_hw.errors import DataError
from hrsnn_hw.records import SpikeRecord
from hrsnn_hw.tasks.metrics import (accuracy, nrmse, spike_efficiency, spikes_per_inference,
                                    spiking_activity)


def test_nrmse_reference_values():
    y = np.sin(np.linspace(0, 20, 500))
    assert nrmse(y, y) == 0.0
    assert nrmse(y, np.full_like(y, y.mean())) == pytest.approx(1.0)
    assert nrmse(y, y + 0.1 * y.std()) == pytest.approx(0.1)
    two = np.stack([y, 10 * y], axis=1)
    pred = two + np.array([0.2 * y.std(), 0.0])
    np.testing.assert_allclose(nrmse(two, pred, per_channel=True), [0.2, 0.0], atol=1e-12)
    assert nrmse(two[None], pred[None]) == pytest.approx(0.1)  # (n, T, C) pools n and T


def test_nrmse_errors():
    with pytest.raises(DataError, match="constant target"):
        nrmse(np.ones(5), np.zeros(5))
    with pytest.raises(DataError, match="shapes differ"):
        nrmse(np.arange(5.0), np.arange(4.0))
    with pytest.raises(DataError, match="non-finite"):
        nrmse(np.arange(5.0), np.array([0, 1, np.nan, 3, 4]))


def test_accuracy():
    assert accuracy(np.array([0, 1, 2, 2]), np.array([0, 1, 1, 2])) == 0.75
    with pytest.raises(DataError):
        accuracy(np.array([0, 1]), np.array([0]))


def test_activity_and_spikes_per_inference():
    s = np.zeros((2, 10, 4), bool)
    s[0, :5, 0] = True  # 5 spikes in sample 0 (length 5)
    s[1, [0, 9], 1:3] = True  # 4 spikes in sample 1 (length 10)
    r = SpikeRecord(s, np.array([5, 10]), 1e-3)
    assert spiking_activity(r) == pytest.approx(9 / (15 * 4))
    assert spikes_per_inference(r) == pytest.approx(4.5)


def test_spike_efficiency_policy():
    assert spike_efficiency(12.0, 0.04) == pytest.approx(300.0)
    assert spike_efficiency(0.0, 0.5) == 0.0
    with pytest.raises(DataError, match="silent network") as err:
        spike_efficiency(3.0, 0.0)
    assert err.value.parameter == "activity"
    assert math.isnan(spike_efficiency(3.0, 0.0, on_zero="nan"))  # never inf
    for mc, act in ((-1.0, 0.1), (1.0, -0.1), (float("inf"), 0.1), (1.0, float("nan"))):
        with pytest.raises(DataError):
            spike_efficiency(mc, act)
    with pytest.raises(DataError, match="policy"):
        spike_efficiency(1.0, 0.0, on_zero="inf")
