"""Heterogeneous pair STDP in the Brian2 reference simulator against the analytic trace formula.

Documented discretisation (hrsnn_hw/refsim/build.py): for one pre spike at step t_pre and
one post spike at step t_post, Delta = (t_post - t_pre) * dt; Delta >= 0 gives
``+eta_plus * exp(-Delta / tau_plus)`` (a simultaneous pair potentiates by eta_plus),
Delta < 0 gives ``-eta_minus * exp(Delta / tau_minus)``; w is then clipped to [0, w_max].
"""
from __future__ import annotations

import numpy as np
import pytest

from hrsnn_hw.refsim import train
from hrsnn_hw.spec import build_spec

pytestmark = [pytest.mark.brian2, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

DT = 0.001
W_MAX = 0.004


def pair_network(w0, eta_plus, eta_minus, tau_plus, tau_minus):
    """Pre neurons 0..k-1 -> post neuron k, each forced to fire by its own input channel.

    tau_syn and tau_m are so short that a spike of input channel c at step s makes neuron c
    fire at step s + 1 and nowhere else (0.05 V > v_th), while one recurrent weight
    (<= w_max < v_th) never makes the post neuron fire by itself.
    """
    k = len(w0)
    neuron = {"n": k + 1, "excitatory": True, "tau_m": 1e-6, "tau_syn": 1e-6, "v_th": 0.01,
              "refractory": 0.0, "bias": 0.0}
    design = {"format": "hrsnn_hw.spec", "version": 1, "name": "stdp_pairs", "seed": 0, "dt": DT,
              "n_input": k + 1, "populations": {"exc": neuron},
              "projections": {
                  "input->exc": {"p": 1.0, "synapses": {"pre": list(range(k + 1)), "post": list(range(k + 1)),
                                                        "weight": [0.05] * (k + 1)}},
                  "exc->exc": {"p": 1.0, "synapses": {"pre": list(range(k)), "post": [k] * k,
                                                      "weight": list(w0)}}},
              "stdp": {"exc->exc": {"eta_plus": list(eta_plus), "eta_minus": list(eta_minus),
                                    "tau_plus": list(tau_plus), "tau_minus": list(tau_minus),
                                    "w_max": W_MAX}}}
    return build_spec(design)


def run_pairs(spec, fire_steps: dict[int, list[int]], n_steps: int = 60):
    """Train one epoch on one sample in which neuron c fires at the given steps."""
    x = np.zeros((1, n_steps, spec.n_input), dtype=bool)
    for neuron, steps in fire_steps.items():
        x[0, np.asarray(steps) - 1, neuron] = True  # input one step before the spike
    tn = train(spec, x, epochs=1, shuffle=False)
    per_epoch = tn.training["per_epoch"][0]
    assert per_epoch["spikes"] == sum(len(s) for s in fire_steps.values())  # only forced spikes
    return tn.spec.projection("exc->exc").weight


def test_pair_changes_match_the_trace_formula_per_synapse():
    eta_p = [1.0e-4, 2.0e-4, 1.5e-4, 0.7e-4, 1.2e-4]
    eta_m = [1.3e-4, 0.9e-4, 1.1e-4, 2.0e-4, 1.0e-4]
    tau_p = [0.020, 0.011, 0.030, 0.007, 0.015]
    tau_m = [0.025, 0.016, 0.009, 0.040, 0.012]
    w0 = np.array([0.002, 0.0021, 0.0019, 0.0022, 0.002])
    spec = pair_network(w0, eta_p, eta_m, tau_p, tau_m)
    post = 20
    # syn 0: pre 7 steps before post; syn 1: pre 8 steps after; syn 2: simultaneous;
    # syn 3: before and after (both terms add); syn 4: never fires (no change).
    w = run_pairs(spec, {0: [13], 1: [28], 2: [20], 3: [16, 31], 5: [post]})
    expected = np.array([
        eta_p[0] * np.exp(-7 * DT / tau_p[0]),
        -eta_m[1] * np.exp(-8 * DT / tau_m[1]),
        eta_p[2],
        eta_p[3] * np.exp(-4 * DT / tau_p[3]) - eta_m[3] * np.exp(-11 * DT / tau_m[3]),
        0.0,
    ])
    change = w - w0
    np.testing.assert_allclose(change[:4], expected[:4], rtol=1e-9, atol=0)
    assert change[4] == 0.0
    assert change[0] > 0 and change[1] < 0 and change[2] > 0


@pytest.mark.slow
def test_trace_sums_over_earlier_pre_spikes_and_post_spikes():
    # Two pre spikes then one post spike: x = exp(-d1/tau) + exp(-d2/tau) at the post spike.
    spec = pair_network([0.001], [1e-4], [1e-4], [0.02], [0.02])
    w = run_pairs(spec, {0: [10, 14], 1: [19]})
    np.testing.assert_allclose(w[0] - 0.001, 1e-4 * (np.exp(-9 * DT / 0.02) + np.exp(-5 * DT / 0.02)),
                               rtol=1e-9)
    # Two post spikes then one pre spike: depression by the summed post trace.
    spec = pair_network([0.003], [1e-4], [1e-4], [0.02], [0.03])
    w = run_pairs(spec, {1: [10, 12], 0: [15]})
    np.testing.assert_allclose(0.003 - w[0], 1e-4 * (np.exp(-5 * DT / 0.03) + np.exp(-3 * DT / 0.03)),
                               rtol=1e-9)


def test_weights_are_clipped_to_zero_and_w_max():
    spec = pair_network([W_MAX - 1e-4, 1e-4, 0.002], [1e-3, 1e-4, 1e-4], [1e-4, 1e-3, 1e-4],
                        [0.02, 0.02, 0.02], [0.02, 0.02, 0.02])
    # syn 0 potentiated past w_max, syn 1 depressed past 0, syn 2 ordinary.
    w = run_pairs(spec, {0: [10], 1: [25], 3: [15]})
    assert w[0] == W_MAX and w[1] == 0.0
    assert 0.0 < w[2] == 0.002


def _het_design(balance=None):
    from hrsnn_hw.spec import read_spec_file
    design = read_spec_file("hrsnn")
    rule = design["stdp"]["exc->exc"]
    rule["eta_plus"] = {"dist": "gamma", "mean": 1e-5, "cv": 0.5}
    rule["eta_minus"] = {"dist": "gamma", "mean": 1.2e-5, "cv": 0.5}
    rule["tau_plus"] = {"dist": "gamma", "mean": 0.02, "cv": 0.5, "min": 0.002}
    rule["tau_minus"] = {"dist": "gamma", "mean": 0.03, "cv": 0.5, "min": 0.002}
    if balance is not None:
        rule["balance"] = balance
    return design


def test_balanced_heterogeneous_stdp_keeps_each_synapse_integrals():
    # Default: eta_ij = eta_hom * tau_hom / tau_ij, so each synapse's LTP integral eta+ * tau+
    # and LTD integral eta- * tau- equal the homogeneous ones; only the window's shape varies.
    rule = build_spec(_het_design(), seed=3).stdp_rule("exc->exc")
    np.testing.assert_allclose(rule.eta_plus * rule.tau_plus, 1e-5 * 0.02, rtol=1e-12)
    np.testing.assert_allclose(rule.eta_minus * rule.tau_minus, 1.2e-5 * 0.03, rtol=1e-12)
    assert np.std(rule.tau_plus) > 0.2 * 0.02  # the shapes are heterogeneous
    # LTD/LTP balance the same at every synapse: none is net-potentiating by its draw.
    ratio = (rule.eta_minus * rule.tau_minus) / (rule.eta_plus * rule.tau_plus)
    np.testing.assert_allclose(ratio, 1.2 * 0.03 / 0.02, rtol=1e-12)
    # The independent draw stays available: then the balance varies across synapses.
    free = build_spec(_het_design("independent"), seed=3).stdp_rule("exc->exc")
    free_ratio = (free.eta_minus * free.tau_minus) / (free.eta_plus * free.tau_plus)
    assert np.mean(free_ratio < 1.0) > 0.1
    np.testing.assert_array_equal(free.tau_plus, rule.tau_plus)  # same tau streams either way
    from hrsnn_hw.errors import SpecError
    with pytest.raises(SpecError) as err:
        build_spec(_het_design("both"))
    assert err.value.parameter == "stdp.exc->exc.balance"


def test_shuffled_weights_keep_the_values_and_lose_the_assignment():
    from hrsnn_hw.spec import shuffle_weights
    spec = build_spec(_het_design(), seed=0)
    shuffled = shuffle_weights(spec, seed=5)
    before, after = spec.projection("exc->exc"), shuffled.projection("exc->exc")
    assert np.array_equal(before.pre_index, after.pre_index) and np.array_equal(before.post_index, after.post_index)
    assert np.array_equal(np.sort(before.weight), np.sort(after.weight))
    assert np.mean(before.weight != after.weight) > 0.9
    for proj in spec.projections:  # only the plastic projection is touched by default
        if proj.name != "exc->exc":
            assert np.array_equal(proj.weight, shuffled.projection(proj.name).weight)
    assert np.array_equal(after.weight, shuffle_weights(spec, seed=5).projection("exc->exc").weight)
    assert not np.array_equal(after.weight, shuffle_weights(spec, seed=6).projection("exc->exc").weight)
