"""Validation of command-line input, shared by every subcommand.

Two layers, both before the first stage starts:

* argparse types (:func:`positive_int`, :func:`seed_value`, :func:`profile_name`, ...) reject
  a malformed value while the command line is parsed, naming the value, the allowed range
  and a hint (exit 2);
* pre-flight checks (:func:`check_pipeline`, :func:`check_design`, ...) called from a
  subcommand's ``check(args)``: designs, tasks and profiles are read and validated, and the
  memory the run will need is estimated and compared with the machine's, before anything
  is trained or allocated.
"""
from __future__ import annotations

import argparse
import math
import re
from pathlib import Path
from typing import Any, Callable

from ..errors import DataError, HrsnnError, ProfileError, SpecError

SEED_MAX = 2**31 - 1
COUNT_MAX = 10**9


def _type_error(text: str, value: str, allowed: str, hint: str | None = None) -> argparse.ArgumentTypeError:
    msg = f"{text}; value: {value!r}; allowed: {allowed}"
    if hint:
        msg += f"; hint: {hint}"
    return argparse.ArgumentTypeError(msg)


def _int_in(text: str, lo: int, hi: int, what: str) -> int:
    try:
        value = int(str(text).strip(), 10)
    except ValueError:
        raise _type_error(f"expected an integer ({what})", text, f"integers in [{lo}, {hi}]") from None
    if not lo <= value <= hi:
        raise _type_error(f"out of range ({what})", text, f"integers in [{lo}, {hi}]")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1 (counts: samples, seeds, workers, budgets)."""
    return _int_in(text, 1, COUNT_MAX, "a count, at least 1")


def nonneg_int(text: str) -> int:
    """An integer >= 0 (epochs: 0 means no training)."""
    return _int_in(text, 0, COUNT_MAX, "at least 0")


def seed_value(text: str) -> int:
    """A random seed in [0, 2**31 - 1]."""
    return _int_in(text, 0, SEED_MAX, "a seed")


def _float(text: str) -> float:
    try:
        value = float(str(text).strip())
    except ValueError:
        raise _type_error("expected a number", text, "finite numbers") from None
    if not math.isfinite(value):
        raise _type_error("expected a finite number", text, "finite numbers")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0."""
    value = _float(text)
    if value <= 0:
        raise _type_error("must be positive", text, "(0, inf)")
    return value


_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
_UNITS = {"": 2**30, "b": 1, "k": 1e3, "kb": 1e3, "kib": 2**10, "m": 1e6, "mb": 1e6, "mib": 2**20,
          "g": 1e9, "gb": 1e9, "gib": 2**30, "t": 1e12, "tb": 1e12, "tib": 2**40}


def memory_size(text: str) -> float:
    """A memory size (``8GiB``, ``500MB``, a bare number in GiB) or ``off`` (no limit) -> bytes."""
    if str(text).strip().lower() in ("off", "none", "inf", "unlimited"):
        return math.inf
    m = _SIZE.match(str(text))
    unit = (m.group(2) or "").lower() if m else None
    if m is None or unit not in _UNITS:
        raise _type_error("expected a memory size", text, "e.g. 8GiB, 500MB, 16 (GiB) or off")
    value = float(m.group(1)) * _UNITS[unit]
    if value <= 0:
        raise _type_error("memory size must be positive", text, "> 0")
    return value


def output_dir(text: str) -> Path:
    """An output folder: not empty, not an existing file."""
    if not str(text).strip():
        raise _type_error("the output folder is empty", text, "a folder path",
                          "give a folder, e.g. --out runs/mine (an empty --out would write into the current folder)")
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise _type_error("the output folder is a file", text, "a folder (existing or new)")
    return path


def existing_file(text: str) -> Path:
    """A path to an existing, readable file."""
    path = Path(text)
    if not str(text).strip() or not path.is_file():
        raise _type_error("file not found" if not path.exists() else "not a file", text, "an existing file")
    return path


def _profile(text: str, *, quantizable: bool = False):
    from ..profiles import available_profiles, load_profile
    if not str(text).strip():
        raise _type_error("empty profile name", text, f"one of {available_profiles()} or a .json file")
    try:
        profile = load_profile(str(text).strip())
    except ProfileError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if quantizable and not profile.sections.get("number_format"):
        can = [n for n in available_profiles() if load_profile(n).sections.get("number_format")]
        raise _type_error("this profile has no number format, so a network cannot be quantized for it",
                          text, f"one of {can} or a .json profile with a number_format section",
                          "energy-only profiles can be priced (--energy-profiles) but not deployed")
    return profile


