"""A cheap, deterministic stand-in for ``hrsnn_hw.experiment.evaluate_design``.

It runs no network: its metrics are smooth made-up functions of the design's
heterogeneity plus seeded noise, shaped like the real ones (an interior optimum of E in
the default search space, accuracy that falls off away from a sweet spot, fewer spikes
with more STDP heterogeneity). Tests, the optimiser's own benchmark and demos of the
study machinery (``--evaluator hrsnn_hw.optimize.synthetic:evaluate``) use it. Its numbers
mean nothing about spiking networks.
"""
from __future__ import annotations

import json
import math
import time
import zlib
from typing import Any, Mapping

import numpy as np

from .objectives import PREDICTION_TASKS

NOISE = 0.03  # relative noise of every metric (one draw per design and seed)


def _number(design: Mapping[str, Any], path: str, field: str, default: float) -> float:
    node: Any = design
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return default
        node = node[part]
    if isinstance(node, Mapping):
        if field in node:
            return float(node[field])
        if field == "cv" and node.get("dist") == "gamma" and "shape" in node:
            return 1.0 / math.sqrt(float(node["shape"]))
        return default
    if isinstance(node, (int, float)):
        return float(node) if field == "mean" else 0.0
    return default


def _n_neurons(design: Mapping[str, Any]) -> int:
    return int(sum(int(p.get("n", 0)) for p in (design.get("populations") or {}).values()))


def evaluate(design: Mapping[str, Any], task: str = "japanese_vowels", *, seed: int = 0, quick: bool = False,
             profile: str | None = None, epochs: int | None = None) -> dict:
    """Synthetic metrics of ``design`` (same signature and result keys as the real evaluator)."""
    t0 = time.perf_counter()
    a = math.log(_number(design, "populations.exc.tau_m", "mean", 0.02) / 0.03)
    b = _number(design, "populations.exc.tau_m", "cv", 0.0) - 0.9
    c = math.log(_number(design, "populations.inh.tau_m", "mean", 0.01) / 0.012)
    b_inh = _number(design, "populations.inh.tau_m", "cv", 0.0) - 0.5
    stdp = [_number(design, f"stdp.exc->exc.{f}", "cv", 0.0) for f in ("eta_plus", "eta_minus", "tau_plus", "tau_minus")]
    s = float(np.mean(stdp))
    p_ee = _number(design, "projections.exc->exc", "p", 0.1)

    # the name and description of a design do not change what it computes
    key = json.dumps({k: v for k, v in design.items() if k not in ("name", "description")}, sort_keys=True,
                     default=str).encode()
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(key)])
    noise = 1.0 + NOISE * rng.standard_normal(4)

    mc = (2.0 + 10.0 * math.exp(-a * a - 1.5 * b * b - 0.5 * c * c - b_inh * b_inh) * (1.0 + 0.15 * s)) * noise[0]
    activity = 0.03 * (1.0 + 0.4 * math.tanh(a)) * math.exp(-0.35 * (s - 0.2) ** 2 - 0.3 * s) * (1.0 + 0.2 * c * c)
    activity *= (p_ee / 0.1) ** 0.5 * noise[1]
    closeness = math.exp(-(a - 0.2) ** 2 - 0.8 * b * b - 0.3 * c * c)
    n_steps = 50 if quick else 100
    n_neurons = max(_n_neurons(design), 1)
    spikes = activity * n_neurons * n_steps
    if task in PREDICTION_TASKS:
        metric, higher = "nrmse", False
        task_value = (0.08 + 0.5 * (1.0 - closeness)) * noise[2]
    else:
        metric, higher = "accuracy", True
        task_value = min(1.0, (0.45 + 0.5 * closeness) * noise[2])
    energy = None
    if profile:
        from ..profiles import load_profile
        prof = load_profile(profile)
        fan_out = max(1.0, p_ee * n_neurons)
        energy = (spikes * fan_out * prof.number("energy", "synaptic_op")
                  + n_neurons * n_steps * prof.number("energy", "neuron_update_idle")) * noise[3]
    return {"mc": mc, "activity": activity, "efficiency": mc / activity, "task_metric": task_value,
            "task_metric_name": metric, "higher_is_better": higher, "spikes_per_inference": spikes,
            "energy_per_inference_J": energy, "wall_time_s": time.perf_counter() - t0,
            "evaluator": "synthetic"}


def evaluate_slow(design: Mapping[str, Any], task: str = "japanese_vowels", *, seed: int = 0,
                  quick: bool = False, profile: str | None = None, epochs: int | None = None) -> dict:
    """:func:`evaluate` after a 0.3 s sleep (parallel-worker and interruption tests)."""
    time.sleep(0.3)
    return evaluate(design, task, seed=seed, quick=quick, profile=profile, epochs=epochs)


_CALLS = {"n": 0}


def evaluate_stalling(design: Mapping[str, Any], task: str = "japanese_vowels", *, seed: int = 0,
                      quick: bool = False, profile: str | None = None, epochs: int | None = None) -> dict:
    """:func:`evaluate`, except that the third call in a process hangs for a minute (kill tests)."""
    _CALLS["n"] += 1
    if _CALLS["n"] == 3:
        time.sleep(60.0)
    return evaluate(design, task, seed=seed, quick=quick, profile=profile, epochs=epochs)


def evaluate_failing(design: Mapping[str, Any], task: str = "japanese_vowels", *, seed: int = 0,
                     quick: bool = False, profile: str | None = None, epochs: int | None = None) -> dict:
    """Fails (a clear error) for designs with exc tau_m cv above 1.2, else :func:`evaluate`."""
    from ..errors import QuantizationError
    cv = _number(design, "populations.exc.tau_m", "cv", 0.0)
    if cv > 1.2:
        raise QuantizationError("synthetic failure: tau_m spread not representable", parameter="populations.exc.tau_m.cv",
                                value=cv, allowed="<= 1.2")
    return evaluate(design, task, seed=seed, quick=quick, profile=profile, epochs=epochs)
