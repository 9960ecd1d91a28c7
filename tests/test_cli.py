"""CLI conventions: --help everywhere, exit codes, --json purity, clear errors."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hrsnn_hw.cli import _discover, main

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = sorted(m.NAME for m in _discover())


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hrsnn_hw", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=600)


def test_expected_commands_exist():
    for name in ("spec", "train", "quantize", "deploy", "verify", "energy", "run", "ablation", "nir", "optimize"):
        assert name in COMMANDS


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert "usage:" in text and "--seed" in text and "--out" in text and "--quick" in text


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_spec_json_is_one_object_on_stdout():
    out = cli("spec", "hrsnn", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["n_neurons"] == 200 and doc["ok"] is True
    assert out.stdout.count("\n") == 1


def test_bad_input_exits_2_with_a_clear_message(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "hrsnn_hw.spec", "version": 1, "seed": 1, "dt": 0.001, "n_input": 2,
                               "populations": {"exc": {"n": 3, "tau_m": -0.02, "tau_syn": 0.005, "v_th": 0.02}}}))
    out = cli("spec", str(bad))
    assert out.returncode == 2
    assert "populations.exc.tau_m" in out.stderr and "(0, inf) s" in out.stderr and "Traceback" not in out.stderr
    out = cli("spec", str(bad), "--json")
    assert out.returncode == 2 and json.loads(out.stdout)["parameter"].startswith("populations.exc.tau_m")


@pytest.mark.slow
def test_missing_artifact_is_a_clear_error(tmp_path):
    out = cli("energy", "--qnet", str(tmp_path / "missing.npz"), "--record", str(tmp_path / "r.npz"))
    assert out.returncode == 2 and "Traceback" not in out.stderr
