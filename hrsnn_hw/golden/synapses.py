"""Synaptic input of the fixed-point model: Lava Dense semantics, computed event by event.

For each synapse group (projections merged where that changes nothing, see
:func:`group_projections`), the input of a step is Lava's fixed-point Dense::

    acc  = W @ s                       (s: last step's spikes, or graded payloads)
    a_g  = acc << weight_exp           (>> -weight_exp: an arithmetic shift, flooring)
    a_in = sum_g a_g                   delivered one step after the spikes

and Lava's 32-bit containers: Dense sends ``a_g`` through an int32 port and the neuron adds
its ports in int32 (``a_in`` wraps modulo 2**32, a no-op unless it can leave int32); with
graded spikes Dense accumulates ``W @ s`` in int32 itself (``acc`` wraps before the shift).

Work is ``O(spikes x fan-out)``: a :class:`SynapseSet` holds one CSR by presynaptic source
over every group (targets flattened over "parts", the sums that must be finished apart), and
the compiled :func:`~.kernel.scatter` adds the synapses of one source's event;
:func:`~.kernel.finish_inputs` turns the part sums into each neuron's ``a_in``. The golden
simulator's compiled time loop and :meth:`SynapseSet.accumulate` both run these two functions.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import scipy.sparse

from ..errors import QuantizationError
from .kernel import accumulate_rows, accumulate_rows_float

_INT32 = 1 << 31


def shift(acc: np.ndarray, weight_exp: int) -> np.ndarray:
    """Dense's arithmetic shift of an integer accumulator by ``weight_exp``."""
    return acc << weight_exp if weight_exp > 0 else acc >> -weight_exp


@dataclass(frozen=True)
class SynapseGroup:
    """Projections that share source, ``weight_exp``, ``num_weight_bits`` and sign mode and can be
    summed into one matrix without changing any result (disjoint synapses, and disjoint target
    neurons when the exponent shifts right, because flooring does not distribute over a sum).

    Weights are CSR by presynaptic source, like :class:`~hrsnn_hw.fixedpoint.QuantizedProjection`.

    Attributes
    ----------
    source : str
        ``"input"`` or ``"recurrent"``.
    names : tuple of str
        The projections merged here.
    n_post, n_pre : int
        Shape of the group's ``w_post_pre``.
    pre_ptr : ndarray of int64, shape (n_pre + 1,)
    post_index : ndarray of int64, shape (n_synapses,)
    weight : ndarray of int64, shape (n_synapses,)
    weight_exp, num_weight_bits : int
    sign_mode : str
    """

    source: str
    names: tuple[str, ...]
    n_post: int
    n_pre: int
    pre_ptr: np.ndarray
    post_index: np.ndarray
    weight: np.ndarray
    weight_exp: int
    num_weight_bits: int
    sign_mode: str

    @property
    def n_synapses(self) -> int:
        return int(self.post_index.size)

    @functools.cached_property
    def pre_index(self) -> np.ndarray:
        """Source of each synapse (int64)."""
        return np.repeat(np.arange(self.n_pre, dtype=np.int64), np.diff(self.pre_ptr))

    @functools.cached_property
    def rows(self) -> np.ndarray:
        """Target neurons with at least one synapse in the group (sorted)."""
        return np.flatnonzero(np.bincount(self.post_index, minlength=self.n_post))

    @functools.cached_property
    def cols(self) -> np.ndarray:
        """Sources with at least one synapse in the group (sorted)."""
        return np.flatnonzero(np.diff(self.pre_ptr))

    @functools.cached_property
    def fan_out(self) -> np.ndarray:
        return np.diff(self.pre_ptr)

    @functools.cached_property
    def row_abs_max(self) -> int:
        """Largest ``sum_j |w_ij|`` over target neurons: bounds ``|W @ s|`` for binary ``s``."""
        if not self.n_synapses:
            return 0
        return int(np.bincount(self.post_index, weights=np.abs(self.weight), minlength=self.n_post).max())

    def dense(self) -> np.ndarray:
        """The full (n_post, n_pre) int64 matrix (small groups only)."""
        out = np.zeros((self.n_post, self.n_pre), np.int64)
        out[self.post_index, self.pre_index] = self.weight
        return out

    def sparse(self) -> scipy.sparse.csc_matrix:
        """The (n_post, n_pre) matrix as scipy CSC (columns = sources)."""
        return scipy.sparse.csc_matrix((self.weight.copy(), self.post_index.copy(), self.pre_ptr.copy()),
                                       shape=(self.n_post, self.n_pre))

    def shift(self, acc: np.ndarray) -> np.ndarray:
        """Dense's arithmetic shift of an integer accumulator by ``weight_exp``."""
        return shift(acc, self.weight_exp)


