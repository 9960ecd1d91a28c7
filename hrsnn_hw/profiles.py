"""Hardware profiles: cited chip facts (number formats, per-core limits, energies) as data.

Code never hard-codes a bit width, a limit or a picojoule: it asks a
:class:`HardwareProfile`. A profile is a JSON file (``hardware_profiles/<name>.json``)
whose every value is a table ``{"value", "unit", "source"}`` with optional ``low`` /
``high`` (a band where sources differ), ``estimate`` (true where no measurement
exists) and ``note``. ``source`` names an entry of the file's ``sources`` table.
Values are converted to SI on load (pJ -> J, ns -> s, mW -> W).

What each key means (per which event, per which unit of hardware) is in
:data:`KEY_DOCS`. A profile without a ``number_format`` section is an energy-only
profile (TrueNorth, SpiNNaker 2): it can map and price a network but not quantize one.
"""
from __future__ import annotations

import math
from importlib import resources
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .errors import ProfileError, clean_errors
from .io import PathLike, read_json

PROFILE_FORMAT = "hrsnn_hw.hardware_profile"
PROFILE_VERSION = 1
# The bundled profiles ship inside the package (one copy), found through importlib.resources.
PROFILE_DIR = Path(str(resources.files("hrsnn_hw") / "hardware_profiles"))

UNITS: dict[str, tuple[str, float]] = {
    "J": ("energy", 1.0), "mJ": ("energy", 1e-3), "uJ": ("energy", 1e-6), "nJ": ("energy", 1e-9),
    "pJ": ("energy", 1e-12), "fJ": ("energy", 1e-15),
    "W": ("power", 1.0), "mW": ("power", 1e-3), "uW": ("power", 1e-6),
    "s": ("time", 1.0), "ms": ("time", 1e-3), "us": ("time", 1e-6), "ns": ("time", 1e-9),
    "bit": ("bits", 1.0), "count": ("count", 1.0), "byte": ("bytes", 1.0), "KiB": ("bytes", 1024.0),
    "shift": ("count", 1.0),
}

# section -> key -> (dimension, required for kind "neuromorphic", required for kind "conventional").
# number_format keys are required only when the profile has a number_format section at all.
SCHEMA: dict[str, dict[str, tuple[str, bool, bool]]] = {
    "number_format": {
        "decay_bits": ("bits", True, False), "state_bits": ("bits", True, False),
        "u_shift": ("count", True, False), "vth_shift": ("count", True, False),
        "vth_mant_bits": ("bits", True, False), "weight_bits": ("bits", True, False),
        "weight_exp_min": ("count", True, False), "weight_exp_max": ("count", True, False),
        "bias_mant_bits": ("bits", True, False), "bias_exp_max": ("count", True, False),
        "refractory_max_steps": ("count", False, False), "synaptic_delay_bits": ("bits", False, False),
        "spike_payload_bits": ("bits", False, False),
    },
    "core_limits": {
        "neurons_per_core": ("count", True, False), "synaptic_memory_per_core": ("bits", True, False),
        "synapse_word_bits": ("bits", False, False), "synapse_bits": ("bits", False, False),
        "input_axons_per_core": ("count", False, False), "output_axons_per_core": ("count", False, False),
        "neuron_profiles_per_core": ("count", False, False), "threshold_profiles_per_core": ("count", False, False),
        "cores_per_tile": ("count", False, False), "cores_per_chip": ("count", True, False),
        "mesh_width": ("count", False, False), "mesh_height": ("count", False, False),
        "chips_per_board": ("count", False, False),
    },
    "energy": {
        "synaptic_op": ("energy", True, False), "synaptic_op_learning": ("energy", False, False),
        "neuron_update_active": ("energy", True, False), "neuron_update_idle": ("energy", True, False),
        "spike_out": ("energy", False, False), "message_out": ("energy", False, False),
        "spike_in_tile": ("energy", False, False),
        "hop_east_west": ("energy", False, False), "hop_north_south": ("energy", False, False),
        "per_step_overhead": ("energy", False, False), "per_core_step_overhead": ("energy", False, False),
        "static_power": ("power", False, False), "static_power_per_chip": ("power", False, False),
        "time_per_step": ("time", False, False),
        "mac": ("energy", False, True), "accumulate": ("energy", False, False),
        "memory_access": ("energy", False, False),
    },
    "timing": {
        "time_per_step": ("time", False, False),
        "synaptic_op_time": ("time", False, False), "neuron_update_time": ("time", False, False),
        "barrier_sync_time": ("time", False, False), "hop_time": ("time", False, False),
    },
}
# Limits that must be positive whole numbers when present (a zero or fractional limit is a typo).
POSITIVE_INT_LIMITS = ("core_limits",)

