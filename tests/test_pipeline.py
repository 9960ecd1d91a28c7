"""The whole pipeline in quick mode: stages, cache, report, exit code; stage-by-stage from the CLI."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hrsnn_hw.pipeline import Pipeline, PipelineConfig

ROOT = Path(__file__).resolve().parent.parent
# every test reads one quick run of the whole pipeline (Brian2 training, Lava, energy): minutes
pytestmark = [pytest.mark.slow, pytest.mark.brian2, pytest.mark.lava]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    # three Lava samples: the exact rungs run on the trained reference for more than 200 steps
    proc = subprocess.run([sys.executable, "-m", "hrsnn_hw", "run", "--quick", "--json", "--lava-samples", "3",
                           "--out", str(out)], capture_output=True, text=True, cwd=ROOT, timeout=1200)
    return out, proc


def test_run_succeeds_and_prints_one_json_object(quick_run):
    out, proc = quick_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads(proc.stdout)
    assert set(doc["designs"]) == {"hrsnn", "mrsnn"}
    for d in doc["designs"].values():
        assert d["verify"]["ok"]
        assert {r["rung"] for r in d["verify"]["rungs"]} == {1, 2, 3, 4, 5}
        assert d["fixed"]["efficiency"] == pytest.approx(d["fixed"]["mc"] / d["fixed"]["activity"])
    profiles = {r["profile"] for r in doc["energy"]["rows"]}
    assert {"loihi1", "loihi2", "cpu", "gpu"} <= profiles
    assert all(r["total"] > 0 for r in doc["energy"]["rows"] if not r["error"])


def test_exact_rungs_ran_on_the_trained_reference_for_200_steps(quick_run):
    from hrsnn_hw.verify import VerificationReport
    out, _ = quick_run
    ladder = VerificationReport.load(out / "verify-hrsnn" / "verification.json")
    assert ladder.ok and ladder.provenance["design"] == "hrsnn"
    exact = [r for r in ladder.rungs if r.rung in (1, 2)]
    assert len(exact) == 2 and all(r.verdict == "PASS" for r in exact)
    assert ladder.provenance["exact_steps"] >= 200
    for r in exact:
        assert r.details["n_steps_compared"] >= 200 and r.details["n_spikes"] > 0
    # rung 1 ran the deployed network itself on stock Lava neurons, one process per neuron profile
    (stock,) = ladder.rows(1)
    assert stock.details["neuron_profiles"] > 1 and stock.details["refractory_profiles"] > 0
    (task,) = ladder.rows(5)
    assert task.details["n10"] + task.details["n01"] <= task.details["n"] == 60
    assert "McNemar" in task.tolerance


def test_golden_and_lava_runs_give_identical_operation_counts(quick_run):
    from hrsnn_hw.counting import count_ops
    from hrsnn_hw.golden import simulate
    from hrsnn_hw.quantize import QuantizedNetwork
    from hrsnn_hw.records import SpikeRecord
    out, _ = quick_run
    qnet = QuantizedNetwork.load(out / "quantize-hrsnn" / "qnet.npz")
    lava = SpikeRecord.load(out / "deploy-hrsnn" / "lava_record.npz")
    golden = simulate(qnet, lava.input_spikes, lava.sample_lengths, record_states=True)  # as the Lava run
    a, b = count_ops(golden, qnet), count_ops(lava, qnet)
    assert a.per_sample.keys() == b.per_sample.keys()
    for key in a.per_sample:
        assert (a.per_sample[key] == b.per_sample[key]).all(), key
    assert a.per_sample["spikes"].sum() > 0


def test_energy_command_prices_the_reference_designs_at_equal_task(quick_run):
    out, _ = quick_run
    proc = subprocess.run([sys.executable, "-m", "hrsnn_hw", "energy", "--quick", "--json", "--profiles",
                           "loihi1,cpu", "--out", str(out)], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads(proc.stdout)
    spiking = [r for r in doc["rows"] if r["profile"] == "loihi1"]
    assert {r["design"] for r in spiking} == {"hrsnn", "mrsnn"}
    assert all(r["task_metric_name"] == "accuracy" and 0 <= r["task_metric"] <= 1 for r in spiking)
    assert len({r["cores"] for r in spiking}) == 1                       # equal core budget
    cpu = next(r for r in doc["rows"] if r["profile"] == "cpu")
    assert cpu["design"] == "esn" and cpu["task_metric"] is not None and cpu["batch_size"] == 1
    q = doc["ratios"]["loihi1"]
    assert q["numerator"] == "hrsnn" and q["denominator"] == "mrsnn" and q["dynamic"] > 0 and q["total"] > 0
    # the run's own table (every profile): dynamic energy moves with the work, never against it
    table = json.loads((out / "energy" / "energy.json").read_text())
    from hrsnn_hw.energy import EnergyTable
    ratios = EnergyTable.load(out / "energy" / "energy.json").ratios
    assert table and {"loihi1", "loihi2", "spinnaker2", "truenorth"} <= set(ratios)
    for profile, r in ratios.items():
        syn, spk = r["counts"]["synaptic_ops"] - 1, r["counts"]["spikes"] - 1
        if syn * spk > 0:
            assert (r["dynamic"] - 1) * syn >= 0, (profile, r["dynamic"], r["counts"])


def test_report_holds_every_section_and_its_figures(quick_run):
    out, _ = quick_run
    md = (out / "report" / "report.md").read_text()
    for section in ("## Summary", "## Design", "## Unsupervised training", "## Quantization",
                    "## Mapping and utilisation", "## Verification ladder", "## Energy per inference",
                    "## Environment"):
        assert section in md, section
    for line in md.splitlines():
        if line.startswith("!["):
            assert (out / "report" / line.split("(")[1].rstrip(")")).exists(), line
    html = (out / "report" / "report.html").read_text()
    assert "data:image/png;base64," in html and "<table>" in html
    assert (out / "pipeline.log").stat().st_size > 0


def test_rerun_skips_every_stage_and_gives_the_same_numbers(quick_run):
    out, proc = quick_run
    first = json.loads(proc.stdout)
    again = subprocess.run([sys.executable, "-m", "hrsnn_hw", "run", "--quick", "--json", "--lava-samples", "3",
                            "--out", str(out)],
                           capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    doc = json.loads(again.stdout)
    assert doc["stages"] and all(s["skipped"] for s in doc["stages"].values())
    assert doc["designs"] == first["designs"]


def test_changing_the_profile_reruns_from_quantization_only(quick_run, tmp_path):
    import shutil
    out = tmp_path / "copy"
    shutil.copytree(quick_run[0], out)  # leave the shared run untouched
    pipe = Pipeline(PipelineConfig(quick=True, profile="loihi1", baseline=None, lava_samples=3), out)
    pipe.fixed_metrics("hrsnn")
    skipped = {n: r.skipped for n, r in pipe.cache.results.items()}
    assert skipped["train-hrsnn"] is True
    assert skipped["quantize-hrsnn"] is False and skipped["fixed-hrsnn"] is False


def test_strict_quantization_turns_the_lossy_warning_into_exit_2(quick_run, tmp_path):
    import shutil
    out = tmp_path / "strict"
    shutil.copytree(quick_run[0], out)
    proc = subprocess.run([sys.executable, "-m", "hrsnn_hw", "quantize", "--quick", "--strict", "--baseline", "none",
                           "--out", str(out)], capture_output=True, text=True, cwd=ROOT, timeout=600)
    # the trained reference has E->E weights below the 8-bit range (see its quantization report)
    report = json.loads((quick_run[0] / "quantize-hrsnn" / "quantization.json").read_text())
    assert report["parameters"]["weights[exc->exc]"]["n_zeroed"] > 0
    assert proc.returncode == 2 and "parameter: projections.exc->exc.weight" in proc.stderr
    assert "Traceback" not in proc.stderr
