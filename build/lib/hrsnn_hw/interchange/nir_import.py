"""Import a NIR recurrent CubaLIF layer as a :class:`NetworkSpec`.

A graph written by :func:`~hrsnn_hw.interchange.to_nir` carries hrsnn_hw metadata and
comes back bit for bit (populations, synapse lists, dt, exact per-neuron values). The
NIR values are the authority, the metadata only refines them: wherever a NIR value is
no longer what the exporter wrote from the metadata (another tool edited it), the NIR
value is converted instead and a note says so. A graph from another tool is converted
with :mod:`~hrsnn_hw.interchange.convention` and needs ``dt``; its neurons are split
into excitatory and inhibitory populations by the sign of their outgoing recurrent
weights (Dale's law), keeping the graph's neuron order.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import nir
import numpy as np

from ..errors import SpecError
from ..spec import INPUT, NetworkSpec, Population, Projection
from .convention import (NIR_FORMAT, NIR_VERSION, bias_from_v_leak, check_decay, current_gain, is_unit, membrane_r,
                         tau_from_nir, tau_to_nir, v_leak_from_bias)
from .nir_graph import RecurrentLayer, find_recurrent_layer

__all__ = ["NirImport", "import_nir", "from_nir"]

log = logging.getLogger("hrsnn_hw")

PopulationsArg = Mapping[str, int] | Sequence[tuple[str, int]]


@dataclass(frozen=True)
class NirImport:
    """The result of importing a NIR graph.

    Attributes
    ----------
    spec : NetworkSpec
        The imported network (no STDP rules: NIR carries a frozen network).
    exact : bool
        True if hrsnn_hw metadata was found and every NIR value was as exported, so the
        spec equals the exported one bit for bit (STDP rules aside).
    has_metadata : bool
        True if the graph was written by hrsnn_hw.
    notes : tuple of str
        Every conversion or assumption the import made.
    """

    spec: NetworkSpec
    exact: bool
    has_metadata: bool
    notes: tuple[str, ...] = field(default_factory=tuple)


def _text(value: Any) -> Any:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _read_metadata(graph: nir.NIRGraph) -> tuple[dict, dict, dict] | None:
    """(header, design, synapses) of an hrsnn_hw export, or None for a foreign graph."""
    meta = graph.metadata if isinstance(graph.metadata, Mapping) else {}
    if _text(meta.get("hrsnn_hw_format")) != NIR_FORMAT:
        return None
    version = _text(meta.get("hrsnn_hw_version"))
    if str(version) != str(NIR_VERSION):
        raise SpecError("unsupported hrsnn_hw NIR metadata version", parameter="metadata.hrsnn_hw_version",
                        value=version, allowed=str(NIR_VERSION), hint="export again with this hrsnn_hw version")
    try:
        header = json.loads(_text(meta["hrsnn_hw"]))
        design = json.loads(_text(meta.get("design", "{}")))
        float(header["dt"])
        for hp in header["populations"]:
            str(hp["name"]), int(hp["n"]), bool(hp["excitatory"])
        for hp in header.get("projections", []):
            str(hp["name"]), float(hp["p"]), float(hp["weight_scale"])
    except (KeyError, TypeError, ValueError) as exc:
        raise SpecError(f"corrupt hrsnn_hw metadata ({exc})", parameter="metadata.hrsnn_hw", value=None,
                        hint="strip the hrsnn_hw_* metadata keys to import the graph as a foreign one") from None
    synapses = meta.get("synapses", {})
    return header, design, dict(synapses) if isinstance(synapses, Mapping) else {}


def _per_neuron(node: Any, attr: str, n: int, where: str) -> np.ndarray:
    value = np.asarray(getattr(node, attr), dtype=np.float64)
    if value.size == 1:
        return np.full(n, float(value.reshape(-1)[0]))
    if value.size != n:
        raise SpecError("per-neuron parameter has the wrong size", parameter=f"{where}.{attr}",
                        value=f"shape {value.shape}", allowed=f"{n} values (one per neuron) or one")
    return value.reshape(-1).copy()


def _lif_metadata(lif: Any, n: int) -> dict | None:
    meta = lif.metadata if isinstance(lif.metadata, Mapping) else {}
    try:
        out = {k: np.asarray(meta[k], dtype=np.float64).reshape(-1) for k in ("tau_m", "tau_syn", "v_th", "bias",
                                                                              "refractory")}
    except (KeyError, TypeError, ValueError):
        return None
    return out if all(v.shape == (n,) for v in out.values()) else None


def _positive(values: np.ndarray, parameter: str) -> None:
    bad = ~(np.isfinite(values) & (values > 0))
    if bad.any():
        i = int(np.argmax(bad))
        raise SpecError("must be positive and finite (a sign flip would break Dale's law)", parameter=parameter,
                        index=i, value=float(values[i]), allowed="(0, inf)")


def _column_signs(w_rec: np.ndarray, where: str) -> np.ndarray:
    """+1 / -1 / 0 (no outgoing weight) per presynaptic neuron; a mixed column is an error."""
    pos, neg = (w_rec > 0).any(axis=0), (w_rec < 0).any(axis=0)
    mixed = pos & neg
    if mixed.any():
        j = int(np.argmax(mixed))
        raise SpecError(f"neuron {j} has both positive and negative outgoing recurrent weights (Dale's law)",
                        parameter=f"nodes.{where}.weight[:, {j}]",
                        value=f"{int((w_rec[:, j] > 0).sum())} positive, {int((w_rec[:, j] < 0).sum())} negative",
                        allowed="one sign per column: >= 0 (excitatory) or <= 0 (inhibitory)",
                        hint="hrsnn_hw populations obey Dale's law; split the neuron into an excitatory and an "
                             "inhibitory copy in the source model")
    return pos.astype(np.int8) - neg.astype(np.int8)


def _infer_populations(signs: np.ndarray, notes: list[str]) -> list[tuple[str, int, bool]]:
    filled = signs.copy()
    nonzero = np.flatnonzero(filled)
    if nonzero.size == 0:
        filled[:] = 1
    else:
        # A neuron without outgoing weights joins its neighbours, so populations stay few.
        filled[: nonzero[0]] = filled[nonzero[0]]
        for i in range(nonzero[0] + 1, filled.size):
            if filled[i] == 0:
                filled[i] = filled[i - 1]
    if (signs == 0).any():
        notes.append(f"{int((signs == 0).sum())} neuron(s) without outgoing recurrent weights joined the "
                     "population of their neighbours")
    runs: list[tuple[bool, int]] = []
    for s in filled:
        if runs and runs[-1][0] == (s > 0):
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((bool(s > 0), 1))
    count = {True: 0, False: 0}
    out = []
    for excitatory, n in runs:
        count[excitatory] += 1
        base = "exc" if excitatory else "inh"
        out.append((base if count[excitatory] == 1 else f"{base}{count[excitatory]}", n, excitatory))
    if len(out) > 2 or (len(out) == 2 and not out[0][2]):
        notes.append(f"excitatory and inhibitory neurons interleave; the graph's neuron order is kept as "
                     f"{len(out)} populations ({', '.join(p[0] for p in out)})")
    return out


def _user_populations(populations: PopulationsArg, signs: np.ndarray) -> list[tuple[str, int, bool]]:
    items = list(populations.items()) if isinstance(populations, Mapping) else list(populations)
    total = sum(int(n) for _, n in items)
    if total != signs.size:
        raise SpecError("population sizes do not add up to the number of neurons", parameter="populations",
                        value={str(k): int(n) for k, n in items}, allowed=f"sizes summing to {signs.size}")
    out, start = [], 0
    for name, n in items:
        block = signs[start:start + int(n)]
        kinds = set(block[block != 0].tolist())
        if len(kinds) > 1:
            first = block[block != 0][0]
            j = start + int(np.argmax((block != 0) & (block != first)))
            raise SpecError(f"population {name!r} mixes excitatory and inhibitory neurons", parameter="populations",
                            value=str(name), index=j,
                            hint=f"neuron {j}'s outgoing weights have the other sign; adjust the sizes")
        excitatory = kinds.pop() > 0 if kinds else str(name).lower().startswith("e")
        out.append((str(name), int(n), bool(excitatory)))
        start += int(n)
    return out


def _projections(pops: list[tuple[str, int, bool]], w_in: np.ndarray, w_rec: np.ndarray, header: dict | None,
                 synapses: dict, notes: list[str]) -> tuple[list[Projection], bool]:
    """Projections per (pre, post) block; hrsnn_hw synapse lists where they still cover the weights."""
    start, slices = 0, {INPUT: slice(0, w_in.shape[1])}
    for name, n, _ in pops:
        slices[name] = slice(start, start + n)
        start += n
    known: dict[str, tuple[dict, dict]] = {}
    if header is not None:
        for k, hp in enumerate(header.get("projections", [])):
            known[hp["name"]] = (hp, synapses.get(str(k), {}))
    pairs = [(pre, post) for pre in slices for post, _, _ in pops]
    order = [hp["name"] for hp in (header or {}).get("projections", [])]
    order += [f"{pre}->{post}" for pre, post in pairs if f"{pre}->{post}" not in order]
    exact = True
    out = []
    for pj in order:
        pre, post = pj.split("->", 1)
        if pre not in slices or post not in slices or post == INPUT:
            exact = False
            notes.append(f"projection {pj} of the metadata no longer matches the populations; dropped")
            continue
        block = (w_in if pre == INPUT else w_rec)[slices[post], slices[pre]]
        if pj in known:
            hp, syn = known[pj]
            pre_idx = np.asarray(syn.get("pre", []), dtype=np.int64).reshape(-1)
            post_idx = np.asarray(syn.get("post", []), dtype=np.int64).reshape(-1)
            ok = pre_idx.shape == post_idx.shape and (pre_idx.size == 0 or (
                pre_idx.min() >= 0 and post_idx.min() >= 0 and pre_idx.max() < block.shape[1]
                and post_idx.max() < block.shape[0]))
            if ok:
                covered = np.zeros(block.shape, dtype=bool)
                covered[post_idx, pre_idx] = True
                ok = not (block[~covered] != 0).any()
            if ok:
                out.append(Projection(name=pj, pre=pre, post=post, probability=float(hp["p"]),
                                      weight_scale=float(hp["weight_scale"]), pre_index=pre_idx,
                                      post_index=post_idx, weight=block[post_idx, pre_idx]))
                continue
            exact = False
            notes.append(f"projection {pj}: the weights no longer fit the exported synapse list; "
                         "synapses rebuilt from the non-zero weights")
        elif not block.any():
            continue
        elif header is not None:
            exact = False
            notes.append(f"projection {pj} is new (non-zero weights where the export had none)")
        post_idx, pre_idx = np.nonzero(block)  # row-major: sorted by (post, pre) as specs expect
        w = block[post_idx, pre_idx]
        out.append(Projection(name=pj, pre=pre, post=post, probability=float(w.size / block.size),
                              weight_scale=float(np.mean(np.abs(w))) if w.size else 0.0,
                              pre_index=pre_idx, post_index=post_idx, weight=w))
    return out, exact


def _neurons(layer: RecurrentLayer, dt: float, decay: str, has_header: bool,
             notes: list[str]) -> tuple[dict[str, np.ndarray], np.ndarray, bool]:
    """Per-neuron values in our units, the per-neuron weight gain, and whether they are exact."""
    lif_name, lif = layer.lif, layer.node("lif")
    n = np.asarray(layer.node("w_rec").weight).shape[0]
    where = f"nodes.{lif_name}"
    p = {a: _per_neuron(lif, a, n, where) for a in ("tau_mem", "tau_syn", "r", "w_in", "v_leak", "v_threshold")}
    v_reset = _per_neuron(lif, "v_reset", n, where) if lif.v_reset is not None else np.zeros(n)
    if (v_reset != 0).any():
        i = int(np.argmax(v_reset != 0))
        raise SpecError("non-zero reset potential is not supported", parameter=f"{where}.v_reset", index=i,
                        value=float(v_reset[i]), allowed="0",
                        hint="hrsnn_hw resets v to 0; subtract v_reset from v_leak and v_threshold in the source")
    exact_meta = _lif_metadata(lif, n) if has_header else None
    if has_header and exact_meta is None:
        notes.append(f"CubaLIF {lif_name} lost its hrsnn_hw metadata; neuron values converted from NIR")
    exact = exact_meta is not None

    values: dict[str, np.ndarray] = {}
    for ours, theirs in (("tau_m", "tau_mem"), ("tau_syn", "tau_syn")):
        values[ours] = tau_from_nir(p[theirs], dt, decay, f"{where}.{theirs}")
        if exact_meta is not None:
            if np.array_equal(tau_to_nir(exact_meta[ours], dt, decay), p[theirs]):
                values[ours] = exact_meta[ours]
            else:
                exact = False
                notes.append(f"{theirs} differs from the export; converted from NIR")
    values["v_th"] = p["v_threshold"]
    if exact_meta is not None and not np.array_equal(exact_meta["v_th"], p["v_threshold"]):
        exact = False
        notes.append("v_threshold differs from the export; taken from NIR")
    values["bias"] = bias_from_v_leak(p["v_leak"], p["tau_mem"], dt)
    if exact_meta is not None:
        if np.array_equal(v_leak_from_bias(exact_meta["bias"], p["tau_mem"], dt), p["v_leak"]):
            values["bias"] = exact_meta["bias"]
        else:
            exact = False
            notes.append("v_leak differs from the export; bias converted from NIR")
        values["refractory"] = exact_meta["refractory"]
    else:
        values["refractory"] = np.zeros(n)
        notes.append("refractory period 0 (CubaLIF has none)")

    _positive(p["w_in"], f"{where}.w_in")
    _positive(p["r"], f"{where}.r")
    gain = (p["w_in"] * (dt / p["tau_syn"])) * p["r"]
    unit = (np.array_equal(p["w_in"], current_gain(p["tau_syn"], dt))
            and np.array_equal(p["r"], membrane_r(p["tau_mem"]))) or is_unit(gain)
    if unit:
        gain = np.ones(n)
    else:
        exact = False
        notes.append(f"weights scaled per neuron by (w_in dt/tau_syn) r, in "
                     f"[{gain.min():.6g}, {gain.max():.6g}], so that u and v stay in volts")
    return values, gain, exact


def import_nir(graph: nir.NIRGraph, *, dt: float | None = None, populations: PopulationsArg | None = None,
               decay: str | None = None, name: str | None = None) -> NirImport:
    """Import a recurrent CubaLIF layer from NIR, reporting every conversion it made.

    Parameters
    ----------
    graph : nir.NIRGraph
        ``Input -> Linear/Affine -> CubaLIF``, a recurrent ``CubaLIF -> Linear/Affine ->
        CubaLIF`` edge and ``CubaLIF -> Output``; nested subgraphs are inlined.
    dt : float, optional
        Time step in the graph's time unit (taken as seconds). Required for a graph
        without hrsnn_hw metadata; must agree with the metadata otherwise.
    populations : mapping of str to int, or sequence of (name, n), optional
        Population names and sizes in neuron order; each population's sign comes from its
        outgoing recurrent weights (an all-silent one is excitatory if its name starts
        with "e"). Default: the metadata's populations, else inferred from the signs.
    decay : {"exact", "euler"}, optional
        Time-constant convention of the graph (see :mod:`.convention`); default the
        metadata's, else "exact".
    name : str, optional
        Spec name (default: the metadata's, else "nir_import").

    Returns
    -------
    NirImport

    Raises
    ------
    SpecError
        Unsupported graph shape (naming the node), missing or conflicting ``dt``, a
        neuron with mixed-sign outgoing weights, a non-zero reset potential, negative
        input weights, or parameters outside the spec's ranges.
    """
    layer: RecurrentLayer = find_recurrent_layer(graph)
    notes: list[str] = []
    meta = _read_metadata(graph)
    header, design, synapses = meta if meta is not None else (None, {}, {})
    if header is not None:
        meta_dt, meta_decay = float(header["dt"]), str(header.get("decay", "exact"))
        if dt is not None and float(dt) != meta_dt:
            raise SpecError("dt conflicts with the graph's hrsnn_hw metadata", parameter="dt", value=dt,
                            allowed=f"{meta_dt!r} (or omit dt)")
        if decay is not None and decay != meta_decay:
            raise SpecError("decay conflicts with the graph's hrsnn_hw metadata", parameter="decay", value=decay,
                            allowed=f"{meta_decay!r} (or omit decay)")
        dt, decay = meta_dt, meta_decay
    elif dt is None:
        raise SpecError("dt is required to import a NIR graph made by another tool", parameter="dt", value=None,
                        allowed="(0, inf), in the graph's time unit (seconds for hrsnn_hw)",
                        hint="NIR is continuous-time; pass the step the source simulator used (CLI: --dt)")
    dt = float(dt)
    if not np.isfinite(dt) or dt <= 0:
        raise SpecError("time step must be positive and finite", parameter="dt", value=dt, allowed="(0, inf) s")
    decay = check_decay(decay or "exact")

    values, gain, exact = _neurons(layer, dt, decay, header is not None, notes)
    n = gain.size
    alpha_syn = np.exp(-dt / values["tau_syn"])
    weights = {}
    for role in ("w_in", "w_rec"):
        node_name, node = getattr(layer, role), layer.node(role)
        weights[role] = np.asarray(node.weight, dtype=np.float64) * gain[:, None]
        if isinstance(node, nir.Affine):
            b = _per_neuron(node, "bias", n, f"nodes.{node_name}")
            values["bias"] = values["bias"] + gain * b / (1.0 - alpha_syn)
            exact = False
            notes.append(f"Affine {node_name}'s bias folded into the neuron bias as gain*b/(1-alpha_syn): "
                         "equal at steady state; the original drive rises over ~tau_syn, ours is there from step 0")
    bad = weights["w_in"] < 0
    if bad.any():
        i, j = (int(k) for k in np.argwhere(bad)[0])
        raise SpecError("negative input weight: hrsnn_hw input channels are excitatory",
                        parameter=f"nodes.{layer.w_in}.weight[{i}, {j}]", value=float(weights['w_in'][i, j]),
                        allowed="[0, inf)", hint="feed inverted channels as extra, positive inputs")

    signs = _column_signs(weights["w_rec"], layer.w_rec)
    if populations is not None:
        pops = _user_populations(populations, signs)
        if header is not None:
            exact = False
            notes.append("populations given explicitly; the metadata's populations and synapse lists are ignored")
            header = None
    elif header is not None:
        pops = [(str(hp["name"]), int(hp["n"]), bool(hp["excitatory"])) for hp in header["populations"]]
        if sum(k for _, k, _ in pops) != n:
            raise SpecError("metadata population sizes do not match the CubaLIF node", parameter="metadata.hrsnn_hw",
                            value=[k for _, k, _ in pops], allowed=f"sizes summing to {n}",
                            hint="pass populations=... to override")
    else:
        pops = _infer_populations(signs, notes)

    projections, exact_proj = _projections(pops, weights["w_in"], weights["w_rec"], header, synapses, notes)
    exact = exact and exact_proj and header is not None
    start, populations_out = 0, []
    for pname, k, excitatory in pops:
        sl = slice(start, start + k)
        populations_out.append(Population(name=pname, n=k, excitatory=excitatory,
                                          **{f: values[f][sl] for f in ("tau_m", "tau_syn", "v_th", "refractory",
                                                                        "bias")}))
        start += k
    spec = NetworkSpec(name=name or (header or {}).get("name") or "nir_import", seed=int((header or {}).get("seed", 0)),
                       dt=dt, n_input=int(weights["w_in"].shape[1]), populations=tuple(populations_out),
                       projections=tuple(projections), stdp=(), design=design if header is not None else {})
    return NirImport(spec=spec, exact=exact, has_metadata=meta is not None, notes=tuple(notes))


def from_nir(graph: nir.NIRGraph, *, dt: float | None = None, populations: PopulationsArg | None = None,
             decay: str | None = None, name: str | None = None) -> NetworkSpec:
    """Import a NIR recurrent CubaLIF layer as a :class:`NetworkSpec`.

    The spec of :func:`import_nir` (see there for parameters and errors) without its
    notes; they go to the ``hrsnn_hw`` logger at INFO level.
    """
    result = import_nir(graph, dt=dt, populations=populations, decay=decay, name=name)
    for note in result.notes:
        log.info("NIR import: %s", note)
    return result.spec
