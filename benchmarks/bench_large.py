"""A large network through spec, quantize, (map) and one golden inference: time and peak memory; one JSON object.

The reference design ``hrsnn`` is scaled to ``--neurons`` with :func:`hrsnn_hw.spec.scale_design`
(fan-in kept), then its recurrent fan-in is raised to about ``--fan-in`` synapses per neuron:
every recurrent connection probability is multiplied by ``k`` and every recurrent weight
distribution (mean and cap) divided by ``k``, so the mean recurrent drive stays the design's.
Peak resident memory (``ru_maxrss``) is read after each stage; a dense N x N matrix of the
default 100,000 neurons would need 74.5 GiB (float64), the machine has 24 GiB.

Usage: .venv/bin/python benchmarks/bench_large.py [--neurons 100000] [--fan-in 100] [--steps 100] [--map]
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import time
import warnings

import numpy as np


def peak_rss_gib() -> float:
    """Peak resident memory of this process (GiB): VmHWM, the high-water mark of its own address
    space (``ru_maxrss`` would carry the parent's peak across fork + exec)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**20  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # ru_maxrss is KiB on Linux


def large_design(n: int, fan_in: float) -> tuple[dict, float]:
    """The scaled design with recurrent fan-in about ``fan_in`` (and the factor ``k`` applied)."""
    from hrsnn_hw.spec import read_spec_file, scale_design
    design = scale_design(read_spec_file("hrsnn"), n)
    pops = {k: v["n"] for k, v in design["populations"].items()}
    total = sum(pops.values())
    rec = sum(pops[post] * p["p"] * pops[pre] for name, p in design["projections"].items()
              for pre, post in [name.split("->")] if pre in pops) / total
    inp = sum(pops[post] * p["p"] * design["n_input"] for name, p in design["projections"].items()
              for pre, post in [name.split("->")] if pre not in pops) / total
    k = max(1.0, (fan_in - inp) / rec)
    out = copy.deepcopy(design)
    for name, ptab in out["projections"].items():
        if name.split("->")[0] in pops:
            ptab["p"] = min(1.0, ptab["p"] * k)
            w = ptab["weight"]
            if isinstance(w, dict):
                for key in ("mean", "max", "min"):
                    if key in w:
                        w[key] = w[key] / k
            else:
                ptab["weight"] = w / k
    return out, k


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--neurons", type=int, default=100_000)
    ap.add_argument("--fan-in", type=float, default=100.0)
    ap.add_argument("--steps", type=int, default=100, help="steps of the one golden inference")
    ap.add_argument("--rate", type=float, default=0.1)
    ap.add_argument("--map", action="store_true", help="also map onto loihi2 cores")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    stages: dict = {}
    rss0 = peak_rss_gib()

    def stage(name, fn):
        t0 = time.perf_counter()
        out = fn()
        stages[name] = {"s": time.perf_counter() - t0, "peak_rss_gib": peak_rss_gib()}
        return out

    from hrsnn_hw.golden import simulate
    from hrsnn_hw.golden.testing import random_inputs
    from hrsnn_hw.quantize import quantize
    from hrsnn_hw.spec import build_spec
    design, k = large_design(args.neurons, args.fan_in)
    spec = stage("spec", lambda: build_spec(design, seed=args.seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        qnet, report = stage("quantize", lambda: quantize(spec, "loihi2"))
    if args.map:
        from hrsnn_hw.mapping import map_network
        from hrsnn_hw.profiles import load_profile
        try:
            placement = stage("map", lambda: map_network(qnet, load_profile("loihi2")))
            stages["map"]["cores"] = int(placement.n_cores)
        except Exception as exc:  # reported, not fatal: mapping is its own stage
            stages["map"] = {"error": f"{type(exc).__name__}: {exc}"}
    x, lengths = random_inputs(np.random.default_rng(args.seed), 1, args.steps, qnet.n_input, rate=args.rate,
                               ragged=False)
    rec = stage("golden_inference", lambda: simulate(qnet, x, lengths))
    qnet_bytes = sum(a.nbytes for p in qnet.projections for a in (p.pre_ptr, p.post_index, p.weight))
    n = qnet.n_neurons
    print(json.dumps({
        "benchmark": "large", "n_neurons": n, "n_input": qnet.n_input, "synapses": qnet.n_synapses,
        "synapses_per_neuron": qnet.n_synapses / n, "recurrent_fan_in_factor": k,
        "steps": args.steps, "activity": rec.activity(), "stages": stages,
        "peak_rss_gib": peak_rss_gib(), "rss_at_start_gib": rss0,
        "quantized_weight_bytes": qnet_bytes, "bytes_per_synapse": qnet_bytes / max(1, qnet.n_synapses),
        "dense_float64_matrix_gib": n * n * 8 / 2**30, "machine_memory_gib": 24,
        "loadavg": os.getloadavg()}))


if __name__ == "__main__":
    main()
