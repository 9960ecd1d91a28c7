"""The 2x2 ablation: seed-level statistics, verdicts from intervals, controls and references."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps

from hrsnn_hw.ablation import ARMS, CLAIM_1, CLAIM_2, judge_claims, run_ablation, write_ablation
from hrsnn_hw.errors import BackendError, DataError
from hrsnn_hw.experiment import ExperimentConfig
from hrsnn_hw.stats import Thresholds

ROOT = Path(__file__).resolve().parent.parent


def _runs(mc: dict, act: dict, n: int = 8, noise: float = 0.02, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {arm: [{"mc": mc[arm] * (1 + noise * rng.standard_normal()),
                   "activity": act[arm] * (1 + noise * rng.standard_normal())} for _ in range(n)] for arm in ARMS}


HOM = {"mrsnn": 1.0, "het_neurons_hom_stdp": 1.0, "hom_neurons_het_stdp": 1.0, "hrsnn": 1.0}
ACT = {"mrsnn": 0.05, "het_neurons_hom_stdp": 0.05, "hom_neurons_het_stdp": 0.05, "hrsnn": 0.05}


def test_claims_supported_when_the_numbers_say_so():
    runs = _runs(mc={"mrsnn": 1.0, "het_neurons_hom_stdp": 1.3, "hom_neurons_het_stdp": 1.0, "hrsnn": 1.3},
                 act={"mrsnn": 0.05, "het_neurons_hom_stdp": 0.05, "hom_neurons_het_stdp": 0.04, "hrsnn": 0.04})
    claims = judge_claims(runs)
    assert claims[CLAIM_1]["verdict"] == "supported" and claims[CLAIM_1]["holds"]
    assert claims[CLAIM_2]["verdict"] == "supported" and claims[CLAIM_2]["keeps_mc"]


def test_claims_contradicted_when_the_numbers_say_so():
    runs = _runs(mc={"mrsnn": 1.0, "het_neurons_hom_stdp": 0.8, "hom_neurons_het_stdp": 0.7, "hrsnn": 0.6},
                 act={"mrsnn": 0.05, "het_neurons_hom_stdp": 0.05, "hom_neurons_het_stdp": 0.04, "hrsnn": 0.04})
    claims = judge_claims(runs)
    assert claims[CLAIM_1]["verdict"] == "contradicted"
    c2 = claims[CLAIM_2]
    assert c2["lowers_activity"] and c2["loses_mc"] and c2["verdict"] == "contradicted"


def test_no_effect_is_inconclusive_and_few_seeds_are_not_judged():
    claims = judge_claims(_runs(HOM, ACT, n=8, noise=0.05))
    assert claims[CLAIM_1]["verdict"] == "inconclusive"
    few = judge_claims(_runs({**HOM, "het_neurons_hom_stdp": 1.5, "hrsnn": 1.5}, ACT, n=3))
    assert few[CLAIM_1]["verdict"].startswith("not judged") and not few[CLAIM_1]["holds"]
    # the interval is still computed and shown
    assert few[CLAIM_1]["tests"][0]["effect"]["ci_relative"]["low"] > 0


def test_each_claim_is_tested_once_per_seed_not_on_pooled_contrasts():
    runs = _runs({**HOM, "het_neurons_hom_stdp": 1.05, "hrsnn": 1.05}, ACT, n=5, noise=0.05, seed=3)
    effect = judge_claims(runs)[CLAIM_1]["tests"][0]["effect"]
    assert effect["n"] == 5 and len(effect["differences"]) == 5
    mc = {a: np.array([r["mc"] for r in runs[a]]) for a in ARMS}
    per_seed = 0.5 * ((mc["het_neurons_hom_stdp"] - mc["mrsnn"]) + (mc["hrsnn"] - mc["hom_neurons_het_stdp"]))
    assert effect["differences"] == pytest.approx(per_seed.tolist())
    seed_unit = sps.ttest_1samp(per_seed, 0.0, alternative="greater").pvalue
    pooled = np.concatenate([mc["het_neurons_hom_stdp"] - mc["mrsnn"], mc["hrsnn"] - mc["hom_neurons_het_stdp"]])
    assert effect["p_value"] == pytest.approx(seed_unit)
    assert effect["p_value"] != pytest.approx(sps.ttest_1samp(pooled, 0.0, alternative="greater").pvalue)


def test_thresholds_change_the_verdict_and_are_stated():
    runs = _runs({**HOM, "hom_neurons_het_stdp": 0.95, "hrsnn": 0.95}, {**ACT, "hom_neurons_het_stdp": 0.04,
                                                                         "hrsnn": 0.04}, n=10, noise=0.005)
    assert judge_claims(runs, Thresholds(mc_tolerance=0.1))[CLAIM_2]["verdict"] == "supported"
    assert judge_claims(runs, Thresholds(mc_tolerance=0.02))[CLAIM_2]["verdict"] == "contradicted"
    text = " ".join(Thresholds(mc_tolerance=0.02).describe())
    assert "-2 %" in text and "95 %" in text


def fake_evaluator(design, task, *, seed, config=None, controls=()):
    """Stand-in for evaluate_design: het neurons +20 % MC, het STDP -10 % activity; fails on seed 4 of one arm."""
    het_n = isinstance(design["populations"]["exc"]["tau_m"], dict)
    het_s = isinstance(design["stdp"]["exc->exc"]["tau_plus"], dict)  # STDP windows drawn per synapse
    if seed == 4 and het_n and not het_s:
        raise DataError("synthetic failure", parameter="seed", value=seed)
    rng = np.random.default_rng([seed, 2 * het_n + het_s])
    mc = (1.0 + 0.2 * het_n) * (1 + 0.02 * rng.standard_normal())
    act = (0.05 - 0.005 * het_s) * (1 + 0.02 * rng.standard_normal())
    out = {"mc": mc, "activity": act, "efficiency": mc / act, "task_metric": 0.8, "task_metric_name": "accuracy",
           "higher_is_better": True, "spikes_per_inference": act * 1e4}
    if controls:
        out["controls"] = {c: {**out, "mc": 0.5 * mc} for c in controls}
    return out


@pytest.mark.slow
def test_run_ablation_leaves_out_failed_seeds_and_reports_controls_and_references(tmp_path):
    config = ExperimentConfig.default(quick=True)
    result = run_ablation("hrsnn", config=config, seeds=range(7), workers=1, evaluator=fake_evaluator,
                          references=("linear",))
    assert result.seeds == (0, 1, 2, 3, 5, 6) and result.failed[0]["seed"] == 4
    assert all(len(result.runs[a]) == 6 for a in ARMS)
    assert result.claims[CLAIM_1]["verdict"] == "supported" and result.claims[CLAIM_2]["verdict"] == "supported"
    eff = result.controls["hrsnn"]["shuffled"]["effects"]["mc"]
    assert eff["mean_relative"] == pytest.approx(1.0) and eff["n"] == 6  # trained MC = 2 x control MC
    ref = result.references["linear"]
    assert len(ref["runs"]) == 6 and 0.5 < ref["summary"]["task_metric"]["mean"] <= 1.0
    assert ref["summary"]["mc"]["mean"] < 0.2  # the raw frame holds no past input: MC at chance
    doc = json.loads(json.dumps(result.as_dict()))
    assert doc["rules"] and doc["claims"][CLAIM_1]["tests"][0]["effect"]["ci_relative"]["confidence"] == 0.95
    files = write_ablation(result, tmp_path)
    md = Path(files["markdown"]).read_text()
    assert md.startswith("Rules, fixed before the runs:") and "**supported**" in md and "control: HRSNN" in md
    assert Path(files["figure"]).stat().st_size > 0


def test_too_many_failures_are_a_backend_error():
    config = ExperimentConfig.default(quick=True)
    with pytest.raises(BackendError):
        run_ablation("hrsnn", config=config, seeds=(2, 3, 4), workers=1, evaluator=fake_evaluator, references=())


def test_fewer_than_three_seeds_is_refused():
    with pytest.raises(DataError) as info:
        run_ablation(seeds=(0, 1))
    assert info.value.parameter == "seeds"


@pytest.mark.slow
@pytest.mark.brian2
def test_quick_ablation_json_holds_the_arms_controls_and_references(tmp_path):
    out = subprocess.run([sys.executable, "-m", "hrsnn_hw", "ablation", "--quick", "--json", "--out", str(tmp_path)],
                         capture_output=True, text=True, cwd=ROOT, timeout=1200)
    assert out.returncode == 0, out.stderr[-2000:]
    doc = json.loads(out.stdout)
    assert set(doc["arms"]) == set(ARMS) and len(doc["seeds"]) == 3
    for arm in doc["arms"].values():
        assert len(arm["runs"]) == 3
        for metric in ("mc", "activity", "efficiency", "task_metric"):
            assert arm[metric]["n"] == 3 and arm[metric]["std"] >= 0
    assert set(doc["claims"]) == {CLAIM_1, CLAIM_2}
    assert all(c["verdict"].startswith("not judged") for c in doc["claims"].values())  # 3 seeds < 5
    ctl = doc["controls"]["hrsnn"]
    assert set(ctl) == {"untrained", "shuffled"} and ctl["untrained"]["effects"]["mc"]["n"] == 3
    assert set(doc["references"]) == {"linear", "esn"}
    for name in ("ablation.json", "ablation.md", "ablation.png"):
        assert (tmp_path / name).stat().st_size > 0


@pytest.mark.parametrize("args, parameter", [(["--seeds", "2"], "--seeds"), (["--controls", "bogus"], "--controls"),
                                             (["--control-arms", "nope"], "--control-arms"),
                                             (["--references", "svm"], "--references")])
def test_bad_options_exit_2_naming_the_option(capsys, tmp_path, args, parameter):
    from hrsnn_hw.cli import main
    code = main(["ablation", "--json", "--out", str(tmp_path), *args])
    doc = json.loads(capsys.readouterr().out)
    assert code == 2 and doc["parameter"] == parameter
