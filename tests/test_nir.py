"""NIR interchange: bit-exact round trip of our exports, foreign graphs, shape and input errors, CLI."""
from __future__ import annotations

import json
from pathlib import Path

import nir
import numpy as np
import pytest

from hrsnn_hw.reference import reference_design_path

from hrsnn_hw.cli import main
from hrsnn_hw.errors import ArtifactError, SpecError
from hrsnn_hw.interchange import from_nir, import_nir, load_nir, save_nir, to_nir
from hrsnn_hw.io import read_json
from hrsnn_hw.spec import NEURON_FIELDS, build_spec, load_spec
from hrsnn_hw.trained import TrainedNetwork

REF = reference_design_path("hrsnn")
DT = 1e-3


@pytest.fixture(scope="module")
def spec():
    return load_spec(REF)


def assert_same_network(a, b) -> None:
    for f in NEURON_FIELDS:
        assert np.array_equal(a.neuron_param(f), b.neuron_param(f)), f
    assert np.array_equal(a.recurrent_weights().toarray(), b.recurrent_weights().toarray())
    assert np.array_equal(a.input_weights().toarray(), b.input_weights().toarray())
    assert [(p.name, p.n, p.excitatory) for p in a.populations] == [(p.name, p.n, p.excitatory) for p in b.populations]
    assert a.dt == b.dt and a.n_input == b.n_input


# --- a hand-made graph, as another tool would write it (no hrsnn_hw metadata) ------------------
W_REC = np.array([[0.0, 1.0, 0.0, 2.0, -1.0, 0.0],
                  [1.0, 0.0, 1.0, 0.0, 0.0, -2.0],
                  [0.0, 3.0, 0.0, 1.0, -1.0, -1.0],
                  [2.0, 0.0, 1.0, 0.0, 0.0, -3.0],
                  [1.0, 1.0, 0.0, 1.0, 0.0, -1.0],
                  [0.0, 2.0, 1.0, 0.0, -2.0, 0.0]]) * 1e-3
W_IN = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 0.0], [3.0, 0.0, 0.0],
                 [0.0, 0.0, 1.0], [1.0, 1.0, 0.0], [0.0, 2.0, 2.0]]) * 1e-3
TAU_SYN = np.full(6, 0.005)
TAU_MEM = np.array([0.01, 0.02, 0.03, 0.04, 0.01, 0.02])


def foreign_graph(w_rec=W_REC, w_in=W_IN, *, gain_syn=1.0, affine_bias=None, v_reset=None, extra=None,
                  recurrent=True, wrap=False) -> nir.NIRGraph:
    n = w_rec.shape[0]
    lif = nir.CubaLIF(tau_syn=TAU_SYN[:n], tau_mem=TAU_MEM[:n], r=np.ones(n),
                      v_leak=np.full(n, 0.01), v_threshold=np.full(n, 0.02),
                      v_reset=np.zeros(n) if v_reset is None else v_reset, w_in=gain_syn * TAU_SYN[:n] / DT)
    w_in_node = nir.Linear(weight=w_in) if affine_bias is None else nir.Affine(weight=w_in, bias=affine_bias)
    nodes = {"in": nir.Input(input_type=np.array([w_in.shape[1]])), "fc": w_in_node, "neurons": lif,
             "rec": nir.Linear(weight=w_rec), "out": nir.Output(output_type=np.array([n]))}
    edges = [("in", "fc"), ("fc", "neurons"), ("neurons", "rec"), ("rec", "neurons"), ("neurons", "out")]
    if not recurrent:
        del nodes["rec"]
        edges = [e for e in edges if "rec" not in e]
    if extra is not None:
        nodes.update(extra[0])
        edges += extra[1]
    if wrap:  # snnTorch-style: the recurrent layer inside a subgraph
        sub = nir.NIRGraph(nodes={"input": nir.Input(input_type=np.array([n])), "lif": lif, "w_rec": nodes["rec"],
                                  "output": nir.Output(output_type=np.array([n]))},
                           edges=[("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")])
        nodes = {"in": nodes["in"], "fc": w_in_node, "layer": sub, "out": nodes["out"]}
        edges = [("in", "fc"), ("fc", "layer"), ("layer", "out")]
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata={})


