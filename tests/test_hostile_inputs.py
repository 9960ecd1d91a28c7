"""The project's own probe set of hostile inputs (issue 12's categories): each must end in a
clean error with the right exit code, never a traceback, never silently accepted, never a
file outside --out, and with --json exactly one JSON object on stdout.

Every probe runs in-process and is rejected before any stage starts (so the set is fast);
the probes that need a trained network (damaged cache files) are in the slow test at the end.
"""
from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from hrsnn_hw.cli import main
from hrsnn_hw.reference import REFERENCE_DIR

BASE = json.loads((REFERENCE_DIR / "mrsnn.json").read_text())


def design(**changes) -> dict:
    doc = copy.deepcopy(BASE)
    for path, value in changes.items():
        keys = path.split("__")
        node = doc
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value
    return doc


@dataclass
class Probe:
    """argv (with {tmp}, {out}, {outside} and {file} placeholders), the expected exit code, and
    an optional file to write first (name -> bytes or JSON-able)."""

    name: str
    category: str
    argv: list[str]
    code: int = 2
    files: dict = field(default_factory=dict)
    setup: Callable[[Path], None] | None = None


def _npz(**arrays) -> bytes:
    import io
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def _classification(y_train, y_test, channels=2, frames=4) -> bytes:
    n_tr, n_te = len(y_train), len(y_test)
    return _npz(x_train=np.random.default_rng(0).random((n_tr, frames, channels)), y_train=np.array(y_train),
                x_test=np.random.default_rng(1).random((n_te, frames, channels)), y_test=np.array(y_test))


def _crafted_nir(tmp: Path) -> None:
    """A NIR file written by hrsnn_hw's exporter whose metadata name climbs out of any folder."""
    from hrsnn_hw.interchange import save_nir, to_nir
    from hrsnn_hw.spec import build_spec
    spec = build_spec(design(name="../../nir_PWNED"))
    save_nir(to_nir(spec), tmp / "crafted.nir")


def _mismatched_pair(tmp: Path) -> None:
    """A quantized hrsnn and a golden record of the mrsnn: a pair that does not belong together."""
    from hrsnn_hw.golden import simulate
    from hrsnn_hw.quantize import quantize
    from hrsnn_hw.spec import load_spec
    hrsnn, _ = quantize(load_spec(REFERENCE_DIR / "hrsnn.json"), "loihi2")
    mrsnn_spec = load_spec(REFERENCE_DIR / "mrsnn.json", seed=7)
    small = design(populations__exc__n=20, populations__inh__n=5, name="small")
    from hrsnn_hw.spec import build_spec
    other, _ = quantize(build_spec(small), "loihi2")
    x = np.zeros((1, 5, other.n_input), dtype=bool)
    simulate(other, x, np.array([5])).save(tmp / "other.golden.npz")
    hrsnn.save(tmp / "hrsnn.qnet.npz")
    del mrsnn_spec


def _symlinked_out(tmp: Path) -> None:
    (tmp / "outside").mkdir(exist_ok=True)
    (tmp / "out").mkdir(exist_ok=True)
    os.symlink(tmp / "outside" / "target.json", tmp / "out" / "mrsnn.spec.json")


DEEP = ("[" * 100_000 + "]" * 100_000).encode()

