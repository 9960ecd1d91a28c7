"""Operation counts of a run: what the hardware would do, event by event (numpy only).

Definitions (NeuroBench-compatible where NeuroBench has one):

* **synaptic ops (effective)**: every spike (recurrent or input) times the number of stored
  synapses it reaches (nonzero weight mantissas). Inputs are binary, so these are
  accumulates (NeuroBench "Effective_ACs"). Every spike of the run counts, the last step's
  included: the hardware delivers it even though the one-step delay means no state of this
  run changes.
* **dense ops**: every weight entry, zero or not, every valid step: ``N x (N + M)`` per
  step (NeuroBench "Dense"). **connected ops**: every stored synapse every valid step
  (a clocked machine that skips only absent synapses).
* **activation sparsity**: 1 - spikes / (neurons x valid steps); **connection sparsity**:
  1 - connected pairs / (N x (N + M)) (NeuroBench).
* **neuron updates**: N per valid step, split into *active* and *idle*. With ``u`` and
  ``v`` in the record, a neuron is active at step t when ``u != 0`` or ``v != 0`` or it
  spiked. Without them, active = it spiked at t or received a synaptic event at t (some
  source connected to it spiked at t - 1: the one-step delay of the shared step
  semantics). The latter undercounts neurons whose state is still decaying after an input.
* **messages**: one per spike per destination core (every core holding at least one of its
  targets, its own core included: as on Loihi and in SANA-FE every delivery goes through the
  core's output axon and the router). ``messages_off_core`` excludes the own core. Inputs
  entering from the I/O port send one message per destination core.
* **hops**: each message travels X-then-Y on the mesh from the source tile to the
  destination tile; east-west and north-south hops are counted apart (their energies differ).
* **learning updates**: 0 for frozen inference. For each projection named in
  ``learning_projections``: each presynaptic spike updates the source's synapses in that
  projection, each postsynaptic spike the target's (pair-based STDP).

Per inference = per sample (valid steps only); per step = summed over samples / n_samples
(so the per-step series adds up to the mean per inference); per core = mean per inference
attributed to a core (synaptic ops, active/idle updates and learning to the core of the
target neuron; spikes, messages and hops to the core of the source; inputs from the I/O
port to no core).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from .errors import DataError
from .mapping.connectivity import connectivity
from .mapping.placement import Placement
from .fixedpoint import QuantizedNetwork
from .records import SpikeRecord
from .arrays import frozen_array as _frozen

#: Per-sample count names, in :attr:`OpCounts.per_sample` order.
EVENTS = ("steps", "spikes", "input_spikes", "synaptic_ops", "synaptic_ops_recurrent", "synaptic_ops_input",
          "synaptic_ops_dense", "synaptic_ops_connected", "neuron_updates_active", "neuron_updates_idle",
          "messages", "input_messages", "messages_off_core", "hops_east_west", "hops_north_south",
          "learning_updates")
STEP_EVENTS = ("spikes", "input_spikes", "synaptic_ops", "neuron_updates_active", "messages",
               "hops_east_west", "hops_north_south")
CORE_EVENTS = ("synaptic_ops", "neuron_updates_active", "neuron_updates_idle", "spikes", "messages",
               "hops_east_west", "hops_north_south", "learning_updates", "neurons")
ACTIVE_FROM_STATE = "u != 0 or v != 0 or spiked (recorded state)"
ACTIVE_FROM_INPUT = "spiked, or received a synaptic event (a connected source spiked the step before)"
# Rows of (samples x steps) processed per chunk: bounds memory to ~tens of MB for any batch size.
_CHUNK_ELEMENTS = 1 << 22


@dataclass(frozen=True)
class OpCounts:
    """Counted events of a batch of inferences.

    Attributes
    ----------
    design : str
        Design name (from the network).
    n_samples, n_neurons, n_inputs : int
        Batch size, recurrent neurons, input channels.
    dt : float
        Step length, seconds.
    per_sample : dict of str to ndarray of int64, shape (n_samples,)
        Every name in :data:`EVENTS`, per inference.
    per_step : dict of str to ndarray of float, shape (n_steps,)
        :data:`STEP_EVENTS`, summed over samples / n_samples.
    per_core : dict of str to ndarray of float, shape (n_cores,)
        :data:`CORE_EVENTS`, mean per inference (empty arrays without a placement;
        ``neurons`` is the number of neurons on each core).
    n_cores, n_neuron_cores, n_chips, cores_per_chip : int
        From the placement (0 without one).
    placement_profile : str
        Profile the placement was made for ("" without one).
    n_synapses : int
        Stored synapses (nonzero mantissas).
    activation_sparsity, connection_sparsity : float
        NeuroBench definitions (see module docstring).
    active_definition : str
        Which definition of an active neuron was used.
    notes : tuple of str
        What was assumed or left out.
    provenance : dict
        The record's provenance and the qnet's name.
    """

    design: str
    n_samples: int
    n_neurons: int
    n_inputs: int
    dt: float
    per_sample: Mapping[str, np.ndarray]
    per_step: Mapping[str, np.ndarray]
    per_core: Mapping[str, np.ndarray]
    n_cores: int
    n_neuron_cores: int
    n_chips: int
    cores_per_chip: int
    placement_profile: str
    n_synapses: int
    activation_sparsity: float
    connection_sparsity: float
    active_definition: str
    notes: tuple[str, ...] = ()
    provenance: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("per_sample", "per_step", "per_core"):
            table = {k: _frozen(v) for k, v in getattr(self, name).items()}
            object.__setattr__(self, name, table)
        object.__setattr__(self, "notes", tuple(self.notes))

    def mean(self, event: str) -> float:
        """Mean count of ``event`` per inference."""
        if event not in self.per_sample:
            raise KeyError(f"unknown event {event!r}; known: {sorted(self.per_sample)}")
        arr = self.per_sample[event]
        return float(arr.mean()) if arr.size else 0.0

    def means(self) -> dict[str, float]:
        """Every event's mean per inference."""
        return {k: self.mean(k) for k in self.per_sample}

    def to_dict(self) -> dict:
        return {"design": self.design, "n_samples": self.n_samples, "n_neurons": self.n_neurons,
                "n_inputs": self.n_inputs, "dt": self.dt, "mean_per_inference": self.means(),
                "per_step": {k: v.tolist() for k, v in self.per_step.items()},
                "per_core": {k: v.tolist() for k, v in self.per_core.items()},
                "n_cores": self.n_cores, "n_neuron_cores": self.n_neuron_cores, "n_chips": self.n_chips,
                "placement_profile": self.placement_profile, "n_synapses": self.n_synapses,
                "activation_sparsity": self.activation_sparsity,
                "connection_sparsity": self.connection_sparsity,
                "active_definition": self.active_definition, "notes": list(self.notes)}


