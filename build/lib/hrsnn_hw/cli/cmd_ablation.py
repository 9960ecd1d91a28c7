"""``hrsnn-hw ablation``: the 2x2 {hom, het neurons} x {hom, het STDP} ablation over seeds."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import progress_enabled
from .validate import check_design, design_ref, nonneg_int, positive_int, task_name

NAME = "ablation"
HELP = "train and evaluate the 2x2 heterogeneity ablation over seeds"
DESCRIPTION = """\
Trains (unsupervised STDP, Brian2) and evaluates the four arms
{homogeneous, heterogeneous neurons} x {homogeneous, heterogeneous STDP}, all derived from one
heterogeneous design so that a seed gives every arm the same connectivity, and reports memory
capacity, spiking activity, E = MC/activity and the task metric (mean and spread over seeds),
with a verdict on the paper's two claims computed from these numbers.

Writes ablation.json, ablation.md and ablation.png to --out (default: runs/ablation).

examples:
  hrsnn-hw ablation --quick --json
  hrsnn-hw ablation --seeds 5 --task japanese_vowels --out runs/ablation
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--design", default=None, type=design_ref,
                        help="heterogeneous base design (default: hrsnn)")
    parser.add_argument("--task", default="japanese_vowels", type=task_name,
                        help="task name (japanese_vowels, mackey_glass, lorenz, ...) or a data file")
    parser.add_argument("--seeds", type=positive_int, default=None,
                        help="number of seeds (default 5; 3 with --quick); seeds are --seed, --seed+1, ...")
    parser.add_argument("--epochs", type=nonneg_int, default=None, help="STDP training epochs (default 1)")
    parser.add_argument("--workers", type=positive_int, default=None,
                        help="parallel worker processes (default: CPUs, at most 4)")


def check(args: argparse.Namespace) -> None:
    """Pre-flight: the design (and its memory) before the first seed trains."""
    if args.out is None:
        args.out = Path("runs/ablation")
    check_design(args.design or "hrsnn", parameter="--design", max_memory=args.max_memory)


def run(args: argparse.Namespace) -> dict:
    from ..ablation import run_ablation, write_ablation
    from ..errors import DataError
    from ..experiment import ExperimentConfig
    from ..reference import reference_design_path

    n_seeds = args.seeds if args.seeds is not None else (3 if args.quick else 5)
    if n_seeds < 3:
        raise DataError("the ablation needs at least 3 seeds", parameter="--seeds", value=n_seeds,
                        allowed="integers >= 3")
    overrides = {"task": args.task}
    if args.epochs is not None:
        overrides["epochs"] = args.epochs
    config = ExperimentConfig.default(quick=args.quick, **overrides)
    seeds = tuple(range(args.seed, args.seed + n_seeds))
    bar = None
    if progress_enabled(args):
        from tqdm import tqdm
        bar = tqdm(total=4 * n_seeds, desc="ablation", unit="run", file=sys.stderr)

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.update(done - bar.n)
    try:
        result = run_ablation(args.design or reference_design_path("hrsnn"), config=config, seeds=seeds,
                              workers=args.workers, progress=progress)
    finally:
        if bar is not None:
            bar.close()
    out = Path(args.out) if args.out else Path("runs/ablation")
    files = write_ablation(result, out)
    data = result.as_dict()
    data["files"] = files
    data["_text"] = result.to_markdown() + f"\nwrote {files['json']}, {files['markdown']}, {files['figure']}\n"
    return data
