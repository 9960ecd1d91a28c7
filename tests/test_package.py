"""A package that installs like one: the wheel holds the reference designs and profiles, and an
environment with only the declared dependencies runs the default design from outside the
repository."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _base_python() -> str:
    """The interpreter this virtualenv was made from (a fresh venv must not inherit this one)."""
    return getattr(sys, "_base_executable", None) or sys.executable


def _clean_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "PIP_REQUIRE"))}
    env["MPLBACKEND"] = "Agg"
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # build from a copy of what the sdist would hold, so the build leaves nothing in the checkout
    src = tmp_path_factory.mktemp("src")
    shutil.copytree(ROOT / "hrsnn_hw", src / "hrsnn_hw", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)],
                          capture_output=True, text=True, timeout=900, env=_clean_env())
    assert proc.returncode == 0, proc.stderr[-3000:]
    (path,) = out.glob("hrsnn_hw-*.whl")
    return path


@pytest.mark.slow
def test_the_wheel_holds_the_bundled_data_and_no_tests(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for design in ("hrsnn", "mrsnn", "search_space"):
        assert f"hrsnn_hw/designs/{design}.json" in names
    for profile in ("loihi1", "loihi2", "cpu", "gpu", "truenorth"):
        assert f"hrsnn_hw/hardware_profiles/{profile}.json" in names
    assert not [n for n in names if n.startswith(("tests/", "notebooks/", "benchmarks/"))]
    meta = next(n for n in names if n.endswith("METADATA"))
    text = zipfile.ZipFile(wheel).read(meta).decode()
    requires = [line for line in text.splitlines() if line.startswith("Requires-Dist:")]
    runtime = [r for r in requires if "extra ==" not in r]
    assert not [r for r in runtime if any(x in r for x in ("pytest", "nbformat", "nbclient", "ipykernel", "h5py"))]
    assert any("threadpoolctl" in r for r in runtime)


@pytest.mark.slow
@pytest.mark.lava
@pytest.mark.brian2
def test_the_installed_wheel_runs_the_default_design_outside_the_repository(wheel, tmp_path):
    assert ROOT not in tmp_path.parents
    venv = tmp_path / "venv"
    subprocess.run([_base_python(), "-m", "venv", str(venv)], check=True, timeout=600, env=_clean_env())
    py = venv / "bin" / "python"
    # the declared dependencies only, from the pip cache / local index (no editable checkout)
    proc = subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-compile", "--disable-pip-version-check",
                           str(wheel)], capture_output=True, text=True, timeout=1800, env=_clean_env(), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    where = subprocess.run([str(py), "-c", "import hrsnn_hw; print(hrsnn_hw.__file__)"], capture_output=True,
                           text=True, cwd=tmp_path, env=_clean_env(), timeout=300)
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout + where.stderr
    out = tmp_path / "out"
    run = subprocess.run([str(venv / "bin" / "hrsnn-hw"), "run", "--quick", "--json", "--out", str(out)],
                         capture_output=True, text=True, cwd=tmp_path, env=_clean_env(), timeout=1800)
    assert run.returncode == 0, run.stderr[-3000:]
    doc = json.loads(run.stdout)
    assert doc["ok"] and set(doc["designs"]) == {"hrsnn", "mrsnn"}
    assert (out / "report" / "report.md").stat().st_size > 0
