"""Counting: a hand-counted 3-neuron run, SANA-FE's active rule, per-core-step tables, padding, artifacts."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from hrsnn_hw.counting import (ACTIVE_LOWER_BOUND, ACTIVE_SANAFE, CORE_STEP_EVENTS, EVENTS, OpCounts,
                               active_neurons, count_ops)
from hrsnn_hw.errors import DataError
from hrsnn_hw.mapping import map_network
from hrsnn_hw.profiles import PROFILE_DIR, parse_profile
from energy_nets import QuantizedNetwork, dense, network, projection
from hrsnn_hw.records import SpikeRecord


def three_neurons() -> QuantizedNetwork:
    """0 -> 1, 0 -> 2, 1 -> 2 and input 0 -> neuron 0."""
    w = np.zeros((3, 3), int)
    w[1, 0], w[2, 0], w[2, 1] = 10, 20, -5
    w_in = np.array([[30], [0], [0]])
    n = 3
    return network("three", (projection("rec", "recurrent", w, 0, 8, "mixed"),
                             projection("in", "input", w_in, 0, 8, "excitatory")),
                   n_input=1, du=np.full(n, 800), dv=np.full(n, 200), vth=np.full(n, 100))


def three_raster(**kw) -> SpikeRecord:
    s = np.zeros((1, 4, 3), bool)
    s[0, 0, 0] = s[0, 2, 0] = s[0, 1, 1] = s[0, 3, 2] = True
    x = np.zeros((1, 4, 1), bool)
    x[0, 0, 0] = x[0, 1, 0] = True
    return SpikeRecord(spikes=s, sample_lengths=np.array([4]), dt=1e-3, input_spikes=x, **kw)


def one_core_per_neuron_profile():
    """loihi1_sanafe prices; 1 neuron per core, 1 core per tile, a 2 x 2 mesh (tile t: x = t // 2, y = t % 2)."""
    data = json.loads((PROFILE_DIR / "loihi1_sanafe.json").read_text())
    lim = data["core_limits"]
    for key, value in {"neurons_per_core": 1, "cores_per_tile": 1, "cores_per_chip": 4, "mesh_width": 2,
                       "mesh_height": 2}.items():
        lim[key]["value"] = value
    return parse_profile(data, origin="test")


def test_three_neurons_counted_by_hand():
    qnet = three_neurons()
    placement = map_network(qnet, one_core_per_neuron_profile(), strategy="sequential")
    assert placement.neuron_core.tolist() == [0, 1, 2]
    assert placement.core_xy.tolist() == [[0, 0], [0, 1], [1, 0]]
    c = count_ops(three_raster(), qnet, placement)
    expected = {"steps": 4, "spikes": 4, "input_spikes": 2, "synaptic_ops_recurrent": 5, "synaptic_ops_input": 2,
                "synaptic_ops": 7, "synaptic_ops_dense": 4 * 3 * 4, "synaptic_ops_connected": 4 * 4,
                # active: t0 {0}; t1 {0,1,2}; t2 {0,2}; t3 {1,2}
                "neuron_updates_active": 8, "neuron_updates_idle": 4,
                # n0: 2 cores/spike, n1: 1, input: 1 (core 0)
                "messages": 2 * 2 + 1 + 2, "input_messages": 2, "messages_off_core": 7,
                # n0 -> core1: 1 NS, n0 -> core2: 1 EW; n1 (0,1) -> core2 (1,0): 1 EW + 1 NS
                "hops_east_west": 2 * 1 + 1, "hops_north_south": 2 * 1 + 1, "learning_updates": 0}
    assert set(expected) == set(EVENTS)
    for event, value in expected.items():
        assert c.per_sample[event].tolist() == [value], event
    assert c.per_core["synaptic_ops"].tolist() == [2, 2, 3]
    assert c.per_core["neuron_updates_active"].tolist() == [3, 2, 3]
    assert c.per_core["neuron_updates_idle"].tolist() == [1, 2, 1]
    assert c.per_core["messages"].tolist() == [4, 1, 0]
    assert c.per_core["hops_east_west"].tolist() == [2, 1, 0]
    assert c.per_step["spikes"].tolist() == [1, 1, 1, 1]
    assert c.per_step["synaptic_ops"].tolist() == [3, 2, 2, 0]
    assert c.per_step["neuron_updates_active"].tolist() == [1, 3, 2, 2]
    assert c.activation_sparsity == pytest.approx(2 / 3)
    assert c.connection_sparsity == pytest.approx(2 / 3)
    assert c.n_synapses == 4 and c.n_cores == 3 and c.n_tiles == 3
    assert c.active_definition == ACTIVE_LOWER_BOUND
    # per (sample, step, core): what the compute-bound time model reads
    cs = c.core_steps
    assert set(cs) == set(CORE_STEP_EVENTS)
    assert cs["active"][0].tolist() == [[1, 0, 0], [1, 1, 1], [1, 0, 1], [0, 1, 1]]
    assert cs["spikes"][0].tolist() == [[1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1]]
    # n0 spikes -> cores 1 and 2 (sent from core 0); input -> core 0 (from the I/O port: no core)
    assert cs["messages_out"][0].tolist() == [[2, 0, 0], [0, 1, 0], [2, 0, 0], [0, 0, 0]]
    assert cs["messages_in"][0].tolist() == [[1, 1, 1], [1, 0, 1], [0, 1, 1], [0, 0, 0]]
    assert cs["synaptic_ops_in"][0].tolist() == [[1, 1, 1], [1, 0, 1], [0, 1, 1], [0, 0, 0]]
    nb = c.neurobench()
    assert nb["effective_synaptic_ops"] == 7 and nb["dense_ops"] == 48 and nb["effective_macs"] == 0


def test_learning_updates_when_a_projection_learns():
    qnet = three_neurons()
    c = count_ops(three_raster(), qnet, learning_projections=("rec",))
    # pre: n0 2 spikes x 2 synapses + n1 1 x 1; post: n1 1 spike x 1 in-synapse + n2 1 x 2
    assert c.per_sample["learning_updates"].tolist() == [5 + 3]
    with pytest.raises(DataError):
        count_ops(three_raster(), qnet, learning_projections=("nope",))


def test_active_by_sanafe_rule_from_recorded_state():
    v = np.zeros((1, 4, 3), np.int64)
    v[0, 0, 2] = 5                  # after step 0: neuron 2 charged (it is active at t1 anyway)
    v[0, 1, 1] = 3                  # neuron 1 holds charge after step 1 -> active at t2 (no input then)
    v[0, 2, 0] = -1                 # neuron 0 below rest after step 2 -> active at t3
    v[0, 3, :] = 9                  # the last step's state touches no later step
    u = np.full((1, 4, 3), 7)       # u plays no part in SANA-FE's rule
    c = count_ops(three_raster(u=u, v=v), three_neurons())
    # lower bound t0 {0}, t1 {0,1,2}, t2 {0,2}, t3 {1,2} = 8, plus n1 at t2 and n0 at t3
    assert c.per_sample["neuron_updates_active"].tolist() == [10]
    assert c.active_definition == ACTIVE_SANAFE
    raster, definition = active_neurons(three_raster(u=u, v=v), three_neurons())
    assert definition == ACTIVE_SANAFE and raster.sum() == 10
    assert raster[0, 2].tolist() == [True, True, True] and raster[0, 3].tolist() == [True, True, True]


def test_a_bias_keeps_a_neuron_active_and_a_given_raster_is_used_as_is():
    qnet = dataclasses.replace(three_neurons(), bias_mant=np.array([0, 0, 4]))
    c = count_ops(three_raster(), qnet)
    assert c.per_sample["neuron_updates_active"].tolist() == [8 + 1]      # n2 also at t0
    given = np.zeros((1, 4, 3), bool)
    given[0, :, 1] = True
    c = count_ops(three_raster(), three_neurons(), active=given)
    assert c.per_sample["neuron_updates_active"].tolist() == [4]
    assert "reported" in c.active_definition
    with pytest.raises(DataError) as exc:
        count_ops(three_raster(), three_neurons(), active=np.zeros((1, 3, 3), bool))
    assert exc.value.parameter == "active"


def test_counts_are_a_loadable_artifact(tmp_path):
    qnet = three_neurons()
    placement = map_network(qnet, one_core_per_neuron_profile(), strategy="sequential")
    c = count_ops(three_raster(), qnet, placement)
    for suffix in (".npz", ".json"):
        back = OpCounts.load(c.save(tmp_path / f"counts{suffix}"))
        assert back.means() == c.means() and back.active_definition == c.active_definition
        for table in ("per_sample", "per_step", "per_core", "core_steps"):
            for key, arr in getattr(c, table).items():
                assert np.array_equal(getattr(back, table)[key], arr), (table, key)


def test_padding_steps_are_not_counted():
    rec = three_raster()
    x = rec.input_spikes.copy()
    x[0, 3, 0] = True                                  # past the sample's length: ignored
    s = rec.spikes.copy()
    s[0, 3] = False
    padded = SpikeRecord(spikes=np.concatenate([s, np.zeros((1, 4, 3), bool)], axis=1),
                         sample_lengths=np.array([3]), dt=1e-3,
                         input_spikes=np.concatenate([x, np.ones((1, 4, 1), bool)], axis=1))
    short = SpikeRecord(spikes=s[:, :3], sample_lengths=np.array([3]), dt=1e-3, input_spikes=x[:, :3])
    a, b = count_ops(padded, three_neurons()), count_ops(short, three_neurons())
    for event in EVENTS:
        assert a.per_sample[event].tolist() == b.per_sample[event].tolist(), event
    assert a.per_sample["steps"].tolist() == [3]


def random_run(seed=0, n=30, m=5, b=6, t=25):
    rng = np.random.default_rng(seed)
    w = (rng.random((n, n)) < 0.2) * rng.integers(-50, 50, (n, n))
    w_in = (rng.random((n, m)) < 0.3) * rng.integers(1, 50, (n, m))
    qnet = network("rand", (projection("rec", "recurrent", w, 0, 8, "mixed"),
                            projection("in", "input", w_in, 0, 8, "excitatory")),
                   n_input=m, du=np.full(n, 800), dv=rng.integers(1, 9, n) * 100, vth=np.full(n, 100))
    lengths = rng.integers(t // 2, t + 1, b)
    valid = np.arange(t)[None, :, None] < lengths[:, None, None]
    spikes = (rng.random((b, t, n)) < 0.1) & valid
    inputs = (rng.random((b, t, m)) < 0.3) & valid
    return qnet, spikes, inputs, lengths


def test_records_equal_by_construction_give_identical_counts():
    # Stand-in for golden vs Lava: two records of the same raster, built apart, different provenance.
    qnet, spikes, inputs, lengths = random_run()
    golden = SpikeRecord(spikes=spikes.copy(), sample_lengths=lengths.copy(), dt=1e-3, input_spikes=inputs.copy(),
                         provenance={"backend": "golden", "fidelity": "fixed"})
    lava = SpikeRecord(spikes=np.array(spikes), sample_lengths=np.array(lengths), dt=1e-3,
                       input_spikes=np.array(inputs), provenance={"backend": "lava", "fidelity": "fixed"})
    from hrsnn_hw.profiles import load_profile
    placement = map_network(qnet, load_profile("loihi1"), max_neurons_per_core=7)
    a, b = count_ops(golden, qnet, placement), count_ops(lava, qnet, placement)
    for table in ("per_sample", "per_step", "per_core"):
        ta, tb = getattr(a, table), getattr(b, table)
        assert ta.keys() == tb.keys()
        for key in ta:
            assert np.array_equal(ta[key], tb[key]), (table, key)
    assert a.provenance["record"]["backend"] == "golden" and b.provenance["record"]["backend"] == "lava"


def test_per_step_and_per_core_add_up_to_per_inference():
    from hrsnn_hw.profiles import load_profile
    qnet, spikes, inputs, lengths = random_run(seed=3)
    rec = SpikeRecord(spikes=spikes, sample_lengths=lengths, dt=1e-3, input_spikes=inputs)
    placement = map_network(qnet, load_profile("loihi1_sanafe"), max_neurons_per_core=5, inputs="core")
    c = count_ops(rec, qnet, placement)
    for event in ("spikes", "synaptic_ops", "neuron_updates_active", "messages", "hops_east_west"):
        if event in c.per_step:
            assert c.per_step[event].sum() == pytest.approx(c.mean(event)), event
    for event in ("synaptic_ops", "neuron_updates_active", "neuron_updates_idle", "messages",
                  "hops_east_west", "hops_north_south"):
        assert c.per_core[event].sum() == pytest.approx(c.mean(event)), event
    # brute force: effective synaptic ops = sum over spikes of their nonzero fan-out
    w_all = np.concatenate([dense(qnet.projections[0]), dense(qnet.projections[1])], axis=1) != 0
    src = np.concatenate([spikes, inputs], axis=2).sum(axis=1)
    assert c.per_sample["synaptic_ops"].tolist() == (src @ w_all.sum(axis=0)).tolist()


def test_counts_are_frozen_and_chunking_does_not_change_them(monkeypatch):
    import hrsnn_hw.counting as counting
    from hrsnn_hw.profiles import load_profile
    qnet, spikes, inputs, lengths = random_run(seed=5, b=9)
    placement = map_network(qnet, load_profile("loihi1"), max_neurons_per_core=4)
    whole = count_ops(SpikeRecord(spikes=spikes, sample_lengths=lengths, dt=1e-3, input_spikes=inputs), qnet,
                      placement)
    monkeypatch.setattr(counting, "_CHUNK_ELEMENTS", 1)      # one row per block
    chunked = count_ops(SpikeRecord(spikes=spikes, sample_lengths=lengths, dt=1e-3, input_spikes=inputs), qnet,
                        placement)
    for table in ("per_sample", "per_step", "per_core", "core_steps"):
        for key, arr in getattr(whole, table).items():
            assert np.allclose(getattr(chunked, table)[key], arr), (table, key)
    with pytest.raises(ValueError):
        whole.per_sample["spikes"][0] = 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        whole.design = "x"


def test_core_step_tables_add_up_to_the_per_core_means():
    from hrsnn_hw.profiles import load_profile
    qnet, spikes, inputs, lengths = random_run(seed=7, b=5)
    rec = SpikeRecord(spikes=spikes, sample_lengths=lengths, dt=1e-3, input_spikes=inputs)
    placement = map_network(qnet, load_profile("loihi1_sanafe"), max_neurons_per_core=6, inputs="core")
    c = count_ops(rec, qnet, placement)
    b = c.n_samples
    assert np.allclose(c.core_steps["active"].sum(axis=(0, 1)) / b, c.per_core["neuron_updates_active"])
    assert np.allclose(c.core_steps["synaptic_ops_in"].sum(axis=(0, 1)) / b, c.per_core["synaptic_ops"])
    assert np.allclose(c.core_steps["messages_in"].sum(axis=(0, 1)) / b, c.per_core["messages_in"])
    assert np.allclose(c.core_steps["messages_out"].sum(axis=(0, 1)) / b, c.per_core["messages"])
    assert c.core_steps["messages_out"].sum() == c.per_sample["messages"].sum()      # inputs on cores here
    padding = np.arange(spikes.shape[1])[None, :] >= lengths[:, None]
    for key in c.core_steps:
        assert not c.core_steps[key][padding].any(), key


def test_mismatches_are_clear_errors():
    qnet = three_neurons()
    bad = SpikeRecord(spikes=np.zeros((1, 4, 5), bool), sample_lengths=np.array([4]), dt=1e-3)
    with pytest.raises(DataError) as exc:
        count_ops(bad, qnet)
    assert exc.value.parameter == "record.spikes"
    with pytest.raises(DataError) as exc:
        count_ops(three_raster(), qnet, input_spikes=np.zeros((1, 4, 2), bool))
    assert exc.value.parameter == "input_spikes"
    no_inputs = SpikeRecord(spikes=three_raster().spikes, sample_lengths=np.array([4]), dt=1e-3)
    c = count_ops(no_inputs, qnet)
    assert c.per_sample["synaptic_ops_input"].tolist() == [0]
    assert any("no input raster" in note for note in c.notes)
