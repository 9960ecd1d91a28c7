"""verify(): one ladder, a loadable report, and rung 5's paired test (numpy only, no Lava or Brian2)."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.stats import binomtest

from hrsnn_hw.errors import ArtifactError, DataError
from hrsnn_hw.fixedpoint import QuantizedProjection
from hrsnn_hw.golden.testing import random_inputs, random_qnet
from hrsnn_hw.verify import (RungResult, TaskPredictions, Tolerances, VerificationReport, paired_accuracy_test,
                             verify)


@pytest.fixture(scope="module")
def net():
    rng = np.random.default_rng(11)
    q = random_qnet(rng, 20, 4)
    x, lengths = random_inputs(rng, 2, 30, 4)
    return q, x, lengths


def _labels(n_both: int, n10: int, n01: int, n_neither: int) -> tuple[np.ndarray, ...]:
    """Paired predictions with the given counts of (float right?, fixed right?) samples."""
    y = np.zeros(n_both + n10 + n01 + n_neither, int)
    right_f = np.r_[np.ones(n_both + n10, bool), np.zeros(n01 + n_neither, bool)]
    right_x = np.r_[np.ones(n_both, bool), np.zeros(n10, bool), np.ones(n01, bool), np.zeros(n_neither, bool)]
    return y, np.where(right_f, 0, 1), np.where(right_x, 0, 2)


# ---------------------------------------------------------------- rung 5

def test_paired_test_counts_discordant_samples_and_states_its_tolerance():
    v = paired_accuracy_test(*_labels(40, 10, 2, 8))
    assert (v["n"], v["n10"], v["n01"]) == (60, 10, 2)
    assert v["float"] == pytest.approx(50 / 60) and v["fixed"] == pytest.approx(42 / 60)
    assert v["drop"] == pytest.approx(8 / 60) and v["drop_lower_bound"] < v["drop"]
    assert v["mcnemar_p"] == pytest.approx(binomtest(10, 12, 0.5, alternative="greater").pvalue)
    assert "3 points" in v["tolerance"] and "95 %" in v["tolerance"] and "McNemar" in v["tolerance"]


def test_paired_test_fails_a_network_that_is_clearly_worse_and_passes_noise():
    assert not paired_accuracy_test(*_labels(150, 40, 5, 5))["ok"]      # 35 points lost of 200
    assert paired_accuracy_test(*_labels(150, 12, 12, 26))["ok"]        # as many gained as lost
    assert paired_accuracy_test(*_labels(30, 0, 0, 30))["ok"]          # identical predictions
    assert paired_accuracy_test(*_labels(30, 0, 0, 30))["drop_lower_bound"] == 0.0
    # the same drop is significant on many samples and not on few
    assert not paired_accuracy_test(*_labels(1200, 200, 50, 550))["ok"]
    assert paired_accuracy_test(*_labels(12, 4, 1, 7))["ok"]


def test_with_zero_tolerance_the_bound_is_mcnemars_exact_test():
    for n10 in range(0, 15):
        for n01 in range(0, 15):
            v = paired_accuracy_test(*_labels(20, n10, n01, 10), max_drop=0.0, confidence=0.95)
            p = binomtest(n10, n10 + n01, 0.5, alternative="greater").pvalue if n10 + n01 else 1.0
            assert (not v["ok"]) == (p < 0.05), (n10, n01, p, v["drop_lower_bound"])


def test_paired_predictions_must_cover_the_same_samples():
    with pytest.raises(DataError, match="same samples"):
        TaskPredictions.classification(np.zeros(5, int), np.zeros(5, int), np.zeros(4, int))
    with pytest.raises(DataError, match="tolerance out of range") as info:
        Tolerances(confidence=1.0)
    assert info.value.parameter == "tolerances.confidence"


def test_prediction_tasks_keep_a_relative_nrmse_tolerance(net):
    q, x, lengths = net
    ok = verify(q, x, lengths, rungs=(5,), task=TaskPredictions.prediction(0.40, 0.44))
    bad = verify(q, x, lengths, rungs=(5,), task=TaskPredictions.prediction(0.40, 0.50))
    assert ok.ok and not bad.ok and "15 %" in bad.rungs[0].tolerance


@pytest.mark.slow
def test_rung5_fails_a_damaged_deployment_of_a_real_task():
    # a real quick task, both networks on the golden model: the "deployed" one lost its input synapses
    from hrsnn_hw.backends import simulator
    from hrsnn_hw.experiment import ExperimentConfig, make_spec, measure_task, prepare_task
    from hrsnn_hw.quantize import quantize
    from hrsnn_hw.reference import reference_design_path
    prepared = prepare_task(ExperimentConfig.default(quick=True), seed=0)
    qnet, _ = quantize(make_spec(reference_design_path("hrsnn"), prepared.n_input, 0), "loihi2")
    damaged = dataclasses.replace(qnet, projections=tuple(
        QuantizedProjection.from_dense(p.name, p.source, np.zeros(p.shape, int), p.weight_exp, p.num_weight_bits,
                                       p.sign_mode) if p.source == "input" else p
        for p in qnet.projections))
    y = prepared.task.y_test
    good = measure_task(simulator(qnet, "golden"), prepared).y_pred
    bad = measure_task(simulator(damaged, "golden"), prepared).y_pred
    x, lengths = prepared.test.spikes[:1], prepared.test.sample_lengths[:1]
    same = verify(qnet, x, lengths, rungs=(5,), task=TaskPredictions.classification(y, good, good))
    broken = verify(qnet, x, lengths, rungs=(5,), task=TaskPredictions.classification(y, good, bad))
    assert same.ok and same.rungs[0].details["n10"] == 0
    assert not broken.ok and broken.rungs[0].details["drop_lower_bound"] > 0.03


# ---------------------------------------------------------------- verify() and its report

def test_verify_runs_the_golden_rungs_and_the_report_round_trips(net, tmp_path):
    q, x, lengths = net
    report = verify(q, x, lengths, rungs=(3, 5),
                    task=TaskPredictions.classification(*_labels(20, 1, 1, 3)), provenance={"design": "unit"})
    assert [r.rung for r in report.rungs] == [3, 5] and report.ok
    assert report.provenance["design"] == "unit" and report.provenance["tolerances"]["accuracy_drop_max"] == 0.03
    for suffix in ("json", "npz"):
        path = report.save(tmp_path / f"verification.{suffix}")
        again = VerificationReport.load(path)
        assert again == report and again.summary() == report.summary()
    assert report.summary()["rungs"][0]["verdict"] == "PASS"
    (tmp_path / "bad.json").write_text('{"format": "hrsnn_hw.VerificationReport", "version": 1, "rungs": []}')
    with pytest.raises(ArtifactError, match="unsupported format version"):
        VerificationReport.load(tmp_path / "bad.json")


def test_report_markdown_escapes_cells_and_names_the_first_divergence():
    row = RungResult(rung=1, pair="a | b", tier="exact", metric="m", value="diverged", tolerance="identical",
                     ok=False, first_divergence="step=3, neuron=7")
    md = VerificationReport(rungs=(row,)).to_markdown()
    assert "a \\| b" in md and "Rung 1 first divergence: step=3, neuron=7" in md
    assert not VerificationReport(rungs=()).ok  # nothing verified is not a pass


def test_verify_asks_for_what_a_rung_needs(net):
    q, x, lengths = net
    with pytest.raises(DataError, match="rung 4 needs the float reference") as info:
        verify(q, x, lengths, rungs=(4,))
    assert info.value.parameter == "reference"
    with pytest.raises(DataError, match="rung 5 needs") as info:
        verify(q, x, lengths, rungs=(5,))
    assert info.value.parameter == "task"
    with pytest.raises(DataError, match="unknown rung"):
        verify(q, x, lengths, rungs=(6,))
    with pytest.raises(DataError, match="quantized network"):
        verify(object(), x, lengths)


def test_verify_refuses_a_record_of_other_inputs(net):
    from hrsnn_hw.backends import simulate
    q, x, lengths = net
    other = simulate(q, ~x, lengths, backend="golden", record_states=True)
    with pytest.raises(DataError, match="not a run of the inputs") as info:
        verify(q, x, lengths, rungs=(3,), records={"golden": other})
    assert info.value.parameter == "records['golden']"
    with pytest.raises(DataError, match="keyed by the backend") as info:
        verify(q, x, lengths, rungs=(3,), records={"heterolif": other})
    assert info.value.value == "heterolif" and "lava-stock" in info.value.allowed
    no_states = simulate(q, x, lengths, backend="golden")
    with pytest.raises(DataError, match="lacks u and v"):
        verify(q, x, lengths, rungs=(3,), records={"golden": no_states})


@pytest.mark.parametrize("n, discordant, smallest_failing_drop", [(60, 12, 10 / 60), (370, 56, 26 / 370)])
def test_what_rung5_can_detect_is_what_the_readme_says(n, discordant, smallest_failing_drop):
    # README, Verification: 17 points on 60 samples (12 discordant), 7 points on 370 (56 discordant)
    drops = [paired_accuracy_test(*_labels(n - discordant - 10, n10, discordant - n10, 10))
             for n10 in range(discordant // 2, discordant + 1)]
    first = next(v for v in drops if not v["ok"])
    assert first["drop"] == pytest.approx(smallest_failing_drop)
    assert round(100 * first["drop"]) == {60: 17, 370: 7}[n]
