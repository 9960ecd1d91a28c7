"""Golden model (no Lava or Brian2): arithmetic rules, validation, simulation semantics, float twin."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hrsnn_hw.errors import DataError, QuantizationError, VerificationError
from hrsnn_hw.fixedpoint import NumberFormat
from hrsnn_hw.golden import (SynapseSet, check_network, compare_exact, compare_int_float, group_projections,
                             lif_step, lif_step_float, neuron_params, simulate, simulate_float)
from hrsnn_hw.golden.kernel import decay
from hrsnn_hw.golden.testing import (EDGE_CASES, default_format, random_inputs, random_qnet,
                                     reference_like_qnet, split_record, stack_inputs, stack_networks)
from hrsnn_hw.fixedpoint import QuantizedNetwork, QuantizedProjection
from hrsnn_hw.records import SpikeRecord

FMT = default_format()
M = FMT.wrap_limit


def _lava_step_scalar(u, v, cnt, a_in, du, dv, vth, bias_mant, bias_exp, refr):
    """One neuron, Python ints, transcribed line by line from Lava 0.10 AbstractPyLifModelFixed
    (plus the project's refractory rule) -- an implementation independent of the kernel."""
    bias = bias_mant << bias_exp if bias_exp >= 0 else bias_mant >> -bias_exp
    prod = u * (4096 - (du + 1))
    dec = (1 if prod > 0 else -1 if prod < 0 else 0) * (abs(prod) >> 12)
    x = dec + (a_in << 6)
    wrapped = x - 2 * M if x > M else x
    wrapped = x + 2 * M if wrapped <= -M else wrapped
    u = wrapped
    if cnt > 0:
        return u, 0, cnt - 1, False
    prod = v * (4096 - dv)
    dec = (1 if prod > 0 else -1 if prod < 0 else 0) * (abs(prod) >> 12)
    v = min(max(dec + u + bias, -(M - 1)), M - 1)
    if v > (vth << 6):
        return u, 0, refr, True
    return u, v, 0, False


def test_decay_rounds_toward_zero_like_lava():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.integers(-M, M + 1, 20000), [-M, M, -1, 1, 0, 4095, -4095, -4097]])
    m = np.concatenate([rng.integers(0, 4097, 20000), [4096, 4096, 4095, 4095, 7, 1, 1, 1]])
    prod = x * m
    expected = np.sign(prod) * (np.abs(prod) >> 12)
    np.testing.assert_array_equal(decay(x, m, 12), expected)
    # truncation, not floor: -1 * 4095 >> 12 is 0, not -1
    assert decay(np.array([-1]), np.array([4095]), 12)[0] == 0


def test_lif_step_matches_scalar_transcription_including_wrap_clip_refractory():
    rng = np.random.default_rng(1)
    n = 4000
    du = rng.choice([0, 1, 2047, 4094, 4095], n)
    dv = rng.choice([0, 1, 2048, 4095], n)
    vth = rng.choice([0, 5, 1000, (1 << 17) - 1], n)
    bias_mant = rng.integers(-4096, 4096, n)
    bias_exp = rng.integers(0, 8, n)
    refr = rng.integers(0, 4, n)
    u = rng.choice([0, 1, -1, M, M - 1, -M + 1, 12345, -98765], n) + 0
    v = rng.choice([0, -(M - 1), M - 1, 4000, -4000], n) + 0
    cnt = rng.integers(0, 3, n)
    a_in = rng.choice([0, 1, -1, 2**17 - 1, -(2**17), 255 * 128, -256 * 128, 77], n)
    p = neuron_params(du, dv, vth, bias_mant, bias_exp, refr, FMT)
    r = lif_step(u, v, cnt, a_in, p)
    for i in range(n):
        exp = _lava_step_scalar(int(u[i]), int(v[i]), int(cnt[i]), int(a_in[i]), int(du[i]), int(dv[i]),
                                int(vth[i]), int(bias_mant[i]), int(bias_exp[i]), int(refr[i]))
        got = (int(r.u[i]), int(r.v[i]), int(r.refractory[i]), bool(r.spikes[i]))
        assert got == exp, (i, got, exp)
    assert r.u_wrapped.any() and r.v_clipped.any() and r.spikes.any()
    assert not r.u_input_overflow.any()


