"""Energy per inference from operation counts and a hardware profile.

``energy = sum over events of count x energy-per-event + per-step overhead x steps
+ static power x time``, per inference. Terms (J per inference):

* ``synaptic``: synaptic ops x ``synaptic_op`` (a conventional profile: ``accumulate``,
  else ``mac``);
* ``learning``: learning updates x ``synaptic_op_learning``;
* ``neuron_active`` / ``neuron_idle``: neuron updates x ``neuron_update_active`` / ``_idle``
  (a conventional profile: every update x ``neuron_update_active``, else ``mac``);
* ``spike_out``: spikes x ``spike_out``;
* ``routing``: messages x (``message_out`` + ``spike_in_tile``) + east-west hops x
  ``hop_east_west`` + north-south hops x ``hop_north_south`` (SANA-FE's "network" energy);
* ``overhead``: steps x (``per_step_overhead`` + used cores x ``per_core_step_overhead``);
* ``static``: static power x time per step x steps, static power = ``static_power`` +
  ``static_power_per_chip`` x chips used (``static="per_chip"``, a powered chip leaks whole)
  or x used cores / cores per chip (``static="core_share"``, the share of a chip the network
  occupies, as if the rest ran other work).

Time per step (``time_per_step``): ``"profile"`` = the profile's ``timing.time_per_step``,
else derived from activity when the profile gives per-op times, else none (no static term);
``"activity"`` = the busiest core's synaptic ops x ``synaptic_op_time`` + neuron updates x
``neuron_update_time`` (active: value, idle: low), plus ``barrier_sync_time``;
``"real_time"`` = the record's dt (a chip paced to wall-clock time); a number = seconds.
The low / high band prices every event (and the time) at the low / high end of its band.
A missing price leaves its term out and says so in the assumptions.
"""
from __future__ import annotations

import math

import numpy as np

from ..counting import OpCounts
from ..errors import HrsnnError, ProfileError
from ..mapping.placement import Placement
from ..profiles import HardwareProfile, ProfileValue
from .report import EnergyReport

STATIC_MODES = ("per_chip", "core_share")
TIME_MODES = ("profile", "activity", "real_time")


class _Prices:
    """Looks prices up once, remembering which were used and which were missing."""

    def __init__(self, profile: HardwareProfile) -> None:
        self.profile = profile
        self.used: dict[str, dict] = {}
        self.missing: list[str] = []

    def get(self, *keys: str, section: str = "energy") -> ProfileValue | None:
        for key in keys:
            if self.profile.has(section, key):
                pv = self.profile.get(section, key)
                self.used[f"{section}.{key}"] = {**pv.as_dict(), "citation": self.profile.citation(section, key)}
                return pv
        return None


def _band(pv: ProfileValue | None) -> np.ndarray:
    """(value, low, high) of a price; zeros when absent."""
    if pv is None:
        return np.zeros(3)
    return np.array([pv.value, pv.low, pv.high])


def _time_per_step(counts: OpCounts, prices: _Prices, mode: str | float,
                   notes: list[str]) -> np.ndarray | None:
    """(value, low, high) seconds per step, or None when there is no way to know it."""
    if isinstance(mode, (int, float)) and not isinstance(mode, bool):
        if not math.isfinite(mode) or mode <= 0:
            raise HrsnnError("time per step must be a positive number of seconds", parameter="time_per_step",
                             value=mode, allowed="(0, inf) s, or one of " + str(list(TIME_MODES)))
        notes.append(f"time per step given: {mode:g} s")
        return np.full(3, float(mode))
    if mode not in TIME_MODES:
        raise HrsnnError("unknown time-per-step mode", parameter="time_per_step", value=mode,
                         allowed=f"one of {list(TIME_MODES)} or a number of seconds")
    if mode == "real_time":
        notes.append(f"time per step = the record's dt ({counts.dt:g} s): the chip is paced to real time")
        return np.full(3, counts.dt)
    if mode == "profile":
        pv = prices.get("time_per_step", section="timing") or prices.get("time_per_step", section="energy")
        if pv is not None:
            notes.append(f"time per step from the profile: {pv.value:g} s"
                         + (" (estimate)" if pv.estimate else "") + (f" [{pv.low:g} .. {pv.high:g}]"
                                                                     if pv.low != pv.high else ""))
            return _band(pv)
    t_syn = prices.get("synaptic_op_time", section="timing")
    t_nu = prices.get("neuron_update_time", section="timing")
    if t_syn is None or t_nu is None:
        if mode == "activity":
            raise ProfileError("the profile gives no per-op times to derive the time per step from",
                               parameter="timing.synaptic_op_time", value=prices.profile.name,
                               hint="add timing.synaptic_op_time and timing.neuron_update_time, or pass "
                                    "time_per_step='real_time' or a number of seconds")
        notes.append("the profile gives no time per step and no per-op times: no static term")
        return None
    barrier = _band(prices.get("barrier_sync_time", section="timing"))
    steps = counts.mean("steps")
    if steps <= 0:
        return barrier
    if counts.n_cores:
        syn = counts.per_core["synaptic_ops"]
        act = counts.per_core["neuron_updates_active"]
        idle = counts.per_core["neuron_updates_idle"]
    else:
        syn = np.array([counts.mean("synaptic_ops")])
        act = np.array([counts.mean("neuron_updates_active")])
        idle = np.array([counts.mean("neuron_updates_idle")])
        notes.append("no placement: the activity-derived time treats the network as one core")
    busy_value = (syn * t_syn.value + act * t_nu.value + idle * t_nu.low) / steps
    busy_low = (syn * t_syn.low + (act + idle) * t_nu.low) / steps
    busy_high = (syn * t_syn.high + act * t_nu.high + idle * t_nu.low) / steps
    out = np.array([busy_value.max(), busy_low.max(), busy_high.max()]) + barrier
    notes.append(f"time per step derived from activity: busiest core's ops x per-op times + barrier sync = "
                 f"{out[0]:.3g} s [{out[1]:.3g} .. {out[2]:.3g}]; hop latency assumed hidden by pipelining")
    return out


