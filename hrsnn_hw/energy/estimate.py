"""Energy per inference from operation counts and a hardware profile: dynamic terms + a static column.

Dynamic terms (J per inference), each count x its cited price:

* ``synaptic``: synaptic ops x ``synaptic_op``;
* ``learning``: learning updates x ``synaptic_op_learning``;
* ``neuron_active`` / ``neuron_idle``: neuron updates x ``neuron_update_active`` / ``_idle``;
* ``spike_out``: spikes x ``spike_out``;
* ``routing``: messages x (``message_out`` + ``spike_in_tile``) + east-west hops x
  ``hop_east_west`` + north-south hops x ``hop_north_south`` (SANA-FE's "network" energy);
* ``overhead``: steps x (``per_step_overhead`` + used cores x ``per_core_step_overhead``).

Static (J per inference), only where the profile's ``static_model`` is ``per_chip``:
``static_power_per_chip`` x chips x wall time, under a named convention
(:data:`~hrsnn_hw.energy.report.STATIC_CONVENTIONS`): ``"chip"`` charges every chip used
whole, ``"core_share"`` the used cores' share of a chip. Other static models leave the
column empty and flag the row (TrueNorth's per-event figure already holds static power;
SpiNNaker 2 has no published static figure). The wall time comes from
:func:`~hrsnn_hw.energy.timing.step_times`. Dynamic energy never depends on the time model,
so spreading a network over more cores cannot lower it (it adds messages, hops and
per-core overhead).

The low / high band prices every event (and the time and power) at the low / high end of
its band. A missing price leaves its term out and says so in the assumptions.
"""
from __future__ import annotations

import numpy as np

from ..counting import OpCounts
from ..errors import HrsnnError
from ..mapping.placement import Placement
from ..profiles import HardwareProfile, ProfileValue
from .report import STATIC_CONVENTIONS, STATIC_NOT_CHARGED, EnergyReport
from .timing import step_times

STATIC_MODES = tuple(STATIC_CONVENTIONS)


class _Prices:
    """Looks prices up once, remembering which were used."""

    def __init__(self, profile: HardwareProfile) -> None:
        self.profile = profile
        self.used: dict[str, dict] = {}

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


def check_static(static: str) -> str:
    if static not in STATIC_MODES:
        raise HrsnnError("unknown static-power convention", parameter="static", value=static,
                         allowed=f"one of {list(STATIC_MODES)}",
                         hint="'chip': whole chips x wall time; 'core_share': used cores' share of a chip")
    return static


