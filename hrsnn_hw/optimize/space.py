"""The search space: which numbers of a design the optimiser may change, and within what bounds.

A search parameter is a dotted path into a *design* dict (the file format of
the reference design ``hrsnn``) plus bounds::

    populations.exc.tau_m.mean      mean of the gamma distribution of exc membrane time constants
    populations.exc.tau_m.cv        its coefficient of variation (the heterogeneity; 0 = homogeneous)
    stdp.exc->exc.eta_plus.cv       spread of the per-synapse LTP rate
    projections.exc->exc.p          any scalar: a connection probability, ...
    projections.input->exc.weight.mean

A path may end at a plain number of the design, or at a field of a distribution table
(``mean``, ``cv``, ``min``, ...). A path ``<param>.mean`` or ``<param>.cv`` whose
``<param>`` is a plain number *opens* that parameter: it becomes
``{"dist": "gamma", "mean": <number>, "cv": 0}`` before the searched value is written, so
``populations.exc.tau_syn.cv`` makes synaptic time constants heterogeneous (an opened number
whose cv stays 0 is written back as a plain number: the same network). Design keys
that contain a dot cannot be addressed (no reference design has one).

Search space file (``the bundled search_space.json`` is the default)::

    {"format": "hrsnn_hw.search_space", "version": 1, "description": "...",
     "params": {"populations.exc.tau_m.mean": {"low": 0.005, "high": 0.08, "log": true,
                                                "note": "free text"},
                "populations.exc.tau_m.cv":   {"low": 0.0, "high": 1.5}}}

``log`` samples (and models, in the GP) the parameter on a log scale; ``int`` makes it
an integer (bounds then must be integers). On the command line the same parameter is
``--param populations.exc.tau_m.mean=0.005:0.08:log`` (suffixes ``:log`` and ``:int``).
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..errors import HrsnnError, SpecError
from ..spec.distributions import DIST_KEYS

SPACE_FORMAT = "hrsnn_hw.search_space"
SPACE_VERSION = 1
PARAM_KEYS = {"low", "high", "log", "int", "note"}
# A plain number opened into a distribution by searching one of these fields.
OPENING_FIELDS = ("mean", "cv")


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


@dataclass(frozen=True)
class SearchParam:
    """One searched number of a design.

    Attributes
    ----------
    path : str
        Dotted path into the design dict (also the optuna parameter name).
    low, high : float
        Inclusive bounds, in the design's units (seconds, volts, probabilities, ...).
    log : bool
        Sample and model on a log scale (needs ``low > 0``).
    integer : bool
        Integer-valued parameter (integer bounds).
    note : str
        Free text carried from the search space file.
    """

    path: str
    low: float
    high: float
    log: bool = False
    integer: bool = False
    note: str = ""

    def __post_init__(self) -> None:
        for key in ("low", "high"):
            value = getattr(self, key)
            if not _is_number(value) or not math.isfinite(float(value)):
                raise SpecError("search bound must be a finite number", parameter=f"{self.path}.{key}",
                                value=value, allowed="finite numbers",
                                hint="write the bounds as low:high, e.g. populations.exc.tau_m.cv=0.0:1.5")
            object.__setattr__(self, key, float(value))
        if not self.low < self.high:
            raise SpecError("search bounds must satisfy low < high", parameter=self.path,
                            value=f"low={self.low:g}, high={self.high:g}", allowed="low < high",
                            hint="swap the bounds" if self.low > self.high else
                            "a fixed value is not searched: write it into the design instead")
        if self.log and self.low <= 0:
            raise SpecError("a log-scale parameter needs low > 0", parameter=self.path,
                            value=f"low={self.low:g}", allowed="(0, high)",
                            hint="raise the lower bound or drop the log flag")
        if self.integer and (self.low != int(self.low) or self.high != int(self.high)):
            raise SpecError("an integer parameter needs integer bounds", parameter=self.path,
                            value=f"{self.low:g}:{self.high:g}", allowed="integers")

    def distribution(self) -> Any:
        """The optuna distribution of this parameter."""
        from optuna.distributions import FloatDistribution, IntDistribution
        if self.integer:
            return IntDistribution(int(self.low), int(self.high), log=self.log)
        return FloatDistribution(self.low, self.high, log=self.log)

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"low": self.low, "high": self.high}
        if self.log:
            out["log"] = True
        if self.integer:
            out["int"] = True
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class SearchSpace:
    """An ordered set of :class:`SearchParam` (order = GP input order).

    Attributes
    ----------
    params : tuple of SearchParam
        The searched parameters, unique paths.
    source : str
        Where the space came from (file path, ``"command line"``), for messages.
    """

    params: tuple[SearchParam, ...]
    source: str = "<dict>"

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", tuple(self.params))
        if not self.params:
            raise SpecError("the search space is empty", parameter="params", value=0, allowed=">= 1 parameter",
                            hint="give --param PATH=LOW:HIGH or a search space file (the bundled search_space.json)")
        seen: set[str] = set()
        for p in self.params:
            if p.path in seen:
                raise SpecError("search parameter given twice", parameter=p.path, value=p.path)
            seen.add(p.path)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.path for p in self.params)

    def __len__(self) -> int:
        return len(self.params)

    def distributions(self) -> dict[str, Any]:
        """``{path: optuna distribution}`` in order."""
        return {p.path: p.distribution() for p in self.params}

    def to_dict(self, description: str = "") -> dict:
        """File form (see module docstring)."""
        out: dict[str, Any] = {"format": SPACE_FORMAT, "version": SPACE_VERSION}
        if description:
            out["description"] = description
        out["params"] = {p.path: p.to_dict() for p in self.params}
        return out

    def merged(self, other: "SearchSpace") -> "SearchSpace":
        """This space with ``other``'s parameters added; ``other`` wins on a shared path."""
        mine = {p.path: p for p in self.params}
        for p in other.params:
            mine[p.path] = p
        return SearchSpace(tuple(mine.values()), source=f"{self.source} + {other.source}")

    def validate(self, design: Mapping[str, Any], *, check_build: bool = True) -> None:
        """Check every path against ``design`` and that both bounds give a valid design.

        Raises
        ------
        SpecError
            Naming the search parameter: unknown path, a path to a table or list, a field a
            distribution cannot take, or a bound that makes ``build_spec`` fail.
        """
        for p in self.params:
            _resolve(design, p.path)
        if not check_build:
            return
        from ..spec import build_spec
        for p in self.params:
            for label, value in (("low", p.low), ("high", p.high)):
                trial = apply_values(design, {p.path: int(value) if p.integer else value})
                try:
                    build_spec(trial)
                except HrsnnError as exc:
                    raise SpecError(f"the {label} bound of a search parameter gives an invalid design ({exc})",
                                    parameter=p.path, value=value,
                                    hint="narrow the bounds to values the design accepts") from None

    def values_in(self, design: Mapping[str, Any]) -> dict[str, float] | None:
        """The values ``design`` itself has for the searched parameters (a plain number searched
        through ``.mean`` reads as that number, through ``.cv`` as 0), or None when one is
        missing or outside its bounds: the point of the space the design is."""
        out: dict[str, float] = {}
        for p in self.params:
            try:
                kind = _resolve(design, p.path)
            except SpecError:
                return None
            parts = p.path.split(".")
            node: Any = design
            for part in parts[:-1]:
                node = node[part]
            if kind == "open":
                value = float(node) if parts[-1] == "mean" else 0.0
            elif parts[-1] in node and _is_number(node[parts[-1]]):
                value = float(node[parts[-1]])
            else:
                return None
            if not p.low <= value <= p.high or (p.integer and value != int(value)):
                return None
            out[p.path] = int(value) if p.integer else value
        return out

    def apply(self, design: Mapping[str, Any], values: Mapping[str, float]) -> dict:
        """A new design with the searched values written in (``design`` is not modified)."""
        unknown = sorted(set(values) - set(self.names))
        if unknown:
            raise SpecError("value for a parameter outside the search space", parameter=unknown[0],
                            value=values[unknown[0]], allowed=f"one of {list(self.names)}")
        return apply_values(design, values)


