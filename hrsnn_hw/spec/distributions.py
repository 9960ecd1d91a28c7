"""Heterogeneity as distributions, sampled once and reproducibly into arrays.

A parameter in a design file is either a number (every element equal), an explicit
list (one value per element), or a table describing a distribution::

    {"dist": "gamma", "mean": 0.02, "cv": 0.5, "min": 0.002, "max": 0.2}
    {"dist": "gamma", "shape": 4.0, "scale": 0.005}
    {"dist": "uniform", "low": 0.01, "high": 0.03}
    {"dist": "constant", "value": 0.02}

Each field draws from its own random stream, keyed by the spec's seed and the field's
path, so changing one distribution (say, making tau_m homogeneous) leaves every other
sampled array, connectivity included, bit-for-bit unchanged. The ablation arms rely on it.
"""
from __future__ import annotations

import math
import zlib
from typing import Any

import numpy as np

from ..errors import SpecError

DIST_KEYS = {
    "constant": {"dist", "value"},
    "gamma": {"dist", "mean", "cv", "shape", "scale", "min", "max"},
    "uniform": {"dist", "low", "high"},
    "normal": {"dist", "mean", "std", "min", "max"},
}


def field_rng(seed: int, path: str) -> np.random.Generator:
    """Random generator for one field: independent of every other field's stream."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(path.encode("utf-8"))])


def _finite_number(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise SpecError("expected a number", parameter=path, value=value,
                        hint="write a plain number, a list, or a distribution table")
    value = float(value)
    if not math.isfinite(value):
        raise SpecError("value is not finite", parameter=path, value=value, allowed="finite numbers")
    return value


def describe(value: Any) -> Any:
    """A JSON-friendly copy of a parameter description (for provenance)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def is_heterogeneous(value: Any) -> bool:
    """True when a parameter description can give different values to different elements."""
    if isinstance(value, dict):
        dist = value.get("dist")
        if dist == "constant":
            return False
        if dist == "gamma" and "cv" in value:
            return float(value["cv"]) > 0
        if dist == "normal":
            return float(value.get("std", 0)) > 0
        if dist == "uniform":
            return float(value["high"]) > float(value["low"])
        return True
    if isinstance(value, (list, tuple, np.ndarray)):
        arr = np.asarray(value, dtype=float)
        return arr.size > 1 and bool(np.ptp(arr) > 0)
    return False


def mean_of(value: Any, path: str = "value") -> float:
    """The mean of a parameter description (used to build the homogeneous twin)."""
    if isinstance(value, dict):
        dist = value.get("dist")
        if dist == "constant":
            return _finite_number(value["value"], f"{path}.value")
        if dist in ("gamma", "normal") and "mean" in value:
            return _finite_number(value["mean"], f"{path}.mean")
        if dist == "gamma":
            return _finite_number(value["shape"], f"{path}.shape") * _finite_number(value["scale"], f"{path}.scale")
        if dist == "uniform":
            return 0.5 * (_finite_number(value["low"], f"{path}.low") + _finite_number(value["high"], f"{path}.high"))
        raise SpecError("unknown distribution", parameter=f"{path}.dist", value=dist,
                        allowed=f"one of {sorted(DIST_KEYS)}")
    if isinstance(value, (list, tuple, np.ndarray)):
        return float(np.mean(np.asarray(value, dtype=float)))
    return _finite_number(value, path)


