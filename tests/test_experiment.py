"""The measurement behind every report: MC, activity, E, task metric (Brian2 reference)."""
from __future__ import annotations

import numpy as np
import pytest

from hrsnn_hw.experiment import (ExperimentConfig, evaluate_design, frame_counts, make_spec, prepare_task,
                                 thermometer_raster)
from hrsnn_hw.records import SpikeRecord
from hrsnn_hw.reference import reference_design_path


def test_thermometer_code_is_linear_in_u():
    u = np.array([0.0, 0.26, 0.5, 0.99])
    raster = thermometer_raster(u, 8, 5)
    assert raster.shape == (1, 20, 8)
    active = raster[0, ::5].sum(axis=1)
    assert active.tolist() == [0, 2, 4, 8]
    assert not raster[0, 1::5].any()  # one spike per frame, on its first step


def test_frame_counts_sum_spikes_per_frame():
    spikes = np.zeros((1, 10, 3), bool)
    spikes[0, [0, 1, 7], [0, 0, 2]] = True
    rec = SpikeRecord(spikes=spikes, sample_lengths=np.array([10]), dt=0.001)
    counts = frame_counts(rec, 5)
    assert counts.tolist() == [[2, 0, 0], [0, 0, 1]]


@pytest.fixture(scope="module")
def quick_result():
    return evaluate_design(reference_design_path("hrsnn"), seed=0, quick=True)


@pytest.mark.slow
def test_evaluate_design_reports_consistent_metrics(quick_result):
    r = quick_result
    assert r["task_metric_name"] == "accuracy" and r["higher_is_better"]
    assert 0.0 < r["activity"] < 0.5 and r["mc"] > 0.0
    assert r["efficiency"] == pytest.approx(r["mc"] / r["activity"])
    # 9 speakers: a trained reservoir plus readout does much better than chance on the quick split
    assert r["task_metric"] > 1.0 / 9 + 0.2
    assert r["spikes_per_inference"] > 0


@pytest.mark.slow
def test_same_seed_same_result(quick_result):
    again = evaluate_design(reference_design_path("hrsnn"), seed=0, quick=True)
    for key in ("mc", "activity", "efficiency", "task_metric", "spikes_per_inference"):
        assert again[key] == quick_result[key], key


@pytest.mark.slow
def test_memory_capacity_depends_on_the_network_not_only_the_input():
    # Without recurrent connections and with very short membranes the layer forgets within a frame.
    from hrsnn_hw.experiment import brian2_simulator, measure_memory
    from hrsnn_hw.spec import read_spec_file
    cfg = ExperimentConfig.default(quick=True)
    design = read_spec_file(reference_design_path("mrsnn"))
    forgetful = dict(design)
    forgetful["projections"] = {k: v for k, v in design["projections"].items() if k.startswith("input")}
    forgetful["populations"] = {k: dict(v, tau_m=0.001, tau_syn=0.001) for k, v in design["populations"].items()}
    forgetful["stdp"] = {}
    n_input = prepare_task(cfg, 0).n_input
    mem_ref = measure_memory(brian2_simulator(make_spec(design, n_input, 0)), n_input, cfg, 0)
    mem_short = measure_memory(brian2_simulator(make_spec(forgetful, n_input, 0)), n_input, cfg, 0)
    assert mem_ref["mc_protocol"] == mem_short["mc_protocol"] == "current"
    # The forgetful layer keeps u(t-1) and a little of u(t-2) (the input synapses' one-step delay
    # at a frame's start, the phase of fast firing); from u(t-3) on it holds nothing, while the
    # reference layer integrates.
    assert abs(sum(mem_short["mc_per_delay"][2:])) < 0.05
    assert sum(mem_ref["mc_per_delay"][2:]) > sum(mem_short["mc_per_delay"][2:]) + 0.1
    assert mem_ref["mc"] > mem_short["mc"]


@pytest.mark.slow
def test_energy_per_inference_is_priced_when_a_profile_is_given():
    r = evaluate_design(reference_design_path("mrsnn"), seed=0, quick=True, profile="loihi1")
    assert r["energy_per_inference_J"] is not None and r["energy_per_inference_J"] > 0
    # every inference drives at least one synaptic event at Loihi 1's 23.6 pJ
    assert r["energy_per_inference_J"] > r["spikes_per_inference"] * 23.6e-12


