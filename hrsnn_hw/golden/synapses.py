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
# Measured on the 2-core development machine (benchmarks/bench_scaling.py prints the
# crossover it sees): a float32 BLAS multiply-add costs ~0.03 ns per entry of the block (large
# batches) and the event path ~8 ns per delivered synaptic event plus ~25 us of numpy calls per
# step. The dense product is used when it is estimated cheaper:
#     samples x rows x cols x DENSE_NS_PER_MAC  <  events x EVENT_NS + EVENT_OVERHEAD_NS
DENSE_NS_PER_MAC = 0.03
EVENT_NS = 8.0
EVENT_OVERHEAD_NS = 25_000.0


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


def gather(pre_ptr: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """Indices of every synapse of ``sources`` (with repeats), in order: O(events)."""
    starts = pre_ptr[sources]
    counts = pre_ptr[sources + 1] - starts
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    # arange(total) plus, per event, (its first synapse - its first slot in the output)
    offsets = np.cumsum(counts) - counts
    return np.arange(total, dtype=np.int64) + np.repeat(starts - offsets, counts)


class SynapseSet:
    """All synapse groups from one source, applied together to batches of spikes.

    ``add_into(a_in, s)`` adds ``sum_g shift_g(W_g @ s)`` for ``s`` of shape (L, n_pre) (bool
    spikes or integer payloads) into ``a_in`` (L, n_post). Event path: one gather over the
    concatenated CSR of every group (a group id per synapse), one ``bincount`` into
    (L, groups, n_post), a shift per group. Dense path: a GEMM per group on its support block,
    exact in float32/float64 by the bound on its sums.

    Parameters
    ----------
    groups : sequence of SynapseGroup
        Groups of one source (all ``n_pre`` wide, ``n_post`` tall).
    n_post, n_pre : int
    payload_max : int
        Largest ``|s|`` (1 for binary spikes).
    graded : bool
        ``s`` carries payloads: Lava's Dense then accumulates in int32 (wraps before the shift).
    """

    def __init__(self, groups: Sequence[SynapseGroup], n_post: int, n_pre: int, *, payload_max: int = 1,
                 graded: bool = False) -> None:
        self.groups = tuple(groups)
        self.n_post, self.n_pre = int(n_post), int(n_pre)
        self.graded = bool(graded)
        self.payload_max = max(1, int(payload_max))
        g = len(self.groups)
        self.exps = [grp.weight_exp for grp in self.groups]
        # bounds: |acc| per group, |shifted| per group, and whether int32 wraps can happen
        self.acc_bound = [grp.row_abs_max * self.payload_max for grp in self.groups]
        self.acc_wraps = [self.graded and b >= _INT32 for b in self.acc_bound]
        self.out_bound = sum(shift(min(b, _INT32), e) if e > 0 else b >> -e
                             for b, e in zip(self.acc_bound, self.exps))
        fanout = np.zeros(self.n_pre, np.int64)
        for grp in self.groups:
            fanout += grp.fan_out
        self.fan_out = fanout
        self.mean_fan_out = float(fanout.mean()) if self.n_pre else 0.0
        # concatenated CSR by source with a group id per synapse (event path)
        if g:
            pre = np.concatenate([grp.pre_index for grp in self.groups])
            post = np.concatenate([grp.post_index for grp in self.groups])
            w = np.concatenate([grp.weight for grp in self.groups])
            gid = np.concatenate([np.full(grp.n_synapses, k, np.int64) for k, grp in enumerate(self.groups)])
            order = np.argsort(pre, kind="stable")
            self.ptr = np.zeros(self.n_pre + 1, np.int64)
            np.cumsum(np.bincount(pre, minlength=self.n_pre), out=self.ptr[1:])
            # flat target within a (groups x n_post) row, and the weight as float64 (bincount's type)
            self.target = (gid[order] * self.n_post + post[order]).astype(np.int64)
            self.w = w[order].astype(np.int64)
            self.w_f64 = self.w.astype(np.float64)
        else:
            self.ptr = np.zeros(self.n_pre + 1, np.int64)
            self.target = np.zeros(0, np.int64)
            self.w = np.zeros(0, np.int64)
            self.w_f64 = np.zeros(0)
        self._dense: list | None = None
        self._rows_cat: tuple | None = None
        self.exact_f64 = all(b < _FLOAT64_EXACT for b in self.acc_bound)
        self.block_entries = sum(len(grp.rows) * len(grp.cols) for grp in self.groups)
        self.dense_ok = all(len(grp.rows) * len(grp.cols) <= DENSE_BLOCK_MAX for grp in self.groups)

    @property
    def n_groups(self) -> int:
        return len(self.groups)

    # --- path choice -------------------------------------------------------------------------
    def _use_dense(self, n_rows: int, events: float) -> bool:
        if not self.dense_ok:
            return False
        return n_rows * self.block_entries * DENSE_NS_PER_MAC < events * EVENT_NS + EVENT_OVERHEAD_NS

    # --- event path ----------------------------------------------------------------------------
    def _events(self, s: np.ndarray, float_twin: bool) -> np.ndarray | None:
        """Per-group sums, shape (L, groups, n_post) (int64; float64 for the twin), or None if silent."""
        n_rows = s.shape[0]
        if s.dtype == bool:
            row, src = np.nonzero(s)
            payload = None
        else:
            row, src = np.nonzero(s)
            payload = s[row, src].astype(np.int64)
        if row.size == 0:
            return None
        idx = gather(self.ptr, src)
        if idx.size == 0:
            return None
        counts = self.ptr[src + 1] - self.ptr[src]
        flat = np.repeat(row * (self.n_groups * self.n_post), counts)
        flat += self.target[idx]
        size = n_rows * self.n_groups * self.n_post
        if payload is None:
            vals = self.w_f64[idx]
        else:
            vals = self.w[idx] * np.repeat(payload, counts)
            if not self.exact_f64:
                acc = np.zeros(size, np.int64)
                np.add.at(acc, flat, vals)
                return acc.reshape(n_rows, self.n_groups, self.n_post).astype(np.float64 if float_twin else np.int64)
            vals = vals.astype(np.float64)
        acc = np.bincount(flat, weights=vals, minlength=size).reshape(n_rows, self.n_groups, self.n_post)
        return acc if float_twin else acc.astype(np.int64)

    # --- dense path ----------------------------------------------------------------------------
    def _dense_ops(self) -> list:
        if self._dense is None:
            ops = []
            for grp, bound in zip(self.groups, self.acc_bound):
                rows, cols = grp.rows, grp.cols
                block = np.zeros((len(cols), len(rows)), np.int64)  # (cols, rows): s @ block
                r_of = np.searchsorted(rows, grp.post_index)
                c_of = np.searchsorted(cols, grp.pre_index)
                block[c_of, r_of] = grp.weight
                dtype = np.float32 if bound < _FLOAT32_EXACT else np.float64 if bound < _FLOAT64_EXACT else np.int64
                ops.append((_as_slice(rows), _as_slice(cols), len(cols) == self.n_pre,
                            np.ascontiguousarray(block.astype(dtype))))
            self._dense = ops
        return self._dense

    def _dense_sum(self, k: int, s: np.ndarray, float_twin: bool) -> np.ndarray:
        rows, cols, full_cols, block = self._dense_ops()[k]
        sub = s if full_cols else s[:, cols]
        dtype = np.float64 if float_twin and block.dtype != np.int64 else block.dtype
        out = sub.astype(dtype, copy=False) @ (block if block.dtype == dtype else block.astype(dtype))
        return out if float_twin else out.astype(np.int64, copy=False)

    # --- public ----------------------------------------------------------------------------------
    def add_into(self, a_in: np.ndarray, s: np.ndarray, float_twin: bool = False) -> None:
        """Add every group's contribution for spikes/payloads ``s`` (L, n_pre) into ``a_in`` (L, n_post)."""
        if not self.groups or s.shape[0] == 0:
            return
        if s.dtype == bool:
            events = float(self.fan_out @ s.sum(axis=0, dtype=np.int64)) if self.dense_ok else 0.0
        else:
            events = float(self.fan_out @ np.count_nonzero(s, axis=0)) if self.dense_ok else 0.0
        if self.dense_ok and self._use_dense(s.shape[0], events):
            for k, grp in enumerate(self.groups):
                acc = self._dense_sum(k, s, float_twin)
                self._add_group(a_in, k, acc, float_twin, self._dense[k][0])
            return
        acc = self._events(s, float_twin)
        if acc is None:
            return
        for k in range(self.n_groups):
            self._add_group(a_in, k, acc[:, k], float_twin, slice(None))

    def _add_group(self, a_in: np.ndarray, k: int, acc: np.ndarray, float_twin: bool, rows) -> None:
        e = self.exps[k]
        if float_twin:
            contrib = acc * 2.0 ** e
        else:
            if self.acc_wraps[k]:
                acc = wrap32(acc)  # Lava's graded Dense accumulates in int32
            contrib = shift(acc, e)
        if isinstance(rows, slice) and rows == slice(None):
            a_in += contrib
        else:
            a_in[:, rows] += contrib

    def accumulate(self, s: np.ndarray) -> np.ndarray:
        """``sum_g shift_g(W_g @ s)`` for ``s`` of shape (..., n_pre): int64 (..., n_post)."""
        lead = s.shape[:-1]
        flat = s.reshape(-1, s.shape[-1])
        out = np.zeros((flat.shape[0], self.n_post), np.int64)
        self.add_into(out, flat)
        return out.reshape(*lead, self.n_post)
