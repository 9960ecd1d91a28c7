"""The verification report: one row per rung of the ladder, saved and loaded as an artifact."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import artifacts
from ..io import to_jsonable

#: Columns of :meth:`VerificationReport.summary` rows (what the run summary and the CLI show).
SUMMARY_KEYS = ("rung", "pair", "metric", "value", "tolerance", "verdict", "first_divergence")


@artifacts.node("hrsnn_hw.RungResult")
@dataclass(frozen=True)
class RungResult:
    """One row of the ladder.

    Attributes
    ----------
    rung : int
        1-5 (see :data:`hrsnn_hw.verify.RUNGS`).
    pair : str
        What is compared with what.
    tier : str
        ``"exact"``, ``"bounded"``, ``"tolerant"`` or ``"paired test"``.
    metric, value, tolerance : str
        What was measured, its value, and the stated pass condition.
    ok : bool
        The verdict.
    details : dict
        The numbers behind the value (JSON-friendly).
    first_divergence : str or None
        Where a failed exact rung first diverged (step, sample, neuron, variable, both values).
    """

    rung: int
    pair: str
    tier: str
    metric: str
    value: str
    tolerance: str
    ok: bool
    details: dict = field(default_factory=dict)
    first_divergence: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "rung", int(self.rung))
        object.__setattr__(self, "ok", bool(self.ok))
        object.__setattr__(self, "details", to_jsonable(dict(self.details)))

    @property
    def verdict(self) -> str:
        return "PASS" if self.ok else "FAIL"


@artifacts.artifact("hrsnn_hw.VerificationReport", 2)
@dataclass(frozen=True)
class VerificationReport:
    """Every rung that ran, with its verdict; ``save``/``load`` through :mod:`hrsnn_hw.artifacts`.

    Attributes
    ----------
    rungs : tuple of RungResult
    provenance : dict
        Design, profile, inputs (samples, steps), tolerances, backends and package versions.
    """

    rungs: tuple[RungResult, ...]
    provenance: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rungs", tuple(self.rungs))
        object.__setattr__(self, "provenance", to_jsonable(dict(self.provenance)))

    @property
    def ok(self) -> bool:
        """All rungs passed (and at least one ran)."""
        return bool(self.rungs) and all(r.ok for r in self.rungs)

    def rows(self, rung: int) -> tuple[RungResult, ...]:
        """The rows of one rung (rung 4 has two)."""
        return tuple(r for r in self.rungs if r.rung == rung)

    def summary(self) -> dict[str, Any]:
        """``{"ok", "rungs": [{rung, pair, metric, value, tolerance, verdict, first_divergence}]}``."""
        return {"ok": self.ok,
                "rungs": [{k: (r.verdict if k == "verdict" else getattr(r, k)) for k in SUMMARY_KEYS}
                          for r in self.rungs]}

    def to_text(self) -> str:
        """A fixed-width table for terminals."""
        head = f"{'rung':<5}{'pair':<58}{'metric':<34}{'value':<40}{'verdict'}"
        lines = [head, "-" * len(head)]
        for r in self.rungs:
            lines.append(f"{r.rung:<5}{r.pair[:57]:<58}{r.metric[:33]:<34}{r.value[:39]:<40}{r.verdict}")
            if r.first_divergence:
                lines.append(f"     first divergence: {r.first_divergence}")
        lines.append(f"overall: {'PASS' if self.ok else 'FAIL'}")
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """A Markdown table (pipe characters inside cells escaped)."""
        def cell(text: Any) -> str:
            return str(text).replace("|", "\\|")
        lines = ["| rung | pair | tier | metric | value | tolerance | verdict |", "|---|---|---|---|---|---|---|"]
        for r in self.rungs:
            lines.append("| " + " | ".join(cell(v) for v in (r.rung, r.pair, r.tier, r.metric, r.value, r.tolerance,
                                                              r.verdict)) + " |")
        for r in self.rungs:
            if r.first_divergence:
                lines.append(f"\nRung {r.rung} first divergence: {r.first_divergence}")
        return "\n".join(lines) + "\n"
