"""Sweep the quantization settings (K profiles x weight bits) and evaluate each network.

The driver is generic: the caller's ``evaluate(qnet) -> dict`` decides what is measured
(the pipeline runs the golden model and computes memory capacity, activity, E and the task
metric); every row also carries the quantization's own headline numbers.
"""
from __future__ import annotations

import dataclasses
import math
import numbers
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

from ..errors import ArtifactError, QuantizationError
from ..io import PathLike, read_json, to_jsonable, write_json_atomic, write_text_atomic
from ..profiles import HardwareProfile
from ..spec import NetworkSpec
from ..trained import TrainedNetwork
from .core import _as_spec, quantize
from ..fixedpoint import NumberFormat, QuantizedNetwork
from .policy import QuantizationPolicy
from .report import save_figure

if TYPE_CHECKING:
    from ..executor import Executor

SWEEP_KIND = "hrsnn_hw.QuantizationSweep"
SWEEP_VERSION = 1
DEFAULT_KS: tuple[int | None, ...] = (1, 2, 4, 8, 16, 32, None)
DEFAULT_WEIGHT_BITS: tuple[int | None, ...] = (2, 3, 4, 6, 8)
BASE_COLUMNS = ("k", "weight_bits", "neuron_profiles", "tau_m_mean_rel_err", "tau_m_max_rel_err",
                "weights_mean_rel_err", "weights_lost", "n_warnings")


def _k_label(k: int | None) -> str:
    return "none" if k is None else str(k)


