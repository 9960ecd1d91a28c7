"""``hrsnn-hw capacity``: MC against N for the homogeneous and heterogeneous arms."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hrsnn_hw.capacity import FRAMES_PER_NEURON, CapacityResult, capacity_study, frames_for
from hrsnn_hw.errors import DataError

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hrsnn_hw", "capacity", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=900)


@pytest.mark.brian2
@pytest.mark.slow
def test_capacity_json_rows_files_and_artifact(tmp_path):
    out = cli("--sizes", "40,80", "--seeds", "2", "--frames", "300", "--max-delay", "8", "--out", str(tmp_path),
              "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)  # one JSON object and nothing else on stdout
    rows = doc["rows"]
    assert len(rows) == 2 * 2 * 2
    assert {(r["n_neurons"], r["arm"], r["seed"]) for r in rows} == {
        (n, a, s) for n in (40, 80) for a in ("hom", "het") for s in (0, 1)}
    for r in rows:
        assert {"n_neurons", "arm", "seed", "mc", "activity"} <= set(r)
        assert np.isfinite(r["mc"]) and 0.0 <= r["activity"] < 1.0
        assert r["mc"] == pytest.approx(r["mc_raw"] - r["mc_chance"])
        # at least 30 drive frames per neuron (readout features), --frames as the floor
        assert r["mc_frames"] == max(300, 30 * r["n_neurons"])
    paired = [s for s in doc["summary"] if s["arm"] == "het-hom"]
    assert [s["n_neurons"] for s in paired] == [40, 80] and all(s["n_seeds"] == 2 for s in paired)
    for name in ("capacity.json", "capacity.md", "capacity.png"):
        assert (tmp_path / name).exists()
    result = CapacityResult.load(tmp_path / "capacity.json")
    assert result.per_delay.shape == (8, 8) and [r["mc"] for r in result.rows] == [r["mc"] for r in rows]
    # The same seed gives the same numbers.
    again = cli("--sizes", "40", "--seeds", "1", "--frames", "300", "--max-delay", "8", "--out", str(tmp_path / "b"),
                "--json")
    first = [r for r in rows if r["n_neurons"] == 40 and r["seed"] == 0]
    assert [r["mc"] for r in json.loads(again.stdout)["rows"]] == [r["mc"] for r in first]


@pytest.mark.slow
@pytest.mark.parametrize("args, parameter", [
    (("--sizes", "200,abc"), "--sizes"),
    (("--sizes", "5"), "sizes"),
    (("--seeds", "0"), "--seeds"),
    (("--frames", "0"), "--frames"),
    (("--frames-per-neuron", "-1"), "--frames-per-neuron"),
])
def test_bad_arguments_exit_2_naming_the_parameter(args, parameter, tmp_path):
    out = cli(*args, "--out", str(tmp_path), "--json")
    assert out.returncode == 2
    assert json.loads(out.stdout)["parameter"] == parameter


def test_frames_grow_with_n_above_the_floor():
    assert FRAMES_PER_NEURON == 30
    assert frames_for(200, 3000) == 6000          # 30 x 200 is above the 3000-frame floor
    assert frames_for(1000, 3000) == 30_000
    assert frames_for(2000, 3000, 0) == 3000      # the rule switched off


@pytest.mark.parametrize("bad", [-1, 1001, 2.5, True])
def test_frames_per_neuron_out_of_range_is_refused(bad):
    with pytest.raises(DataError) as err:
        capacity_study(sizes=(100,), seeds=(0,), frames_per_neuron=bad)
    assert err.value.parameter == "frames_per_neuron"