PROBES = [
    # -- path traversal ------------------------------------------------------------------------
    Probe("spec-name-traversal", "path", ["spec", "{file}", "--out", "{out}"],
          files={"design.json": design(name="../../x/PWNED")}),
    Probe("spec-name-absolute", "path", ["spec", "{file}", "--out", "{out}"],
          files={"design.json": design(name="{outside}/PWNED")}),
    Probe("spec-name-empty", "path", ["spec", "{file}", "--out", "{out}"], files={"design.json": design(name="")}),
    Probe("spec-name-dotdot", "path", ["spec", "{file}", "--out", "{out}"], files={"design.json": design(name="..")}),
    Probe("spec-name-not-a-string", "path", ["spec", "{file}", "--out", "{out}"],
          files={"design.json": design(name=["a", "b"])}),
    Probe("run-name-traversal", "path", ["run", "{file}", "--quick", "--out", "{out}"],
          files={"design.json": design(name="../../run_PWNED")}),
    Probe("nir-export-name-traversal", "path", ["nir", "export", "{file}", "--out", "{out}"],
          files={"design.json": design(name="../nir_export_PWNED")}),
    Probe("nir-import-name-option", "path", ["nir", "import", "{tmp}/crafted.nir", "--name", "../../escape",
                                             "--out", "{out}"], setup=_crafted_nir),
    Probe("nir-import-crafted-metadata", "path", ["nir", "import", "{tmp}/crafted.nir", "--out", "{out}"],
          setup=_crafted_nir),
    Probe("out-holds-symlink-outside", "path", ["spec", "mrsnn", "--out", "{tmp}/out"], setup=_symlinked_out),
    # -- files that are not what they claim -----------------------------------------------------
    Probe("out-is-a-file", "files", ["spec", "mrsnn", "--out", "{file}"], files={"afile.txt": b"x"}),
    Probe("out-unwritable", "files", ["spec", "mrsnn", "--out", "/proc/hrsnn-probe/out"]),
    Probe("out-empty", "files", ["spec", "mrsnn", "--out", ""]),
    Probe("spec-is-a-folder", "files", ["spec", "{tmp}"]),
    Probe("spec-not-utf8", "files", ["spec", "{file}"], files={"latin.json": b'{"name": "caf\xe9"}'}),
    Probe("spec-nested-deep", "files", ["spec", "{file}"], files={"deep.json": DEEP}),
    Probe("spec-top-level-list", "files", ["spec", "{file}"], files={"list.json": b"[1, 2, 3]"}),
    Probe("spec-toml-garbage", "files", ["spec", "{file}"], files={"bad.toml": b"[[[ = ="}),
    Probe("spec-binary", "files", ["spec", "{file}"], files={"bin.json": bytes(range(256))}),
    Probe("task-truncated-npz", "files", ["run", "--task", "{file}", "--quick", "--out", "{out}"],
          files={"data.npz": _classification([0, 1, 0, 1], [0, 1])[:40]}),
    Probe("task-missing-file", "files", ["run", "--task", "{tmp}/nope.npz", "--quick", "--out", "{out}"]),
    Probe("task-unknown-name", "files", ["run", "--task", "bogus_task", "--quick", "--out", "{out}"]),
    Probe("qnet-truncated", "files", ["energy", "--qnet", "{file}", "--record", "{file}", "--out", "{out}"],
          files={"q.npz": _npz(a=np.zeros(100))[:50]}),
    Probe("qnet-not-an-artifact", "files", ["energy", "--qnet", "{file}", "--record", "{file}", "--out", "{out}"],
          files={"q.npz": _npz(a=np.zeros(3))}),
    Probe("profile-file-garbage", "files", ["run", "--profile", "{file}", "--quick", "--out", "{out}"],
          files={"p.json": b'{"format": "hrsnn_hw.hardware_profile", "version": 1}'}),
    Probe("nir-import-not-hdf5", "files", ["nir", "import", "{file}", "--out", "{out}"], files={"x.nir": b"hello"}),
    # -- numbers that make no sense -------------------------------------------------------------
    Probe("seed-23-digits", "numbers", ["spec", "mrsnn", "--seed", "12345678901234567890123"]),
    Probe("seed-negative", "numbers", ["spec", "mrsnn", "--seed", "-1"]),
    Probe("seed-not-a-number", "numbers", ["spec", "mrsnn", "--seed", "x"]),
    Probe("lava-samples-zero", "numbers", ["run", "--lava-samples", "0", "--quick", "--out", "{out}"]),
    Probe("lava-samples-negative", "numbers", ["run", "--lava-samples", "-2", "--quick", "--out", "{out}"]),
    Probe("epochs-negative", "numbers", ["run", "--epochs", "-1", "--quick", "--out", "{out}"]),
    Probe("workers-zero-optimize", "numbers", ["optimize", "--workers", "0", "--quick", "--out", "{out}"]),
    Probe("workers-zero-ablation", "numbers", ["ablation", "--workers", "0", "--quick", "--out", "{out}"]),
    Probe("budget-zero", "numbers", ["optimize", "--budget", "0", "--quick", "--out", "{out}"]),
    Probe("confirm-seeds-negative", "numbers", ["optimize", "--confirm-seeds", "-1", "--quick", "--out", "{out}"]),
    Probe("confirm-seeds-overlapping", "numbers", ["optimize", "--confirm-seeds", "100000", "--quick", "--out", "{out}"]),
    Probe("confirm-top-zero", "numbers", ["optimize", "--confirm-top", "0", "--quick", "--out", "{out}"]),
    Probe("ablation-seeds-zero", "numbers", ["ablation", "--seeds", "0", "--quick", "--out", "{out}"]),
    Probe("bias-1e308", "numbers", ["spec", "{file}"], files={"d.json": design(populations__exc__bias=1e308)}),
    Probe("weight-overflows-threshold", "numbers", ["spec", "{file}"],
          files={"d.json": design(populations__exc__v_th=1e-300)}),
    Probe("population-size-zero", "numbers", ["spec", "{file}"], files={"d.json": design(populations__exc__n=0)}),
    Probe("population-size-fraction", "numbers", ["spec", "{file}"],
          files={"d.json": design(populations__exc__n=1.5)}),
    Probe("n-input-zero", "numbers", ["spec", "mrsnn", "--n-input", "0"]),
    Probe("time-per-step-negative", "numbers", ["energy", "--qnet", "{tmp}/hrsnn.qnet.npz", "--record",
                                                "{tmp}/other.golden.npz", "--time-per-step", "-1"],
          setup=_mismatched_pair),
    Probe("sweep-bits-99", "numbers", ["sweep", "--bits", "99", "--quick", "--out", "{out}"]),
    Probe("sweep-bits-above-profile", "numbers", ["sweep", "--bits", "4,16", "--quick", "--out", "{out}"]),
    Probe("sweep-ks-zero", "numbers", ["sweep", "--ks", "0", "--quick", "--out", "{out}"]),
    Probe("max-memory-nonsense", "numbers", ["spec", "mrsnn", "--max-memory", "lots"]),
    # -- sizes -----------------------------------------------------------------------------------
    Probe("neurons-1e9", "size", ["spec", "{file}"], files={"d.json": design(populations__exc__n=10**9)}),
    Probe("spec-scaled-1e8", "size", ["spec", "mrsnn", "--neurons", "100000000"]),
    Probe("data-1e6-channels", "size", ["run", "--task", "{file}", "--quick", "--max-memory", "16GiB",
                                        "--out", "{out}"],
          files={"wide.npz": _npz(x_train=np.zeros((2, 2, 10**6), np.float32), y_train=np.array([0, 1]),
                                  x_test=np.zeros((2, 2, 10**6), np.float32), y_test=np.array([0, 1]))}),
    Probe("run-over-max-memory", "size", ["run", "--quick", "--max-memory", "1MB", "--out", "{out}"]),
    # -- nonsense that used to be accepted ------------------------------------------------------
    Probe("one-class-data", "nonsense", ["run", "--task", "{file}", "--quick", "--out", "{out}"],
          files={"one.npz": _classification([3, 3, 3, 3], [3, 3])}),
    Probe("empty-labels", "nonsense", ["run", "--task", "{file}", "--quick", "--out", "{out}"],
          files={"empty.npz": _classification(["", "", "a", "b"], ["a", "b"])}),
    Probe("empty-test-split", "nonsense", ["run", "--task", "{file}", "--quick", "--out", "{out}"],
          files={"empty.npz": _npz(x_train=np.zeros((4, 3, 2)), y_train=np.array([0, 1, 0, 1]),
                                   x_test=np.zeros((0, 3, 2)), y_test=np.array([], dtype=np.int64))}),
    Probe("mismatched-qnet-record", "nonsense", ["energy", "--qnet", "{tmp}/hrsnn.qnet.npz", "--record",
                                                 "{tmp}/other.golden.npz", "--profiles", "loihi2"],
          setup=_mismatched_pair),
    Probe("records-without-qnets", "nonsense", ["energy", "--record", "{file}", "--profiles", "loihi2"],
          files={"r.npz": b"x"}),
    # -- validated before the first stage --------------------------------------------------------
    Probe("profile-unknown", "early", ["run", "--profile", "nope", "--quick", "--out", "{out}"]),
    Probe("profile-energy-only-for-deploy", "early", ["run", "--profile", "truenorth", "--quick", "--out", "{out}"]),
    Probe("energy-profiles-unknown", "early", ["run", "--energy-profiles", "loihi2,nope", "--quick",
                                                "--out", "{out}"]),
    Probe("energy-profiles-empty", "early", ["run", "--energy-profiles", ",", "--quick", "--out", "{out}"]),
    Probe("baseline-unknown", "early", ["run", "--baseline", "bogus", "--quick", "--out", "{out}"]),
    Probe("design-unknown", "early", ["run", "bogus_design", "--quick", "--out", "{out}"]),
    Probe("design-invalid-tau", "early", ["run", "{file}", "--quick", "--out", "{out}"],
          files={"d.json": design(populations__exc__tau_m=-0.02)}),
    Probe("optimize-bad-param", "early", ["optimize", "--param", "populations.exc.tau_q.cv=0:1", "--quick",
                                          "--evaluator", "hrsnn_hw.optimize.synthetic:evaluate", "--out", "{out}"]),
    Probe("optimize-profile-unknown", "early", ["optimize", "--profile", "nope", "--quick", "--out", "{out}"]),
    Probe("optimize-storage-is-folder", "early", ["optimize", "--storage", "{tmp}", "--budget", "1", "--quick",
                                                  "--evaluator", "hrsnn_hw.optimize.synthetic:evaluate",
                                                  "--param", "populations.exc.tau_m.cv=0:1", "--out", "{out}"]),
    Probe("unknown-option", "early", ["run", "--frobnicate", "--quick"]),
    Probe("no-command", "early", []),
]

