"""Time per step: compute-bound from per-op times, real-time pacing, a fixed tick, or a given value.

Compute-bound (SANA-FE's "simple" timing model, ``schedule_messages_timestep_simple``): in
every step each core spends

* neuron time = idle neurons x ``neuron_idle_time`` + active neurons x ``neuron_active_time``
  + spikes x ``spike_out_time`` + messages sent x ``message_out_time``, and
* message time = messages received x ``message_in_time`` + synaptic events received x
  ``synaptic_op_time``;

the step lasts ``max(busiest core's neuron time, busiest core's message time)`` plus the
barrier ``barrier_sync_time`` at the number of tiles used (a step table, SANA-FE's
``latency_sync``). Mesh hop latency is hidden by pipelining (as in SANA-FE's simple
model). The busy time is computed for every (sample, step) from the per-core counts, then
summed over each sample's valid steps: the latency of an inference.

Real time: every step lasts the network's ``dt`` (a chip paced to wall-clock time). Tick:
the chip's fixed step (TrueNorth's 1 ms). Given: a number of seconds per step. The compute
time is reported beside the wall time whenever the profile has per-op times.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..counting import OpCounts
from ..errors import HrsnnError, ProfileError
from ..profiles import HardwareProfile

TIME_MODES = ("auto", "compute", "real_time", "tick")
COMPUTE_KEYS = ("neuron_idle_time", "neuron_active_time", "spike_out_time", "message_out_time", "message_in_time",
                "synaptic_op_time")


@dataclass(frozen=True)
class StepTimes:
    """Wall and compute time of each inference, at the value and both ends of the bands (seconds).

    ``wall`` and ``compute`` have shape (3, n_samples): rows value, low, high.
    """

    mode: str
    wall: np.ndarray
    compute: np.ndarray | None
    notes: tuple[str, ...]
    prices: dict

    def per_step(self, steps: np.ndarray, which: np.ndarray) -> float:
        total = float(steps.sum())
        return float(which[0].sum()) / total if total else 0.0


def _price(profile: HardwareProfile, key: str, prices: dict) -> np.ndarray:
    """(value, low, high) of a timing price, zeros when absent (noted by the caller)."""
    if not profile.has("timing", key):
        return np.zeros(3)
    pv = profile.get("timing", key)
    prices[f"timing.{key}"] = {**pv.as_dict(), "citation": profile.citation("timing", key)}
    return np.array([pv.value, pv.low, pv.high])


def has_compute_model(profile: HardwareProfile) -> bool:
    return all(profile.has("timing", k) for k in ("neuron_idle_time", "neuron_active_time", "synaptic_op_time",
                                                   "barrier_sync_time"))


def compute_times(counts: OpCounts, profile: HardwareProfile, prices: dict, notes: list[str]) -> np.ndarray:
    """Busy time of each inference, shape (3, n_samples): value, low, high (compute-bound model)."""
    if not has_compute_model(profile):
        raise ProfileError("the profile gives no per-op times to derive a compute-bound time from",
                           parameter="timing.neuron_active_time", value=profile.name,
                           hint="use time='real_time' or a number of seconds per step")
    if not counts.n_cores or counts.core_steps["active"].shape[0] != counts.n_samples:
        raise HrsnnError("the compute-bound time needs per-core step counts (count with a placement)",
                         parameter="counts", value="no per-core step counts",
                         hint="map the network first (Deployment.map) and count with core_steps=True")
    t = {k: _price(profile, k, prices) for k in COMPUTE_KEYS}
    for k in COMPUTE_KEYS:
        if not profile.has("timing", k):
            notes.append(f"the profile gives no timing.{k}: that part of the step takes no time")
    barrier = profile.get("timing", "barrier_sync_time")
    prices["timing.barrier_sync_time"] = {**barrier.as_dict(), "citation": profile.citation("timing", "barrier_sync_time")}
    sync = np.array([barrier.at_tiles(counts.n_tiles), barrier.low, barrier.high])
    cs = counts.core_steps
    b, steps = counts.n_samples, counts.per_sample["steps"]
    valid = np.arange(cs["active"].shape[1])[None, :] < steps[:, None]              # (B, T)
    neurons = counts.per_core["neurons"][None, None, :]
    active = cs["active"].astype(np.float64)
    idle = np.where(valid[:, :, None], neurons - active, 0.0)
    out = np.zeros((3, b))
    for k in range(3):
        neuron_time = (idle * t["neuron_idle_time"][k] + active * t["neuron_active_time"][k]
                       + cs["spikes"] * t["spike_out_time"][k] + cs["messages_out"] * t["message_out_time"][k])
        message_time = cs["messages_in"] * t["message_in_time"][k] + cs["synaptic_ops_in"] * t["synaptic_op_time"][k]
        busy = np.maximum(neuron_time.max(axis=2, initial=0.0), message_time.max(axis=2, initial=0.0))
        out[k] = ((busy + sync[k]) * valid).sum(axis=1)
    notes.append(f"time per step: compute-bound (SANA-FE's simple model): max over cores of neuron and message "
                 f"processing + barrier {sync[0]:.3g} s at {counts.n_tiles} tile(s); hop latency hidden by pipelining")
    return out


def step_times(counts: OpCounts, profile: HardwareProfile, mode: str | float = "auto") -> StepTimes:
    """Wall and compute time of every inference under ``mode``.

    Parameters
    ----------
    counts : OpCounts
        With a placement for the compute-bound model.
    profile : HardwareProfile
    mode : {"auto", "compute", "real_time", "tick"} or float
        ``"auto"``: the profile's ``time_model``; a number: seconds per step.
    """
    notes: list[str] = []
    prices: dict = {}
    steps = counts.per_sample["steps"].astype(np.float64)
    if isinstance(mode, (int, float)) and not isinstance(mode, bool):
        if not math.isfinite(mode) or mode <= 0:
            raise HrsnnError("time per step must be a positive number of seconds", parameter="time_per_step",
                             value=mode, allowed="(0, inf) s, or one of " + str(list(TIME_MODES)))
        chosen = "given"
    elif mode in TIME_MODES:
        chosen = profile.time_model if mode == "auto" else mode
    else:
        raise HrsnnError("unknown time-per-step mode", parameter="time_per_step", value=mode,
                         allowed=f"one of {list(TIME_MODES)} or a number of seconds")
    compute = None
    if has_compute_model(profile) and counts.n_cores and counts.core_steps["active"].shape[0] == counts.n_samples:
        compute = compute_times(counts, profile, prices, notes if chosen == "compute" else [])
    if chosen == "given":
        wall = np.tile(steps * float(mode), (3, 1))
        notes.append(f"time per step given: {float(mode):g} s")
    elif chosen == "compute":
        if compute is None:
            compute = compute_times(counts, profile, prices, notes)
        wall = compute
    elif chosen == "real_time":
        wall = np.tile(steps * counts.dt, (3, 1))
        notes.append(f"time per step = the network's dt ({counts.dt:g} s): the chip is paced to real time")
    elif chosen == "tick":
        if not profile.has("timing", "tick"):
            raise ProfileError("the profile has no fixed tick", parameter="timing.tick", value=profile.name,
                               hint="use time='compute', 'real_time' or a number of seconds")
        pv = profile.get("timing", "tick")
        prices["timing.tick"] = {**pv.as_dict(), "citation": profile.citation("timing", "tick")}
        wall = np.stack([steps * pv.value, steps * pv.low, steps * pv.high])
        notes.append(f"time per step = the chip's fixed tick ({pv.value:g} s)")
    else:   # "none": a conventional device has no step
        wall = np.zeros((3, steps.size))
        chosen = "none"
    if compute is not None and chosen in ("real_time", "tick", "given") and (compute[0] > wall[0] * (1 + 1e-9)).any():
        notes.append("the compute-bound time exceeds the chosen step time for some steps: the chip could not keep "
                     "this pace")
    return StepTimes(mode=chosen, wall=wall, compute=compute, notes=tuple(notes), prices=prices)