def test_wrap_and_clip_boundaries():
    p = neuron_params([4095], [0], [(1 << 17) - 1], [0], [0], [0], FMT)
    zero = np.zeros(1, np.int64)
    # du = 4095: u decays to 0, so u_new = a_in << 6 exactly
    for a_in, expected in ((M >> 6, M), ((M >> 6) + 1, -M + 64), (-(M >> 6), M), (-(M >> 6) + 1, -M + 64)):
        r = lif_step(zero, zero, zero, np.array([a_in]), p)
        assert r.u[0] == expected
        assert r.u_wrapped[0] == (expected != a_in << 6)
    # v clips to +-(2**23 - 1); dv = 0 keeps v
    # (the largest threshold, (2**17 - 1) << 6, lies below the clip level: a clipped-high v spikes)
    r = lif_step(zero, np.array([M - 10]), zero, np.array([1]), p)
    assert r.v_clipped[0] and r.spikes[0] and r.v[0] == 0
    r = lif_step(zero, np.array([-(M - 10)]), zero, np.array([-1]), p)
    assert r.v[0] == -(M - 1) and r.v_clipped[0] and not r.spikes[0]


def test_refractory_counter_holds_v_and_suppresses_spikes():
    # saturated neuron: huge bias, threshold 0, refractory 3 -> spikes every 4th step
    q = random_qnet(np.random.default_rng(2), 6, 0, edge_cases=(), mixed_projection=False)
    q = dataclasses.replace(q, vth=np.zeros(6), bias_mant=np.full(6, 100), bias_exp=np.zeros(6),
                            refractory_steps=np.array([0, 1, 2, 3, 0, 5]), projections=())
    rec = simulate(q, np.zeros((1, 24, 0), bool), record_states=True)
    for i, r in enumerate(q.refractory_steps):
        expected = np.zeros(24, bool)
        expected[::r + 1] = True
        np.testing.assert_array_equal(rec.spikes[0, :, i], expected)
        assert (rec.v[0, :, i] == 0).all()


def test_weight_exp_is_an_arithmetic_shift_of_the_sum():
    g = group_projections([QuantizedProjection.from_dense("p", "recurrent", np.array([[-3, 0], [3, 0], [-1, -1]]),
                                                          -1, 8, "mixed")])[0]
    op = SynapseSet([g], 3, 2)
    s = np.array([[True, True], [True, True]])
    # floor(-3/2) = -2, floor(3/2) = 1, floor(-2/2) = -1 (one shift of the row sum)
    np.testing.assert_array_equal(op.accumulate(s[:1])[0], [-2, 1, -1])
    np.testing.assert_array_equal(op.accumulate(s)[1], [-2, 1, -1])


def test_merging_projections_changes_nothing():
    rng = np.random.default_rng(3)
    q = random_qnet(rng, 40, 7, edge_cases=("weight_exp_range",))
    n = q.n_neurons
    s = rng.random((9, n)) < 0.3
    x = rng.random((9, q.n_input)) < 0.3
    for source, spikes, width in (("recurrent", s, n), ("input", x, q.n_input)):
        separate = np.zeros((9, n), np.int64)
        for g in group_projections(q.projections, merge=False):
            if g.source == source:
                separate += SynapseSet([g], n, width).accumulate(spikes)
        merged = np.zeros((9, n), np.int64)
        for g in group_projections(q.projections, merge=True):
            if g.source == source:
                merged += SynapseSet([g], n, width).accumulate(spikes)
        np.testing.assert_array_equal(separate, merged)


# ---------------------------------------------------------------- validation

def _with_projection(q: QuantizedNetwork, **change) -> QuantizedNetwork:
    old = q.projections[0]
    fields = {"name": old.name, "source": old.source, "w_post_pre": old.dense(), "weight_exp": old.weight_exp,
              "num_weight_bits": old.num_weight_bits, "sign_mode": old.sign_mode, **change}
    proj = QuantizedProjection.from_dense(**fields)
    return dataclasses.replace(q, projections=(proj,) + q.projections[1:])


@pytest.fixture(scope="module")
def small_net() -> QuantizedNetwork:
    return random_qnet(np.random.default_rng(4), 12, 4)


