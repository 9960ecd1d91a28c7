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


def test_evaluate_design_reports_consistent_metrics(quick_result):
    r = quick_result
    assert r["task_metric_name"] == "accuracy" and r["higher_is_better"]
    assert 0.0 < r["activity"] < 0.5 and r["mc"] > 0.0
    assert r["efficiency"] == pytest.approx(r["mc"] / r["activity"])
    # 9 speakers: a trained reservoir plus readout does much better than chance on the quick split
    assert r["task_metric"] > 1.0 / 9 + 0.2
    assert r["spikes_per_inference"] > 0


def test_same_seed_same_result(quick_result):
    again = evaluate_design(reference_design_path("hrsnn"), seed=0, quick=True)
    for key in ("mc", "activity", "efficiency", "task_metric", "spikes_per_inference"):
        assert again[key] == quick_result[key], key


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


def test_energy_per_inference_is_priced_when_a_profile_is_given():
    r = evaluate_design(reference_design_path("mrsnn"), seed=0, quick=True, profile="loihi1")
    assert r["energy_per_inference_J"] is not None and r["energy_per_inference_J"] > 0
    # every inference drives at least one synaptic event at Loihi 1's 23.6 pJ
    assert r["energy_per_inference_J"] > r["spikes_per_inference"] * 23.6e-12


def test_prediction_task_beats_the_mean_predictor():
    r = evaluate_design(reference_design_path("hrsnn"), "mackey_glass", seed=0, quick=True)
    assert r["task_metric_name"] == "nrmse" and not r["higher_is_better"]
    assert 0.0 < r["task_metric"] < 0.9  # NRMSE 1 is the constant (mean) prediction
