"""Lava backend mechanics: Lava's own rules vs our assumptions, compile checks, reset and read-out,
float model, and teardown (no worker process or shared memory left, also after errors)."""
from __future__ import annotations

import dataclasses
import inspect
import signal

import numpy as np
import pytest
from conftest_lava import child_processes, leftovers

from hrsnn_hw.errors import BackendError, DataError, QuantizationError
from hrsnn_hw.golden import compare_exact, lava_effective_weights, simulate, simulate_float
from hrsnn_hw.fixedpoint import DU_OFFSET, DV_OFFSET, QuantizedProjection
from hrsnn_hw.golden.testing import EDGE_CASES, default_format, random_inputs, random_qnet
from hrsnn_hw.lava_backend import build_stock, compile_network, execute, neuron_profiles, run_lava
from lava_fault import FaultInjector  # a test helper in tests/lava_fault

pytestmark = pytest.mark.lava
FMT = default_format()


# ---------------------------------------------------------------- Lava's rules, read from Lava itself

@pytest.mark.parametrize("sign_mode", ["excitatory", "inhibitory", "mixed"])
@pytest.mark.parametrize("nwb", [8, 6, 3])
def test_effective_weights_equal_lava_clip_and_truncate(sign_mode, nwb):
    from lava.utils.weightutils import SignMode, clip_weights, truncate_weights
    mode = {"excitatory": SignMode.EXCITATORY, "inhibitory": SignMode.INHIBITORY, "mixed": SignMode.MIXED}[sign_mode]
    w = np.random.default_rng(nwb).integers(-300, 300, size=(40, 50))
    lava = truncate_weights(clip_weights(w, mode, num_bits=8), mode, nwb)
    np.testing.assert_array_equal(lava_effective_weights(w, sign_mode, nwb, FMT), lava)


def test_profile_format_matches_lava_bit_accurate_models():
    from lava.proc.lif.models import PyLifModelBitAcc
    from lava.utils.weightutils import truncate_weights
    m = PyLifModelBitAcc({})
    assert (m.uv_bitwidth, m.decay_shift, m.vth_shift, m.act_shift) == \
        (FMT.state_bits, FMT.decay_bits, FMT.vth_shift, FMT.u_shift)
    assert (m.ds_offset, m.dm_offset) == (DU_OFFSET, DV_OFFSET)
    assert inspect.signature(truncate_weights).parameters["max_num_weight_bits"].default == FMT.weight_bits


# ---------------------------------------------------------------- compile-time checks

def test_compile_refuses_weights_dense_would_alter_before_starting_lava():
    q = random_qnet(np.random.default_rng(0), 10, 3)
    w = np.array(q.projections[1].w_post_pre)
    old = q.projections[1]
    assert old.sign_mode == "mixed"
    w[0, 0] = 7
    changed = QuantizedProjection.from_dense(old.name, old.source, w, old.weight_exp, old.num_weight_bits, old.sign_mode)
    bad = dataclasses.replace(q, projections=(q.projections[0], changed) + q.projections[2:])
    before = child_processes()
    with pytest.raises(QuantizationError, match=r"input~mixed.*\[0,0\]"):
        compile_network(bad, None, 10)
    with pytest.raises(QuantizationError):
        run_lava(bad, np.zeros((1, 5, 3), bool))
    assert child_processes() == before


def test_stock_backend_groups_neurons_by_profile():
    q = random_qnet(np.random.default_rng(1), 12, 3)
    q = dataclasses.replace(q, du=np.repeat([5, 9], 6), dv=np.tile([0, 7, 7], 4), vth=np.full(12, 300),
                            refractory_steps=np.r_[np.zeros(11, int), 3])
    profiles = neuron_profiles(q)
    assert sorted(np.concatenate([p.index for p in profiles]).tolist()) == list(range(12))
    assert len(profiles) == 5 and sum(p.refractory_steps > 0 for p in profiles) == 1
    for p in profiles:
        assert len({(q.du[i], q.dv[i], q.vth[i], q.refractory_steps[i]) for i in p.index}) == 1
    net = build_stock(q, None, 5, record_states=True)
    kinds = sorted(type(p).__name__ for p in net.processes)
    assert kinds.count("LIF") == 4 and kinds.count("LIFRefractory") == 1
    assert {"SpikeGather", "SynapticScatter", "GroupStateRecorder"} <= set(kinds)
    assert len(net.model_map) == 4  # routing models and the refractory model, selected per process