def _resolve(design: Mapping[str, Any], path: str) -> str:
    """Check one path; return how it is written: ``"scalar"``, ``"field"`` or ``"open"``."""
    if not isinstance(path, str) or not path or any(not part for part in path.split(".")):
        raise SpecError("a search parameter is a dotted path into the design", parameter="path", value=path,
                        hint="for example populations.exc.tau_m.cv")
    parts = path.split(".")
    node: Any = design
    for depth, part in enumerate(parts):
        prefix = ".".join(parts[:depth]) or "<top level>"
        last = depth == len(parts) - 1
        if isinstance(node, Mapping) and "dist" in node:
            # Inside a distribution table: only the fields that distribution takes.
            dist = node.get("dist")
            allowed = sorted(DIST_KEYS.get(dist, set()) - {"dist"})
            if not last or part not in allowed:
                raise SpecError(f"not a field of a {dist!r} distribution", parameter=path, value=part,
                                allowed=f"one of {allowed}" if last else "a path ending at that field")
            if dist == "gamma":
                form_cv = "mean" in node or "cv" in node
                if (form_cv and part in ("shape", "scale")) or (not form_cv and part in ("mean", "cv")):
                    raise SpecError("this gamma distribution is written the other way (mean/cv vs shape/scale)",
                                    parameter=path, value=part,
                                    hint=f"rewrite {prefix} as {{\"dist\": \"gamma\", \"mean\": ..., \"cv\": ...}} "
                                         "or search its shape/scale")
            if part in node and not _is_number(node[part]):
                raise SpecError("the distribution field is not a number", parameter=path, value=node[part])
            return "field"
        if _is_number(node):
            if last and part in OPENING_FIELDS and depth == len(parts) - 1:
                return "open"
            raise SpecError("path goes past a plain number", parameter=path, value=prefix,
                            hint=f"search {prefix} itself, or {prefix}.mean / {prefix}.cv to make it a "
                                 "gamma distribution")
        if not isinstance(node, Mapping) or part not in node:
            keys = sorted(node) if isinstance(node, Mapping) else []
            raise SpecError("unknown search path", parameter=path, value=part,
                            allowed=f"keys under {prefix}: {keys}" if keys else None,
                            hint="paths follow the design file, e.g. populations.exc.tau_m.cv or "
                                 "stdp.exc->exc.eta_plus.cv")
        node = node[part]
    if isinstance(node, Mapping):
        fields = sorted(DIST_KEYS.get(node.get("dist"), set()) - {"dist"}) if "dist" in node else sorted(node)
        raise SpecError("the path names a table, not a number", parameter=path, value="table",
                        allowed=f"a path ending in one of {fields}")
    if isinstance(node, (list, tuple)):
        raise SpecError("the path names an explicit per-element list, which cannot be searched",
                        parameter=path, value="list", hint="write the parameter as a distribution in the design")
    if not _is_number(node):
        raise SpecError("the path does not name a number", parameter=path, value=node)
    return "scalar"


