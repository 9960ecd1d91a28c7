"""Only hrsnn_hw/refsim imports Brian2 and only hrsnn_hw/lava_backend imports Lava."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "hrsnn_hw"
OWNERS = {"brian2": "refsim", "lava": "lava_backend"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


def test_heavy_simulators_are_imported_by_one_subpackage_each():
    offenders = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG)
        for module, owner in OWNERS.items():
            if module in _imports(path) and rel.parts[0] != owner:
                offenders.append(f"{rel} imports {module} (only hrsnn_hw/{owner} may)")
    assert not offenders, "\n".join(offenders)


@pytest.mark.slow
def test_core_imports_without_brian2_or_lava():
    code = (
        "import sys\n"
        "import hrsnn_hw.spec, hrsnn_hw.quantize, hrsnn_hw.golden, hrsnn_hw.mapping, hrsnn_hw.counting\n"
        "import hrsnn_hw.energy, hrsnn_hw.tasks, hrsnn_hw.encoding, hrsnn_hw.experiment, hrsnn_hw.verify\n"
        "import hrsnn_hw.pipeline, hrsnn_hw.ablation, hrsnn_hw.refsim, hrsnn_hw.cli, hrsnn_hw.interchange\n"
        "import hrsnn_hw.optimize, hrsnn_hw.backends\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('brian2', 'lava'))\n"
        "print(','.join(bad))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"imported at module level: {out.stdout.strip()}"
