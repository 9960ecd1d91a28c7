"""Neurons onto cores under a hardware profile's per-core limits.

Rules (each a :class:`~hrsnn_hw.errors.MappingError` ``parameter`` when it cannot be met):

``neurons_per_core``, ``synaptic_memory_per_core`` (stored synapses of the core's neurons
x bits per synapse), ``input_axons_per_core`` (distinct presynaptic sources, inputs
included), ``output_axons_per_core`` (one per (source, destination core) route),
``neuron_profiles_per_core`` (distinct ``(du, dv, vth, refractory_steps)`` tuples),
``threshold_profiles_per_core`` (distinct ``vth``), ``target_cores_per_neuron`` (cores one
neuron's spike may reach: TrueNorth's one target axon per neuron), ``cores_per_board``
(cores_per_chip x chips_per_board) and ``neurons_per_board``.

A core budget (``cores=C``) spreads the neurons over at least C cores, balanced (each core
takes at most its quota of ``ceil`` or ``floor(N / C)`` neurons): two designs compared on the
same budget pay the same per-core costs (barrier, per-core overhead, static share).

Cores are filled greedily, one after the other, in a neuron order: ``"sequential"`` keeps
the network's index order; ``"pack_profiles"`` also tries neurons grouped by their profile
tuple (equal quantized parameters side by side, so a core holds few profiles) and keeps
whichever order needs fewer cores. Used cores are numbered from 0 and fill tiles, then
chips, in order; tile ``t`` of a chip sits at ``x = t // mesh_height``, ``y = t % mesh_height``
(SANA-FE's convention), and chips sit side by side along x.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse

from ..errors import MappingError
from ..profiles import HardwareProfile
from ..fixedpoint import CoreLimits, QuantizedNetwork, core_limits
from .placement import RESOURCES, Placement, UtilizationReport
from .synapses import source_target_matrix

STRATEGIES = ("pack_profiles", "sequential")
INPUT_MODES = ("io", "core")
IO_XY = (0, 0)


def neuron_profile_ids(qnet: QuantizedNetwork) -> tuple[np.ndarray, np.ndarray]:
    """Integer ids of each neuron's ``(du, dv, vth, refractory_steps)`` tuple and of its ``vth``."""
    table = np.stack([qnet.du, qnet.dv, qnet.vth, qnet.refractory_steps], axis=1)
    _, prof = np.unique(table, axis=0, return_inverse=True)
    _, vth = np.unique(qnet.vth, return_inverse=True)
    return prof.reshape(-1).astype(np.int64), vth.reshape(-1).astype(np.int64)


@dataclass(frozen=True)
class _Synapses:
    """Per neuron: its presynaptic sources (CSR rows) and stored synapses (fan-in)."""

    sources: scipy.sparse.csr_matrix       # (N, N+M), entries = synapse counts
    fan_in: np.ndarray
    n_sources: int


def _synapses(qnet: QuantizedNetwork) -> _Synapses:
    by_post = source_target_matrix(qnet).T.tocsr()
    by_post.sort_indices()
    return _Synapses(sources=by_post, fan_in=np.asarray(by_post.sum(axis=1)).ravel().astype(np.int64),
                     n_sources=by_post.shape[1])


def _check_single_neurons(syn: _Synapses, lim: CoreLimits) -> None:
    bits = syn.fan_in * lim.bits_per_synapse
    worst = int(np.argmax(bits)) if bits.size else 0
    if bits.size and bits[worst] > lim.memory_bits:
        raise MappingError(f"neuron {worst} alone needs {int(bits[worst])} bits of synaptic memory "
                           f"({int(syn.fan_in[worst])} synapses x {lim.bits_per_synapse} bits), more than a core "
                           f"has ({int(lim.memory_bits)} bits)", parameter="synaptic_memory_per_core",
                           index=worst, value=int(bits[worst]), allowed=f"<= {int(lim.memory_bits)} bits",
                           hint="reduce this neuron's fan-in (sparser projections)")
    n_src = np.diff(syn.sources.indptr)
    worst = int(np.argmax(n_src)) if n_src.size else 0
    if n_src.size and n_src[worst] > lim.input_axons:
        raise MappingError(f"neuron {worst} alone has {int(n_src[worst])} distinct presynaptic sources, more "
                           f"input axons than a core has ({int(lim.input_axons)})",
                           parameter="input_axons_per_core", index=worst, value=int(n_src[worst]),
                           allowed=f"<= {int(lim.input_axons)}", hint="reduce this neuron's fan-in")


