"""The fixed-point network: what the golden model simulates and the Lava backend deploys.

Names follow Lava's LIF/Dense: ``du``, ``dv`` (12-bit decays), ``vth`` (threshold
mantissa; the compared value is ``vth << vth_shift``), ``bias_mant``/``bias_exp``,
per-projection ``weight_exp``. One step, integer arithmetic (see
``../shared/docs/lava-fixed-point.md`` and :mod:`hrsnn_hw.golden`)::

    a_in = sum_p  shift(w_p @ s_p[t-1], weight_exp_p)         (one-step delay)
    u <- wrap24(decay(u, 4096 - (du + 1)) + (a_in << u_shift))  [Lava: du + 1]
    v <- clip24(decay(v, 4096 - dv) + u + (bias_mant << bias_exp))
    spike where v > (vth << vth_shift); v <- 0; refractory neurons hold v at 0
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..arrays import frozen_array
from ..io import PathLike, load_artifact, save_artifact

QNET_KIND = "hrsnn_hw.QuantizedNetwork"
QNET_VERSION = 1
NEURON_INT_FIELDS = ("du", "dv", "vth", "bias_mant", "bias_exp", "refractory_steps")


def _frozen_int(arr: Any, dtype=np.int64) -> np.ndarray:
    return frozen_array(arr, dtype)


@dataclass(frozen=True)
class QuantizedProjection:
    """One projection as integer weight mantissas plus a shared exponent.

    Attributes
    ----------
    name : str
        Name of the spec projection (``"exc->inh"``).
    source : str
        ``"input"`` (columns index input channels) or ``"recurrent"`` (columns index neurons).
    w_post_pre : ndarray of int16, shape (n_neurons, n_source)
        Weight mantissas; zero where there is no synapse. Columns outside the projection's
        source population are zero, rows outside its target population are zero.
    weight_exp : int
        The weighted sum is shifted left by ``weight_exp`` (right when negative).
    num_weight_bits : int
        Mantissa bits of the target (Lava's ``num_weight_bits``).
    sign_mode : str
        ``"excitatory"`` (all >= 0), ``"inhibitory"`` (all <= 0) or ``"mixed"``.
    """

    name: str
    source: str
    w_post_pre: np.ndarray
    weight_exp: int
    num_weight_bits: int
    sign_mode: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "w_post_pre", _frozen_int(self.w_post_pre, np.int16))
        if self.source not in ("input", "recurrent"):
            raise ValueError(f"source must be 'input' or 'recurrent', got {self.source!r}")
        if self.sign_mode not in ("excitatory", "inhibitory", "mixed"):
            raise ValueError(f"sign_mode must be excitatory, inhibitory or mixed, got {self.sign_mode!r}")


@dataclass(frozen=True)
class QuantizedNetwork:
    """A network in Loihi-style fixed point, per-neuron parameters included.

    Attributes
    ----------
    name : str
        Design name.
    dt : float
        Step length in seconds the decays were computed for.
    n_input : int
        Number of input channels.
    du, dv : ndarray of int, shape (n_neurons,)
        12-bit current and voltage decays (Lava semantics, see module docstring).
    vth : ndarray of int, shape (n_neurons,)
        Threshold mantissas.
    bias_mant, bias_exp : ndarray of int, shape (n_neurons,)
        Bias mantissa and exponent.
    refractory_steps : ndarray of int, shape (n_neurons,)
        Steps a neuron stays silent (v held at 0) after a spike; 0 = none (stock Lava LIF).
    projections : tuple of QuantizedProjection
        Every projection; their outputs are summed into ``a_in``.
    excitatory : ndarray of bool, shape (n_neurons,)
        Dale sign of each neuron.
    formats : dict
        The number formats used: ``state_bits`` (24), ``decay_bits`` (12), ``u_shift`` (6),
        ``vth_shift`` (6), ``weight_bits``, ``overflow`` ("wrap" for u, "clip" for v)...
    v_scale : float
        Volts per integer unit of ``u`` and ``v`` (to de-quantize for comparisons).
    provenance : dict
        Profile name/version, policy, source spec, seed, package versions.
    """

    name: str
    dt: float
    n_input: int
    du: np.ndarray
    dv: np.ndarray
    vth: np.ndarray
    bias_mant: np.ndarray
    bias_exp: np.ndarray
    refractory_steps: np.ndarray
    projections: tuple[QuantizedProjection, ...]
    excitatory: np.ndarray
    formats: dict = field(default_factory=dict)
    v_scale: float = 1.0
    provenance: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in NEURON_INT_FIELDS:
            object.__setattr__(self, name, _frozen_int(getattr(self, name)))
        object.__setattr__(self, "excitatory", _frozen_int(self.excitatory, bool))
        object.__setattr__(self, "projections", tuple(self.projections))
        n = self.du.shape[0]
        for name in NEURON_INT_FIELDS:
            if getattr(self, name).shape != (n,):
                raise ValueError(f"{name} must have shape ({n},), got {getattr(self, name).shape}")
        for proj in self.projections:
            cols = self.n_input if proj.source == "input" else n
            if proj.w_post_pre.shape != (n, cols):
                raise ValueError(f"projection {proj.name}: w_post_pre must be ({n}, {cols}), "
                                 f"got {proj.w_post_pre.shape}")

    @property
    def n_neurons(self) -> int:
        return int(self.du.shape[0])

    def projections_from(self, source: str) -> tuple[QuantizedProjection, ...]:
        return tuple(p for p in self.projections if p.source == source)

    def save(self, path: PathLike) -> None:
        """Write atomically as a versioned ``.npz`` (no pickle)."""
        arrays = {name: getattr(self, name) for name in NEURON_INT_FIELDS}
        arrays["excitatory"] = self.excitatory
        proj_meta = []
        for i, proj in enumerate(self.projections):
            arrays[f"proj{i}_w_post_pre"] = proj.w_post_pre
            proj_meta.append({"name": proj.name, "source": proj.source, "weight_exp": int(proj.weight_exp),
                              "num_weight_bits": int(proj.num_weight_bits), "sign_mode": proj.sign_mode})
        meta = {"name": self.name, "dt": self.dt, "n_input": self.n_input, "formats": self.formats,
                "v_scale": self.v_scale, "provenance": self.provenance, "projections": proj_meta}
        save_artifact(path, QNET_KIND, QNET_VERSION, meta, arrays)

    @classmethod
    def load(cls, path: PathLike) -> "QuantizedNetwork":
        """Read a network written by :meth:`save`."""
        meta, arrays, _ = load_artifact(path, QNET_KIND, (QNET_VERSION,))
        projections = tuple(QuantizedProjection(w_post_pre=arrays[f"proj{i}_w_post_pre"], **pm)
                            for i, pm in enumerate(meta["projections"]))
        return cls(name=meta["name"], dt=float(meta["dt"]), n_input=int(meta["n_input"]),
                   projections=projections, excitatory=arrays["excitatory"], formats=meta["formats"],
                   v_scale=float(meta["v_scale"]), provenance=meta["provenance"],
                   **{name: arrays[name] for name in NEURON_INT_FIELDS})