def apply_values(design: Mapping[str, Any], values: Mapping[str, float]) -> dict:
    """Write ``{path: value}`` into a deep copy of ``design`` (paths as in the module docstring)."""
    out = copy.deepcopy(dict(design))
    out.pop("design", None)  # a materialised spec's provenance would override the new values
    opened: list[tuple[Any, str]] = []
    for path, value in values.items():
        kind = _resolve(out, path)
        parts = path.split(".")
        parent: Any = out
        for part in parts[:-2]:
            parent = parent[part]
        if kind == "open":
            key = parts[-2]
            parent[key] = {"dist": "gamma", "mean": float(parent[key]), "cv": 0.0}
            opened.append((parent, key))
            parent = parent[key]
        elif len(parts) > 1:
            parent = parent[parts[-2]]
        parent[parts[-1]] = int(value) if isinstance(value, (int,)) and not isinstance(value, bool) else float(value)
    # An opened number that stayed without spread is written back as a number: the same network
    # (a gamma of cv 0 samples its mean), and homogeneous designs keep their plain form.
    for parent, key in opened:
        if float(parent[key]["cv"]) == 0.0:
            parent[key] = float(parent[key]["mean"])
    return out


def _parse_flag(value: Any, path: str, key: str) -> bool:
    if not isinstance(value, bool):
        raise SpecError("expected true or false", parameter=f"{path}.{key}", value=value)
    return value