def estimate_energy(counts: OpCounts, profile: HardwareProfile, placement: Placement | None = None, *,
                    static: str = "chip", time_per_step: str | float = "auto") -> EnergyReport:
    """Price ``counts`` on a neuromorphic ``profile``: dynamic terms, static column, time, band, assumptions.

    Parameters
    ----------
    counts : OpCounts
        From :func:`hrsnn_hw.counting.count_ops` (with a placement for routing, the
        compute-bound time and the per-core overhead).
    profile : HardwareProfile
        A neuromorphic profile.
    placement : Placement, optional
        Only checked against the counts' (the counts carry cores, tiles and chips).
    static : {"chip", "core_share"}
        Static convention (see module docstring).
    time_per_step : {"auto", "compute", "real_time", "tick"} or float
        Time model (see :mod:`hrsnn_hw.energy.timing`); ``"auto"``: the profile's.

    Returns
    -------
    EnergyReport
    """
    check_static(static)
    if profile.kind != "neuromorphic":
        raise HrsnnError("spiking counts are priced on neuromorphic profiles only", parameter="profile",
                         value=profile.name, hint="conventional devices price a non-spiking model "
                                                  "(hrsnn_hw.energy.conventional)")
    notes: list[str] = []
    prices = _Prices(profile)
    if placement is not None and placement.n_cores != counts.n_cores:
        raise HrsnnError("the placement is not the one the counts were made with", parameter="placement",
                         value=f"{placement.n_cores} cores", allowed=f"{counts.n_cores} cores")
    if counts.placement_profile and counts.placement_profile != profile.name:
        notes.append(f"the mapping was made for {counts.placement_profile!r}, the prices are {profile.name!r}'s")
    ps = counts.per_sample
    steps = ps["steps"].astype(np.float64)
    pc = counts.per_core if counts.n_cores else None

    def core(name: str) -> np.ndarray | None:
        return None if pc is None else pc[name]

    events = [("synaptic", ps["synaptic_ops"], prices.get("synaptic_op"), core("synaptic_ops"), "synaptic ops"),
              ("neuron_active", ps["neuron_updates_active"], prices.get("neuron_update_active"),
               core("neuron_updates_active"), "active neuron updates"),
              ("neuron_idle", ps["neuron_updates_idle"], prices.get("neuron_update_idle"),
               core("neuron_updates_idle"), "idle neuron updates"),
              ("spike_out", ps["spikes"], prices.get("spike_out"), core("spikes"), "spikes")]
    if ps["learning_updates"].any():
        events.append(("learning", ps["learning_updates"], prices.get("synaptic_op_learning"),
                       core("learning_updates"), "learning updates"))
    terms: dict[str, np.ndarray] = {}      # name -> (3, n_samples): value, low, high
    by_core = np.zeros(counts.n_cores)
    for name, count, pv, per_core, what in events:
        if pv is None:
            if count.any():
                notes.append(f"the profile prices no {what}: term '{name}' left out")
            continue
        terms[name] = _band(pv)[:, None] * count[None, :]
        if per_core is not None:
            by_core += per_core * pv.value

    msg = [prices.get("message_out"), prices.get("spike_in_tile")]
    hop_ew, hop_ns = prices.get("hop_east_west"), prices.get("hop_north_south")
    if any(p is not None for p in (*msg, hop_ew, hop_ns)):
        msg_band = _band(msg[0]) + _band(msg[1])
        terms["routing"] = (msg_band[:, None] * ps["messages"][None, :]
                            + _band(hop_ew)[:, None] * ps["hops_east_west"]
                            + _band(hop_ns)[:, None] * ps["hops_north_south"])
        if pc is not None:
            by_core += (pc["messages"] * msg_band[0] + pc["hops_east_west"] * _band(hop_ew)[0]
                        + pc["hops_north_south"] * _band(hop_ns)[0])
        else:
            notes.append("no placement: routing energy counts no messages or hops")
    elif ps["messages"].any():
        notes.append("the profile prices no messages or hops: routing left out")
    per_step = prices.get("per_step_overhead")
    per_core_step = prices.get("per_core_step_overhead")
    if per_step is not None or per_core_step is not None:
        band = _band(per_step) + _band(per_core_step) * counts.n_cores
        terms["overhead"] = band[:, None] * steps[None, :]
        if per_core_step is not None and pc is not None:
            by_core += per_core_step.value * counts.mean("steps")
        if per_core_step is not None and counts.n_cores == 0:
            notes.append("no placement: per-core-step overhead charged for 0 cores")

    times = step_times(counts, profile, time_per_step)
    notes.extend(times.notes)
    for key, info in times.prices.items():
        prices.used[key] = info
    wall = times.wall.mean(axis=1)                                          # (3,) per inference
    static_j = static_low = static_high = None
    comparable, comparability = True, ""
    if profile.static_model == "per_chip":
        p_chip = prices.get("static_power_per_chip")
        if static == "chip":
            chips = float(counts.n_chips or 1)
            if not counts.n_chips:
                notes.append("no placement: static power charged for one chip")
        else:
            if not counts.n_cores or not counts.cores_per_chip:
                raise HrsnnError("static='core_share' needs a placement (cores used, cores per chip)",
                                 parameter="static", value=static, hint="count with a placement, or use 'chip'")
            chips = counts.n_cores / counts.cores_per_chip
        power = _band(p_chip) * chips
        static_j, static_low, static_high = (float(power[0] * wall[0]), float(power[1] * wall[1]),
                                             float(power[2] * wall[2]))
        convention = static
        if times.mode == "none":
            notes.append("no time model: no static energy")
    else:
        convention = profile.static_model
        comparable = False
        comparability = STATIC_NOT_CHARGED.get(profile.static_model, profile.static_model)

    for key, info in prices.used.items():
        if info.get("estimate"):
            notes.append(f"{key} is an estimate: {info.get('note') or 'see profile'}")
    notes.extend(counts.notes)
    notes.append(f"active neuron = {counts.active_definition}")

    n_samples = counts.n_samples
    per_sample = np.zeros(n_samples)
    for arr in terms.values():
        per_sample += arr[0]

    def mean(k: int) -> dict[str, float]:
        return {name: float(v[k].mean()) if n_samples else 0.0 for name, v in terms.items()}

    total_steps = float(steps.sum())
    compute_per_step = float(times.compute[0].sum()) / total_steps if times.compute is not None and total_steps else 0.0
    nb = counts.neurobench()
    nb["steps"] = counts.mean("steps")
    nb["synaptic_ops"] = counts.mean("synaptic_ops")
    nb["learning_updates"] = counts.mean("learning_updates")
    if pc is not None:      # what sets a compute-bound step: the fullest and the busiest core
        nb["fullest_core_neurons"] = float(pc["neurons"].max(initial=0.0))
        nb["busiest_core_synaptic_ops"] = float(pc["synaptic_ops"].max(initial=0.0))
    dynamic = mean(0)
    return EnergyReport(design=counts.design, profile=profile.name, model="spiking", dynamic=dynamic,
                        dynamic_low=mean(1), dynamic_high=mean(2), static_j=static_j, static_low_j=static_low,
                        static_high_j=static_high,
                        static_convention=convention,
                        time_model=times.mode,
                        time_per_step_s=float(times.wall[0].sum()) / total_steps if total_steps else 0.0,
                        compute_time_per_step_s=compute_per_step, latency_s=float(wall[0]),
                        latency_band_s=(float(wall[1]), float(wall[2])), per_sample_dynamic=per_sample,
                        by_core=by_core, unattributed=float(sum(dynamic.values())) - float(by_core.sum()),
                        n_cores=counts.n_cores, n_tiles=counts.n_tiles, n_chips=counts.n_chips, counts=nb,
                        prices=prices.used, comparable=comparable, comparability=comparability,
                        assumptions=tuple(dict.fromkeys(notes)))
