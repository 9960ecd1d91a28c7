"""Scaling: the same network and input on the golden model, Brian2 and Lava, N = 200 ... 10,000; one JSON object.

For each N the reference design ``hrsnn`` is scaled with :func:`hrsnn_hw.spec.scale_design`
(E/I ratio and recurrent fan-in kept), sampled, quantized for loihi2, and driven by the same
Bernoulli input raster (``--batch`` samples x ``--steps`` steps at ``--rate``):

* ``golden_s``: :func:`hrsnn_hw.golden.simulate` on the batch (best of ``--repeat`` runs before
  and as many after Brian2's);
* ``brian2_s``: :func:`hrsnn_hw.refsim.simulate` on the float spec, every Brian2 target in
  ``--brian2-targets`` timed after one warm-up run (compilation excluded and reported apart;
  best of ``--brian2-repeat``), the fastest kept (its name in ``brian2_target``);
* ``golden_cpu_s`` / ``brian2_cpu_s``: the same runs in CPU time (this process and its finished
  children), which a shared machine's load inflates far less (``brian2_over_golden_cpu``);
* ``lava_s``: :func:`hrsnn_hw.lava_backend.run_lava` (HeteroLIF, fixed point) for N <= ``--lava-max``
  (null above), checked spike for spike against the golden model.

``golden_events_per_s`` counts synaptic events (every spike, recurrent or input, times the
stored synapses it reaches) per second of golden time. ``one_sample`` compares golden and
Lava on a single sample at the smallest N (Lava's start-up included, as a user sees it).
``golden_compile`` times the golden model's first call in a fresh process with a cold and a warm numba cache, and
``lava_connections`` Lava Dense vs Sparse.
Conventions that swing the ratios are printed: batch, steps, input rate, targets, load average.

Usage: .venv/bin/python benchmarks/bench_scaling.py [--quick]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings

import numpy as np

from hrsnn_hw.golden import simulate
from hrsnn_hw.golden.testing import random_inputs
from hrsnn_hw.quantize import quantize
from hrsnn_hw.spec import build_spec, read_spec_file, scale_design


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def best_of(fn, repeat: int) -> float:
    return min(timed(fn)[1] for _ in range(max(1, repeat)))


def cpu_and_wall(fn, repeat: int) -> tuple[float, float]:
    """Best wall-clock and best CPU time (:func:`cpu_time`) of ``repeat`` runs. On a shared machine
    wall clock also counts the time other processes held the core; CPU time does not."""
    walls, cpus = [], []
    for _ in range(max(1, repeat)):
        c0, t0 = cpu_time(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(cpu_time() - c0)
    return min(walls), min(cpus)


def cpu_time() -> float:
    """CPU seconds of this process and of its finished children (Brian2's standalone binary)."""
    t = os.times()  # children in clock ticks; this process at full resolution
    return time.process_time() + t.children_user + t.children_system


def synaptic_events(qnet, rec) -> int:
    """Spikes (recurrent and input) times the stored synapses each reaches."""
    out_rec = np.zeros(qnet.n_neurons, np.int64)
    out_in = np.zeros(qnet.n_input, np.int64)
    for p in qnet.projections:
        (out_rec if p.source == "recurrent" else out_in)[:] += p.fan_out()
    return int(rec.spikes.sum(axis=(0, 1)) @ out_rec + rec.input_spikes.sum(axis=(0, 1)) @ out_in)


def network(n: int, seed: int):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spec = build_spec(scale_design(read_spec_file("hrsnn"), n), seed=seed)
        qnet, _ = quantize(spec, "loihi2")
    return spec, qnet


def brian2_times(spec, x, lengths, targets, repeat: int) -> dict:
    from hrsnn_hw import refsim
    from hrsnn_hw.refsim.config import SimulatorConfig
    out = {}
    for target in targets:
        cfg = SimulatorConfig(target=target, max_batch=len(lengths))
        try:
            rec, first = timed(lambda: refsim.simulate(spec, x, lengths, config=cfg))  # compiles on a cold cache
            again, cpu = cpu_and_wall(lambda: refsim.simulate(spec, x, lengths, config=cfg), repeat)
            out[target] = {"first_run_s": first, "s": again, "cpu_s": cpu, "activity": rec.activity(),
                           "standalone_build_s": rec.provenance.get("standalone_build_s")}
        except Exception as exc:  # a target that cannot run here is reported, not fatal
            out[target] = {"error": f"{type(exc).__name__}: {exc}"}
    return out


def golden_compile() -> dict:
    """First golden call in a fresh process: with an empty numba cache (compilation) and with the cache
    just written (what every later process pays)."""
    import subprocess
    import sys
    import tempfile
    code = ("import time, numpy as np; t0 = time.perf_counter()\n"
            "from hrsnn_hw.golden import simulate, simulate_float\n"
            "from hrsnn_hw.golden.testing import random_inputs, random_qnet\n"
            "t1 = time.perf_counter(); rng = np.random.default_rng(0); q = random_qnet(rng, 20, 4)\n"
            "x, l = random_inputs(rng, 3, 10, 4); t2 = time.perf_counter()\n"
            "simulate(q, x, l); simulate(q, x[:1], l[:1]); t3 = time.perf_counter()\n"
            "simulate_float(q, x, l); simulate_float(q, x[:1], l[:1]); t4 = time.perf_counter()\n"
            "print(t1 - t0, t3 - t2, t4 - t3)")
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for label in ("cold_cache", "warm_cache"):
            res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
            imp, fixed, twin = map(float, res.stdout.split())
            out[label] = {"import_s": imp, "first_simulate_s": fixed, "first_simulate_float_s": twin}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="N = 200, 1000, 4000 only (default adds 10000)")
    ap.add_argument("--sizes", type=int, nargs="*", help="override the list of N")
    ap.add_argument("--batch", type=int, default=16, help="samples per run (all backends)")
    ap.add_argument("--steps", type=int, default=200, help="steps per sample")
    ap.add_argument("--rate", type=float, default=0.1, help="input spike probability per channel and step")
    ap.add_argument("--repeat", type=int, default=3,
                    help="golden: best of this many runs before and as many after Brian2's")
    ap.add_argument("--brian2-repeat", type=int, default=2, help="Brian2: best of this many runs after the first")
    ap.add_argument("--lava-max", type=int, default=1000, help="largest N run on Lava")
    ap.add_argument("--lava-batch", type=int, default=4, help="samples run on Lava (its time is scaled to --batch)")
    ap.add_argument("--brian2-targets", nargs="*", default=["cython", "cpp_standalone"])
    ap.add_argument("--no-extras", action="store_true",
                    help="skip golden_compile and lava_connections")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    sizes = args.sizes or ([200, 1000, 4000] if args.quick else [200, 1000, 4000, 10000])
    load_before = os.getloadavg()
    rows, extras = [], {}
    for n in sizes:
        spec, qnet = network(n, args.seed)
        rng = np.random.default_rng(args.seed)
        x, lengths = random_inputs(rng, args.batch, args.steps, qnet.n_input, rate=args.rate, ragged=False)
        simulate(qnet, x[:1, :5], lengths[:1] * 0 + 5)  # warm-up (operators are cached per network)
        # golden runs before and after Brian2's, best of all (the load of a shared machine drifts)
        golden_s, golden_cpu = cpu_and_wall(lambda: simulate(qnet, x, lengths), args.repeat)
        rec = simulate(qnet, x, lengths)
        events = synaptic_events(qnet, rec)
        b2 = brian2_times(spec, x, lengths, args.brian2_targets, args.brian2_repeat)
        after_s, after_cpu = cpu_and_wall(lambda: simulate(qnet, x, lengths), args.repeat)
        golden_s, golden_cpu = min(golden_s, after_s), min(golden_cpu, after_cpu)
        ok = {k: v for k, v in b2.items() if "s" in v}
        best = min(ok, key=lambda k: ok[k]["s"]) if ok else None
        row = {"n_neurons": n, "synapses": qnet.n_synapses, "golden_s": golden_s, "golden_cpu_s": golden_cpu,
               "brian2_s": ok[best]["s"] if best else None, "brian2_cpu_s": ok[best]["cpu_s"] if best else None,
               "brian2_target": best, "lava_s": None,
               "golden_events_per_s": events / golden_s, "synaptic_events": events,
               "activity": rec.activity(), "brian2": b2}
        if n <= args.lava_max:
            from hrsnn_hw.lava_backend import run_lava
            k = min(args.lava_batch, args.batch)
            lava, lava_k = timed(lambda: run_lava(qnet, x[:k], lengths[:k]))
            row["lava_s"] = lava_k * args.batch / k
            row["lava_samples_run"] = k
            row["lava_spikes_identical"] = bool(np.array_equal(lava.spikes, rec.spikes[:k]))
        row["brian2_over_golden"] = row["brian2_s"] / golden_s if row["brian2_s"] else None
        row["brian2_over_golden_cpu"] = row["brian2_cpu_s"] / golden_cpu if row["brian2_cpu_s"] and golden_cpu else None
        row["lava_over_golden"] = row["lava_s"] / golden_s if row["lava_s"] else None
        rows.append(row)
        print(json.dumps({"progress": {k: row[k] for k in ("n_neurons", "golden_s", "brian2_s", "lava_s")}}),
              file=__import__("sys").stderr, flush=True)
        if n == min(sizes):
            from hrsnn_hw.lava_backend import run_lava
            g1 = best_of(lambda: simulate(qnet, x[:1], lengths[:1]), max(5, args.repeat))
            lava1, l1 = timed(lambda: run_lava(qnet, x[:1], lengths[:1]))
            extras["one_sample"] = {"n_neurons": n, "steps": args.steps, "golden_s": g1, "lava_s": l1,
                                    "lava_over_golden": l1 / g1,
                                    "spikes_identical": bool(np.array_equal(lava1.spikes, rec.spikes[:1])),
                                    "note": "Lava time includes its runtime start-up, as a user sees it"}
        if not args.no_extras and n in (200, 1000):
            from hrsnn_hw.lava_backend import run_lava
            k = min(2, args.batch)
            conn = {}
            for kind in ("dense", "sparse"):
                _, conn[kind] = timed(lambda: run_lava(qnet, x[:k], lengths[:k], connections=kind))
            extras.setdefault("lava_connections", {})[str(n)] = {"samples": k, **conn}
    if not args.no_extras:
        extras["golden_compile"] = golden_compile()
    eps = [r["golden_events_per_s"] for r in rows]
    large = [r for r in rows if r["n_neurons"] >= 1000 and r["brian2_over_golden"]]
    result = {
        "benchmark": "scaling",
        "conventions": {"design": "hrsnn scaled by scale_design (fan-in kept)", "profile": "loihi2",
                        "batch": args.batch, "steps": args.steps, "input_rate": args.rate,
                        "golden": f"best of 2 x {args.repeat} runs around Brian2's, one thread, code compiled "
                                  "and cached before timing (first call: golden_compile)",
                        "brian2": f"fastest target, best of {args.brian2_repeat} runs after the first "
                                  "(compile excluded)",
                        "cpu_s": "CPU time of this process and its finished children (golden, Brian2)",
                        "lava": f"HeteroLIF fixed point, {args.lava_batch} samples scaled to the batch",
                        "timer": "wall clock"},
        "rows": rows,
        "ratios": {"brian2_over_golden_min_n_ge_1000": min((r["brian2_over_golden"] for r in large), default=None),
                   "brian2_over_golden_cpu_min_n_ge_1000": min((r["brian2_over_golden_cpu"] for r in large
                                                                 if r["brian2_over_golden_cpu"]), default=None),
                   "lava_over_golden_one_sample": extras.get("one_sample", {}).get("lava_over_golden"),
                   "golden_events_per_s_max_over_min": max(eps) / min(eps) if eps else None},
        **extras,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "loadavg_before": load_before, "loadavg_after": os.getloadavg()},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
