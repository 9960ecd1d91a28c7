"""Neurons onto cores under a hardware profile's per-core limits.

Rules (each a :class:`~hrsnn_hw.errors.MappingError` ``parameter`` when it cannot be met):

``neurons_per_core``, ``synaptic_memory_per_core`` (stored synapses of the core's neurons
x bits per synapse), ``input_axons_per_core`` (distinct presynaptic sources, inputs
included), ``output_axons_per_core`` (one per (source, destination core) route),
``neuron_profiles_per_core`` (distinct ``(du, dv, vth, refractory_steps)`` tuples),
``threshold_profiles_per_core`` (distinct ``vth``), ``cores_per_board`` (cores_per_chip x
chips_per_board) and ``neurons_per_board``.

Cores are filled greedily, one after the other, in a neuron order: ``"sequential"`` keeps
the network's index order; ``"pack_profiles"`` also tries neurons grouped by their profile
tuple (equal quantized parameters side by side, so a core holds few profiles) and keeps
whichever order needs fewer cores. Used cores are numbered from 0 and fill tiles, then
chips, in order; tile ``t`` of a chip sits at ``x = t // mesh_height``, ``y = t % mesh_height``
(SANA-FE's convention), and chips sit side by side along x.
"""
from __future__ import annotations

import numpy as np

from ..errors import MappingError
from ..fixedpoint import CoreLimits, QuantizedNetwork, core_limits
from ..profiles import HardwareProfile
from .connectivity import Connectivity, connectivity
from .placement import RESOURCES, Placement, UtilizationReport

STRATEGIES = ("pack_profiles", "sequential")
INPUT_MODES = ("io", "core")
IO_XY = (0, 0)


def neuron_profile_ids(qnet: QuantizedNetwork) -> tuple[np.ndarray, np.ndarray]:
    """Integer ids of each neuron's ``(du, dv, vth, refractory_steps)`` tuple and of its ``vth``."""
    table = np.stack([qnet.du, qnet.dv, qnet.vth, qnet.refractory_steps], axis=1)
    _, prof = np.unique(table, axis=0, return_inverse=True)
    _, vth = np.unique(qnet.vth, return_inverse=True)
    return prof.reshape(-1).astype(np.int64), vth.reshape(-1).astype(np.int64)


def _check_single_neurons(conn: Connectivity, lim: CoreLimits) -> None:
    bits = conn.fan_in * lim.bits_per_synapse
    worst = int(np.argmax(bits)) if bits.size else 0
    if bits.size and bits[worst] > lim.memory_bits:
        raise MappingError(f"neuron {worst} alone needs {int(bits[worst])} bits of synaptic memory "
                           f"({int(conn.fan_in[worst])} synapses x {lim.bits_per_synapse} bits), more than a core "
                           f"has ({int(lim.memory_bits)} bits)", parameter="synaptic_memory_per_core",
                           index=worst, value=int(bits[worst]), allowed=f"<= {int(lim.memory_bits)} bits",
                           hint="reduce this neuron's fan-in (sparser projections)")
    n_src = conn.sources_per_neuron
    worst = int(np.argmax(n_src)) if n_src.size else 0
    if n_src.size and n_src[worst] > lim.input_axons:
        raise MappingError(f"neuron {worst} alone has {int(n_src[worst])} distinct presynaptic sources, more "
                           f"input axons than a core has ({int(lim.input_axons)})",
                           parameter="input_axons_per_core", index=worst, value=int(n_src[worst]),
                           allowed=f"<= {int(lim.input_axons)}", hint="reduce this neuron's fan-in")