def test_check_network_names_projection_index_and_value(small_net):
    w = np.zeros_like(small_net.projections[0].w_post_pre)
    w[3, 2] = 131  # odd weight in a mixed projection: Lava would drop the lowest bit
    bad = _with_projection(small_net, w_post_pre=w, sign_mode="mixed", num_weight_bits=8)
    with pytest.raises(QuantizationError) as info:
        check_network(bad, FMT)
    msg = str(info.value)
    assert "input->all" in msg and "[3,2]" in msg and "131" in msg and "130" in msg
    w[3, 2] = -3
    with pytest.raises(QuantizationError, match="outside the excitatory range"):
        check_network(_with_projection(small_net, w_post_pre=w, sign_mode="excitatory"), FMT)
    w[3, 2] = 256
    with pytest.raises(QuantizationError, match=r"\[-256, 255\]"):
        check_network(_with_projection(small_net, w_post_pre=w, sign_mode="mixed"), FMT)
    w[3, 2] = 12
    with pytest.raises(QuantizationError, match="multiple of 2\\*\\*3"):
        check_network(_with_projection(small_net, w_post_pre=w, sign_mode="excitatory", num_weight_bits=5), FMT)
    with pytest.raises(QuantizationError, match="weight_exp"):
        check_network(_with_projection(small_net, weight_exp=8), FMT)


@pytest.mark.parametrize("field,value", [("du", 4096), ("dv", -1), ("vth", 1 << 17), ("bias_mant", 4096),
                                         ("bias_exp", 8), ("refractory_steps", 64)])
def test_check_network_rejects_out_of_range_neuron_constants(small_net, field, value):
    arr = np.array(getattr(small_net, field))
    arr[5] = value
    with pytest.raises(QuantizationError) as info:
        simulate(dataclasses.replace(small_net, **{field: arr}), np.zeros((1, 3, 4), bool))
    assert info.value.parameter == field and info.value.index == 5 and info.value.value == value


def test_number_format_is_typed_and_used(small_net):
    assert small_net.number_format == FMT and FMT.profile == "loihi2"
    with pytest.raises(TypeError, match="NumberFormat"):
        dataclasses.replace(small_net, number_format={"state_bits": 24})
    # the simulator runs in the network's own format: a 16-bit state wraps u where 24 bits do not
    narrow = dataclasses.replace(small_net, number_format=dataclasses.replace(FMT, state_bits=16))
    q = random_qnet(np.random.default_rng(40), 20, 4, edge_cases=("u_wrap",))
    x, lengths = random_inputs(np.random.default_rng(41), 2, 30, 4, rate=0.5)
    wide = simulate(q, x, lengths).provenance["overflow"]["u_wrap"]
    small = simulate(dataclasses.replace(q, number_format=dataclasses.replace(FMT, state_bits=16)), x,
                     lengths).provenance["overflow"]["u_wrap"]
    assert small > wide and narrow.number_format.wrap_limit == 1 << 15
    with pytest.raises(QuantizationError, match="width"):
        dataclasses.replace(FMT, state_bits=0)


def test_input_validation(small_net):
    with pytest.raises(DataError, match="input_spikes"):
        simulate(small_net, np.zeros((2, 5, 3), bool))
    with pytest.raises(DataError, match="sample length"):
        simulate(small_net, np.zeros((2, 5, 4), bool), np.array([5, 6]))
    with pytest.raises(DataError, match="boolean"):
        simulate(small_net, np.full((1, 5, 4), 0.5))


# ---------------------------------------------------------------- simulation semantics

@pytest.fixture(scope="module")
def edge_net() -> QuantizedNetwork:
    return random_qnet(np.random.default_rng(5), 50, 8, edge_cases=EDGE_CASES)


def test_edge_case_network_exercises_what_it_claims(edge_net):
    x, lengths = random_inputs(np.random.default_rng(6), 4, 60, 8)
    rec = simulate(edge_net, x, lengths, record_states=True)
    ov = rec.provenance["overflow"]
    assert ov["u_wrap"] > 0 and ov["v_clip"] > 0 and ov["u_input_overflow"] == 0
    counts = rec.spike_counts().sum(axis=0)
    assert (counts == 0).any() and (counts > 0).sum() > 10
    assert (rec.v == -(M - 1)).any()
    assert any(not p.w_post_pre.any() for p in edge_net.projections)
    weights = np.concatenate([p.w_post_pre.ravel() for p in edge_net.projections])
    assert weights.max() in (254, 255) and weights.min() in (-256, -255)
    exps = {p.weight_exp for p in edge_net.projections}
    assert FMT.weight_exp_max in exps
    assert edge_net.refractory_steps.max() > 0 and (edge_net.refractory_steps == 0).any()
    assert {0, 4095} <= set(edge_net.du.tolist()) | set(edge_net.dv.tolist())