def _greedy(order: np.ndarray, syn: _Synapses, prof: np.ndarray, vth: np.ndarray,
            lim: CoreLimits, quota: np.ndarray | None = None) -> tuple[np.ndarray, list[list[int]], dict[str, int]]:
    """Fill cores one after the other in ``order``; return core of each neuron, per-core usage, closers.

    ``quota[k]``: at most that many neurons on core k (a core budget); cost O(N + synapses).
    """
    n = syn.fan_in.size
    core_of = [-1] * n
    usage: list[list[int]] = []
    closed_by: dict[str, int] = {}
    ptr, idx = syn.sources.indptr, syn.sources.indices
    stamp = np.full(syn.n_sources, -1, dtype=np.int64)       # core that last took each source as an input axon
    # plain Python values: the loop runs once per neuron, numpy scalars would dominate its cost
    bits_of = (syn.fan_in * lim.bits_per_synapse).tolist()
    prof_l, vth_l, ptr_l = prof.tolist(), vth.tolist(), ptr.tolist()
    quota_l = quota.tolist() if quota is not None else None
    max_neurons, max_mem, max_in = lim.neurons, lim.memory_bits, lim.input_axons
    max_prof, max_vth = lim.neuron_profiles, lim.threshold_profiles
    cnt = mem = n_src = 0
    profs: set[int] = set()
    vths: set[int] = set()
    core = -1

    def close() -> None:
        usage.append([cnt, mem, n_src, 0, len(profs), len(vths)])

    for i in order.tolist():
        bits = bits_of[i]
        srcs = idx[ptr_l[i]:ptr_l[i + 1]]
        p_i, v_i = prof_l[i], vth_l[i]
        reason = None
        if core < 0:
            reason = "start"
        elif quota_l is not None and core < len(quota_l) and cnt + 1 > quota_l[core]:
            reason = "core_budget"
        elif cnt + 1 > max_neurons:
            reason = "neurons_per_core"
        elif mem + bits > max_mem:
            reason = "synaptic_memory_per_core"
        elif p_i not in profs and len(profs) + 1 > max_prof:
            reason = "neuron_profiles_per_core"
        elif v_i not in vths and len(vths) + 1 > max_vth:
            reason = "threshold_profiles_per_core"
        else:
            new = srcs[stamp[srcs] != core]          # sources this core does not receive yet
            if n_src + new.size > max_in:
                reason = "input_axons_per_core"
        if reason is not None:
            if core >= 0:
                close()
                closed_by[reason] = closed_by.get(reason, 0) + 1
            core += 1
            cnt = mem = n_src = 0
            profs, vths = set(), set()
            new = srcs                                 # a fresh core receives none yet
        stamp[new] = core
        n_src += int(new.size)
        core_of[i] = core
        cnt += 1
        mem += bits
        profs.add(p_i)
        vths.add(v_i)
    if core >= 0:
        close()
    return np.asarray(core_of, dtype=np.int64), usage, closed_by


_OUTPUT_AXON_RETRIES = 8


def _fill(n: int, syn: _Synapses, prof: np.ndarray, vth: np.ndarray, lim: CoreLimits, quota: np.ndarray | None,
          strategy: str, orders: tuple[str, ...] = ("index", "grouped")
          ) -> tuple[np.ndarray, list[list[int]], dict[str, int], str, str]:
    """The greedy fill in index order and, for "pack_profiles", grouped by profile; the one with fewer cores
    (and which order won, so a refill with a smaller cap need not try the other again)."""
    tried = {}
    if "index" in orders or strategy != "pack_profiles":
        tried["index"] = _greedy(np.arange(n), syn, prof, vth, lim, quota)
    if strategy == "pack_profiles" and "grouped" in orders \
            and not (math.isinf(lim.neuron_profiles) and math.isinf(lim.threshold_profiles)):
        tried["grouped"] = _greedy(np.lexsort((np.arange(n), prof)), syn, prof, vth, lim, quota)
    best = min(tried, key=lambda k: (len(tried[k][1]), k != "grouped"))
    cores = {k: len(v[1]) for k, v in tried.items()}
    if best == "grouped":
        note = f"neurons grouped by profile: {cores['grouped']} cores" + \
            (f" (index order: {cores['index']})" if "index" in cores else "")
    else:
        note = f"index order: {cores['index']} cores" + \
            (f" (grouped by profile: {cores['grouped']})" if "grouped" in cores else "")
    return (*tried[best], note, best)


def _quota(n: int, cores: int | None) -> np.ndarray | None:
    if cores is None:
        return None
    base, extra = divmod(n, cores)
    return np.array([base + (k < extra) for k in range(cores)], dtype=np.int64)