def _greedy(order: np.ndarray, conn: Connectivity, prof: np.ndarray, vth: np.ndarray,
            lim: CoreLimits) -> tuple[np.ndarray, list[list[int]], dict[str, int]]:
    """Fill cores one after the other in ``order``; return core of each neuron, per-core usage, closers."""
    n = conn.n_neurons
    core_of = np.full(n, -1, dtype=np.int64)
    usage: list[list[int]] = []
    closed_by: dict[str, int] = {}
    fan_in = conn.fan_in
    cnt = mem = 0
    src = np.zeros(conn.n_sources, dtype=bool)  # sources the current core receives
    marked: list[np.ndarray] = []                 # ... as index arrays, to clear them in O(fan-in)
    n_src = 0
    profs: set[int] = set()
    vths: set[int] = set()
    core = -1

    def close() -> None:
        usage.append([cnt, mem, n_src, 0, len(profs), len(vths)])

    for i in order:
        bits = int(fan_in[i]) * lim.bits_per_synapse
        reason = None
        if core < 0:
            reason = "start"
        elif cnt + 1 > lim.neurons:
            reason = "neurons_per_core"
        elif mem + bits > lim.memory_bits:
            reason = "synaptic_memory_per_core"
        elif prof[i] not in profs and len(profs) + 1 > lim.neuron_profiles:
            reason = "neuron_profiles_per_core"
        elif vth[i] not in vths and len(vths) + 1 > lim.threshold_profiles:
            reason = "threshold_profiles_per_core"
        if reason is None:
            # sources of neuron i this core does not receive yet: O(fan-in), not O(N)
            srcs = conn.sources_of(i)
            new = srcs[~src[srcs]]
            n_union = n_src + int(new.size)
            if n_union > lim.input_axons:
                reason = "input_axons_per_core"
        if reason is not None:
            if core >= 0:
                close()
                closed_by[reason] = closed_by.get(reason, 0) + 1
            core += 1
            cnt = mem = 0
            if marked:
                src[np.concatenate(marked)] = False
            marked = []
            profs, vths = set(), set()
            new = conn.sources_of(i)
            n_union = int(new.size)
        core_of[i] = core
        cnt += 1
        mem += bits
        src[new] = True
        marked.append(new)
        n_src = n_union
        profs.add(int(prof[i]))
        vths.add(int(vth[i]))
    if core >= 0:
        close()
    return core_of, usage, closed_by


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
                inputs: str = "io", max_neurons_per_core: int | None = None) -> Placement:
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
    conn = connectivity(qnet)
    n, m = conn.n_neurons, conn.n_inputs
    max_cores = lim.cores_per_chip * lim.chips
    capacity = lim.neurons * max_cores
    placed_sources = n + (m if inputs == "core" else 0)
    if placed_sources > capacity:
        raise MappingError(f"{placed_sources} neurons{' and inputs' if inputs == 'core' else ''} exceed the board: "
                           f"{lim.neurons} per core x {lim.cores_per_chip} cores x {lim.chips} chip(s) = {capacity}",
                           parameter="neurons_per_board", value=placed_sources, allowed=f"<= {capacity}",
                           hint="a smaller network, or a profile with more chips_per_board")
    _check_single_neurons(conn, lim)
    prof, vth = neuron_profile_ids(qnet)

    core_of, usage, closed_by = _greedy(np.arange(n), conn, prof, vth, lim)
    if strategy == "pack_profiles":
        grouped = np.lexsort((np.arange(n), prof))
        g_core_of, g_usage, g_closed = _greedy(grouped, conn, prof, vth, lim)
        if len(g_usage) <= len(usage):
            notes.append(f"neurons grouped by profile: {len(g_usage)} cores (index order: {len(usage)})")
            core_of, usage, closed_by = g_core_of, g_usage, g_closed
        else:
            notes.append(f"index order kept: {len(usage)} cores (grouped by profile: {len(g_usage)})")
    n_neuron_cores = len(usage)

    # Output axons: one per (source, destination core) route.
    onehot = np.zeros((n, max(n_neuron_cores, 1)), dtype=np.int32)
    onehot[np.arange(n), core_of] = 1
    dest = (conn.connected.T.astype(np.int32) @ onehot) > 0          # (N+M, cores)
    routes = dest.sum(axis=1)
    out_axons = np.bincount(core_of, weights=routes[:n], minlength=n_neuron_cores).astype(np.int64)
    for c in range(n_neuron_cores):
        usage[c][3] = int(out_axons[c])
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
