"""The energy estimate of one design on one profile, and how it prints."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from ..io import PathLike, to_jsonable, write_json_atomic

REPORT_FORMAT = "hrsnn_hw.EnergyReport"
REPORT_VERSION = 1


def format_joules(x: float | None) -> str:
    """``1.23 uJ`` style: three significant digits with an SI prefix."""
    if x is None or not np.isfinite(x):
        return "-"
    if x == 0:
        return "0 J"
    for scale, prefix in ((1.0, ""), (1e-3, "m"), (1e-6, "u"), (1e-9, "n"), (1e-12, "p"), (1e-15, "f")):
        if abs(x) >= scale:
            return f"{x / scale:.3g} {prefix}J"
    return f"{x:.3g} J"


@dataclass(frozen=True)
class EnergyReport:
    """Energy per inference of one design on one hardware profile.

    Attributes
    ----------
    design : str
        Design name.
    profile : str
        Profile name.
    model : str
        ``"spiking"`` (event counts priced per event), ``"rate_dense"`` or ``"rate_sparse"``
        (the conventional, non-spiking baseline).
    terms : dict of str to float
        Mean J per inference of each term (profile's values).
    terms_low, terms_high : dict of str to float
        The same with every price (and time) at the low / high end of its band.
    per_sample : ndarray, shape (n_samples,)
        Total J of each inference (profile's values).
    by_core : ndarray, shape (n_cores,)
        Mean J per inference attributed to each core (empty without a placement).
    unattributed : float
        Mean J per inference tied to no core (static power, whole-deployment overhead,
        inputs from the I/O port).
    time_per_inference : float
        Seconds per inference used for the static term (0 if none).
    time_band : tuple of float
        (low, high) of ``time_per_inference``.
    n_cores, n_chips : int
        Hardware used (0 for a conventional device).
    counts : dict of str to float
        The mean counts that were priced.
    prices : dict
        Each price used: value, low, high (SI), unit, source, estimate, note.
    assumptions : tuple of str
        Every assumption, estimate and omission behind the numbers.
    """

    design: str
    profile: str
    model: str
    terms: Mapping[str, float]
    terms_low: Mapping[str, float]
    terms_high: Mapping[str, float]
    per_sample: np.ndarray
    by_core: np.ndarray
    unattributed: float
    time_per_inference: float
    time_band: tuple[float, float]
    n_cores: int
    n_chips: int
    counts: Mapping[str, float] = field(default_factory=dict)
    prices: Mapping[str, dict] = field(default_factory=dict)
    assumptions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("per_sample", "by_core"):
            arr = np.array(getattr(self, name), dtype=np.float64, copy=True)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        for name in ("terms", "terms_low", "terms_high"):
            object.__setattr__(self, name, {k: float(v) for k, v in getattr(self, name).items()})
        object.__setattr__(self, "assumptions", tuple(self.assumptions))
        object.__setattr__(self, "time_band", (float(self.time_band[0]), float(self.time_band[1])))

    @property
    def total(self) -> float:
        """Mean J per inference."""
        return float(sum(self.terms.values()))

    @property
    def low(self) -> float:
        return float(sum(self.terms_low.values()))

    @property
    def high(self) -> float:
        return float(sum(self.terms_high.values()))

    def to_dict(self) -> dict:
        return to_jsonable({
            "format": REPORT_FORMAT, "version": REPORT_VERSION, "design": self.design, "profile": self.profile,
            "model": self.model, "total_J": self.total, "low_J": self.low, "high_J": self.high,
            "terms_J": dict(self.terms), "terms_low_J": dict(self.terms_low), "terms_high_J": dict(self.terms_high),
            "per_sample_J": {"mean": float(self.per_sample.mean()) if self.per_sample.size else 0.0,
                             "min": float(self.per_sample.min()) if self.per_sample.size else 0.0,
                             "max": float(self.per_sample.max()) if self.per_sample.size else 0.0,
                             "n": int(self.per_sample.size)},
            "by_core_J": self.by_core, "unattributed_J": self.unattributed,
            "time_per_inference_s": self.time_per_inference, "time_band_s": list(self.time_band),
            "n_cores": self.n_cores, "n_chips": self.n_chips, "counts": dict(self.counts),
            "prices": dict(self.prices), "assumptions": list(self.assumptions)})

    def save_json(self, path: PathLike) -> None:
        write_json_atomic(path, self.to_dict())

    def to_text(self) -> str:
        """Terms, band and assumptions as a small table."""
        lines = [f"{self.design} on {self.profile} ({self.model}): {format_joules(self.total)} per inference "
                 f"[{format_joules(self.low)} .. {format_joules(self.high)}], {self.n_cores} core(s)"]
        width = max([len(k) for k in self.terms] + [4])
        for k, v in self.terms.items():
            share = v / self.total * 100 if self.total else 0.0
            lines.append(f"  {k:<{width}}  {format_joules(v):>10}  {share:5.1f} %  "
                         f"[{format_joules(self.terms_low[k])} .. {format_joules(self.terms_high[k])}]")
        lines.append("  assumptions:")
        lines.extend(f"   - {a}" for a in self.assumptions)
        return "\n".join(lines)
