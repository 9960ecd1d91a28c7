"""Benchmark ``hrsnn-hw optimize --quick`` (the issue's limit: under two minutes); prints one JSON line.

    .venv/bin/python benchmarks/bench_optimize.py               # real evaluator (Brian2), --quick
    .venv/bin/python benchmarks/bench_optimize.py --synthetic   # optimiser overhead only (no network runs)

Runs the CLI in a fresh process (imports included, as a user would see it) on a temporary
output directory, then reads the study's result.json for the per-stage times.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

LIMIT_S = 120.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--synthetic", action="store_true", help="use the synthetic evaluator (optimiser overhead)")
    ap.add_argument("--budget", type=int, default=None, help="override the --quick budget")
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_optimize_") as tmp:
        cmd = [sys.executable, "-c", "import sys; from hrsnn_hw.cli import main; sys.exit(main(sys.argv[1:]))",
               "optimize", "--quick", "--json", "--out", tmp, "--workers", str(args.workers)]
        if args.synthetic:
            cmd += ["--evaluator", "hrsnn_hw.optimize.synthetic:evaluate"]
        if args.budget is not None:
            cmd += ["--budget", str(args.budget)]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "MPLBACKEND": "Agg"})
        wall = time.perf_counter() - t0
        try:
            result = json.loads(proc.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            result = {}
        timings = result.get("timings") or {}
        designs = ((result.get("reeval") or {}).get("designs")) or {}

        def e(label):
            return ((designs.get(label) or {}).get("efficiency") or {}).get("mean")

        line = {"bench": "optimize_quick", "evaluator": "synthetic" if args.synthetic else "real",
                "exit_code": proc.returncode, "wall_s": round(wall, 2), "limit_s": LIMIT_S,
                "under_limit": bool(proc.returncode == 0 and wall < LIMIT_S),
                "complete_trials": (result.get("trials") or {}).get("complete"),
                "workers": args.workers,
                "search_s": timings.get("search_wall_s"), "reeval_s": timings.get("reeval_wall_s"),
                "mean_trial_s": timings.get("mean_trial_s"),
                "E_optimized": e("optimized"), "E_reference_hrsnn": e("reference_hrsnn"), "E_mrsnn": e("mrsnn"),
                "E_tuned_mrsnn": e("tuned_mrsnn"),
                "tuned_mrsnn_trials": ((result.get("tuned_mrsnn") or {}).get("trials") or {}).get("complete"),
                "cpu_count": os.cpu_count(), "load_avg_1m": os.getloadavg()[0] if hasattr(os, "getloadavg") else None}
        if proc.returncode != 0:
            line["stderr_tail"] = proc.stderr[-800:]
    print(json.dumps(line))
    return 0 if line["under_limit"] else 1


if __name__ == "__main__":
    sys.exit(main())
