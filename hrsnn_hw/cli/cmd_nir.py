"""``hrsnn-hw nir``: export a network to NIR, or import a NIR graph as a spec."""
from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from ..errors import HrsnnError

NAME = "nir"
HELP = "exchange networks with other neuromorphic tools via NIR (export / import)"
DESCRIPTION = """Neuromorphic Intermediate Representation (NIR, HDF5) interchange.

  export: a design/spec file or a trained network -> <name>.nir (one recurrent CubaLIF layer;
          hrsnn_hw metadata makes the round trip bit-exact; STDP rules are not exported)
  import: a .nir file -> <name>.spec.json, loadable by load_spec / `hrsnn-hw spec`
          (a graph from another tool needs --dt; populations follow the weight signs)

examples:
  hrsnn-hw nir export hrsnn --out out/nir
  hrsnn-hw nir export out/train/hrsnn.trained.json --decay euler --out out/nir --json
  hrsnn-hw nir import model.nir --dt 0.001 --populations exc:80,inh:20 --out out/specs"""

TRAINED_FORMAT = "hrsnn_hw.TrainedNetwork"


def _common(sub: argparse.ArgumentParser) -> None:
    # The top-level parser adds these to `nir` itself; repeating them here lets them follow the
    # action. SUPPRESS keeps a value given before the action from being reset to a default.
    g = sub.add_argument_group("common options")
    g.add_argument("--out", type=Path, default=argparse.SUPPRESS, help="output directory (required)")
    g.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                   help="print one JSON object on stdout and nothing else")
    g.add_argument("--quiet", "-q", action="store_true", default=argparse.SUPPRESS, help="no log messages")
    g.add_argument("--seed", type=int, default=argparse.SUPPRESS,
                   help="export: re-sample a design with this seed (default: the file's)")
    g.add_argument("--quick", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="nir_action", metavar="ACTION", required=True)
    exp = actions.add_parser("export", help="write a network as <name>.nir",
                             description="Write a design/spec file or a trained network as a NIR graph.")
    exp.add_argument("network", metavar="SPEC_OR_TRAINED",
                     help="design or spec file (JSON/TOML) or a TrainedNetwork JSON")
    exp.add_argument("--n-input", type=int, default=None, help="re-sample a design with this many input channels")
    exp.add_argument("--decay", choices=("exact", "euler"), default="exact",
                     help="time-constant convention: exact (ODE-exact simulators, default) or euler "
                          "(snnTorch, lava-dl: their 1 - dt/tau equals our exp(-dt/tau))")
    _common(exp)
    imp = actions.add_parser("import", help="read a .nir file as <name>.spec.json",
                             description="Read a NIR graph (one recurrent CubaLIF layer) as a hrsnn_hw spec.")
    imp.add_argument("file", type=Path, metavar="FILE.nir", help="NIR HDF5 file")
    imp.add_argument("--dt", type=float, default=None,
                     help="time step in the graph's time unit; required for graphs not written by hrsnn_hw")
    imp.add_argument("--populations", default=None, metavar="NAME:N,...",
                     help="population names and sizes in neuron order (default: metadata, else weight signs)")
    imp.add_argument("--decay", choices=("exact", "euler"), default=None,
                     help="time-constant convention of the graph (default: metadata, else exact)")
    imp.add_argument("--name", default=None, help="spec name (default: metadata, else the file name)")
    _common(imp)


def _load_network(path: str, n_input: int | None, seed: int | None):
    from ..io import read_json
    from ..spec import load_spec
    from ..trained import TrainedNetwork
    if Path(path).suffix.lower() == ".json" and Path(path).is_file():
        data = read_json(path)
        if isinstance(data, dict) and data.get("format") == TRAINED_FORMAT:
            if n_input is not None or seed:
                raise HrsnnError("a trained network cannot be re-sampled", parameter="--n-input/--seed",
                                 value=path, hint="drop --n-input/--seed to export the trained weights")
            return TrainedNetwork.load(path)
    return load_spec(path, n_input=n_input, seed=seed if seed else None)