def test_stock_backend_refuses_a_format_stock_lif_cannot_hold():
    q = random_qnet(np.random.default_rng(1), 10, 3, homogeneous=True)
    wide = dataclasses.replace(q, number_format=dataclasses.replace(q.number_format, state_bits=32))
    with pytest.raises(BackendError, match="Loihi's number format") as info:
        build_stock(wide, None, 5)
    assert info.value.parameter == "number_format"
    with pytest.raises(DataError, match="stock"):
        run_lava(q, np.zeros((1, 5, 3), bool), stock=True, fidelity="float")


@pytest.mark.slow
def test_stock_run_of_one_refractory_profile_is_wired_straight():
    rng = np.random.default_rng(9)
    q = random_qnet(rng, 12, 3, homogeneous=True)
    q = dataclasses.replace(q, refractory_steps=np.full(12, 2))
    x, lengths = random_inputs(rng, 2, 30, 3, rate=0.5)
    net = build_stock(q, None, 5)
    assert [type(p).__name__ for p in net.processes].count("LIFRefractory") == 1
    assert not {"SpikeGather", "SynapticScatter"} & {type(p).__name__ for p in net.processes}
    rec = run_lava(q, x, lengths, record_states=True, stock=True)
    golden = simulate(q, x, lengths, record_states=True)
    assert compare_exact(golden, rec).ok and golden.spikes.sum() > 0


@pytest.mark.slow
def test_stock_run_of_many_profiles_leaves_nothing_behind():
    rng = np.random.default_rng(6)
    q = random_qnet(rng, 20, 4, edge_cases=("refractory",))
    x, lengths = random_inputs(rng, 2, 25, 4, rate=0.3)
    before = child_processes()
    reports = []
    rec = run_lava(q, x, lengths, record_states=True, stock=True, cleanup=reports)
    assert rec.provenance["neuron_profiles"] == len(neuron_profiles(q)) > 10
    assert compare_exact(simulate(q, x, lengths, record_states=True), rec, ("golden", "stock")).ok
    assert reports and all(r.graceful for r in reports)
    assert all(leftovers(r) == {"processes": [], "shared_memory": []} for r in reports)
    assert child_processes() == before


# ---------------------------------------------------------------- runs

@pytest.fixture(scope="module")
def net_and_inputs():
    rng = np.random.default_rng(2)
    q = random_qnet(rng, 24, 5, edge_cases=EDGE_CASES)
    x, lengths = random_inputs(rng, 3, 30, 5)
    return q, x, lengths


@pytest.mark.slow
def test_normal_run_matches_golden_and_leaves_nothing_behind(net_and_inputs):
    q, x, lengths = net_and_inputs
    before = child_processes()
    reports = []
    rec = run_lava(q, x, lengths, record_states=True, cleanup=reports)
    assert rec.provenance["backend"] == "lava" and rec.provenance["model"] == "HeteroLIF"
    assert rec.u.dtype == np.int64 and rec.provenance["lava_runs"] == 1
    res = compare_exact(simulate(q, x, lengths, record_states=True), rec, ("golden", "lava"), qnet=q)
    assert res.ok, res.as_dict()
    assert res.n_spikes > 0
    assert len(reports) == 1 and reports[0].graceful and not reports[0].forced
    assert reports[0].worker_pids and reports[0].shm_names
    assert leftovers(reports[0]) == {"processes": [], "shared_memory": []}
    assert child_processes() == before


