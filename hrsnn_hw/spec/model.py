"""The network spec: populations, projections and STDP rules as validated, immutable arrays.

Units are SI throughout: seconds for time constants, volts for thresholds, weights and
bias. The neuron is the current-based LIF of the reference formulation,
``tau_syn du/dt = -u + sum_j w_ij s_j``, ``tau_m dv/dt = -v + u + b``, stepped with length
``dt`` (exact for u, zero-order hold for v)::

    u_i[t] = a_u u_i[t-1] + sum_j w_ij s_j[t-1]                a_u = exp(-dt/tau_syn_i)
    v_i[t] = a_v v_i[t-1] + (1 - a_v) (u_i[t] + bias_i)        a_v = exp(-dt/tau_m_i)
    v_i[t] > v_th_i  ->  spike, v_i <- 0, held at 0 for the refractory period

so a weight is the jump of ``u`` (volts) caused by one presynaptic spike, delivered one
step after the spike, the steady state of ``v`` under a constant ``u + b`` is ``u + b``
whatever ``tau_m`` (heterogeneous time constants change how fast a neuron integrates and
forgets, not how excitable it is), and ``bias`` is a constant drive in volts.

Loihi's CUBA neuron adds ``u`` to ``v`` with gain 1 per step (``v' = a_v v' + u + b``).
Scaling ``v`` per neuron by ``1 / (1 - a_v)`` turns one form into the other exactly, so the
hardware runs this model with the per-neuron threshold :meth:`NetworkSpec.loihi_threshold`
``= v_th / (1 - a_v)`` and unchanged weights and bias.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np
import scipy.sparse

from ..errors import SpecError
from ..arrays import frozen_array as _frozen

SPEC_FORMAT = "hrsnn_hw.spec"
SPEC_VERSION = 1
NEURON_FIELDS = ("tau_m", "tau_syn", "v_th", "refractory", "bias")
STDP_FIELDS = ("eta_plus", "eta_minus", "tau_plus", "tau_minus")
INPUT = "input"


@dataclass(frozen=True)
class Population:
    """A group of LIF neurons of one sign (Dale's law) with per-neuron parameters.

    Attributes
    ----------
    name : str
        Population name (``"exc"``, ``"inh"``).
    n : int
        Number of neurons.
    excitatory : bool
        True if every outgoing weight is >= 0, False if every outgoing weight is <= 0.
    tau_m, tau_syn : ndarray, shape (n,)
        Membrane and synaptic time constants, seconds.
    v_th : ndarray, shape (n,)
        Firing thresholds, volts.
    refractory : ndarray, shape (n,)
        Refractory periods, seconds (0 for none).
    bias : ndarray, shape (n,)
        Constant drive added to v every step, volts.
    """

    name: str
    n: int
    excitatory: bool
    tau_m: np.ndarray
    tau_syn: np.ndarray
    v_th: np.ndarray
    refractory: np.ndarray
    bias: np.ndarray

    def __post_init__(self) -> None:
        for name in NEURON_FIELDS:
            object.__setattr__(self, name, _frozen(getattr(self, name), np.float64))


@dataclass(frozen=True)
class Projection:
    """Sparse synapses from one population (or the input) to another.

    Attributes
    ----------
    name : str
        ``"pre->post"``.
    pre, post : str
        Source population (or ``"input"``) and target population.
    probability : float
        Connection probability the synapses were drawn with.
    weight_scale : float
        Mean weight magnitude the weights were drawn with, volts.
    pre_index, post_index : ndarray of int32, shape (n_synapses,)
        Synapse endpoints, indices within the pre and post populations, sorted by (post, pre).
    weight : ndarray, shape (n_synapses,)
        Signed weights, volts (>= 0 from excitatory sources, <= 0 from inhibitory ones).
    """

    name: str
    pre: str
    post: str
    probability: float
    weight_scale: float
    pre_index: np.ndarray
    post_index: np.ndarray
    weight: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "pre_index", _frozen(self.pre_index, np.int32))
        object.__setattr__(self, "post_index", _frozen(self.post_index, np.int32))
        object.__setattr__(self, "weight", _frozen(self.weight, np.float64))

    @property
    def n_synapses(self) -> int:
        return int(self.weight.size)

    def dense(self, n_post: int, n_pre: int, weight: np.ndarray | None = None) -> np.ndarray:
        """The weights as a dense ``w_post_pre`` matrix (zeros where there is no synapse)."""
        out = np.zeros((n_post, n_pre), dtype=np.float64)
        out[self.post_index, self.pre_index] = self.weight if weight is None else weight
        return out


@dataclass(frozen=True)
class StdpRule:
    """Trace-based pair STDP on one projection, one parameter set per synapse.

    On a post spike ``w += eta_plus * x_pre``; on a pre spike ``w -= eta_minus * y_post``;
    traces jump by 1 on a spike and decay with ``tau_plus`` (pre) and ``tau_minus`` (post);
    ``w`` is clipped to ``[0, w_max]``. ``eta_plus`` and ``eta_minus`` are in volts per unit
    trace. Arrays are aligned with the projection's synapse list.
    """

    projection: str
    eta_plus: np.ndarray
    eta_minus: np.ndarray
    tau_plus: np.ndarray
    tau_minus: np.ndarray
    w_max: float
    granularity: str = "synapse"

    def __post_init__(self) -> None:
        for name in STDP_FIELDS:
            object.__setattr__(self, name, _frozen(getattr(self, name), np.float64))


@dataclass(frozen=True)
class NetworkSpec:
    """A complete, sampled recurrent spiking network: the input of every later stage.

    Build one with :func:`hrsnn_hw.spec.build_spec` from a design (distributions) or
    :func:`hrsnn_hw.spec.load_spec` from a file. Global neuron indices follow the order
    of ``populations`` (excitatory first in the reference designs).
    """

    name: str
    seed: int
    dt: float
    n_input: int
    populations: tuple[Population, ...]
    projections: tuple[Projection, ...]
    stdp: tuple[StdpRule, ...] = ()
    design: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "populations", tuple(self.populations))
        object.__setattr__(self, "projections", tuple(self.projections))
        object.__setattr__(self, "stdp", tuple(self.stdp))
        object.__setattr__(self, "design", MappingProxyType(dict(self.design)))
        from .validate import validate_spec  # local import: validate imports this module
        validate_spec(self)

    # --- structure -------------------------------------------------------------------
    @property
    def n_neurons(self) -> int:
        return int(sum(p.n for p in self.populations))

    @property
    def population_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.populations)

    def population(self, name: str) -> Population:
        for pop in self.populations:
            if pop.name == name:
                return pop
        raise SpecError("unknown population", parameter="population", value=name,
                        allowed=f"one of {list(self.population_names)}")

    def population_slice(self, name: str) -> slice:
        """Global index range of a population."""
        start = 0
        for pop in self.populations:
            if pop.name == name:
                return slice(start, start + pop.n)
            start += pop.n
        raise SpecError("unknown population", parameter="population", value=name,
                        allowed=f"one of {list(self.population_names)}")

    def projection(self, name: str) -> Projection:
        for proj in self.projections:
            if proj.name == name:
                return proj
        raise SpecError("unknown projection", parameter="projection", value=name,
                        allowed=f"one of {[p.name for p in self.projections]}")

    def stdp_rule(self, projection: str) -> StdpRule | None:
        for rule in self.stdp:
            if rule.projection == projection:
                return rule
        return None

    def neuron_param(self, name: str) -> np.ndarray:
        """One per-neuron parameter over all populations, shape (n_neurons,)."""
        if name not in NEURON_FIELDS:
            raise SpecError("unknown neuron parameter", parameter="name", value=name,
                            allowed=f"one of {list(NEURON_FIELDS)}")
        return np.concatenate([getattr(p, name) for p in self.populations])

    def membrane_gain(self) -> np.ndarray:
        """``1 - exp(-dt / tau_m)`` per neuron: the weight of ``u + bias`` in each step of ``v``."""
        return -np.expm1(-self.dt / self.neuron_param("tau_m"))

    def loihi_threshold(self) -> np.ndarray:
        """Per-neuron threshold (volts) of the same neuron in Loihi's form ``v' = a_v v' + u + b``,
        where ``v' = v / (1 - a_v)``: ``v_th / (1 - exp(-dt / tau_m))``."""
        return self.neuron_param("v_th") / self.membrane_gain()

    def is_excitatory(self) -> np.ndarray:
        """Boolean mask over global neuron indices."""
        return np.concatenate([np.full(p.n, p.excitatory) for p in self.populations])

    def global_indices(self, proj: Projection) -> tuple[np.ndarray, np.ndarray]:
        """(post, pre) global indices of a projection's synapses; pre stays local for the input."""
        post = proj.post_index + self.population_slice(proj.post).start
        if proj.pre == INPUT:
            pre = proj.pre_index.astype(np.int64)
        else:
            pre = proj.pre_index + self.population_slice(proj.pre).start
        return post.astype(np.int64), pre.astype(np.int64)

    def _weights(self, from_input: bool) -> scipy.sparse.csr_matrix:
        posts, pres, ws = [], [], []
        for proj in self.projections:
            if (proj.pre == INPUT) == from_input:
                post, pre = self.global_indices(proj)
                posts.append(post)
                pres.append(pre)
                ws.append(proj.weight)
        shape = (self.n_neurons, self.n_input if from_input else self.n_neurons)
        cat = (lambda parts, dtype: np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype))
        # a pair reached by two projections holds the sum of their weights
        out = scipy.sparse.csr_matrix((cat(ws, np.float64), (cat(posts, np.int64), cat(pres, np.int64))),
                                      shape=shape)
        out.sum_duplicates()
        return out

    def recurrent_weights(self) -> scipy.sparse.csr_matrix:
        """``w_rec_post_pre`` (n_neurons, n_neurons), volts, as a scipy sparse CSR matrix (O(synapses)).

        Use ``.toarray()`` for a dense copy of a small network.
        """
        return self._weights(from_input=False)

    def input_weights(self) -> scipy.sparse.csr_matrix:
        """``w_in_post_pre`` (n_neurons, n_input), volts, as a scipy sparse CSR matrix (O(synapses))."""
        return self._weights(from_input=True)

    # --- derivation ------------------------------------------------------------------
    def with_weights(self, weights: Mapping[str, np.ndarray]) -> "NetworkSpec":
        """A new spec whose named projections carry new weights (e.g. after training)."""
        projections = []
        known = {p.name for p in self.projections}
        for name in weights:
            if name not in known:
                raise SpecError("unknown projection", parameter="weights", value=name,
                                allowed=f"one of {sorted(known)}")
        for proj in self.projections:
            if proj.name in weights:
                w = np.asarray(weights[proj.name], dtype=np.float64)
                if w.shape != proj.weight.shape:
                    raise SpecError("weights have the wrong length", parameter=f"weights.{proj.name}",
                                    value=f"shape {w.shape}", allowed=f"shape {proj.weight.shape}")
                proj = dataclasses.replace(proj, weight=w)
            projections.append(proj)
        return dataclasses.replace(self, projections=tuple(projections))

    def to_dict(self) -> dict:
        """The materialised spec as plain JSON types (every sampled array written out)."""
        from .files import spec_to_dict
        return spec_to_dict(self)
