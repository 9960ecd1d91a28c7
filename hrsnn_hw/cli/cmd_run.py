"""``hrsnn-hw run``: the whole pipeline, design to deployed energy figure, with a report."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from . import progress_enabled
from .validate import (baseline_ref, check_pipeline, deploy_profile, design_ref, nonneg_int, positive_int, profile_list,
                       task_name)

DEFAULT_OUT = Path("runs/default")

NAME = "run"
HELP = "run every stage (train, quantize, deploy, verify, energy) and write a report"
DESCRIPTION = """\
Takes a design (default: the reference HRSNN) and a task (default: JapaneseVowels) through
unsupervised STDP training (Brian2), measurement (MC, activity, E, task metric), quantization
for --profile, the golden fixed-point model, deployment on Lava's CPU simulator, the
equivalence ladder and energy on every hardware profile, for the design and its homogeneous
twin (MRSNN). Stages are cached in --out: a re-run skips stages whose inputs did not change.

Writes --out/report/report.md and report.html, summary.json, pipeline.log and one folder
per stage. Exit code 1 when the verification ladder fails.

examples:
  hrsnn-hw run
  hrsnn-hw run hrsnn --task mackey_glass --profile loihi1 --out runs/mg
  hrsnn-hw run --quick --json
"""


def add_arguments(parser: argparse.ArgumentParser, with_until: bool = True) -> None:
    parser.add_argument("spec", nargs="?", default="hrsnn", type=design_ref,
                        help="design file or reference name (default: hrsnn)")
    parser.add_argument("--task", default="japanese_vowels", type=task_name,
                        help="task name or data file (default: japanese_vowels)")
    parser.add_argument("--profile", default="loihi2", type=deploy_profile,
                        help="deployment hardware profile (default: loihi2)")
    parser.add_argument("--baseline", default="twin", type=baseline_ref,
                        help="'twin' (the design's homogeneous twin, MRSNN), another design, or 'none'")
    parser.add_argument("--energy-profiles", default=None, type=profile_list,
                        help="comma-separated profiles to price (default: every bundled profile)")
    if with_until:
        parser.add_argument("--until", default="report",
                            choices=("train", "float", "quantize", "fixed", "deploy", "verify", "energy", "report"),
                            help="stop after this stage")
    parser.add_argument("--epochs", type=nonneg_int, default=None, help="STDP epochs (default 1; 0: untrained)")
    parser.add_argument("--lava-samples", type=positive_int, default=None,
                        help="test samples deployed on Lava (default 3)")
    parser.add_argument("--force", action="store_true", help="recompute every stage (ignore the cache)")
    parser.add_argument("--strict", action="store_true",
                        help="quantize strictly: any lossy conversion is an error (exit 2), not a warning")
    parser.add_argument("--target", choices=("numpy", "cython", "cpp_standalone"), default=None,
                        help="Brian2 code-generation target (default: chosen by workload size)")


def check(args: argparse.Namespace) -> None:
    """Pre-flight: designs, task, profiles and the memory estimate, before the first stage."""
    if args.out is None:
        args.out = DEFAULT_OUT
    check_pipeline(args)


def run_pipeline_command(args: argparse.Namespace, until: str) -> dict:
    from ..pipeline import Pipeline, PipelineConfig
    from .import CheckFailed
    out = Path(args.out) if args.out else DEFAULT_OUT
    out.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(out / "pipeline.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger("hrsnn_hw")
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    quiet = getattr(args, "quiet", False) or getattr(args, "json", False)
    stream_handlers = [h for h in logging.getLogger().handlers]
    for h in stream_handlers:
        h.setLevel(logging.WARNING if quiet else logging.INFO)
    profiles = tuple(p.strip() for p in args.energy_profiles.split(",")) if getattr(args, "energy_profiles", None) else ()
    config = PipelineConfig(design=args.spec, baseline=None if args.baseline == "none" else args.baseline,
                            task=args.task, profile=args.profile, energy_profiles=profiles, seed=args.seed,
                            quick=args.quick, lava_samples=getattr(args, "lava_samples", None),
                            epochs=getattr(args, "epochs", None), strict=getattr(args, "strict", False),
                            target=getattr(args, "target", None))
    bar = None
    if progress_enabled(args):
        from tqdm import tqdm
        n_designs = 2 if config.baseline else 1
        bar = tqdm(total=6 * n_designs + 2, desc="pipeline", unit="stage", file=sys.stderr)

    def progress(stage: str) -> None:
        if bar is not None:
            bar.set_postfix_str(stage)
            bar.update(1)
    try:
        pipe = Pipeline(config, out, force=getattr(args, "force", False))
        summary = pipe.run(until=until, progress=progress)
    finally:
        if bar is not None:
            bar.close()
        root.removeHandler(handler)
        handler.close()
    summary["_text"] = summary_text(pipe, summary)
    failed = [n for n in pipe.designs if f"verify-{n}" in pipe.cache.results and not pipe.verify(n).ok]
    if failed:
        raise CheckFailed(summary, f"verification failed for {', '.join(failed)} (see the report)")
    return summary


def summary_text(pipe, summary: dict) -> str:
    """The terminal summary of a finished run, read from the stages' artifacts (Measurement,
    VerificationReport) of ``pipe``; ``summary`` adds the report path, cache and wall time."""
    done = pipe.cache.results
    lines = []
    for name in pipe.designs:
        for stage, label in (("float", "float"), ("fixed", "fixed")):
            if f"{stage}-{name}" not in done:
                continue
            m = pipe.float_metrics(name) if stage == "float" else pipe.fixed_metrics(name)
            head = f"{name:>8}" if stage == "float" else f"{'':>8}"
            line = (f"{head} {label}: MC {m.mc:.3f}  activity {m.activity:.4f}  E {m.efficiency:.2f}  "
                    f"{m.task.metric_name} {m.task.metric:.4f}")
            if stage == "fixed":
                line += f"  spikes/inference {m.task.spikes_per_inference:.1f}"
            lines.append(line)
        if f"verify-{name}" in done:
            report = pipe.verify(name)
            lines.append(f"{'':>8} verification: {'PASS' if report.ok else 'FAIL'}")
            for r in report.rungs:
                lines.append(f"{'':>10} rung {r.rung}  {r.verdict:<4}  {r.pair[:58]:<58}  {r.value}")
                if r.first_divergence:
                    lines.append(f"{'':>16} first divergence: {r.first_divergence}")
    if summary.get("report"):
        lines.append(f"report: {summary['report']}")
    skipped = [k for k, v in summary.get("stages", {}).items() if v["skipped"]]
    if skipped:
        lines.append(f"cached (inputs unchanged): {', '.join(skipped)}")
    lines.append(f"wall time: {summary['wall_time_s']:.1f} s")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> dict:
    return run_pipeline_command(args, args.until)