def _routes(placement: Placement | None, connected: np.ndarray, n: int, n_cores: int):
    """Per source: messages per spike, off-core messages, east-west and north-south hops."""
    n_src = connected.shape[1]
    if placement is None:
        zero = np.zeros(n_src, dtype=np.int64)
        return zero, zero, zero, zero, np.zeros((n_src, 0), dtype=np.int64)
    onehot = np.zeros((n, n_cores), dtype=np.int32)
    onehot[np.arange(n), placement.neuron_core] = 1
    syn_to_core = connected.T.astype(np.int32) @ onehot            # (N+M, C) synapses into core
    dest = syn_to_core > 0
    routes = dest.sum(axis=1).astype(np.int64)
    src_core = placement.source_core()
    own = np.zeros(n_src, dtype=np.int64)
    on_core = src_core >= 0
    own[on_core] = dest[np.nonzero(on_core)[0], src_core[on_core]]
    off = routes - own
    src_xy = placement.source_xy()
    dx = np.abs(src_xy[:, None, 0] - placement.core_xy[None, :n_cores, 0])
    dy = np.abs(src_xy[:, None, 1] - placement.core_xy[None, :n_cores, 1])
    hops_ew = (dx * dest).sum(axis=1).astype(np.int64)
    hops_ns = (dy * dest).sum(axis=1).astype(np.int64)
    return routes, off, hops_ew, hops_ns, syn_to_core


def _received(pre: np.ndarray, conn_t: np.ndarray) -> np.ndarray:
    """(rows, N) bool: which neurons receive at least one synaptic event from ``pre`` (rows, N+M)."""
    out = np.zeros((pre.shape[0], conn_t.shape[1]), dtype=bool)
    rows = np.nonzero(pre.any(axis=1))[0]
    if rows.size:
        # float32 sums of 0/1 are exact far beyond any fan-in a core allows (2**24)
        out[rows] = (pre[rows].astype(np.float32) @ conn_t) > 0
    return out