def profile_name(text: str) -> str:
    """A bundled hardware profile's name or a profile file, validated now (not after training)."""
    _profile(text)
    return str(text).strip()


def deploy_profile(text: str) -> str:
    """A profile a network can be quantized for (it has a ``number_format`` section)."""
    _profile(text, quantizable=True)
    return str(text).strip()


def profile_list(text: str) -> str:
    """Comma-separated profiles, each validated; returned as given (callers split it)."""
    names = [p.strip() for p in str(text).split(",") if p.strip()]
    if not names:
        raise _type_error("no profile given", text, "comma-separated profile names or .json files")
    for name in names:
        _profile(name)
    return ",".join(names)


def task_name(text: str) -> str:
    """A bundled task's name or the path of an existing ``.npz``/``.csv`` data file."""
    from ..tasks import known_tasks
    text = str(text).strip()
    if text in known_tasks():
        return text
    path = Path(text)
    if path.suffix.lower() in (".npz", ".csv"):
        if not path.is_file():
            raise _type_error("data file not found", text, "an existing .npz or .csv file")
        return text
    raise _type_error("unknown task", text, f"one of {list(known_tasks())} or the path of an .npz/.csv file",
                      "check the spelling")


def design_ref(text: str) -> str:
    """A bundled design's name or a design file (read and validated in the pre-flight check)."""
    from ..reference import REFERENCE_DESIGNS
    text = str(text).strip()
    path = Path(text)
    if not text:
        raise _type_error("empty design", text, f"one of {list(REFERENCE_DESIGNS)} or a design file")
    if text in REFERENCE_DESIGNS and not path.exists():
        return text
    if not path.exists():
        raise _type_error("design file not found", text, f"one of {list(REFERENCE_DESIGNS)} or a design file")
    if path.is_dir():
        raise _type_error("the design is a folder", text, "a .json or .toml design file")
    return text


def int_list(what: str, *, lo: int = 1, hi: int = COUNT_MAX, allow_none: bool = False) -> Callable[[str], tuple]:
    """An argparse type: comma-separated integers in [lo, hi] (and ``none`` if allowed)."""
    def parse(text: str) -> tuple:
        out: list[int | None] = []
        items = [s.strip().lower() for s in str(text).split(",") if s.strip()]
        if not items:
            raise _type_error(f"empty list ({what})", text, f"comma-separated integers in [{lo}, {hi}]")
        for item in items:
            if allow_none and item == "none":
                out.append(None)
                continue
            out.append(_int_in(item, lo, hi, what))
        return tuple(out)
    return parse


# -- pre-flight -----------------------------------------------------------------------------

def read_design(ref: str, parameter: str = "design") -> dict:
    """Read a design file (or bundled design) into a dict; any problem is a SpecError naming it."""
    from ..reference import resolve_design
    from ..spec import read_spec_file
    try:
        data = read_spec_file(resolve_design(ref))
    except HrsnnError:
        raise
    except (OSError, ValueError, RecursionError) as exc:
        raise SpecError(f"cannot read the design ({type(exc).__name__}: {exc})", parameter=parameter,
                        value=str(ref)) from None
    if not isinstance(data, dict):
        raise SpecError("a design file holds one JSON/TOML object", parameter=parameter, value=type(data).__name__,
                        hint="see the bundled hrsnn.json for the layout")
    return data


def check_design(ref: str | dict, *, parameter: str = "design", n_input: int | None = None,
                 max_memory: float | None = None) -> dict:
    """Read a design, refuse it if holding it would not fit in memory, and validate it.

    Returns the design dict. The memory check runs before the design is sampled (sampling a
    10^9-neuron design would itself allocate for minutes).
    """
    from ..io import safe_filename
    from ..resources import check_memory, network_estimate
    from ..spec import build_spec
    design = read_design(ref, parameter) if not isinstance(ref, dict) else ref
    what = f"the design {ref}" if isinstance(ref, str) else "the design"
    check_memory(network_estimate(design, n_input), max_memory, what=what)
    if "name" in design:
        safe_filename(design.get("name"), parameter=f"{parameter}: name")
    try:
        build_spec(design, n_input=n_input)
    except HrsnnError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, OverflowError, RecursionError) as exc:
        raise SpecError(f"the design cannot be read ({type(exc).__name__}: {exc})", parameter=parameter,
                        value=str(ref) if isinstance(ref, str) else None,
                        hint="compare it with the bundled hrsnn.json") from None
    return design