KEY_DOCS: dict[str, str] = {
    "number_format.spike_payload_bits": "bits of a graded spike's signed integer payload; absent = binary spikes only",
    "core_limits.neurons_per_core": "neurons (compartments) one core holds",
    "core_limits.synaptic_memory_per_core": "bits of synaptic memory per core",
    "core_limits.synapse_word_bits": "bits of one synaptic memory word",
    "core_limits.synapse_bits": "bits one synapse occupies (the synapse format); default: one word per synapse",
    "core_limits.input_axons_per_core": "distinct presynaptic sources (neurons or inputs) one core can receive; absent = unlimited",
    "core_limits.output_axons_per_core": "(neuron, destination core) routes one core can send; absent = unlimited",
    "core_limits.neuron_profiles_per_core": "distinct (du, dv, vth, refractory) tuples per core; absent = unlimited",
    "core_limits.threshold_profiles_per_core": "distinct thresholds per core; absent = unlimited",
    "core_limits.cores_per_tile": "cores sharing one mesh router (no hops between them); default 1",
    "core_limits.cores_per_chip": "cores of one chip",
    "core_limits.mesh_width": "tiles along x (east-west) on one chip; absent = hops are not counted",
    "core_limits.mesh_height": "tiles along y (north-south) on one chip",
    "core_limits.chips_per_board": "chips a network may span; default 1",
    "energy.synaptic_op": "J per synaptic event (one spike arriving at one connected synapse)",
    "energy.synaptic_op_learning": "J per synaptic weight update when learning runs",
    "energy.neuron_update_active": "J per update of an active neuron per step (conventional: per neuron update)",
    "energy.neuron_update_idle": "J per update of an idle neuron per step",
    "energy.spike_out": "J per spike generated by a neuron",
    "energy.message_out": "J per message a core sends (one per spike per destination core)",
    "energy.spike_in_tile": "J per message delivered through the source tile's router",
    "energy.hop_east_west": "J per message per east-west mesh hop",
    "energy.hop_north_south": "J per message per north-south mesh hop",
    "energy.per_step_overhead": "J per time step for the whole deployment (management, host sync)",
    "energy.per_core_step_overhead": "J per used core per time step (barrier synchronisation, core sequencing)",
    "energy.static_power": "W drawn by the whole deployment regardless of chips used",
    "energy.static_power_per_chip": "W of static (leakage + idle) power per chip",
    "energy.time_per_step": "deprecated alias of timing.time_per_step",
    "energy.mac": "J per multiply-accumulate (conventional baseline)",
    "energy.accumulate": "J per accumulate (conventional device running binary spikes)",
    "energy.memory_access": "J per memory access",
    "timing.time_per_step": "s of wall-clock time per step (absent: derived from the per-op times, or real time on request)",
    "timing.synaptic_op_time": "s per synaptic op on one core",
    "timing.neuron_update_time": "s per neuron update on one core (low = idle, value = active)",
    "timing.barrier_sync_time": "s of barrier synchronisation per step",
    "timing.hop_time": "s per mesh hop",
}
TOP_KEYS = {"format", "version", "name", "kind", "description", "sources", *SCHEMA}
VALUE_KEYS = {"value", "unit", "source", "low", "high", "estimate", "note"}


@dataclass(frozen=True)
class ProfileValue:
    """One cited number, in SI units."""

    value: float
    unit: str
    source: str
    low: float
    high: float
    estimate: bool = False
    note: str = ""

    def as_dict(self) -> dict:
        return {"value": self.value, "unit": self.unit, "source": self.source, "low": self.low,
                "high": self.high, "estimate": self.estimate, "note": self.note}


