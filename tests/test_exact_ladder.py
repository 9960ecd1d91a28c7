"""The equivalence ladder, rungs 1-3: golden vs Lava's stock neurons per profile, golden vs HeteroLIF,
int vs float.

Many small random networks (N 5..60, 20-60 steps, edge cases) run as independent blocks of
one Lava run each; every network is compared on its own, spikes, u and v at every step.
Rung 1 runs Lava's own arithmetic: stock ``LIF`` per neuron profile, and for refractory
periods stock ``LIFRefractory`` with an independently written refractory rule; the tests
also show that it catches a kernel that differs (a refractory period off by one).
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hrsnn_hw.reference import reference_design_path

from hrsnn_hw.golden import compare_exact, simulate
from hrsnn_hw.backends import simulate as simulate_on
from hrsnn_hw.golden.testing import EDGE_CASES, random_inputs, random_qnet, reference_like_qnet
from hrsnn_hw.lava_backend import neuron_profiles, run_lava
from hrsnn_hw.verify import exact_rung, exact_rung_many, float_rung

pytestmark = pytest.mark.lava

HOMOGENEOUS_EDGES = ("weight_limits", "u_wrap", "v_clip", "silent", "saturated", "empty_projection",
                     "weight_exp_range")


def _profile_pool(rng, k: int) -> np.ndarray:
    """``k`` (du, dv, vth) triples shared by a batch, with decays 0 and 4095 among them (u wraps, v clips)."""
    pool = np.stack([rng.integers(0, 4096, k), rng.integers(0, 1024, k), rng.integers(50, 1000, k)], axis=1)
    pool[0, 0], pool[1, 1], pool[2, :2] = 0, 0, 4095
    return pool


def _batch(rng, count: int, homogeneous: bool, shared: dict | None = None, pool: np.ndarray | None = None,
           refractory: tuple[int, ...] | None = None):
    """``count`` random networks with a random subset of edge cases each, inputs sharing B, T.

    ``pool``: every neuron gets one (du, dv, vth) of these triples (a few neuron profiles per batch,
    as quantization bins them); ``refractory``: every neuron gets one of these periods.
    """
    steps = int(rng.integers(20, 61))
    lengths = np.array([steps, int(rng.integers(steps // 2, steps + 1)), int(rng.integers(1, steps + 1))])
    nets, inputs, overflow = [], [], {"u_wrap": 0, "v_clip": 0}
    edge_pool = HOMOGENEOUS_EDGES if homogeneous or pool is not None else EDGE_CASES
    for k in range(count):
        edges = tuple(e for e in edge_pool if rng.random() < 0.35)
        q = random_qnet(rng, int(rng.integers(5, 61)), int(rng.integers(3, 11)),
                        homogeneous=homogeneous or pool is not None, edge_cases=edges, name=f"net{k}")
        if shared:
            q = dataclasses.replace(q, **{f: np.full(q.n_neurons, v) for f, v in shared.items()})
        if pool is not None:
            du, dv, vth = pool[rng.integers(0, len(pool), q.n_neurons)].T
            q = dataclasses.replace(q, du=du, dv=dv, vth=vth)
        if refractory is not None:
            q = dataclasses.replace(q, refractory_steps=rng.choice(refractory, q.n_neurons))
        x, _ = random_inputs(rng, 3, steps, q.n_input, ragged=False)
        ov = simulate(q, x, lengths).provenance["overflow"]
        for key in overflow:
            overflow[key] += ov[key]
        nets.append(q)
        inputs.append(x)
    return nets, inputs, lengths, overflow


def _check(results, nets):
    for q, res in zip(nets, results):
        assert res.ok, (q.name, res.as_dict())
    spiking = sum(r.n_spikes > 0 for r in results)
    assert spiking >= 0.8 * len(results), [r.n_spikes for r in results]


@pytest.mark.slow
def test_rung1_golden_equals_stock_lava_on_20_homogeneous_networks():
    rng = np.random.default_rng(100)
    # one neuron profile per Lava run: stock LIF wired straight to Dense, nothing of ours in between;
    # the groups cover decays 0 and 4095 (du = 0 lets the wrap-driver wrap u)
    groups = [{"du": 0, "dv": 4095, "vth": 300}, {"du": 4095, "dv": 0, "vth": 50},
              {"du": 700, "dv": 150, "vth": 500}, {"du": 2000, "dv": 40, "vth": 1200}]
    total, overflow = 0, {"u_wrap": 0, "v_clip": 0}
    for shared in groups:
        nets, inputs, lengths, ov = _batch(rng, 5, homogeneous=True, shared=shared)
        _check(exact_rung_many(nets, inputs, lengths, rung=1), nets)
        total += len(nets)
        overflow = {k: overflow[k] + ov[k] for k in overflow}
    assert total >= 20
    assert overflow["u_wrap"] > 0 and overflow["v_clip"] > 0  # Lava wrapped and clipped exactly like golden


@pytest.mark.slow
def test_rung1_stock_lif_per_profile_on_16_heterogeneous_networks_without_refractory():
    rng = np.random.default_rng(110)
    total, overflow = 0, {"u_wrap": 0, "v_clip": 0}
    for _ in range(2):
        pool = _profile_pool(rng, 5)
        nets, inputs, lengths, ov = _batch(rng, 8, homogeneous=False, pool=pool, refractory=(0,))
        assert max(len(neuron_profiles(q)) for q in nets) > 1
        _check(exact_rung_many(nets, inputs, lengths, rung=1), nets)
        total += len(nets)
        overflow = {k: overflow[k] + ov[k] for k in overflow}
    assert total >= 16
    assert overflow["u_wrap"] > 0 and overflow["v_clip"] > 0  # Lava wrapped and clipped exactly like golden


@pytest.mark.slow
def test_rung1_independent_refractory_model_on_16_networks_with_refractory_periods():
    rng = np.random.default_rng(120)
    total, refractory_neurons = 0, 0
    for _ in range(2):
        pool = _profile_pool(rng, 3)
        # refractory 0 runs on stock LIF, the others on LIFRefractory: both kinds in one network
        nets, inputs, lengths, _ = _batch(rng, 8, homogeneous=False, pool=pool, refractory=(0, 1, 2, 6))
        _check(exact_rung_many(nets, inputs, lengths, rung=1), nets)
        total += len(nets)
        refractory_neurons += sum(int((q.refractory_steps > 0).sum()) for q in nets)
    assert total >= 16 and refractory_neurons > 100


@pytest.mark.slow
def test_rung1_catches_a_kernel_whose_refractory_rule_differs():
    # the stock run holds each neuron for its period; a golden model one step off must diverge
    rng = np.random.default_rng(130)
    q = random_qnet(rng, 24, 5, edge_cases=("refractory",))
    q = dataclasses.replace(q, refractory_steps=np.full(q.n_neurons, 2))
    x, lengths = random_inputs(rng, 2, 60, 5, rate=0.4)
    stock = simulate_on(q, x, lengths, backend="lava-stock", record_states=True)
    assert stock.provenance["refractory_profiles"] == len(neuron_profiles(q)) > 1
    assert exact_rung(q, x, lengths, rung=1, other=stock).ok
    for wrong in (1, 3):
        golden_wrong = simulate(dataclasses.replace(q, refractory_steps=np.full(q.n_neurons, wrong)), x, lengths,
                                record_states=True)
        res = exact_rung(q, x, lengths, rung=1, golden=golden_wrong, other=stock)
        assert not res.ok and res.first_divergence.variable in ("v", "spikes")


@pytest.mark.slow
def test_rung2_golden_equals_hetero_lif_on_24_heterogeneous_networks():
    rng = np.random.default_rng(200)
    total, overflow = 0, {"u_wrap": 0, "v_clip": 0}
    for _ in range(3):
        nets, inputs, lengths, ov = _batch(rng, 8, homogeneous=False)
        _check(exact_rung_many(nets, inputs, lengths, rung=2), nets)
        total += len(nets)
        overflow = {k: overflow[k] + ov[k] for k in overflow}
    assert total >= 20
    assert overflow["u_wrap"] > 0 and overflow["v_clip"] > 0


@pytest.fixture(scope="module")
def reference_inputs():
    rng = np.random.default_rng(300)
    x, _ = random_inputs(rng, 2, 200, 24, rate=0.1)
    return x, np.array([200, 160])


@pytest.mark.slow
def test_rung2_reference_size_network(reference_inputs):
    x, lengths = reference_inputs
    q = reference_like_qnet(np.random.default_rng(301), 200, 24)
    assert np.unique(q.dv).size > 20 and q.refractory_steps.max() > 0
    res = exact_rung(q, x, lengths, rung=2)
    assert res.ok, res.as_dict()
    assert res.n_spikes > 1000 and res.n_steps_compared == 360


@pytest.fixture(scope="module")
def quantized_reference():
    from hrsnn_hw.quantize import quantize
    from hrsnn_hw.spec import load_spec
    q, _ = quantize(load_spec(reference_design_path("hrsnn"), n_input=24, seed=0), "loihi2")
    return q


@pytest.mark.slow
def test_rung2_quantized_reference_design(reference_inputs, quantized_reference):
    x, lengths = reference_inputs
    res = exact_rung(quantized_reference, x[:1], lengths[:1], rung=2)
    assert res.ok, res.as_dict()
    assert res.n_spikes > 0


@pytest.mark.slow
def test_rung1_quantized_reference_design_on_stock_neurons(reference_inputs, quantized_reference):
    # the deployed design itself: 32 neuron profiles, all with a refractory period
    q = quantized_reference
    x, lengths = reference_inputs
    assert len(neuron_profiles(q)) >= 10 and q.refractory_steps.min() > 0
    res = exact_rung(q, x, lengths, rung=1)
    assert res.ok, res.as_dict()
    assert res.n_spikes > 1000 and res.n_steps_compared == 360


def test_exact_rung_reports_first_divergence_of_a_wrong_backend():
    rng = np.random.default_rng(400)
    q = random_qnet(rng, 20, 4)
    x, lengths = random_inputs(rng, 2, 30, 4, rate=0.3)
    golden = simulate(q, x, lengths, record_states=True)
    # the "backend" ran a network whose neuron 3 has another threshold
    vth = np.array(q.vth)
    vth[3] = max(1, vth[3] // 4)
    lava = run_lava(dataclasses.replace(q, vth=vth), x, lengths, record_states=True)
    res = compare_exact(golden, lava, ("golden", "lava"), qnet=q)
    assert not res.ok
    d = res.first_divergence
    assert d.neuron == 3 and d.variable in ("v", "spikes")
    assert golden.spikes[d.sample, :d.step].tolist() == lava.spikes[d.sample, :d.step].tolist()


def test_rung3_float_twin_within_bound_and_overflow_reported():
    rng = np.random.default_rng(500)
    q = reference_like_qnet(rng, 120, 16)
    x, lengths = random_inputs(rng, 3, 100, 16, rate=0.15)
    res = float_rung(q, x, lengths)
    assert res.ok, res.reason
    assert 0 < res.max_bound_ratio <= 1 and res.max_abs_u > 0
    edge = random_qnet(rng, 30, 6, edge_cases=("u_wrap", "v_clip"))
    bad = float_rung(edge, *random_inputs(rng, 2, 40, 6))
    assert not bad.ok and "overflow" in bad.reason