def _fill(text: str, tmp: Path, file: Path | None) -> str:
    return (text.replace("{tmp}", str(tmp)).replace("{out}", str(tmp / "out"))
            .replace("{outside}", str(tmp / "outside"))
            .replace("{file}", str(file) if file else ""))


def _run_probe(probe: Probe, tmp: Path, capsys) -> tuple[int, str, str]:
    (tmp / "outside").mkdir(exist_ok=True)
    file = None
    for name, content in probe.files.items():
        file = tmp / name
        if isinstance(content, bytes):
            file.write_bytes(content)
        else:
            file.write_text(_fill(json.dumps(content), tmp, None))
    if probe.setup:
        probe.setup(tmp)
    argv = [_fill(a, tmp, file) for a in probe.argv] + ["--json"]
    if not probe.argv:
        argv = ["--json"]
    capsys.readouterr()
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _outside_files(tmp: Path) -> list[Path]:
    """Files a probe may have written outside its --out: the sentinel folder, and above tmp."""
    found = [p for p in (tmp / "outside").rglob("*")]
    found += [p for p in tmp.parent.parent.glob("*PWNED*")] + [p for p in tmp.parent.glob("*PWNED*")]
    found += [p for p in tmp.parent.glob("escape*")] + [p for p in Path.cwd().glob("*PWNED*")]
    return found