# --- our own exports -------------------------------------------------------------------------
def test_reference_round_trip_through_hdf5_is_bit_exact(spec, tmp_path):
    graph = to_nir(spec)
    path = save_nir(graph, tmp_path / "hrsnn.nir")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hrsnn.nir"]  # no temporary file left behind
    result = import_nir(load_nir(path))
    assert result.exact and result.has_metadata and result.notes == ()
    back = result.spec
    assert_same_network(back, spec)
    assert (back.name, back.seed, dict(back.design)) == (spec.name, spec.seed, dict(spec.design))
    for a, b in zip(back.projections, spec.projections, strict=True):
        assert (a.name, a.probability, a.weight_scale) == (b.name, b.probability, b.weight_scale)
        assert np.array_equal(a.pre_index, b.pre_index) and np.array_equal(a.post_index, b.post_index)
        assert np.array_equal(a.weight, b.weight)
    assert back.stdp == ()  # a frozen network: STDP is not exported


def test_exported_graph_follows_the_cubalif_convention(spec):
    graph = to_nir(spec)
    assert set(graph.edges) == {("input", "w_in"), ("w_in", "lif"), ("lif", "w_rec"), ("w_rec", "lif"),
                                ("lif", "output")}
    lif = graph.nodes["lif"]
    dt = spec.dt
    assert np.array_equal(lif.tau_mem, spec.neuron_param("tau_m"))
    assert np.array_equal(lif.v_threshold, spec.neuron_param("v_th"))
    # Forward Euler of the CubaLIF with these values adds I to v with gain 1 and W to I per spike.
    assert np.array_equal(lif.r, np.ones(spec.n_neurons))  # tau_m dv/dt = -v + u + bias
    assert np.allclose(lif.w_in * dt / lif.tau_syn, 1.0, rtol=1e-15)
    assert np.array_equal(graph.nodes["w_in"].weight, spec.input_weights().toarray())
    assert lif.metadata["dt"] == dt and np.array_equal(lif.metadata["refractory"], spec.neuron_param("refractory"))


def test_euler_convention_reproduces_our_decays_and_round_trips(spec):
    graph = to_nir(spec, decay="euler")
    lif = graph.nodes["lif"]
    assert np.allclose(1 - spec.dt / lif.tau_mem, np.exp(-spec.dt / spec.neuron_param("tau_m")), rtol=0, atol=1e-14)
    assert not np.allclose(lif.tau_mem, spec.neuron_param("tau_m"))  # tau_m down to 2 dt: the conventions differ
    result = import_nir(graph)
    assert result.exact
    assert_same_network(result.spec, spec)


def _run_ours(spec, x):
    """The shared step semantics in float (refractory 0), spikes and v per step."""
    a_u, a_v = np.exp(-spec.dt / spec.neuron_param("tau_syn")), np.exp(-spec.dt / spec.neuron_param("tau_m"))
    w_in, w_rec, bias, v_th = (spec.input_weights().toarray(), spec.recurrent_weights().toarray(), spec.neuron_param("bias"),
                               spec.neuron_param("v_th"))
    u, v, s, vs, ss = 0.0, 0.0, np.zeros(spec.n_neurons), [], []
    for t in range(len(x)):
        u = a_u * u + w_in @ (x[t - 1] if t else 0 * x[0]) + w_rec @ s
        v = a_v * v + (1 - a_v) * (u + bias)
        s = (v > v_th).astype(float)
        v = np.where(s > 0, 0.0, v)
        vs.append(v)
        ss.append(s)
    return np.array(ss), np.array(vs)


def _run_nir_euler(graph, dt, x):
    """A stepped NIR simulator: forward Euler, a spike is 1 for one step, every edge one step late."""
    lif, w_in, w_rec = graph.nodes["lif"], graph.nodes["w_in"].weight, graph.nodes["w_rec"].weight
    i_syn, v, s, vs, ss = 0.0, 0.0, np.zeros(w_rec.shape[0]), [], []
    for t in range(len(x)):
        drive = w_in @ (x[t - 1] if t else 0 * x[0]) + w_rec @ s
        i_syn = (1 - dt / lif.tau_syn) * i_syn + dt / lif.tau_syn * lif.w_in * drive
        v = (1 - dt / lif.tau_mem) * v + dt / lif.tau_mem * (lif.v_leak + lif.r * i_syn)
        s = (v > lif.v_threshold).astype(float)
        v = np.where(s > 0, lif.v_reset, v)
        vs.append(v)
        ss.append(s)
    return np.array(ss), np.array(vs)


def test_euler_export_simulates_like_our_step_semantics():
    design = read_json(REF)
    for pop in design["populations"].values():
        pop.update(refractory=0.0, bias=0.004)  # CubaLIF has no refractory period; bias exercises v_leak
    spec = build_spec(design)
    x = (np.random.default_rng(0).random((150, spec.n_input)) < 0.1).astype(float)
    ours_s, ours_v = _run_ours(spec, x)
    nir_s, nir_v = _run_nir_euler(to_nir(spec, decay="euler"), spec.dt, x)
    assert ours_s.sum() > 100  # the network is active, so the comparison means something
    assert np.array_equal(ours_s, nir_s)
    assert np.allclose(ours_v, nir_v, rtol=0, atol=1e-12)


