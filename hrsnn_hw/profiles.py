"""Hardware profiles: cited chip facts (number formats, per-core limits, energies, times) as data.

Code never hard-codes a bit width, a limit or a picojoule: it asks a
:class:`HardwareProfile`. A profile is a JSON file (``hardware_profiles/<name>.json``)
validated by the JSON Schema ``hrsnn_hw/schemas/hardware_profile.schema.json`` (with the
``jsonschema`` library); every value is a table ``{"value", "unit", "source"}`` with
optional ``low`` / ``high`` (a band where sources differ or a value is derived with a
bound), ``estimate`` (true where no measurement exists), ``note`` (the derivation) and,
for the barrier time, ``by_tiles`` (a step table of the tiles used). ``source`` names an
entry of the file's ``sources`` table. Values are converted to SI on load.

What each key means is the ``description`` of its property in the schema
(:data:`KEY_DOCS`). Two top-level fields name the conventions the energy model applies:
``static_model`` (``per_chip``, ``in_event_energy``, ``none_published``, ``excluded``) and
``time_model`` (``compute``, ``tick``, ``real_time``, ``none``). A profile without a
``number_format`` section is an energy-only profile (TrueNorth, SpiNNaker 2): it can map
and price a network but not quantize one.
"""
from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

from .errors import ProfileError, clean_errors
from .io import PathLike, read_json

PROFILE_FORMAT = "hrsnn_hw.hardware_profile"
PROFILE_VERSION = 2
# The bundled profiles and the schema ship inside the package (one copy), found through importlib.resources.
PROFILE_DIR = Path(str(resources.files("hrsnn_hw") / "hardware_profiles"))
SCHEMA_PATH = Path(str(resources.files("hrsnn_hw") / "schemas" / "hardware_profile.schema.json"))

#: unit -> SI factor (the schema fixes which units each key accepts).
UNITS: dict[str, float] = {
    "J": 1.0, "mJ": 1e-3, "uJ": 1e-6, "nJ": 1e-9, "pJ": 1e-12, "fJ": 1e-15,
    "W": 1.0, "mW": 1e-3, "uW": 1e-6,
    "s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9,
    "bit": 1.0, "count": 1.0, "shift": 1.0, "byte": 8.0, "KiB": 8192.0,
}
SECTIONS = ("number_format", "core_limits", "energy", "timing")