@pytest.mark.parametrize("probe", PROBES, ids=[p.name for p in PROBES])
def test_probe_gets_a_clean_error(probe, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = _run_probe(probe, tmp_path, capsys)
    expected = probe.code
    assert "Traceback" not in err and "Traceback" not in out, err
    assert code == expected, f"exit {code}, expected {expected}: {err}"
    lines = out.strip().splitlines()
    assert len(lines) == 1, f"--json must print one object, got {out!r}"
    doc = json.loads(lines[0])
    assert doc["ok"] is False and doc["error"] and doc["message"], doc
    assert "internal error" not in doc["message"], doc["message"]
    assert not _outside_files(tmp_path), _outside_files(tmp_path)
    # nothing ran: no stage folder was created
    assert not list((tmp_path / "out").glob("train-*")) if (tmp_path / "out").is_dir() else True


def test_probe_set_covers_every_category():
    cats = {p.category for p in PROBES}
    assert cats == {"path", "files", "numbers", "size", "nonsense", "early"}
    assert len(PROBES) >= 60


def test_check_inside_refuses_a_symlinked_folder(tmp_path):
    from hrsnn_hw.errors import PathError
    from hrsnn_hw.io import confine_writes, write_json_atomic
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "out").mkdir()
    os.symlink(tmp_path / "elsewhere", tmp_path / "out" / "stage")
    with confine_writes(tmp_path / "out"):
        write_json_atomic(tmp_path / "out" / "ok.json", {})
        with pytest.raises(PathError):
            write_json_atomic(tmp_path / "out" / "stage" / "x.json", {})
        with pytest.raises(PathError):
            write_json_atomic(tmp_path / "out" / ".." / "x.json", {})
    assert not list((tmp_path / "elsewhere").iterdir()) and not (tmp_path / "x.json").exists()


