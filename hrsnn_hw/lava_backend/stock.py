"""QuantizedNetwork -> Lava's stock neuron processes, one per neuron profile: the independent oracle.

    RingBuffer --Dense per input synapse group--> SynapticScatter --a_out_k--> neurons of profile k
    neurons of profile k --s_out--> SpikeGather --Dense per recurrent synapse group--> SynapticScatter
    SpikeGather --> RasterSink;   u, v of every profile --RefPorts--> GroupStateRecorder (optional)

Lava's stock ``LIF`` holds one ``du``, ``dv`` and ``vth`` per process (its bias is per neuron) and
has no refractory period, so the network runs as one process per *neuron profile*: neurons with
equal ``(du, dv, vth, refractory_steps)``. Profiles without a refractory period are stock ``LIF``
with Lava's own bit-accurate model; profiles with one are Lava's stock ``LIFRefractory`` process
run by :class:`~hrsnn_hw.lava_backend.procs.refractory_fixed.PyLifRefractoryModelBitAcc` (Lava's
fixed-point LIF arithmetic plus the refractory rule written from its definition). None of the
arithmetic is the golden kernel's, so comparing the two checks the kernel on the deployed network
itself. The synapses are the same ``Dense`` processes as in :func:`~.compile.compile_network`;
the routing processes between them and the profiles only move values (:mod:`.procs.routing`).
A network of one profile is wired straight, without routing processes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from lava.proc.io.source import RingBuffer
from lava.proc.lif.models import PyLifModelBitAcc
from lava.proc.lif.process import LIF, LIFRefractory

from ..errors import BackendError
from ..fixedpoint import DU_OFFSET, DV_OFFSET, NumberFormat
from ..golden.synapses import group_projections
from ..golden.validate import check_network
from .compile import LavaNetwork, _check_raster, _connection, _connection_kind, _payload_bits, _wire
from .procs.recorder import RasterSink
from .procs.refractory_fixed import PyLifRefractoryModelBitAcc
from .procs.routing import (GroupStateRecorder, SpikeGather, SynapticScatter, gather_model,
                            group_recorder_model, scatter_model)

__all__ = ["NeuronProfile", "build_stock", "neuron_profiles"]


@dataclass(frozen=True)
class NeuronProfile:
    """Neurons that share the constants one stock Lava neuron process holds.

    Attributes
    ----------
    du, dv, vth, refractory_steps : int
    index : ndarray of int64
        Network indices of the neurons, ascending.
    """

    du: int
    dv: int
    vth: int
    refractory_steps: int
    index: np.ndarray


def neuron_profiles(qnet) -> list[NeuronProfile]:
    """The network's neurons grouped by ``(du, dv, vth, refractory_steps)``, in sorted key order."""
    keys = np.stack([np.asarray(qnet.du), np.asarray(qnet.dv), np.asarray(qnet.vth),
                     np.asarray(qnet.refractory_steps)], axis=1).astype(np.int64)
    if not len(keys):
        return []
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    return [NeuronProfile(*(int(v) for v in uniq[k]), index=np.flatnonzero(inverse == k))
            for k in range(len(uniq))]


def _check_lava_format(fmt: NumberFormat) -> None:
    """Stock LIF hard-codes Loihi's widths: refuse a network quantized for other ones."""
    lava = PyLifModelBitAcc({})
    ours = (fmt.state_bits, fmt.decay_bits, fmt.u_shift, fmt.vth_shift, DU_OFFSET, DV_OFFSET)
    theirs = (lava.uv_bitwidth, lava.decay_shift, lava.act_shift, lava.vth_shift, lava.ds_offset, lava.dm_offset)
    if ours != theirs:
        raise BackendError("stock Lava LIF runs Loihi's number format only", parameter="number_format",
                           value=dict(zip(("state_bits", "decay_bits", "u_shift", "vth_shift", "du_offset",
                                           "dv_offset"), ours)),
                           allowed=str(theirs), hint="use the HeteroLIF backend ('lava') for other formats")


def _neuron_process(qnet, prof: NeuronProfile, name: str):
    idx = prof.index
    common = dict(shape=(len(idx),), du=prof.du, dv=prof.dv, vth=prof.vth,
                  bias_mant=np.asarray(qnet.bias_mant, np.int32)[idx],
                  bias_exp=np.asarray(qnet.bias_exp, np.int32)[idx], name=name)
    if prof.refractory_steps > 0:
        return LIFRefractory(refractory_period=prof.refractory_steps, **common)
    return LIF(**common)


