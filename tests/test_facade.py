"""The public facade: ``from hrsnn_hw import load_spec, train, quantize, simulate, verify,
estimate_energy, Pipeline`` works, lazily, and the README's Python API block runs as written."""
from __future__ import annotations

import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FACADE = ("load_spec", "train", "quantize", "simulate", "verify", "estimate_energy", "Pipeline")


def _fresh(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON object."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_the_package_imports_no_simulator_and_no_subpackage():
    doc = _fresh("import json, sys, hrsnn_hw\n"
                 "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('hrsnn_hw', 'brian2', 'lava'))))")
    assert doc == ["hrsnn_hw"]


def test_every_facade_name_resolves_without_importing_brian2_or_lava():
    doc = _fresh("import json, sys\n"
                 f"from hrsnn_hw import {', '.join(FACADE)}\n"
                 f"names = {list(FACADE)!r}\n"
                 "print(json.dumps({'callable': {n: callable(globals()[n]) for n in names},\n"
                 "                  'heavy': sorted(m for m in sys.modules if m.split('.')[0] in ('brian2', 'lava'))}))")
    assert doc["heavy"] == []
    assert doc["callable"] == {n: True for n in FACADE}


def test_facade_names_are_the_functions_of_their_subpackages():
    import hrsnn_hw
    from hrsnn_hw.backends import simulate
    from hrsnn_hw.energy import estimate_energy
    from hrsnn_hw.pipeline import Pipeline, PipelineConfig
    from hrsnn_hw.refsim import train
    from hrsnn_hw.spec import load_spec
    assert set(FACADE) <= set(hrsnn_hw.__all__) <= set(dir(hrsnn_hw))
    assert hrsnn_hw.load_spec is load_spec and hrsnn_hw.train is train and hrsnn_hw.simulate is simulate
    assert hrsnn_hw.estimate_energy is estimate_energy and hrsnn_hw.Pipeline is Pipeline
    assert hrsnn_hw.PipelineConfig is PipelineConfig
    with pytest.raises(AttributeError, match="no_such_name"):
        hrsnn_hw.no_such_name  # noqa: B018


def test_quantize_and_verify_are_callable_subpackages_with_the_functions_signatures():
    # the import system binds a subpackage to the package attribute of the same name: the facade
    # name must be usable whichever was imported first
    import hrsnn_hw.quantize as quantize_pkg
    import hrsnn_hw.verify as verify_pkg
    from hrsnn_hw import load_spec, quantize, verify
    assert quantize is quantize_pkg and verify is verify_pkg
    assert inspect.signature(quantize) == inspect.signature(quantize_pkg.quantize)
    assert inspect.signature(verify) == inspect.signature(verify_pkg.verify)
    assert quantize_pkg.QuantizationPolicy and verify_pkg.VerificationReport  # still packages
    spec = load_spec("hrsnn", n_input=4, seed=0)
    qnet, report = quantize(spec, "loihi2")
    assert type(qnet).__name__ == "QuantizedNetwork" and report.summary()
    import numpy as np
    x = np.zeros((1, 20, 4), dtype=bool)
    x[0, ::3, :] = True
    ladder = verify(qnet, x, rungs=[3])
    assert [r.rung for r in ladder.rungs] == [3]


def _readme_api_block() -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Python API"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_api_block_uses_the_facade():
    block = _readme_api_block()
    assert "from hrsnn_hw import" in block
    for name in ("load_spec", "train", "quantize", "simulate", "verify", "estimate_energy"):
        assert f"{name}(" in block, name


@pytest.mark.slow
@pytest.mark.brian2
def test_readme_api_block_runs(tmp_path):
    script = tmp_path / "api.py"
    script.write_text(_readme_api_block())
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=600,
                         env={**__import__("os").environ, "MPLBACKEND": "Agg"})
    assert out.returncode == 0, out.stderr[-3000:]
    assert "overall: PASS" in out.stdout
    assert re.search(r"\d [pnumk]?J dynamic energy per inference", out.stdout), out.stdout
