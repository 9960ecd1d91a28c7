"""Brian2 reference simulator: step order, exact trajectories, batching, training, errors."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hrsnn_hw.reference import reference_design_path
from hrsnn_hw.errors import BackendError, DataError, HrsnnError
from hrsnn_hw.records import SpikeRecord
from hrsnn_hw.refsim import SimulatorConfig, SimulatorConfigError, simulate, train
from hrsnn_hw.spec import build_spec, load_spec

pytestmark = [pytest.mark.brian2, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

REFERENCE = reference_design_path("hrsnn")
DT = 0.001


def tiny_spec(populations: dict, projections: dict, n_input: int = 1, stdp: dict | None = None):
    """A spec with explicit synapses: projections map name -> (pre list, post list, weight list)."""
    design = {"format": "hrsnn_hw.spec", "version": 1, "name": "tiny", "seed": 0, "dt": DT,
              "n_input": n_input, "populations": populations,
              "projections": {name: {"p": 1.0, "synapses": {"pre": pre, "post": post, "weight": w}}
                              for name, (pre, post, w) in projections.items()}}
    if stdp:
        design["stdp"] = stdp
    return build_spec(design)


def lif(n=1, tau_m=0.02, tau_syn=0.005, v_th=0.01, refractory=0.0, bias=0.0, excitatory=True):
    return {"n": n, "excitatory": excitatory, "tau_m": tau_m, "tau_syn": tau_syn, "v_th": v_th,
            "refractory": refractory, "bias": bias}


def reference_model(spec, x: np.ndarray, length: int):
    """Independent float64 implementation of the shared step semantics (one sample)."""
    n = spec.n_neurons
    a_u = np.exp(-spec.dt / spec.neuron_param("tau_syn"))
    a_v = np.exp(-spec.dt / spec.neuron_param("tau_m"))
    v_th, bias = spec.neuron_param("v_th"), spec.neuron_param("bias")
    ref_steps = np.rint(spec.neuron_param("refractory") / spec.dt).astype(int)
    w_in, w_rec = spec.input_weights().toarray(), spec.recurrent_weights().toarray()
    u, v, cnt = np.zeros(n), np.zeros(n), np.zeros(n, dtype=int)
    s_prev, x_prev = np.zeros(n), np.zeros(spec.n_input)
    out = {k: np.zeros((length, n)) for k in ("u", "v", "s")}
    for t in range(length):
        u = a_u * u + (w_in @ x_prev + w_rec @ s_prev)
        ref = cnt > 0
        v = np.where(ref, 0.0, a_v * v + (1.0 - a_v) * (u + bias))
        cnt = np.where(ref, cnt - 1, cnt)
        s = (v > v_th) & ~ref
        v = np.where(s, 0.0, v)
        cnt = np.where(s, ref_steps, cnt)
        out["u"][t], out["v"][t], out["s"][t] = u, v, s
        s_prev, x_prev = s.astype(float), x[t].astype(float)
    return out


def test_input_spike_reaches_u_one_step_later_and_recurrent_too():
    # exc0 is driven over threshold by input; exc0 -> exc1 is a weak recurrent synapse.
    spec = tiny_spec({"exc": lif(n=2, tau_syn=1e-6, v_th=0.001)},
                     {"input->exc": ([0], [0], [0.05]), "exc->exc": ([0], [1], [0.003])})
    x = np.zeros((1, 12, 1), dtype=bool)
    x[0, 4, 0] = True
    rec = simulate(spec, x, record_states=True)
    u0, u1 = rec.u[0, :, 0], rec.u[0, :, 1]
    assert np.all(u0[:5] == 0.0) and u0[5] == pytest.approx(0.05, rel=1e-15)
    assert np.flatnonzero(rec.spikes[0, :, 0]).tolist() == [5]  # v = (1 - a_v) u at step 5 crosses v_th
    assert np.all(u1[:6] == 0.0) and u1[6] == pytest.approx(0.003, rel=1e-15)
    assert not rec.spikes[0, :, 1].any()


def test_single_neuron_trajectory_matches_hand_computation():
    tau_m, tau_syn, v_th, bias, w = 0.02, 0.005, 0.0015, 0.0005, 0.004
    spec = tiny_spec({"exc": lif(tau_m=tau_m, tau_syn=tau_syn, v_th=v_th, refractory=0.002, bias=bias)},
                     {"input->exc": ([0], [0], [w])})
    T = 25
    x = np.zeros((1, T, 1), dtype=bool)
    x[0, [1, 2, 3, 10, 11], 0] = True
    rec = simulate(spec, x, record_states=True)
    a_u, a_v = np.exp(-DT / tau_syn), np.exp(-DT / tau_m)
    u = v = 0.0
    cnt, spikes, us, vs = 0, [], [], []
    for t in range(T):
        u = a_u * u + (w if t >= 1 and x[0, t - 1, 0] else 0.0)
        if cnt > 0:
            v, cnt = 0.0, cnt - 1
        else:
            v = a_v * v + (1.0 - a_v) * (u + bias)
            if v > v_th:
                spikes.append(t)
                v, cnt = 0.0, 2
        us.append(u)
        vs.append(v)
    assert len(spikes) >= 2  # the case exercises threshold, reset and refractoriness
    np.testing.assert_allclose(rec.u[0, :, 0], us, rtol=1e-12, atol=0)
    np.testing.assert_allclose(rec.v[0, :, 0], vs, rtol=1e-12, atol=1e-300)
    assert np.flatnonzero(rec.spikes[0, :, 0]).tolist() == spikes


def test_reference_design_matches_independent_numpy_model():
    spec = load_spec(REFERENCE, n_input=6, seed=3)
    rng = np.random.default_rng(0)
    x = rng.random((2, 80, 6)) < 0.3
    rec = simulate(spec, x, [80, 50], record_states=True)
    assert 0.0 < rec.activity() < 0.5
    for b, length in enumerate([80, 50]):
        ref = reference_model(spec, x[b], length)
        np.testing.assert_allclose(rec.u[b, :length], ref["u"], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(rec.v[b, :length], ref["v"], rtol=1e-12, atol=1e-15)
        assert np.array_equal(rec.spikes[b, :length], ref["s"].astype(bool))
    assert not rec.spikes[1, 50:].any() and np.all(rec.v[1, 50:] == 0)


@pytest.fixture(scope="module")
def batch():
    spec = load_spec(REFERENCE, n_input=8, seed=5)
    rng = np.random.default_rng(1)
    x = rng.random((5, 60, 8)) < 0.1
    lengths = np.array([60, 23, 41, 0, 60])
    x[np.arange(60)[None, :] >= lengths[:, None]] = False
    return spec, x, lengths


@pytest.mark.slow
def test_batched_equals_per_sample_and_is_deterministic(batch):
    spec, x, lengths = batch
    full = simulate(spec, x, lengths, config=SimulatorConfig(max_batch=2), record_states=True)
    again = simulate(spec, x, lengths, config=SimulatorConfig(max_batch=2), record_states=True)
    assert isinstance(full, SpikeRecord) and full.spikes.shape == (5, 60, 200)
    assert full.provenance["backend"] == "brian2" and full.provenance["fidelity"] == "float"
    assert full.provenance["target"] == "numpy" and full.provenance["design"] == spec.name
    assert full.provenance["seed"] == spec.seed and full.provenance["segments"] == 2
    assert np.array_equal(full.spikes, again.spikes) and np.array_equal(full.v, again.v)
    assert full.spikes[[0, 2, 4]].any(axis=(1, 2)).all() and not full.spikes[3].any()
    for b in range(5):
        single = simulate(spec, x[b:b + 1], lengths[b:b + 1], record_states=True)
        assert np.array_equal(single.spikes[0], full.spikes[b])
        assert np.array_equal(single.v[0], full.v[b]) and np.array_equal(single.u[0], full.u[b])
        assert not full.spikes[b, lengths[b]:].any()


@pytest.mark.slow
def test_plasticity_flag_runs_sequentially_and_keeps_shape(batch):
    spec, x, lengths = batch
    rec = simulate(spec, x, lengths, plasticity=True)
    frozen = simulate(spec, x, lengths)
    assert rec.spikes.shape == frozen.spikes.shape and rec.provenance["plasticity"] is True
    # The first sample sees the initial weights until its first weight change acts.
    first = np.flatnonzero(frozen.spikes[0].any(axis=1))[0]
    assert np.array_equal(rec.spikes[0, :first + 1], frozen.spikes[0, :first + 1])


@pytest.fixture(scope="module")
def trained():
    spec = load_spec(REFERENCE, n_input=8, seed=2)
    rng = np.random.default_rng(2)
    x = rng.random((6, 80, 8)) < 0.15
    lengths = np.array([80, 70, 60, 80, 50, 75])
    return spec, x, lengths, train(spec, x, lengths, epochs=2, seed=7)


@pytest.mark.slow
def test_train_changes_only_plastic_weights_within_bounds(trained):
    spec, x, lengths, tn = trained
    rule = spec.stdp_rule("exc->exc")
    w0, w1 = spec.projection("exc->exc").weight, tn.spec.projection("exc->exc").weight
    assert np.mean(w1 != w0) > 0.2
    assert w1.min() >= 0.0 and w1.max() <= rule.w_max
    for proj in spec.projections:
        if proj.name != "exc->exc":
            assert np.array_equal(tn.spec.projection(proj.name).weight, proj.weight)
    assert tn.initial is spec
    tr = tn.training
    assert tr["epochs"] == 2 and tr["n_samples"] == 6 and len(tr["per_epoch"]) == 2
    assert tr["n_steps_per_epoch"] == int(lengths.sum())
    assert sorted(tr["sample_order"][0]) == list(range(6)) and tr["sample_order"][0] != tr["sample_order"][1]
    last = tr["per_epoch"][-1]
    assert last["weights"]["exc->exc"]["mean"] == pytest.approx(w1.mean(), rel=1e-12)
    assert 0.0 < last["activity"] < 0.5 and set(last["activity_by_population"]) == {"exc", "inh"}
    assert tn.provenance["backend"] == "brian2" and tn.provenance["seed"] == 7


@pytest.mark.slow
def test_train_is_reproducible_and_seed_sets_the_order(trained):
    spec, x, lengths, tn = trained
    again = train(spec, x, lengths, epochs=2, seed=7)
    assert np.array_equal(again.spec.projection("exc->exc").weight, tn.spec.projection("exc->exc").weight)
    other = train(spec, x, lengths, epochs=1, seed=8, shuffle=False)
    assert other.training["sample_order"] == [list(range(6))]


def test_bad_config_and_inputs_give_clear_errors():
    with pytest.raises(SimulatorConfigError, match="target") as info:
        SimulatorConfig(target="gpu")
    assert info.value.parameter == "target" and "numpy" in info.value.allowed
    with pytest.raises(SimulatorConfigError, match="threads"):
        SimulatorConfig(threads=0)
    spec = tiny_spec({"exc": lif()}, {"input->exc": ([0], [0], [0.004])})
    with pytest.raises(DataError, match="channels"):
        simulate(spec, np.zeros((1, 5, 3), dtype=bool))
    with pytest.raises(DataError, match="sample length"):
        simulate(spec, np.zeros((2, 5, 1), dtype=bool), [5, 6])
    with pytest.raises(DataError, match="epochs"):
        train(spec, np.zeros((1, 5, 1), dtype=bool), epochs=0)


def test_brian2_failures_become_backend_errors_and_state_is_restored(monkeypatch):
    import brian2

    spec = tiny_spec({"exc": lif()}, {"input->exc": ([0], [0], [0.004])})
    target_before = brian2.prefs["codegen.target"]

    def broken_run(self, *args, **kwargs):
        raise RuntimeError("simulated code generation failure")

    monkeypatch.setattr(brian2.Network, "run", broken_run)
    with pytest.raises(BackendError) as info:
        simulate(spec, np.ones((1, 5, 1), dtype=bool), config=SimulatorConfig(target="numpy"))
    assert isinstance(info.value, HrsnnError) and info.value.hint
    assert "simulated code generation failure" in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert brian2.prefs["codegen.target"] == target_before


@pytest.mark.slow
def test_cpp_standalone_matches_numpy_bit_for_bit(tmp_path):
    spec = load_spec(REFERENCE, n_input=6, seed=4)
    rng = np.random.default_rng(3)
    x = rng.random((3, 40, 6)) < 0.25
    lengths = [40, 25, 33]
    cfg = SimulatorConfig(target="cpp_standalone", cache_dir=str(tmp_path / "build"))
    compiled = simulate(spec, x, lengths, config=cfg, record_states=True)
    reference = simulate(spec, x, lengths, record_states=True)
    assert compiled.provenance["target"] == "cpp_standalone"
    assert compiled.spikes.any()
    assert np.array_equal(compiled.spikes, reference.spikes)
    assert np.array_equal(compiled.v, reference.v) and np.array_equal(compiled.u, reference.u)
    # The device was reset: the next run is a normal runtime run again.
    assert np.array_equal(simulate(spec, x, lengths).spikes, reference.spikes)


@pytest.mark.slow
@pytest.mark.brian2
def test_cpp_standalone_builds_once_per_shape_and_reuses_the_build(tmp_path):
    spec = load_spec(REFERENCE, n_input=6, seed=4)
    rng = np.random.default_rng(5)
    x = rng.random((2, 30, 6)) < 0.25
    cfg = SimulatorConfig(target="cpp_standalone", cache_dir=str(tmp_path / "build"))
    first = simulate(spec, x, config=cfg)
    shapes = sorted((tmp_path / "build").glob("shape_*"))
    assert len(shapes) == 1
    objects = {p: p.stat().st_mtime_ns for p in shapes[0].rglob("*.o")}
    assert objects
    # same shape, other data (weights halved): the compiled objects are reused, results still exact
    other = spec.with_weights({p.name: p.weight * 0.5 for p in spec.projections})
    again = simulate(other, x, config=cfg)
    assert sorted((tmp_path / "build").glob("shape_*")) == shapes
    assert {p: p.stat().st_mtime_ns for p in shapes[0].rglob("*.o")} == objects
    assert np.array_equal(again.spikes, simulate(other, x).spikes)
    assert not np.array_equal(again.spikes, first.spikes)
    # another shape gets a build directory of its own
    simulate(spec, x[:1], config=cfg)
    assert len(list((tmp_path / "build").glob("shape_*"))) == 2
