"""``hrsnn-hw energy``: energy per inference of designs on hardware profiles.

Takes pre-made artifacts (a quantized network and the record of its run, per design), or
without them the pipeline's cached stages for a design and its MRSNN twin; maps every design
on the same core budget of each neuromorphic profile, counts and prices the runs, prices a
non-spiking baseline (an echo-state network trained on the same task) on the conventional
profiles, prints the table and with ``--out`` writes ``energy.json`` (the table artifact) and
``energy.png``. ``--json`` prints one object: ``rows`` (one per profile and design) and
``ratios`` (per profile, numerator / reference of dynamic and total energy).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ..energy import STATIC_MODES, TIME_MODES, DesignRun, energy_table, plot_energy
from ..errors import HrsnnError
from ..mapping import INPUT_MODES, STRATEGIES
from ..profiles import available_profiles
from ..fixedpoint import QuantizedNetwork
from ..records import SpikeRecord
from .validate import (check_design, check_same_network, deploy_profile, design_ref, load_input_artifact,
                       profile_list, task_name)

NAME = "energy"
HELP = "energy per inference of designs on hardware profiles (dynamic + static under a named convention)"
DESCRIPTION = """Energy per inference on neuromorphic profiles (map + count + price the spiking run) and a
non-spiking baseline (an echo-state network trained on the same task) on conventional ones. Dynamic
energy is the headline; static energy is its own column under the convention --static names
('chip': whole chips used x wall time; 'core_share': the used cores' share of a chip x wall time);
the wall time per step comes from --time-per-step ('auto': each profile's own model: compute-bound
from per-op times, a fixed tick, or real-time pacing). Designs are mapped on the same core budget
(the larger of their needs) unless --no-equal-cores.

Without --qnet, the reference HRSNN and its MRSNN twin are trained, quantized for --deploy-profile
and run by the golden model on the test split of --task (the pipeline's cached stages in --out),
so both designs are compared at equal task.

examples:
  hrsnn-hw energy --out runs/energy
  hrsnn-hw energy --out runs/default --static core_share --json
  hrsnn-hw energy --qnet out/hrsnn.qnet.npz --record out/hrsnn.golden.npz --name HRSNN \\
                  --qnet out/mrsnn.qnet.npz --record out/mrsnn.golden.npz --name MRSNN \\
                  --profiles loihi1,loihi2 --out out/energy"""

__all__ = ["NAME", "HELP", "add_arguments", "check", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--qnet", action="append", type=Path, default=[],
                        help="quantized network (.npz); repeat once per design")
    parser.add_argument("--record", action="append", type=Path, default=[],
                        help="spike record of the same design's run (.npz, with its input raster; with v "
                             "recorded the active-neuron count is exact); repeat in the same order as --qnet")
    parser.add_argument("--name", action="append", default=[],
                        help="design name, in --qnet order (default: the network's name)")
    parser.add_argument("--profiles", default=",".join(available_profiles()), type=profile_list,
                        help="comma-separated profile names or .json paths (default: every bundled profile)")
    parser.add_argument("--reference", default=None,
                        help="design the others are divided by (default: MRSNN if present, else the last)")
    parser.add_argument("--static", choices=STATIC_MODES, default="chip",
                        help="static convention: whole chips used (default) or the used cores' share of a chip")
    parser.add_argument("--time-per-step", default="auto",
                        help=f"one of {', '.join(TIME_MODES)} or seconds per step (default auto: each profile's model)")
    parser.add_argument("--no-equal-cores", action="store_true",
                        help="map each design on the fewest cores it needs (default: same core budget for all)")
    parser.add_argument("--inputs", choices=INPUT_MODES, default="io",
                        help="inputs enter from the I/O port, or sit on cores of their own")
    parser.add_argument("--strategy", choices=STRATEGIES, default="pack_profiles", help="mapping strategy")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="batch of the conventional rows' second price (default: the test split's size)")
    parser.add_argument("--design", default="hrsnn", type=design_ref,
                        help="without --qnet: the design run with its MRSNN twin (default: reference hrsnn)")
    parser.add_argument("--task", default="japanese_vowels", type=task_name,
                        help="without --qnet: the task (default: japanese_vowels)")
    parser.add_argument("--deploy-profile", default="loihi2", type=deploy_profile,
                        help="without --qnet: the profile the networks are quantized for (default: loihi2)")


def _time_arg(text: str) -> str | float:
    try:
        value = float(text)
    except ValueError:
        if text not in TIME_MODES:
            raise HrsnnError("unknown time per step", parameter="--time-per-step", value=text,
                             allowed=f"one of {list(TIME_MODES)} or a positive number of seconds") from None
        return text
    if not value > 0:
        raise HrsnnError("time per step must be positive", parameter="--time-per-step", value=text,
                         allowed="(0, inf) seconds")
    return value


def _pipeline_inputs(args: argparse.Namespace):
    from ..pipeline import Pipeline, PipelineConfig
    out = Path(args.out) if args.out else Path("runs/energy")
    config = PipelineConfig(design=args.design, task=args.task, profile=args.deploy_profile, seed=args.seed,
                            quick=args.quick)
    pipe = Pipeline(config, out, on_event=(lambda msg: None) if (args.json or args.quiet) else None)
    runs, baseline = pipe.energy_inputs()
    return runs, baseline, {"task": args.task, "n_test": int(pipe.prepared.test.n_samples), "out": str(out)}


def check(args: argparse.Namespace) -> None:
    """Pre-flight: pairs of files, time per step, batch size, and (without --qnet) the design and its memory."""
    if len(args.qnet) != len(args.record):
        raise HrsnnError("give one --record per --qnet", parameter="--record",
                         value=f"{len(args.record)} records for {len(args.qnet)} networks")
    if args.name and len(args.name) != len(args.qnet):
        raise HrsnnError("give one --name per --qnet, or none", parameter="--name",
                         value=f"{len(args.name)} names for {len(args.qnet)} networks")
    _time_arg(args.time_per_step)
    if args.batch_size is not None and args.batch_size < 1:
        raise HrsnnError("batch size must be positive", parameter="--batch-size", value=args.batch_size,
                         allowed="1, 2, 3, ...")
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
    profiles = [p.strip() for p in args.profiles.split(",") if p.strip()]
    if not profiles:
        raise HrsnnError("no profiles given", parameter="--profiles", value=args.profiles,
                         allowed=f"names from {available_profiles()} or .json paths")
    time_per_step = _time_arg(args.time_per_step)
    baseline, info = None, {}
    if not args.qnet:
        runs, baseline, info = _pipeline_inputs(args)
        if not args.out:
            args.out = Path(info["out"])
    else:
        runs = []
        for k, (qpath, rpath) in enumerate(zip(args.qnet, args.record)):
            qnet = load_input_artifact(QuantizedNetwork.load, qpath, "--qnet")
            record = load_input_artifact(SpikeRecord.load, rpath, "--record")
            check_same_network(qnet, record, f"--qnet/--record pair {k + 1}")
            runs.append(DesignRun(name=args.name[k] if args.name else qnet.name, network=qnet, record=record))
    batch = args.batch_size or info.get("n_test") or 64
    table = energy_table(runs, profiles, static=args.static, time_per_step=time_per_step, inputs=args.inputs,
                         strategy=args.strategy, equal_cores=not args.no_equal_cores, reference=args.reference,
                         baseline=baseline, batch_size=batch)
    result = {**table.to_json(), "_text": table.text}
    if info:
        result["task"] = {"task": info["task"], "n_test": info["n_test"]}
    if args.out:
        out = Path(args.out)
        json_path = table.save(out / "energy.json")
        fig_path = plot_energy(table, out / "energy.png")
        result["files"] = {"json": str(json_path), "figure": str(fig_path)}
        result["_text"] += f"\n\nwrote {json_path} and {fig_path}"
    return result