def _parse_populations(text: str | None) -> list[tuple[str, int]] | None:
    if text is None:
        return None
    out = []
    for item in (s.strip() for s in text.split(",") if s.strip()):
        pname, _, count = item.partition(":")
        if not pname or not count.strip().isdigit() or int(count) < 1:
            raise HrsnnError("expected NAME:N entries", parameter="--populations", value=text,
                             allowed="comma-separated name:size pairs with sizes >= 1", hint="e.g. exc:80,inh:20")
        out.append((pname.strip(), int(count)))
    if not out:
        raise HrsnnError("no populations given", parameter="--populations", value=text, hint="e.g. exc:80,inh:20")
    return out


def _out_dir(args: argparse.Namespace) -> Path:
    out = getattr(args, "out", None)
    if out is None:
        raise HrsnnError("an output directory is required", parameter="--out", value=None,
                         hint=f"add --out DIR to `hrsnn-hw nir {args.nir_action}`")
    return Path(out)


def _export(args: argparse.Namespace) -> dict:
    from ..interchange import export_notes, save_nir, to_nir
    out = _out_dir(args)
    net = _load_network(args.network, args.n_input, getattr(args, "seed", None))
    spec = getattr(net, "spec", net)
    graph = to_nir(net, decay=args.decay)
    path = save_nir(graph, out / f"{spec.name}.nir")
    w_in, w_rec = spec.input_weights(), spec.recurrent_weights()
    notes = export_notes(net)
    result = {"action": "export", "path": str(path), "bytes": path.stat().st_size, "name": spec.name,
              "source": type(net).__name__, "decay": args.decay, "dt": spec.dt, "n_input": spec.n_input,
              "n_neurons": spec.n_neurons,
              "populations": {p.name: {"n": p.n, "excitatory": p.excitatory} for p in spec.populations},
              "nodes": {k: type(v).__name__ for k, v in graph.nodes.items()}, "edges": [list(e) for e in graph.edges],
              "nonzero_weights": {"w_in": int(w_in.count_nonzero()), "w_rec": int(w_rec.count_nonzero())},
              "notes": notes}
    result["_text"] = "\n".join([f"wrote {path} ({result['bytes']} bytes)",
                                 f"  {spec.name}: {spec.n_input} inputs -> {spec.n_neurons} CubaLIF neurons "
                                 f"(recurrent), dt = {spec.dt:g} s, decay convention {args.decay}",
                                 *(f"  note: {n}" for n in notes)])
    return result


def _import(args: argparse.Namespace) -> dict:
    from ..interchange import import_nir, load_nir
    from ..spec import save_spec
    out = _out_dir(args)
    graph = load_nir(args.file)
    result_import = import_nir(graph, dt=args.dt, populations=_parse_populations(args.populations),
                               decay=args.decay, name=args.name)
    spec = result_import.spec
    if args.name is None and not result_import.has_metadata:
        spec = dataclasses.replace(spec, name=args.file.stem)
    path = save_spec(spec, out / f"{spec.name}.spec.json")
    result = {"action": "import", "path": str(path), "name": spec.name, "exact": result_import.exact,
              "has_metadata": result_import.has_metadata, "dt": spec.dt, "n_input": spec.n_input,
              "n_neurons": spec.n_neurons,
              "populations": {p.name: {"n": p.n, "excitatory": p.excitatory} for p in spec.populations},
              "projections": {p.name: p.n_synapses for p in spec.projections}, "notes": list(result_import.notes)}
    kind = "bit-exact hrsnn_hw round trip" if result_import.exact else (
        "hrsnn_hw export, changed since" if result_import.has_metadata else "foreign graph")
    result["_text"] = "\n".join([f"wrote {path} ({kind})",
                                 f"  {spec.name}: {spec.n_input} inputs -> {spec.n_neurons} neurons, "
                                 f"dt = {spec.dt:g}, populations " + json.dumps(result["populations"]),
                                 *(f"  note: {n}" for n in result_import.notes)])
    return result


def run(args: argparse.Namespace) -> dict:
    return _export(args) if args.nir_action == "export" else _import(args)
