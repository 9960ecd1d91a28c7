"""Seed-level statistics: bootstrap intervals, paired effects, effect sizes."""
from __future__ import annotations

import numpy as np
import pytest

from hrsnn_hw.errors import DataError
from hrsnn_hw.stats import Thresholds, bootstrap_mean_ci, paired_effect, summarise


def test_bootstrap_interval_is_deterministic_and_holds_the_mean():
    x = np.random.default_rng(1).normal(2.0, 1.0, 10)
    a = bootstrap_mean_ci(x, 0.95, 999, seed=0)
    assert a == bootstrap_mean_ci(x, 0.95, 999, seed=0)
    assert a.low < x.mean() < a.high and a.method == "BCa, expanded"
    plain = bootstrap_mean_ci(x, 0.95, 999, seed=0, expand=False)
    assert a.low < plain.low and plain.high < a.high
    wider = bootstrap_mean_ci(x, 0.99, 999, seed=0)
    assert wider.low <= a.low and wider.high >= a.high


@pytest.mark.slow
@pytest.mark.parametrize("n", [5, 10])
def test_bootstrap_interval_covers_the_true_mean_near_its_level_with_few_seeds(n):
    rng = np.random.default_rng(7)
    samples = [rng.normal(0.3, 1.0, n) for _ in range(300)]
    hits = [bootstrap_mean_ci(x, 0.9, 499, seed=i).low <= 0.3 <= bootstrap_mean_ci(x, 0.9, 499, seed=i).high
            for i, x in enumerate(samples)]
    plain = [bootstrap_mean_ci(x, 0.9, 499, seed=i, expand=False) for i, x in enumerate(samples)]
    plain_hits = [ci.low <= 0.3 <= ci.high for ci in plain]
    assert 0.84 <= np.mean(hits) <= 0.96  # nominal 0.90
    assert np.mean(plain_hits) < np.mean(hits)  # the plain interval under-covers with few values


def test_constant_values_give_a_degenerate_interval():
    ci = bootstrap_mean_ci([0.5, 0.5, 0.5])
    assert (ci.low, ci.high, ci.method) == (0.5, 0.5, "degenerate")


def test_paired_effect_reports_relative_change_effect_size_and_direction():
    base = np.array([1.0, 2.0, 1.5, 1.2, 0.8, 1.1])
    treat = base * 1.1 + np.array([0.01, -0.02, 0.015, 0.0, -0.01, 0.02])
    eff = paired_effect(treat, base, metric="mc", alternative="greater", thresholds=Thresholds(n_resamples=999))
    d = treat - base
    assert eff.n == 6 and eff.mean_difference == pytest.approx(d.mean())
    assert eff.mean_relative == pytest.approx(np.mean(d / base))
    assert eff.effect_size_dz == pytest.approx(d.mean() / d.std(ddof=1))
    assert eff.ci_relative.low > 0 and eff.p_value < 0.01
    less = paired_effect(treat, base, alternative="less", thresholds=Thresholds(n_resamples=999))
    assert less.p_value > 0.99
    assert "n = 6" in eff.text()


def test_paired_effect_refuses_bad_input():
    with pytest.raises(DataError):
        paired_effect([1.0, 2.0], [1.0])
    with pytest.raises(DataError) as info:
        paired_effect([1.0, 2.0], [0.0, 1.0], metric="mc")
    assert "zero baseline" in str(info.value)
    with pytest.raises(DataError):
        paired_effect([1.0, float("nan")], [1.0, 1.0])
    with pytest.raises(DataError):
        Thresholds(confidence=1.5)


def test_summarise_skips_missing_values():
    s = summarise([1.0, None, 3.0, float("nan")])
    assert s["n"] == 2 and s["mean"] == 2.0 and s["values"] == [1.0, 3.0]
    assert summarise([])["mean"] is None
