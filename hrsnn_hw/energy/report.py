"""The energy estimate of one design on one profile, and the one joule formatter."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from .. import artifacts
from ..io import to_jsonable

#: Static conventions :func:`~hrsnn_hw.energy.estimate_energy` can charge (chip static power x wall time).
STATIC_CONVENTIONS = {
    "chip": "whole chips used x wall time (a powered chip leaks whole)",
    "core_share": "used cores / cores per chip x chip static power x wall time (the rest of the chip runs other work)",
}
#: What the row's static column means when the profile cannot charge a convention.
STATIC_NOT_CHARGED = {
    "in_event_energy": "included in the per-event energies (not separable; not comparable with per-chip rows)",
    "none_published": "not charged: no static figure is published (total = dynamic; not comparable on total)",
    "excluded": "not charged: dynamic-only measurement (idle power subtracted by the source)",
}


def static_convention_text(key: str) -> str:
    """What a static-convention key means, in words."""
    return STATIC_CONVENTIONS.get(key) or STATIC_NOT_CHARGED.get(key) or key


_PREFIXES = ((1.0, ""), (1e-3, "m"), (1e-6, "u"), (1e-9, "n"), (1e-12, "p"), (1e-15, "f"))


def si_scale(x: float) -> tuple[float, str]:
    """(scale, prefix) of the largest SI prefix not above ``|x|`` (down to femto)."""
    for scale, prefix in _PREFIXES:
        if abs(x) >= scale:
            return scale, prefix
    return _PREFIXES[-1]


def format_joules(x: float | None, digits: int = 3, missing: str = "-") -> str:
    """``1.23 uJ`` style: ``digits`` significant digits with an SI prefix (``missing`` for None or NaN).

    The one joule formatter of the package (tables, reports, README, notebooks).
    """
    if x is None or not np.isfinite(x):
        return missing
    if x == 0:
        return "0 J"
    scale, prefix = si_scale(x)
    return f"{x / scale:.{digits}g} {prefix}J"


def format_seconds(x: float | None) -> str:
    """``1.23 us`` style."""
    if x is None or not np.isfinite(x):
        return "-"
    if x == 0:
        return "0 s"
    for scale, prefix in ((1.0, ""), (1e-3, "m"), (1e-6, "u"), (1e-9, "n")):
        if abs(x) >= scale:
            return f"{x / scale:.3g} {prefix}s"
    return f"{x:.3g} s"


@artifacts.artifact("hrsnn_hw.EnergyReport", 2)
@dataclass(frozen=True)
class EnergyReport:
    """Energy per inference of one design on one hardware profile (``.save(path)`` / ``EnergyReport.load``).

    Dynamic energy is the headline: the sum of its terms (events x cited energies, plus a
    per-step or per-core-step overhead where the profile has one). Static energy is its own
    column, charged under the convention named in :attr:`static_convention`, or ``None``
    when the profile cannot separate it (see :attr:`comparable`).

    Attributes
    ----------
    design, profile : str
        Design and profile names.
    model : str
        ``"spiking"`` (event counts priced per event) or ``"conventional"`` (a non-spiking
        model priced per MAC).
    dynamic : dict of str to float
        Mean J per inference of each dynamic term (profile's values).
    dynamic_low, dynamic_high : dict of str to float
        The same with every price at the low / high end of its band.
    static_j, static_low_j, static_high_j : float or None
        Static J per inference (value, with the time and power at the band's ends), or None.
    static_convention : str
        How static was charged (a key of :data:`STATIC_CONVENTIONS`) or why it was not (a key of
        :data:`STATIC_NOT_CHARGED`); :func:`static_convention_text` says it in words.
    time_model : str
        How the time per step was obtained (``compute``, ``real_time``, ``tick``, ``given``, ``none``).
    time_per_step_s : float
        Mean wall time per step (0 without a time model).
    compute_time_per_step_s : float
        Mean busy time per step from the per-op times (0 when the profile has none).
    latency_s : float
        Wall time per inference (mean over samples).
    latency_band_s : tuple of float
        (low, high) of ``latency_s``.
    per_sample_dynamic : ndarray, shape (n_samples,)
        Dynamic J of each inference.
    by_core : ndarray, shape (n_cores,)
        Mean dynamic J per inference attributed to each core (empty without a placement).
    unattributed : float
        Mean dynamic J per inference tied to no core (inputs from the I/O port, per-step overhead).
    n_cores, n_tiles, n_chips : int
        Hardware used (0 for a conventional device).
    batch_size : int
        Inferences processed together (1 for a spiking chip; the batch a conventional
        device's per-MAC figure assumes).
    counts : dict of str to float
        The mean counts per inference that were priced (NeuroBench names where they exist).
    prices : dict
        Each price used: value, low, high (SI), unit, source, citation, estimate, note.
    comparable : bool
        True when the total follows the static convention shared by the comparable rows.
    comparability : str
        Why not, when not.
    task : dict
        Task metric of the design (name, value), when known.
    assumptions : tuple of str
        Every assumption, estimate and omission behind the numbers.
    """

    design: str
    profile: str
    model: str
    dynamic: Mapping[str, float]
    dynamic_low: Mapping[str, float]
    dynamic_high: Mapping[str, float]
    static_j: float | None
    static_low_j: float | None
    static_high_j: float | None
    static_convention: str
    time_model: str
    time_per_step_s: float
    compute_time_per_step_s: float
    latency_s: float
    latency_band_s: tuple[float, float]
    per_sample_dynamic: np.ndarray
    by_core: np.ndarray
    unattributed: float
    n_cores: int
    n_tiles: int
    n_chips: int
    batch_size: int = 1
    counts: Mapping[str, float] = field(default_factory=dict)
    prices: Mapping[str, Any] = field(default_factory=dict)
    comparable: bool = True
    comparability: str = ""
    task: Mapping[str, Any] = field(default_factory=dict)
    assumptions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("per_sample_dynamic", "by_core"):
            arr = np.array(getattr(self, name), dtype=np.float64, copy=True)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        for name in ("dynamic", "dynamic_low", "dynamic_high", "counts"):
            object.__setattr__(self, name, {k: float(v) for k, v in getattr(self, name).items()})
        for name in ("static_j", "static_low_j", "static_high_j"):
            v = getattr(self, name)
            object.__setattr__(self, name, None if v is None else float(v))
        object.__setattr__(self, "assumptions", tuple(self.assumptions))
        object.__setattr__(self, "latency_band_s", (float(self.latency_band_s[0]), float(self.latency_band_s[1])))
        for name in ("n_cores", "n_tiles", "n_chips", "batch_size"):
            object.__setattr__(self, name, int(getattr(self, name)))

    @property
    def dynamic_j(self) -> float:
        """Mean dynamic J per inference."""
        return float(sum(self.dynamic.values()))

    @property
    def dynamic_low_j(self) -> float:
        return float(sum(self.dynamic_low.values()))

    @property
    def dynamic_high_j(self) -> float:
        return float(sum(self.dynamic_high.values()))

    @property
    def total_j(self) -> float:
        """Dynamic + static (static 0 when not charged) per inference."""
        return self.dynamic_j + (self.static_j or 0.0)

    @property
    def total_low_j(self) -> float:
        return self.dynamic_low_j + (self.static_low_j or 0.0)

    @property
    def total_high_j(self) -> float:
        return self.dynamic_high_j + (self.static_high_j or 0.0)

    @property
    def edp_js(self) -> float:
        """Energy-delay product: total J x latency s per inference."""
        return self.total_j * self.latency_s

    def row(self) -> dict:
        """The row of the energy table (``hrsnn-hw energy --json``'s contract and more)."""
        c = self.counts
        return to_jsonable({
            "profile": self.profile, "design": self.design, "model": self.model,
            "synaptic_ops": c.get("synaptic_ops", c.get("macs")), "spikes": c.get("spikes"),
            "neuron_updates_active": c.get("neuron_updates_active"), "messages": c.get("messages"),
            "hops": c.get("hops"), "dense_ops": c.get("dense_ops"),
            "fullest_core_neurons": c.get("fullest_core_neurons"),
            "busiest_core_synaptic_ops": c.get("busiest_core_synaptic_ops"),
            "activation_sparsity": c.get("activation_sparsity"),
            "dynamic_j": self.dynamic_j, "dynamic_low_j": self.dynamic_low_j, "dynamic_high_j": self.dynamic_high_j,
            "dynamic_terms_j": dict(self.dynamic), "static_j": self.static_j, "static_low_j": self.static_low_j,
            "static_high_j": self.static_high_j, "total_j": self.total_j, "total_low_j": self.total_low_j,
            "total_high_j": self.total_high_j, "static_convention": self.static_convention,
            "static_convention_text": static_convention_text(self.static_convention),
            "time_model": self.time_model, "time_per_step_s": self.time_per_step_s,
            "compute_time_per_step_s": self.compute_time_per_step_s, "latency_s": self.latency_s,
            "latency_band_s": list(self.latency_band_s), "edp_js": self.edp_js, "cores": self.n_cores,
            "tiles": self.n_tiles, "chips": self.n_chips, "batch_size": self.batch_size,
            "comparable": self.comparable, "comparability": self.comparability,
            "task_metric": self.task.get("value"), "task_metric_name": self.task.get("name"), "error": None})

    def to_dict(self) -> dict:
        return to_jsonable({**self.row(), "per_sample_dynamic_J": {
            "mean": float(self.per_sample_dynamic.mean()) if self.per_sample_dynamic.size else 0.0,
            "min": float(self.per_sample_dynamic.min()) if self.per_sample_dynamic.size else 0.0,
            "max": float(self.per_sample_dynamic.max()) if self.per_sample_dynamic.size else 0.0,
            "n": int(self.per_sample_dynamic.size)},
            "by_core_J": self.by_core, "unattributed_J": self.unattributed, "counts": dict(self.counts),
            "prices": dict(self.prices), "assumptions": list(self.assumptions)})

    def to_text(self) -> str:
        """Terms, band, static, time and assumptions as a small table."""
        dyn = self.dynamic_j
        lines = [f"{self.design} on {self.profile} ({self.model}): dynamic {format_joules(dyn)} per inference "
                 f"[{format_joules(self.dynamic_low_j)} .. {format_joules(self.dynamic_high_j)}], "
                 f"{self.n_cores} core(s)"]
        width = max([len(k) for k in self.dynamic] + [4])
        for k, v in self.dynamic.items():
            share = v / dyn * 100 if dyn else 0.0
            lines.append(f"  {k:<{width}}  {format_joules(v):>10}  {share:5.1f} %  "
                         f"[{format_joules(self.dynamic_low[k])} .. {format_joules(self.dynamic_high[k])}]")
        lines.append(f"  static ({self.static_convention}: {static_convention_text(self.static_convention)}): "
                     f"{format_joules(self.static_j)}")
        lines.append(f"  total {format_joules(self.total_j)}; time per step {format_seconds(self.time_per_step_s)} "
                     f"({self.time_model}), latency {format_seconds(self.latency_s)}, EDP {self.edp_js:.3g} J s")
        if not self.comparable:
            lines.append(f"  not comparable: {self.comparability}")
        lines.append("  assumptions:")
        lines.extend(f"   - {a}" for a in self.assumptions)
        return "\n".join(lines)
