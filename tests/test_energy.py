"""Energy: hand-computed picojoules and nanoseconds, static conventions, time models, equal core budgets,
fair ratios, the Loihi 2 sanity checks, the conventional baseline, artifacts, the table and the CLI."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from hrsnn_hw.cli import run_cli
from hrsnn_hw.counting import OpCounts, count_ops
from hrsnn_hw.energy import (ConventionalModel, Deployment, DesignRun, EnergyReport, EnergyTable, energy_table,
                             estimate_energy, format_joules, plot_energy, price_conventional, train_esn)
from hrsnn_hw.errors import HrsnnError, ProfileError
from hrsnn_hw.mapping import map_network
from hrsnn_hw.profiles import PROFILE_DIR, load_profile, parse_profile
from energy_nets import QuantizedNetwork, network, projection
from hrsnn_hw.records import SpikeRecord

PJ, NS = 1e-12, 1e-9


def three_neurons() -> QuantizedNetwork:
    w = np.zeros((3, 3), int)
    w[1, 0], w[2, 0], w[2, 1] = 10, 20, -5
    n = 3
    return network("three", (projection("rec", "recurrent", w, 0, 8, "mixed"),
                             projection("in", "input", np.array([[30], [0], [0]]), 0, 8, "excitatory")),
                   n_input=1, du=np.full(n, 800), dv=np.full(n, 200), vth=np.full(n, 100))


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
                "routing": 7 * 111 + 3 * 3.0 + 3 * 4.2}
    assert set(rep.dynamic) == set(expected)
    for term, pj in expected.items():
        assert rep.dynamic[term] == pytest.approx(pj * PJ, abs=1e-3 * PJ), term
    assert rep.dynamic_j == pytest.approx(2098.2 * PJ, abs=1e-3 * PJ)
    assert rep.static_j == pytest.approx(0.104 * 1e-8 * 4)         # 104 mW x 1 chip x 4 steps x 10 ns
    assert rep.static_convention == "chip" and rep.comparable
    assert rep.total_j == pytest.approx(rep.dynamic_j + rep.static_j)
    assert rep.per_sample_dynamic.tolist() == pytest.approx([rep.dynamic_j])
    # band: synaptic 23.6..35.5, active 72.8..81, idle 51.2..52, NS hop 4.0..4.2
    low = 7 * 23.6 + 8 * 72.8 + 4 * 51.2 + 4 * 69.3 + 7 * 111 + 3 * 3.0 + 3 * 4.0
    high = 7 * 35.5 + 8 * 81 + 4 * 52 + 4 * 69.3 + 7 * 111 + 3 * 3.0 + 3 * 4.2
    assert rep.dynamic_low_j == pytest.approx(low * PJ, abs=1e-3 * PJ)
    assert rep.dynamic_high_j == pytest.approx(high * PJ, abs=1e-3 * PJ)
    # per core: syn at the target, updates on the core, spikes/messages/hops at the source
    core0 = 2 * 33.6 + 3 * 72.8 + 1 * 51.2 + 2 * 69.3 + 4 * 111 + 2 * 3.0 + 2 * 4.2
    assert rep.by_core[0] == pytest.approx(core0 * PJ, abs=1e-3 * PJ)
    assert rep.unattributed == pytest.approx(2 * 111 * PJ, abs=1e-3 * PJ)    # inputs from the I/O port
    assert rep.latency_s == pytest.approx(4e-8) and rep.time_model == "given"
    assert rep.edp_js == pytest.approx(rep.total_j * 4e-8)


def test_compute_bound_time_to_the_nanosecond():
    prof, placement, counts = hand_setup()
    rep = estimate_energy(counts, prof, placement)                   # loihi1_sanafe's own model: compute-bound
    # busiest core per step (neuron time; message time 16 + 4.7 = 20.7 ns never exceeds it here):
    # t0 core0: active 9.7 + spike 30 + 2 messages x 5.1; t1 core1: 9.7 + 30 + 5.1; t2 as t0; t3 core2: 9.7 + 30
    busy = (49.9 + 44.8 + 49.9 + 39.7) * NS
    sync = 1.0e-6                                                     # 3 tiles: the table's entry for 2 tiles
    assert rep.time_model == "compute"
    assert rep.latency_s == pytest.approx(busy + 4 * sync, rel=1e-9)
    assert rep.time_per_step_s == pytest.approx(rep.latency_s / 4)
    assert rep.compute_time_per_step_s == pytest.approx(rep.time_per_step_s)
    assert rep.static_j == pytest.approx(0.104 * rep.latency_s)
    low, high = rep.latency_band_s
    assert low < rep.latency_s < high


def test_zero_input_costs_exactly_idle_overhead_and_static():
    prof, placement, counts = hand_setup(silent=True)
    rep = estimate_energy(counts, prof, placement, time_per_step=1e-6)
    assert rep.dynamic["neuron_idle"] == pytest.approx(12 * 51.2 * PJ)
    for term in ("synaptic", "neuron_active", "spike_out", "routing"):
        assert rep.dynamic[term] == 0.0, term
    assert rep.static_j == pytest.approx(0.104 * 4e-6)
    l2 = load_profile("loihi2")
    qnet = three_neurons()
    dep = Deployment.map(qnet, l2)
    rep2 = dep.energy(three_raster(True), time_per_step=1e-6)
    expected = 12 * 52e-12 + 4 * l2.number("energy", "per_core_step_overhead") * dep.cores
    assert rep2.dynamic_j == pytest.approx(expected, rel=1e-9)
    assert {k for k, v in rep2.dynamic.items() if v} == {"neuron_idle", "overhead"}
    assert rep2.static_j == pytest.approx(0.232078 * 4e-6)


def scaled(counts: OpCounts, k: int) -> OpCounts:
    return dataclasses.replace(counts, per_sample={n: v * k for n, v in counts.per_sample.items() if n != "steps"}
                               | {"steps": counts.per_sample["steps"]},
                               per_core={n: v * k for n, v in counts.per_core.items()})


@pytest.mark.parametrize("name", ["loihi1", "loihi1_sanafe", "loihi2", "truenorth", "spinnaker2"])
def test_dynamic_energy_scales_linearly_with_the_event_counts(name):
    prof = load_profile(name)
    qnet = three_neurons()
    placement = map_network(qnet, prof)
    counts = count_ops(three_raster(), qnet, placement)
    one = estimate_energy(counts, prof, placement, time_per_step=2e-6)
    three = estimate_energy(scaled(counts, 3), prof, placement, time_per_step=2e-6)
    assert one.dynamic_j > 0
    for term in one.dynamic:
        if term != "overhead":                                        # per step, not per event
            assert three.dynamic[term] == pytest.approx(3 * one.dynamic[term], rel=1e-12), term


def spread_network(n=64, m=4, seed=0, rate=0.1, name="spread"):
    rng = np.random.default_rng(seed)
    w = (rng.random((n, n)) < 0.3) * rng.integers(1, 60, (n, n))
    w_in = (rng.random((n, m)) < 0.5) * 9
    qnet = network(name, (projection("rec", "recurrent", w, 0, 8, "excitatory"),
                          projection("in", "input", w_in, 0, 8, "excitatory")),
                   n_input=m, du=np.full(n, 800), dv=np.full(n, 200), vth=np.full(n, 100))
    rec = SpikeRecord(spikes=rng.random((3, 30, n)) < rate, sample_lengths=np.full(3, 30), dt=1e-3,
                      input_spikes=rng.random((3, 30, m)) < 0.2)
    return qnet, rec


@pytest.mark.parametrize("name", ["loihi1", "loihi1_sanafe", "loihi2"])
def test_spreading_over_more_cores_never_lowers_dynamic_energy(name):
    prof = load_profile(name)
    qnet, rec = spread_network()
    reports = [Deployment.map(qnet, prof, cores=c).energy(rec) for c in (1, 2, 4, 8, 16, 32)]
    dyn = [r.dynamic_j for r in reports]
    assert all(b >= a for a, b in zip(dyn, dyn[1:])), dyn
    assert dyn[-1] > dyn[0]
    assert len({r.dynamic["synaptic"] for r in reports}) == 1
    # under whole-chip static with a compute-bound step the total may fall; the convention is in the row
    assert all(r.static_convention == "chip" for r in reports)


def test_static_conventions_and_time_models():
    prof = load_profile("loihi1")
    qnet, rec = spread_network()
    dep = Deployment.map(qnet, prof, cores=16)                       # 16 of 128 cores
    counts = dep.count(rec)
    chip = dep.price(counts, time_per_step=1e-6)
    share = dep.price(counts, time_per_step=1e-6, static="core_share")
    assert share.static_j == pytest.approx(chip.static_j * 16 / 128)
    assert share.dynamic == chip.dynamic
    real = dep.price(counts, time_per_step="real_time")
    assert real.static_j == pytest.approx(0.104 * 1e-3 * 30) and real.time_model == "real_time"
    assert real.compute_time_per_step_s > 0 and real.latency_s == pytest.approx(30e-3)
    auto = dep.price(counts)
    assert auto.time_model == "compute" and auto.latency_s < real.latency_s
    with pytest.raises(ProfileError):
        estimate_energy(count_ops(rec, qnet, map_network(qnet, load_profile("spinnaker2"))),
                        load_profile("spinnaker2"), time_per_step="compute")
    with pytest.raises(HrsnnError) as exc:
        dep.price(counts, time_per_step=-1.0)
    assert exc.value.parameter == "time_per_step"
    with pytest.raises(HrsnnError) as exc:
        dep.price(counts, static="per_wafer")
    assert exc.value.parameter == "static"
    tn = load_profile("truenorth")
    tn_rep = Deployment.map(qnet, tn).energy(rec)
    assert tn_rep.time_model == "tick" and tn_rep.latency_s == pytest.approx(30e-3)
    assert tn_rep.static_j is None and not tn_rep.comparable and "included" in tn_rep.comparability
    sp = Deployment.map(qnet, load_profile("spinnaker2")).energy(rec)
    assert sp.time_model == "real_time" and sp.static_j is None and not sp.comparable


def test_reports_and_tables_are_loadable_artifacts(tmp_path):
    qnet, rec = spread_network()
    rep = Deployment.map(qnet, "loihi2").energy(rec)
    for suffix in (".json", ".npz"):
        back = EnergyReport.load(rep.save(tmp_path / f"rep{suffix}"))
        assert back.dynamic == rep.dynamic and back.static_j == rep.static_j
        assert np.array_equal(back.per_sample_dynamic, rep.per_sample_dynamic)
        assert back.row() == rep.row()
    table = energy_table([("a", qnet, rec), ("b", dataclasses.replace(qnet, name="b"), rec)], ["loihi1", "loihi2"])
    back = EnergyTable.load(table.save(tmp_path / "table.json"))
    assert back.to_json() == table.to_json() and back.text == table.text
    assert back.report("loihi2", "a").dynamic == table.report("loihi2", "a").dynamic


def test_designs_are_compared_on_an_equal_core_budget():
    """The design needing more cores sets the budget; the other is spread onto it."""
    qnet, rec = spread_network(n=40)
    # 40 distinct thresholds: 8 per core on loihi1 -> 5 cores; the homogeneous twin fits one core
    hetero = dataclasses.replace(qnet, name="hetero", vth=np.arange(100, 140))
    table = energy_table([("hetero", hetero, rec), ("homog", dataclasses.replace(qnet, name="homog"), rec)],
                         ["loihi1"], reference="homog")
    cores = {r["design"]: r["cores"] for r in table.rows}
    assert cores == {"hetero": 5, "homog": 5}
    q = table.ratios["loihi1"]
    assert q["equal_cores"] and q["cores"] == [5, 5]
    unequal = energy_table([("hetero", hetero, rec), ("homog", dataclasses.replace(qnet, name="homog"), rec)],
                           ["loihi1"], reference="homog", equal_cores=False)
    assert {r["design"]: r["cores"] for r in unequal.rows} == {"hetero": 5, "homog": 1}
    assert not unequal.ratios["loihi1"]["equal_cores"]


@pytest.mark.parametrize("name", ["loihi1", "loihi1_sanafe", "loihi2", "truenorth", "spinnaker2"])
def test_dynamic_ratio_follows_synaptic_ops_and_spikes(name):
    """More spikes (hence more synaptic ops, messages, active updates) can never cost less dynamic energy."""
    qnet, rec = spread_network(n=48)
    rng = np.random.default_rng(4)
    busier = SpikeRecord(spikes=rec.spikes | (rng.random(rec.spikes.shape) < 0.05), sample_lengths=rec.sample_lengths,
                         dt=rec.dt, input_spikes=rec.input_spikes)
    table = energy_table([("busy", dataclasses.replace(qnet, name="busy"), busier), ("calm", qnet, rec)], [name],
                         reference="calm")
    q = table.ratios[name]
    assert q["counts"]["spikes"] > 1 and q["counts"]["synaptic_ops"] > 1
    assert q["dynamic"] > 1
    # no term reverses it: every event term grows; idle updates shrink only as active ones (dearer) grow
    rep_b, rep_c = table.report(name, "busy"), table.report(name, "calm")
    updates = [r.dynamic.get("neuron_active", 0.0) + r.dynamic.get("neuron_idle", 0.0) for r in (rep_b, rep_c)]
    assert updates[0] >= updates[1] * (1 - 1e-12)
    assert all(v >= 1 - 1e-12 for k, v in q["terms"].items() if v is not None and k != "neuron_idle"), q["terms"]


def reference_loihi2_run(n_samples=20, steps=90, rate=0.08):
    """The reference 200-neuron HRSNN quantized for loihi2, run by the golden model on a random raster."""
    from hrsnn_hw.energy import simulate_with_activity
    from hrsnn_hw.quantize import quantize
    from hrsnn_hw.reference import reference_design_path
    from hrsnn_hw.spec import build_spec, read_spec_file
    spec = build_spec(read_spec_file(reference_design_path("hrsnn")), n_input=24, seed=0)
    qnet, _ = quantize(spec, load_profile("loihi2"))
    x = np.random.default_rng(0).random((n_samples, steps, 24)) < rate
    record, active = simulate_with_activity(qnet, x, np.full(n_samples, steps))
    return qnet, record, active


def test_loihi2_reference_design_costs_less_than_pilotnet_in_every_convention():
    qnet, record, active = reference_loihi2_run()
    assert qnet.n_neurons == 200 and record.spikes.sum() > 0
    dep = Deployment.map(qnet, "loihi2")
    counts = dep.count(record, active=active)
    for static in ("chip", "core_share"):
        rep = dep.price(counts, static=static)
        assert rep.total_j < 1.661e-3 and rep.total_high_j < 1.661e-3, (static, rep.total_j)
        assert rep.dynamic_j < 1.094e-3
    # paced to the network's 1 ms step, a whole chip's leakage alone passes PilotNet's figure: the row says so
    real = dep.price(counts, time_per_step="real_time")
    assert real.time_model == "real_time" and real.static_j == pytest.approx(0.232078 * 90e-3, rel=1e-6)


def pilotnet_counts() -> OpCounts:
    """PilotNet LIF's load (lava-dl benchmark): 158,509 neurons on 74 cores, 16 steps, every neuron updated."""
    # (layer neurons, neurons per core) from the benchmark's per-core table; the last core takes the rest
    layers = ((39600, 3168), (76032, 3072), (26460, 2160), (8064, 2688), (5632, 2048), (2560, 2048), (100, 9),
              (50, 50), (10, 10), (1, 1))
    per_core = np.concatenate([np.minimum(k, n - k * np.arange(-(-n // k))) for n, k in layers]).astype(float)
    assert per_core.size == 74
    neurons = per_core.sum()
    steps = 16
    zero = np.zeros(1, np.int64)
    ps = {k: zero.copy() for k in ("spikes", "input_spikes", "synaptic_ops", "synaptic_ops_recurrent",
                                    "synaptic_ops_input", "messages", "input_messages", "messages_off_core",
                                    "hops_east_west", "hops_north_south", "learning_updates")}
    ps.update({"steps": np.array([steps]), "neuron_updates_active": np.array([int(neurons) * steps]),
               "neuron_updates_idle": zero.copy(), "synaptic_ops_dense": zero.copy(),
               "synaptic_ops_connected": zero.copy()})
    core_steps = {"active": np.tile(np.ceil(per_core), (1, steps, 1)).astype(np.int32)}
    core_steps.update({k: np.zeros((1, steps, 74), np.int32) for k in ("spikes", "messages_out", "messages_in",
                                                                          "synaptic_ops_in")})
    per_core_means = {k: np.zeros(74) for k in ("synaptic_ops", "neuron_updates_idle", "spikes", "messages",
                                                "messages_in", "hops_east_west", "hops_north_south",
                                                "learning_updates")}
    per_core_means["neurons"] = np.ceil(per_core)
    per_core_means["neuron_updates_active"] = np.ceil(per_core) * steps
    return OpCounts(design="pilotnet-load", n_samples=1, n_neurons=int(neurons), n_inputs=0, dt=1e-3, per_sample=ps,
                    per_step={}, per_core=per_core_means, core_steps=core_steps, n_cores=74, n_tiles=74, n_chips=1,
                    cores_per_chip=128, placement_profile="loihi2", n_synapses=0, activation_sparsity=1.0,
                    connection_sparsity=1.0, active_definition="every neuron updated every step (upper bound)")


def test_a_pilotnet_sized_load_lands_within_the_band_of_the_measurement():
    """The profile prices PilotNet's load (its synaptic ops unknown: counted as none) around the measurement."""
    rep = estimate_energy(pilotnet_counts(), load_profile("loihi2"))
    measured_dynamic, measured_total, measured_step = 1.093544e-3, 1.661103e-3, 1 / 408.91 / 16
    assert rep.dynamic_low_j <= measured_dynamic <= rep.dynamic_high_j
    assert rep.total_low_j <= measured_total <= rep.total_high_j
    low, high = rep.latency_band_s
    assert low / 16 <= measured_step <= high / 16
    assert rep.dynamic_j == pytest.approx(measured_dynamic, rel=0.01)      # the overhead's derivation, re-priced
    assert rep.time_per_step_s < measured_step                             # Loihi 1 per-op times: a faster step


def test_conventional_baseline_counts_macs_per_input_frame():
    from hrsnn_hw.tasks import load_task
    task = load_task("unit_test")
    model = train_esn(task, n_units=30, seed=1)
    c = task.x_train.shape[2]
    assert model.macs_per_frame == 30 * c + model.n_recurrent_weights + 2 * 30
    assert np.array_equal(model.frames, task.len_test)                    # one update per frame, not per SNN step
    assert 0.0 <= model.task_metric <= 1.0 and model.task_metric_name == "accuracy"
    one = price_conventional(model, "cpu", batch_size=1)
    big = price_conventional(model, "cpu", batch_size=64)
    macs = model.macs_per_sample()
    assert one.dynamic_j == pytest.approx(macs.mean() * 6.3e-3 / 172800, rel=1e-3)
    assert big.dynamic_j == pytest.approx(macs.mean() * 8.6e-9)
    assert one.batch_size == 1 and big.batch_size == 64 and big.dynamic_j < one.dynamic_j
    assert one.static_j is None and one.task["value"] == model.task_metric
    gpu = price_conventional(model, "gpu")
    assert gpu.dynamic_j == pytest.approx(macs.mean() * 29.8e-3 / 172800, rel=1e-3)
    assert ConventionalModel.load(model.save("/tmp/esn-test.json")).macs_per_frame == model.macs_per_frame
    with pytest.raises(HrsnnError):
        price_conventional(model, "loihi1")
    with pytest.raises(HrsnnError):
        price_conventional(model, "cpu", batch_size=0)


@pytest.mark.slow
def test_energy_table_rows_follow_the_cli_contract(tmp_path):
    from hrsnn_hw.tasks import load_task
    qnet, rec = spread_network()
    homog = dataclasses.replace(qnet, name="mrsnn")
    esn = train_esn(load_task("unit_test"), n_units=20)
    table = energy_table([DesignRun("HRSNN", qnet, rec, task={"name": "accuracy", "value": 0.8}),
                          ("MRSNN", homog, rec)], ["loihi1", "loihi2", "cpu"], baseline=esn, batch_size=32)
    assert table.reference == "MRSNN"
    doc = table.to_json()
    keys = {"profile", "design", "synaptic_ops", "dynamic_j", "static_j", "total_j", "static_convention",
            "time_per_step_s", "latency_s", "cores", "task_metric"}
    for row in doc["rows"]:
        assert keys <= set(row), set(row) ^ keys
    assert len(doc["rows"]) == 2 * 2 + 1
    cpu = next(r for r in doc["rows"] if r["profile"] == "cpu")
    assert cpu["design"] == "esn" and cpu["batch_size"] == 1 and cpu["batch_size_batched"] == 32
    assert cpu["task_metric"] == esn.task_metric
    q = doc["ratios"]["loihi2"]
    assert q["numerator"] == "HRSNN" and q["dynamic"] == pytest.approx(1.0) and q["total"] == pytest.approx(1.0)
    assert "loihi2" in table.text and "HRSNN/MRSNN" in table.text
    json.dumps(doc)
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
    bad = [r for r in table.rows if r["profile"] == "tiny"]
    assert bad and "neurons_per_board" in bad[0]["error"]
    assert "does not fit" in table.text


def test_one_joule_formatter():
    assert format_joules(1.234e-6) == "1.23 uJ"
    assert format_joules(0) == "0 J" and format_joules(None) == "-" and format_joules(float("nan")) == "-"
    assert format_joules(2.5e-3) == "2.5 mJ" and format_joules(7e-13) == "700 fJ"


def test_cli_energy(tmp_path, capsys):
    qnet, rec = spread_network()
    qnet.save(tmp_path / "h.npz")
    dataclasses.replace(qnet, name="mrsnn").save(tmp_path / "m.npz")
    rec.save(tmp_path / "r.npz")
    out = tmp_path / "out"
    args = ["energy", "--qnet", str(tmp_path / "h.npz"), "--record", str(tmp_path / "r.npz"),
            "--qnet", str(tmp_path / "m.npz"), "--record", str(tmp_path / "r.npz"), "--name", "HRSNN",
            "--name", "MRSNN", "--profiles", "loihi1_sanafe,loihi2"]
    code = run_cli(args + ["--out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "loihi1_sanafe" in text and "HRSNN/MRSNN" in text
    table = EnergyTable.load(out / "energy.json")
    assert len(table.rows) == 4 and (out / "energy.png").exists()
    assert run_cli(args + ["--json", "--static", "core_share", "--time-per-step", "real_time"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {r["static_convention"] for r in doc["rows"]} == {"core_share"}
    assert set(doc["ratios"]) == {"loihi1_sanafe", "loihi2"}
    assert run_cli(["energy", "--qnet", str(tmp_path / "h.npz"), "--record", str(tmp_path / "r.npz"),
                    "--record", str(tmp_path / "r2.npz"), "--profiles", "loihi1"]) == 2  # 1 network, 2 records
    assert run_cli(["energy", "--qnet", str(tmp_path / "h.npz"), "--profiles", "loihi1"]) == 2
    assert run_cli(["energy", "--qnet", str(tmp_path / "h.npz"), "--record", str(tmp_path / "r.npz"),
                    "--profiles", "loihi7"]) == 2
    assert run_cli(args + ["--time-per-step", "sometimes"]) == 2


def test_activity_without_states_when_every_neuron_has_a_bias_equals_sanafes_rule_with_states():
    """Every neuron of the reference design has a bias: the rule's state term cannot change the raster,
    so simulate_with_activity skips recording states; the raster and the spikes are those of the full rule."""
    from hrsnn_hw.counting import active_neurons
    from hrsnn_hw.energy import simulate_with_activity
    from hrsnn_hw.golden import simulate
    qnet, record, active = reference_loihi2_run(n_samples=6, steps=40)
    assert np.all(np.asarray(qnet.bias_mant) != 0)
    x = np.random.default_rng(0).random((6, 40, 24)) < 0.08
    lengths = np.full(6, 40)
    lengths[2] = 25                                    # a shorter sample: its padding is never active
    _, active_short = simulate_with_activity(qnet, x, lengths)
    full = simulate(qnet, x, lengths, record_states=True)
    expected, _ = active_neurons(full, qnet)
    assert np.array_equal(active_short, expected)
    assert not active_short[2, 25:].any() and active_short[2, :25].all()
    assert np.array_equal(record.spikes, simulate(qnet, x, np.full(6, 40)).spikes)
