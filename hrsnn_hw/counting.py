"""Operation counts of a run: what the hardware would do, event by event (numpy + scipy.sparse).

Definitions (NeuroBench's names where NeuroBench has one; SANA-FE's where it has one):

* **synaptic ops** (NeuroBench "effective synaptic operations"; accumulates, inputs are
  binary): every spike (recurrent or input) times the number of stored synapses it reaches
  (nonzero weight mantissas). Every spike of a valid step counts, the last step's included.
* **dense ops**: every weight entry, zero or not, every valid step, ``N x (N + M)``
  (NeuroBench "Dense"); **connected ops**: every stored synapse every valid step.
* **activation sparsity**: 1 - spikes / (neurons x valid steps); **connection sparsity**:
  1 - connected pairs / (N x (N + M)) (NeuroBench).
* **neuron updates**: N per valid step, split into *active* and *idle*. A neuron is
  **active** at step t (SANA-FE's rule for its Loihi LIF soma, ``LoihiLifModel::update``:
  the soma is "updated" when the potential before the step is nonzero, a synaptic current
  arrives, the bias is nonzero, and a spike counts as an update) when ``v[t-1] != 0``
  (``v[-1] = 0``), or a synaptic event reaches it at t (a connected source spiked at t - 1:
  the one-step delay of the shared step semantics), or its bias is nonzero, or it spikes at
  t. ``v`` comes from an ``active`` raster the simulator reported, or from the record's
  states; without either only the last three are known and the count is a lower bound (the
  definition string says which was used).
* **messages**: one per spike per destination core (every core holding at least one of its
  targets, its own included: as on Loihi and in SANA-FE every delivery goes through the
  core's output axon and the router). ``messages_off_core`` excludes the own core. Inputs
  entering from the I/O port send one message per destination core.
* **hops**: each message travels X-then-Y on the mesh from the source tile to the
  destination tile; east-west and north-south hops are counted apart.
* **learning updates**: 0 for frozen inference. For each projection named in
  ``learning_projections``: each presynaptic spike updates the source's synapses in that
  projection, each postsynaptic spike the target's (pair-based STDP).

Per inference = per sample (valid steps only); per step = summed over samples / n_samples;
per core = mean per inference attributed to a core (synaptic ops, active/idle updates,
messages received and learning to the core of the target; spikes, messages sent and hops
to the core of the source; inputs from the I/O port to no core). ``core_steps`` holds the
per (sample, step, core) counts the compute-bound time model needs (the busiest core of
every step). The cost is O(events + synapses + samples x steps x cores): no N x N product.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import weakref
from typing import Any, Mapping, Sequence

import numpy as np
import scipy.sparse

from . import artifacts
from .arrays import frozen_array as _frozen
from .errors import DataError
from .mapping.placement import Placement
from .mapping.synapses import projection_counts, source_target_matrix, synapse_pairs
from .records import SpikeRecord

#: Per-sample count names, in :attr:`OpCounts.per_sample` order.
EVENTS = ("steps", "spikes", "input_spikes", "synaptic_ops", "synaptic_ops_recurrent", "synaptic_ops_input",
          "synaptic_ops_dense", "synaptic_ops_connected", "neuron_updates_active", "neuron_updates_idle",
          "messages", "input_messages", "messages_off_core", "hops_east_west", "hops_north_south",
          "learning_updates")
STEP_EVENTS = ("spikes", "input_spikes", "synaptic_ops", "neuron_updates_active", "messages",
               "hops_east_west", "hops_north_south")
CORE_EVENTS = ("synaptic_ops", "neuron_updates_active", "neuron_updates_idle", "spikes", "messages",
               "messages_in", "hops_east_west", "hops_north_south", "learning_updates", "neurons")
#: Per (sample, step, core) tables in :attr:`OpCounts.core_steps` (int32, shape (B, T, C)).
CORE_STEP_EVENTS = ("active", "spikes", "messages_out", "messages_in", "synaptic_ops_in")
ACTIVE_SANAFE = "SANA-FE rule: v[t-1] != 0, or a synaptic event arrives, or bias != 0, or a spike"
ACTIVE_REPORTED = "SANA-FE rule, as reported by the simulator"
ACTIVE_LOWER_BOUND = ("lower bound (no state recorded): a synaptic event arrives, or bias != 0, or a spike; "
                      "neurons whose v is still decaying are counted idle")
# Elements of a (samples x steps x sources) chunk: bounds working memory to tens of MB.
_CHUNK_ELEMENTS = 1 << 23


@artifacts.artifact("hrsnn_hw.OpCounts", 1)
@dataclass(frozen=True)
class OpCounts:
    """Counted events of a batch of inferences (save/load with ``.save(path)`` / ``OpCounts.load``).

    Attributes
    ----------
    design : str
        Design name (from the network).
    n_samples, n_neurons, n_inputs : int
        Batch size, recurrent neurons, input channels.
    dt : float
        Step length of the network, seconds.
    per_sample : dict of str to ndarray of int64, shape (n_samples,)
        Every name in :data:`EVENTS`, per inference.
    per_step : dict of str to ndarray of float, shape (n_steps,)
        :data:`STEP_EVENTS`, summed over samples / n_samples.
    per_core : dict of str to ndarray of float, shape (n_cores,)
        :data:`CORE_EVENTS`, mean per inference (empty arrays without a placement;
        ``neurons`` is the number of neurons on each core).
    core_steps : dict of str to ndarray of int32, shape (n_samples, n_steps, n_cores)
        :data:`CORE_STEP_EVENTS` of every valid step (zero in padding; empty without a placement
        or when not asked for).
    n_cores, n_tiles, n_chips, cores_per_chip : int
        From the placement (0 without one).
    placement_profile : str
        Profile the placement was made for ("" without one).
    n_synapses : int
        Stored synapses (nonzero mantissas).
    activation_sparsity, connection_sparsity : float
        NeuroBench definitions (see module docstring).
    active_definition : str
        Which definition of an active neuron was used (:data:`ACTIVE_SANAFE`,
        :data:`ACTIVE_REPORTED` or :data:`ACTIVE_LOWER_BOUND`).
    notes : tuple of str
        What was assumed or left out.
    provenance : dict
        The record's provenance and the network's name.
    """

    design: str
    n_samples: int
    n_neurons: int
    n_inputs: int
    dt: float
    per_sample: Mapping[str, np.ndarray]
    per_step: Mapping[str, np.ndarray]
    per_core: Mapping[str, np.ndarray]
    core_steps: Mapping[str, np.ndarray]
    n_cores: int
    n_tiles: int
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
        for name in ("per_sample", "per_step", "per_core", "core_steps"):
            table = {k: _frozen(v) for k, v in getattr(self, name).items()}
            object.__setattr__(self, name, table)
        object.__setattr__(self, "notes", tuple(self.notes))
        for name in ("n_samples", "n_neurons", "n_inputs", "n_cores", "n_tiles", "n_chips", "cores_per_chip",
                     "n_synapses"):
            object.__setattr__(self, name, int(getattr(self, name)))
        missing = sorted(set(EVENTS) - set(self.per_sample))
        if missing:
            raise ValueError(f"per_sample lacks {missing}")

    def mean(self, event: str) -> float:
        """Mean count of ``event`` per inference."""
        if event not in self.per_sample:
            raise KeyError(f"unknown event {event!r}; known: {sorted(self.per_sample)}")
        arr = self.per_sample[event]
        return float(arr.mean()) if arr.size else 0.0

    def means(self) -> dict[str, float]:
        """Every event's mean per inference."""
        return {k: self.mean(k) for k in self.per_sample}

    def neurobench(self) -> dict[str, float]:
        """The NeuroBench-named figures per inference (effective ACs, dense ops, sparsities) plus
        neuron updates, messages and hops."""
        return {"effective_synaptic_ops": self.mean("synaptic_ops"), "effective_macs": 0.0,
                "dense_ops": self.mean("synaptic_ops_dense"), "activation_sparsity": self.activation_sparsity,
                "connection_sparsity": self.connection_sparsity, "spikes": self.mean("spikes"),
                "neuron_updates": self.mean("neuron_updates_active") + self.mean("neuron_updates_idle"),
                "neuron_updates_active": self.mean("neuron_updates_active"), "messages": self.mean("messages"),
                "hops": self.mean("hops_east_west") + self.mean("hops_north_south")}

    def to_dict(self) -> dict:
        return {"design": self.design, "n_samples": self.n_samples, "n_neurons": self.n_neurons,
                "n_inputs": self.n_inputs, "dt": self.dt, "mean_per_inference": self.means(),
                "neurobench": self.neurobench(),
                "per_step": {k: v.tolist() for k, v in self.per_step.items()},
                "per_core": {k: v.tolist() for k, v in self.per_core.items()},
                "n_cores": self.n_cores, "n_tiles": self.n_tiles, "n_chips": self.n_chips,
                "placement_profile": self.placement_profile, "n_synapses": self.n_synapses,
                "activation_sparsity": self.activation_sparsity, "connection_sparsity": self.connection_sparsity,
                "active_definition": self.active_definition, "notes": list(self.notes)}


