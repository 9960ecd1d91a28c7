"""Export a frozen network as a NIR graph (``input -> w_in -> lif <-> w_rec, lif -> output``)."""
from __future__ import annotations

import json
from typing import Any

import nir
import numpy as np

from .. import __version__
from ..errors import SpecError
from ..io import to_jsonable
from ..spec import NetworkSpec
from ..trained import TrainedNetwork
from .convention import (DELAY_STEPS, NIR_FORMAT, NIR_VERSION, check_decay, current_gain, membrane_r, tau_to_nir,
                         v_leak_from_bias)

__all__ = ["to_nir", "export_notes", "NODE_NAMES"]

# Node names of an exported graph (the importer finds nodes by structure, not by name).
NODE_NAMES = {"input": "input", "w_in": "w_in", "lif": "lif", "w_rec": "w_rec", "output": "output"}


def _as_spec(net: NetworkSpec | TrainedNetwork) -> tuple[NetworkSpec, str]:
    if isinstance(net, TrainedNetwork):
        return net.spec, "TrainedNetwork"
    if isinstance(net, NetworkSpec):
        return net, "NetworkSpec"
    raise SpecError("cannot export this object to NIR", parameter="net", value=type(net).__name__,
                    allowed="NetworkSpec or TrainedNetwork")


def export_notes(net: NetworkSpec | TrainedNetwork) -> list[str]:
    """What other NIR tools will not see in the export of ``net`` (hrsnn_hw's importer does)."""
    spec, _ = _as_spec(net)
    notes = [f"every projection delivers one step after the spike (delay {DELAY_STEPS} step); NIR edges "
             "carry no delay, so a stepped NIR simulator feeds the input one step earlier"]
    refractory = spec.neuron_param("refractory")
    if (refractory > 0).any():
        notes.append(f"refractory periods (up to {refractory.max():g} s) are kept in metadata only: "
                     "CubaLIF has no refractory period")
    if spec.stdp:
        notes.append("STDP rules (" + ", ".join(r.projection for r in spec.stdp) + ") are not exported: "
                     "the network is exported frozen with its current weights")
    if len(spec.populations) > 1:
        notes.append("population names and Dale signs are kept in metadata; other tools see one CubaLIF layer")
    return notes


def to_nir(net: NetworkSpec | TrainedNetwork, *, decay: str = "exact") -> nir.NIRGraph:
    """The network as a NIR graph, with metadata for a bit-exact re-import.

    Parameters
    ----------
    net : NetworkSpec or TrainedNetwork
        The network (a TrainedNetwork exports its trained, frozen weights).
    decay : {"exact", "euler"}
        Time-constant convention (:mod:`hrsnn_hw.interchange.convention`): ``"exact"``
        writes our time constants, ``"euler"`` the ones whose forward-Euler decay equals
        our exponential decay.

    Returns
    -------
    nir.NIRGraph
        Nodes ``input`` (n_input), ``w_in`` (Linear, ``w_post_pre`` (N, n_input), volts),
        ``lif`` (CubaLIF, N neurons), ``w_rec`` (Linear, (N, N), volts), ``output`` (N);
        edges ``input->w_in->lif``, ``lif->w_rec->lif``, ``lif->output``. The graph's
        metadata holds the populations, the synapse lists and the design; the CubaLIF's
        metadata holds ``dt`` and the exact per-neuron values.
    """
    spec, source = _as_spec(net)
    check_decay(decay)
    dt = float(spec.dt)
    tau_mem = tau_to_nir(spec.neuron_param("tau_m"), dt, decay)
    tau_syn = tau_to_nir(spec.neuron_param("tau_syn"), dt, decay)
    bias = spec.neuron_param("bias")
    lif_meta: dict[str, Any] = {name: spec.neuron_param(name) for name in ("tau_m", "tau_syn", "v_th", "bias",
                                                                            "refractory")}
    lif_meta.update(dt=dt, decay=decay, delay_steps=DELAY_STEPS,
                    alpha_syn=np.exp(-dt / lif_meta["tau_syn"]), alpha_mem=np.exp(-dt / lif_meta["tau_m"]),
                    reset="v <- 0 on a spike, held at 0 for round(refractory/dt) steps")
    lif = nir.CubaLIF(tau_syn=tau_syn, tau_mem=tau_mem, r=membrane_r(tau_mem),
                      v_leak=v_leak_from_bias(bias, tau_mem, dt), v_threshold=spec.neuron_param("v_th"),
                      v_reset=np.zeros(spec.n_neurons), w_in=current_gain(tau_syn, dt), metadata=lif_meta)

    header = {
        "name": spec.name, "seed": int(spec.seed), "dt": dt, "n_input": int(spec.n_input), "decay": decay,
        "source": source, "hrsnn_hw_version": __version__,
        "populations": [{"name": p.name, "n": int(p.n), "excitatory": bool(p.excitatory)}
                        for p in spec.populations],
        "projections": [{"name": p.name, "pre": p.pre, "post": p.post, "p": float(p.probability),
                         "weight_scale": float(p.weight_scale)} for p in spec.projections],
        "notes": export_notes(spec),
    }
    # Synapse lists keep structural zeros (a weight STDP drove to 0) that a dense matrix loses.
    synapses = {str(k): {"pre": p.pre_index, "post": p.post_index} for k, p in enumerate(spec.projections)}
    meta: dict[str, Any] = {"hrsnn_hw_format": NIR_FORMAT, "hrsnn_hw_version": NIR_VERSION,
                            "hrsnn_hw": json.dumps(header), "design": json.dumps(to_jsonable(dict(spec.design))),
                            "synapses": synapses}
    if isinstance(net, TrainedNetwork):
        meta["training"] = json.dumps(to_jsonable({"training": net.training, "provenance": net.provenance}))

    nodes = {
        NODE_NAMES["input"]: nir.Input(input_type=np.array([spec.n_input])),
        NODE_NAMES["w_in"]: nir.Linear(weight=spec.input_weights().toarray()),
        NODE_NAMES["lif"]: lif,
        NODE_NAMES["w_rec"]: nir.Linear(weight=spec.recurrent_weights().toarray()),
        NODE_NAMES["output"]: nir.Output(output_type=np.array([spec.n_neurons])),
    }
    n = NODE_NAMES
    edges = [(n["input"], n["w_in"]), (n["w_in"], n["lif"]), (n["lif"], n["w_rec"]), (n["w_rec"], n["lif"]),
             (n["lif"], n["output"])]
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta)
