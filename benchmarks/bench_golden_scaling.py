"""Golden model throughput in synaptic events per second vs network size; one JSON line.

For N = 100 ... 4000 (``reference_like_qnet``: 80/20 E/I, p = 0.1-0.2, recurrent weights
scaled by 200/N), a batch of samples runs 100 steps at 10 % input rate. A synaptic event
is one spike delivered over one existing synapse (spikes x out-degree, recurrent and input).

Machine limits, measured here on the spot:
- ``gemm_gflops``: float32 matrix product (2048^3) -- the golden model computes synaptic input
  as dense float32 GEMMs over each projection's support, so ``dense_mac_per_s`` (multiply-adds
  it actually issued per second) against half this number (1 MAC = 2 flops) says how close it
  runs to the hardware;
- ``copy_gbytes_per_s``: numpy copy of a 256 MB array (read + write); an event-driven kernel
  must at least read one 2-byte weight per event, so ``copy_gbytes_per_s / 2 bytes`` is an upper
  bound on events/s for any sparse implementation on this machine.

Usage: .venv/bin/python benchmarks/bench_golden_scaling.py [--quick]
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from hrsnn_hw.golden import group_projections, simulate
from hrsnn_hw.golden.testing import random_inputs, reference_like_qnet

SIZES = (100, 250, 500, 1000, 2000, 4000)
STEPS = 100


def batch_for(n: int) -> int:
    # Large N is bound by streaming the weights once per step: a wider batch amortises that read
    # (simulate() still splits it into chunks that fit its working-set budget)
    return 64 if n <= 2000 else 48


def machine_limits() -> dict:
    a = np.random.default_rng(0).random((2048, 2048), dtype=np.float32)
    a @ a
    t = min(_timed(lambda: a @ a) for _ in range(3))
    big = np.ones(32 * 2**20)  # 256 MB
    c = min(_timed(lambda: big.copy()) for _ in range(3))
    return {"gemm_gflops": 2 * 2048**3 / t / 1e9, "copy_gbytes_per_s": 2 * big.nbytes / c / 1e9}


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def events(qnet, rec) -> int:
    out_rec = np.zeros(qnet.n_neurons, np.int64)
    out_in = np.zeros(qnet.n_input, np.int64)
    for p in qnet.projections:
        deg = p.fan_out()
        if p.source == "recurrent":
            out_rec += deg
        else:
            out_in += deg
    return int(rec.spikes.sum(axis=(0, 1)) @ out_rec + rec.input_spikes.sum(axis=(0, 1)) @ out_in)


def dense_macs(qnet, n_samples: int, steps: int) -> int:
    per_step = sum(len(g.rows) * len(g.cols) for g in group_projections(qnet.projections))
    return per_step * n_samples * steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="sizes up to 1000 only")
    args = ap.parse_args()
    limits = machine_limits()
    rows = []
    for n in SIZES[:4] if args.quick else SIZES:
        rng = np.random.default_rng(n)
        qnet = reference_like_qnet(rng, n, 24)
        b = batch_for(n)
        x, lengths = random_inputs(rng, b, STEPS, 24, rate=0.1, ragged=False)
        simulate(qnet, x[:1, :5], lengths[:1] * 0 + 5)  # warm-up
        t = min(_timed(lambda: simulate(qnet, x, lengths)) for _ in range(2))
        rec = simulate(qnet, x, lengths)
        ev = events(qnet, rec)
        macs = dense_macs(qnet, b, STEPS)
        rows.append({"n_neurons": n, "batch": b, "steps": STEPS, "seconds": t, "activity": rec.activity(),
                     "synaptic_events": ev, "events_per_s": ev / t, "sample_steps_per_s": b * STEPS / t,
                     "dense_mac_per_s": macs / t,
                     "fraction_of_gemm_peak": macs / t / (limits["gemm_gflops"] * 1e9 / 2),
                     "fraction_of_event_bound": (ev / t) / (limits["copy_gbytes_per_s"] * 1e9 / 2)})
    print(json.dumps({"benchmark": "golden_scaling", "machine": {**limits, "cpus": os.cpu_count(),
                                                                  "loadavg": os.getloadavg()},
                      "sizes": rows}))


if __name__ == "__main__":
    main()
