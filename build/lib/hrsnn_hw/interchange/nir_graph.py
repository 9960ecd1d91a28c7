"""Recognise the one NIR graph shape hrsnn_hw can import, or say clearly why not."""
from __future__ import annotations

from dataclasses import dataclass

import nir
import numpy as np

from ..errors import SpecError

SUPPORTED = ("Input -> Linear/Affine -> CubaLIF, CubaLIF -> Linear/Affine -> CubaLIF (the recurrent edge), "
             "CubaLIF -> Output")
NODE_TYPES = (nir.Input, nir.Output, nir.Linear, nir.Affine, nir.CubaLIF)
_TYPE_NAMES = "Input, Output, Linear, Affine, CubaLIF (and NIRGraph subgraphs of them)"


@dataclass(frozen=True)
class RecurrentLayer:
    """The five nodes of a single recurrent CubaLIF layer, by (flattened) node name.

    Attributes
    ----------
    input, w_in, lif, w_rec, output : str
        Node names; subgraph members are named ``"subgraph.node"``.
    nodes : dict
        Name -> node after flattening subgraphs.
    """

    input: str
    w_in: str
    lif: str
    w_rec: str
    output: str
    nodes: dict

    def node(self, role: str):
        return self.nodes[getattr(self, role)]


def flatten(graph: nir.NIRGraph) -> tuple[dict, list[tuple[str, str]]]:
    """Inline nested NIRGraph nodes (as some exporters wrap a recurrent layer).

    A subgraph's Input and Output nodes disappear: edges into the subgraph go to what its
    Input feeds, edges out of it leave from what feeds its Output.
    """
    nodes: dict = {}
    edges: list[tuple[str, str]] = []
    entry: dict[str, list[str]] = {}
    exit_: dict[str, list[str]] = {}
    for name, node in graph.nodes.items():
        if not isinstance(node, nir.NIRGraph):
            nodes[name] = node
            continue
        inner, inner_edges = flatten(node)
        ins = [k for k, v in inner.items() if isinstance(v, nir.Input)]
        outs = [k for k, v in inner.items() if isinstance(v, nir.Output)]
        if len(ins) != 1 or len(outs) != 1:
            raise SpecError("a nested NIR graph needs exactly one Input and one Output node",
                            parameter=f"nodes.{name}", value=f"{len(ins)} Input, {len(outs)} Output",
                            allowed=SUPPORTED)
        entry[name] = [f"{name}.{b}" for a, b in inner_edges if a == ins[0]]
        exit_[name] = [f"{name}.{a}" for a, b in inner_edges if b == outs[0]]
        nodes.update({f"{name}.{k}": v for k, v in inner.items() if k not in (ins[0], outs[0])})
        edges += [(f"{name}.{a}", f"{name}.{b}") for a, b in inner_edges if a != ins[0] and b != outs[0]]
    for a, b in graph.edges:
        edges += [(s, d) for s in exit_.get(a, [a]) for d in entry.get(b, [b])]
    return nodes, edges


def _shape_error(message: str, node: str, value, hint: str | None = None) -> SpecError:
    return SpecError(message, parameter=f"nodes.{node}", value=value, allowed=SUPPORTED, hint=hint)


