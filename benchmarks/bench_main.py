"""Wall time of the README's main command, stage by stage (one JSON line).

Runs ``hrsnn-hw run`` with its defaults into a fresh temporary directory (no cache), so the
figure is what a user waits for on a fresh checkout after set-up, and reads each stage's
wall time from the run's ``summary.json``. The Brian2 compile cache is cleared too unless
``--warm-cache`` is given. ``--neurons N`` runs the reference design scaled to N neurons
(``hrsnn_hw.spec.scale_design``: E/I ratio and recurrent fan-in kept) instead, and reports the
energy stage's share of the stages' time (issue 13: ``--neurons 4000 --quick`` under 3 minutes,
energy under 10 %).

    .venv/bin/python benchmarks/bench_main.py [--quick] [--warm-cache] [--neurons N]
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
    parser.add_argument("--neurons", type=int, default=None,
                        help="run the reference design scaled to this many neurons (default: as bundled)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        if not args.warm_cache:
            env["HRSNN_HW_CACHE"] = str(Path(tmp) / "cache")
        out = Path(tmp) / "run"
        cmd = [sys.executable, "-m", "hrsnn_hw", "run", "--out", str(out), "--quiet"]
        if args.neurons is not None:
            from hrsnn_hw.experiment import load_design
            from hrsnn_hw.spec import scale_design
            design = scale_design(load_design("hrsnn"), args.neurons, name=f"hrsnn-n{args.neurons}")
            design_path = Path(tmp) / f"hrsnn-n{args.neurons}.json"
            design_path.write_text(json.dumps(design))
            cmd.insert(4, str(design_path))
        if args.quick:
            cmd.append("--quick")
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        wall = time.perf_counter() - t0
        summary = json.loads((out / "summary.json").read_text()) if (out / "summary.json").exists() else {}
        if (out / "energy").exists():
            shutil.rmtree(out / "energy", ignore_errors=True)
    stages = {k: v["wall_time_s"] for k, v in summary.get("stages", {}).items()}
    total = sum(stages.values())
    print(json.dumps({"benchmark": "main_command", "command": " ".join(cmd[2:4]) + (" --quick" if args.quick else ""),
                      "neurons": args.neurons or "as bundled (200)",
                      "exit_code": proc.returncode, "wall_time_s": round(wall, 2),
                      "stages_s": stages, "stages_total_s": round(sum(stages.values()), 2),
                      "overhead_s": round(wall - sum(stages.values()), 2),
                      "energy_share_of_stages": round(stages.get("energy", 0.0) / total, 4) if total else None,
                      "under_5_minutes": wall < 300, "under_3_minutes": wall < 180,
                      "cpus": os.cpu_count(), "loadavg": os.getloadavg()}))


if __name__ == "__main__":
    main()
