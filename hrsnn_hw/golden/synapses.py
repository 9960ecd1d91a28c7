"""Synaptic input of the fixed-point model: Lava Dense semantics, computed event by event.

For each synapse group (projections merged where that changes nothing, see
:func:`group_projections`), the input of a step is Lava's fixed-point Dense::

    acc  = W @ s                       (s: last step's spikes, or graded payloads)
    a_g  = acc << weight_exp           (>> -weight_exp: an arithmetic shift, flooring)
    a_in = sum_g a_g                   delivered one step after the spikes

and, where it can matter, Lava's 32-bit containers: Dense sends ``a_g`` through an int32
port and the neuron adds its ports in int32 (``a_in`` wraps modulo 2**32); with graded
spikes Dense accumulates ``W @ s`` in int32 itself (``acc`` wraps before the shift). The
bounds that decide whether a wrap is possible are computed once per network, so the usual
case pays nothing for them.

Work: the event path reads only the synapses of the sources that spiked (``O(spikes x
fan-out)``, CSR by presynaptic source); the dense path multiplies a block of the weight
matrix (``O(samples x rows x cols)``, BLAS). :class:`SynapseSet` picks the cheaper one
per step from the measured costs below.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import scipy.sparse

_INT32 = 1 << 31
# Float sums of integers are exact while every partial sum stays below the significand.
_FLOAT32_EXACT = 1 << 24
_FLOAT64_EXACT = 1 << 53
# Dense blocks are kept only below this size (entries of one group's support block):
# beyond it the event path is always cheaper and a dense copy would cost O(N^2) memory.
DENSE_BLOCK_MAX = 1 << 23
# Measured on the 2-core development machine under load (benchmarks/bench_scaling.py prints the
# crossover it sees, "kernel_paths"): a single-thread float32 GEMM costs ~0.1 ns per entry of the
# block and sample, the event path ~10-13 ns per delivered synaptic event plus ~20 us of numpy
# calls per step. The dense product is used when it is estimated cheaper:
#     samples x rows x cols x DENSE_NS_PER_MAC  <  events x EVENT_NS + EVENT_OVERHEAD_NS
# (hrsnn scaled, 16 samples x 200 steps: N = 200 events 0.19 s / dense 0.18 s -- a tie; N = 1,000
# events 0.57 s / dense 1.63 s; the choice above picked 0.19 s and 0.55 s).
DENSE_NS_PER_MAC = 0.1
EVENT_NS = 10.0
EVENT_OVERHEAD_NS = 20_000.0
# one sample: summing the dense rows of the spiking sources costs ~0.5 ns per entry summed
ROW_NS_PER_ENTRY = 0.5


def wrap32(x: np.ndarray) -> np.ndarray:
    """Two's-complement wrap of int64 values into int32's range (what Lava's int32 ports do)."""
    return ((x + _INT32) & 0xFFFFFFFF) - _INT32


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
    order = np.lexsort((post, pre))
    ptr = np.zeros(n_pre + 1, np.int64)
    np.cumsum(np.bincount(pre, minlength=n_pre), out=ptr[1:])
    for arr in (ptr, post, w):
        arr.setflags(write=False)
    return SynapseGroup(source=source, names=tuple(names), n_post=n_post, n_pre=n_pre, pre_ptr=ptr,
                        post_index=np.ascontiguousarray(post[order]), weight=np.ascontiguousarray(w[order]),
                        weight_exp=key[1], num_weight_bits=key[2], sign_mode=key[3])


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


# ----------------------------------------------------------------------------- operators

def _as_slice(idx: np.ndarray):
    """``slice`` for a contiguous ascending index array, else the array itself."""
    if len(idx) and idx[-1] - idx[0] + 1 == len(idx):
        return slice(int(idx[0]), int(idx[-1]) + 1)
    return idx


class _Part:
    """Groups whose contributions add before any rounding, with how to finish their sum.

    ``scale`` multiplies each synapse's weight (``2**weight_exp`` folded in for exponents >= 0,
    times the caller's output scale); ``floor_exp`` (< 0) shifts the summed input right, flooring,
    before ``out_scale``; ``wrap`` wraps the sum to int32 first (Lava's graded accumulator).
    """

    def __init__(self, groups: Sequence[SynapseGroup], scales: Sequence[float], payloads: Sequence[int],
                 offsets: Sequence[int], floor_exp: int | None, wrap: bool, out_scale: float, bound: int) -> None:
        self.groups = tuple(groups)
        self.floor_exp = floor_exp
        self.wrap = wrap
        self.out_scale = out_scale
        self.bound = bound  # bound on |sum| before finishing (for the exactness of float sums)
        self.w = np.concatenate([g.weight * sc for g, sc in zip(groups, scales)]).astype(np.float64)
        # |w| times the largest payload its source sends (bounds on the input of a step)
        self.w_bound = np.concatenate([np.abs(g.weight * sc) * pm for g, sc, pm in zip(groups, scales, payloads)])
        self.pre = np.concatenate([g.pre_index + off for g, off in zip(groups, offsets)])
        self.post = np.concatenate([g.post_index for g in groups])

    def finish(self, acc: np.ndarray) -> np.ndarray:
        if self.floor_exp is None:
            return acc
        if self.wrap:
            acc = wrap32(acc if acc.dtype.kind == "i" else np.rint(acc).astype(np.int64)).astype(np.float64)
        out = np.floor(acc * 2.0 ** self.floor_exp) if self.floor_exp < 0 else acc * 2.0 ** self.floor_exp
        if self.out_scale != 1.0:
            out *= self.out_scale
        return out


class SynapseSet:
    """All synapse groups from one source, applied together to batches of spikes.

    ``add_into(a, s)`` adds ``out_scale * sum_g shift_g(W_g @ s)`` for ``s`` of shape
    (L, n_pre) -- bool spikes or integer payloads -- into the float64 array ``a`` (L, n_post),
    exactly (every value is an integer far below 2**53). Groups with ``weight_exp >= 0`` are
    folded into one weight matrix (a left shift distributes over the sum); each group with a
    negative exponent (flooring) or an int32-wrapping accumulator is finished on its own.

    Paths, chosen per call by the measured costs at the top of this module:

    * events: one gather over the CSR (by source) of every part, one ``bincount`` into
      (L, parts, n_post) -- ``O(spikes x fan-out)``;
    * dense: a GEMM per part on its support block (float32 while its sums stay exact);
    * rows (one sample): the rows of the spiking sources of one dense (n_pre, parts x n_post)
      matrix, summed.

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
    out_scale : float
        Power of two applied to the result (``2**u_shift``: the golden simulator folds the
        alignment shift of ``a_in`` into the weights).
    twin : bool
        Float twin: ``W @ s * 2**weight_exp`` with no flooring and no wrap.
    """

    def __init__(self, groups: Sequence[SynapseGroup], n_post: int, n_pre: int, *,
                 payload_max: int | Sequence[int] = 1, graded: bool | Sequence[bool] = False,
                 out_scale: float = 1.0, twin: bool = False, pre_offset: int | Sequence[int] = 0) -> None:
        self.groups = tuple(groups)
        k = len(self.groups)
        per_group = (lambda v: list(v) if isinstance(v, (list, tuple)) else [v] * k)
        payloads = [max(1, int(pm)) for pm in per_group(payload_max)]
        graded_g = [bool(gr) for gr in per_group(graded)]
        offsets = [int(o) for o in per_group(pre_offset)]
        self.n_post, self.n_pre = int(n_post), int(n_pre)
        self.graded, self.twin = any(graded_g), bool(twin)
        self.out_scale = float(out_scale)
        acc_bound = [g.row_abs_max * pm for g, pm in zip(self.groups, payloads)]
        acc_wraps = [gr and not twin and b >= _INT32 for gr, b in zip(graded_g, acc_bound)]
        # bound on |sum_g shift_g(acc_g)| before out_scale: decides whether a_in can wrap in int32
        self.out_bound = sum(shift(min(b, _INT32) if w else b, g.weight_exp) if g.weight_exp > 0 else
                             b >> -g.weight_exp for g, b, w in zip(self.groups, acc_bound, acc_wraps))
        linear = [k for k, g in enumerate(self.groups) if twin or (g.weight_exp >= 0 and not acc_wraps[k])]
        parts = []
        if linear:
            scales = [2.0 ** self.groups[k].weight_exp * self.out_scale for k in linear]
            bound = int(sum(acc_bound[k] * 2 ** max(self.groups[k].weight_exp, 0) for k in linear)
                        * self.out_scale)
            parts.append(_Part([self.groups[k] for k in linear], scales, [payloads[k] for k in linear],
                               [offsets[k] for k in linear], None, False, 1.0, bound))
        for k, g in enumerate(self.groups):
            if k not in linear:
                parts.append(_Part([g], [1.0], [payloads[k]], [offsets[k]], g.weight_exp, acc_wraps[k],
                                   self.out_scale, acc_bound[k]))
        self.parts = tuple(parts)
        n_parts = len(parts)
        # float64 sums are exact below 2**53 (the twin is float by definition: always float64)
        self.exact_f64 = twin or all(pt.bound < _FLOAT64_EXACT for pt in parts)
        # concatenated CSR by source, targets flattened over (part, post)
        if parts:
            pre = np.concatenate([pt.pre for pt in parts])
            target = np.concatenate([pt.post + k * self.n_post for k, pt in enumerate(parts)])
            w = np.concatenate([pt.w for pt in parts])
            order = np.argsort(pre, kind="stable")
            self.ptr = np.zeros(self.n_pre + 1, np.int64)
            np.cumsum(np.bincount(pre, minlength=self.n_pre), out=self.ptr[1:])
            self.target, self.w = target[order], w[order]
            self.w_int = np.rint(self.w).astype(np.int64) if not self.exact_f64 else None
        else:
            self.ptr = np.zeros(self.n_pre + 1, np.int64)
            self.target, self.w, self.w_int = np.zeros(0, np.int64), np.zeros(0), None
        self.fan_out = np.diff(self.ptr)
        self.mean_fan_out = float(self.fan_out.mean()) if self.n_pre else 0.0
        self.rows_per_part = [np.unique(pt.post) for pt in parts]
        self.cols_per_part = [np.unique(pt.pre) for pt in parts]
        self.block_entries = sum(len(r) * len(c) for r, c in zip(self.rows_per_part, self.cols_per_part))
        self.dense_ok = self.exact_f64 and all(len(r) * len(c) <= DENSE_BLOCK_MAX
                                               for r, c in zip(self.rows_per_part, self.cols_per_part))
        self.rows_ok = self.exact_f64 and self.n_pre * n_parts * self.n_post <= DENSE_BLOCK_MAX
        self._dense: list | None = None
        self._rows: np.ndarray | None = None

    @property
    def n_parts(self) -> int:
        return len(self.parts)

    def abs_bound(self) -> np.ndarray:
        """Per target neuron, a bound on ``|contribution|`` of any one step's input, shape (n_post,)."""
        out = np.zeros(self.n_post)
        for pt in self.parts:
            if pt.wrap:
                return np.full(self.n_post, np.inf)
            rows = np.bincount(pt.post, weights=pt.w_bound, minlength=self.n_post)
            if pt.floor_exp is None:
                out += rows
            else:  # |floor(x)| <= |x| + 1
                out += (rows * 2.0 ** pt.floor_exp + 1.0) * pt.out_scale
        return out

    @property
    def n_groups(self) -> int:
        return len(self.groups)

    # --- event path ----------------------------------------------------------------------------
    def _events(self, s: np.ndarray) -> np.ndarray | None:
        """Per-part sums, shape (L, parts, n_post) float64 (integer values; int64 when a float sum
        could be inexact), or None if silent."""
        n_rows = s.shape[0]
        row, src = np.nonzero(s)
        if row.size == 0:
            return None
        starts = self.ptr[src]
        counts = self.ptr[src + 1] - starts
        total = int(counts.sum())
        if total == 0:
            return None
        # indices of every synapse of every event: arange plus, per event, (first synapse - first slot)
        offsets = np.cumsum(counts)
        offsets -= counts
        idx = np.repeat(starts - offsets, counts)
        idx += np.arange(total, dtype=np.int64)
        flat = self.target[idx]
        if n_rows > 1:
            flat += np.repeat(row * (self.n_parts * self.n_post), counts)
        size = n_rows * self.n_parts * self.n_post
        if s.dtype == bool:
            vals = self.w[idx]
        else:
            payload = np.repeat(s[row, src].astype(np.float64), counts)
            if not self.exact_f64:
                acc = np.zeros(size, np.int64)
                np.add.at(acc, flat, self.w_int[idx] * payload.astype(np.int64))
                return acc.reshape(n_rows, self.n_parts, self.n_post)  # int64: finish() wraps exactly
            vals = self.w[idx] * payload
        return np.bincount(flat, weights=vals, minlength=size).reshape(n_rows, self.n_parts, self.n_post)

    # --- dense paths -----------------------------------------------------------------------------
    def _dense_ops(self) -> list:
        if self._dense is None:
            ops = []
            for pt, rows, cols in zip(self.parts, self.rows_per_part, self.cols_per_part):
                block = np.zeros((len(cols), len(rows)))  # (cols, rows): s @ block
                # add, not assign: folded groups may share a (post, pre) pair
                np.add.at(block, (np.searchsorted(cols, pt.pre), np.searchsorted(rows, pt.post)), pt.w)
                # float32 only for integer weights whose sums stay below 2**24 (the twin's weights
                # carry fractional bits 2**weight_exp: always float64)
                exact32 = not self.twin and pt.bound < _FLOAT32_EXACT
                ops.append((_as_slice(rows), _as_slice(cols), len(cols) == self.n_pre,
                            np.ascontiguousarray(block, np.float32 if exact32 else np.float64)))
            self._dense = ops
        return self._dense

    def _rows_matrix(self) -> np.ndarray:
        if self._rows is None:
            m = np.zeros((self.n_pre, self.n_parts * self.n_post))
            src = np.repeat(np.arange(self.n_pre), self.fan_out)
            np.add.at(m, (src, self.target), self.w)  # folded groups may share a (post, pre) pair
            self._rows = m
        return self._rows

    # --- public ----------------------------------------------------------------------------------
    def add_into(self, a: np.ndarray, s: np.ndarray) -> None:
        """Add the contribution of spikes/payloads ``s`` (L, n_pre) into the float64 ``a`` (L, n_post)."""
        if not self.parts or s.shape[0] == 0:
            return
        n_rows = s.shape[0]
        if n_rows == 1 and self.rows_ok:
            idx = np.flatnonzero(s[0])
            k = idx.size
            if k == 0:
                return
            if k * self.n_parts * self.n_post * ROW_NS_PER_ENTRY < k * self.mean_fan_out * EVENT_NS + EVENT_OVERHEAD_NS:
                m = self._rows_matrix()
                acc = (m[idx] if s.dtype == bool else m[idx] * s[0, idx, None].astype(np.float64)).sum(axis=0)
                acc = acc.reshape(1, self.n_parts, self.n_post)
                for p_idx, pt in enumerate(self.parts):
                    a += pt.finish(acc[:, p_idx])
                return
        if self.dense_ok:
            events = float(self.fan_out @ np.count_nonzero(s, axis=0))
            if n_rows * self.block_entries * DENSE_NS_PER_MAC < events * EVENT_NS + EVENT_OVERHEAD_NS:
                for pt, (rows, cols, full_cols, block) in zip(self.parts, self._dense_ops()):
                    sub = s if full_cols else s[:, cols]
                    acc = pt.finish(np.asarray(sub.astype(block.dtype, copy=False) @ block, np.float64))
                    if isinstance(rows, slice) and rows == slice(0, self.n_post):
                        a += acc
                    else:
                        a[:, rows] += acc
                return
        acc = self._events(s)
        if acc is None:
            return
        for p_idx, pt in enumerate(self.parts):
            a += pt.finish(acc[:, p_idx])

    def accumulate(self, s: np.ndarray) -> np.ndarray:
        """``out_scale * sum_g shift_g(W_g @ s)`` for ``s`` of shape (..., n_pre): int64 (..., n_post)."""
        lead = s.shape[:-1]
        flat = s.reshape(-1, s.shape[-1])
        out = np.zeros((flat.shape[0], self.n_post))
        self.add_into(out, flat)
        return np.rint(out).astype(np.int64).reshape(*lead, self.n_post)