def test_simulation_is_deterministic_and_batch_invariant(edge_net):
    x, lengths = random_inputs(np.random.default_rng(7), 6, 50, 8)
    a = simulate(edge_net, x, lengths, record_states=True)
    b = simulate(edge_net, x, lengths, record_states=True)
    for k in ("spikes", "u", "v"):
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k))
    assert a.provenance == b.provenance
    one = simulate(edge_net, x, lengths, record_states=True, batch_size=1)
    perm = np.random.default_rng(8).permutation(6)
    shuffled = simulate(edge_net, x[perm], lengths[perm], record_states=True, batch_size=4)
    for k in ("spikes", "u", "v"):
        np.testing.assert_array_equal(getattr(one, k), getattr(a, k))
        np.testing.assert_array_equal(getattr(shuffled, k), getattr(a, k)[perm])


def test_padding_is_silent_and_has_no_effect(edge_net):
    rng = np.random.default_rng(9)
    x, _ = random_inputs(rng, 3, 40, 8, rate=0.4)
    lengths = np.array([40, 17, 0])
    rec = simulate(edge_net, x, lengths, record_states=True)
    for b, length in enumerate(lengths):
        assert not rec.spikes[b, length:].any()
        assert not rec.u[b, length:].any() and not rec.v[b, length:].any()
    # garbage in the padding changes nothing; the sample alone (truncated) gives the same result
    noisy = x.copy()
    noisy[1, 17:] = True
    again = simulate(edge_net, noisy, lengths, record_states=True)
    np.testing.assert_array_equal(again.spikes, rec.spikes)
    np.testing.assert_array_equal(again.v, rec.v)
    assert again.provenance["overflow"] == rec.provenance["overflow"]
    alone = simulate(edge_net, x[1:2, :17], record_states=True)
    np.testing.assert_array_equal(alone.spikes[0], rec.spikes[1, :17])
    np.testing.assert_array_equal(alone.u[0], rec.u[1, :17])
    assert rec.spikes[1].any()


def test_input_spike_reaches_u_one_step_later():
    q = QuantizedNetwork(name="delay", dt=1e-3, n_input=1, du=[4095], dv=[4095], vth=[(1 << 17) - 1],
                         bias_mant=[0], bias_exp=[0], refractory_steps=[0], excitatory=[True],
                         projections=(QuantizedProjection.from_dense("in", "input", [[10]], 0, 8, "excitatory"),),
                         number_format=FMT)
    x = np.zeros((1, 5, 1), bool)
    x[0, 1, 0] = True
    rec = simulate(q, x, record_states=True)
    np.testing.assert_array_equal(rec.u[0, :, 0], [0, 0, 10 << 6, 0, 0])


def test_network_without_inputs_or_synapses():
    q = random_qnet(np.random.default_rng(10), 8, 0, edge_cases=("empty_projection", "saturated"))
    rec = simulate(q, np.zeros((2, 10, 0), bool), np.array([10, 4]))
    assert rec.spikes.any() and rec.provenance["backend"] == "golden" and rec.provenance["fidelity"] == "fixed"


def test_stack_networks_computes_each_part_alone():
    rng = np.random.default_rng(11)
    nets = [random_qnet(rng, n, k, edge_cases=EDGE_CASES[:4]) for n, k in ((7, 3), (12, 5), (5, 1))]
    inputs = [random_inputs(rng, 3, 30, q.n_input, ragged=False)[0] for q in nets]
    lengths = np.array([30, 22, 9])
    stacked = simulate(stack_networks(nets), stack_inputs(inputs), lengths, record_states=True)
    for q, x, part in zip(nets, inputs, split_record(stacked, [q.n_neurons for q in nets])):
        alone = simulate(q, x, lengths, record_states=True)
        assert compare_exact(alone, part).ok


# ---------------------------------------------------------------- comparisons

