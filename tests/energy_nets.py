"""Test helper: small quantized networks built from dense matrices, whatever the projection storage.

The fixed-point network moves from dense ``w_post_pre`` matrices to sparse projections
(``QuantizedProjection.from_dense``) with a typed number format; the energy, counting and mapping
tests build their networks through here so they read the same either way.
"""
from __future__ import annotations

import dataclasses

import numpy as np

try:  # the one fixed-point home, when present
    from hrsnn_hw.fixedpoint import QuantizedNetwork, QuantizedProjection
except ImportError:  # pragma: no cover - before the fixedpoint package
    from hrsnn_hw.quantize.network import QuantizedNetwork, QuantizedProjection


def projection(name: str, source: str, w_post_pre, weight_exp: int = 0, bits: int = 8, mode: str = "mixed"):
    w = np.asarray(w_post_pre)
    if hasattr(QuantizedProjection, "from_dense"):
        return QuantizedProjection.from_dense(name, source, w, weight_exp, bits, mode)
    return QuantizedProjection(name, source, w, weight_exp, bits, mode)


def network(name: str, projections, *, n_input: int, du, dv, vth, bias_mant=None, bias_exp=None, refractory=None,
            dt: float = 1e-3, profile: str = "loihi2") -> QuantizedNetwork:
    du = np.asarray(du)
    n = du.size
    kw = {}
    if "number_format" in {f.name for f in dataclasses.fields(QuantizedNetwork)}:
        from hrsnn_hw.fixedpoint import NumberFormat
        kw["number_format"] = NumberFormat.from_profile(profile)
    zeros = np.zeros(n, int)
    return QuantizedNetwork(name=name, dt=dt, n_input=n_input, du=du, dv=np.asarray(dv), vth=np.asarray(vth),
                            bias_mant=zeros if bias_mant is None else np.asarray(bias_mant),
                            bias_exp=zeros if bias_exp is None else np.asarray(bias_exp),
                            refractory_steps=zeros if refractory is None else np.asarray(refractory),
                            projections=tuple(projections), excitatory=np.ones(n, bool), **kw)


def dense(proj) -> np.ndarray:
    """``w_post_pre`` of a small projection."""
    return np.asarray(proj.w_post_pre)
