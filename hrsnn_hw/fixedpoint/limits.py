"""The per-core limits of a hardware profile, read once (mapping and quantization share them).

A limit the profile does not set is ``inf`` (unlimited). ``core_limits`` also returns the
assumptions it made reading the profile (a synapse size taken from the weight register, a
cap on neurons per core), so a placement or a quantization report can say what it assumed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import artifacts
from ..errors import MappingError
from ..profiles import HardwareProfile


@artifacts.node("hrsnn_hw.CoreLimits")
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


def core_limits(profile: HardwareProfile, qnet: Any = None, *,
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
    elif qnet is None and profile.has("number_format", "weight_bits"):
        bps = profile.int("number_format", "weight_bits")
        notes.append(f"{bps} bits per synapse: the weight register only (profile gives no synapse format)")
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
