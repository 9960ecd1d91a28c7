"""Benchmark: counting and pricing next to the simulation they price; prints one JSON object.

Target (issue 10): the energy stage stays a small fraction of the simulation it prices (under 10 %
of a quick run of the 4,000-neuron design). For a design scaled to ``--neurons`` (the reference
HRSNN, recurrent fan-in kept), quantized for loihi2 and run by the golden model on a random input
raster of ``--samples`` x ``--steps``, this times side by side:

* the golden simulation (spikes only) and with the active-neuron rule (states kept per chunk);
* the active rule from a record without states (the lower bound: received | bias | spike);
* mapping, counting and pricing on every bundled neuromorphic profile (one ``energy_table``).

    .venv/bin/python benchmarks/bench_energy.py [--neurons 4000] [--samples 60] [--steps 120]
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--neurons", type=int, default=4000)
    ap.add_argument("--samples", type=int, default=60)
    ap.add_argument("--steps", type=int, default=120)
    ap.add_argument("--rate", type=float, default=0.1, help="input spike probability per channel and step")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import warnings
    from hrsnn_hw.counting import active_neurons
    from hrsnn_hw.energy import energy_table, simulate_with_activity
    from hrsnn_hw.errors import LossyConversionWarning
    from hrsnn_hw.golden import simulate
    from hrsnn_hw.mapping.synapses import source_target_matrix
    from hrsnn_hw.profiles import available_profiles, load_profile
    from hrsnn_hw.quantize import quantize
    from hrsnn_hw.reference import resolve_design
    from hrsnn_hw.spec import build_spec, read_spec_file, scale_design

    warnings.simplefilter("ignore", LossyConversionWarning)
    design = read_spec_file(resolve_design("hrsnn"))
    if args.neurons != 200:
        design = scale_design(design, args.neurons)
    spec = build_spec(design, n_input=24, seed=args.seed)
    qnet, _ = quantize(spec, load_profile("loihi2"))
    rng = np.random.default_rng(args.seed)
    x = rng.random((args.samples, args.steps, 24)) < args.rate
    lengths = rng.integers(args.steps // 2, args.steps + 1, args.samples)

    def timed(fn):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        return out, time.perf_counter() - t0, time.process_time() - c0

    record, sim_s, sim_cpu = timed(lambda: simulate(qnet, x, lengths))
    (rec2, active), act_sim_s, act_sim_cpu = timed(lambda: simulate_with_activity(qnet, x, lengths))
    (lower, _), lower_s, _ = timed(lambda: active_neurons(record, qnet))
    profiles = [p for p in available_profiles() if load_profile(p).kind == "neuromorphic"]
    runs = [("hrsnn", qnet, rec2, {"active": active})]
    table, table_s, table_cpu = timed(lambda: energy_table(runs, profiles))
    rows = [r for r in table.rows if not r.get("error")]
    print(json.dumps({
        "bench": "energy", "neurons": qnet.n_neurons, "synapses": int(source_target_matrix(qnet).sum()), "samples": args.samples,
        "valid_steps": int(lengths.sum()), "spikes": int(record.spikes.sum()), "profiles": profiles,
        "golden_s": round(sim_s, 3), "golden_cpu_s": round(sim_cpu, 3),
        "golden_with_active_rule_s": round(act_sim_s, 3), "golden_with_active_rule_cpu_s": round(act_sim_cpu, 3),
        "active_lower_bound_s": round(lower_s, 3),
        "map_count_price_all_profiles_s": round(table_s, 3), "map_count_price_all_profiles_cpu_s": round(table_cpu, 3),
        "active_fraction_exact": float(active.sum() / (lengths.sum() * qnet.n_neurons)),
        "active_fraction_lower_bound": float(lower.sum() / (lengths.sum() * qnet.n_neurons)),
        "ratio_pricing_to_golden": round(table_s / sim_s, 3) if sim_s else None,
        "cores": {r["profile"]: r["cores"] for r in rows},
        "errors": {r["profile"]: r["error"][:80] for r in table.rows if r.get("error")},
        "machine": {"cpus": os.cpu_count(), "loadavg": list(os.getloadavg())}}))


if __name__ == "__main__":
    main()
