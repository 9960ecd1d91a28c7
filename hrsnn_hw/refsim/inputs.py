"""Checks on what users hand to ``simulate``/``train``: spec, input raster, sample lengths."""
from __future__ import annotations

import sys
from typing import Any

import numpy as np

from ..errors import DataError, SpecError
from ..spec import NetworkSpec

__all__ = ["as_spec", "check_inputs", "versions"]


def as_spec(spec: Any) -> NetworkSpec:
    """Accept a :class:`NetworkSpec` or anything with a ``.spec`` one (a TrainedNetwork)."""
    if isinstance(spec, NetworkSpec):
        return spec
    inner = getattr(spec, "spec", None)
    if isinstance(inner, NetworkSpec):
        return inner
    raise SpecError("expected a NetworkSpec or a TrainedNetwork", parameter="spec",
                    value=type(spec).__name__, hint="load one with hrsnn_hw.spec.load_spec(path)")


def check_inputs(spec: NetworkSpec, input_spikes: Any, sample_lengths: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate the input raster and lengths; returns (raster, int64 lengths).

    The raster is boolean (binary spikes) or, for graded input, int64 payloads: a channel
    carrying payload p at step t adds ``p * w`` to the synaptic current of every neuron it
    projects to at step t + 1, as a spike adds ``w`` (Loihi 2 graded spikes; the memory-capacity
    current drive, :mod:`hrsnn_hw.tasks.mc_drive`). An integer raster of only 0 and 1 is spikes.
    ``input_spikes`` may also be an encoder output with ``.spikes`` and ``.sample_lengths``
    (used when ``sample_lengths`` is None).
    """
    if sample_lengths is None and hasattr(input_spikes, "spikes") and hasattr(input_spikes, "sample_lengths"):
        input_spikes, sample_lengths = input_spikes.spikes, input_spikes.sample_lengths
    x = np.asarray(input_spikes)
    if x.ndim != 3:
        raise DataError("input spikes must be a 3-d raster", parameter="input_spikes",
                        value=f"shape {x.shape}", allowed="shape (n_samples, n_steps, n_input)")
    if x.shape[2] != spec.n_input:
        raise DataError("input raster has the wrong number of channels", parameter="input_spikes",
                        value=f"{x.shape[2]} channels", allowed=f"{spec.n_input} (spec.n_input)",
                        hint="build the spec with load_spec(..., n_input=<encoder channels>)")
    if x.dtype != bool:
        binary = not x.size or bool(np.isin(x, (0, 1)).all())
        if binary:
            x = x.astype(bool)
        elif np.issubdtype(x.dtype, np.integer):
            x = x.astype(np.int64)
        else:
            raise DataError("input must be boolean spikes or integer payloads (graded input)",
                            parameter="input_spikes", value=f"dtype {x.dtype}",
                            allowed="bool, values in {0, 1}, or an integer dtype",
                            hint="quantize a continuous drive to integer payload levels first")
    n_samples, n_steps = x.shape[:2]
    if sample_lengths is None:
        lengths = np.full(n_samples, n_steps, dtype=np.int64)
    else:
        raw = np.asarray(sample_lengths)
        if raw.shape != (n_samples,):
            raise DataError("sample_lengths must have one entry per sample", parameter="sample_lengths",
                            value=f"shape {raw.shape}", allowed=f"shape ({n_samples},)")
        if raw.size and (not np.issubdtype(raw.dtype, np.number) or np.any(raw != np.round(raw))):
            raise DataError("sample lengths must be integers", parameter="sample_lengths",
                            value=raw.tolist()[:5], allowed=f"integers in [0, {n_steps}]")
        lengths = raw.astype(np.int64)
        bad = (lengths < 0) | (lengths > n_steps)
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError("sample length out of range", parameter="sample_lengths", index=i,
                            value=int(lengths[i]), allowed=f"[0, {n_steps}] (the raster's n_steps)")
    return x, lengths


def versions() -> dict[str, str]:
    """Package versions for provenance (Brian2 only if it is already imported)."""
    out = {"python": sys.version.split()[0], "numpy": np.__version__}
    try:
        from .. import __version__
        out["hrsnn_hw"] = __version__
    except ImportError:  # pragma: no cover
        pass
    b2 = sys.modules.get("brian2")
    if b2 is not None:
        out["brian2"] = getattr(b2, "__version__", "unknown")
    return out
