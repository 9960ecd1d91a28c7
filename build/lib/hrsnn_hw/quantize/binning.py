"""Grouping neurons into at most K parameter profiles, deterministically.

Points are *groups* of neurons that already share one integer profile (they are one
hardware profile whatever happens), weighted by their size, with features such as
``log tau_m``. Methods:

* ``"kmeans-log"``: with one varying feature, the exact weighted 1-D k-means (dynamic
  programming over the sorted points, optimal and deterministic); with several, Lloyd
  iterations started from the exact 1-D solution along the first principal axis.
* ``"quantile"``: equal-weight groups along the same 1-D order.

Points are never split; labels are renumbered by ascending first feature.
"""
from __future__ import annotations

import numpy as np

_BLOCK_ELEMENTS = 1 << 21  # bound on the temporary DP matrix (16 MB of float64)
_BLOCK_COLUMNS = 128  # small blocks let the monotone search window prune more


def _relabel(labels: np.ndarray, key: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Renumber clusters 0..m-1 by ascending weighted mean of ``key``."""
    uniq = np.unique(labels)
    means = np.array([np.average(key[labels == u], weights=weights[labels == u]) for u in uniq])
    order = uniq[np.lexsort((uniq, means))]
    remap = np.empty(int(uniq.max()) + 1, dtype=np.int64)
    remap[order] = np.arange(order.size)
    return remap[labels]


def kmeans_1d(x: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """Exact weighted 1-D k-means: labels minimising the within-cluster sum of squares.

    Parameters
    ----------
    x : ndarray, shape (n,)
        Point positions.
    weights : ndarray, shape (n,)
        Positive weights (group sizes).
    k : int
        Number of clusters (``min(k, n)`` are used).

    Returns
    -------
    ndarray of int64, shape (n,)
        Cluster of each point, numbered by ascending position.
    """
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    n = x.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    k = max(1, min(int(k), n))
    if k == n:
        labels_sorted = np.arange(n)
    else:
        # Centre and scale first: the prefix-sum cost formula cancels badly otherwise.
        span = xs[-1] - xs[0]
        z = (xs - np.average(xs, weights=ws)) / (span if span > 0 else 1.0)
        cw = np.concatenate(([0.0], np.cumsum(ws)))
        c1 = np.concatenate(([0.0], np.cumsum(ws * z)))
        c2 = np.concatenate(([0.0], np.cumsum(ws * z * z)))

        def cost(i: np.ndarray, j: np.ndarray) -> np.ndarray:  # points i..j inclusive
            s = cw[j + 1] - cw[i]
            m = c1[j + 1] - c1[i]
            return np.maximum(c2[j + 1] - c2[i] - m * m / s, 0.0)

        idx = np.arange(n)
        prev = cost(np.zeros(n, dtype=np.int64), idx)
        starts = np.zeros((k, n), dtype=np.int64)
        block = max(1, min(_BLOCK_COLUMNS, _BLOCK_ELEMENTS // n))
        for m in range(1, k):
            cur = np.full(n, np.inf)
            lo = m
            for j0 in range(m, n, block):
                j = np.arange(j0, min(n, j0 + block))
                # The leftmost optimal start of the last cluster never decreases with j (the
                # 1-D k-means cost satisfies the quadrangle inequality): search from lo only.
                i_all = np.arange(lo, j[-1] + 1)
                with np.errstate(divide="ignore", invalid="ignore"):
                    cand = prev[i_all - 1][:, None] + cost(i_all[:, None], j[None, :])
                cand[i_all[:, None] > j[None, :]] = np.inf
                best = np.argmin(cand, axis=0)  # first minimum: deterministic ties
                cur[j] = cand[best, np.arange(j.size)]
                starts[m, j] = i_all[best]
                lo = int(starts[m, j[-1]])
            prev = cur
        labels_sorted = np.empty(n, dtype=np.int64)
        end = n - 1
        for m in range(k - 1, -1, -1):
            start = int(starts[m, end]) if m > 0 else 0
            labels_sorted[start:end + 1] = m
            end = start - 1
    labels = np.empty(n, dtype=np.int64)
    labels[order] = labels_sorted
    return labels


def quantile_1d(x: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """Equal-weight bins along ``x``: a point goes to the bin holding its weight's midpoint."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    if x.size == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(x, kind="stable")
    cum = np.cumsum(w[order])
    mid = cum - w[order] / 2.0
    bins = np.clip(np.floor(k * mid / cum[-1]).astype(np.int64), 0, k - 1)
    labels = np.empty(x.size, dtype=np.int64)
    labels[order] = bins
    return _relabel(labels, x, w)


def _principal_axis(features: np.ndarray, weights: np.ndarray) -> np.ndarray:
    centred = features - np.average(features, axis=0, weights=weights)
    _, _, vt = np.linalg.svd(centred * np.sqrt(weights)[:, None], full_matrices=False)
    axis = vt[0]
    if axis[np.argmax(np.abs(axis))] < 0:  # fix the sign so the order is reproducible
        axis = -axis
    return centred @ axis


def lloyd(features: np.ndarray, weights: np.ndarray, labels: np.ndarray, max_iter: int = 100) -> np.ndarray:
    """Weighted Lloyd iterations from ``labels`` until no point moves (empty clusters vanish)."""
    labels = labels.copy()
    for _ in range(max_iter):
        uniq = np.unique(labels)
        centres = np.stack([np.average(features[labels == u], axis=0, weights=weights[labels == u]) for u in uniq])
        dist = ((features[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        new = uniq[np.argmin(dist, axis=1)]
        if np.array_equal(new, labels):
            break
        labels = new
    return labels


def bin_points(features: np.ndarray, weights: np.ndarray, k: int, method: str) -> np.ndarray:
    """Cluster weighted points into at most ``k`` groups.

    Parameters
    ----------
    features : ndarray, shape (n, d)
        One row per point; constant columns are ignored.
    weights : ndarray, shape (n,)
        Positive point weights.
    k : int
        Largest number of clusters.
    method : str
        ``"kmeans-log"`` or ``"quantile"``.

    Returns
    -------
    ndarray of int64, shape (n,)
        Labels ``0..m-1`` with ``m <= k``, numbered by ascending first varying feature.
    """
    features = np.asarray(features, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    n = features.shape[0]
    if n <= k:
        labels = np.arange(n, dtype=np.int64)
        varying = features[:, np.ptp(features, axis=0) > 0] if n else features
        return _relabel(labels, varying[:, 0] if varying.shape[1] else np.zeros(n), weights) if n else labels
    varying = features[:, np.ptp(features, axis=0) > 0]
    if varying.shape[1] == 0:
        return np.zeros(n, dtype=np.int64)
    line = varying[:, 0] if varying.shape[1] == 1 else _principal_axis(varying, weights)
    if method == "quantile":
        labels = quantile_1d(line, weights, k)
    else:
        labels = kmeans_1d(line, weights, k)
        if varying.shape[1] > 1:
            labels = lloyd(varying, weights, labels)
    return _relabel(labels, varying[:, 0], weights)