@dataclass(frozen=True)
class _Routes:
    """Per source: destination cores (sparse), messages, off-core messages, hops; per source core."""

    dest: scipy.sparse.csr_matrix          # (N+M, C) 1 where the source reaches the core
    syn_to_core: scipy.sparse.csr_matrix   # (N+M, C) synapses from the source into the core
    out_by_core: scipy.sparse.csr_matrix   # (N+M, C) messages per spike at the source's core
    routes: np.ndarray
    off: np.ndarray
    hops_ew: np.ndarray
    hops_ns: np.ndarray


def _routes(placement: Placement | None, conn: scipy.sparse.csr_matrix, n: int) -> _Routes | None:
    if placement is None:
        return None
    n_src, n_cores = conn.shape[0], placement.n_cores
    onehot = scipy.sparse.csr_matrix((np.ones(n, np.int32), (np.arange(n), placement.neuron_core)),
                                     shape=(n, n_cores))
    syn_to_core = (conn @ onehot).tocsr()
    dest = syn_to_core.copy()
    dest.data = np.ones_like(dest.data)
    routes = np.asarray(dest.sum(axis=1)).ravel().astype(np.int64)
    src_core = placement.source_core()
    on_core = src_core >= 0
    own = np.zeros(n_src, np.int64)
    idx = np.nonzero(on_core)[0]
    if idx.size:
        own[idx] = np.asarray(dest[idx, src_core[idx]]).ravel()
    coo = dest.tocoo()
    src_xy = placement.source_xy()
    hops_ew = np.bincount(coo.row, weights=np.abs(src_xy[coo.row, 0] - placement.core_xy[coo.col, 0]),
                          minlength=n_src).astype(np.int64)
    hops_ns = np.bincount(coo.row, weights=np.abs(src_xy[coo.row, 1] - placement.core_xy[coo.col, 1]),
                          minlength=n_src).astype(np.int64)
    out_by_core = scipy.sparse.csr_matrix((routes[idx], (idx, src_core[idx])), shape=(n_src, n_cores))
    return _Routes(dest=dest.astype(np.int32), syn_to_core=syn_to_core.astype(np.int32), out_by_core=out_by_core,
                   routes=routes, off=routes - own, hops_ew=hops_ew, hops_ns=hops_ns)