@dataclass(frozen=True)
class SweepResult:
    """One row per (K, weight bits) setting.

    Attributes
    ----------
    name : str
        Design name.
    profile : str
        Target profile.
    ks : tuple
        Profile limits swept (None = no limit, per-neuron parameters).
    weight_bits : tuple
        Weight bits swept (None = the profile's).
    rows : tuple of dict
        ``k``, ``weight_bits``, the report summary (``neuron_profiles``, ``tau_m_mean_rel_err``,
        ``weights_mean_rel_err``, ``weights_lost``, ``v_scale``, ``n_warnings``...), the
        evaluation's values (prefixed ``eval_`` where a name collides) and ``error`` when the
        setting could not be quantized (strict policy).
    provenance : dict
        Base policy, profile, spec.
    """

    name: str
    profile: str
    ks: tuple
    weight_bits: tuple
    rows: tuple[dict, ...]
    provenance: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ks", tuple(self.ks))
        object.__setattr__(self, "weight_bits", tuple(self.weight_bits))
        object.__setattr__(self, "rows", tuple(dict(r) for r in self.rows))

    @property
    def columns(self) -> list[str]:
        """Column order: the base columns, then everything else in first-seen order."""
        cols = [c for c in BASE_COLUMNS if any(c in r for r in self.rows)]
        for row in self.rows:
            cols += [k for k in row if k not in cols]
        return cols

    def to_dict(self) -> dict:
        """The sweep as plain JSON types."""
        return to_jsonable({"format": SWEEP_KIND, "version": SWEEP_VERSION, "name": self.name,
                            "profile": self.profile, "ks": list(self.ks), "weight_bits": list(self.weight_bits),
                            "rows": list(self.rows), "provenance": self.provenance})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "SweepResult":
        """Inverse of :meth:`to_dict`."""
        if data.get("format") != SWEEP_KIND or data.get("version") != SWEEP_VERSION:
            raise ArtifactError("not a quantization sweep of a supported version", parameter="format",
                                value=f"{data.get('format')} v{data.get('version')}", allowed=f"{SWEEP_KIND} v{SWEEP_VERSION}")
        return cls(name=data["name"], profile=data["profile"], ks=tuple(data["ks"]),
                   weight_bits=tuple(data["weight_bits"]), rows=tuple(data["rows"]),
                   provenance=dict(data.get("provenance", {})))

    def save(self, path: PathLike) -> Path:
        """Write JSON at ``path`` and the Markdown table beside it (``.md``), atomically."""
        path = Path(path)
        write_text_atomic(path.with_suffix(".md"), self.to_markdown() + "\n")
        return write_json_atomic(path, self.to_dict())

    @classmethod
    def load(cls, path: PathLike) -> "SweepResult":
        """Read a sweep written by :meth:`save`."""
        return cls.from_dict(read_json(path))

    def to_markdown(self) -> str:
        """The rows as a Markdown table."""
        cols = [c for c in self.columns if c != "k_label"]
        lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
        for row in self.rows:
            cells = []
            for c in cols:
                v = row.get(c, "")
                if c == "k":
                    v = _k_label(v)
                elif c == "weight_bits" and v is None:
                    v = "profile"
                cells.append(_cell(v))
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def numeric_columns(self) -> list[str]:
        """Columns holding numbers in at least one row (the plottable ones)."""
        skip = {"k", "weight_bits", "k_label"}
        return [c for c in self.columns if c not in skip
                and any(isinstance(r.get(c), numbers.Real) and not isinstance(r.get(c), bool) for r in self.rows)]

    def plot(self, path: PathLike, columns: Sequence[str] | None = None) -> Path:
        """One panel per numeric column against K, one line per weight-bit setting."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        cols = list(columns) if columns is not None else self.numeric_columns()
        ncols = min(3, max(1, len(cols)))
        nrows = max(1, math.ceil(len(cols) / ncols))
        fig = Figure(figsize=(4.2 * ncols, 3.2 * nrows))
        FigureCanvasAgg(fig)
        positions = {_k_label(k): i for i, k in enumerate(self.ks)}
        for p, col in enumerate(cols):
            ax = fig.add_subplot(nrows, ncols, p + 1)
            for wb in self.weight_bits:
                pts = [(positions[_k_label(r["k"])], r[col]) for r in self.rows
                       if r.get("weight_bits") == wb and isinstance(r.get(col), numbers.Real)
                       and math.isfinite(float(r[col]))]
                if pts:
                    xs, ys = zip(*pts)
                    ax.plot(xs, ys, marker="o", label=f"{'profile' if wb is None else wb} bits")
            ax.set_xticks(range(len(self.ks)))
            ax.set_xticklabels([_k_label(k) for k in self.ks])
            ax.set_xlabel("K (neuron profiles)")
            ax.set_title(col)
            if p == 0:
                ax.legend(fontsize=7)
        fig.suptitle(f"Quantization sweep: {self.name} on {self.profile}")
        fig.tight_layout()
        return save_figure(fig, path)


def _cell(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return "" if v is None else str(v)
    if isinstance(v, numbers.Integral):
        return str(v)
    if isinstance(v, numbers.Real):
        return f"{float(v):.4g}"
    return str(v).replace("|", "\\|").replace("\n", " ")


def setting_row(spec: NetworkSpec, profile: HardwareProfile | str, setting: QuantizationPolicy, k: int | None,
                weight_bits: int | None,
                evaluate: Callable[[QuantizedNetwork], Mapping[str, Any]] | None = None) -> dict:
    """One setting of the sweep: quantize, summarise, evaluate (the job :func:`sweep` fans out)."""
    row: dict[str, Any] = {"k": k, "weight_bits": weight_bits}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            qnet, report = quantize(spec, profile, setting)
    except QuantizationError as exc:
        row["error"] = str(exc)
        return row
    row.update(report.summary())
    if evaluate is not None:
        for key, value in dict(evaluate(qnet)).items():
            row[f"eval_{key}" if key in row else key] = value
    return row


def sweep(net: NetworkSpec | TrainedNetwork, profile: HardwareProfile | str,
          ks: Iterable[int | None] = DEFAULT_KS, weight_bits: Iterable[int | None] = DEFAULT_WEIGHT_BITS,
          evaluate: Callable[[QuantizedNetwork], Mapping[str, Any]] | None = None,
          policy: QuantizationPolicy | None = None, *, executor: "Executor | None" = None) -> SweepResult:
    """Quantize at every (K, weight bits) setting and evaluate each result.

    Parameters
    ----------
    net : NetworkSpec or TrainedNetwork
        The float network.
    profile : HardwareProfile or str
        Target profile.
    ks : iterable of int or None
        Neuron-profile limits; None means no limit (per-neuron parameters).
    weight_bits : iterable of int or None
        Effective weight bits; None means the profile's.
    evaluate : callable, optional
        ``evaluate(qnet) -> dict`` of measurements added to the row (numbers are plotted).
    policy : QuantizationPolicy, optional
        Base policy (strictness, v_scale, binning); K and weight bits are replaced per
        setting. Warnings are collected in the rows (``n_warnings``), not printed. Under a
        strict policy a setting that raises gets an ``error`` entry and no evaluation.
    executor : Executor, optional
        Where the settings run (:func:`hrsnn_hw.executor.make_executor`: local processes or a
        Dask cluster); ``evaluate`` must then be picklable (a module-level function or a
        ``functools.partial`` of one). Default: one after the other in this process. The rows
        are the same, bit for bit, wherever they run.

    Returns
    -------
    SweepResult
    """
    spec, _ = _as_spec(net)
    base = policy if policy is not None else QuantizationPolicy()
    ks, bits_list = tuple(ks), tuple(weight_bits)
    for k in ks:
        if k is not None and (isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1):
            raise QuantizationError("K must be a positive integer or None", parameter="ks", value=k,
                                    allowed="integers >= 1, or None for no limit")
    fmt = NumberFormat.from_profile(profile)
    settings = [(k, wb, dataclasses.replace(base, max_neuron_profiles=spec.n_neurons if k is None else int(k),
                                            weight_bits=wb))
                for wb in bits_list for k in ks]
    jobs = [(spec, profile, setting, k, wb, evaluate) for k, wb, setting in settings]
    if executor is None:
        rows = [setting_row(*job) for job in jobs]
    else:
        found: list[dict | None] = [None] * len(jobs)
        for i, row in executor.map_unordered(setting_row, jobs,
                                             labels=[f"K={_k_label(k)} weight bits {wb}" for k, wb, _ in settings]):
            found[i] = row
        rows = [r for r in found if r is not None]
    return SweepResult(name=spec.name, profile=fmt.profile, ks=ks, weight_bits=bits_list, rows=tuple(rows),
                       provenance={"policy": base.as_dict(), "spec": {"name": spec.name, "seed": spec.seed,
                                                                      "n_neurons": spec.n_neurons}})