def estimate_energy(counts: OpCounts, profile: HardwareProfile, placement: Placement | None = None, *,
                    static: str = "per_chip", time_per_step: str | float = "profile") -> EnergyReport:
    """Price ``counts`` on ``profile``: energy per inference with its terms, band and assumptions.

    Parameters
    ----------
    counts : OpCounts
        From :func:`hrsnn_hw.counting.count_ops`.
    profile : HardwareProfile
        Any profile; a conventional one prices the spiking run as software on that device.
    placement : Placement, optional
        Overrides the cores/chips recorded in ``counts`` (for the static and overhead terms).
    static : {"per_chip", "core_share"}
        How a chip's static power is charged (see module docstring).
    time_per_step : {"profile", "activity", "real_time"} or float
        Where the time per step comes from (see module docstring).

    Returns
    -------
    EnergyReport
    """
    if static not in STATIC_MODES:
        raise HrsnnError("unknown static-power mode", parameter="static", value=static,
                         allowed=f"one of {list(STATIC_MODES)}")
    notes: list[str] = []
    prices = _Prices(profile)
    n_cores = placement.n_cores if placement is not None else counts.n_cores
    n_chips = placement.n_chips if placement is not None else counts.n_chips
    cores_per_chip = placement.cores_per_chip if placement is not None else counts.cores_per_chip
    placed_on = placement.profile if placement is not None else counts.placement_profile
    if placed_on and placed_on != profile.name:
        notes.append(f"the mapping was made for {placed_on!r}, the prices are {profile.name!r}'s")
    ps = counts.per_sample
    conventional = profile.kind == "conventional"
    steps = ps["steps"].astype(np.float64)

    # (term, per-sample count, price band, per-core count or None)
    events: list[tuple[str, np.ndarray, ProfileValue | None, np.ndarray | None, str]] = []
    pc = counts.per_core if counts.n_cores else None

    def core(name: str) -> np.ndarray | None:
        return None if pc is None else pc[name]

    if conventional:
        syn_price = prices.get("synaptic_op", "accumulate", "mac")
        nu_price = prices.get("neuron_update_active", "mac")
        notes.append("conventional device: the spiking run executed as software, every synaptic op at "
                     "the accumulate price, every neuron updated every step")
        events.append(("synaptic", ps["synaptic_ops"], syn_price, None, "synaptic ops"))
        events.append(("neuron_updates", ps["neuron_updates_active"] + ps["neuron_updates_idle"], nu_price,
                       None, "neuron updates"))
    else:
        events.append(("synaptic", ps["synaptic_ops"], prices.get("synaptic_op"), core("synaptic_ops"),
                        "synaptic ops"))
        events.append(("neuron_active", ps["neuron_updates_active"], prices.get("neuron_update_active"),
                       core("neuron_updates_active"), "active neuron updates"))
        events.append(("neuron_idle", ps["neuron_updates_idle"], prices.get("neuron_update_idle"),
                       core("neuron_updates_idle"), "idle neuron updates"))
        events.append(("spike_out", ps["spikes"], prices.get("spike_out"), core("spikes"), "spikes"))
    if ps["learning_updates"].any():
        events.append(("learning", ps["learning_updates"], prices.get("synaptic_op_learning"),
                       core("learning_updates"), "learning updates"))

    terms: dict[str, np.ndarray] = {}      # name -> (3, n_samples): value, low, high
    by_core = np.zeros(n_cores if pc is not None else 0)
    for name, count, pv, per_core, what in events:
        if pv is None:
            if count.any():
                notes.append(f"the profile prices no {what}: term '{name}' left out")
            continue
        terms[name] = _band(pv)[:, None] * count[None, :]
        if per_core is not None:
            by_core += per_core * pv.value

    if not conventional:
        msg = [prices.get("message_out"), prices.get("spike_in_tile")]
        hop_ew, hop_ns = prices.get("hop_east_west"), prices.get("hop_north_south")
        if any(p is not None for p in (*msg, hop_ew, hop_ns)):
            msg_band = _band(msg[0]) + _band(msg[1])
            routing = (msg_band[:, None] * ps["messages"][None, :] + _band(hop_ew)[:, None] * ps["hops_east_west"]
                       + _band(hop_ns)[:, None] * ps["hops_north_south"])
            terms["routing"] = routing
            if pc is not None:
                by_core += (pc["messages"] * msg_band[0] + pc["hops_east_west"] * _band(hop_ew)[0]
                            + pc["hops_north_south"] * _band(hop_ns)[0])
            if not counts.n_cores:
                notes.append("no placement: routing energy counts no messages or hops")
        elif ps["messages"].any():
            notes.append("the profile prices no messages or hops: routing left out")
        per_step = prices.get("per_step_overhead")
        per_core_step = prices.get("per_core_step_overhead")
        if per_step is not None or per_core_step is not None:
            band = _band(per_step) + _band(per_core_step) * n_cores
            terms["overhead"] = band[:, None] * steps[None, :]
            if per_core_step is not None and pc is not None:
                by_core += per_core_step.value * counts.mean("steps")
            if per_core_step is not None and n_cores == 0:
                notes.append("no placement: per-core-step overhead charged for 0 cores")
        else:
            notes.append("the profile gives no per-step overhead (barrier sync, management): none charged")

    tps = _time_per_step(counts, prices, time_per_step, notes)
    p_fixed = prices.get("static_power")
    p_chip = prices.get("static_power_per_chip")
    time_band = (0.0, 0.0)
    time_per_inference = 0.0
    if tps is not None:
        mean_steps = counts.mean("steps")
        time_per_inference = float(tps[0] * mean_steps)
        time_band = (float(tps[1] * mean_steps), float(tps[2] * mean_steps))
        if p_fixed is not None or p_chip is not None:
            if p_chip is not None:
                if static == "per_chip":
                    chips = float(n_chips)
                    if n_chips == 0:
                        chips = 1.0
                        notes.append("no placement: static power charged for one chip")
                    notes.append(f"static power per chip x {chips:g} chip(s) used (a powered chip leaks whole)")
                else:
                    if not cores_per_chip or not n_cores:
                        raise HrsnnError("static='core_share' needs a placement (cores used, cores per chip)",
                                         parameter="static", value=static, hint="pass a placement or use 'per_chip'")
                    chips = n_cores / cores_per_chip
                    notes.append(f"static power per chip x {n_cores}/{cores_per_chip} (the cores' share of a chip)")
            else:
                chips = 0.0
            power = _band(p_fixed) + _band(p_chip) * chips
            terms["static"] = (power * tps)[:, None] * steps[None, :]
        elif tps is not None:
            notes.append("the profile gives no static power: no static term")

    for key, info in prices.used.items():
        if info.get("estimate"):
            notes.append(f"{key} is an estimate: {info.get('note') or 'see profile'}")
    notes.extend(counts.notes)
    if placement is not None:
        notes.extend(placement.notes)
    notes.append(f"active neuron = {counts.active_definition}")

    n_samples = counts.n_samples
    per_sample = np.zeros(n_samples)
    for arr in terms.values():
        per_sample += arr[0]
    mean = {k: float(v[0].mean()) if n_samples else 0.0 for k, v in terms.items()}
    low = {k: float(v[1].mean()) if n_samples else 0.0 for k, v in terms.items()}
    high = {k: float(v[2].mean()) if n_samples else 0.0 for k, v in terms.items()}
    total = float(sum(mean.values()))
    return EnergyReport(design=counts.design, profile=profile.name, model="spiking", terms=mean, terms_low=low,
                        terms_high=high, per_sample=per_sample, by_core=by_core,
                        unattributed=total - float(by_core.sum()), time_per_inference=time_per_inference,
                        time_band=time_band, n_cores=n_cores, n_chips=n_chips, counts=counts.means(),
                        prices=prices.used, assumptions=tuple(dict.fromkeys(notes)))
