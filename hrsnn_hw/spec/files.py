"""Design files (distributions) and spec files (sampled arrays): parse, sample, save, load.

A *design* describes parameters as numbers, lists or distributions; :func:`build_spec`
samples it, reproducibly for its seed, into a :class:`NetworkSpec`. :func:`save_spec`
writes the sampled spec back with every array explicit (and the design it came from), so
a saved spec reloads bit for bit without re-sampling. Both are JSON (``.json``) or TOML
(``.toml``, read only) with ``format = "hrsnn_hw.spec"`` and ``version = 1``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..errors import SpecError, clean_errors
from ..io import PathLike, to_jsonable, write_json_atomic
from .connect import bernoulli_pairs
from .distributions import field_rng, is_heterogeneous, mean_of, sample
from .model import (INPUT, NEURON_FIELDS, SPEC_FORMAT, SPEC_VERSION, STDP_FIELDS, NetworkSpec,
                    Population, Projection, StdpRule)

TOP_KEYS = {"format", "version", "name", "description", "seed", "dt", "n_input", "populations",
            "projections", "stdp", "design"}
POP_KEYS = {"n", "excitatory", *NEURON_FIELDS}
PROJ_KEYS = {"p", "weight", "autapses", "synapses", "weight_scale"}
STDP_KEYS = {*STDP_FIELDS, "w_max", "granularity", "balance"}
#: How heterogeneous STDP draws its learning rates (see :func:`build_spec`).
STDP_BALANCE = ("integral", "independent")


_SCALAR_TYPES = {int, float, str, bool, type(None)}


def copy_tree(data: Mapping[str, Any]) -> dict:
    """A copy of parsed JSON/TOML content that the caller may change at any depth.

    Tables (mappings) and lists of containers are copied; a list of numbers is copied flat
    (its items are immutable). Same result as ``copy.deepcopy`` on such data, without its
    per-item memo bookkeeping, which cost seconds on a materialised spec's synapse lists.
    """
    def walk(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            if set(map(type, value)) <= _SCALAR_TYPES:  # the synapse lists: copied flat, in C
                return type(value)(value)
            return type(value)(walk(v) for v in value)
        if isinstance(value, np.ndarray):
            return value.copy()
        return value
    return walk(dict(data))


NEURON_DEFAULTS = {"refractory": 0.0, "bias": 0.0}


def _check_keys(table: Mapping[str, Any], allowed: set[str], path: str) -> None:
    if not isinstance(table, Mapping):
        raise SpecError("expected a table", parameter=path, value=type(table).__name__,
                        hint="write a JSON object / TOML table here, as in hrsnn")
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise SpecError("unknown key in spec file", parameter=f"{path}.{unknown[0]}" if path else unknown[0],
                        value=unknown[0], allowed=f"keys {sorted(allowed)}",
                        hint="check the spelling; see hrsnn for a complete example")


def _require(table: Mapping[str, Any], key: str, path: str) -> Any:
    if key not in table:
        raise SpecError("missing required key", parameter=f"{path}.{key}" if path else key, value=None,
                        hint="add it; hrsnn is a complete example")
    return table[key]


def _int_field(value: Any, path: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer, float)) or int(value) != value:
        raise SpecError("expected an integer", parameter=path, value=value, allowed=f"integers >= {minimum}")
    if not np.isfinite(value) or int(value) < minimum:
        raise SpecError("integer out of range", parameter=path, value=value, allowed=f"integers >= {minimum}")
    return int(value)


def _float_field(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise SpecError("expected a number", parameter=path, value=value)
    return float(value)


def _parse_name(name: str, path: str) -> tuple[str, str]:
    if "->" not in name:
        raise SpecError("projection names are 'pre->post'", parameter=path, value=name,
                        hint="for example 'input->exc' or 'exc->inh'")
    pre, post = (s.strip() for s in name.split("->", 1))
    return pre, post


@clean_errors(SpecError, "design", "compare the file with the bundled hrsnn.json")
def build_spec(design: Mapping[str, Any], *, n_input: int | None = None, seed: int | None = None,
               name: str | None = None) -> NetworkSpec:
    """Sample a design (or re-read a materialised spec) into a validated :class:`NetworkSpec`.

    Parameters
    ----------
    design : mapping
        Parsed design file content.
    n_input : int, optional
        Override the number of input channels (the task's encoder decides it). Only
        allowed for designs whose input projections are given as distributions.
    seed : int, optional
        Override the design's seed (a new network instance of the same design).
    name : str, optional
        Override the design's name.
    """
    if not isinstance(design, Mapping):
        raise SpecError("a design is a JSON/TOML object (a table of keys)", parameter="design",
                        value=type(design).__name__, hint="see the bundled hrsnn.json for the layout")
    from ..resources import check_memory, network_estimate
    # before sampling anything: a 10^9-neuron design is refused now, not after minutes of allocation
    check_memory(network_estimate(design, n_input), what=f"the design {design.get('name', '')!s}"[:120])
    design = copy_tree(design)
    _check_keys(design, TOP_KEYS, "")
    fmt = design.get("format", SPEC_FORMAT)
    if fmt != SPEC_FORMAT:
        raise SpecError("not a hrsnn_hw spec file", parameter="format", value=fmt, allowed=repr(SPEC_FORMAT))
    version = design.get("version")
    if version != SPEC_VERSION:
        raise SpecError("unsupported spec format version", parameter="version", value=version,
                        allowed=f"{SPEC_VERSION}", hint="this version of hrsnn_hw reads version 1 files")
    if seed is not None:
        design["seed"] = int(seed)
    if n_input is not None:
        design["n_input"] = int(n_input)
    if name is not None:
        design["name"] = name
    spec_seed = _int_field(_require(design, "seed", ""), "seed", 0)
    dt = _float_field(_require(design, "dt", ""), "dt")
    n_in = _int_field(_require(design, "n_input", ""), "n_input", 1)
    pops_tab = _require(design, "populations", "")
    _check_keys(pops_tab, set(pops_tab) if isinstance(pops_tab, Mapping) else set(), "populations")
    if not pops_tab:
        raise SpecError("a spec needs at least one population", parameter="populations", value=0,
                        allowed=">= 1 population")
    populations = []
    for pname, ptab in pops_tab.items():
        path = f"populations.{pname}"
        _check_keys(ptab, POP_KEYS, path)
        n = _int_field(_require(ptab, "n", path), f"{path}.n", 1)
        excitatory = ptab.get("excitatory", pname.lower().startswith("e"))
        if not isinstance(excitatory, bool):
            raise SpecError("expected true or false", parameter=f"{path}.excitatory", value=excitatory)
        values = {}
        for fname in NEURON_FIELDS:
            raw = ptab.get(fname, NEURON_DEFAULTS.get(fname))
            if raw is None:
                raise SpecError("missing required key", parameter=f"{path}.{fname}", value=None,
                                hint="every population needs tau_m, tau_syn and v_th (see hrsnn)")
            values[fname] = sample(raw, n, spec_seed, f"{path}.{fname}")
        populations.append(Population(name=pname, n=n, excitatory=excitatory, **values))
    sizes = {p.name: p.n for p in populations}
    sizes[INPUT] = n_in
    signs = {p.name: (1.0 if p.excitatory else -1.0) for p in populations}
    signs[INPUT] = 1.0

    projections = []
    for pj_name, ptab in (design.get("projections") or {}).items():
        path = f"projections.{pj_name}"
        _check_keys(ptab, PROJ_KEYS, path)
        pre, post = _parse_name(pj_name, path)
        if pre not in sizes:
            raise SpecError("unknown source population", parameter=path, value=pre, allowed=f"one of {sorted(sizes)}")
        if post not in sizes or post == INPUT:
            raise SpecError("unknown target population", parameter=path, value=post,
                            allowed=f"one of {sorted(set(sizes) - {INPUT})}")
        p = _float_field(_require(ptab, "p", path), f"{path}.p")
        if not np.isfinite(p) or not 0.0 <= p <= 1.0:
            raise SpecError("connection probability out of range", parameter=f"{path}.p", value=p, allowed="[0, 1]")
        weight_desc = _require(ptab, "weight", path) if "synapses" not in ptab else ptab.get("weight", 0.0)
        if "synapses" in ptab:
            syn = ptab["synapses"]
            _check_keys(syn, {"pre", "post", "weight"}, f"{path}.synapses")
            pre_idx = np.asarray(_require(syn, "pre", f"{path}.synapses"), dtype=np.int64)
            post_idx = np.asarray(_require(syn, "post", f"{path}.synapses"), dtype=np.int64)
            w = np.asarray(_require(syn, "weight", f"{path}.synapses"), dtype=np.float64)
            scale = _float_field(ptab.get("weight_scale", float(np.mean(np.abs(w))) if w.size else 0.0),
                                 f"{path}.weight_scale")
        else:
            autapses = bool(ptab.get("autapses", False))
            # O(synapses): no n_post x n_pre mask (see hrsnn_hw.spec.connect)
            post_idx, pre_idx = bernoulli_pairs(field_rng(spec_seed, f"{path}.connect"), sizes[post], sizes[pre], p,
                                                exclude_diagonal=pre == post and not autapses)
            magnitude = sample(weight_desc, post_idx.size, spec_seed, f"{path}.weight")
            if (magnitude < 0).any():
                i = int(np.argmax(magnitude < 0))
                raise SpecError("weight magnitudes must be >= 0 (the sign comes from the source population)",
                                parameter=f"{path}.weight", index=i, value=float(magnitude[i]), allowed="[0, inf) V")
            w = signs[pre] * magnitude
            scale = float(mean_of(weight_desc, f"{path}.weight"))
        projections.append(Projection(name=pj_name, pre=pre, post=post, probability=p, weight_scale=abs(scale),
                                      pre_index=pre_idx, post_index=post_idx, weight=w))

    proj_by_name = {p.name: p for p in projections}
    rules = []
    for pj_name, rtab in (design.get("stdp") or {}).items():
        path = f"stdp.{pj_name}"
        _check_keys(rtab, STDP_KEYS, path)
        if pj_name not in proj_by_name:
            raise SpecError("STDP rule for an unknown projection", parameter=path, value=pj_name,
                            allowed=f"one of {sorted(proj_by_name)}")
        proj = proj_by_name[pj_name]
        granularity = rtab.get("granularity", "synapse")
        if granularity not in ("synapse", "post"):
            raise SpecError("unknown STDP granularity", parameter=f"{path}.granularity", value=granularity,
                            allowed="'synapse' or 'post'")
        balance = rtab.get("balance", "integral")
        if balance not in STDP_BALANCE:
            raise SpecError("unknown STDP balance rule", parameter=f"{path}.balance", value=balance,
                            allowed=f"one of {list(STDP_BALANCE)}",
                            hint="'integral': eta * tau per synapse equal to the homogeneous one; "
                                 "'independent': eta and tau drawn independently")
        values = {}
        for fname in STDP_FIELDS:
            raw = _require(rtab, fname, path)
            if granularity == "post" and not isinstance(raw, (list, tuple)):
                per_post = sample(raw, sizes[proj.post], spec_seed, f"{path}.{fname}")
                values[fname] = per_post[proj.post_index]
            else:
                values[fname] = sample(raw, proj.n_synapses, spec_seed, f"{path}.{fname}")
        if balance == "integral":
            # Heterogeneity changes the window's shape, not its balance: each synapse keeps the
            # homogeneous LTP and LTD integrals, eta_ij * tau_ij = eta_hom * tau_hom (explicit
            # per-synapse learning rates, e.g. a materialised spec, are kept as written).
            for eta, tau in (("eta_plus", "tau_plus"), ("eta_minus", "tau_minus")):
                if not isinstance(rtab[eta], (list, tuple)):
                    integral = mean_of(rtab[eta], f"{path}.{eta}") * mean_of(rtab[tau], f"{path}.{tau}")
                    values[eta] = integral / values[tau]
        w_max = _float_field(_require(rtab, "w_max", path), f"{path}.w_max")
        rules.append(StdpRule(projection=pj_name, w_max=w_max, granularity=granularity, **values))

    provenance = design.get("design") or {k: v for k, v in design.items() if k != "design"}
    return NetworkSpec(name=str(design.get("name", "unnamed")), seed=spec_seed, dt=dt, n_input=n_in,
                       populations=tuple(populations), projections=tuple(projections), stdp=tuple(rules),
                       design=provenance)


def read_spec_file(path: PathLike) -> dict:
    """Parse a JSON or TOML spec/design file into a dict (no sampling)."""
    path = Path(path)
    if not path.exists() and not path.suffix and len(path.parts) == 1:
        from ..reference import REFERENCE_DESIGNS, REFERENCE_DIR
        if path.name in REFERENCE_DESIGNS:  # a bundled design by name ("hrsnn")
            path = REFERENCE_DIR / f"{path.name}.json"
    if not path.exists():
        from ..reference import REFERENCE_DESIGNS
        raise SpecError("spec file not found", parameter="path", value=str(path),
                        hint=f"give a design file, or a bundled design by name: {', '.join(REFERENCE_DESIGNS)}")
    if path.suffix.lower() == ".toml":
        import tomli
        try:
            data = tomli.loads(path.read_text(encoding="utf-8"))
        except tomli.TOMLDecodeError as exc:
            raise SpecError(f"not valid TOML ({exc})", parameter="path", value=str(path)) from None
        except (OSError, UnicodeDecodeError, RecursionError) as exc:
            raise SpecError(f"cannot read the spec file ({type(exc).__name__}: {exc})", parameter="path",
                            value=str(path)) from None
    else:
        from ..io import read_json
        data = read_json(path, error=SpecError, what="spec file")
    if not isinstance(data, dict):
        raise SpecError("a spec file holds one object (a table of keys)", parameter="path", value=str(path),
                        hint=f"found a JSON {type(data).__name__}; see the bundled hrsnn.json for the layout")
    return data


def load_spec(path: PathLike, *, n_input: int | None = None, seed: int | None = None) -> NetworkSpec:
    """Load a design or spec file and return the sampled, validated spec.

    ``n_input`` and ``seed`` re-sample a design; a materialised spec keeps its arrays and
    only accepts the values it already has.
    """
    data = read_spec_file(path)
    if "design" in data and isinstance(data.get("design"), Mapping) and (
            (n_input is not None and n_input != data.get("n_input")) or (seed is not None and seed != data.get("seed"))):
        # A materialised spec: re-sample from the design it records.
        return build_spec(data["design"], n_input=n_input, seed=seed)
    return build_spec(data, n_input=n_input, seed=seed)


def spec_to_dict(spec: NetworkSpec) -> dict:
    """Materialised spec as plain JSON types (inverse of :func:`build_spec`)."""
    out: dict[str, Any] = {"format": SPEC_FORMAT, "version": SPEC_VERSION, "name": spec.name, "seed": spec.seed,
                           "dt": spec.dt, "n_input": spec.n_input, "populations": {}, "projections": {}, "stdp": {}}
    for pop in spec.populations:
        out["populations"][pop.name] = {"n": pop.n, "excitatory": pop.excitatory,
                                        **{f: getattr(pop, f).tolist() for f in NEURON_FIELDS}}
    for proj in spec.projections:
        out["projections"][proj.name] = {"p": proj.probability, "weight_scale": proj.weight_scale,
                                         "synapses": {"pre": proj.pre_index.tolist(), "post": proj.post_index.tolist(),
                                                      "weight": proj.weight.tolist()}}
    for rule in spec.stdp:
        out["stdp"][rule.projection] = {"w_max": rule.w_max, "granularity": "synapse",
                                        **{f: getattr(rule, f).tolist() for f in STDP_FIELDS}}
    out["design"] = to_jsonable(dict(spec.design))
    return out


def save_spec(spec: NetworkSpec, path: PathLike) -> Path:
    """Write the materialised spec as JSON, atomically; reloads bit for bit."""
    return write_json_atomic(path, spec_to_dict(spec), indent=None)


def make_arm(design: Mapping[str, Any], *, hetero_neurons: bool, hetero_stdp: bool,
             name: str | None = None) -> dict:
    """One arm of the 2x2 ablation derived from a heterogeneous design.

    Where an arm is homogeneous, every distribution of that kind (neuron parameters, or
    STDP parameters) is replaced by its mean; everything else, the connectivity and
    weights included, is left as it is and so samples identically for the same seed.
    """
    arm = copy_tree(design)
    arm.pop("design", None)
    if not hetero_neurons:
        for ptab in arm.get("populations", {}).values():
            for fname in NEURON_FIELDS:
                if fname in ptab and is_heterogeneous(ptab[fname]):
                    ptab[fname] = mean_of(ptab[fname], fname)
    if not hetero_stdp:
        for rtab in arm.get("stdp", {}).values():
            for fname in STDP_FIELDS:
                if fname in rtab and is_heterogeneous(rtab[fname]):
                    rtab[fname] = mean_of(rtab[fname], fname)
    if name is not None:
        arm["name"] = name
    return arm


def scale_design(design: Mapping[str, Any], n_neurons: int, *, keep: str = "fan_in",
                 name: str | None = None) -> dict:
    """The same design at another size: population sizes scaled in proportion (E/I ratio kept).

    Parameters
    ----------
    design : mapping
        A design whose populations and projections are given as numbers or distributions
        (sampled arrays and explicit synapse lists cannot be rescaled).
    n_neurons : int
        Total neurons of the scaled design (>= number of populations).
    keep : {"fan_in", "probability"}
        ``"fan_in"`` (default): recurrent connection probabilities scale by old/new source size,
        so every neuron keeps the same expected number of recurrent synapses and the same mean
        recurrent drive (cost grows linearly with N); ``"probability"``: probabilities kept, so
        fan-in and recurrent drive grow with N. Input projections keep their probability (the
        task fixes the number of input channels).
    name : str, optional
        Name of the scaled design (default ``"<name>-n<N>"``).
    """
    if keep not in ("fan_in", "probability"):
        raise SpecError("unknown scaling rule", parameter="keep", value=keep, allowed="'fan_in' or 'probability'")
    out = copy_tree(design)
    out.pop("design", None)
    pops = _require(out, "populations", "")
    if not isinstance(pops, Mapping) or not pops:
        raise SpecError("a design needs at least one population", parameter="populations", value=pops)
    if isinstance(n_neurons, bool) or not isinstance(n_neurons, (int, np.integer)) or n_neurons < len(pops):
        raise SpecError("neuron count out of range", parameter="n_neurons", value=n_neurons,
                        allowed=f"integers >= {len(pops)} (one neuron per population)")
    old = {pname: _int_field(_require(ptab, "n", f"populations.{pname}"), f"populations.{pname}.n", 1)
           for pname, ptab in pops.items()}
    total = sum(old.values())
    # largest-remainder rounding: sizes add up to n_neurons exactly, each population keeps >= 1
    exact = {k: v * int(n_neurons) / total for k, v in old.items()}
    new = {k: max(1, int(np.floor(x))) for k, x in exact.items()}
    for k in sorted(exact, key=lambda k: exact[k] - np.floor(exact[k]), reverse=True):
        if sum(new.values()) >= n_neurons:
            break
        new[k] += 1
    while sum(new.values()) > n_neurons:
        k = max(new, key=new.get)
        new[k] -= 1
    for pname, ptab in pops.items():
        for fname in NEURON_FIELDS:
            if isinstance(ptab.get(fname), (list, tuple)):
                raise SpecError("per-neuron lists cannot be rescaled", parameter=f"populations.{pname}.{fname}",
                                hint="describe the parameter as a number or a distribution")
        ptab["n"] = new[pname]
    for pj_name, ptab in (out.get("projections") or {}).items():
        if "synapses" in ptab:
            raise SpecError("explicit synapse lists cannot be rescaled", parameter=f"projections.{pj_name}",
                            hint="describe the projection by 'p' and a weight distribution")
        pre, _ = _parse_name(pj_name, f"projections.{pj_name}")
        if keep == "fan_in" and pre in old:
            p = _float_field(_require(ptab, "p", f"projections.{pj_name}"), f"projections.{pj_name}.p")
            ptab["p"] = float(min(1.0, p * old[pre] / new[pre]))
    for rtab in (out.get("stdp") or {}).values():
        for fname in STDP_FIELDS:
            if isinstance(rtab.get(fname), (list, tuple)):
                raise SpecError("per-synapse lists cannot be rescaled", parameter=f"stdp.{fname}",
                                hint="describe the parameter as a number or a distribution")
    out["name"] = name or f"{out.get('name', 'design')}-n{int(n_neurons)}"
    return out