def test_compare_exact_reports_first_divergence(edge_net):
    x, lengths = random_inputs(np.random.default_rng(12), 3, 30, 8)
    a = simulate(edge_net, x, lengths, record_states=True)
    ok = compare_exact(a, a, ("x", "y"), qnet=edge_net)
    assert ok.ok and ok.n_spikes > 0 and ok.n_steps_compared == lengths.sum()
    v = a.v.copy()
    v[2, 7, 45] += 1
    v[1, 9, 3] += 1
    spikes = a.spikes.copy()
    spikes[0, 7, 46] = ~spikes[0, 7, 46]
    b = dataclasses.replace(a, v=v, spikes=spikes)
    res = compare_exact(a, b, ("x", "y"), qnet=edge_net)
    d = res.first_divergence
    assert not res.ok and (d.step, d.sample, d.variable, d.neuron) == (7, 0, "spikes", 46)
    assert d.population == ("exc" if edge_net.excitatory[46] else "inh")
    assert res.n_mismatches == {"u": 0, "v": 2, "spikes": 1}
    with pytest.raises(VerificationError, match="step 7, sample 0, neuron 46"):
        res.raise_if_failed()
    # a difference inside the padding is not a divergence
    short = int(np.argmin(lengths))
    assert lengths[short] < 30
    v2 = a.v.copy()
    v2[short, lengths[short]:, :] = 99
    assert compare_exact(a, dataclasses.replace(a, v=v2)).ok


def test_float_twin_within_derived_bound_without_overflow():
    rng = np.random.default_rng(13)
    q = reference_like_qnet(rng, 60, 10)
    x, lengths = random_inputs(rng, 4, 80, 10, rate=0.2)
    rec_int = simulate(q, x, lengths, record_states=True)
    rec_float = simulate_float(q, x, lengths, record_states=True)
    assert rec_float.provenance["fidelity"] == "float" and rec_float.v.dtype == np.float64
    cmp = compare_int_float(q, rec_int, rec_float)
    assert cmp.ok, cmp.reason
    assert cmp.steps_compared > 0 and 0 < cmp.max_abs_v and cmp.max_bound_ratio <= 1.0
    assert cmp.max_abs_u > 0  # negative weight exponent -> floored sums -> real rounding error


def test_float_twin_reports_overflow_as_failure(edge_net):
    x, lengths = random_inputs(np.random.default_rng(14), 2, 40, 8)
    cmp = compare_int_float(edge_net, simulate(edge_net, x, lengths, record_states=True),
                            simulate_float(edge_net, x, lengths, record_states=True))
    assert not cmp.ok and "overflow" in cmp.reason and cmp.overflow["u_wrap"] > 0


@pytest.mark.slow
def test_lif_step_float_is_the_same_update_without_rounding():
    p = neuron_params([1023], [511], [1000], [3], [2], [1], FMT)
    r = lif_step_float(np.array([1000.0]), np.array([-50.0]), np.array([0]), np.array([2.5]), p)
    u = 1000.0 * (4096 - 1024) / 4096 + 2.5 * 64
    v = -50.0 * (4096 - 511) / 4096 + u + 12
    assert r.u[0] == pytest.approx(u, abs=1e-12) and r.v[0] == pytest.approx(v, abs=1e-12)
    assert not r.spikes[0]


def test_record_roundtrip(tmp_path, small_net):
    x, lengths = random_inputs(np.random.default_rng(15), 2, 12, 4)
    rec = simulate(small_net, x, lengths, record_states=True)
    rec.save(tmp_path / "r.npz")
    back = SpikeRecord.load(tmp_path / "r.npz")
    assert compare_exact(rec, back).ok and back.provenance["overflow"] == rec.provenance["overflow"]


def test_fixed_format_from_profile_is_lava_default():
    fmt = NumberFormat.from_profile(__import__("hrsnn_hw.profiles", fromlist=["x"]).load_profile("loihi2"))
    assert (fmt.state_bits, fmt.decay_bits, fmt.u_shift, fmt.vth_shift) == (24, 12, 6, 6)