def sample(value: Any, n: int, seed: int, path: str) -> np.ndarray:
    """Turn a parameter description into a float64 array of length ``n``.

    Parameters
    ----------
    value : number, list or dict
        The description (see module docstring).
    n : int
        Number of elements (neurons or synapses).
    seed : int
        The spec's seed.
    path : str
        Dotted field path; names the field in errors and keys its random stream.
    """
    if isinstance(value, dict):
        dist = value.get("dist")
        if dist not in DIST_KEYS:
            raise SpecError("unknown distribution", parameter=f"{path}.dist", value=dist,
                            allowed=f"one of {sorted(DIST_KEYS)}", hint='for example {"dist": "gamma", "mean": 0.02, "cv": 0.5}')
        unknown = set(value) - DIST_KEYS[dist]
        if unknown:
            raise SpecError("unknown key in distribution", parameter=f"{path}.{sorted(unknown)[0]}",
                            value=sorted(unknown), allowed=f"keys {sorted(DIST_KEYS[dist])}")
        rng = field_rng(seed, path)
        if dist == "constant":
            out = np.full(n, _finite_number(value.get("value"), f"{path}.value"))
        elif dist == "gamma":
            if "cv" in value or "mean" in value:
                if "mean" not in value or "cv" not in value:
                    raise SpecError("gamma needs both mean and cv (or shape and scale)", parameter=path,
                                    value=value)
                mean = _finite_number(value["mean"], f"{path}.mean")
                cv = _finite_number(value["cv"], f"{path}.cv")
                if mean <= 0:
                    raise SpecError("gamma mean must be positive", parameter=f"{path}.mean", value=mean,
                                    allowed="(0, inf)")
                if cv < 0:
                    raise SpecError("coefficient of variation must be >= 0", parameter=f"{path}.cv",
                                    value=cv, allowed="[0, inf)")
                if cv == 0:
                    out = np.full(n, mean)
                else:
                    shape, scale = 1.0 / cv ** 2, mean * cv ** 2
                    out = rng.gamma(shape, scale, size=n)
            else:
                if "shape" not in value or "scale" not in value:
                    raise SpecError("gamma needs mean and cv, or shape and scale", parameter=path, value=value)
                shape = _finite_number(value["shape"], f"{path}.shape")
                scale = _finite_number(value["scale"], f"{path}.scale")
                for key, v in (("shape", shape), ("scale", scale)):
                    if v <= 0:
                        raise SpecError(f"gamma {key} must be positive", parameter=f"{path}.{key}", value=v,
                                        allowed="(0, inf)")
                out = rng.gamma(shape, scale, size=n)
        elif dist == "uniform":
            low = _finite_number(value.get("low"), f"{path}.low")
            high = _finite_number(value.get("high"), f"{path}.high")
            if high < low:
                raise SpecError("uniform high must be >= low", parameter=f"{path}.high", value=high,
                                allowed=f"[{low}, inf)")
            out = rng.uniform(low, high, size=n)
        else:  # normal
            mean = _finite_number(value.get("mean"), f"{path}.mean")
            std = _finite_number(value.get("std"), f"{path}.std")
            if std < 0:
                raise SpecError("std must be >= 0", parameter=f"{path}.std", value=std, allowed="[0, inf)")
            out = rng.normal(mean, std, size=n)
        lo = value.get("min")
        hi = value.get("max")
        if lo is not None or hi is not None:
            lo_f = -np.inf if lo is None else _finite_number(lo, f"{path}.min")
            hi_f = np.inf if hi is None else _finite_number(hi, f"{path}.max")
            if hi_f < lo_f:
                raise SpecError("max must be >= min", parameter=f"{path}.max", value=hi_f, allowed=f"[{lo_f}, inf)")
            out = np.clip(out, lo_f, hi_f)
        return out.astype(np.float64)
    if isinstance(value, (list, tuple)) and set(map(type, value)) <= {int, float}:
        # plain numbers (a materialised spec's arrays): converted and checked in one vector pass
        arr = np.asarray(value, dtype=np.float64)
        if arr.size != n:
            raise SpecError("array has the wrong length", parameter=path, value=f"length {arr.size}",
                            allowed=f"length {n} (or a single number or a distribution)")
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            _finite_number(float(arr[bad[0]]), path)
        return arr
    if isinstance(value, (list, tuple, np.ndarray)):
        arr = np.asarray(value, dtype=object).ravel()
        if arr.size != n:
            raise SpecError("array has the wrong length", parameter=path, value=f"length {arr.size}",
                            allowed=f"length {n} (or a single number or a distribution)")
        return np.array([_finite_number(x, path) for x in arr], dtype=np.float64)
    return np.full(n, _finite_number(value, path), dtype=np.float64)