@functools.lru_cache(maxsize=1)
def schema() -> dict:
    """The profile JSON Schema (draft 2020-12)."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def _validator():
    import jsonschema
    cls = jsonschema.validators.validator_for(schema())
    cls.check_schema(schema())
    return cls(schema())


def _key_docs() -> dict[str, str]:
    out = {}
    for section in SECTIONS:
        for key, prop in schema()["properties"][section]["properties"].items():
            out[f"{section}.{key}"] = prop.get("description", "")
    return out


#: ``"section.key"`` -> what the value means (per which event, per which unit of hardware).
KEY_DOCS: dict[str, str] = _key_docs()


@dataclass(frozen=True)
class ProfileValue:
    """One cited number, in SI units (``by_tiles``: ``((tiles, seconds), ...)`` step table)."""

    value: float
    unit: str
    source: str
    low: float
    high: float
    estimate: bool = False
    note: str = ""
    by_tiles: tuple[tuple[int, float], ...] = ()

    def as_dict(self) -> dict:
        out = {"value": self.value, "unit": self.unit, "source": self.source, "low": self.low,
               "high": self.high, "estimate": self.estimate, "note": self.note}
        if self.by_tiles:
            out["by_tiles"] = [list(p) for p in self.by_tiles]
        return out

    def at_tiles(self, tiles: int) -> float:
        """The value for ``tiles`` tiles: the entry of the largest key <= tiles (SANA-FE's
        lookup), the first entry below every key; ``value`` without a table."""
        if not self.by_tiles:
            return self.value
        chosen = self.by_tiles[0][1]
        for key, val in self.by_tiles:
            if key <= tiles:
                chosen = val
        return chosen


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
    static_model: str = "per_chip"
    time_model: str = "compute"
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


def _dotted(path) -> str:
    return ".".join(str(p) for p in path)


def _schema_error(data: Any, origin: str) -> ProfileError | None:
    """The most relevant schema violation as a ProfileError naming the field, or None."""
    import jsonschema
    errors = list(_validator().iter_errors(data))
    if not errors:
        return None
    # Deepest, most specific error first: 'required'/'additionalProperties' name the key itself.
    err = jsonschema.exceptions.best_match(errors, key=lambda e: (-len(e.absolute_path), e.validator != "required"))
    path = list(err.absolute_path)
    where = _dotted(path)
    inst = err.instance
    if err.validator == "required":
        missing = next(k for k in err.validator_value if isinstance(inst, Mapping) and k not in inst)
        param = _dotted(path + [missing])
        hint = None
        if len(path) == 1 and path[0] in SECTIONS:
            hint = f"a {data.get('kind')} profile with this static/time model must define it" \
                   if isinstance(data, Mapping) else None
        elif len(path) == 2:
            hint = "every value needs value, unit and source"
        return ProfileError("missing field in profile", parameter=param, value=origin, hint=hint)
    if err.validator == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        unknown = sorted(set(inst) - set(allowed)) if isinstance(inst, Mapping) else []
        param = _dotted(path + unknown[:1]) if unknown else where
        return ProfileError("unknown key in profile", parameter=param, value=unknown[0] if unknown else inst,
                            allowed=f"keys {allowed}")
    if err.validator in ("enum", "const"):
        allowed = err.validator_value if err.validator == "enum" else [err.validator_value]
        what = {"unit": "wrong unit", "format": "not a hardware profile",
                "version": "unsupported profile version"}.get(str(path[-1]) if path else "", "value not allowed")
        return ProfileError(what, parameter=where or "profile", value=inst, allowed=f"one of {allowed}",
                            hint="version 1 profiles: re-write them with the keys of the version 2 schema"
                            if path == ["version"] else None)
    if err.validator == "minimum":
        what = "negative value" if err.validator_value == 0 else \
            ("a limit must be a positive whole number" if err.validator_value == 1 else "value too small")
        return ProfileError(what, parameter=where, value=inst, allowed=f">= {err.validator_value}")
    if err.validator == "type":
        if err.validator_value == "integer" and isinstance(inst, (int, float)) and not isinstance(inst, bool):
            return ProfileError("a limit or bit width must be a whole number", parameter=where, value=inst,
                                allowed="1, 2, 3, ...")
        hint = 'write {"value": 23.6, "unit": "pJ", "source": "davies2018"}' \
            if err.validator_value == "object" and len(path) == 2 else None
        return ProfileError(f"expected {err.validator_value}", parameter=where or "profile",
                            value=inst if not isinstance(inst, (dict, list)) else type(inst).__name__, hint=hint)
    return ProfileError(f"profile does not match its schema ({err.message})", parameter=where or "profile",
                        value=origin)


def _value(raw: Mapping[str, Any], path: str, sources: Mapping[str, str]) -> ProfileValue:
    """A schema-valid value table -> ProfileValue in SI (checks what a schema cannot)."""
    if raw["source"] not in sources:
        raise ProfileError("source not listed in the profile's sources table", parameter=f"{path}.source",
                           value=raw["source"], allowed=f"one of {sorted(sources)}")
    scale = UNITS[raw["unit"]]
    value = float(raw["value"]) * scale
    low = float(raw.get("low", raw["value"])) * scale
    high = float(raw.get("high", raw["value"])) * scale
    for key, v in (("value", value), ("low", low), ("high", high)):
        if not math.isfinite(v):
            raise ProfileError("expected a finite number", parameter=f"{path}.{key}", value=v)
    if not low <= value <= high:
        raise ProfileError("band must satisfy low <= value <= high", parameter=path,
                           value=f"low={low}, value={value}, high={high}")
    table = tuple((int(k), float(v) * scale) for k, v in raw.get("by_tiles", ()))
    if table and [k for k, _ in table] != sorted({k for k, _ in table}):
        raise ProfileError("by_tiles keys must increase", parameter=f"{path}.by_tiles",
                           value=[k for k, _ in table])
    return ProfileValue(value=value, unit=raw["unit"], source=raw["source"], low=low, high=high,
                        estimate=bool(raw.get("estimate", False)), note=str(raw.get("note", "")), by_tiles=table)


@clean_errors(ProfileError, "profile", "compare the file with a bundled profile such as loihi2.json")
def parse_profile(data: Mapping[str, Any], origin: str = "<dict>") -> HardwareProfile:
    """Validate a parsed profile document against the schema and build a :class:`HardwareProfile`.

    Raises
    ------
    ProfileError
        Naming the offending field (``energy.synaptic_op.unit``), its value and what is allowed.
    """
    if not isinstance(data, Mapping):
        raise ProfileError("a profile is a JSON object", parameter="profile", value=type(data).__name__)
    problem = _schema_error(data, origin)
    if problem is not None:
        raise problem
    sources = data["sources"]
    sections = {section: {key: _value(raw, f"{section}.{key}", sources)
                          for key, raw in data.get(section, {}).items()} for section in SECTIONS}
    return HardwareProfile(name=str(data["name"]), kind=data["kind"], description=str(data.get("description", "")),
                           sources=dict(sources), sections=sections, static_model=data["static_model"],
                           time_model=data["time_model"], path=origin, version=int(data["version"]),
                           raw=dict(data))


def profile_dirs() -> list[Path]:
    return [PROFILE_DIR] if PROFILE_DIR.is_dir() else []


def available_profiles() -> list[str]:
    """Names of the bundled profiles."""
    names = set()
    for d in profile_dirs():
        names.update(p.stem for p in d.glob("*.json"))
    return sorted(names)


def load_profile(name_or_path: str | PathLike | HardwareProfile) -> HardwareProfile:
    """Load a bundled profile by name (``"loihi2"``) or any profile file by path (a profile passes through)."""
    if isinstance(name_or_path, HardwareProfile):
        return name_or_path
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
