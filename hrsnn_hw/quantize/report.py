"""What quantization cost: per-parameter errors, choices made, problems met.

A :class:`QuantizationReport` saves as JSON (summaries, choices, warnings) plus an ``.npz``
beside it (per-neuron and per-synapse error arrays): ``report.json`` and
``report.arrays.npz``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

from ..errors import ArtifactError
from ..io import PathLike, load_artifact, read_json, save_artifact, to_jsonable, write_json_atomic

REPORT_KIND = "hrsnn_hw.QuantizationReport"
REPORT_ARRAYS_KIND = "hrsnn_hw.QuantizationReport.arrays"
REPORT_VERSION = 1


def _revive(obj: Any) -> Any:
    """Undo :func:`to_jsonable`'s ``"inf"``/``"-inf"`` strings inside nested dicts and lists."""
    if isinstance(obj, dict):
        return {k: _revive(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_revive(v) for v in obj]
    if obj in ("inf", "-inf"):
        return float(obj)
    return obj


def _float(x: Any) -> float:
    """JSON value back to float (``"inf"``/``"-inf"`` strings and None for NaN)."""
    if x is None:
        return math.nan
    return float(x)


@dataclass(frozen=True)
class ParamStats:
    """Error summary of one quantized parameter.

    Errors are ``effective - requested`` in the parameter's unit (``abs``) and divided by
    ``|requested|`` (``rel``; a zero requested value counts 0 if kept at zero).

    Attributes
    ----------
    name : str
        ``"tau_m"``, ``"tau_m.rounding"``, ``"tau_m.binning"``, ``"v_th"``, ``"bias"``,
        ``"refractory"``, ``"weights[exc->inh]"``...
    unit : str
        SI unit of the absolute errors.
    n : int
        Number of values.
    max_abs_err, mean_abs_err, max_rel_err, mean_rel_err : float
        Largest and mean absolute and relative error magnitudes.
    n_clipped : int
        Integers clipped at either end of their field.
    n_saturated : int
        Of those, clipped at the large-magnitude end.
    n_zeroed : int
        Nonzero quantities that became zero (no leak, lost synapse or bias, refractory period
        of 0 steps, threshold below one unit).
    bits_lost : int or None
        Mantissa bits left unused or dropped (thresholds: unused top bits; weights: unused
        bits of the largest mantissa plus bits dropped by a negative exponent).
    exponent : int, list of int or None
        Chosen exponent(s) (weights: the projection's; bias: the distinct per-neuron values).
    """

    name: str
    unit: str
    n: int
    max_abs_err: float
    mean_abs_err: float
    max_rel_err: float
    mean_rel_err: float
    n_clipped: int = 0
    n_saturated: int = 0
    n_zeroed: int = 0
    bits_lost: int | None = None
    exponent: Any = None

    @classmethod
    def compute(cls, name: str, unit: str, requested: np.ndarray, effective: np.ndarray, *,
                rel: np.ndarray | None = None, clipped: np.ndarray | None = None,
                saturated: np.ndarray | None = None, zeroed: np.ndarray | None = None,
                bits_lost: int | None = None, exponent: Any = None) -> "ParamStats":
        """Summarise ``effective`` against ``requested`` (``rel`` overrides the relative errors)."""
        requested = np.asarray(requested, dtype=np.float64)
        effective = np.asarray(effective, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            err = np.where(effective == requested, 0.0, effective - requested)
            if rel is None:
                rel = np.where(err == 0, 0.0, err / np.where(requested != 0, np.abs(requested), np.nan))
                rel = np.where(np.isnan(rel), np.inf, rel)
        abs_err, rel_err = np.abs(err), np.abs(np.asarray(rel, dtype=np.float64))
        count = (lambda m: int(np.count_nonzero(m)) if m is not None else 0)
        stat = (lambda f, a: float(f(a)) if a.size else 0.0)
        return cls(name=name, unit=unit, n=int(requested.size), max_abs_err=stat(np.max, abs_err),
                   mean_abs_err=stat(np.mean, abs_err), max_rel_err=stat(np.max, rel_err),
                   mean_rel_err=stat(np.mean, rel_err), n_clipped=count(clipped), n_saturated=count(saturated),
                   n_zeroed=count(zeroed), bits_lost=bits_lost, exponent=exponent)

    def to_dict(self) -> dict:
        """Fields as a dict (JSON conversion is left to :func:`hrsnn_hw.io.to_jsonable`)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ParamStats":
        """Inverse of :meth:`to_dict` (after a JSON round trip)."""
        d = dict(data)
        for key in ("max_abs_err", "mean_abs_err", "max_rel_err", "mean_rel_err"):
            d[key] = _float(d[key])
        return cls(**d)


def _freeze_arrays(arrays: Mapping[str, np.ndarray]) -> Mapping[str, np.ndarray]:
    out = {}
    for key, arr in arrays.items():
        a = np.array(arr, copy=True)
        a.setflags(write=False)
        out[key] = a
    return MappingProxyType(out)


@dataclass(frozen=True)
class QuantizationReport:
    """Everything quantization decided and lost.

    Attributes
    ----------
    name : str
        Design name.
    profile : str
        Target profile name.
    policy : dict
        The :class:`QuantizationPolicy` used, as a dict.
    dt : float
        Step, seconds.
    v_scale : float
        Volts per integer unit of ``u`` and ``v``.
    v_scale_choice : dict
        ``explicit`` (bool), ``rule`` (text), ``bounds`` (lower bound per constraint, V per
        unit), ``binding`` (the constraint that set it), ``vth_max_used`` (largest threshold
        mantissa), ``iterations``.
    parameters : dict of str to ParamStats
        Error summary per parameter (``tau_m``, ``tau_m.rounding``, ``tau_m.binning``,
        ``tau_syn...``, ``v_th...``, ``refractory...``, ``bias``, ``weights[<projection>]``).
    projections : dict of str to dict
        Per projection: ``weight_exp``, ``sign_mode``, ``num_weight_bits``, ``n_synapses``,
        ``n_lost``, ``n_saturated``, ``max_mantissa``, ``bits_used``, ``truncated_low_bits``,
        ``single_spike_shift_bits``, ``smallest_nonzero_V``, ``largest_V``.
    neuron_profiles : dict
        ``limit`` (K), ``limit_source``, ``before``/``after`` binning, ``binned``, ``method``,
        ``explanation``, ``distinct_thresholds``, ``table`` (one row per final profile).
    overflow : dict
        Worst-case ``|u|`` against the state range (``u_worst_units``, ``u_headroom``,
        ``u_overflow_possible``...) and the negative ``v`` clipping bound.
    warnings : tuple of str
        Every lossy conversion met (in a strict run the first one raised instead).
    arrays : mapping of str to ndarray
        Per-neuron arrays (``tau_m_eff``, ``tau_m_rel_err``, ``tau_m_rel_err_rounding``,
        ``tau_m_rel_err_binning``, the same for ``tau_syn``/``v_th``/``refractory``,
        ``bias_eff``, ``bias_rel_err``, ``profile_id``, ``u_worst_pos_units``,
        ``u_worst_neg_units``) and per-synapse ``weights_rel_err[<projection>]``.
    provenance : dict
        Profile, spec, versions.
    """

    name: str
    profile: str
    policy: dict
    dt: float
    v_scale: float
    v_scale_choice: dict
    parameters: Mapping[str, ParamStats]
    projections: Mapping[str, dict]
    neuron_profiles: dict
    overflow: dict
    warnings: tuple[str, ...] = ()
    arrays: Mapping[str, np.ndarray] = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "warnings", tuple(self.warnings))
        object.__setattr__(self, "arrays", _freeze_arrays(self.arrays))
        object.__setattr__(self, "parameters", MappingProxyType(dict(self.parameters)))
        object.__setattr__(self, "projections", MappingProxyType(dict(self.projections)))

    # --- serialisation -------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Everything except the arrays, as plain JSON types."""
        return to_jsonable({"format": REPORT_KIND, "version": REPORT_VERSION, "name": self.name,
                            "profile": self.profile, "policy": self.policy, "dt": self.dt, "v_scale": self.v_scale,
                            "v_scale_choice": self.v_scale_choice,
                            "parameters": {k: v.to_dict() for k, v in self.parameters.items()},
                            "projections": dict(self.projections), "neuron_profiles": self.neuron_profiles,
                            "overflow": self.overflow, "warnings": list(self.warnings),
                            "array_names": sorted(self.arrays), "provenance": self.provenance})

    @staticmethod
    def arrays_path(path: PathLike) -> Path:
        """Where the arrays of a report saved at ``path`` go (``x.json`` -> ``x.arrays.npz``)."""
        path = Path(path)
        return path.with_name(path.stem + ".arrays.npz")

    def save(self, path: PathLike) -> Path:
        """Write ``path`` (JSON) and the arrays beside it, atomically each."""
        arrays = {f"a{i}": self.arrays[k] for i, k in enumerate(sorted(self.arrays))}
        save_artifact(self.arrays_path(path), REPORT_ARRAYS_KIND, REPORT_VERSION,
                      {"names": sorted(self.arrays)}, arrays)
        return write_json_atomic(path, self.to_dict())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], arrays: Mapping[str, np.ndarray] | None = None) -> "QuantizationReport":
        """Rebuild a report from :meth:`to_dict` output and its arrays."""
        if data.get("format") != REPORT_KIND:
            raise ArtifactError("wrong artifact kind", parameter="format", value=data.get("format"),
                                allowed=REPORT_KIND)
        if data.get("version") != REPORT_VERSION:
            raise ArtifactError("unsupported format version", parameter="version", value=data.get("version"),
                                allowed=str(REPORT_VERSION))
        return cls(name=data["name"], profile=data["profile"], policy=dict(data["policy"]), dt=float(data["dt"]),
                   v_scale=float(data["v_scale"]), v_scale_choice=_revive(dict(data["v_scale_choice"])),
                   parameters={k: ParamStats.from_dict(v) for k, v in data["parameters"].items()},
                   projections=_revive(dict(data["projections"])), neuron_profiles=_revive(dict(data["neuron_profiles"])),
                   overflow=_revive(dict(data["overflow"])), warnings=tuple(data.get("warnings", ())),
                   arrays=dict(arrays or {}), provenance=dict(data.get("provenance", {})))

    @classmethod
    def load(cls, path: PathLike) -> "QuantizationReport":
        """Read a report written by :meth:`save` (the arrays file must sit beside it)."""
        data = read_json(path)
        meta, stored, _ = load_artifact(cls.arrays_path(path), REPORT_ARRAYS_KIND, (REPORT_VERSION,))
        arrays = {name: stored[f"a{i}"] for i, name in enumerate(meta["names"])}
        return cls.from_dict(data, arrays)

    # --- presentation --------------------------------------------------------------------
    def summary(self) -> dict:
        """A few headline numbers (for sweeps and pipeline records)."""
        p = self.parameters
        weights = [s for k, s in p.items() if k.startswith("weights[")]
        n_syn = sum(s.n for s in weights)
        return {"v_scale": self.v_scale, "neuron_profiles": self.neuron_profiles.get("after"),
                "neuron_profiles_before": self.neuron_profiles.get("before"),
                "tau_m_max_rel_err": p["tau_m"].max_rel_err, "tau_m_mean_rel_err": p["tau_m"].mean_rel_err,
                "tau_m_binning_mean_rel_err": p["tau_m.binning"].mean_rel_err,
                "tau_syn_mean_rel_err": p["tau_syn"].mean_rel_err, "v_th_max_rel_err": p["v_th"].max_rel_err,
                "weights_mean_rel_err": (sum(s.mean_rel_err * s.n for s in weights) / n_syn) if n_syn else 0.0,
                "weights_lost": sum(s.n_zeroed for s in weights),
                "weights_saturated": sum(s.n_saturated for s in weights),
                "u_headroom": self.overflow.get("u_headroom"), "n_warnings": len(self.warnings)}

    def to_text(self) -> str:
        """A human-readable table of the choices and errors."""
        head = (f"{'parameter':<24} {'n':>6} {'max abs':>10} {'mean abs':>10} {'max rel':>9} {'mean rel':>9} "
                f"{'clip':>5} {'sat':>5} {'zero':>5} {'bits lost':>9} {'exp':>6}")
        lines = [f"Quantization of {self.name!r} for {self.profile} (dt = {self.dt:g} s)",
                 f"v_scale = {self.v_scale:.6g} V per unit ({'given' if self.v_scale_choice.get('explicit') else 'chosen'}; "
                 f"binding: {self.v_scale_choice.get('binding')})",
                 f"neuron profiles: {self.neuron_profiles.get('before')} before binning, "
                 f"{self.neuron_profiles.get('after')} after (limit {self.neuron_profiles.get('limit')}, "
                 f"{self.neuron_profiles.get('method')})",
                 f"worst-case |u|: {self.overflow.get('u_worst_units', 0):.4g} units of "
                 f"{self.overflow.get('clip_limit')} (headroom x{_num(self.overflow.get('u_headroom'))})",
                 "", head, "-" * len(head)]
        for stats in self.parameters.values():
            unit = stats.unit
            exp = stats.exponent
            exp_text = "" if exp is None else (",".join(str(e) for e in exp) if isinstance(exp, (list, tuple)) else str(exp))
            lines.append(f"{stats.name:<24} {stats.n:>6} {_num(stats.max_abs_err):>8}{unit:>2} "
                         f"{_num(stats.mean_abs_err):>8}{unit:>2} {_pct(stats.max_rel_err):>9} "
                         f"{_pct(stats.mean_rel_err):>9} {stats.n_clipped:>5} {stats.n_saturated:>5} "
                         f"{stats.n_zeroed:>5} {'' if stats.bits_lost is None else stats.bits_lost:>9} {exp_text:>6}")
        if self.warnings:
            lines += ["", f"warnings ({len(self.warnings)}):"] + [f"  - {w}" for w in self.warnings]
        return "\n".join(lines)

    def plot(self, path: PathLike) -> Path:
        """Histograms of the relative errors per parameter (matplotlib, Agg; no global state)."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        panels = [(name, self.arrays[key]) for name, key in
                  (("tau_m", "tau_m_rel_err"), ("tau_syn", "tau_syn_rel_err"), ("v_th", "v_th_rel_err"),
                   ("bias", "bias_rel_err"), ("refractory", "refractory_rel_err")) if key in self.arrays]
        weight_keys = sorted(k for k in self.arrays if k.startswith("weights_rel_err["))
        if weight_keys:
            panels.append(("weights", None))
        ncols = 3
        nrows = max(1, math.ceil(len(panels) / ncols))
        fig = Figure(figsize=(4.2 * ncols, 3.2 * nrows))
        FigureCanvasAgg(fig)
        for i, (name, values) in enumerate(panels):
            ax = fig.add_subplot(nrows, ncols, i + 1)
            series = ([(k[len("weights_rel_err["):-1], self.arrays[k]) for k in weight_keys]
                      if values is None else [(name, values)])
            for label, vals in series:
                finite = np.asarray(vals, dtype=np.float64)
                finite = 100.0 * finite[np.isfinite(finite)]
                if finite.size:
                    ax.hist(finite, bins=40, alpha=0.6, label=label)
            ax.set_title(f"{name}: relative error")
            ax.set_xlabel("effective - requested (%)")
            ax.set_ylabel("count")
            if values is None and series:
                ax.legend(fontsize=7)
        fig.suptitle(f"{self.name} on {self.profile}: v_scale = {self.v_scale:.3g} V/unit, "
                     f"{self.neuron_profiles.get('after')} neuron profiles")
        fig.tight_layout()
        return save_figure(fig, path)


def save_figure(fig: Any, path: PathLike) -> Path:
    """Save a matplotlib figure atomically (temporary file, then rename)."""
    from ..io import atomic_path
    path = Path(path)
    with atomic_path(path, suffix=path.suffix or ".png") as tmp:
        fig.savefig(tmp, dpi=110)
    return path


def _num(x: Any) -> str:
    if x is None:
        return "-"
    x = float(x)
    if not math.isfinite(x):
        return "inf" if x > 0 else ("-inf" if x < 0 else "nan")
    return f"{x:.3g}"


def _pct(x: float) -> str:
    if not math.isfinite(x):
        return "inf"
    return f"{100 * x:.3g}%"