def test_saturating_twin_isolates_rounding_when_v_clips():
    rng = np.random.default_rng(21)
    q = random_qnet(rng, 30, 6, edge_cases=("v_clip",))
    x, lengths = random_inputs(rng, 3, 60, 6, rate=0.3)
    rec_int = simulate(q, x, lengths, record_states=True)
    assert rec_int.provenance["overflow"]["v_clip"] > 0 and rec_int.provenance["overflow"]["u_wrap"] == 0
    strict = compare_int_float(q, rec_int, simulate_float(q, x, lengths, record_states=True))
    assert not strict.ok and "v_clip" in strict.reason
    twin = simulate_float(q, x, lengths, record_states=True, saturate_v=True)
    assert twin.v.min() >= -(2 ** 23 - 1)
    lenient = compare_int_float(q, rec_int, twin, allow_v_saturation=True)
    assert lenient.ok, lenient.reason
    assert lenient.overflow["v_clip"] == rec_int.provenance["overflow"]["v_clip"]  # still reported


def test_u_wrap_fails_even_when_v_saturation_is_allowed(edge_net):
    x, lengths = random_inputs(np.random.default_rng(14), 2, 40, 8)
    cmp = compare_int_float(edge_net, simulate(edge_net, x, lengths, record_states=True),
                            simulate_float(edge_net, x, lengths, record_states=True, saturate_v=True),
                            allow_v_saturation=True)
    assert not cmp.ok and "u_wrap" in cmp.reason


# ---------------------------------------------------------------- event-driven paths, activity, graded input

def _wrap32(x):
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def _trunc_shift(x, m):
    prod = x * m
    return np.sign(prod) * (np.abs(prod) >> 12)


def _reference_simulate(q, x, lengths):
    """The network stepped in numpy from each projection's dense matrix, one Lava Dense at a time
    (int32 accumulator for graded payloads, arithmetic shift by weight_exp, int32 port sum) and
    Lava's LIF lines (plus the project's refractory rule): independent of the compiled kernel,
    of the synapse grouping and of the CSR."""
    fmt = q.number_format
    big = fmt.wrap_limit
    n, (b, t_max) = q.n_neurons, x.shape[:2]
    du, dv = np.asarray(q.du, np.int64), np.asarray(q.dv, np.int64)
    bias = np.where(np.asarray(q.bias_exp) >= 0, np.asarray(q.bias_mant, np.int64) << np.maximum(q.bias_exp, 0),
                    np.asarray(q.bias_mant, np.int64) >> np.maximum(-np.asarray(q.bias_exp), 0))
    vth = np.asarray(q.vth, np.int64) << fmt.vth_shift
    graded = x.dtype != bool
    spikes = np.zeros((b, t_max, n), bool)
    us, vs = np.zeros((b, t_max, n), np.int64), np.zeros((b, t_max, n), np.int64)
    wraps = np.zeros(3, np.int64)
    u, v, cnt = np.zeros((b, n), np.int64), np.zeros((b, n), np.int64), np.zeros((b, n), np.int64)
    s_prev, x_prev = np.zeros((b, n), np.int64), np.zeros((b, q.n_input), np.int64)
    for t in range(t_max):
        a_in = np.zeros((b, n), np.int64)
        for proj in q.projections:
            w = np.asarray(proj.dense(), np.int64)
            if proj.source == "input" and graded:
                acc = _wrap32(x_prev @ w.T)  # Lava's int32 dot
            else:
                acc = (x_prev if proj.source == "input" else s_prev) @ w.T
            a_in += acc << proj.weight_exp if proj.weight_exp >= 0 else acc >> -proj.weight_exp
        a_in = _wrap32(a_in)
        live = (t < lengths)[:, None]  # padding: never computed, so neither counted
        un = _trunc_shift(u, 4096 - (du + 1)) + (a_in << fmt.u_shift)
        wrapped = np.where(un > big, un - 2 * big, un)
        wrapped = np.where(wrapped <= -big, un + 2 * big, wrapped)
        wraps[0] += np.count_nonzero((wrapped != un) & live)
        wraps[2] += np.count_nonzero(((wrapped > big) | (wrapped <= -big)) & live)
        u = wrapped
        held = cnt > 0
        y = _trunc_shift(v, 4096 - dv) + u + bias
        wraps[1] += np.count_nonzero(((y > big - 1) | (y < -(big - 1))) & ~held & live)
        y = np.clip(y, -(big - 1), big - 1)
        fire = (y > vth) & ~held
        v = np.where(held | fire, 0, y)
        cnt = np.where(held, cnt - 1, np.where(fire, q.refractory_steps, 0))
        u, v, cnt, fire = u * live, v * live, cnt * live, fire & live
        spikes[:, t], us[:, t], vs[:, t] = fire, u, v
        s_prev = fire.astype(np.int64)
        x_prev = np.where((t < lengths)[:, None], x[:, t].astype(np.int64), 0)
    return spikes, us, vs, wraps


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(12))
def test_compiled_loop_equals_an_independent_dense_reference(seed):
    # property test over random sparse networks with every edge case: the compiled event-driven loop
    # (CSR, grouped projections, folded exponents, THE kernel) gives the reference's integers
    rng = np.random.default_rng(100 + seed)
    n, m = int(rng.integers(5, 60)), int(rng.integers(0, 9))
    q = random_qnet(rng, n, m, edge_cases=EDGE_CASES[: seed % len(EDGE_CASES) + 1],
                    p_connect=float(rng.uniform(0.02, 0.6)))
    batch = 1 if seed % 2 else int(rng.integers(2, 6))
    x, lengths = random_inputs(rng, batch, 40, m, rate=float(rng.uniform(0.05, 0.5)))
    if seed % 4 == 3:  # graded payloads too
        x = x * rng.integers(-40, 41, size=x.shape)
    if seed % 6 == 5 and m:  # payloads that wrap Lava's int32 accumulator
        x = x * rng.integers(1 << 23, 1 << 24, size=x.shape)
        q = dataclasses.replace(q, number_format=dataclasses.replace(q.number_format, spike_payload_bits=32),
                                projections=tuple(dataclasses.replace(pr, weight_exp=-3) if pr.source == "input"
                                                  else pr for pr in q.projections))  # wrap, then floor
    rec = simulate(q, x, lengths, record_states=True)
    spikes, u, v, wraps = _reference_simulate(q, x, lengths)
    np.testing.assert_array_equal(rec.spikes, spikes)
    np.testing.assert_array_equal(rec.u, u)
    np.testing.assert_array_equal(rec.v, v)
    assert [rec.provenance["overflow"][k] for k in ("u_wrap", "v_clip", "u_input_overflow")] == wraps.tolist()


