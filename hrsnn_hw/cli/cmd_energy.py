"""``hrsnn-hw energy``: energy per inference of one or more designs on several hardware profiles.

Takes pre-made artifacts (a quantized network and the record of its run, per design),
maps, counts and prices them on every profile, prints the table (profile x design x term),
and with ``--out`` writes ``energy.json`` and ``energy.png`` (stacked bars). The pipeline
calls :func:`energy_table` directly with objects.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ..energy import STATIC_MODES, energy_table, plot_energy, table_json
from ..energy.estimate import TIME_MODES
from ..errors import HrsnnError
from ..io import write_json_atomic
from ..mapping import INPUT_MODES, STRATEGIES
from ..profiles import available_profiles
from ..fixedpoint import QuantizedNetwork
from ..records import SpikeRecord
from .validate import (check_design, check_same_network, deploy_profile, design_ref, load_input_artifact,
                       profile_list, task_name)

NAME = "energy"
HELP = "energy per inference of designs on hardware profiles (table, JSON, stacked-bar figure)"
DESCRIPTION = """Energy per inference on neuromorphic profiles (map + count + price the spiking run) and
on conventional ones (the same network as a rate model), with bands, assumptions and the
ratio of every design to a reference design (default: the one named MRSNN).

Without --qnet, the reference HRSNN and its MRSNN twin are trained, quantized for --deploy-profile
and run by the golden model on the test split of --task (the pipeline's cached stages in --out),
so both designs are compared at equal task.

examples:
  hrsnn-hw energy --out runs/energy
  hrsnn-hw energy --qnet out/hrsnn.qnet.npz --record out/hrsnn.golden.npz --name HRSNN \\
                  --qnet out/mrsnn.qnet.npz --record out/mrsnn.golden.npz --name MRSNN \\
                  --profiles loihi1,loihi2,cpu,gpu --out out/energy"""

__all__ = ["energy_table", "NAME", "HELP", "add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--qnet", action="append", type=Path, default=[],
                        help="quantized network (.npz); repeat once per design")
    parser.add_argument("--record", action="append", type=Path, default=[],
                        help="spike record of the same design's run (.npz, with its input raster); "
                             "repeat in the same order as --qnet")
    parser.add_argument("--name", action="append", default=[],
                        help="design name, in --qnet order (default: the network's name)")
    parser.add_argument("--profiles", default=",".join(available_profiles()), type=profile_list,
                        help="comma-separated profile names or .json paths (default: every bundled profile)")
    parser.add_argument("--reference", default=None,
                        help="design the others are divided by (default: MRSNN if present, else the last)")
    parser.add_argument("--static", choices=STATIC_MODES, default="per_chip",
                        help="static power: whole chips used, or the used cores' share of a chip")
    parser.add_argument("--time-per-step", default="profile",
                        help="'profile', 'activity', 'real_time' or seconds (sets the static term's time)")
    parser.add_argument("--inputs", choices=INPUT_MODES, default="io",
                        help="inputs enter from the I/O port, or sit on cores of their own")
    parser.add_argument("--strategy", choices=STRATEGIES, default="pack_profiles", help="mapping strategy")
    parser.add_argument("--design", default="hrsnn", type=design_ref,
                        help="without --qnet: the design run with its MRSNN twin (default: reference hrsnn)")
    parser.add_argument("--task", default="japanese_vowels", type=task_name,
                        help="without --qnet: the task (default: japanese_vowels)")
    parser.add_argument("--deploy-profile", default="loihi2", type=deploy_profile,
                        help="without --qnet: the profile the networks are quantized for (default: loihi2)")


def _time_arg(text: str) -> str | float:
    try:
        return float(text)
    except ValueError:
        return text


def _pipeline_items(args: argparse.Namespace) -> tuple[list, dict]:
    """Reference designs through the pipeline's cached stages: (name, qnet, golden test record)."""
    from ..pipeline import Pipeline, PipelineConfig
    out = Path(args.out) if args.out else Path("runs/energy")
    config = PipelineConfig(design=args.design, task=args.task, profile=args.deploy_profile, seed=args.seed,
                            quick=args.quick)
    pipe = Pipeline(config, out, on_event=(lambda msg: None) if (args.json or args.quiet) else None)
    items, tasks = [], {}
    for name in pipe.designs:
        fixed = pipe.fixed_metrics(name)
        items.append((name, pipe.quantize(name), SpikeRecord.load(out / f"fixed-{name}" / "test_record.npz")))
        tasks[name] = {"task": args.task, fixed["task_metric_name"]: fixed["task_metric"],
                       "float_" + fixed["task_metric_name"]: pipe.float_metrics(name)["task_metric"]}
    return items, tasks


def check(args: argparse.Namespace) -> None:
    """Pre-flight: pairs of files, time per step, and (without --qnet) the design and its memory."""
    if len(args.qnet) != len(args.record):
        raise HrsnnError("give one --record per --qnet", parameter="--record",
                         value=f"{len(args.record)} records for {len(args.qnet)} networks")
    if args.name and len(args.name) != len(args.qnet):
        raise HrsnnError("give one --name per --qnet, or none", parameter="--name",
                         value=f"{len(args.name)} names for {len(args.qnet)} networks")
    t = _time_arg(args.time_per_step)
    if (isinstance(t, float) and not 0 < t < float("inf")) or (isinstance(t, str) and t not in TIME_MODES):
        raise HrsnnError("time per step must be a mode or a positive number of seconds", parameter="--time-per-step",
                         value=args.time_per_step, allowed=f"one of {list(TIME_MODES)} or seconds > 0")
    if not args.qnet:
        if args.out is None:
            args.out = Path("runs/energy")
        design = check_design(args.design, parameter="--design", max_memory=args.max_memory)
        names = [str(design.get("name", Path(args.design).stem)), "mrsnn"]
    else:
        names = list(args.name)
    if args.reference is not None and names and args.reference not in names:
        raise HrsnnError("unknown reference design", parameter="--reference", value=args.reference,
                         allowed=f"one of {names}")


def run(args: argparse.Namespace) -> dict:
    task_info = None
    if not args.qnet:
        items, task_info = _pipeline_items(args)
        if not args.out:
            args.out = Path("runs/energy")
        return _table(args, items, task_info)
    if len(args.qnet) != len(args.record):
        raise HrsnnError("give one --record per --qnet", parameter="--record",
                         value=f"{len(args.record)} records for {len(args.qnet)} networks")
    if args.name and len(args.name) != len(args.qnet):
        raise HrsnnError("give one --name per --qnet, or none", parameter="--name",
                         value=f"{len(args.name)} names for {len(args.qnet)} networks")
    items = []
    for k, (qpath, rpath) in enumerate(zip(args.qnet, args.record)):
        qnet = load_input_artifact(QuantizedNetwork.load, qpath, "--qnet")
        record = load_input_artifact(SpikeRecord.load, rpath, "--record")
        check_same_network(qnet, record, f"--qnet/--record pair {k + 1}")
        items.append((args.name[k] if args.name else qnet.name, qnet, record))
    return _table(args, items, None)


def _table(args: argparse.Namespace, items: list, task_info: dict | None) -> dict:
    profiles = [p.strip() for p in args.profiles.split(",") if p.strip()]
    if not profiles:
        raise HrsnnError("no profiles given", parameter="--profiles", value=args.profiles,
                         allowed=f"names from {available_profiles()} or .json paths")
    table = energy_table(items, profiles, static=args.static, time_per_step=_time_arg(args.time_per_step),
                         inputs=args.inputs, strategy=args.strategy, reference=args.reference)
    doc = table_json(table)
    result = {"reference": doc["reference"], "rows": doc["rows"], "ratios": doc["ratios"],
              "_text": table["text"]}
    if task_info:
        result["task"] = task_info
        result["_text"] += "\n\nat equal task: " + "; ".join(
            f"{name}: " + ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in info.items())
            for name, info in task_info.items())
    if args.out:
        json_path = write_json_atomic(Path(args.out) / "energy.json", doc)
        fig_path = plot_energy(table, Path(args.out) / "energy.png")
        result["files"] = {"json": str(json_path), "figure": str(fig_path)}
        result["_text"] += f"\n\nwrote {json_path} and {fig_path}"
    return result
