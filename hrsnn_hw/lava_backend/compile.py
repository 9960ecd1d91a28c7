"""QuantizedNetwork -> a network of Lava processes (HeteroLIF; stock LIF per neuron profile in :mod:`.stock`).

    RingBuffer(input raster) --Dense/Sparse per synapse group--> neurons.a_in
    neurons.s_out --Dense/Sparse per recurrent synapse group--> neurons.a_in     (one-step delay)
    neurons.s_out --> RasterSink;  neurons.u / .v --RefPort--> StateRecorder (optional)

Every Dense gets ``weight_exp``, ``num_weight_bits`` and ``sign_mode`` explicitly, and the
network is checked first (:func:`hrsnn_hw.golden.validate.check_network`), so Dense never
clips or truncates a weight. Projections that can share one matrix without changing any
result are merged (:func:`hrsnn_hw.golden.kernel.group_projections`): fewer Lava processes,
each of which is an OS process.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from lava.magma.core.run_configs import Loihi2SimCfg
from lava.proc.dense.process import Dense
from lava.proc.io.source import RingBuffer
from lava.proc.sparse.process import Sparse
from lava.utils.weightutils import SignMode

from ..errors import DataError
from ..fixedpoint import NumberFormat
from ..golden.synapses import SynapseGroup, group_projections
from ..golden.validate import check_inputs, check_network
from .procs.hetero_lif import HeteroLIF
from .procs.recorder import RasterSink, StateRecorder

SIGN_MODES = {"excitatory": SignMode.EXCITATORY, "inhibitory": SignMode.INHIBITORY, "mixed": SignMode.MIXED}
FIDELITY_TAGS = {"fixed": "fixed_pt", "float": "floating_pt"}
CONNECTIONS = ("auto", "dense", "sparse")
# Lava's Sparse (scipy CSR) is bit-exact with Dense in fixed point (same clip/truncate, int64 sums of
# binary spikes, int32 sums of graded ones; tests/test_lava_backend.py proves it) and holds
# O(synapses). Measured on the 2-core machine (benchmarks/bench_scaling.py, "lava_connections",
# 2 samples x 200 steps): N = 200 Dense 2.8 s vs Sparse 6.6 s, N = 1,000 Dense 3.7 s vs Sparse
# 3.8 s (a tie); Dense's memory grows with N^2 (400 MB per matrix at N = 10,000), so Sparse from:
SPARSE_MIN_NEURONS = 2000


@dataclass
class LavaNetwork:
    """The processes of one compiled network (not an artifact: it owns live Lava objects).

    Attributes
    ----------
    neurons : HeteroLIF or LIF
    source : RingBuffer or None
        Absent when the network has no input synapses.
    synapses : list of (SynapseGroup, Dense or Sparse)
    spike_sink : RasterSink
    state_recorder : StateRecorder or None
    num_steps : int
        Steps the recorders expect (the run must last exactly this long).
    fidelity : str
        ``"fixed"`` or ``"float"``.
    model : str
        ``"HeteroLIF"`` or ``"LIF"`` (stock).
    fmt : NumberFormat
    processes : list
        Every process of the network.
    model_map : dict
        Process (instance) -> process model class, for processes whose model Lava cannot find
        or pick by tag (handed to Lava as ``exception_proc_model_map``).
    connections : str
        ``"dense"`` (Lava ``Dense``) or ``"sparse"`` (Lava ``Sparse``).
    """

    neurons: object
    source: object | None
    synapses: list
    spike_sink: RasterSink
    state_recorder: StateRecorder | None
    num_steps: int
    fidelity: str
    model: str
    fmt: NumberFormat
    processes: list = field(default_factory=list)
    model_map: dict = field(default_factory=dict)
    connections: str = "dense"

    def run_cfg(self) -> Loihi2SimCfg:
        return Loihi2SimCfg(select_tag=FIDELITY_TAGS[self.fidelity], exception_proc_model_map=dict(self.model_map))


def _check_fidelity(fidelity: str) -> None:
    if fidelity not in FIDELITY_TAGS:
        raise DataError("unknown fidelity", parameter="fidelity", value=fidelity, allowed=str(tuple(FIDELITY_TAGS)))


def _connection_kind(connections: str, n: int) -> str:
    if connections not in CONNECTIONS:
        raise DataError("unknown connection process", parameter="connections", value=connections,
                        allowed=str(CONNECTIONS))
    if connections == "auto":
        return "sparse" if n >= SPARSE_MIN_NEURONS else "dense"
    return connections


def _payload_bits(raster: np.ndarray | None, fmt: NumberFormat) -> int:
    """Lava's ``num_message_bits`` for the input connections: 0 for binary spikes, else the signed
    width the payloads need (Dense/Sparse only test it for > 0; the profile bounds it)."""
    if raster is None or raster.dtype == bool or np.isin(raster, (0, 1)).all():
        return 0
    need = int(np.abs(raster).max()).bit_length() + 1
    return int(min(need, fmt.spike_payload_bits or need))


def _connection(group: SynapseGroup, fidelity: str, kind: str, num_message_bits: int):
    """One Lava connection process (Dense or Sparse) for a synapse group, never altering a weight."""
    cls = Sparse if kind == "sparse" else Dense
    w = group.sparse().tocsr() if kind == "sparse" else group.dense()
    if fidelity == "float":
        # Lava's float connections ignore weight_exp: scale the weights instead (exact in float64)
        return cls(weights=w.astype(np.float64) * 2.0 ** group.weight_exp, num_message_bits=num_message_bits)
    return cls(weights=w.astype(np.int32), weight_exp=int(group.weight_exp),
               num_weight_bits=int(group.num_weight_bits), sign_mode=SIGN_MODES[group.sign_mode],
               num_message_bits=num_message_bits)


def _check_raster(qnet, input_raster: np.ndarray | None, num_steps: int) -> np.ndarray | None:
    if input_raster is None:
        return None
    data = np.asarray(input_raster)
    if data.shape != (qnet.n_input, num_steps):
        raise DataError("input raster must be (n_input, num_steps)", parameter="input_raster",
                        value=f"shape {data.shape}", allowed=f"({qnet.n_input}, {num_steps})")
    if data.dtype != bool and not np.isin(data, (0, 1)).all():
        check_inputs(qnet, data.T[None], None)  # graded payloads: the target must allow them
    return data


def _wire(qnet, neurons, input_raster, num_steps: int, fidelity: str, record_states: bool,
          merge: bool, fmt: NumberFormat, model: str, connections: str) -> LavaNetwork:
    n = qnet.n_neurons
    groups = group_projections(qnet.projections, merge=merge)
    kind = _connection_kind(connections, n)
    message_bits = _payload_bits(input_raster, fmt)
    source = None
    synapses = []
    if any(g.source == "input" for g in groups) and qnet.n_input:
        raster = input_raster if input_raster is not None else np.zeros((qnet.n_input, num_steps))
        source = RingBuffer(data=np.asarray(raster).astype(np.int32 if fidelity == "fixed" else np.float64))
    for g in groups:
        pre = source.s_out if g.source == "input" else neurons.s_out
        if pre is None:
            continue
        conn = _connection(g, fidelity, kind, message_bits if g.source == "input" else 0)
        pre.connect(conn.s_in)
        conn.a_out.connect(neurons.a_in)
        synapses.append((g, conn))
    sink = RasterSink(shape=(n,), num_steps=num_steps)
    neurons.s_out.connect(sink.a_in)
    recorder = StateRecorder(u=neurons.u, v=neurons.v, num_steps=num_steps) if record_states else None
    procs = [p for p in (neurons, source, sink, recorder) if p is not None] + [d for _, d in synapses]
    return LavaNetwork(neurons=neurons, source=source, synapses=synapses, spike_sink=sink,
                       state_recorder=recorder, num_steps=num_steps, fidelity=fidelity, model=model,
                       fmt=fmt, processes=procs, connections=kind)


def compile_network(qnet, input_raster: np.ndarray | None, num_steps: int, *, fidelity: str = "fixed",
                    reset_steps: Sequence[int] = (), record_states: bool = False,
                    merge: bool = True, connections: str = "auto") -> LavaNetwork:
    """Build the HeteroLIF network of ``qnet``.

    Parameters
    ----------
    qnet : QuantizedNetwork
        Checked with :func:`~hrsnn_hw.golden.validate.check_network` first.
    input_raster : ndarray, shape (n_input, num_steps), or None
        Replayed by a RingBuffer (column t is sent at Lava step t + 1 and reaches u one step later).
        bool or 0/1: binary spikes; other integers: graded-spike payloads (the input connections
        then get ``num_message_bits > 0``; the network's format must allow graded spikes).
    num_steps : int
        Length of the run.
    fidelity : {"fixed", "float"}
        Bit-accurate integer model or its float twin.
    reset_steps : sequence of int
        Lava time steps (1-based) at which HeteroLIF resets its state and stays silent.
    record_states : bool
        Add a StateRecorder for u and v.
    merge : bool
        Merge projections that can share one Dense.
    connections : {"auto", "dense", "sparse"}
        Lava ``Dense`` or ``Sparse`` processes for the synapses; ``"auto"``: Sparse from
        :data:`SPARSE_MIN_NEURONS` neurons on (both are bit-exact, Sparse holds O(synapses)).
    """
    _check_fidelity(fidelity)
    fmt = qnet.number_format
    check_network(qnet)
    raster = _check_raster(qnet, input_raster, num_steps)
    n = qnet.n_neurons
    neurons = HeteroLIF(shape=(n,), du=qnet.du, dv=qnet.dv, vth=qnet.vth, bias_mant=qnet.bias_mant,
                        bias_exp=qnet.bias_exp, refractory_steps=qnet.refractory_steps,
                        number_format=fmt.as_dict(), reset_steps=reset_steps, name=f"{qnet.name}:HeteroLIF")
    return _wire(qnet, neurons, raster, num_steps, fidelity, record_states, merge, fmt, "HeteroLIF", connections)