def _group(source: str, names: list[str], shape: tuple[int, int], post: np.ndarray, pre: np.ndarray,
           w: np.ndarray, key: tuple) -> SynapseGroup:
    n_post, n_pre = shape
    # CSR by source, targets ascending: a projection's synapses already are (one check, O(synapses));
    # only merged groups need a sort
    order_key = pre.astype(np.int64) * max(n_post, 1) + post
    if order_key.size > 1 and bool((order_key[1:] < order_key[:-1]).any()):
        order = np.argsort(order_key, kind="stable")
        post, w = post[order], w[order]
    post, w = np.ascontiguousarray(post), np.ascontiguousarray(w)
    ptr = np.zeros(n_pre + 1, np.int64)
    np.cumsum(np.bincount(pre, minlength=n_pre), out=ptr[1:])
    for arr in (ptr, post, w):
        arr.setflags(write=False)
    return SynapseGroup(source=source, names=tuple(names), n_post=n_post, n_pre=n_pre, pre_ptr=ptr,
                        post_index=post, weight=w, weight_exp=key[1], num_weight_bits=key[2], sign_mode=key[3])


def group_projections(projections: Sequence, merge: bool = True) -> tuple[SynapseGroup, ...]:
    """Drop empty projections and merge those that can share one matrix (see :class:`SynapseGroup`).

    The result computes exactly what the projections compute one by one (Lava Dense semantics).
    Work and memory are O(synapses).
    """
    pending: list[dict] = []
    for proj in projections:
        if not proj.n_synapses:
            continue
        post, pre, w = proj.synapses()
        key = (proj.source, int(proj.weight_exp), int(proj.num_weight_bits), proj.sign_mode)
        shape = (int(proj.n_post), int(proj.n_pre))
        keys = pre * max(shape[0], 1) + post  # ascending (grouped by source, post sorted)
        for entry in pending if merge else ():
            if entry["key"] != key or entry["shape"] != shape:
                continue
            pos = np.searchsorted(entry["keys"], keys)
            pos = np.minimum(pos, entry["keys"].size - 1)
            if (entry["keys"][pos] == keys).any():
                continue  # a shared synapse: summed mantissas could leave the register
            if key[1] < 0 and np.intersect1d(entry["rows"], post).size:
                continue  # floor(a) + floor(b) != floor(a + b)
            entry["names"].append(proj.name)
            entry["post"] = np.concatenate([entry["post"], post])
            entry["pre"] = np.concatenate([entry["pre"], pre])
            entry["w"] = np.concatenate([entry["w"], w])
            entry["keys"] = np.sort(np.concatenate([entry["keys"], keys]))
            entry["rows"] = np.union1d(entry["rows"], post)
            break
        else:
            pending.append({"key": key, "shape": shape, "names": [proj.name], "post": post, "pre": pre, "w": w,
                            "keys": keys, "rows": np.unique(post)})
    return tuple(_group(e["key"][0], e["names"], e["shape"], e["post"], e["pre"], e["w"], e["key"])
                 for e in pending)


