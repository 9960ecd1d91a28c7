"""Test helper: small quantized networks built from dense matrices (the energy, counting, mapping
and SANA-FE tests share one way of writing them)."""
from __future__ import annotations

import numpy as np

from hrsnn_hw.fixedpoint import NumberFormat, QuantizedNetwork, QuantizedProjection


def projection(name: str, source: str, w_post_pre, weight_exp: int = 0, bits: int = 8, mode: str = "mixed"):
    return QuantizedProjection.from_dense(name, source, np.asarray(w_post_pre), weight_exp, bits, mode)


def network(name: str, projections, *, n_input: int, du, dv, vth, bias_mant=None, bias_exp=None, refractory=None,
            dt: float = 1e-3, profile: str = "loihi2") -> QuantizedNetwork:
    du = np.asarray(du)
    n = du.size
    zeros = np.zeros(n, int)
    return QuantizedNetwork(name=name, dt=dt, n_input=n_input, du=du, dv=np.asarray(dv), vth=np.asarray(vth),
                            bias_mant=zeros if bias_mant is None else np.asarray(bias_mant),
                            bias_exp=zeros if bias_exp is None else np.asarray(bias_exp),
                            refractory_steps=zeros if refractory is None else np.asarray(refractory),
                            projections=tuple(projections), excitatory=np.ones(n, bool),
                            number_format=NumberFormat.from_profile(profile))


def dense(proj) -> np.ndarray:
    """``w_post_pre`` of a small projection."""
    return np.asarray(proj.w_post_pre)
