"""``hrsnn-hw capacity``: memory capacity against network size, homogeneous vs heterogeneous."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import progress_enabled
from .fanout import add_fanout_arguments, connect, executor_of

NAME = "capacity"
HELP = "memory capacity against network size for the homogeneous and heterogeneous designs"
DESCRIPTION = """\
Does the regime let memory show? Samples the heterogeneous design and its homogeneous twin at
every size (E/I ratio and recurrent fan-in kept), for several seeds, and measures the
chance-corrected memory capacity under the task-independent current drive (Brian2 reference):
MC should grow with N for both arms before any claim about heterogeneity is read.

Writes capacity.json, capacity.md and capacity.png (MC vs N with seeds and 95 % intervals, and
the per-delay curves) to --out (default: runs/capacity). --json prints one object whose "rows"
hold {"n_neurons", "arm", "seed", "mc", "activity", ...}, arm "hom" or "het".

examples:
  hrsnn-hw capacity --quick --json
  hrsnn-hw capacity --sizes 200,500,1000,2000 --seeds 5 --out runs/capacity
  hrsnn-hw capacity --sizes 1000,2000,4000 --cluster tcp://10.0.0.5:8786    # networks on a Dask cluster
"""


def _sizes(text: str) -> tuple[int, ...]:
    from ..errors import DataError
    out = []
    for item in text.split(","):
        try:
            out.append(int(item.strip()))
        except ValueError:
            raise DataError("sizes must be comma-separated integers", parameter="--sizes", value=text,
                            allowed="integers >= 10", hint="for example --sizes 200,500,1000") from None
    return tuple(out)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--design", default="hrsnn", help="heterogeneous design (default: hrsnn); its twin is 'hom'")
    parser.add_argument("--sizes", default=None,
                        help="comma-separated network sizes (default 200,500,1000,2000; quick 100,200,400)")
    parser.add_argument("--seeds", type=int, default=None,
                        help="seeds per size and arm (default 3; 2 with --quick); seeds are --seed, --seed+1, ...")
    parser.add_argument("--epochs", type=int, default=0,
                        help="STDP epochs on --task before measuring (default 0: the networks as sampled)")
    parser.add_argument("--task", default="japanese_vowels", help="training task when --epochs > 0")
    parser.add_argument("--frames", type=int, default=None,
                        help="least MC drive frames at every size (default 3000; quick 1000)")
    parser.add_argument("--frames-per-neuron", type=int, default=None,
                        help="the drive runs at least this many frames per neuron, so that the readout is not "
                             "data-limited at large N (default 30; 0: --frames at every size)")
    parser.add_argument("--max-delay", type=int, default=None, help="largest delay K (default 100; quick 30)")
    parser.add_argument("--target", choices=("numpy", "cython", "cpp_standalone"), default=None,
                        help="Brian2 code-generation target (default numpy)")
    add_fanout_arguments(parser, workers_help="networks measured in parallel worker processes on this machine "
                                              "(default: CPUs, at most 4; 1 measures in this process)")


def check(args: argparse.Namespace) -> None:
    """Pre-flight: the cluster, if one is given, before the first network is built."""
    connect(args)


def run(args: argparse.Namespace) -> dict:
    from ..capacity import DEFAULT_SIZES, QUICK_SIZES, capacity_study, write_capacity
    from ..errors import DataError
    from ..experiment import ExperimentConfig

    sizes = _sizes(args.sizes) if args.sizes else (QUICK_SIZES if args.quick else DEFAULT_SIZES)
    n_seeds = args.seeds if args.seeds is not None else (2 if args.quick else 3)
    if n_seeds < 1:
        raise DataError("at least one seed is needed", parameter="--seeds", value=n_seeds, allowed="integers >= 1",
                        hint="3 or more give a confidence interval")
    if args.epochs < 0:
        raise DataError("epochs must be >= 0", parameter="--epochs", value=args.epochs, allowed="integers >= 0")
    overrides = {"epochs": args.epochs, "task": args.task, "target": args.target}
    if args.quick:
        overrides.update(mc_frames=1000, mc_washout=30, mc_max_delay=30)
    if args.frames is not None:
        overrides["mc_frames"] = args.frames
    if args.max_delay is not None:
        overrides["mc_max_delay"] = args.max_delay
    for name in ("mc_frames", "mc_max_delay"):
        if name in overrides and overrides[name] < 1:
            raise DataError("must be a positive integer", parameter=f"--{name[3:].replace('_', '-')}",
                            value=overrides[name], allowed="integers >= 1")
    config = ExperimentConfig.default(quick=args.quick, **overrides)
    from ..capacity import FRAMES_PER_NEURON, check_frames_per_neuron
    per_neuron = check_frames_per_neuron(FRAMES_PER_NEURON if args.frames_per_neuron is None else args.frames_per_neuron,
                                         "--frames-per-neuron")
    seeds = tuple(range(args.seed, args.seed + n_seeds))
    bar = None
    if progress_enabled(args):
        from tqdm import tqdm
        bar = tqdm(total=len(set(sizes)) * 2 * n_seeds, desc="capacity", unit="network", file=sys.stderr)

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.update(done - bar.n)
    try:
        with executor_of(args) as executor:
            result = capacity_study(args.design, sizes=sizes, seeds=seeds, config=config, progress=progress,
                                    workers=args.workers, executor=executor, frames_per_neuron=per_neuron)
    finally:
        if bar is not None:
            bar.close()
    out = Path(args.out) if args.out else Path("runs/capacity")
    files = write_capacity(result, out)
    data = result.as_dict()
    data["files"] = files
    data["_text"] = result.to_markdown() + f"\n\nwrote {files['json']}, {files['markdown']}, {files['figure']}\n"
    return data