@pytest.mark.slow
def test_gap_reset_equals_one_run_per_sample(net_and_inputs):
    q, x, lengths = net_and_inputs
    gap = run_lava(q, x, lengths, record_states=True)
    separate = run_lava(q, x, lengths, record_states=True, samples_per_run=1)
    assert separate.provenance["lava_runs"] == 3
    assert compare_exact(gap, separate, ("gap-reset", "run-per-sample")).ok


@pytest.mark.slow
def test_float_model_is_the_golden_float_twin(net_and_inputs):
    q, x, lengths = net_and_inputs
    lava = run_lava(q, x, lengths, record_states=True, fidelity="float")
    twin = simulate_float(q, x, lengths, record_states=True)
    assert lava.provenance["fidelity"] == "float"
    np.testing.assert_array_equal(lava.spikes, twin.spikes)
    np.testing.assert_allclose(lava.v, twin.v, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(lava.u, twin.u, rtol=1e-12, atol=1e-9)


def test_hetero_lif_vars_are_per_neuron_and_readable():
    from lava.magma.core.run_conditions import RunSteps
    q = random_qnet(np.random.default_rng(3), 6, 2)
    x, _ = random_inputs(np.random.default_rng(4), 1, 12, 2, rate=0.5)
    net = compile_network(q, x[0].T, 12)
    golden = simulate(q, x, record_states=True)
    try:
        net.neurons.run(condition=RunSteps(num_steps=12), run_cfg=net.run_cfg())
        np.testing.assert_array_equal(net.neurons.du.get(), q.du)
        np.testing.assert_array_equal(net.neurons.v.get(), golden.v[0, -1])
        np.testing.assert_array_equal(net.neurons.u.get(), golden.u[0, -1])
    finally:
        net.neurons.stop()


# ---------------------------------------------------------------- failures and teardown

def _with_fault(mode: str):
    q = random_qnet(np.random.default_rng(5), 10, 3)
    net = compile_network(q, np.zeros((3, 40), np.int32), 40, record_states=True)
    fault = FaultInjector(shape=(10,), fail_at_step=6, message="injected-boom-42", mode=mode)
    net.neurons.s_out.connect(fault.a_in)
    net.processes.append(fault)
    return net


def test_crash_in_process_model_surfaces_original_error_and_cleans_up():
    before = child_processes()
    reports = []
    with pytest.raises(BackendError) as info:
        execute(_with_fault("raise"), timeout_s=60, cleanup=reports)
    assert "RuntimeError: injected-boom-42" in str(info.value).split(";")[0]
    assert "models.py" in info.value.hint  # the process model's own traceback
    assert reports[0].forced and leftovers(reports[0]) == {"processes": [], "shared_memory": []}
    assert child_processes() == before


def test_failure_while_building_the_runtime_is_surfaced_and_cleaned_up():
    before = child_processes()
    reports = []
    with pytest.raises(BackendError, match="could not build the network.*injected-boom-42"):
        execute(_with_fault("init"), timeout_s=60, cleanup=reports)
    assert reports[0].worker_pids and reports[0].forced
    assert leftovers(reports[0]) == {"processes": [], "shared_memory": []}
    assert child_processes() == before


def test_hung_process_model_times_out_and_is_terminated():
    before = child_processes()
    reports = []
    with pytest.raises(BackendError, match="did not finish within 2.0 s"):
        execute(_with_fault("hang"), timeout_s=2.0, stop_timeout_s=1.0, cleanup=reports)
    assert reports[0].forced and leftovers(reports[0]) == {"processes": [], "shared_memory": []}
    assert child_processes() == before


def test_keyboard_interrupt_during_run_tears_down():
    def interrupt(*_):
        raise KeyboardInterrupt

    before = child_processes()
    reports = []
    old = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 1.5)
        with pytest.raises(KeyboardInterrupt):
            execute(_with_fault("hang"), timeout_s=60, stop_timeout_s=1.0, cleanup=reports)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert reports and leftovers(reports[0]) == {"processes": [], "shared_memory": []}
    assert child_processes() == before


