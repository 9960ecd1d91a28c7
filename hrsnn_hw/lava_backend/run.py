"""Run a QuantizedNetwork on Lava's CPU simulator and return a SpikeRecord.

HeteroLIF (default): samples run one after another in a single Lava run. After each sample
one *gap step* follows at which HeteroLIF discards its input, zeroes u, v and the refractory
counter and stays silent; the gap's input column is empty, so at the next step every Dense
delivers 0 and the next sample starts from exactly the state a fresh network has. One
compile and one runtime start for the whole batch (start-up is ~0.5 s; a step ~1-2 ms).

Stock neurons (``stock=True``, the independent oracle: one stock ``LIF`` or ``LIFRefractory``
process per neuron profile, see :mod:`.stock`) have no reset, so the samples run side by side
as independent copies of the network (block-diagonal weights) for the longest sample length;
each copy's steps past its sample length are discarded.

Rasters come back in one message per recorder (:mod:`.procs.recorder`), never value by value.
"""
from __future__ import annotations

from importlib import metadata
from typing import Any

import numpy as np

from .. import __version__
from ..errors import DataError
from ..golden.compose import stack_networks
from ..golden.validate import check_inputs, check_network
from ..records import SpikeRecord
from .compile import LavaNetwork, _connection_kind, compile_network
from .session import CleanupReport, LavaSession
from .stock import build_stock, neuron_profiles

# Upper bound on the raster(s) one Lava run hands back (bytes); larger batches are split.
_RUN_BYTES = 64 * 2**20
# Largest stacked network (neurons) the stock oracle builds from copies of a network.
_STOCK_MAX_NEURONS = 2048


def _lava_version() -> str:
    try:
        return metadata.version("lava-nc")
    except metadata.PackageNotFoundError:
        return "unknown"


