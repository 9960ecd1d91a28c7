"""Benchmark: map + count + price a batch of inferences; prints one JSON line.

Target (issue 4): counting and energy for 1,000 inferences in under a second beyond the
simulation. The raster is synthetic (Bernoulli spikes at the given rate) on a network of the
reference HRSNN's size (200 neurons, 24 inputs, ~10-20 % connectivity).

    .venv/bin/python benchmarks/bench_energy.py [--samples 1000] [--steps 100] [--rate 0.05]
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

from hrsnn_hw.counting import count_ops
from hrsnn_hw.energy import estimate_energy
from hrsnn_hw.mapping import map_network
from hrsnn_hw.profiles import load_profile
from hrsnn_hw.fixedpoint import NumberFormat, QuantizedNetwork, QuantizedProjection
from hrsnn_hw.records import SpikeRecord


def synthetic(n: int, m: int, samples: int, steps: int, rate: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    w_rec = (rng.random((n, n)) < 0.12) * rng.integers(-60, 60, (n, n))
    w_in = (rng.random((n, m)) < 0.2) * rng.integers(1, 60, (n, m))
    qnet = QuantizedNetwork(name="bench", dt=1e-3, n_input=m, du=np.full(n, 3686), dv=rng.integers(40, 400, n),
                            vth=np.full(n, 200), bias_mant=np.zeros(n), bias_exp=np.zeros(n),
                            refractory_steps=np.full(n, 2),
                            projections=(QuantizedProjection.from_dense("rec", "recurrent", w_rec, 0, 8, "mixed"),
                                         QuantizedProjection.from_dense("in", "input", w_in, 0, 8, "excitatory")),
                            excitatory=np.ones(n, bool), number_format=NumberFormat.from_profile("loihi2"))
    record = SpikeRecord(spikes=rng.random((samples, steps, n)) < rate, sample_lengths=np.full(samples, steps),
                         dt=1e-3, input_spikes=rng.random((samples, steps, m)) < 2 * rate)
    return qnet, record


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--neurons", type=int, default=200)
    ap.add_argument("--inputs", type=int, default=24)
    ap.add_argument("--rate", type=float, default=0.05)
    ap.add_argument("--profile", default="loihi2")
    args = ap.parse_args()
    qnet, record = synthetic(args.neurons, args.inputs, args.samples, args.steps, args.rate)
    profile = load_profile(args.profile)
    t0 = time.perf_counter()
    placement = map_network(qnet, profile)
    t1 = time.perf_counter()
    counts = count_ops(record, qnet, placement)
    t2 = time.perf_counter()
    report = estimate_energy(counts, profile, placement)
    t3 = time.perf_counter()
    print(json.dumps({"bench": "energy", "profile": args.profile, "samples": args.samples, "steps": args.steps,
                      "neurons": args.neurons, "inputs": args.inputs, "rate": args.rate,
                      "cores": placement.n_cores, "map_s": round(t1 - t0, 4), "count_s": round(t2 - t1, 4),
                      "price_s": round(t3 - t2, 4), "count_and_price_s": round(t3 - t1, 4),
                      "energy_per_inference_J": report.total, "under_1s": (t3 - t1) < 1.0}))


if __name__ == "__main__":
    main()