def _coordinates(n_cores: int, lim: CoreLimits) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cores = np.arange(n_cores, dtype=np.int64)
    chip = cores // lim.cores_per_chip
    local = cores % lim.cores_per_chip
    tiles_per_chip = -(-lim.cores_per_chip // lim.cores_per_tile)
    tile_local = local // lim.cores_per_tile
    tile = chip * tiles_per_chip + tile_local
    xy = np.zeros((n_cores, 2), dtype=np.int64)
    if lim.mesh is not None:
        width, height = lim.mesh
        xy[:, 0] = chip * width + tile_local // height
        xy[:, 1] = tile_local % height
    return xy, tile, chip


def map_network(qnet: QuantizedNetwork, profile: HardwareProfile, *, strategy: str = "pack_profiles",
                inputs: str = "io", max_neurons_per_core: int | None = None, cores: int | None = None) -> Placement:
    """Place every neuron of ``qnet`` on a core of ``profile``'s chip(s).

    Parameters
    ----------
    qnet : QuantizedNetwork
        The fixed-point network (its nonzero weight mantissas are the stored synapses).
    profile : HardwareProfile
        A neuromorphic profile with ``core_limits``.
    strategy : {"pack_profiles", "sequential"}
        Neuron order the cores are filled in (see the module docstring).
    inputs : {"io", "core"}
        ``"io"``: input spikes enter the mesh at tile (0, 0) of chip 0 and use no core.
        ``"core"``: input sources sit on cores of their own after the neuron cores (as
        spike generators do, and as SANA-FE maps them).
    max_neurons_per_core : int, optional
        Fill cores only up to this many neurons (spread a network over more cores).
    cores : int, optional
        Core budget: spread the neurons over at least this many neuron cores, balanced. The
        profile's limits still apply, so a network that needs more cores uses more (the
        placement's notes say so).

    Returns
    -------
    Placement
        Core of each neuron and input, coordinates, and the :class:`UtilizationReport`.

    Raises
    ------
    MappingError
        The network cannot fit; ``parameter`` names the rule, the message gives the numbers.
    """
    if strategy not in STRATEGIES:
        raise MappingError("unknown mapping strategy", parameter="strategy", value=strategy,
                           allowed=f"one of {list(STRATEGIES)}")
    if inputs not in INPUT_MODES:
        raise MappingError("unknown input placement", parameter="inputs", value=inputs,
                           allowed=f"one of {list(INPUT_MODES)}")
    lim, notes = core_limits(profile, qnet, max_neurons_per_core=max_neurons_per_core)
    syn = _synapses(qnet)
    n, m = qnet.n_neurons, qnet.n_input
    max_cores = lim.cores_per_chip * lim.chips
    if cores is not None:
        if isinstance(cores, bool) or int(cores) != cores or not 1 <= cores <= max(1, min(n, max_cores)):
            raise MappingError("core budget out of range", parameter="cores", value=cores,
                               allowed=f"1..{max(1, min(n, max_cores))} (at most one neuron per core, "
                                       f"{max_cores} cores on the board)")
        cores = int(cores)
    capacity = lim.neurons * max_cores
    placed_sources = n + (m if inputs == "core" else 0)
    if placed_sources > capacity:
        raise MappingError(f"{placed_sources} neurons{' and inputs' if inputs == 'core' else ''} exceed the board: "
                           f"{lim.neurons} per core x {lim.cores_per_chip} cores x {lim.chips} chip(s) = {capacity}",
                           parameter="neurons_per_board", value=placed_sources, allowed=f"<= {capacity}",
                           hint="a smaller network, or a profile with more chips_per_board")
    _check_single_neurons(syn, lim)
    prof, vth = neuron_profile_ids(qnet)

    quota = _quota(n, cores)
    by_src = syn.sources.T.tocsr()                                       # (N+M, N)
    orders: tuple[str, ...] = ("index", "grouped")
    for attempt in range(_OUTPUT_AXON_RETRIES + 1):
        core_of, usage, closed_by, order_note, winner = _fill(n, syn, prof, vth, lim, quota, strategy,
                                                              orders if attempt else ("index", "grouped"))
        orders = (winner,)
        n_neuron_cores = len(usage)
        # Output axons: one per (source, destination core) route.
        onehot = scipy.sparse.csr_matrix((np.ones(n, np.int32), (np.arange(n), core_of)),
                                         shape=(n, max(n_neuron_cores, 1)))
        dest = (by_src @ onehot).tocsr()
        routes = np.diff(dest.indptr).astype(np.int64)                  # destination cores per source
        out_axons = np.bincount(core_of, weights=routes[:n], minlength=n_neuron_cores).astype(np.int64)
        worst = int(np.argmax(out_axons)) if n_neuron_cores else 0
        if not n_neuron_cores or out_axons[worst] <= lim.output_axons or attempt == _OUTPUT_AXON_RETRIES:
            break
        # Fewer neurons per core -> fewer routes per core: shrink the cap in proportion and refill.
        # (a 3 % margin: spreading raises the routes per neuron a little, so the exact ratio falls short)
        cap = max(1, int(max(row[0] for row in usage) * 0.97 * lim.output_axons / out_axons[worst]))
        notes.append(f"core {worst} needed {int(out_axons[worst])} output axons (> {int(lim.output_axons)}): "
                     f"refilled with at most {cap} neurons per core")
        lim = dataclasses.replace(lim, neurons=cap)
    notes.append(order_note)
    for c in range(n_neuron_cores):
        usage[c][3] = int(out_axons[c])
    if cores is not None:
        if n_neuron_cores > cores:
            notes.append(f"core budget {cores} exceeded: the profile's limits need {n_neuron_cores} cores")
        else:
            notes.append(f"spread over a core budget of {cores} cores")
    target_limit = _target_cores_limit(profile)
    if n and routes[:n].max(initial=0) > target_limit:
        worst = int(np.argmax(routes[:n]))
        raise MappingError(f"neuron {worst} reaches {int(routes[worst])} cores, but a neuron's spike reaches "
                           f"at most {int(target_limit)} on {profile.name} ({int((routes[:n] > target_limit).sum())} "
                           f"neurons exceed it)", parameter="target_cores_per_neuron", index=worst,
                           value=int(routes[worst]), allowed=f"<= {int(target_limit)}",
                           hint="splitter neurons (not inserted by this mapper), or a network that fits one core")
    if math.isfinite(target_limit):
        notes.append(f"at most {int(target_limit)} target core(s) per neuron: checked")
    input_core = np.full(m, -1, dtype=np.int64)
    input_cores: list[list[int]] = []
    if inputs == "core":
        cnt = out = 0
        core = n_neuron_cores - 1
        for k in range(m):
            r = int(routes[n + k])
            if r > lim.output_axons:
                raise MappingError(f"input {k} reaches {r} cores, more output axons than a core has",
                                   parameter="output_axons_per_core", index=k, value=r,
                                   allowed=f"<= {int(lim.output_axons)}")
            if not input_cores or cnt + 1 > lim.neurons or out + r > lim.output_axons:
                input_cores.append([0, 0, 0, 0, 0, 0])
                core += 1
                cnt = out = 0
            cnt += 1
            out += r
            input_core[k] = core
            input_cores[-1][0], input_cores[-1][3] = cnt, out
    n_cores = n_neuron_cores + len(input_cores)
    if n_cores > max_cores:
        why = ", ".join(f"{v} closed by {k}" for k, v in sorted(closed_by.items())) or "none"
        raise MappingError(f"the network needs {n_cores} cores but the board has {max_cores} "
                           f"({lim.cores_per_chip} per chip x {lim.chips} chip(s)); cores closed by rule: {why}; "
                           f"{int(prof.max()) + 1 if n else 0} distinct neuron profiles "
                           f"(limit {lim.neuron_profiles:g} per core)",
                           parameter="cores_per_board", value=n_cores, allowed=f"<= {max_cores}",
                           hint="bin the decays to fewer distinct profiles when quantizing, or use a larger profile")
    for c in range(n_neuron_cores):
        if usage[c][3] > lim.output_axons:
            raise MappingError(f"core {c} needs {usage[c][3]} output axons, more than {int(lim.output_axons)}",
                               parameter="output_axons_per_core", index=c, value=usage[c][3],
                               allowed=f"<= {int(lim.output_axons)}",
                               hint="cap max_neurons_per_core so fewer neurons share a core")
    xy, tile, chip = _coordinates(n_cores, lim)
    if inputs == "io":
        notes.append(f"input spikes enter the mesh at tile {IO_XY} of chip 0 (no core)")
    util = UtilizationReport(resources=RESOURCES, used=np.array(usage + input_cores, dtype=np.int64).reshape(-1, 6),
                             limits=lim.as_array(),
                             input_core=np.arange(n_cores) >= n_neuron_cores)
    return Placement(profile=profile.name, strategy=strategy, inputs=inputs, neuron_core=core_of,
                     input_core=input_core, core_xy=xy, core_tile=tile, core_chip=chip, io_xy=IO_XY,
                     cores_per_tile=lim.cores_per_tile, cores_per_chip=lim.cores_per_chip,
                     has_mesh=lim.mesh is not None, utilization=util, notes=tuple(notes))


def _target_cores_limit(profile: HardwareProfile) -> float:
    """Cores one neuron's spike may reach (``inf`` when the profile sets no limit)."""
    if profile.has("core_limits", "target_cores_per_neuron"):
        return float(profile.int("core_limits", "target_cores_per_neuron"))
    return math.inf