@dataclass(frozen=True)
class HardwareProfile:
    """A chip (or CPU/GPU baseline) as cited data; every value in SI units.

    Use :meth:`get` for a :class:`ProfileValue`, :meth:`number` for its value and
    :meth:`int` for integer-valued facts (bit widths, limits).
    """

    name: str
    kind: str
    description: str
    sources: Mapping[str, str]
    sections: Mapping[str, Mapping[str, ProfileValue]]
    path: str = ""
    version: int = PROFILE_VERSION
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def has(self, section: str, key: str) -> bool:
        return key in self.sections.get(section, {})

    def get(self, section: str, key: str) -> ProfileValue:
        try:
            return self.sections[section][key]
        except KeyError:
            raise ProfileError("the profile does not define this value", parameter=f"{section}.{key}",
                               value=self.name, allowed=f"keys {sorted(self.sections.get(section, {}))}",
                               hint="add it to the profile file, with its source") from None

    def number(self, section: str, key: str, default: float | None = None) -> float:
        if default is not None and not self.has(section, key):
            return default
        return self.get(section, key).value

    def int(self, section: str, key: str, default: int | None = None) -> int:
        return int(round(self.number(section, key, None if default is None else float(default))))

    def citation(self, section: str, key: str) -> str:
        pv = self.get(section, key)
        return self.sources.get(pv.source, pv.source)