def test_trained_network_exports_trained_weights_and_keeps_zero_weight_synapses(spec):
    proj = spec.projection("exc->exc")
    w = proj.weight * 0.75
    w[:10] = 0.0  # depressed to zero by STDP: still a synapse
    trained = TrainedNetwork(spec=spec.with_weights({"exc->exc": w}), initial=spec, training={"epochs": 1})
    graph = to_nir(trained)
    assert "training" in graph.metadata
    back = from_nir(graph)
    assert_same_network(back, trained.spec)
    assert back.projection("exc->exc").n_synapses == proj.n_synapses


def test_edited_export_takes_the_graphs_values_and_says_so(spec):
    graph = to_nir(spec)
    w = graph.nodes["w_rec"].weight.copy()
    exc, inh = spec.population_slice("exc"), spec.population_slice("inh")
    free = np.argwhere(w[exc, exc] == 0)
    free = free[free[:, 0] != free[:, 1]][0]
    w[free[0], free[1]] = 1e-3  # a new E->E connection
    graph.nodes["w_rec"].weight = w
    graph.nodes["lif"].v_threshold = graph.nodes["lif"].v_threshold * 2
    result = import_nir(graph)
    assert not result.exact and len(result.notes) == 2
    assert np.array_equal(result.spec.recurrent_weights().toarray(), w)
    assert np.array_equal(result.spec.neuron_param("v_th"), 2 * spec.neuron_param("v_th"))
    assert result.spec.projection("exc->exc").n_synapses == spec.projection("exc->exc").n_synapses + 1
    assert np.array_equal(result.spec.recurrent_weights().toarray()[inh], spec.recurrent_weights().toarray()[inh])


# --- graphs from other tools -----------------------------------------------------------------
def test_foreign_graph_gets_dale_populations_from_weight_signs():
    result = import_nir(foreign_graph(), dt=DT)
    back = result.spec
    assert not result.exact and not result.has_metadata
    assert [(p.name, p.n, p.excitatory) for p in back.populations] == [("exc", 4, True), ("inh", 2, False)]
    assert np.array_equal(back.recurrent_weights().toarray(), W_REC)
    assert np.array_equal(back.input_weights().toarray(), W_IN)
    assert np.array_equal(back.neuron_param("tau_m"), TAU_MEM)
    assert np.allclose(back.neuron_param("bias"), 0.01, rtol=1e-15)  # v_leak is the bias
    assert np.array_equal(back.neuron_param("refractory"), np.zeros(6))
    assert {p.name for p in back.projections} == {"input->exc", "input->inh", "exc->exc", "exc->inh", "inh->exc",
                                                 "inh->inh"}


def test_foreign_interleaved_signs_keep_the_neuron_order():
    order = [0, 4, 1, 2, 5, 3]  # E I E E I E
    w_rec, w_in = W_REC[np.ix_(order, order)], W_IN[order]
    result = import_nir(foreign_graph(w_rec, w_in), dt=DT)
    assert [(p.name, p.n) for p in result.spec.populations] == [("exc", 1), ("inh", 1), ("exc2", 2), ("inh2", 1),
                                                                ("exc3", 1)]
    assert np.array_equal(result.spec.recurrent_weights().toarray(), w_rec)
    assert any("interleave" in n for n in result.notes)


def test_foreign_user_populations_and_subgraph_wrapped_layer():
    back = from_nir(foreign_graph(wrap=True), dt=DT, populations={"e": 4, "i": 2})
    assert [(p.name, p.n, p.excitatory) for p in back.populations] == [("e", 4, True), ("i", 2, False)]
    assert np.array_equal(back.recurrent_weights().toarray(), W_REC)
    with pytest.raises(SpecError, match="mixes excitatory and inhibitory") as info:
        from_nir(foreign_graph(), dt=DT, populations=[("a", 3), ("b", 3)])
    assert info.value.index == 4


