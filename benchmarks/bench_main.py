"""Wall time of the README's main command, stage by stage (one JSON line).

Runs ``hrsnn-hw run`` with its defaults into a fresh temporary directory (no cache), so the
figure is what a user waits for on a fresh checkout after set-up, and reads each stage's
wall time from the run's ``summary.json``. The Brian2 compile cache is cleared too unless
``--warm-cache`` is given.

    .venv/bin/python benchmarks/bench_main.py [--quick] [--warm-cache]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="time the --quick configuration instead")
    parser.add_argument("--warm-cache", action="store_true", help="keep Brian2's compile cache")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        if not args.warm_cache:
            env["HRSNN_HW_CACHE"] = str(Path(tmp) / "cache")
        out = Path(tmp) / "run"
        cmd = [sys.executable, "-m", "hrsnn_hw", "run", "--out", str(out), "--quiet"]
        if args.quick:
            cmd.append("--quick")
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        wall = time.perf_counter() - t0
        summary = json.loads((out / "summary.json").read_text()) if (out / "summary.json").exists() else {}
        if (out / "energy").exists():
            shutil.rmtree(out / "energy", ignore_errors=True)
    stages = {k: v["wall_time_s"] for k, v in summary.get("stages", {}).items()}
    print(json.dumps({"benchmark": "main_command", "command": " ".join(cmd[2:4]) + (" --quick" if args.quick else ""),
                      "exit_code": proc.returncode, "wall_time_s": round(wall, 2),
                      "stages_s": stages, "stages_total_s": round(sum(stages.values()), 2),
                      "overhead_s": round(wall - sum(stages.values()), 2),
                      "under_5_minutes": wall < 300, "cpus": os.cpu_count()}))


if __name__ == "__main__":
    main()