def build_stock(qnet, input_raster: np.ndarray | None, num_steps: int, *, record_states: bool = False,
                merge: bool = True, connections: str = "auto") -> LavaNetwork:
    """Build ``qnet`` from Lava's stock neuron processes (one per neuron profile) and ``Dense``/``Sparse``.

    Parameters
    ----------
    qnet : QuantizedNetwork
        Any network in Loihi's number format (checked first).
    input_raster : ndarray, shape (n_input, num_steps), or None
    num_steps : int
    record_states : bool
        Record u and v of every neuron (network order).
    merge : bool
        Merge projections that can share one Dense.
    connections : {"auto", "dense", "sparse"}
        Lava connection processes (see :func:`~hrsnn_hw.lava_backend.compile.compile_network`).

    Stock neurons have no reset: run samples as independent blocks
    (:func:`hrsnn_hw.lava_backend.run.run_lava` with ``stock=True``).
    """
    fmt = qnet.number_format
    check_network(qnet)
    _check_lava_format(fmt)
    raster = _check_raster(qnet, input_raster, num_steps)
    profiles = neuron_profiles(qnet)
    procs = [_neuron_process(qnet, p, f"{qnet.name}:profile{k}") for k, p in enumerate(profiles)]
    model_map = {proc: PyLifRefractoryModelBitAcc for proc in procs if isinstance(proc, LIFRefractory)}
    if len(procs) == 1:
        net = _wire(qnet, procs[0], raster, num_steps, "fixed", record_states, merge, fmt, "LIF", connections)
        net.model_map = model_map
        return net
    return _wire_profiles(qnet, procs, profiles, raster, num_steps, record_states, merge, fmt, model_map,
                          connections)


def _wire_profiles(qnet, procs: list, profiles: list[NeuronProfile], raster, num_steps: int,
                   record_states: bool, merge: bool, fmt: NumberFormat, model_map: dict,
                   connections: str = "auto") -> LavaNetwork:
    n, k = qnet.n_neurons, len(procs)
    kind = _connection_kind(connections, n)
    message_bits = _payload_bits(raster, fmt)
    index = [p.index for p in profiles]
    gather = SpikeGather(index=index, name=f"{qnet.name}:gather")
    scatter = SynapticScatter(index=index, name=f"{qnet.name}:scatter")
    for g, proc in enumerate(procs):
        getattr(scatter, f"a_out_{g}").connect(proc.a_in)
        proc.s_out.connect(getattr(gather, f"s_in_{g}"))
    groups = group_projections(qnet.projections, merge=merge)
    source = None
    if any(g.source == "input" for g in groups) and qnet.n_input:
        data = raster if raster is not None else np.zeros((qnet.n_input, num_steps))
        source = RingBuffer(data=np.asarray(data).astype(np.int32))
    synapses: list[tuple[object, object]] = []
    for g in groups:
        pre = source.s_out if g.source == "input" else gather.s_out
        if pre is None:
            continue
        dense = _connection(g, "fixed", kind, message_bits if g.source == "input" else 0)
        pre.connect(dense.s_in)
        dense.a_out.connect(scatter.a_in)
        synapses.append((g, dense))
    sink = RasterSink(shape=(n,), num_steps=num_steps)
    gather.s_out.connect(sink.a_in)
    model_map = {**model_map, gather: gather_model(k), scatter: scatter_model(k)}
    recorder = None
    if record_states:
        recorder = GroupStateRecorder(groups=[(p.u, p.v) for p in procs], index=index, num_steps=num_steps)
        model_map[recorder] = group_recorder_model(k)
    processes = [*procs, gather, scatter, sink, *(p for p in (source, recorder) if p is not None),
                 *(d for _, d in synapses)]
    return LavaNetwork(neurons=procs[0], source=source, synapses=synapses, spike_sink=sink,
                       state_recorder=recorder, num_steps=num_steps, fidelity="fixed",
                       model=f"LIF x {k} profiles", fmt=fmt, processes=processes, model_map=model_map,
                       connections=kind)