def test_results_do_not_depend_on_batch_size(edge_net):
    x, lengths = random_inputs(np.random.default_rng(33), 7, 50, 8)
    base = simulate(edge_net, x, lengths, record_states=True, count_active=True)
    twin = simulate_float(edge_net, x, lengths, record_states=True)
    for batch_size in (1, 3):
        again = simulate(edge_net, x, lengths, record_states=True, count_active=True, batch_size=batch_size)
        for k in ("spikes", "u", "v", "active_per_step", "active_per_neuron"):
            np.testing.assert_array_equal(getattr(again, k), getattr(base, k))
        assert again.provenance == base.provenance
        twin_again = simulate_float(edge_net, x, lengths, record_states=True, batch_size=batch_size)
        for k in ("spikes", "u", "v"):
            np.testing.assert_array_equal(getattr(twin_again, k), getattr(twin, k))


def test_active_counts_without_states_equal_the_state_definition(edge_net):
    x, lengths = random_inputs(np.random.default_rng(30), 5, 45, 8)
    full = simulate(edge_net, x, lengths, record_states=True)
    lean = simulate(edge_net, x, lengths, count_active=True)
    assert lean.u is None and lean.v is None
    active = (full.u != 0) | (full.v != 0) | full.spikes
    np.testing.assert_array_equal(lean.active_per_step, active.sum(axis=2))
    np.testing.assert_array_equal(lean.active_per_neuron, active.sum(axis=1))
    assert lean.active_per_step.sum() > 0 and (lean.active_per_step[lengths < 45, -1] == 0).all()
    np.testing.assert_array_equal(lean.spikes, full.spikes)


