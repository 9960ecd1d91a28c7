"""Energy: hand-computed picojoules, idle/static-only runs, linearity, hops, baselines, table, CLI."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from hrsnn_hw.reference import reference_design_path

from hrsnn_hw.cli import run_cli
from hrsnn_hw.counting import count_ops
from hrsnn_hw.energy import (compare_designs, conventional_baseline, energy_table, estimate_energy,
                             plot_energy, table_json)
from hrsnn_hw.errors import HrsnnError, ProfileError
from hrsnn_hw.mapping import map_network
from hrsnn_hw.profiles import PROFILE_DIR, load_profile, parse_profile
from hrsnn_hw.fixedpoint import NumberFormat, QuantizedNetwork, QuantizedProjection
from hrsnn_hw.records import SpikeRecord

PJ = 1e-12


def three_neurons() -> QuantizedNetwork:
    w = np.zeros((3, 3), int)
    w[1, 0], w[2, 0], w[2, 1] = 10, 20, -5
    n = 3
    return QuantizedNetwork(name="three", dt=1e-3, n_input=1, du=np.full(n, 800), dv=np.full(n, 200),
                            vth=np.full(n, 100), bias_mant=np.zeros(n), bias_exp=np.zeros(n),
                            refractory_steps=np.zeros(n),
                            projections=(QuantizedProjection.from_dense("rec", "recurrent", w, 0, 8, "mixed"),
                                         QuantizedProjection.from_dense("in", "input", np.array([[30], [0], [0]]), 0, 8,
                                                             "excitatory")),
                            excitatory=np.ones(n, bool), number_format=NumberFormat.from_profile("loihi2"))


def three_raster(silent: bool = False) -> SpikeRecord:
    s = np.zeros((1, 4, 3), bool)
    x = np.zeros((1, 4, 1), bool)
    if not silent:
        s[0, 0, 0] = s[0, 2, 0] = s[0, 1, 1] = s[0, 3, 2] = True
        x[0, 0, 0] = x[0, 1, 0] = True
    return SpikeRecord(spikes=s, sample_lengths=np.array([4]), dt=1e-3, input_spikes=x)


def sanafe_one_core_per_neuron():
    data = json.loads((PROFILE_DIR / "loihi1_sanafe.json").read_text())
    for key, value in {"neurons_per_core": 1, "cores_per_tile": 1, "cores_per_chip": 4, "mesh_width": 2,
                       "mesh_height": 2}.items():
        data["core_limits"][key]["value"] = value
    return parse_profile(data, origin="test")


def hand_setup(silent=False):
    prof = sanafe_one_core_per_neuron()
    qnet = three_neurons()
    placement = map_network(qnet, prof, strategy="sequential")
    return prof, placement, count_ops(three_raster(silent), qnet, placement)


def test_three_neurons_energy_to_the_picojoule():
    prof, placement, counts = hand_setup()
    rep = estimate_energy(counts, prof, placement, time_per_step=1e-8)
    # counts (see test_counting): 7 syn ops, 8 active + 4 idle updates, 4 spikes, 7 messages, 3 EW + 3 NS hops
    expected = {"synaptic": 7 * 33.6, "neuron_active": 8 * 72.8, "neuron_idle": 4 * 51.2, "spike_out": 4 * 69.3,
                "routing": 7 * 111 + 3 * 3.0 + 3 * 4.2,
                "static": 0.104 * 1e-8 * 4 / PJ}                     # 104 mW x 1 chip x 4 steps x 10 ns
    assert set(rep.terms) == set(expected)
    for term, pj in expected.items():
        assert rep.terms[term] == pytest.approx(pj * PJ, abs=1e-3 * PJ), term
    assert rep.total == pytest.approx((2098.2 + 4160) * PJ, abs=1e-3 * PJ)
    assert rep.per_sample.tolist() == pytest.approx([rep.total])
    # band: synaptic 23.6..35.5, active 72.8..81, idle 51.2..52, NS hop 4.0..4.2
    low = 7 * 23.6 + 8 * 72.8 + 4 * 51.2 + 4 * 69.3 + 7 * 111 + 3 * 3.0 + 3 * 4.0 + 4160
    high = 7 * 35.5 + 8 * 81 + 4 * 52 + 4 * 69.3 + 7 * 111 + 3 * 3.0 + 3 * 4.2 + 4160
    assert rep.low == pytest.approx(low * PJ, abs=1e-3 * PJ)
    assert rep.high == pytest.approx(high * PJ, abs=1e-3 * PJ)
    # per core: syn at the target, updates on the core, spikes/messages/hops at the source
    core0 = 2 * 33.6 + 3 * 72.8 + 1 * 51.2 + 2 * 69.3 + 4 * 111 + 2 * 3.0 + 2 * 4.2
    assert rep.by_core[0] == pytest.approx(core0 * PJ, abs=1e-3 * PJ)
    assert rep.unattributed == pytest.approx((2 * 111 + 4160) * PJ, abs=1e-3 * PJ)   # I/O inputs + static
    assert rep.time_per_inference == pytest.approx(4e-8)


def test_zero_input_costs_exactly_idle_and_static():
    prof, placement, counts = hand_setup(silent=True)
    rep = estimate_energy(counts, prof, placement, time_per_step=1e-6)
    assert rep.terms["neuron_idle"] == pytest.approx(12 * 51.2 * PJ)
    assert rep.terms["static"] == pytest.approx(0.104 * 4e-6)
    for term in ("synaptic", "neuron_active", "spike_out", "routing"):
        assert rep.terms[term] == 0.0, term
    assert rep.total == pytest.approx(12 * 51.2 * PJ + 0.104 * 4e-6)
    # Loihi 2: idle + per-core-step overhead + static
    l2 = load_profile("loihi2")
    qnet = three_neurons()
    pl2 = map_network(qnet, l2)
    rep2 = estimate_energy(count_ops(three_raster(True), qnet, pl2), l2, pl2)
    expected = 12 * 52e-12 + 4 * 785.7e-9 * pl2.n_cores + 0.232 * 4 * 152.85e-6
    assert rep2.total == pytest.approx(expected, rel=1e-9)
    assert set(k for k, v in rep2.terms.items() if v) == {"neuron_idle", "overhead", "static"}


def scaled(counts, k):
    return dataclasses.replace(counts, per_sample={n: v * k for n, v in counts.per_sample.items()},
                               per_core={n: v * k for n, v in counts.per_core.items()})


@pytest.mark.parametrize("name", ["loihi1", "loihi1_sanafe", "loihi2", "truenorth", "spinnaker2", "cpu"])
def test_energy_scales_linearly_with_counts(name):
    prof = load_profile(name)
    qnet = three_neurons()
    placement = map_network(qnet, prof) if prof.kind == "neuromorphic" else None
    counts = count_ops(three_raster(), qnet, placement)
    one = estimate_energy(counts, prof, placement, time_per_step=2e-6)
    three = estimate_energy(scaled(counts, 3), prof, placement, time_per_step=2e-6)
    assert one.total > 0
    for term in one.terms:
        assert three.terms[term] == pytest.approx(3 * one.terms[term], rel=1e-12), term
    assert three.low == pytest.approx(3 * one.low) and three.high == pytest.approx(3 * one.high)


def spread_network(n=64, m=4, seed=0):
    rng = np.random.default_rng(seed)
    w = (rng.random((n, n)) < 0.3) * rng.integers(1, 60, (n, n))
    w_in = (rng.random((n, m)) < 0.5) * 9
    qnet = QuantizedNetwork(name="spread", dt=1e-3, n_input=m, du=np.full(n, 800), dv=np.full(n, 200),
                            vth=np.full(n, 100), bias_mant=np.zeros(n), bias_exp=np.zeros(n),
                            refractory_steps=np.zeros(n),
                            projections=(QuantizedProjection.from_dense("rec", "recurrent", w, 0, 8, "excitatory"),
                                         QuantizedProjection.from_dense("in", "input", w_in, 0, 8, "excitatory")),
                            excitatory=np.ones(n, bool), number_format=NumberFormat.from_profile("loihi2"))
    rec = SpikeRecord(spikes=rng.random((3, 30, n)) < 0.1, sample_lengths=np.full(3, 30), dt=1e-3,
                      input_spikes=rng.random((3, 30, m)) < 0.2)
    return qnet, rec


def test_a_network_spread_over_more_cores_costs_more_hops():
    prof = load_profile("loihi1_sanafe")
    qnet, rec = spread_network()
    compact = map_network(qnet, prof)
    spread = map_network(qnet, prof, max_neurons_per_core=2)
    assert compact.n_cores == 1 and spread.n_cores == 32
    c1, c2 = count_ops(rec, qnet, compact), count_ops(rec, qnet, spread)
    assert c1.mean("synaptic_ops") == c2.mean("synaptic_ops")
    assert c2.mean("hops_east_west") + c2.mean("hops_north_south") > c1.mean("hops_east_west") + c1.mean(
        "hops_north_south")
    assert c2.mean("messages") > c1.mean("messages")
    e1 = estimate_energy(c1, prof, compact, time_per_step=1e-6)
    e2 = estimate_energy(c2, prof, spread, time_per_step=1e-6)
    assert e2.terms["routing"] > e1.terms["routing"]
    assert e2.terms["synaptic"] == e1.terms["synaptic"]


def test_static_power_modes_and_time_modes():
    prof = load_profile("loihi1")
    qnet, rec = spread_network()
    placement = map_network(qnet, prof, max_neurons_per_core=4)          # 16 of 128 cores
    counts = count_ops(rec, qnet, placement)
    chip = estimate_energy(counts, prof, placement, time_per_step=1e-6)
    share = estimate_energy(counts, prof, placement, time_per_step=1e-6, static="core_share")
    assert share.terms["static"] == pytest.approx(chip.terms["static"] * 16 / 128)
    real = estimate_energy(counts, prof, placement, time_per_step="real_time")
    assert real.terms["static"] == pytest.approx(0.104 * 1e-3 * 30)
    act = estimate_energy(counts, prof, placement)                        # loihi1: derived from activity
    busiest = max((counts.per_core["synaptic_ops"] * 3.5e-9 + counts.per_core["neuron_updates_active"] * 8.4e-9
                   + counts.per_core["neuron_updates_idle"] * 5.3e-9) / 30)
    assert act.time_per_inference == pytest.approx((busiest + 113e-9) * 30)
    assert any("derived from activity" in a for a in act.assumptions)
    with pytest.raises(ProfileError):
        estimate_energy(counts, load_profile("spinnaker2"), time_per_step="activity")
    with pytest.raises(HrsnnError) as exc:
        estimate_energy(counts, prof, placement, time_per_step=-1.0)
    assert exc.value.parameter == "time_per_step"
    with pytest.raises(HrsnnError):
        estimate_energy(counts, prof, placement, static="per_wafer")


def test_missing_terms_are_stated():
    qnet, rec = spread_network()
    tn = load_profile("truenorth")
    placement = map_network(qnet, tn)
    rep = estimate_energy(count_ops(rec, qnet, placement), tn, placement)
    assert "routing" not in rep.terms
    assert any("routing left out" in a for a in rep.assumptions)
    assert rep.terms["synaptic"] == pytest.approx(rep.counts["synaptic_ops"] * 26e-12)
    l2 = load_profile("loihi2")
    pl2 = map_network(qnet, l2)
    rep2 = estimate_energy(count_ops(rec, qnet, pl2), l2, pl2)
    assert any("energy.synaptic_op is an estimate" in a for a in rep2.assumptions)


def test_conventional_baseline_dense_and_sparse():
    qnet, rec = spread_network()
    cpu = load_profile("cpu")
    n, m, steps = 64, 4, 30
    nnz = int(sum((p.w_post_pre != 0).sum() for p in qnet.projections))
    dense = conventional_baseline(qnet, steps, cpu, variant="dense")
    sparse = conventional_baseline(qnet, steps, cpu, variant="sparse")
    assert dense.counts["macs"] == (n * m + n * n) * steps
    assert sparse.counts["macs"] == nnz * steps
    assert dense.total == pytest.approx(((n * m + n * n) * steps + n * steps) * 8.6e-9)
    assert sparse.total == pytest.approx((nnz * steps + n * steps) * 8.6e-9)
    assert dense.low == pytest.approx((n * m + n * n) * steps * 4.6e-12 + n * steps * 4.6e-12)
    gpu = conventional_baseline(qnet, [30, 30, 30], load_profile("gpu"))
    assert gpu.total == pytest.approx(dense.total * 0.3 / 8.6)
    with pytest.raises(ProfileError):
        conventional_baseline(qnet, steps, load_profile("loihi1"))
    with pytest.raises(HrsnnError):
        conventional_baseline(qnet, steps, cpu, variant="banded")


def test_conventional_baseline_from_a_spec():
    from hrsnn_hw.spec import load_spec
    spec = load_spec(reference_design_path("hrsnn"))
    rep = conventional_baseline(spec, 10, load_profile("cpu"), variant="sparse")
    nnz = sum(p.n_synapses for p in spec.projections)
    assert rep.counts["macs"] == nnz * 10
    assert rep.design == spec.name


def test_compare_designs_ratio():
    prof = load_profile("loihi1_sanafe")
    qnet, rec = spread_network()
    placement = map_network(qnet, prof)
    counts = count_ops(rec, qnet, placement)
    a = estimate_energy(counts, prof, placement, time_per_step=1e-6)
    b = estimate_energy(scaled(counts, 2), prof, placement, time_per_step=1e-6)
    r = compare_designs(a, b)
    assert r["ratio"] == pytest.approx(0.5)
    assert r["low"] <= r["ratio"] <= r["high"]
    with pytest.raises(HrsnnError):
        compare_designs(a, conventional_baseline(qnet, 30, load_profile("cpu")))


def test_energy_table_json_figure(tmp_path):
    qnet, rec = spread_network()
    homog = dataclasses.replace(qnet, name="mrsnn")
    table = energy_table([("HRSNN", qnet, rec), ("MRSNN", homog, rec)], ["loihi1", "loihi2", "cpu"],
                         time_per_step=1e-6)
    assert table["reference"] == "MRSNN"
    models = {(r["profile"], r["design"], r["model"]) for r in table["rows"]}
    assert ("cpu", "HRSNN", "rate_dense") in models and ("loihi2", "MRSNN", "spiking") in models
    assert len(table["rows"]) == 2 * 2 + 2 * 2
    ratio = next(q for q in table["ratios"] if q["profile"] == "loihi1")
    assert ratio["numerator"] == "HRSNN" and ratio["ratio"] == pytest.approx(1.0)
    assert "loihi2" in table["text"] and "HRSNN/MRSNN" in table["text"]
    doc = table_json(table)
    json.dumps(doc)
    assert doc["reports"]["loihi1/HRSNN/spiking"]["assumptions"]
    path = plot_energy(table, tmp_path / "energy.png")
    assert path.stat().st_size > 1000 and path.read_bytes()[:4] == b"\x89PNG"


def test_a_design_that_does_not_fit_gets_an_error_row():
    qnet, rec = spread_network()
    data = json.loads((PROFILE_DIR / "loihi1.json").read_text())
    data["name"] = "tiny"
    data["core_limits"]["neurons_per_core"]["value"] = 1
    data["core_limits"]["cores_per_chip"]["value"] = 8
    data["core_limits"]["mesh_width"]["value"] = 1
    data["core_limits"]["mesh_height"]["value"] = 2
    table = energy_table([("net", qnet, rec)], [parse_profile(data), "loihi1"])
    bad = [r for r in table["rows"] if r["profile"] == "tiny"]
    assert bad and "neurons_per_board" in bad[0]["error"]
    assert "does not fit" in table["text"]


def test_cli_energy(tmp_path, capsys):
    qnet, rec = spread_network()
    qnet.save(tmp_path / "h.npz")
    dataclasses.replace(qnet, name="mrsnn").save(tmp_path / "m.npz")
    rec.save(tmp_path / "r.npz")
    out = tmp_path / "out"
    code = run_cli(["energy", "--qnet", str(tmp_path / "h.npz"), "--record", str(tmp_path / "r.npz"),
                    "--qnet", str(tmp_path / "m.npz"), "--record", str(tmp_path / "r.npz"),
                    "--name", "HRSNN", "--name", "MRSNN", "--profiles", "loihi1_sanafe,gpu",
                    "--time-per-step", "1e-6", "--out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "loihi1_sanafe" in text and "HRSNN/MRSNN" in text
    doc = json.loads((out / "energy.json").read_text())
    assert doc["format"] == "hrsnn_hw.EnergyTable" and len(doc["rows"]) == 2 + 4
    assert (out / "energy.png").exists()
    assert run_cli(["energy", "--qnet", str(tmp_path / "h.npz"), "--record", str(tmp_path / "r.npz"),
                    "--record", str(tmp_path / "r2.npz"), "--profiles", "loihi1"]) == 2  # 1 network, 2 records
    assert run_cli(["energy", "--qnet", str(tmp_path / "h.npz"), "--profiles", "loihi1"]) == 2
    assert run_cli(["energy", "--qnet", str(tmp_path / "h.npz"), "--record", str(tmp_path / "r.npz"),
                    "--profiles", "loihi7"]) == 2


def test_sanafe_reproduces_synapse_and_network_energy():
    """Runs only where the optional `sanafe` package is installed (not a project dependency)."""
    sanafe = pytest.importorskip("sanafe")
    from importlib.resources import files

    prof = load_profile("loihi1_sanafe")
    qnet, rec = spread_network(n=24, m=4, seed=2)
    rec = SpikeRecord(spikes=rec.spikes[:1], sample_lengths=rec.sample_lengths[:1], dt=1e-3,
                      input_spikes=rec.input_spikes[:1])
    placement = map_network(qnet, prof, max_neurons_per_core=1, inputs="core")   # 25 cores on 7 tiles
    counts = count_ops(rec, qnet, placement)
    assert counts.mean("hops_east_west") > 0 and counts.mean("hops_north_south") > 0
    ours = estimate_energy(counts, prof, placement, time_per_step=1e-6)

    arch = sanafe.load_arch(str(files("sanafe.examples").joinpath("loihi.yaml")))
    net = sanafe.Network()
    n, m = qnet.n_neurons, qnet.n_input
    groups = {"rec": net.create_neuron_group("rec", n, default_synapse_hw_name="loihi_sparse_synapse",
                                             default_dendrite_hw_name="loihi_dendrites"),
              "inp": net.create_neuron_group("inp", m, default_synapse_hw_name="loihi_sparse_synapse",
                                             default_dendrite_hw_name="loihi_dendrites")}
    slot = {}

    def place(neuron, core, train):
        k = slot.get(core, 0)
        slot[core] = k + 1
        # every replayed neuron is an input-model soma unit of its own: it emits the recorded raster
        neuron.set_attributes(soma_hw_name=f"loihi_inputs[{k}]",
                              model_attributes={"spikes": [bool(b) for b in train]})
        neuron.map_to_core(arch.tiles[core // 4].cores[core % 4])

    for i in range(n):
        place(groups["rec"][i], int(placement.neuron_core[i]), rec.spikes[0, :, i])
    for j in range(m):
        place(groups["inp"][j], int(placement.input_core[j]), rec.input_spikes[0, :, j])
    w_rec, w_in = qnet.projections[0].w_post_pre, qnet.projections[1].w_post_pre
    for post, pre in zip(*np.nonzero(w_rec)):
        groups["rec"][int(pre)].connect_to_neuron(groups["rec"][int(post)], {"weight": 0.0})
    for post, pre in zip(*np.nonzero(w_in)):
        groups["inp"][int(pre)].connect_to_neuron(groups["rec"][int(post)], {"weight": 0.0})
    chip = sanafe.SpikingChip(arch)
    chip.load(net)
    result = chip.sim(rec.n_steps)
    assert result["energy"]["synapse"] == pytest.approx(ours.terms["synaptic"], rel=1e-9)
    assert result["energy"]["network"] == pytest.approx(ours.terms["routing"], rel=1e-9)
    assert result["packets_sent"] == counts.mean("messages")