def space_from_dict(data: Mapping[str, Any], source: str = "<dict>") -> SearchSpace:
    """Parse the file form of a search space (see module docstring)."""
    if not isinstance(data, Mapping):
        raise SpecError("a search space file holds a JSON object", parameter=source, value=type(data).__name__)
    unknown = sorted(set(data) - {"format", "version", "description", "params"})
    if unknown:
        raise SpecError("unknown key in search space file", parameter=unknown[0], value=unknown[0],
                        allowed="format, version, description, params")
    if data.get("format", SPACE_FORMAT) != SPACE_FORMAT:
        raise SpecError("not a search space file", parameter="format", value=data.get("format"),
                        allowed=repr(SPACE_FORMAT))
    if data.get("version", SPACE_VERSION) != SPACE_VERSION:
        raise SpecError("unsupported search space version", parameter="version", value=data.get("version"),
                        allowed=str(SPACE_VERSION))
    params = data.get("params")
    if not isinstance(params, Mapping):
        raise SpecError("missing table of search parameters", parameter="params", value=params,
                        hint='{"params": {"populations.exc.tau_m.cv": {"low": 0, "high": 1.5}}}')
    out = []
    for path, tab in params.items():
        if not isinstance(tab, Mapping):
            raise SpecError("a search parameter is a table with low and high", parameter=path, value=tab)
        bad = sorted(set(tab) - PARAM_KEYS)
        if bad:
            raise SpecError("unknown key in search parameter", parameter=f"{path}.{bad[0]}", value=bad[0],
                            allowed=f"keys {sorted(PARAM_KEYS)}")
        for key in ("low", "high"):
            if key not in tab:
                raise SpecError("missing search bound", parameter=f"{path}.{key}", value=None)
        out.append(SearchParam(path=str(path), low=tab["low"], high=tab["high"],
                               log=_parse_flag(tab.get("log", False), path, "log"),
                               integer=_parse_flag(tab.get("int", False), path, "int"),
                               note=str(tab.get("note", ""))))
    return SearchSpace(tuple(out), source=source)


def read_space_file(path: str | Path) -> SearchSpace:
    """Read a search space file (JSON, or TOML by suffix)."""
    from ..spec import read_spec_file
    path = Path(path)
    try:
        data = read_spec_file(path)
    except SpecError as exc:
        raise SpecError(f"cannot read search space file ({exc})", parameter="space", value=str(path),
                        hint="the default is the bundled search_space.json") from None
    return space_from_dict(data, source=str(path))


def _bound(text: str, spec: str, key: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise SpecError("search bound is not a number", parameter=spec.split("=", 1)[0], value=text,
                        hint="PATH=LOW:HIGH[:log][:int], e.g. populations.exc.tau_m.cv=0.0:1.5") from None
    if not math.isfinite(value):
        raise SpecError("search bound must be finite", parameter=f"{spec.split('=', 1)[0]}.{key}", value=text,
                        allowed="finite numbers")
    return value


def parse_param(spec: str) -> SearchParam:
    """Parse one ``PATH=LOW:HIGH[:log][:int]`` command-line parameter."""
    if not isinstance(spec, str) or "=" not in spec:
        raise SpecError("a search parameter is PATH=LOW:HIGH", parameter="--param", value=spec,
                        hint="for example --param populations.exc.tau_m.cv=0.0:1.5")
    path, rest = (s.strip() for s in spec.split("=", 1))
    fields = [f.strip() for f in rest.split(":")]
    if len(fields) < 2:
        raise SpecError("a search parameter needs two bounds LOW:HIGH", parameter=path or "--param", value=rest,
                        hint="for example populations.exc.tau_m.cv=0.0:1.5")
    flags = fields[2:]
    bad = [f for f in flags if f not in ("log", "int")]
    if bad:
        raise SpecError("unknown flag on a search parameter", parameter=path, value=bad[0],
                        allowed="'log' and/or 'int'")
    low, high = _bound(fields[0], spec, "low"), _bound(fields[1], spec, "high")
    return SearchParam(path=path, low=low, high=high, log="log" in flags, integer="int" in flags)


def space_from_cli(specs: Iterable[str]) -> SearchSpace:
    """A search space from repeated ``--param`` values."""
    return SearchSpace(tuple(parse_param(s) for s in specs), source="command line")