@pytest.mark.parametrize("name", ["hrsnn", "mrsnn-2", "a.b_c+d", "X" * 100])
def test_safe_names_pass(name):
    from hrsnn_hw.io import safe_filename
    assert safe_filename(name) == name


@pytest.mark.parametrize("name", ["", ".", "..", "../x", "a/b", "/abs", "a\\b", ".hidden", "x" * 101, "a\x00b",
                                  "caf\u00e9", "a b", "-flag", None, 3])
def test_unsafe_names_fail(name):
    from hrsnn_hw.errors import PathError
    from hrsnn_hw.io import safe_filename
    with pytest.raises(PathError):
        safe_filename(name)


def test_files_follow_the_umask(tmp_path):
    from hrsnn_hw.io import write_json_atomic
    old = os.umask(0o022)
    try:
        write_json_atomic(tmp_path / "a.json", {})
        os.umask(0o077)
        write_json_atomic(tmp_path / "b.json", {})
    finally:
        os.umask(old)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "b.json").stat().st_mode & 0o777 == 0o600


def test_verification_error_is_not_an_assertion_error():
    from hrsnn_hw.cli import exit_code_for
    from hrsnn_hw.errors import ArtifactError, BackendError, DataError, VerificationError
    assert not issubclass(VerificationError, AssertionError)
    assert exit_code_for(VerificationError("x")) == 1
    assert exit_code_for(DataError("x")) == 2
    assert exit_code_for(BackendError("x")) == 3 and exit_code_for(ArtifactError("x")) == 3
    assert exit_code_for(RuntimeError("x")) == 3 and exit_code_for(KeyboardInterrupt()) == 130


def test_an_internal_error_is_one_line_exit_3_and_json(monkeypatch, capsys):
    import hrsnn_hw.cli.cmd_spec as cmd

    def boom(args):
        raise ZeroDivisionError("boom")
    monkeypatch.setattr(cmd, "run", boom)
    code = main(["spec", "mrsnn", "--json"])
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert code == 3 and doc["error"] == "ZeroDivisionError" and "internal error" in doc["message"]
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_help_documents_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for needle in ("exit codes", "0    success", "1    a check failed", "2    bad input", "3    runtime", "130", "143"):
        assert needle in text


def test_a_sweep_whose_every_cell_failed_exits_non_zero(monkeypatch, capsys, tmp_path):
    from hrsnn_hw.pipeline import Pipeline

    from hrsnn_hw.quantize.sweep import SweepResult

    def failed(self, name, ks, bits, **kw):
        return SweepResult(name=name, profile="loihi2", ks=tuple(ks), weight_bits=tuple(bits), provenance={},
                           rows=tuple({"k": k, "weight_bits": b, "error": "cannot represent"} for k in ks for b in bits))
    monkeypatch.setattr(Pipeline, "sweep", failed)
    code = main(["sweep", "--quick", "--baseline", "none", "--ks", "1", "--bits", "4", "--out", str(tmp_path),
                 "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 2 and "every setting of the sweep failed" in doc["message"]