def _parse_value(raw: Any, path: str, dimension: str, sources: Mapping[str, str]) -> ProfileValue:
    if not isinstance(raw, Mapping):
        raise ProfileError("every profile value is a table with value, unit and source", parameter=path,
                           value=raw, hint='write {"value": 23.6, "unit": "pJ", "source": "davies2018"}')
    unknown = sorted(set(raw) - VALUE_KEYS)
    if unknown:
        raise ProfileError("unknown key in profile value", parameter=f"{path}.{unknown[0]}", value=unknown[0],
                           allowed=f"keys {sorted(VALUE_KEYS)}")
    for key in ("value", "unit", "source"):
        if key not in raw:
            raise ProfileError("missing field in profile value", parameter=f"{path}.{key}", value=None,
                               hint="every value needs value, unit and source")
    unit = raw["unit"]
    if unit not in UNITS or UNITS[unit][0] != dimension:
        allowed = sorted(u for u, (dim, _) in UNITS.items() if dim == dimension)
        raise ProfileError("wrong unit", parameter=f"{path}.unit", value=unit, allowed=f"one of {allowed}")
    if raw["source"] not in sources:
        raise ProfileError("source not listed in the profile's sources table", parameter=f"{path}.source",
                           value=raw["source"], allowed=f"one of {sorted(sources)}")
    scale = UNITS[unit][1]
    out = {}
    for key in ("value", "low", "high"):
        if key not in raw:
            continue
        v = raw[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ProfileError("expected a finite number", parameter=f"{path}.{key}", value=v)
        if dimension in ("energy", "power", "time", "bits", "bytes") and v < 0:
            raise ProfileError("negative value", parameter=f"{path}.{key}", value=v, allowed="[0, inf)")
        out[key] = float(v) * scale
    value = out["value"]
    low = out.get("low", value)
    high = out.get("high", value)
    if not low <= value <= high:
        raise ProfileError("band must satisfy low <= value <= high", parameter=path,
                           value=f"low={low}, value={value}, high={high}")
    estimate = raw.get("estimate", False)
    if not isinstance(estimate, bool):
        raise ProfileError("estimate must be true or false", parameter=f"{path}.estimate", value=estimate)
    return ProfileValue(value=value, unit=unit, source=raw["source"], low=low, high=high,
                        estimate=estimate, note=str(raw.get("note", "")))


@clean_errors(ProfileError, "profile", "compare the file with a bundled profile such as loihi2.json")
def parse_profile(data: Mapping[str, Any], origin: str = "<dict>") -> HardwareProfile:
    """Validate a parsed profile document and build a :class:`HardwareProfile`."""
    if not isinstance(data, Mapping):
        raise ProfileError("a profile is a JSON object", parameter="profile", value=type(data).__name__)
    unknown = sorted(set(data) - TOP_KEYS)
    if unknown:
        raise ProfileError("unknown key in profile", parameter=unknown[0], value=origin,
                           allowed=f"keys {sorted(TOP_KEYS)}")
    if data.get("format") != PROFILE_FORMAT:
        raise ProfileError("not a hardware profile", parameter="format", value=data.get("format"),
                           allowed=repr(PROFILE_FORMAT))
    if data.get("version") != PROFILE_VERSION:
        raise ProfileError("unsupported profile version", parameter="version", value=data.get("version"),
                           allowed=str(PROFILE_VERSION))
    for key in ("name", "kind", "sources"):
        if key not in data:
            raise ProfileError("missing field in profile", parameter=key, value=origin)
    kind = data["kind"]
    if kind not in ("neuromorphic", "conventional"):
        raise ProfileError("unknown profile kind", parameter="kind", value=kind,
                           allowed="'neuromorphic' or 'conventional'")
    sources = data["sources"]
    if not isinstance(sources, Mapping) or not sources:
        raise ProfileError("sources must be a non-empty table of key -> citation", parameter="sources",
                           value=sources)
    sections: dict[str, dict[str, ProfileValue]] = {}
    for section, keys in SCHEMA.items():
        table = data.get(section, {})
        if not isinstance(table, Mapping):
            raise ProfileError("expected a table", parameter=section, value=table)
        bad = sorted(set(table) - set(keys))
        if bad:
            raise ProfileError("unknown key in profile", parameter=f"{section}.{bad[0]}", value=bad[0],
                               allowed=f"keys {sorted(keys)}")
        parsed = {}
        section_optional = section == "number_format" and section not in data
        for key, (dimension, req_neuro, req_conv) in keys.items():
            required = (req_neuro if kind == "neuromorphic" else req_conv) and not section_optional
            if key not in table:
                if required:
                    raise ProfileError("missing field in profile", parameter=f"{section}.{key}", value=origin,
                                       hint=f"a {kind} profile must define it")
                continue
            parsed[key] = _parse_value(table[key], f"{section}.{key}", dimension, sources)
            if section in POSITIVE_INT_LIMITS:
                pv = parsed[key]
                for what, v in (("value", pv.value), ("low", pv.low), ("high", pv.high)):
                    if v <= 0 or v != int(v):
                        raise ProfileError("a limit must be a positive whole number",
                                           parameter=f"{section}.{key}.{what}", value=v, allowed="1, 2, 3, ...")
        sections[section] = parsed
    return HardwareProfile(name=str(data["name"]), kind=kind, description=str(data.get("description", "")),
                           sources=dict(sources), sections=sections, path=origin,
                           version=int(data["version"]), raw=dict(data))


def profile_dirs() -> list[Path]:
    return [PROFILE_DIR] if PROFILE_DIR.is_dir() else []


def available_profiles() -> list[str]:
    """Names of the bundled profiles."""
    names = set()
    for d in profile_dirs():
        names.update(p.stem for p in d.glob("*.json"))
    return sorted(names)


def load_profile(name_or_path: str | PathLike) -> HardwareProfile:
    """Load a bundled profile by name (``"loihi2"``) or any profile file by path."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".json" or candidate.exists():
        path = candidate
    else:
        path = next((d / f"{name_or_path}.json" for d in profile_dirs() if (d / f"{name_or_path}.json").exists()), None)
        if path is None:
            raise ProfileError("unknown hardware profile", parameter="profile", value=str(name_or_path),
                               allowed=f"one of {available_profiles()} or a path to a .json profile")
    if not path.exists():
        raise ProfileError("profile file not found", parameter="profile", value=str(path))
    try:
        data = read_json(path)
    except Exception as exc:  # ArtifactError carries the reason; re-badge it as a profile problem
        raise ProfileError(f"cannot read profile ({exc})", parameter="profile", value=str(path)) from None
    return parse_profile(data, origin=str(path))
