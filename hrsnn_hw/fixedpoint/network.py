"""The fixed-point network: what the golden model simulates and the Lava backend deploys.

Names follow Lava's LIF/Dense: ``du``, ``dv`` (12-bit decays), ``vth`` (threshold
mantissa; the compared value is ``vth << vth_shift``), ``bias_mant``/``bias_exp``,
per-projection ``weight_exp``. One step, integer arithmetic (:mod:`hrsnn_hw.golden.kernel`
is the executable definition)::

    a_in = sum_p  shift(W_p @ s_p[t-1], weight_exp_p)          (one-step delay)
    u <- wrap(decay(u, 2**D - (du + DU_OFFSET)) + (a_in << u_shift))
    v <- clip(decay(v, 2**D - (dv + DV_OFFSET)) + u + (bias_mant << bias_exp))
    spike where v > (vth << vth_shift); v <- 0; refractory neurons hold v at 0

Weights are stored sparsely, O(synapses): each :class:`QuantizedProjection` holds its
nonzero mantissas in compressed sparse columns of ``w_post_pre`` -- grouped by presynaptic
source, the order an event-driven simulator reads them in (a spike of source ``j`` reaches
``post_index[pre_ptr[j]:pre_ptr[j+1]]`` with ``weight[pre_ptr[j]:pre_ptr[j+1]]``).
A mantissa of zero is not a synapse and is never stored (a compiler drops it: no memory, no
synaptic operation).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse

from .. import artifacts
from ..arrays import frozen_array
from ..errors import DataError
from .format import SIGN_MODES, NumberFormat

QNET_KIND = "hrsnn_hw.QuantizedNetwork"
QNET_VERSION = 2
NEURON_INT_FIELDS = ("du", "dv", "vth", "bias_mant", "bias_exp", "refractory_steps")
SOURCES = ("input", "recurrent")
#: Largest matrix (entries) :meth:`QuantizedProjection.dense` builds: a dense copy is for small
#: networks and tests; anything that must scale reads the sparse accessors instead.
DENSE_MAX_ENTRIES = 1 << 28


@artifacts.node("hrsnn_hw.QuantizedProjection")
@dataclass(frozen=True)
class QuantizedProjection:
    """One projection: integer weight mantissas on its synapses plus a shared exponent.

    Build one with :meth:`from_synapses` (synapse lists) or :meth:`from_dense` (a small
    matrix); read it with :meth:`synapses`, :meth:`sparse`, :meth:`fan_in`,
    :meth:`fan_out`, or :meth:`dense` / :attr:`w_post_pre` for small networks and tests.

    Attributes
    ----------
    name : str
        Name of the spec projection (``"exc->inh"``).
    source : str
        ``"input"`` (presynaptic index = input channel) or ``"recurrent"`` (= neuron).
    n_post, n_pre : int
        Shape of ``w_post_pre``: neurons of the network, and input channels or neurons.
    pre_ptr : ndarray of int64, shape (n_pre + 1,)
        Synapses of source ``j`` are ``pre_ptr[j]:pre_ptr[j+1]`` (CSR by presynaptic source,
        i.e. the CSC layout of ``w_post_pre``).
    post_index : ndarray of int32, shape (n_synapses,)
        Target neuron of each synapse, ascending within a source.
    weight : ndarray of int16, shape (n_synapses,)
        Nonzero weight mantissas.
    weight_exp : int
        The weighted sum is shifted left by ``weight_exp`` (right when negative).
    num_weight_bits : int
        Mantissa bits of the target (Lava's ``num_weight_bits``).
    sign_mode : str
        ``"excitatory"`` (all >= 0), ``"inhibitory"`` (all <= 0) or ``"mixed"``.
    """

    name: str
    source: str
    n_post: int
    n_pre: int
    pre_ptr: np.ndarray
    post_index: np.ndarray
    weight: np.ndarray
    weight_exp: int
    num_weight_bits: int
    sign_mode: str

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"source must be 'input' or 'recurrent', got {self.source!r}")
        if self.sign_mode not in SIGN_MODES:
            raise ValueError(f"sign_mode must be excitatory, inhibitory or mixed, got {self.sign_mode!r}")
        for name in ("n_post", "n_pre", "weight_exp", "num_weight_bits"):
            object.__setattr__(self, name, int(getattr(self, name)))
        if self.n_post < 0 or self.n_pre < 0:
            raise ValueError(f"projection {self.name}: shape must be non-negative, got ({self.n_post}, {self.n_pre})")
        ptr = frozen_array(self.pre_ptr, np.int64)
        post = frozen_array(self.post_index, np.int32)
        w = np.asarray(self.weight)
        if w.size and (w.min(initial=0) < -(1 << 15) or w.max(initial=0) >= 1 << 15):
            raise ValueError(f"projection {self.name}: weight mantissas must fit int16")
        w = frozen_array(w, np.int16)
        if ptr.shape != (self.n_pre + 1,) or ptr[0] != 0 or (np.diff(ptr) < 0).any() or ptr[-1] != post.size:
            raise ValueError(f"projection {self.name}: pre_ptr must be {self.n_pre + 1} non-decreasing offsets "
                             f"from 0 to n_synapses = {post.size}")
        if w.shape != post.shape:
            raise ValueError(f"projection {self.name}: weight and post_index differ in length")
        if post.size:
            if post.min() < 0 or post.max() >= self.n_post:
                raise ValueError(f"projection {self.name}: post_index out of range [0, {self.n_post})")
            if not w.all():
                raise ValueError(f"projection {self.name}: zero mantissas are not synapses; drop them")
            # ascending post within each source: the key pre * n_post + post strictly increases
            key = np.repeat(np.arange(self.n_pre, dtype=np.int64), np.diff(ptr)) * max(self.n_post, 1) + post
            if (np.diff(key) <= 0).any():
                raise ValueError(f"projection {self.name}: post_index must be strictly ascending within each "
                                 "source (no duplicate synapses)")
        object.__setattr__(self, "pre_ptr", ptr)
        object.__setattr__(self, "post_index", post)
        object.__setattr__(self, "weight", w)

    # --- construction ----------------------------------------------------------------------
    @classmethod
    def from_synapses(cls, name: str, source: str, n_post: int, n_pre: int, post: Any, pre: Any,
                      weight: Any, weight_exp: int, num_weight_bits: int, sign_mode: str) -> "QuantizedProjection":
        """Build from synapse lists in any order; zero mantissas are dropped.

        Raises
        ------
        DataError
            An index is out of range or a (post, pre) pair appears twice.
        """
        post = np.asarray(post, np.int64).ravel()
        pre = np.asarray(pre, np.int64).ravel()
        w = np.asarray(weight).ravel()
        if not post.shape == pre.shape == w.shape:
            raise DataError("synapse arrays differ in length", parameter=f"projections.{name}",
                            value=f"{post.size} post, {pre.size} pre, {w.size} weights")
        for arr, label, hi in ((post, "post", n_post), (pre, "pre", n_pre)):
            if arr.size and (arr.min() < 0 or arr.max() >= hi):
                raise DataError(f"{label} index out of range", parameter=f"projections.{name}.{label}",
                                value=int(arr.max() if arr.max() >= hi else arr.min()), allowed=f"[0, {hi})")
        keep = w != 0
        post, pre, w = post[keep], pre[keep], w[keep]
        key = pre * max(int(n_post), 1) + post
        order = np.argsort(key, kind="stable")
        key = key[order]
        if key.size and (np.diff(key) == 0).any():
            i = int(np.flatnonzero(np.diff(key) == 0)[0])
            raise DataError("duplicate synapse", parameter=f"projections.{name}",
                            value=f"post {int(post[order][i])}, pre {int(pre[order][i])}",
                            hint="sum duplicate synapses before quantizing")
        ptr = np.zeros(int(n_pre) + 1, np.int64)
        np.cumsum(np.bincount(pre, minlength=int(n_pre)), out=ptr[1:])
        return cls(name=name, source=source, n_post=n_post, n_pre=n_pre, pre_ptr=ptr, post_index=post[order],
                   weight=w[order], weight_exp=weight_exp, num_weight_bits=num_weight_bits, sign_mode=sign_mode)

    @classmethod
    def from_dense(cls, name: str, source: str, w_post_pre: Any, weight_exp: int, num_weight_bits: int,
                   sign_mode: str) -> "QuantizedProjection":
        """Build from a small dense ``(n_post, n_pre)`` matrix of mantissas (zeros = no synapse)."""
        w = np.asarray(w_post_pre)
        if w.ndim != 2:
            raise DataError("w_post_pre must be a matrix", parameter=f"projections.{name}.w_post_pre",
                            value=f"shape {w.shape}", allowed="(n_post, n_pre)")
        post, pre = np.nonzero(w)
        return cls.from_synapses(name, source, w.shape[0], w.shape[1], post, pre, w[post, pre],
                                 weight_exp, num_weight_bits, sign_mode)

    # --- accessors ---------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        """``(n_post, n_pre)``, the shape of ``w_post_pre``."""
        return self.n_post, self.n_pre

    @property
    def n_synapses(self) -> int:
        """Stored synapses (nonzero mantissas)."""
        return int(self.post_index.size)

    def pre_index(self) -> np.ndarray:
        """Presynaptic source of each synapse, aligned with :attr:`post_index` (int64)."""
        return np.repeat(np.arange(self.n_pre, dtype=np.int64), np.diff(self.pre_ptr))

    def synapses(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(post, pre, weight)`` of every synapse, grouped by source (int64, int64, int64)."""
        return self.post_index.astype(np.int64), self.pre_index(), self.weight.astype(np.int64)

    def fan_out(self) -> np.ndarray:
        """Synapses out of each source, shape (n_pre,)."""
        return np.diff(self.pre_ptr)

    def fan_in(self) -> np.ndarray:
        """Synapses into each neuron, shape (n_post,)."""
        return np.bincount(self.post_index, minlength=self.n_post).astype(np.int64)

    def sparse(self) -> scipy.sparse.csc_matrix:
        """``w_post_pre`` as a scipy sparse matrix (CSC: columns are sources; shares no memory)."""
        return scipy.sparse.csc_matrix((self.weight.copy(), self.post_index.copy(), self.pre_ptr.copy()),
                                       shape=self.shape)

    def dense(self) -> np.ndarray:
        """``w_post_pre`` as a dense, read-only int16 matrix, for small networks and tests.

        Raises
        ------
        DataError
            Above :data:`DENSE_MAX_ENTRIES` entries (use the sparse accessors).
        """
        if self.n_post * self.n_pre > DENSE_MAX_ENTRIES:
            raise DataError("projection too large for a dense matrix", parameter=f"projections.{self.name}",
                            value=f"{self.n_post} x {self.n_pre}", allowed=f"<= {DENSE_MAX_ENTRIES} entries",
                            hint="read synapses() or sparse() instead")
        out = np.zeros(self.shape, np.int16)
        out[self.post_index, self.pre_index()] = self.weight
        out.setflags(write=False)  # a view of a frozen artifact: copy it to change it
        return out

    @property
    def w_post_pre(self) -> np.ndarray:
        """Dense ``(n_post, n_pre)`` mantissas (zeros where there is no synapse); see :meth:`dense`."""
        return self.dense()


def _frozen_int(arr: Any, dtype=np.int64) -> np.ndarray:
    return frozen_array(arr, dtype)


@artifacts.artifact(QNET_KIND, QNET_VERSION)
@dataclass(frozen=True)
class QuantizedNetwork:
    """A network in Loihi-style fixed point, per-neuron parameters included.

    Produced by :func:`hrsnn_hw.quantize.quantize`; saved and loaded with ``save(path)`` /
    ``QuantizedNetwork.load(path)`` (:mod:`hrsnn_hw.artifacts`).

    Attributes
    ----------
    name : str
        Design name.
    dt : float
        Step length in seconds the decays were computed for.
    n_input : int
        Number of input channels.
    du, dv : ndarray of int, shape (n_neurons,)
        Current and voltage decays (Lava semantics, see module docstring).
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
    number_format : NumberFormat
        The number format every integer here is in (from the profile it was quantized for).
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
    number_format: NumberFormat
    v_scale: float = 1.0
    provenance: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.number_format, NumberFormat):
            raise TypeError("number_format must be a hrsnn_hw.fixedpoint.NumberFormat, got "
                            f"{type(self.number_format).__name__} (read one with NumberFormat.from_profile)")
        for name in NEURON_INT_FIELDS:
            object.__setattr__(self, name, _frozen_int(getattr(self, name)))
        object.__setattr__(self, "excitatory", _frozen_int(self.excitatory, bool))
        object.__setattr__(self, "projections", tuple(self.projections))
        object.__setattr__(self, "n_input", int(self.n_input))
        object.__setattr__(self, "dt", float(self.dt))
        object.__setattr__(self, "v_scale", float(self.v_scale))
        n = self.du.shape[0]
        for name in (*NEURON_INT_FIELDS, "excitatory"):
            if getattr(self, name).shape != (n,):
                raise ValueError(f"{name} must have shape ({n},), got {getattr(self, name).shape}")
        for proj in self.projections:
            if not isinstance(proj, QuantizedProjection):
                raise TypeError(f"projections must be QuantizedProjection, got {type(proj).__name__}")
            cols = self.n_input if proj.source == "input" else n
            if proj.shape != (n, cols):
                raise ValueError(f"projection {proj.name}: w_post_pre must be ({n}, {cols}), got {proj.shape}")

    @property
    def n_neurons(self) -> int:
        return int(self.du.shape[0])

    @property
    def n_synapses(self) -> int:
        """Stored synapses over all projections."""
        return int(sum(p.n_synapses for p in self.projections))
