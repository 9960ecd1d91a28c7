"""The notebooks in notebooks/ run top to bottom in fast mode and are stored without outputs.

Each notebook is executed by nbclient in a fresh kernel running *this* interpreter (a
kernelspec written on the fly into a temporary directory, so no other ``python3``
kernelspec on the machine can substitute another Python), with ``HRSNN_HW_FAST=1``,
``MPLBACKEND=Agg``, its working directory a temporary directory and
``HRSNN_HW_NOTEBOOK_OUT`` a temporary directory shared by all notebooks (notebooks
03-05 share one cached pipeline run there, as they do for a user).
"""
from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = REPO / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED = ("01_design", "02_training_and_ablation", "03_quantization", "04_deploy_and_verify", "05_energy",
            "06_optimize")
FAST_LINE = 'FAST = os.environ.get("HRSNN_HW_FAST") == "1"'
KERNEL_NAME = "hrsnn-hw-notebook-test"
# Notebooks that start a heavy backend (for -m selection); every one that trains uses Brian2.
USES_BRIAN2 = {"02_training_and_ablation", "03_quantization", "04_deploy_and_verify", "05_energy", "06_optimize"}
USES_LAVA = {"04_deploy_and_verify"}
# Printed lines that show a notebook demonstrated what it is about (not just ran).
EXPECTED_TEXT = {
    "01_design": ["excitatory columns all >= 0: True", "inhibitory columns all <= 0: True",
                  "reloads identically: True", "SpecError on 'projections.exc->exc.p'"],
    "02_training_and_ablation": ["heterogeneous neurons raise memory capacity:"],
    "04_deploy_and_verify": ["identical: True", "first divergence: Divergence("],
    "05_energy": ["ratios on an equal core budget", "ESN on cpu at batch 1"],
    "06_optimize": ["selected after confirmation: trial", "MC, optimised HRSNN minus the MRSNN (tuned)"],
}
BACKEND_IMPORT = re.compile(r"^\s*(import|from)\s+(brian2|lava)\b", re.MULTILINE)


def _code_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


def _text_outputs(nb) -> str:
    parts = []
    for cell in _code_cells(nb):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out.get("text", ""))
            elif "data" in out:
                data = out["data"]
                parts.append(data.get("text/markdown", data.get("text/plain", "")))
    return "\n".join(parts)


def _params(marks_for):
    return [pytest.param(p, id=p.stem, marks=marks_for(p.stem)) for p in NOTEBOOKS]


def _run_marks(stem: str) -> list:
    marks = [pytest.mark.slow]
    if stem in USES_BRIAN2:
        marks.append(pytest.mark.brian2)
    if stem in USES_LAVA:
        marks.append(pytest.mark.lava)
    return marks


def test_the_six_notebooks_exist():
    assert [p.stem for p in NOTEBOOKS if p.stem in EXPECTED] == list(EXPECTED)


@pytest.mark.parametrize("path", _params(lambda stem: []))
def test_stored_without_outputs(path: Path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    offending = [i for i, c in enumerate(nb.cells)
                 if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)]
    assert offending == [], f"{path.name}: cells {offending} carry outputs or execution counts; clear them"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", _params(lambda stem: []))
def test_first_code_cell_reads_the_fast_flag(path: Path):
    nb = nbformat.read(path, as_version=4)
    assert FAST_LINE in _code_cells(nb)[0].source


@pytest.mark.parametrize("path", _params(lambda stem: []))
def test_notebooks_use_the_package_not_the_backends(path: Path):
    """Brian2 and Lava stay behind hrsnn_hw's quarantined subpackages, in notebooks too."""
    nb = nbformat.read(path, as_version=4)
    hits = [c.source for c in _code_cells(nb) if BACKEND_IMPORT.search(c.source)]
    assert hits == []


@pytest.fixture(scope="module")
def kernel_dirs(tmp_path_factory) -> list[str]:
    root = tmp_path_factory.mktemp("kernels")
    spec = root / KERNEL_NAME
    spec.mkdir()
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "hrsnn_hw tests (this interpreter)", "language": "python"}))
    return [str(root)]


@pytest.fixture(scope="module")
def shared_out(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("notebook_out")


@pytest.mark.slow
@pytest.mark.parametrize("path", _params(_run_marks))
def test_notebook_runs_in_fast_mode(path: Path, kernel_dirs: list[str], shared_out: Path, tmp_path: Path):
    from jupyter_client import KernelManager
    from jupyter_client.kernelspec import KernelSpecManager
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    env = {**os.environ, "HRSNN_HW_FAST": "1", "MPLBACKEND": "Agg", "HRSNN_HW_NOTEBOOK_OUT": str(shared_out)}
    km = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=KernelSpecManager(kernel_dirs=kernel_dirs))
    client = NotebookClient(nb, km=km, timeout=900, resources={"metadata": {"path": str(cwd)}})
    client.execute(env=env)  # raises CellExecutionError (with the cell and traceback) on any error

    text = _text_outputs(nb)
    assert "fast mode: True" in text
    for expected in EXPECTED_TEXT.get(path.stem, []):
        assert expected in text, f"{path.name}: expected output {expected!r} not found"
    figures = sorted(p.name for p in (shared_out / path.stem).glob("*.png"))
    assert figures, f"{path.name} wrote no figure into its output directory"
    # Anything written relative to the working directory would land in the repository when a
    # user runs the notebook from notebooks/.
    assert sorted(p.name for p in cwd.iterdir()) == []
