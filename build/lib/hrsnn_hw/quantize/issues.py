"""Collecting lossy conversions: raise under a strict policy, else warn and remember them."""
from __future__ import annotations

import numpy as np

from ..errors import QuantizationError, warn_or_raise


class Issues:
    """Accumulates the warnings of one quantization run (in order) for its report."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.messages: list[str] = []

    def add(self, error: QuantizationError) -> None:
        """Raise ``error`` (strict) or warn with it and record its message."""
        # warn_or_raise <- add <- report_* <- run <- quantize <- the caller of quantize()
        warn_or_raise(error, self.strict, stacklevel=6)
        self.messages.append(str(error))


def fmt_time(seconds: float) -> str:
    """``0.001 -> '1 ms'``, ``20.0 -> '20 s'``: readable times for messages."""
    if not np.isfinite(seconds):
        return "inf s"
    if seconds == 0:
        return "0 s"
    a = abs(seconds)
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if a >= scale or unit == "ns":
            return f"{seconds / scale:.4g} {unit}"
    return f"{seconds:g} s"  # unreachable; keeps type checkers calm


def fmt_volts(volts: float) -> str:
    if volts == 0 or not np.isfinite(volts):
        return f"{volts:g} V"
    a = abs(volts)
    for unit, scale in (("V", 1.0), ("mV", 1e-3), ("uV", 1e-6), ("nV", 1e-9)):
        if a >= scale or unit == "nV":
            return f"{volts / scale:.4g} {unit}"
    return f"{volts:g} V"


def locate(pop_names: list[str], pop_starts: np.ndarray, index: int) -> tuple[str, int]:
    """(population name, index within it) of a global neuron index."""
    k = int(np.searchsorted(pop_starts, index, side="right")) - 1
    return pop_names[k], int(index - pop_starts[k])