def test_graded_payloads_equal_repeated_binary_channels():
    # sum_j w_ij p_j over payloads p equals sum over p binary copies of channel j: exact, also under
    # the weight exponent's shift (it acts on the summed input)
    rng = np.random.default_rng(31)
    q = random_qnet(rng, 25, 3, mixed_projection=False)
    payload = rng.integers(0, 4, size=(4, 30, 3))
    copies = [QuantizedProjection.from_synapses(
        p.name, p.source, p.n_post, 3 * p.n_pre, np.tile(p.synapses()[0], 3),
        np.concatenate([p.synapses()[1] * 3 + k for k in range(3)]), np.tile(p.weight, 3), p.weight_exp,
        p.num_weight_bits, p.sign_mode) if p.source == "input" else p for p in q.projections]
    tripled = dataclasses.replace(q, n_input=9, projections=tuple(copies))
    binary = np.stack([payload > k for k in range(3)], axis=-1).reshape(4, 30, 9)
    graded = simulate(q, payload, record_states=True)
    assert graded.provenance["input"] == {"kind": "graded", "payload_max": 3}
    np.testing.assert_array_equal(graded.input_spikes, payload != 0)
    assert compare_exact(graded, simulate(tripled, binary, record_states=True)).ok
    twin = simulate_float(q, payload, record_states=True)
    assert compare_int_float(q, graded, twin).ok


def test_graded_payloads_need_a_graded_target_and_fit_its_width():
    q = random_qnet(np.random.default_rng(32), 8, 2)
    loihi1 = dataclasses.replace(q, number_format=NumberFormat.from_profile("loihi1"))
    with pytest.raises(DataError, match="graded") as info:
        simulate(loihi1, np.full((1, 4, 2), 3))
    assert info.value.parameter == "input_spikes" and "loihi1" in str(info.value)
    simulate(loihi1, np.ones((1, 4, 2), np.int32))  # 0/1 integers are binary spikes anywhere
    narrow = dataclasses.replace(q, number_format=dataclasses.replace(FMT, spike_payload_bits=4))
    with pytest.raises(DataError, match="payload out of range") as info:
        simulate(narrow, np.full((1, 4, 2), 8))
    assert "[-8, 7]" in str(info.value)
    assert simulate(narrow, np.full((1, 4, 2), -8)).provenance["input"]["payload_max"] == 8


def test_int32_wrap_of_graded_accumulation_matches_lava_containers():
    # a payload large enough to overflow Lava's int32 Dense accumulator: the sum wraps before the
    # shift, exactly as numpy's int32 dot in PyDenseModelBitAcc does
    from hrsnn_hw.golden.synapses import SynapseSet, group_projections
    w = np.array([[255, 255], [3, 0]])
    g = group_projections([QuantizedProjection.from_dense("in", "input", w, -2, 8, "excitatory")])
    ops = SynapseSet(g, 2, 2, payload_max=(1 << 31) - 1, graded=True)
    s = np.array([[(1 << 31) - 1, (1 << 31) - 1]], np.int64)
    out = ops.accumulate(s)
    acc32 = (w.astype(np.int32) @ s[0].astype(np.int32))  # what Lava computes
    np.testing.assert_array_equal(out[0], np.right_shift(acc32, 2))


@pytest.mark.slow
def test_large_network_spec_quantize_and_inference_in_memory_linear_in_synapses():
    # 20,000 neurons, ~100 synapses each (2e6 synapses): a dense N x N float64 matrix alone would be
    # 3 GiB; the whole chain stays far below that because every stage holds O(synapses)
    import json
    import subprocess
    import sys
    from pathlib import Path
    script = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_large.py"
    out = subprocess.run([sys.executable, str(script), "--neurons", "20000", "--steps", "30"],
                         capture_output=True, text=True, check=True, timeout=900)
    doc = json.loads(out.stdout)
    assert doc["n_neurons"] == 20000 and 80 < doc["synapses_per_neuron"] < 120
    assert doc["bytes_per_synapse"] < 16  # int16 weight + int32 target + a pointer per source
    assert doc["peak_rss_gib"] < 1.5 < doc["dense_float64_matrix_gib"]
    assert 0 < doc["activity"] < 0.5


@pytest.mark.slow
def test_compiled_code_lives_in_one_file():
    # numba's cache is invalidated by a file's timestamp, not by the functions a cached function calls
    # in other files: a compiled caller elsewhere could keep running an edited rule (kernel.py comment)
    import ast
    from pathlib import Path
    pkg = Path(__file__).resolve().parent.parent / "hrsnn_hw"
    users = []
    for path in pkg.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            if any(name.split(".")[0] == "numba" for name in names):
                users.append(str(path.relative_to(pkg)))
    assert sorted(set(users)) == ["golden/kernel.py"], users
