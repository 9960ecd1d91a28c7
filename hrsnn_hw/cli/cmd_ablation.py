"""``hrsnn-hw ablation``: the 2x2 {hom, het neurons} x {hom, het STDP} ablation over seeds."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import progress_enabled
from .fanout import add_fanout_arguments, connect, executor_of
from .validate import check_design, design_ref, nonneg_int, positive_int, task_name

NAME = "ablation"
HELP = "train and evaluate the 2x2 heterogeneity ablation over seeds, with controls and verdicts"
DESCRIPTION = """\
Trains (unsupervised STDP, Brian2) and evaluates the four arms
{homogeneous, heterogeneous neurons} x {homogeneous, heterogeneous STDP}, all derived from one
heterogeneous design so that a seed gives every arm the same connectivity, and reports memory
capacity, spiking activity, E = MC/activity and the task metric over seeds.

The seed is the unit of analysis: each of the paper's two claims gets one paired value per
seed, a bootstrap confidence interval and an effect size, and a verdict (supported,
contradicted, inconclusive) from rules printed before the results. Controls on the same seeds
(the HRSNN before STDP, and its trained weights shuffled across synapses) show what training
contributes; non-spiking references on the same split (a linear readout of the input frames,
an echo-state network) show what the spiking reservoir adds.

Writes ablation.json, ablation.md and ablation.png to --out (default: runs/ablation).

examples:
  hrsnn-hw ablation --quick --json
  hrsnn-hw ablation --task japanese_vowels --out runs/ablation                # 10 seeds
  hrsnn-hw ablation --task mackey_glass --out runs/ablation-mackey_glass
  hrsnn-hw ablation --controls none --references none --seeds 5              # arms only
  hrsnn-hw ablation --cluster tcp://10.0.0.5:8786                            # seeds on a Dask cluster
"""


def _names(text: str, allowed: tuple[str, ...], option: str) -> tuple[str, ...]:
    from ..errors import DataError
    if text.strip().lower() == "none":
        return ()
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    for n in names:
        if n not in allowed:
            raise DataError("unknown name", parameter=option, value=n, allowed=f"'none' or any of {list(allowed)}")
    return names


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--design", default=None, type=design_ref,
                        help="heterogeneous base design (default: hrsnn)")
    parser.add_argument("--task", default="japanese_vowels", type=task_name,
                        help="task name (japanese_vowels, mackey_glass, lorenz, ...) or a data file")
    parser.add_argument("--seeds", type=positive_int, default=None,
                        help="number of seeds (default 10; 3 with --quick); seeds are --seed, --seed+1, ...")
    parser.add_argument("--epochs", type=nonneg_int, default=None, help="STDP training epochs (default 1)")
    parser.add_argument("--controls", default="untrained,shuffled",
                        help="controls measured on the control arms: untrained, shuffled, or none "
                             "(default untrained,shuffled)")
    parser.add_argument("--control-arms", default="hrsnn",
                        help="arms whose controls are measured, comma-separated (default hrsnn)")
    parser.add_argument("--references", default="linear,esn",
                        help="non-spiking references on the same split: linear, esn, or none (default linear,esn)")
    add_fanout_arguments(parser)


def check(args: argparse.Namespace) -> None:
    """Pre-flight: the design (and its memory) before the first seed trains."""
    if args.out is None:
        args.out = Path("runs/ablation")
    check_design(args.design or "hrsnn", parameter="--design", max_memory=args.max_memory)
    connect(args)


def run(args: argparse.Namespace) -> dict:
    from ..ablation import ARMS, DEFAULT_SEEDS, MIN_SEEDS, QUICK_SEEDS, run_ablation, write_ablation
    from ..errors import DataError
    from ..experiment import CONTROLS, ExperimentConfig
    from ..nonspiking import REFERENCES

    n_seeds = args.seeds if args.seeds is not None else (QUICK_SEEDS if args.quick else DEFAULT_SEEDS)
    if n_seeds < MIN_SEEDS:
        raise DataError(f"the ablation needs at least {MIN_SEEDS} seeds", parameter="--seeds", value=n_seeds,
                        allowed=f"integers >= {MIN_SEEDS}", hint="verdicts need 5 or more; the default is 10")
    if args.workers is not None and args.workers < 1:
        raise DataError("number of workers must be positive", parameter="--workers", value=args.workers,
                        allowed="integers >= 1")
    controls = _names(args.controls, CONTROLS, "--controls")
    control_arms = _names(args.control_arms, tuple(ARMS), "--control-arms")
    references = _names(args.references, tuple(REFERENCES), "--references")
    overrides = {"task": args.task}
    if args.epochs is not None:
        overrides["epochs"] = args.epochs
    config = ExperimentConfig.default(quick=args.quick, **overrides)
    seeds = tuple(range(args.seed, args.seed + n_seeds))
    bar = None
    if progress_enabled(args):
        from tqdm import tqdm
        bar = tqdm(total=len(ARMS) * n_seeds, desc="ablation", unit="run", file=sys.stderr)

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.update(done - bar.n)
    try:
        with executor_of(args) as executor:
            result = run_ablation(args.design or "hrsnn", config=config, seeds=seeds, workers=args.workers,
                                  executor=executor, progress=progress, controls=controls,
                                  control_arms=control_arms, references=references)
    finally:
        if bar is not None:
            bar.close()
    out = Path(args.out) if args.out else Path("runs/ablation")
    files = write_ablation(result, out)
    data = result.as_dict()
    data["files"] = files
    data["_text"] = result.to_markdown() + f"\nwrote {files['json']}, {files['markdown']}, {files['figure']}\n"
    return data
