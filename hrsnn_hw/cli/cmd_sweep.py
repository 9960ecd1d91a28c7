"""``hrsnn-hw sweep``: the hardware cost of heterogeneity (K neuron profiles x weight bits)."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import DataError, QuantizationError
from .cmd_run import add_arguments as _run_arguments
from .cmd_run import check as _check_pipeline
from .fanout import add_fanout_arguments, connect, executor_of
from .validate import int_list

NAME = "sweep"
HELP = "quantize the trained design at every (K profiles, weight bits) setting and measure E and the task"
DESCRIPTION = """\
How much of the heterogeneity survives the chip: the trained design (and its MRSNN twin) is
quantized with at most K distinct neuron profiles (decay/threshold tables per core; Loihi 1
allows 32) and with fewer weight bits, and each fixed-point network is measured with the
golden model (MC, activity, E, task metric). Writes sweep-<design>/sweep.json, .md and a
figure into --out (stages shared with `hrsnn-hw run`).

example:
  hrsnn-hw sweep --out runs/default
  hrsnn-hw sweep --ks 1,4,32,none --bits 4,8 --quick
  hrsnn-hw sweep --cluster tcp://10.0.0.5:8786                # settings on a Dask cluster
"""


def _parse(text: str, what: str) -> tuple:
    out = []
    for item in text.split(","):
        item = item.strip().lower()
        if item == "none":
            out.append(None)
            continue
        try:
            value = int(item)
        except ValueError:
            raise DataError(f"expected integers or 'none' in {what}", parameter=what, value=text,
                            hint="for example --ks 1,4,32,none") from None
        if value < 1:
            raise DataError(f"{what} must be >= 1", parameter=what, value=value, allowed="integers >= 1 or none")
        out.append(value)
    return tuple(out)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _run_arguments(parser, with_until=False)
    parser.add_argument("--ks", default=None, type=int_list("--ks", allow_none=True),
                        help="neuron-profile limits (default 1,2,4,8,16,32,none; quick 1,4,none)")
    parser.add_argument("--bits", default=None, type=int_list("--bits", lo=1, hi=64),
                        help="weight bits, at most the profile's (default 2,3,4,6,8; quick 4,8)")
    add_fanout_arguments(parser, workers_help="settings measured in parallel worker processes on this machine "
                                              "(default: CPUs, at most 4; 1 measures in this process)")


def check(args: argparse.Namespace) -> None:
    """The pipeline's pre-flight, weight bits the profile can hold, and the cluster."""
    from ..profiles import load_profile
    _check_pipeline(args)
    if args.bits:
        max_bits = load_profile(args.profile).int("number_format", "weight_bits")
        too_many = [b for b in args.bits if b > max_bits]
        if too_many:
            raise DataError("more weight bits than the profile holds", parameter="--bits", value=too_many,
                            allowed=f"1..{max_bits} for {args.profile}", hint="fewer bits, or another --profile")
    connect(args)  # the cluster, if one is given, before the first stage


def run(args: argparse.Namespace) -> dict:
    from ..pipeline import Pipeline, PipelineConfig
    ks = (_parse(args.ks, "--ks") if isinstance(args.ks, str) else args.ks) if args.ks else (
        (1, 4, None) if args.quick else (1, 2, 4, 8, 16, 32, None))
    bits = (_parse(args.bits, "--bits") if isinstance(args.bits, str) else args.bits) if args.bits else (
        (4, 8) if args.quick else (2, 3, 4, 6, 8))
    out = Path(args.out) if args.out else Path("runs/default")
    config = PipelineConfig(design=args.spec, baseline=None if args.baseline == "none" else args.baseline,
                            task=args.task, profile=args.profile, seed=args.seed, quick=args.quick,
                            epochs=args.epochs)
    pipe = Pipeline(config, out, force=args.force, on_event=(lambda m: None) if (args.json or args.quiet) else None)
    result, texts = {}, []
    with executor_of(args) as cluster:
        from ..executor import default_workers, make_executor
        n_settings = len(ks) * len(bits)
        executor = cluster or make_executor(min(args.workers, n_settings) if args.workers
                                            else default_workers(n_settings))
        for name in pipe.designs:
            result[name], text = _sweep_one(pipe, name, ks, bits, executor, out, args.profile)
            texts.append(text)
    return {"designs": result, "_text": "\n\n".join(texts)}


def _sweep_one(pipe, name: str, ks: tuple, bits: tuple, executor, out: Path, profile: str) -> tuple[dict, str]:
    """One design's sweep, its Markdown table; refused when no setting could be measured."""
    result = pipe.sweep(name, ks, bits, executor=executor)
    rows = list(result.rows)
    if rows and all(r.get("error") for r in rows):
        # nothing was measured: an exit code of 0 would claim a sweep that did not happen
        raise QuantizationError(f"every setting of the sweep failed for {name}", parameter="--ks/--bits",
                                value=f"{len(rows)} settings", hint=f"first error: {rows[0]['error']}")
    md = result.to_markdown() + "\n"
    return result.to_dict(), f"## {name} on {profile}\n\n{md}\nfigure: {out / f'sweep-{name}' / 'sweep.png'}"
