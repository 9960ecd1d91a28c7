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

import math
from dataclasses import dataclass

import numpy as np

from ..errors import MappingError
from ..profiles import HardwareProfile
from ..quantize.network import QuantizedNetwork
from .connectivity import Connectivity, connectivity
from .placement import RESOURCES, Placement, UtilizationReport

STRATEGIES = ("pack_profiles", "sequential")
INPUT_MODES = ("io", "core")
IO_XY = (0, 0)


@dataclass(frozen=True)
class CoreLimits:
    """The profile's per-core limits, ``inf`` where it sets none."""

    neurons: int
    memory_bits: float
    bits_per_synapse: int
    input_axons: float
    output_axons: float
    neuron_profiles: float
    threshold_profiles: float
    cores_per_tile: int
    cores_per_chip: int
    chips: int
    mesh: tuple[int, int] | None

    def as_array(self) -> np.ndarray:
        return np.array([self.neurons, self.memory_bits, self.input_axons, self.output_axons,
                         self.neuron_profiles, self.threshold_profiles], dtype=np.float64)


def core_limits(profile: HardwareProfile, qnet: QuantizedNetwork | None = None, *,
                max_neurons_per_core: int | None = None) -> tuple[CoreLimits, list[str]]:
    """Read the per-core limits of ``profile`` (and the assumptions made reading them)."""
    notes: list[str] = []
    if not profile.has("core_limits", "neurons_per_core"):
        raise MappingError("this profile has no per-core limits, so a network cannot be mapped onto it",
                           parameter="profile", value=profile.name,
                           hint="map onto a neuromorphic profile; price conventional devices with "
                                "conventional_baseline")

    def opt(key: str) -> float:
        return float(profile.int("core_limits", key)) if profile.has("core_limits", key) else math.inf

    neurons = profile.int("core_limits", "neurons_per_core")
    if max_neurons_per_core is not None:
        if isinstance(max_neurons_per_core, bool) or int(max_neurons_per_core) != max_neurons_per_core \
                or max_neurons_per_core < 1:
            raise MappingError("max_neurons_per_core must be a positive whole number",
                               parameter="max_neurons_per_core", value=max_neurons_per_core,
                               allowed=f"1..{neurons}")
        if max_neurons_per_core < neurons:
            notes.append(f"neurons per core capped at {max_neurons_per_core} (profile allows {neurons})")
            neurons = int(max_neurons_per_core)
    if profile.has("core_limits", "synapse_bits"):
        bps = profile.int("core_limits", "synapse_bits")
    elif profile.has("core_limits", "synapse_word_bits"):
        bps = profile.int("core_limits", "synapse_word_bits")
        notes.append(f"one {bps}-bit synaptic word charged per synapse (profile gives no synapse_bits)")
    elif qnet is not None and qnet.projections:
        bps = max(int(p.num_weight_bits) for p in qnet.projections)
        notes.append(f"{bps} bits per synapse: the weight mantissa only (profile gives no synapse format)")
    else:
        raise MappingError("the profile gives no synapse size", parameter="core_limits.synapse_bits",
                           value=profile.name, hint="add synapse_bits or synapse_word_bits to the profile")
    cpt = profile.int("core_limits", "cores_per_tile", default=1)
    cpc = profile.int("core_limits", "cores_per_chip")
    mesh = None
    if profile.has("core_limits", "mesh_width") and profile.has("core_limits", "mesh_height"):
        mesh = (profile.int("core_limits", "mesh_width"), profile.int("core_limits", "mesh_height"))
        if mesh[0] * mesh[1] * cpt < cpc:
            raise MappingError("the profile's mesh has fewer core slots than cores per chip",
                               parameter="core_limits.mesh_width", value=f"{mesh[0]} x {mesh[1]} x {cpt}",
                               allowed=f">= cores_per_chip = {cpc}")
    else:
        notes.append("the profile gives no mesh: messages are counted, hops are not")
    for name in ("input_axons_per_core", "output_axons_per_core", "neuron_profiles_per_core"):
        if not profile.has("core_limits", name):
            notes.append(f"{name} not limited (the profile sets no limit)")
    return CoreLimits(neurons=neurons, memory_bits=float(profile.int("core_limits", "synaptic_memory_per_core")),
                      bits_per_synapse=bps, input_axons=opt("input_axons_per_core"),
                      output_axons=opt("output_axons_per_core"),
                      neuron_profiles=opt("neuron_profiles_per_core"),
                      threshold_profiles=opt("threshold_profiles_per_core"), cores_per_tile=cpt,
                      cores_per_chip=cpc, chips=profile.int("core_limits", "chips_per_board", default=1),
                      mesh=mesh), notes


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
    n_src = conn.connected.sum(axis=1)
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
    src = np.zeros(conn.n_sources, dtype=bool)
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
        else:
            union = src | conn.connected[i]
            n_union = int(np.count_nonzero(union))
            if n_union > lim.input_axons:
                reason = "input_axons_per_core"
        if reason is not None:
            if core >= 0:
                close()
                closed_by[reason] = closed_by.get(reason, 0) + 1
            core += 1
            cnt = mem = 0
            src = np.zeros(conn.n_sources, dtype=bool)
            profs, vths = set(), set()
            union = conn.connected[i].copy()
            n_union = int(np.count_nonzero(union))
        core_of[i] = core
        cnt += 1
        mem += bits
        src, n_src = union, n_union
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
