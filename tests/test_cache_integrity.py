"""The stage cache can be trusted: keys hold a digest of the package's code and every input, and
stage records hold the checksum of every artifact, so a damaged or missing artifact is noticed
(one line), recomputed, and the run ends as if nothing had happened."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hrsnn_hw.pipeline import Pipeline, PipelineConfig
from hrsnn_hw.pipeline.cache import StageCache, package_digest, tree_digest

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-c", "import sys; from hrsnn_hw.cli import main; sys.exit(main(sys.argv[1:]))"]


def test_the_code_digest_changes_with_any_file_of_the_package(tmp_path):
    pkg = tmp_path / "pkg"
    shutil.copytree(ROOT / "hrsnn_hw", pkg, ignore=shutil.ignore_patterns("__pycache__"))
    before = tree_digest(pkg)
    assert before == tree_digest(ROOT / "hrsnn_hw") == package_digest()
    (pkg / "golden" / "kernel.py").write_text((pkg / "golden" / "kernel.py").read_text() + "\n# changed\n")
    assert tree_digest(pkg) != before
    (pkg / "golden" / "kernel.py").write_text((ROOT / "hrsnn_hw" / "golden" / "kernel.py").read_text())
    (pkg / "hardware_profiles" / "loihi2.json").write_text("{}")  # bundled data counts too
    assert tree_digest(pkg) != before


def test_stage_keys_change_with_the_code_and_with_a_data_file(tmp_path, monkeypatch):
    import numpy as np

    import hrsnn_hw.pipeline.core as core
    pipe = Pipeline(PipelineConfig(quick=True, baseline=None), tmp_path)
    key = pipe._key("verify", "hrsnn")
    monkeypatch.setattr(core, "package_digest", lambda: "another-version-of-the-code")
    assert Pipeline(PipelineConfig(quick=True, baseline=None), tmp_path)._key("verify", "hrsnn") != key
    monkeypatch.undo()
    data = tmp_path / "data.npz"

    def write(scale: float) -> None:
        rng = np.random.default_rng(0)
        np.savez(data, x_train=rng.random((6, 4, 2)) * scale, y_train=np.array([0, 1] * 3),
                 x_test=rng.random((4, 4, 2)), y_test=np.array([0, 1] * 2))
    write(1.0)
    first = Pipeline(PipelineConfig(quick=True, baseline=None, task=str(data)), tmp_path)._key("train", "hrsnn")
    write(2.0)  # same path, other content
    assert Pipeline(PipelineConfig(quick=True, baseline=None, task=str(data)), tmp_path)._key("train", "hrsnn") != first


def test_a_damaged_artifact_is_recomputed_and_reported_once(tmp_path):
    calls = []

    def produce(d: Path) -> dict:
        calls.append(1)
        (d / "a.bin").write_bytes(b"payload")
        return {"n": len(calls)}
    cache = StageCache(tmp_path)
    assert cache.run("s", "k", produce, ("a.bin",)).skipped is False
    assert StageCache(tmp_path).run("s", "k", produce, ("a.bin",)).skipped is True
    (tmp_path / "s" / "a.bin").write_bytes(b"payloaD")  # same size, one byte flipped
    events = []
    res = StageCache(tmp_path, on_event=events.append).run("s", "k", produce, ("a.bin",))
    assert res.skipped is False and len(calls) == 2
    assert [e for e in events if "damaged" in e] == ["[s] cached artifact a.bin is damaged (checksum mismatch): "
                                                     "recomputing"]
    (tmp_path / "s" / "a.bin").unlink()
    res = StageCache(tmp_path, on_event=events.append).run("s", "k", produce, ("a.bin",))
    assert res.skipped is False and any("a.bin is missing" in e for e in events)
    (tmp_path / "s" / "stage.json").write_text('{"format": "hrsnn_hw.sta')  # truncated record
    assert StageCache(tmp_path).run("s", "k", produce, ("a.bin",)).skipped is False
    record = json.loads((tmp_path / "s" / "stage.json").read_text())
    assert set(record["checksums"]) == {"a.bin"} and record["code"] == package_digest()


@pytest.mark.slow
@pytest.mark.brian2
def test_damaged_cache_files_of_a_real_run_are_rebuilt(tmp_path):
    out = tmp_path / "run"
    args = [*CLI, "quantize", "--quick", "--baseline", "none", "--out", str(out), "--json"]
    first = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=1200)
    assert first.returncode == 0, first.stderr[-3000:]
    metrics = (out / "float-hrsnn" / "metrics.json").read_text()
    qnet = (out / "quantize-hrsnn" / "qnet.npz").read_bytes()
    # a truncated npz, an emptied metrics.json, a bit flip in a JSON artifact, a missing record
    (out / "quantize-hrsnn" / "qnet.npz").write_bytes(qnet[: len(qnet) // 2])
    (out / "float-hrsnn" / "metrics.json").write_text("")
    trained = bytearray((out / "train-hrsnn" / "trained.json").read_bytes())
    trained[len(trained) // 2] ^= 0x01
    (out / "train-hrsnn" / "trained.json").write_bytes(bytes(trained))
    (out / "float-hrsnn" / "mc_record.npz").unlink()
    again = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=1200)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "Traceback" not in again.stderr
    notes = [line for line in again.stderr.splitlines() if "cached artifact" in line]
    assert len(notes) == 3, again.stderr  # train, float, quantize: one line each
    assert any("qnet.npz is damaged" in n for n in notes) and any("trained.json is damaged" in n for n in notes)
    assert any("float-hrsnn" in n for n in notes)
    # recomputed, bit for bit (same seed, same result)
    assert (out / "float-hrsnn" / "metrics.json").read_text() == metrics
    assert (out / "quantize-hrsnn" / "qnet.npz").read_bytes() == qnet
    assert json.loads(again.stdout)["designs"] == json.loads(first.stdout)["designs"]
