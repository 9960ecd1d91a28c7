"""Speed of the Brian2 reference simulator per code-generation target (prints one JSON line).

Workload: the reference design (hrsnn, N = 200, 24 inputs) on
JapaneseVowels-sized random rasters (3 % of channels active per step; lengths 7..29
frames x 5 steps): batched frozen inference of 370 samples and one STDP training epoch
of 270 samples, per target. Compile caches are the default ones, so the first call of a
target on a fresh machine includes its compile time (reported separately as
``first_call_s``; the timed calls run after it).

    .venv/bin/python benchmarks/bench_refsim.py [--targets numpy cython cpp_standalone]
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from hrsnn_hw.refsim import SimulatorConfig, simulate, train
from hrsnn_hw.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]


def rasters(n: int, seed: int, n_input: int = 24, density: float = 0.03, spf: int = 5):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(7, 30, n) * spf
    x = rng.random((n, int(lengths.max()), n_input)) < density
    x[np.arange(x.shape[1])[None, :] >= lengths[:, None]] = False
    return x, lengths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", nargs="+", default=["numpy", "cython", "cpp_standalone"])
    parser.add_argument("--n-test", type=int, default=370)
    parser.add_argument("--n-train", type=int, default=270)
    args = parser.parse_args()

    spec = load_spec("hrsnn", n_input=24)
    x_te, l_te = rasters(args.n_test, 1)
    x_tr, l_tr = rasters(args.n_train, 2)
    out: dict = {"benchmark": "refsim", "design": spec.name, "n_neurons": spec.n_neurons,
                 "n_test": args.n_test, "test_sample_steps": int(l_te.sum()),
                 "n_train": args.n_train, "train_steps_per_epoch": int(l_tr.sum()), "targets": {}}
    records, weights = {}, {}
    for target in args.targets:
        cfg = SimulatorConfig(target=target)
        row: dict = {}
        try:
            t0 = time.perf_counter()
            simulate(spec, x_te[:4], l_te[:4], config=cfg)
            row["first_call_s"] = round(time.perf_counter() - t0, 3)
            t0 = time.perf_counter()
            rec = simulate(spec, x_te, l_te, config=cfg)
            row["inference_s"] = round(time.perf_counter() - t0, 3)
            row["inference_sample_steps_per_s"] = round(l_te.sum() / row["inference_s"])
            row["activity"] = round(rec.activity(), 5)
            records[target] = rec
            t0 = time.perf_counter()
            tn = train(spec, x_tr, l_tr, epochs=1, config=cfg, seed=0)
            row["train_epoch_s"] = round(time.perf_counter() - t0, 3)
            epoch = tn.training["per_epoch"][0]
            if epoch["wall_time_s"] is not None:
                row["train_run_s"] = round(epoch["wall_time_s"], 3)
                row["train_steps_per_s"] = round(l_tr.sum() / epoch["wall_time_s"])
            row["train_activity"] = round(epoch["activity"], 5)
            row["standalone_build_s"] = round(tn.training["standalone_build_s"], 3)
            weights[target] = tn.spec.projection("exc->exc").weight
        except Exception as exc:  # a missing compiler must not hide the other targets' figures
            row["error"] = str(exc)[:300]
        out["targets"][target] = row
    base = out["targets"].get("numpy", {})
    ratios = {}
    for target, row in out["targets"].items():
        if target == "numpy" or "error" in row or "error" in base:
            continue
        ratios[f"{target}_inference_speedup"] = round(base["inference_s"] / row["inference_s"], 2)
        ratios[f"{target}_train_speedup"] = round(base["train_epoch_s"] / row["train_epoch_s"], 2)
        ratios[f"{target}_same_spikes_as_numpy"] = bool(np.array_equal(records[target].spikes,
                                                                       records["numpy"].spikes))
        ratios[f"{target}_max_weight_diff_vs_numpy"] = float(np.max(np.abs(weights[target] - weights["numpy"])))
    out["ratios"] = ratios
    print(json.dumps(out))


if __name__ == "__main__":
    main()