def check_pipeline(args: argparse.Namespace) -> None:
    """Pre-flight of the pipeline commands (run, train, quantize, deploy, verify, sweep, energy).

    Reads every design, estimates the memory of the networks (at the task's encoded input
    width), the data and the records before anything is loaded or trained, then validates
    the designs themselves.
    """
    from ..experiment import ExperimentConfig
    from ..resources import (MemoryEstimate, check_memory, data_estimate, encoded_width, network_estimate,
                             network_size, records_estimate)
    designs = [("spec", args.spec)]
    baseline = getattr(args, "baseline", None)
    if baseline not in (None, "none", "twin"):
        designs.append(("--baseline", baseline))
    quick = bool(getattr(args, "quick", False))
    limit = getattr(args, "max_memory", None)
    cfg = ExperimentConfig.default(quick=quick)
    n_input = encoded_width(args.task, quick)
    lava = getattr(args, "lava_samples", None) or (1 if quick else 3)
    total = data_estimate(args.task, quick=quick, steps_per_frame=cfg.steps_per_frame, n_encoded=n_input)
    for parameter, ref in designs:
        design = read_design(ref, parameter)
        copies = 2 if (parameter == "spec" and baseline == "twin") else 1
        net = network_estimate(design, n_input)
        total = total + MemoryEstimate({k: v * copies for k, v in net.terms.items()})
        total = total + records_estimate(network_size(design, n_input)[0], args.task, quick=quick,
                                         steps_per_frame=cfg.steps_per_frame, mc_frames=cfg.mc_frames,
                                         lava_samples=lava, designs=copies)
    check_memory(total, limit, what="this run")
    args._memory_estimate = total.as_dict()
    for parameter, ref in designs:
        check_design(ref, parameter=parameter, max_memory=limit)
    from ..tasks import known_tasks, load_task
    if args.task not in known_tasks():
        load_task(args.task, quick=quick)  # a user's file: every DataError now, not after training starts


def load_input_artifact(load: Callable[[Any], Any], path: Path, parameter: str) -> Any:
    """Load a user-given artifact file; a damaged or wrong file is bad input (exit 2), not a crash."""
    try:
        return load(path)
    except HrsnnError as exc:
        raise DataError(f"cannot use this file: {exc.message}", parameter=parameter, value=str(path),
                        hint=exc.hint or "give a file written by hrsnn-hw (see `hrsnn-hw deploy --help`)") from None
    except Exception as exc:  # a readable file of the right kind whose content its class refuses
        raise DataError(f"cannot use this file ({type(exc).__name__}: {exc})", parameter=parameter,
                        value=str(path)) from None


def check_same_network(qnet: Any, record: Any, pair: str) -> None:
    """Refuse a record that was not produced by this quantized network (checked by provenance)."""
    prov = dict(getattr(record, "provenance", {}) or {})
    qprov = dict(getattr(qnet, "provenance", {}) or {})
    problems = []
    n = getattr(qnet, "n_neurons", None)
    if n is None:
        n = sum(int(getattr(p, "n", 0)) for p in getattr(qnet, "populations", ())) or None
    if n is not None and record.n_neurons != n:
        problems.append(f"{record.n_neurons} neurons in the record, {n} in the network")
    n_in = getattr(qnet, "n_input", None)
    if n_in is not None and record.input_spikes is not None and record.input_spikes.shape[-1] != n_in:
        problems.append(f"{record.input_spikes.shape[-1]} inputs in the record, {n_in} in the network")
    if prov.get("design") is not None and prov.get("design") != getattr(qnet, "name", prov.get("design")):
        problems.append(f"record of design {prov.get('design')!r}, network {getattr(qnet, 'name', None)!r}")
    for key in ("profile", "seed"):
        if prov.get(key) is not None and qprov.get(key) is not None and prov[key] != qprov[key]:
            problems.append(f"{key} {prov[key]!r} in the record, {qprov[key]!r} in the network")
    if not math.isclose(float(record.dt), float(getattr(qnet, "dt", record.dt)), rel_tol=1e-9):
        problems.append(f"dt {record.dt} in the record, {getattr(qnet, 'dt', None)} in the network")
    if problems:
        raise DataError("the record does not belong to this network", parameter=pair, value="; ".join(problems),
                        hint="give each --qnet with the --record of its own run, in the same order")



def baseline_ref(text: str) -> str:
    """``twin`` (the design's homogeneous twin), ``none``, or a design like :func:`design_ref`."""
    if str(text).strip() in ("twin", "none"):
        return str(text).strip()
    return design_ref(text)