def find_recurrent_layer(graph: nir.NIRGraph) -> RecurrentLayer:
    """Check ``graph`` has the supported shape and name its nodes.

    Raises
    ------
    SpecError
        Naming the offending node (or edge) and the supported shape.
    """
    if not isinstance(graph, nir.NIRGraph):
        raise SpecError("expected a NIR graph", parameter="graph", value=type(graph).__name__,
                        allowed="nir.NIRGraph")
    nodes, edges = flatten(graph)
    for name, node in nodes.items():
        if not isinstance(node, NODE_TYPES):
            raise SpecError("unsupported NIR node type", parameter=f"nodes.{name}", value=type(node).__name__,
                            allowed=_TYPE_NAMES, hint=f"hrsnn_hw imports one recurrent layer: {SUPPORTED}")
    by_type = {t: [k for k, v in nodes.items() if isinstance(v, t)] for t in NODE_TYPES}
    lifs = by_type[nir.CubaLIF]
    if not lifs:
        raise SpecError("the graph has no CubaLIF node", parameter="nodes", value=sorted(nodes), allowed=SUPPORTED)
    if len(lifs) > 1:
        raise _shape_error("multiple CubaLIF layers are not supported", lifs[1], "CubaLIF",
                           hint=f"hrsnn_hw models one recurrent layer; found CubaLIF nodes {lifs}")
    for kind in (nir.Input, nir.Output):
        found = by_type[kind]
        if len(found) != 1:
            raise SpecError(f"the graph needs exactly one {kind.__name__} node", parameter="nodes",
                            value=found, allowed=SUPPORTED)
    lif, inp, out = lifs[0], by_type[nir.Input][0], by_type[nir.Output][0]
    succ = {k: [b for a, b in edges if a == k] for k in nodes}
    pred = {k: [a for a, b in edges if b == k] for k in nodes}
    linear = set(by_type[nir.Linear]) | set(by_type[nir.Affine])

    if len(succ[inp]) != 1 or succ[inp][0] not in linear or succ[succ[inp][0]] != [lif]:
        raise _shape_error("the Input must feed one Linear/Affine node that feeds the CubaLIF", inp,
                           f"Input feeds {succ[inp]}")
    w_in = succ[inp][0]
    rec = [k for k in succ[lif] if k in linear and succ[k] == [lif] and pred[k] == [lif]]
    if not rec:
        raise _shape_error("the CubaLIF has no recurrent edge", lif, f"CubaLIF feeds {succ[lif]}",
                           hint="add a Linear node with edges lif -> w_rec -> lif (a feed-forward layer "
                                "is a recurrent one with zero recurrent weights)")
    w_rec = rec[0]
    if pred[out] != [lif]:
        raise _shape_error("the Output must be fed by the CubaLIF alone", out, f"Output fed by {pred[out]}")
    expected = {(inp, w_in), (w_in, lif), (lif, w_rec), (w_rec, lif), (lif, out)}
    extra = [e for e in edges if tuple(e) not in expected]
    if extra:
        a, b = extra[0]
        raise _shape_error("edge outside the supported shape", a, f"edge {a} -> {b}")
    stray = sorted(set(nodes) - {inp, w_in, lif, w_rec, out})
    if stray:
        raise _shape_error("node outside the supported shape", stray[0], type(nodes[stray[0]]).__name__)

    n_in = int(np.prod(np.asarray(nodes[inp].input_type["input"])))
    for role, name, n_cols in (("input", w_in, n_in), ("recurrent", w_rec, None)):
        weight = np.asarray(nodes[name].weight)
        n_post = weight.shape[0] if weight.ndim == 2 else None
        if weight.ndim != 2 or weight.shape[1] != (n_cols if n_cols is not None else n_post):
            want = f"(N, {n_in})" if n_cols is not None else "(N, N)"
            raise SpecError(f"{role} weight matrix has the wrong shape", parameter=f"nodes.{name}.weight",
                            value=f"shape {weight.shape}", allowed=f"shape {want}, w_post_pre")
    n_in_w, n_rec = np.asarray(nodes[w_in].weight).shape[0], np.asarray(nodes[w_rec].weight).shape[0]
    if n_in_w != n_rec:
        raise SpecError("input and recurrent weights disagree on the number of neurons",
                        parameter=f"nodes.{w_in}.weight", value=f"{n_in_w} rows vs {n_rec} in {w_rec}",
                        allowed="the same N")
    return RecurrentLayer(input=inp, w_in=w_in, lif=lif, w_rec=w_rec, output=out, nodes=nodes)