# ---------------------------------------------------------------- Sparse connections, graded input

@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_sparse_connections_are_bit_exact_with_dense_and_golden(seed):
    rng = np.random.default_rng(50 + seed)
    q = random_qnet(rng, 30, 4, edge_cases=EDGE_CASES, p_connect=0.2)
    x, lengths = random_inputs(rng, 3, 25, 4, rate=0.3)
    golden = simulate(q, x, lengths, record_states=True)
    dense = run_lava(q, x, lengths, record_states=True, connections="dense")
    sparse = run_lava(q, x, lengths, record_states=True, connections="sparse")
    assert (dense.provenance["connections"], sparse.provenance["connections"]) == ("dense", "sparse")
    assert compare_exact(golden, sparse, ("golden", "lava-sparse"), qnet=q).ok
    assert compare_exact(dense, sparse, ("lava-dense", "lava-sparse"), qnet=q).ok
    assert golden.provenance["overflow"]["u_wrap"] > 0  # the edge cases are exercised
    homo = random_qnet(rng, 12, 3, homogeneous=True)
    xh, lh = random_inputs(rng, 2, 20, 3, rate=0.4)
    stock = run_lava(homo, xh, lh, record_states=True, stock=True, connections="sparse")
    assert compare_exact(simulate(homo, xh, lh, record_states=True), stock, ("golden", "stock-sparse")).ok


@pytest.mark.slow
@pytest.mark.parametrize("connections", ["dense", "sparse"])
def test_graded_inputs_golden_equals_lava_bit_for_bit(connections):
    # signed payloads through every sign mode and weight exponent, including sums that overflow
    # Lava's int32 accumulator (wrapped identically by the golden model)
    rng = np.random.default_rng(60)
    q = random_qnet(rng, 20, 4, edge_cases=("weight_exp_range", "refractory"), p_connect=0.4)
    payload = rng.integers(-300, 301, size=(3, 20, 4)) * (rng.random((3, 20, 4)) < 0.5)
    payload[0, 3, :] = (1 << 31) - 1  # huge: int32 wrap of W @ s in Lava's Dense
    lengths = np.array([20, 14, 9])
    golden = simulate(q, payload, lengths, record_states=True)
    lava = run_lava(q, payload, lengths, record_states=True, connections=connections)
    res = compare_exact(golden, lava, ("golden", f"lava-{connections}"), qnet=q)
    assert res.ok, res.as_dict()
    assert golden.provenance["input"]["kind"] == "graded" and lava.spikes.any()
    np.testing.assert_array_equal(lava.input_spikes, golden.input_spikes)
    twin = simulate_float(q, payload[1:], lengths[1:], record_states=True)
    lava_float = run_lava(q, payload[1:], lengths[1:], record_states=True, fidelity="float",
                          connections=connections)
    np.testing.assert_array_equal(lava_float.spikes, twin.spikes)
    np.testing.assert_allclose(lava_float.v, twin.v, rtol=1e-12, atol=1e-9)


def test_graded_inputs_are_refused_on_a_binary_spike_target_before_lava_starts():
    q = random_qnet(np.random.default_rng(61), 6, 2)
    loihi1 = dataclasses.replace(q, number_format=dataclasses.replace(q.number_format, spike_payload_bits=None,
                                                                      profile="loihi1"))
    before = child_processes()
    with pytest.raises(DataError, match="graded") as info:
        run_lava(loihi1, np.full((1, 5, 2), 5))
    assert info.value.parameter == "input_spikes"
    with pytest.raises(DataError, match="connections"):
        run_lava(q, np.zeros((1, 5, 2), bool), connections="csr")
    assert child_processes() == before