def events(s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR of the nonzero entries of ``s`` (rows, sources): ``(row_ptr, sources, payloads)``, int64."""
    s = np.asarray(s)
    row, src = np.nonzero(s)
    ptr = np.zeros(s.shape[0] + 1, np.int64)
    np.cumsum(np.bincount(row, minlength=s.shape[0]), out=ptr[1:])
    return ptr, src.astype(np.int64), s[row, src].astype(np.int64)


# ----------------------------------------------------------------------------- the operator

class SynapseSet:
    """All synapse groups from one source (or several side by side), as arrays for the compiled loop.

    Groups are split into *parts*, sums that are finished separately (:func:`~.kernel.finish_inputs`):
    the groups with ``weight_exp >= 0`` whose accumulator cannot wrap are folded into one part
    (their weights pre-shifted: a left shift distributes over the sum); each group with a
    negative exponent (flooring does not distribute) or an int32-wrapping graded accumulator is a
    part of its own. The float twin has one part (weights times ``2**weight_exp``, no floor or wrap).

    Attributes (all read by the compiled loop): ``ptr`` (n_pre + 1,) int64 and ``target``
    (synapses,) int32 -- CSR by source, targets flattened as ``part * n_post + post`` --;
    ``weight`` (synapses,) int32 (float64 for the twin); ``part_exp`` (parts,) int64.

    Parameters
    ----------
    groups : sequence of SynapseGroup
        The groups (``n_post`` tall); several sources can share one set, their columns placed
        side by side by ``pre_offset`` (the golden simulator: neurons, then input channels).
    n_post, n_pre : int
        Rows, and columns of ``s`` (all sources).
    payload_max : int or sequence of int
        Largest ``|s|`` reaching each group (1 for binary spikes).
    graded : bool or sequence of bool
        The group's source carries payloads: Lava's Dense then accumulates in int32 (wraps
        before the shift).
    pre_offset : int or sequence of int
        Column of ``s`` where each group's source starts.
    twin : bool
        Float twin: ``W @ s * 2**weight_exp`` with no flooring and no wrap.
    """

    def __init__(self, groups: Sequence[SynapseGroup], n_post: int, n_pre: int, *,
                 payload_max: int | Sequence[int] = 1, graded: bool | Sequence[bool] = False,
                 twin: bool = False, pre_offset: int | Sequence[int] = 0) -> None:
        self.groups = tuple(groups)
        k = len(self.groups)
        per_group = (lambda v: list(v) if isinstance(v, (list, tuple)) else [v] * k)
        payloads = [max(1, int(pm)) for pm in per_group(payload_max)]
        graded_g = [bool(gr) for gr in per_group(graded)]
        offsets = [int(o) for o in per_group(pre_offset)]
        self.n_post, self.n_pre = int(n_post), int(n_pre)
        self.twin = bool(twin)
        acc_bound = [g.row_abs_max * pm for g, pm in zip(self.groups, payloads)]
        acc_wraps = [gr and not twin and b >= _INT32 for gr, b in zip(graded_g, acc_bound)]
        w_max = [int(np.abs(g.weight).max(initial=0)) for g in self.groups]
        linear = [i for i, g in enumerate(self.groups)
                  if twin or (g.weight_exp >= 0 and not acc_wraps[i] and w_max[i] << g.weight_exp < _INT32)]
        parts: list[tuple[list[int], int, bool]] = []  # (group indices, exponent, wrap)
        if linear:
            parts.append((linear, 0, False))
        parts += [([i], g.weight_exp, acc_wraps[i]) for i, g in enumerate(self.groups) if i not in linear]
        pre, target, w = [], [], []
        for p_idx, (members, _, _) in enumerate(parts):
            for i in members:
                g = self.groups[i]
                pre.append(g.pre_index + offsets[i])
                target.append(g.post_index + p_idx * self.n_post)
                if twin:
                    w.append(g.weight * 2.0 ** g.weight_exp)
                else:  # the folded part (exponent 0) carries each group's shift in its weights
                    w.append(g.weight << g.weight_exp if members is linear else g.weight)
        for members, e, wraps in parts:
            # the compiled loop sums in int32 (kernel.finish_inputs): exact for a part that floors only
            # if its sums cannot leave int32, or if Lava's own int32 accumulator wraps them
            bound = sum(acc_bound[i] for i in members)
            if e < 0 and not wraps and bound >= _INT32:
                raise QuantizationError("a projection's summed input can leave int32 before its floor shift",
                                        parameter=f"projections.{self.groups[members[0]].names[0]}",
                                        value=bound, allowed=f"max_i sum_j |w_ij| * payload < {_INT32}",
                                        hint="reduce the fan-in or the weights, or raise weight_exp to >= 0")
        if max(len(parts), 1) * self.n_post >= _INT32:
            raise QuantizationError("network too large for the golden model's int32 synapse targets",
                                    parameter="n_neurons", value=self.n_post,
                                    allowed=f"< {_INT32 // max(len(parts), 1)} with {len(parts)} synapse parts",
                                    hint="split the network")
        pre_all = np.concatenate(pre) if pre else np.zeros(0, np.int64)
        order = np.argsort(pre_all, kind="stable")
        self.ptr = np.zeros(self.n_pre + 1, np.int64)
        np.cumsum(np.bincount(pre_all, minlength=self.n_pre), out=self.ptr[1:])
        # the narrowest of two widths each (one compiled loop per combination): the CSR is read once per
        # event, and staying in the core's cache is what bounds the speed of large networks
        n_targets = max(len(parts), 1) * self.n_post
        self.target = (np.concatenate(target) if target else np.zeros(0, np.int64))[order].astype(
            np.uint16 if n_targets <= 1 << 16 else np.int32)
        w_all = (np.concatenate(w) if w else np.zeros(0))[order]
        self.weight = w_all.astype(np.float64 if twin else
                                   np.int16 if np.abs(w_all).max(initial=0) < 1 << 15 else np.int32)
        self.part_exp = np.array([e for _, e, _ in parts] or [0], np.int64)
        self.part_groups = tuple(tuple(self.groups[i].names for i in members) for members, _, _ in parts)
        for arr in (self.ptr, self.target, self.weight, self.part_exp):
            arr.setflags(write=False)

    @property
    def n_groups(self) -> int:
        return len(self.groups)

    @property
    def n_synapses(self) -> int:
        return int(self.target.shape[0])

    def accumulate(self, s: np.ndarray) -> np.ndarray:
        """``sum_g shift_g(W_g @ s)`` for spikes/payloads ``s`` of shape (..., n_pre): int64 (..., n_post)
        (float64 for the twin), by the same compiled :func:`~.kernel.scatter` / :func:`~.kernel.finish_inputs` as the
        simulator: the input a neuron receives, wrapped in Lava's int32 port."""
        s = np.asarray(s)
        lead = s.shape[:-1]
        row_ptr, sources, payloads = events(s.reshape(-1, s.shape[-1]))
        rows = row_ptr.shape[0] - 1
        if self.twin:
            out = np.zeros((rows, self.n_post))
            accumulate_rows_float(self.ptr, self.target, self.weight, self.n_post, row_ptr, sources,
                                   payloads, out)
        else:
            out = np.zeros((rows, self.n_post), np.int64)
            accumulate_rows(self.ptr, self.target, self.weight, self.part_exp, self.n_post, row_ptr, sources,
                             payloads, out)
        return out.reshape(*lead, self.n_post)
