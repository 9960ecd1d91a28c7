"""Regenerate the computed sections of README.md from the commands that produce them.

Every number in the README between ``<!-- BEGIN name -->`` and ``<!-- END name -->`` is
written here from a command's JSON output (shown next to it), never typed in.

    .venv/bin/python scripts/update_readme.py                 # every section
    .venv/bin/python scripts/update_readme.py --only ablation # one section
    .venv/bin/python scripts/update_readme.py --reuse         # re-render from runs/ without re-running
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIG = ROOT / "docs" / "figures"
PY = sys.executable


def sh(cmd: list[str], out_json: Path, reuse: bool) -> dict:
    """Run a command that prints one JSON object; keep it in ``out_json``."""
    if reuse and out_json.exists():
        return json.loads(out_json.read_text())
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode not in (0, 1):
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}")
    line = [l for l in proc.stdout.splitlines() if l.strip().startswith("{")][-1]
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(line)
    return json.loads(line)


def energy_text(j: float | None) -> str:
    if j is None:
        return "n/a"
    for unit, scale in (("J", 1.0), ("mJ", 1e-3), ("µJ", 1e-6), ("nJ", 1e-9), ("pJ", 1e-12)):
        if abs(j) >= scale:
            return f"{j / scale:.3g} {unit}"
    return f"{j:.3g} J"


def section_main(reuse: bool) -> str:
    doc = sh([PY, "-m", "hrsnn_hw", "run", "--out", "runs/default", "--json"], ROOT / "runs/default/run.json", reuse)
    FIG.mkdir(parents=True, exist_ok=True)
    for name in ("raster-hrsnn.png", "design.png"):
        src = ROOT / "runs/default/report" / name
        if src.exists():
            shutil.copy(src, FIG / name)
    rows = ["| design | stage | MC | activity (spikes/neuron/step) | E = MC/activity | accuracy | spikes/inference |",
            "|---|---|---|---|---|---|---|"]
    for name, d in doc["designs"].items():
        for stage, label in (("float", "Brian2 float"), ("fixed", "fixed point (golden = Lava)")):
            m = d[stage]
            rows.append(f"| {name} | {label} | {m['mc']:.3f} | {m['activity']:.4f} | {m['efficiency']:.2f} | "
                        f"{m['task_metric']:.4f} | {m['spikes_per_inference']:.0f} |")
    ver = [f"| {name} | " + " | ".join(r["verdict"] for r in sorted(d["verify"]["rungs"], key=lambda r: r["rung"]))
           + " |" for name, d in doc["designs"].items()]
    stages = doc["stages"]
    text = ["Made by `hrsnn-hw run --out runs/default` (JapaneseVowels, official split: 270 train / 370 test; "
            f"seed {doc['config']['seed']}; deployment profile `{doc['config']['profile']}`); wall time "
            f"{doc['wall_time_s']:.0f} s on this 2-core machine.", "", *rows, "",
            "Verification ladder verdicts (rungs 1, 2, 3, 4a, 4b, 5; see [Verification](#verification)):", "",
            "| design | 1 | 2 | 3 | 4a | 4b | 5 |", "|---|---|---|---|---|---|---|", *ver, "",
            "![raster](docs/figures/raster-hrsnn.png)", "",
            "Stage wall times (s): " + ", ".join(f"{k} {v['wall_time_s']:.1f}" for k, v in stages.items()) + "."]
    return "\n".join(text)


ABLATION_TASKS = {"ablation": ("japanese_vowels", "JapaneseVowels", "runs/ablation"),
                  "ablation_mackey_glass": ("mackey_glass", "Mackey-Glass", "runs/ablation-mackey_glass")}


def _ablation(section: str, reuse: bool) -> str:
    task, label, out = ABLATION_TASKS[section]
    cmd = f"hrsnn-hw ablation --task {task} --out {out}"
    doc = sh([PY, "-m", "hrsnn_hw", "ablation", "--task", task, "--out", out, "--json"], ROOT / out / "run.json",
             reuse)
    FIG.mkdir(parents=True, exist_ok=True)
    figure = f"{section.replace('_', '-')}.png"
    shutil.copy(ROOT / out / "ablation.png", FIG / figure)
    md = (ROOT / out / "ablation.md").read_text().rstrip()
    return "\n".join([f"Made by `{cmd}` ({len(doc['seeds'])} seeds, {label}; the 4 arms, the HRSNN's controls and "
                      f"the non-spiking references on the same seeds and split):", "",
                      f"![{section}](docs/figures/{figure})", "", md])


def section_ablation(reuse: bool) -> str:
    return _ablation("ablation", reuse)


def section_ablation_mackey_glass(reuse: bool) -> str:
    return _ablation("ablation_mackey_glass", reuse)


def section_energy(reuse: bool) -> str:
    doc = sh([PY, "-m", "hrsnn_hw", "energy", "--out", "runs/default", "--json"], ROOT / "runs/default/energy-cli.json",
             reuse)
    FIG.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "runs/default/energy.png", FIG / "energy.png")
    rows = ["| profile | model | HRSNN per inference [band] | MRSNN per inference [band] | HRSNN / MRSNN [band] |",
            "|---|---|---|---|---|"]
    by = {}
    for r in doc["rows"]:
        if not r.get("error"):
            by[(r["profile"], r["model"], r["design"])] = r
    ratios = {(r["profile"], r["model"]): r for r in doc["ratios"]} if isinstance(doc["ratios"], list) else {}
    for (profile, model, design), r in sorted(by.items()):
        if design != "hrsnn":
            continue
        m = by.get((profile, model, "mrsnn"))
        ratio = ratios.get((profile, model))
        rtxt = "n/a"
        if ratio:
            rtxt = f"{ratio['ratio']:.3g} [{ratio['low']:.3g} .. {ratio['high']:.3g}]"
        rows.append(f"| {profile} | {model} | {energy_text(r['total_J'])} [{energy_text(r['low_J'])} .. "
                    f"{energy_text(r['high_J'])}] | " + (f"{energy_text(m['total_J'])} [{energy_text(m['low_J'])} .. "
                    f"{energy_text(m['high_J'])}]" if m else "n/a") + f" | {rtxt} |")
    task = doc.get("task", {})
    task_line = "; ".join(f"{n}: " + ", ".join(f"{k} {v:.4f}" for k, v in t.items() if isinstance(v, float))
                          for n, t in task.items())
    return "\n".join(["Made by `hrsnn-hw energy --out runs/default` (reuses the main run's cached stages; golden "
                      "records of the 370 test samples; the `cpu`/`gpu` rows price the same recurrent network run "
                      "as a non-spiking rate model):", "", *rows, "", f"At equal task: {task_line}.", "",
                      "![energy](docs/figures/energy.png)"])


def section_benchmarks(reuse: bool) -> str:
    lines = []
    for script in ("bench_main.py", "bench_golden_vs_lava.py", "bench_energy.py", "bench_refsim.py"):
        out = ROOT / "runs/benchmarks" / (script[:-3] + ".json")
        doc = sh([PY, f"benchmarks/{script}"], out, reuse)
        lines += [f"`.venv/bin/python benchmarks/{script}`:", "", "```json", json.dumps(doc), "```", ""]
    return "\n".join(lines).rstrip()


def section_optimize(reuse: bool) -> str:
    out = ROOT / "runs/optimize"
    cmd = "hrsnn-hw optimize --budget 40 --profile loihi1 --workers 2 --out runs/optimize"
    doc = sh([PY, "-m", "hrsnn_hw", "optimize", "--budget", "40", "--profile", "loihi1", "--workers", "2",
              "--out", str(out), "--json"], out / "run.json", reuse)
    md = out / "summary.md"
    FIG.mkdir(parents=True, exist_ok=True)
    for name in ("history.png", "importance.png", "mc_activity.png"):
        if (out / name).exists():
            shutil.copy(out / name, FIG / f"optimize-{name}")
    table = md.read_text().rstrip() if md.exists() else json.dumps(doc.get("reeval", {}))
    floor = doc.get("constraint_values", {}).get("mc>=mrsnn")
    tuned = doc.get("tuned_mrsnn") or {}
    lines = [f"Made by `{cmd}` (objective E = MC / activity under the default constraint `mc>=mrsnn`"
             + (f", the reference MRSNN's MC on the search seeds: {floor:.4g}" if floor is not None else "")
             + (f"; the MRSNN tuned by a second study of the same budget over its homogeneous parameters "
                f"({tuned.get('trials', {}).get('complete', 0)} trials)" if tuned else "") + "):", "",
             "![MC vs activity](docs/figures/optimize-mc_activity.png)", "", table, "",
             "![history](docs/figures/optimize-history.png)"]
    return "\n".join(lines)


def section_sweep(reuse: bool) -> str:
    doc = sh([PY, "-m", "hrsnn_hw", "sweep", "--out", "runs/default", "--json"], ROOT / "runs/default/sweep.json",
             reuse)
    FIG.mkdir(parents=True, exist_ok=True)
    out = ["Made by `hrsnn-hw sweep --out runs/default` (the main run's trained networks quantized for "
           "`loihi2` at every setting, each measured with the golden model on the full task; shown: the K "
           "sweep at 8 weight bits and the weight-bit sweep at K = 32, the full grid is in "
           "`runs/default/sweep-<design>/sweep.md`):", ""]
    cols = ("k", "weight_bits", "neuron_profiles", "tau_m_mean_rel_err", "weights_lost", "mc", "activity",
            "efficiency", "task_metric")
    for name, result in doc["designs"].items():
        shutil.copy(ROOT / f"runs/default/sweep-{name}/sweep.png", FIG / f"sweep-{name}.png")
        out += [f"**{name}** (made by `hrsnn-hw sweep --out runs/default`):", "",
                f"![sweep {name}](docs/figures/sweep-{name}.png)", "",
                "| K profiles | weight bits | profiles used | tau_m error (mean) | weights lost | "
                "MC | activity | E | accuracy |", "|---|---|---|---|---|---|---|---|---|"]
        for row in result["rows"]:
            # The K sweep at the profile's 8 weight bits, and the weight-bit sweep at K = 32
            # (the full grid is in runs/default/sweep-<design>/sweep.md).
            if row.get("error") or not (row.get("weight_bits") == 8 or row.get("k") == 32):
                continue
            cells = []
            for c in cols:
                v = row.get(c)
                if c == "tau_m_mean_rel_err":
                    cells.append(f"{100 * v:.2f} %")
                elif isinstance(v, float):
                    cells.append(f"{v:.4g}")
                else:
                    cells.append("none" if v is None else str(v))
            out.append("| " + " | ".join(cells) + " |")
        out += [""]
    return "\n".join(out).rstrip()


def section_capacity(reuse: bool) -> str:
    doc = sh([PY, "-m", "hrsnn_hw", "capacity", "--out", "runs/capacity", "--json"], ROOT / "runs/capacity/run.json",
             reuse)
    FIG.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "runs/capacity/capacity.png", FIG / "capacity.png")
    md = (ROOT / "runs/capacity/capacity.md").read_text().rstrip()
    cfg = doc["config"]
    out = [f"Made by `hrsnn-hw capacity --out runs/capacity` (sizes {cfg['sizes']}, seeds {cfg['seeds']}, "
           f"wall time {doc['wall_time_s']:.0f} s):", "", md, ""]
    het = {s["n_neurons"]: s for s in doc["summary"] if s["arm"] == "het"}
    for arm in ("hom", "het"):
        means = [s["mc_mean"] for s in doc["summary"] if s["arm"] == arm]
        grows = all(b > a for a, b in zip(means, means[1:]))
        out.append(f"- MC of the {arm} arm {'grows' if grows else 'does not grow'} with N at every step "
                   f"({', '.join(f'{m:.2f}' for m in means)}).")
    if 1000 in het:
        s = het[1000]
        met = s["mc_low"] >= 3.0
        out.append(f"- Target of issue 9 (heterogeneous MC >= 3 at N = 1,000, chance-corrected): "
                   f"MC = {s['mc_mean']:.2f}, 95 % CI [{s['mc_low']:.2f}, {s['mc_high']:.2f}]: "
                   f"{'met' if met else 'not met'} (met when the whole interval is at or above 3).")
    out += ["", "![capacity](docs/figures/capacity.png)"]
    return "\n".join(out)


SECTIONS = {"main": section_main, "capacity": section_capacity, "sweep": section_sweep, "ablation": section_ablation,
            "ablation_mackey_glass": section_ablation_mackey_glass, "energy": section_energy,
            "optimize": section_optimize, "benchmarks": section_benchmarks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=None, help="comma-separated sections: " + ",".join(SECTIONS))
    parser.add_argument("--reuse", action="store_true", help="use the JSON kept in runs/ instead of re-running")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(SECTIONS)
    for name in names:
        body = SECTIONS[name](args.reuse)
        # Re-read for every section: the commands take minutes, the README may change meanwhile.
        readme = (ROOT / "README.md").read_text()
        pattern = re.compile(rf"(<!-- BEGIN {name} -->\n).*?(\n<!-- END {name} -->)", re.S)
        if not pattern.search(readme):
            raise SystemExit(f"README has no section markers for {name!r}")
        readme = pattern.sub(lambda m: m.group(1) + body + m.group(2), readme)
        (ROOT / "README.md").write_text(readme)
        print(f"updated section {name}", file=sys.stderr)


if __name__ == "__main__":
    main()