@pytest.mark.slow
def test_prediction_task_beats_the_mean_predictor():
    r = evaluate_design(reference_design_path("hrsnn"), "mackey_glass", seed=0, quick=True)
    assert r["task_metric_name"] == "nrmse" and not r["higher_is_better"]
    # NRMSE 1 is the constant (mean) prediction. The margin is not a quality target: the quick
    # split's NRMSE was 0.86 with the reference design before the regime change of docs/regime.md
    # and is 0.89-0.93 (seeds 0-2) after it, stated there as a cost of that change.
    assert 0.0 < r["task_metric"] < 0.97


def _measurement():
    from hrsnn_hw.experiment import Measurement, MemoryMeasurement, TaskMeasurement
    memory = MemoryMeasurement(mc=1.5, mc_per_delay=np.array([0.9, 0.5, 0.1]), activity=0.05, total_spikes=1200,
                               steps=5000, details={"protocol": "thermometer", "chance": 0.01})
    task = TaskMeasurement(task="japanese_vowels", kind="classification", metric_name="accuracy",
                           higher_is_better=True, metric=0.8, train_metric=0.95, activity=0.04,
                           spikes_per_inference=900.0, steps_per_inference=120.0, y_pred=np.array([0, 2, 1]))
    return Measurement(memory=memory, task=task, seed=3, backend="brian2")


@pytest.mark.parametrize("suffix", [".npz", ".json"])
def test_measurement_is_a_frozen_loadable_artifact(tmp_path, suffix):
    import dataclasses
    from hrsnn_hw.experiment import Measurement
    m = _measurement()
    assert m.efficiency == pytest.approx(1.5 / 0.05)
    s = m.scalars()
    assert s["mc"] == 1.5 and s["task_metric"] == 0.8 and s["task_metric_name"] == "accuracy"
    assert "y_pred" not in s and m.summary()["y_pred"] == [0, 2, 1]
    assert s["chance"] == 0.01 and s["protocol"] == "thermometer"  # the MC protocol's scalar details
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.seed = 4
    with pytest.raises(ValueError):
        m.memory.mc_per_delay[0] = 0.0  # read-only
    back = Measurement.load(m.save(tmp_path / f"m{suffix}"))
    assert back.scalars() == s and back.memory.details["chance"] == 0.01
    assert np.array_equal(back.task.y_pred, m.task.y_pred) and back.memory.mc_per_delay.tolist() == [0.9, 0.5, 0.1]


def test_a_silent_network_has_no_efficiency_rather_than_an_infinite_one():
    import dataclasses
    m = _measurement()
    silent = dataclasses.replace(m, memory=dataclasses.replace(m.memory, activity=0.0))
    assert np.isnan(silent.efficiency)


def test_shuffled_control_permutes_plastic_weights_only():
    from hrsnn_hw.experiment import shuffle_plastic_weights
    spec = make_spec(reference_design_path("hrsnn"), 12, 0)
    shuffled = shuffle_plastic_weights(spec, seed=1)
    plastic = {r.projection for r in spec.stdp}
    assert plastic
    for before, after in zip(spec.projections, shuffled.projections):
        if before.name in plastic:
            assert not np.array_equal(before.weight, after.weight)
            assert np.array_equal(np.sort(before.weight), np.sort(after.weight))
        else:
            assert np.array_equal(before.weight, after.weight)
    assert np.array_equal(shuffle_plastic_weights(spec, 1).projections[0].weight, shuffled.projections[0].weight)


@pytest.mark.slow
@pytest.mark.brian2
def test_controls_are_measured_on_the_same_seed():
    r = evaluate_design(reference_design_path("hrsnn"), seed=0, quick=True, controls=("untrained", "shuffled"))
    assert set(r["controls"]) == {"untrained", "shuffled"}
    for ctl in r["controls"].values():
        assert ctl["task_metric_name"] == "accuracy" and ctl["mc"] >= 0 and ctl["activity"] > 0
    assert r["controls"]["untrained"]["mc"] != r["mc"]
    from hrsnn_hw.errors import DataError
    with pytest.raises(DataError):
        evaluate_design(reference_design_path("hrsnn"), seed=0, quick=True, epochs=0, controls=("untrained",))