def test_foreign_input_gain_scales_weights_and_affine_bias_is_folded():
    b = np.array([0.0, 1.0, 0.0, 0.0, 2.0, 0.0]) * 1e-3
    result = import_nir(foreign_graph(gain_syn=2.0, affine_bias=b), dt=DT)
    back = result.spec
    assert np.allclose(back.recurrent_weights().toarray(), 2 * W_REC, rtol=1e-14, atol=0)
    assert np.allclose(back.input_weights().toarray(), 2 * W_IN, rtol=1e-14, atol=0)
    expected = 0.01 + 2 * b / (1 - np.exp(-DT / TAU_SYN))  # v_leak, plus the folded Affine bias
    assert np.allclose(back.neuron_param("bias"), expected, rtol=1e-14, atol=0)
    assert any("scaled" in n for n in result.notes) and any("Affine" in n for n in result.notes)


def test_mixed_sign_column_names_the_neuron():
    w = W_REC.copy()
    w[0, 2] = -1e-3  # neuron 2 now both excites and inhibits
    with pytest.raises(SpecError, match="neuron 2 has both") as info:
        from_nir(foreign_graph(w), dt=DT)
    assert info.value.parameter == "nodes.rec.weight[:, 2]"


def test_missing_or_conflicting_dt(spec):
    with pytest.raises(SpecError, match="dt is required") as info:
        from_nir(foreign_graph())
    assert info.value.parameter == "dt"
    with pytest.raises(SpecError, match="conflicts"):
        from_nir(to_nir(spec), dt=2 * spec.dt)


@pytest.mark.parametrize("case, match, parameter", [
    ("feedforward", "no recurrent edge", "nodes.neurons"),
    ("delay", "unsupported NIR node type", "nodes.delay"),
    ("two_layers", "multiple CubaLIF layers", "nodes.lif2"),
])
def test_unsupported_graph_shapes_name_the_node(case, match, parameter):
    if case == "feedforward":
        graph = foreign_graph(recurrent=False)
    elif case == "delay":
        graph = foreign_graph(extra=({"delay": nir.Delay(delay=np.zeros(6))}, [("neurons", "delay")]))
    else:
        lif2 = nir.CubaLIF(tau_syn=TAU_SYN, tau_mem=TAU_MEM, r=np.ones(6), v_leak=np.zeros(6),
                           v_threshold=np.full(6, 0.02))
        graph = foreign_graph(extra=({"fc2": nir.Linear(weight=np.eye(6)), "lif2": lif2},
                                     [("neurons", "fc2"), ("fc2", "lif2")]))
    with pytest.raises(SpecError, match=match) as info:
        from_nir(graph, dt=DT)
    assert info.value.parameter == parameter


def test_reset_potential_and_negative_input_are_refused():
    with pytest.raises(SpecError, match="reset potential") as info:
        from_nir(foreign_graph(v_reset=np.full(6, -0.01)), dt=DT)
    assert info.value.parameter == "nodes.neurons.v_reset"
    w_in = W_IN.copy()
    w_in[1, 2] = -1e-3
    with pytest.raises(SpecError, match="negative input weight") as info:
        from_nir(foreign_graph(w_in=w_in), dt=DT)
    assert info.value.parameter == "nodes.fc.weight[1, 2]"


def test_load_nir_refuses_missing_and_non_nir_files(tmp_path):
    with pytest.raises(ArtifactError, match="not found"):
        load_nir(tmp_path / "absent.nir")
    bad = tmp_path / "bad.nir"
    bad.write_text("not hdf5")
    with pytest.raises(ArtifactError, match="not a readable NIR file"):
        load_nir(bad)


# --- command line ----------------------------------------------------------------------------
def test_cli_export_and_import(spec, tmp_path, capsys):
    assert main(["nir", "export", str(REF), "--out", str(tmp_path / "x"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["n_neurons"] == spec.n_neurons and Path(summary["path"]).name == "hrsnn.nir"
    assert main(["nir", "import", summary["path"], "--out", str(tmp_path / "y"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["exact"] is True
    assert_same_network(load_spec(summary["path"]), spec)

    trained_path = tmp_path / "t.trained.json"
    TrainedNetwork(spec=spec, initial=spec).save(trained_path)
    assert main(["nir", "export", str(trained_path), "--out", str(tmp_path / "t"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["source"] == "TrainedNetwork"

    foreign = save_nir(foreign_graph(), tmp_path / "foreign.nir")
    assert main(["nir", "import", str(foreign), "--out", str(tmp_path / "f"), "--json"]) == 2  # no --dt
    assert json.loads(capsys.readouterr().out)["parameter"] == "dt"
    assert main(["nir", "import", str(foreign), "--dt", "0.001", "--populations", "e:4,i:2",
                 "--out", str(tmp_path / "f"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["name"] == "foreign" and summary["populations"]["i"] == {"n": 2, "excitatory": False}
    assert np.array_equal(load_spec(tmp_path / "f" / "foreign.spec.json").recurrent_weights().toarray(), W_REC)