@dataclass(frozen=True)
class _Events:
    """Every spike of a batch's valid steps as one sparse (sample x step, source) 0/1 matrix."""

    matrix: scipy.sparse.csr_matrix         # (B*T, N+M), float32
    n_steps: int

    @property
    def n_samples(self) -> int:
        return self.matrix.shape[0] // max(1, self.n_steps)


# Records are frozen: their event matrix is built once per (record, input raster) and reused by
# every profile a table prices them on.
_EVENTS: dict[tuple[int, int], tuple[weakref.ref, Any, _Events]] = {}


def _valid_mask(lengths: np.ndarray, t: int) -> np.ndarray:
    return np.arange(t)[None, :] < lengths[:, None]


def _events(record: SpikeRecord, x: np.ndarray | None, n_inputs: int) -> _Events:
    key = (id(record), id(x))
    hit = _EVENTS.get(key)
    if hit is not None and hit[0]() is record and hit[1] is x:
        return hit[2]
    b, t, n = record.spikes.shape
    valid = _valid_mask(record.sample_lengths, t)
    b_s, t_s, i_s = np.nonzero(record.spikes & valid[:, :, None])
    rows, cols = [b_s * t + t_s], [i_s]
    if x is not None:
        b_x, t_x, i_x = np.nonzero(x & valid[:, :, None])
        rows.append(b_x * t + t_x)
        cols.append(i_x + n)
    r, c = np.concatenate(rows), np.concatenate(cols)
    ev = _Events(scipy.sparse.csr_matrix((np.ones(r.size, np.float32), (r, c)), shape=(b * t, n + n_inputs)), t)
    try:
        _EVENTS[key] = (weakref.ref(record, lambda _, k=key: _EVENTS.pop(k, None)), x, ev)
    except TypeError:
        pass
    return ev