def execute(net: LavaNetwork, *, timeout_s: float, stop_timeout_s: float = 20.0,
            cleanup: list | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Run a compiled network for ``net.num_steps`` steps; return the spike raster (T, N) and
    the state raster (2, T, N) or ``None``. The runtime is always stopped."""
    session = LavaSession(net.neurons, net.processes, net.run_cfg(), timeout_s=timeout_s,
                          stop_timeout_s=stop_timeout_s)
    try:
        with session:
            session.run(net.num_steps)
            spikes = session.receive(net.spike_sink)
            states = session.receive(net.state_recorder) if net.state_recorder is not None else None
    finally:
        if cleanup is not None:
            cleanup.append(session.cleanup)
    return spikes, states


def _chunks(lengths: np.ndarray, n: int, record: bool, gap: int) -> list[np.ndarray]:
    """Split sample indices into runs whose returned rasters stay under the byte budget."""
    per_step = n * 4 * (1 + (2 if record else 0))
    out, cur, steps = [], [], 0
    for i, length in enumerate(lengths):
        extra = int(length) + gap
        if cur and (steps + extra) * per_step > _RUN_BYTES:
            out.append(np.array(cur))
            cur, steps = [], 0
        cur.append(i)
        steps += extra
    if cur:
        out.append(np.array(cur))
    return out


def _run_sequential(qnet, x, lengths, record, fidelity, timeout_s, samples_per_run, cleanup, connections):
    b, t_max, n = x.shape[0], x.shape[1], qnet.n_neurons
    dtype = np.int64 if fidelity == "fixed" else np.float64
    spikes = np.zeros((b, t_max, n), bool)
    states = np.zeros((2, b, t_max, n), dtype) if record else None
    todo = np.flatnonzero(lengths > 0)
    chunks = _chunks(lengths[todo], n, record, 1)
    if samples_per_run:
        chunks = [c[i:i + samples_per_run] for c in chunks for i in range(0, len(c), samples_per_run)]
    runs = 0
    for chunk in chunks:
        idx = todo[chunk]
        offsets = np.concatenate([[0], np.cumsum(lengths[idx] + 1)])
        total = int(offsets[-1] - 1)  # no gap after the last sample
        raster = np.zeros((qnet.n_input, total), np.int8 if x.dtype == bool else np.int32)
        for k, i in enumerate(idx):
            raster[:, offsets[k]:offsets[k] + lengths[i]] = x[i, :lengths[i]].T
        # gap after sample k sits at 0-based step offsets[k+1]-1, i.e. Lava time step offsets[k+1]
        resets = [int(o) for o in offsets[1:-1]]
        net = compile_network(qnet, raster, total, fidelity=fidelity, reset_steps=resets,
                              record_states=record, connections=connections)
        s, st = execute(net, timeout_s=timeout_s, cleanup=cleanup)
        runs += 1
        for k, i in enumerate(idx):
            sl = slice(offsets[k], offsets[k] + lengths[i])
            spikes[i, :lengths[i]] = s[sl] != 0
            if record:
                states[:, i, :lengths[i]] = st[:, sl]
    return spikes, states, runs


def _run_blocks(qnet, x, lengths, record, timeout_s, samples_per_run, cleanup, connections):
    b, t_max, n = x.shape[0], x.shape[1], qnet.n_neurons
    spikes = np.zeros((b, t_max, n), bool)
    states = np.zeros((2, b, t_max, n), np.int64) if record else None
    todo = np.flatnonzero(lengths > 0)
    per = samples_per_run or max(1, _RUN_BYTES // max(1, int(lengths.max(initial=1)) * n * 4 * (1 + 2 * record)))
    # the copies are block-diagonal but Lava's Dense stores them densely: cap the stacked size
    per = min(per, max(1, _STOCK_MAX_NEURONS // max(1, n)))
    runs = 0
    for start in range(0, len(todo), per):
        idx = todo[start:start + per]
        steps = int(lengths[idx].max())
        stacked = stack_networks([qnet] * len(idx), name=f"{qnet.name}x{len(idx)}")
        raster = np.concatenate([x[i, :steps].T for i in idx], axis=0) if qnet.n_input else None
        net = build_stock(stacked, raster, steps, record_states=record, connections=connections)
        s, st = execute(net, timeout_s=timeout_s, cleanup=cleanup)
        runs += 1
        for k, i in enumerate(idx):
            cols = slice(k * n, (k + 1) * n)
            spikes[i, :lengths[i]] = s[:lengths[i], cols] != 0
            if record:
                states[:, i, :lengths[i]] = st[:, :lengths[i], cols]
    return spikes, states, runs


def run_lava(qnet, input_spikes, sample_lengths=None, *, record_states: bool = False, stock: bool = False,
             fidelity: str = "fixed", timeout_s: float = 600.0, samples_per_run: int | None = None,
             cleanup: list | None = None, connections: str = "auto") -> SpikeRecord:
    """Run ``qnet`` on Lava's CPU simulator (bit-accurate by default).

    Parameters
    ----------
    qnet : QuantizedNetwork
        Checked first: unrepresentable weights or parameters raise
        :class:`~hrsnn_hw.errors.QuantizationError` before Lava starts.
    input_spikes : ndarray, shape (B, T, n_input)
        bool (or 0/1): binary spikes; other integers: graded-spike payloads (as in
        :func:`hrsnn_hw.golden.simulate`).
    sample_lengths : ndarray of int, shape (B,), optional
    record_states : bool
        Also return u and v (int64 for fixed point, float64 for the float model).
    stock : bool
        Use Lava's stock neuron processes, one per neuron profile (the independent oracle of
        rung 1; :func:`~hrsnn_hw.lava_backend.stock.build_stock`).
    fidelity : {"fixed", "float"}
        HeteroLIF's bit-accurate or float model (stock is always fixed point).
    timeout_s : float
        Longest time one Lava run may take before it is torn down.
    samples_per_run : int, optional
        Cap on samples per Lava run (default: as many as a ~64 MB raster allows).
    cleanup : list, optional
        If given, one :class:`~hrsnn_hw.lava_backend.session.CleanupReport` per Lava run is appended.
    connections : {"auto", "dense", "sparse"}
        Lava connection processes (see :func:`~hrsnn_hw.lava_backend.compile.compile_network`).

    Returns
    -------
    SpikeRecord
        provenance: backend "lava", fidelity, model ("HeteroLIF" or "LIF"), lava version, runs.

    Raises
    ------
    BackendError
        Lava failed (the original exception and traceback of a crashed process model are in the
        message's hint); the runtime has been torn down.
    """
    fmt = qnet.number_format
    check_network(qnet)
    x, lengths = check_inputs(qnet, input_spikes, sample_lengths)
    if fidelity not in ("fixed", "float"):
        raise DataError("unknown fidelity", parameter="fidelity", value=fidelity, allowed="('fixed', 'float')")
    _connection_kind(connections, qnet.n_neurons)  # refuse an unknown choice before Lava starts
    if stock:
        if fidelity != "fixed":
            raise DataError("stock LIF runs in fixed point only", parameter="fidelity", value=fidelity,
                            allowed="'fixed' when stock=True")
        spikes, states, runs = _run_blocks(qnet, x, lengths, record_states, timeout_s, samples_per_run, cleanup,
                                           connections)
    else:
        spikes, states, runs = _run_sequential(qnet, x, lengths, record_states, fidelity, timeout_s,
                                               samples_per_run, cleanup, connections)
    valid_in = np.arange(x.shape[1])[None, :, None] < lengths[:, None, None]
    prov: dict[str, Any] = {
        "backend": "lava", "fidelity": fidelity, "model": "stock LIF per neuron profile" if stock else "HeteroLIF",
        "design": qnet.name, "profile": qnet.provenance.get("profile"), "seed": qnet.provenance.get("seed"),
        "format": fmt.as_dict(), "lava_runs": runs,
        "connections": connections if stock else _connection_kind(connections, qnet.n_neurons),
        "versions": {"hrsnn_hw": __version__, "lava-nc": _lava_version(), "numpy": np.__version__},
    }
    if stock:
        profiles = neuron_profiles(qnet)
        prov["neuron_profiles"] = len(profiles)
        prov["refractory_profiles"] = sum(p.refractory_steps > 0 for p in profiles)
    return SpikeRecord(spikes=spikes, sample_lengths=lengths, dt=float(qnet.dt), provenance=prov,
                       u=None if states is None else states[0], v=None if states is None else states[1],
                       input_spikes=(x != 0) & valid_in)


__all__ = ["CleanupReport", "execute", "run_lava"]
