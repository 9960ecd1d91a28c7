"""``hrsnn-hw spec``: validate a design file and print its statistics."""
from __future__ import annotations

import argparse

import numpy as np

from ..io import safe_filename, write_json_atomic
from ..spec import NEURON_FIELDS, build_spec, load_spec, read_spec_file, save_spec, scale_design
from .validate import positive_int, read_design

NAME = "spec"
HELP = "validate a design/spec file and print its statistics"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", help="design or spec file (JSON or TOML), e.g. hrsnn")
    parser.add_argument("--n-input", type=positive_int, default=None, help="override the number of input channels")
    parser.add_argument("--neurons", type=positive_int, default=None, metavar="N",
                        help="scale the design to N neurons first (E/I ratio and recurrent fan-in kept)")


def spec_summary(spec) -> dict:
    pops = {}
    for pop in spec.populations:
        pops[pop.name] = {"n": pop.n, "excitatory": pop.excitatory,
                          **{f: {"mean": float(np.mean(getattr(pop, f))), "std": float(np.std(getattr(pop, f))),
                                 "min": float(np.min(getattr(pop, f))), "max": float(np.max(getattr(pop, f)))}
                             for f in NEURON_FIELDS}}
    projs = {p.name: {"n_synapses": p.n_synapses, "p": p.probability,
                      "weight_mean_V": float(np.mean(p.weight)) if p.n_synapses else 0.0}
             for p in spec.projections}
    stdp = {r.projection: {"eta_plus_mean": float(np.mean(r.eta_plus)), "eta_plus_cv":
                           float(np.std(r.eta_plus) / max(np.mean(r.eta_plus), 1e-300)), "w_max": r.w_max}
            for r in spec.stdp}
    return {"name": spec.name, "seed": spec.seed, "dt": spec.dt, "n_neurons": spec.n_neurons,
            "n_input": spec.n_input, "populations": pops, "projections": projs, "stdp": stdp}


def check(args: argparse.Namespace) -> None:
    """Read the design and refuse it before sampling if it would not fit in memory."""
    from ..resources import check_memory, network_estimate
    design = read_design(args.spec, "spec")
    if args.neurons is not None:
        design = scale_design(design, args.neurons)
    check_memory(network_estimate(design, args.n_input), args.max_memory, what=f"the design {args.spec}")


def run(args: argparse.Namespace) -> dict:
    seed = args.seed if args.seed else None
    if args.neurons is not None:
        spec = build_spec(scale_design(read_spec_file(args.spec), args.neurons), n_input=args.n_input, seed=seed)
    else:
        spec = load_spec(args.spec, n_input=args.n_input, seed=seed)
    summary = spec_summary(spec)
    if args.out:
        name = safe_filename(spec.name, parameter="name (of the spec)")
        save_spec(spec, args.out / f"{name}.spec.json")
        write_json_atomic(args.out / f"{name}.summary.json", summary)
    return summary