def _received(ev: scipy.sparse.csr_matrix, conn_f: scipy.sparse.csr_matrix, b: int, t: int) -> np.ndarray:
    """(B, T, N) bool: a synaptic event reaches the neuron at step t (a connected source spiked at t - 1).

    Cost O(synaptic ops): the sparse product of the events with the synapse matrix.
    """
    n = conn_f.shape[1]
    received = np.zeros((b, t, n), bool)
    rows_per_block = max(t, (_CHUNK_ELEMENTS // max(1, n)) // t * t)
    for r0 in range(0, b * t, rows_per_block):
        arrivals = (ev[r0:r0 + rows_per_block] @ conn_f).tocoo()
        if arrivals.nnz:
            b_r, t_r = np.divmod(arrivals.row + r0, t)
            keep = t_r + 1 < t
            received[b_r[keep], t_r[keep] + 1, arrivals.col[keep]] = True
    return received


def _inputs(record: SpikeRecord, qnet, input_spikes: np.ndarray | None) -> np.ndarray | None:
    x = input_spikes if input_spikes is not None else record.input_spikes
    if x is None:
        return None
    x = np.asarray(x)
    return x if x.dtype == bool else x != 0


def active_neurons(record: SpikeRecord, qnet, input_spikes: np.ndarray | None = None) -> tuple[np.ndarray, str]:
    """The active rule for every (sample, step, neuron) of ``record``, and which definition it is.

    With ``v`` in the record: SANA-FE's rule (:data:`ACTIVE_SANAFE`); without: its lower
    bound (:data:`ACTIVE_LOWER_BOUND`). Zero in padding steps. Computed once per run, it
    can be handed to :func:`count_ops` for every profile (``active=``).
    """
    b, t, n = record.spikes.shape
    x = _inputs(record, qnet, input_spikes)
    ev = _events(record, x, qnet.n_input)
    conn_f = source_target_matrix(qnet).astype(np.float32)
    bias_nonzero = np.asarray(qnet.bias_mant) != 0
    valid = _valid_mask(record.sample_lengths, t)[:, :, None]
    active = sanafe_active(record.spikes & valid, _received(ev.matrix, conn_f, b, t), bias_nonzero,
                           None if record.v is None else np.asarray(record.v))
    active &= valid
    return active, (ACTIVE_SANAFE if record.v is not None else ACTIVE_LOWER_BOUND)


def sanafe_active(spikes: np.ndarray, received: np.ndarray, bias_nonzero: np.ndarray,
                  v: np.ndarray | None) -> np.ndarray:
    """SANA-FE's active rule on (B, T, N) arrays: ``v[t-1] != 0 | received | bias != 0 | spike``.

    ``v`` None: the lower bound without the state term.
    """
    active = spikes | received | bias_nonzero[None, None, :]
    if v is not None and v.shape[1] > 1:
        active[:, 1:] |= np.asarray(v[:, :-1]) != 0
    return active


def _per_core_sum(raster: np.ndarray, core: np.ndarray, n_cores: int) -> np.ndarray:
    """(B, T, N) bool summed over each core's neurons -> (B, T, C) int32.

    Neurons are grouped by core once (a gather, skipped when the placement already holds them
    in index order), then each core's contiguous slice is counted.
    """
    b, t, _ = raster.shape
    out = np.zeros((b, t, n_cores), np.int32)
    order = np.argsort(core, kind="stable")
    grouped = raster if np.array_equal(order, np.arange(core.size)) else raster[:, :, order]
    bounds = np.searchsorted(core[order], np.arange(n_cores + 1))
    for c in range(n_cores):
        if bounds[c + 1] > bounds[c]:
            out[:, :, c] = np.count_nonzero(grouped[:, :, bounds[c]:bounds[c + 1]], axis=2)
    return out


def count_ops(record: SpikeRecord, qnet, placement: Placement | None = None, *,
              input_spikes: np.ndarray | None = None, active: np.ndarray | None = None,
              active_definition: str | None = None, learning_projections: Sequence[str] = (),
              core_steps: bool = True) -> OpCounts:
    """Count the events of every inference in ``record`` on ``qnet`` (mapped by ``placement``).

    Parameters
    ----------
    record : SpikeRecord
        Spikes of a batch (golden, Lava, SANA-FE or any backend). With ``v`` recorded, the
        state term of the active rule is known.
    qnet : QuantizedNetwork
        The network that produced them (its stored synapses and biases).
    placement : Placement, optional
        Core of each neuron; without it no messages, hops or per-core counts.
    input_spikes : ndarray of bool, shape (n_samples, n_steps, n_inputs), optional
        The input raster, when the record does not carry it.
    active : ndarray of bool, shape (n_samples, n_steps, n_neurons), optional
        Which neuron was active at each step by the rule above, as a simulator reported it or
        :func:`active_neurons` computed it once for several profiles (used instead of the
        record's states).
    active_definition : str, optional
        What ``active`` holds (default :data:`ACTIVE_REPORTED`).
    learning_projections : sequence of str
        Projections whose synapses learn during the run (empty for frozen inference).
    core_steps : bool
        Tabulate the per (sample, step, core) counts the compute-bound time model reads (skip
        them for a chip without per-op times).

    Returns
    -------
    OpCounts
    """
    n, m = qnet.n_neurons, qnet.n_input
    if record.n_neurons != n:
        raise DataError("the record and the network have different neuron counts", parameter="record.spikes",
                        value=f"{record.n_neurons} neurons", allowed=f"{n} (network {qnet.name!r})")
    b_total, t_total = record.n_samples, record.n_steps
    notes: list[str] = []
    x_all = _inputs(record, qnet, input_spikes)
    if x_all is None:
        notes.append("the record has no input raster: input spikes, their synaptic ops and messages are not counted")
    elif x_all.shape != (b_total, t_total, m):
        raise DataError("input raster has the wrong shape", parameter="input_spikes", value=x_all.shape,
                        allowed=f"{(b_total, t_total, m)}")
    if active is not None:
        active = np.asarray(active, dtype=bool)
        if active.shape != (b_total, t_total, n):
            raise DataError("active raster has the wrong shape", parameter="active", value=active.shape,
                            allowed=f"{(b_total, t_total, n)}")
    if placement is not None and (placement.n_neurons != n or placement.n_inputs != m):
        raise DataError("the placement was made for another network", parameter="placement",
                        value=f"{placement.n_neurons} neurons, {placement.n_inputs} inputs",
                        allowed=f"{n} neurons, {m} inputs")
    known = {p.name for p in qnet.projections}
    for name in learning_projections:
        if name not in known:
            raise DataError("unknown learning projection", parameter="learning_projections", value=name,
                            allowed=f"one of {sorted(known)}")

    conn = source_target_matrix(qnet)                                  # (N+M, N) CSR
    fan_out = np.asarray(conn.sum(axis=1)).ravel().astype(np.int64)
    n_synapses = int(conn.sum())
    plastic_out, plastic_in = projection_counts(qnet, set(learning_projections))
    if active is None:
        active, definition = active_neurons(record, qnet, x_all)
    else:
        definition = active_definition or ACTIVE_REPORTED
        valid3 = _valid_mask(record.sample_lengths, t_total)[:, :, None]
        if (active & ~valid3).any():
            active = active & valid3
    if definition == ACTIVE_LOWER_BOUND:
        notes.append("no v recorded and no active raster: active neuron updates are a lower bound")
    rt = _routes(placement, conn, n)
    n_cores = placement.n_cores if placement is not None else 0
    ev = _events(record, x_all, m).matrix                               # (B*T, N+M)
    lengths = record.sample_lengths

    # One sparse product gives every per-source count per (sample, step): O(events x columns).
    is_rec = np.zeros(n + m)
    is_rec[:n] = 1.0
    cols = {"spikes": is_rec, "input_spikes": 1.0 - is_rec, "synaptic_ops_recurrent": fan_out * is_rec,
            "synaptic_ops_input": fan_out * (1.0 - is_rec),
            "learning_updates": plastic_out + np.concatenate([plastic_in, np.zeros(m)])}
    if rt is not None:
        cols.update({"messages": rt.routes, "input_messages": rt.routes * (1.0 - is_rec), "messages_off_core": rt.off,
                     "hops_east_west": rt.hops_ew, "hops_north_south": rt.hops_ns})
    names = list(cols)
    per_row = np.asarray(ev @ np.stack([np.asarray(cols[k], np.float64) for k in names], axis=1))
    per_row = per_row.reshape(b_total, t_total, len(names))
    sample_sums = np.rint(per_row.sum(axis=1)).astype(np.int64)          # (B, k)
    step_sums = per_row.sum(axis=0)                                       # (T, k)
    per_sample = {k: np.zeros(b_total, dtype=np.int64) for k in EVENTS}
    for j, k in enumerate(names):
        per_sample[k] = sample_sums[:, j]
    per_sample["steps"] = lengths.astype(np.int64)
    active_per_sample_step = active.sum(axis=2, dtype=np.int64)          # (B, T)
    per_sample["neuron_updates_active"] = active_per_sample_step.sum(axis=1)
    scale = 1.0 / b_total if b_total else 0.0
    per_step = {k: np.zeros(t_total) for k in STEP_EVENTS}
    for j, k in enumerate(names):
        if k in per_step:
            per_step[k] = step_sums[:, j] * scale
    per_step["synaptic_ops"] = (step_sums[:, names.index("synaptic_ops_recurrent")]
                                + step_sums[:, names.index("synaptic_ops_input")]) * scale
    per_step["neuron_updates_active"] = active_per_sample_step.sum(axis=0) * scale

    ps = per_sample
    ps["synaptic_ops"] = ps["synaptic_ops_recurrent"] + ps["synaptic_ops_input"]
    ps["synaptic_ops_dense"] = lengths * (n * (n + m))
    ps["synaptic_ops_connected"] = lengths * n_synapses
    ps["neuron_updates_idle"] = lengths * n - ps["neuron_updates_active"]

    src_total = np.rint(np.asarray(ev.sum(axis=0)).ravel()).astype(np.int64)
    per_core: dict[str, np.ndarray] = {k: np.zeros(n_cores) for k in CORE_EVENTS}
    want_core_steps = core_steps
    core_steps = {k: np.zeros((0, 0, 0), np.int32) for k in CORE_STEP_EVENTS}
    if rt is not None:
        core = placement.neuron_core
        src_core = placement.source_core()
        on_core = src_core >= 0
        if want_core_steps:
            core_steps = {"active": _per_core_sum(active, core, n_cores)}
            neuron_on_core = scipy.sparse.csr_matrix((np.ones(n, np.float32), (np.arange(n), core)),
                                                     shape=(n + m, n_cores))
            for name, mat in (("spikes", neuron_on_core), ("messages_out", rt.out_by_core), ("messages_in", rt.dest),
                              ("synaptic_ops_in", rt.syn_to_core)):
                core_steps[name] = np.rint((ev @ mat.astype(np.float32)).toarray()).astype(np.int32).reshape(
                    b_total, t_total, n_cores)
        active_total = active.sum(axis=(0, 1), dtype=np.int64)
        per_core["neurons"] = np.bincount(core, minlength=n_cores).astype(np.float64)
        per_core["synaptic_ops"] = np.asarray(rt.syn_to_core.T @ src_total).ravel() * scale
        per_core["messages_in"] = np.asarray(rt.dest.T @ src_total).ravel() * scale
        per_core["neuron_updates_active"] = np.bincount(core, weights=active_total, minlength=n_cores) * scale
        per_core["neuron_updates_idle"] = (per_core["neurons"] * lengths.sum() * scale
                                           - per_core["neuron_updates_active"])
        per_core["spikes"] = np.bincount(core, weights=src_total[:n], minlength=n_cores) * scale
        for name, per_src in (("messages", rt.routes), ("hops_east_west", rt.hops_ew),
                              ("hops_north_south", rt.hops_ns)):
            per_core[name] = np.bincount(src_core[on_core], weights=(src_total * per_src)[on_core],
                                         minlength=n_cores) * scale
        learn_post = np.bincount(core, weights=src_total[:n] * plastic_in, minlength=n_cores)
        learn_pre = np.zeros(n_cores)
        for proj in qnet.projections:
            if proj.name in learning_projections:
                # each presynaptic spike updates its plastic synapses, on the cores of their targets
                post, pre = synapse_pairs(proj)
                offset = 0 if proj.source == "recurrent" else n
                learn_pre += np.bincount(core[post], weights=src_total[pre + offset], minlength=n_cores)
        per_core["learning_updates"] = (learn_post + learn_pre) * scale
        if placement.inputs == "io" and m:
            notes.append("messages and hops of inputs from the I/O port belong to no core")
    else:
        notes.append("no placement: messages, hops and per-core counts are not available")

    valid_neuron_steps = int(lengths.sum()) * n
    total_spikes = int(per_sample["spikes"].sum())
    activation_sparsity = 1.0 - total_spikes / valid_neuron_steps if valid_neuron_steps else 1.0
    entries = n * (n + m)
    connection_sparsity = 1.0 - int(conn.nnz) / entries if entries else 1.0
    return OpCounts(design=qnet.name, n_samples=b_total, n_neurons=n, n_inputs=m, dt=float(record.dt),
                    per_sample=per_sample, per_step=per_step, per_core=per_core, core_steps=core_steps,
                    n_cores=n_cores, n_tiles=placement.n_tiles if placement is not None else 0,
                    n_chips=placement.n_chips if placement is not None else 0,
                    cores_per_chip=placement.cores_per_chip if placement is not None else 0,
                    placement_profile=placement.profile if placement is not None else "",
                    n_synapses=n_synapses, activation_sparsity=float(activation_sparsity),
                    connection_sparsity=float(connection_sparsity), active_definition=definition,
                    notes=tuple(notes), provenance={"record": dict(record.provenance), "qnet": qnet.name})