def count_ops(record: SpikeRecord, qnet: QuantizedNetwork, placement: Placement | None = None, *,
              input_spikes: np.ndarray | None = None,
              learning_projections: Sequence[str] = ()) -> OpCounts:
    """Count the events of every inference in ``record`` on ``qnet`` (mapped by ``placement``).

    Parameters
    ----------
    record : SpikeRecord
        Spikes of a batch (golden, Lava or any backend).
    qnet : QuantizedNetwork
        The network that produced them (its nonzero mantissas are the synapses).
    placement : Placement, optional
        Core of each neuron; without it no messages, hops or per-core counts.
    input_spikes : ndarray of bool, shape (n_samples, n_steps, n_inputs), optional
        The input raster, when the record does not carry it.
    learning_projections : sequence of str
        Projections whose synapses learn during the run (empty for frozen inference).

    Returns
    -------
    OpCounts
    """
    n, m = qnet.n_neurons, qnet.n_input
    if record.n_neurons != n:
        raise DataError("the record and the network have different neuron counts", parameter="record.spikes",
                        value=f"{record.n_neurons} neurons", allowed=f"{n} (network {qnet.name!r})")
    notes: list[str] = []
    x_all = input_spikes if input_spikes is not None else record.input_spikes
    if x_all is None:
        notes.append("the record has no input raster: input spikes, their synaptic ops and messages are not counted")
    else:
        x_all = np.asarray(x_all, dtype=bool)
        if x_all.shape != (record.n_samples, record.n_steps, m):
            raise DataError("input raster has the wrong shape", parameter="input_spikes", value=x_all.shape,
                            allowed=f"{(record.n_samples, record.n_steps, m)}")
    if placement is not None and (placement.n_neurons != n or placement.n_inputs != m):
        raise DataError("the placement was made for another network", parameter="placement",
                        value=f"{placement.n_neurons} neurons, {placement.n_inputs} inputs",
                        allowed=f"{n} neurons, {m} inputs")
    known = {p.name for p in qnet.projections}
    for name in learning_projections:
        if name not in known:
            raise DataError("unknown learning projection", parameter="learning_projections", value=name,
                            allowed=f"one of {sorted(known)}")

    conn = connectivity(qnet)
    fan_out = conn.fan_out                                             # (N+M,)
    conn_t = conn.connected.T.tocsr().astype(np.float32)                # (N+M, N), sparse
    n_cores = placement.n_cores if placement is not None else 0
    routes, off_routes, hops_ew, hops_ns, syn_to_core = _routes(placement, conn.connected, n, n_cores)
    plastic_out = np.zeros(n + m, dtype=np.int64)
    plastic_in = np.zeros(n, dtype=np.int64)
    for proj in qnet.projections:
        if proj.name in learning_projections:
            plastic_in += proj.fan_in()
            cols = proj.fan_out()
            if proj.source == "recurrent":
                plastic_out[:n] += cols
            else:
                plastic_out[n:] += cols
    use_state = record.u is not None and record.v is not None
    active_definition = ACTIVE_FROM_STATE if use_state else ACTIVE_FROM_INPUT

    b_total, t_total = record.n_samples, record.n_steps
    lengths = record.sample_lengths
    per_sample = {k: np.zeros(b_total, dtype=np.int64) for k in EVENTS}
    per_step = {k: np.zeros(t_total, dtype=np.float64) for k in STEP_EVENTS}
    src_total = np.zeros(n + m, dtype=np.int64)        # spikes per source over the batch
    active_total = np.zeros(n, dtype=np.int64)         # active updates per neuron over the batch
    chunk = max(1, _CHUNK_ELEMENTS // max(1, t_total * (n + m)))
    steps_idx = np.arange(t_total)
    for b0 in range(0, b_total, chunk):
        b1 = min(b_total, b0 + chunk)
        valid = steps_idx[None, :] < lengths[b0:b1, None]                       # (Bc, T)
        s = record.spikes[b0:b1] & valid[:, :, None]
        x = (x_all[b0:b1] & valid[:, :, None]) if x_all is not None else np.zeros((b1 - b0, t_total, m), bool)
        s_cnt = s.sum(axis=1, dtype=np.int64)                                    # (Bc, N)
        x_cnt = x.sum(axis=1, dtype=np.int64)                                    # (Bc, M)
        src_cnt = np.concatenate([s_cnt, x_cnt], axis=1)                         # (Bc, N+M)
        src_total += src_cnt.sum(axis=0)
        ps = per_sample
        sl = slice(b0, b1)
        ps["steps"][sl] = lengths[b0:b1]
        ps["spikes"][sl] = s_cnt.sum(axis=1)
        ps["input_spikes"][sl] = x_cnt.sum(axis=1)
        ps["synaptic_ops_recurrent"][sl] = s_cnt @ fan_out[:n]
        ps["synaptic_ops_input"][sl] = x_cnt @ fan_out[n:]
        ps["messages"][sl] = src_cnt @ routes
        ps["input_messages"][sl] = x_cnt @ routes[n:]
        ps["messages_off_core"][sl] = src_cnt @ off_routes
        ps["hops_east_west"][sl] = src_cnt @ hops_ew
        ps["hops_north_south"][sl] = src_cnt @ hops_ns
        ps["learning_updates"][sl] = src_cnt @ plastic_out + s_cnt @ plastic_in

        if use_state:
            active = (np.asarray(record.u[b0:b1]) != 0) | (np.asarray(record.v[b0:b1]) != 0) | s
            active &= valid[:, :, None]
        else:
            pre = np.concatenate([s, x], axis=2)[:, :-1].reshape(-1, n + m)      # sources at t-1
            active = s.copy()
            if t_total > 1:
                rec = _received(pre, conn_t).reshape(b1 - b0, t_total - 1, n)
                active[:, 1:] |= rec & valid[:, 1:, None]
        act_cnt = active.sum(axis=1, dtype=np.int64)                             # (Bc, N)
        active_total += act_cnt.sum(axis=0)
        ps["neuron_updates_active"][sl] = act_cnt.sum(axis=1)

        s_step = s.sum(axis=0, dtype=np.int64)                                   # (T, N)
        x_step = x.sum(axis=0, dtype=np.int64)                                   # (T, M)
        per_step["spikes"] += s_step.sum(axis=1)
        per_step["input_spikes"] += x_step.sum(axis=1)
        per_step["synaptic_ops"] += s_step @ fan_out[:n] + x_step @ fan_out[n:]
        per_step["neuron_updates_active"] += active.sum(axis=(0, 2))
        per_step["messages"] += s_step @ routes[:n] + x_step @ routes[n:]
        per_step["hops_east_west"] += s_step @ hops_ew[:n] + x_step @ hops_ew[n:]
        per_step["hops_north_south"] += s_step @ hops_ns[:n] + x_step @ hops_ns[n:]

    ps = per_sample
    ps["synaptic_ops"] = ps["synaptic_ops_recurrent"] + ps["synaptic_ops_input"]
    ps["synaptic_ops_dense"] = lengths * (n * (n + m))
    ps["synaptic_ops_connected"] = lengths * conn.n_synapses
    ps["neuron_updates_idle"] = lengths * n - ps["neuron_updates_active"]
    scale = 1.0 / b_total if b_total else 0.0
    per_step = {k: v * scale for k, v in per_step.items()}

    per_core: dict[str, np.ndarray] = {k: np.zeros(n_cores) for k in CORE_EVENTS}
    if placement is not None:
        core = placement.neuron_core
        src_core = placement.source_core()
        on_core = src_core >= 0
        per_core["neurons"] = np.bincount(core, minlength=n_cores).astype(np.float64)
        per_core["synaptic_ops"] = (src_total @ syn_to_core) * scale
        per_core["neuron_updates_active"] = np.bincount(core, weights=active_total, minlength=n_cores) * scale
        per_core["neuron_updates_idle"] = per_core["neurons"] * lengths.sum() * scale - per_core["neuron_updates_active"]
        per_core["spikes"] = np.bincount(core, weights=src_total[:n], minlength=n_cores) * scale
        for name, per_src in (("messages", routes), ("hops_east_west", hops_ew), ("hops_north_south", hops_ns)):
            per_core[name] = np.bincount(src_core[on_core], weights=(src_total * per_src)[on_core],
                                         minlength=n_cores) * scale
        learn_post = np.bincount(core, weights=src_total[:n] * plastic_in, minlength=n_cores)
        learn_pre = np.zeros(n_cores)
        for proj in qnet.projections:
            if proj.name in learning_projections:
                post, pre, _ = proj.synapses()  # O(synapses): each synapse updates on its target's core
                pre_counts = src_total[:n] if proj.source == "recurrent" else src_total[n:]
                learn_pre += np.bincount(core[post], weights=pre_counts[pre], minlength=n_cores)
        per_core["learning_updates"] = (learn_post + learn_pre) * scale
        if placement.inputs == "io" and m:
            notes.append("messages and hops of inputs from the I/O port belong to no core")
    else:
        notes.append("no placement: messages, hops and per-core counts are not available")

    valid_neuron_steps = int(lengths.sum()) * n
    total_spikes = int(per_sample["spikes"].sum())
    activation_sparsity = 1.0 - total_spikes / valid_neuron_steps if valid_neuron_steps else 1.0
    entries = n * (n + m)
    connection_sparsity = 1.0 - int(conn.connected.sum()) / entries if entries else 1.0
    return OpCounts(design=qnet.name, n_samples=b_total, n_neurons=n, n_inputs=m, dt=float(record.dt),
                    per_sample=per_sample, per_step=per_step, per_core=per_core, n_cores=n_cores,
                    n_neuron_cores=int(placement.neuron_core.max()) + 1 if placement is not None and n else 0,
                    n_chips=placement.n_chips if placement is not None else 0,
                    cores_per_chip=placement.cores_per_chip if placement is not None else 0,
                    placement_profile=placement.profile if placement is not None else "",
                    n_synapses=conn.n_synapses, activation_sparsity=float(activation_sparsity),
                    connection_sparsity=float(connection_sparsity), active_definition=active_definition,
                    notes=tuple(notes), provenance={"record": dict(record.provenance), "qnet": qnet.name})
