"""Laying samples out for one Brian2 run: side by side (lanes) and one after another (segments).

A Brian2 run pays a fixed cost per time step and per code object, so the reference
simulator never runs one sample per ``Network.run``. Instead a :class:`Timeline` puts

* independent samples on *lanes*: copies of the network with block-diagonal synapses,
  ``n_lanes * n_neurons`` neurons in one group (frozen-weight inference), and
* groups of lanes into *segments* that follow each other in time, the network state
  (u, v, a_in, refractory counters, STDP traces) set to zero at every segment start when
  ``reset`` is True (sequential STDP training uses one lane and one segment per sample).

Numpy only; no Brian2 here.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Timeline", "batched_timeline", "sequential_timeline", "input_events", "input_values"]


@dataclass(frozen=True)
class Timeline:
    """Where each sample runs.

    Attributes
    ----------
    n_lanes : int
        Network replicas simulated side by side.
    seg_start, seg_len : ndarray of int64, shape (n_segments,)
        First global step and number of steps of each segment.
    lane_sample : ndarray of int64, shape (n_segments, n_lanes)
        Sample index run by each lane in each segment, -1 for an idle lane.
    reset : bool
        Whether the state is zeroed at segment starts.
    """

    n_lanes: int
    seg_start: np.ndarray
    seg_len: np.ndarray
    lane_sample: np.ndarray
    reset: bool = True

    @property
    def n_segments(self) -> int:
        return int(self.seg_len.size)

    @property
    def total_steps(self) -> int:
        return int(self.seg_len.sum())

    def locate(self, steps: np.ndarray, lanes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(sample, local step) of global steps on lanes; sample -1 for idle lanes."""
        seg = np.searchsorted(self.seg_start, steps, side="right") - 1
        return self.lane_sample[seg, lanes], steps - self.seg_start[seg]


def _make(n_lanes: int, lengths_per_segment: list[int], lanes: list[np.ndarray], reset: bool) -> Timeline:
    seg_len = np.asarray(lengths_per_segment, dtype=np.int64)
    seg_start = np.concatenate([[0], np.cumsum(seg_len)[:-1]]).astype(np.int64) if seg_len.size else seg_len
    lane_sample = np.full((seg_len.size, n_lanes), -1, dtype=np.int64)
    for k, samples in enumerate(lanes):
        lane_sample[k, :samples.size] = samples
    return Timeline(n_lanes=n_lanes, seg_start=seg_start, seg_len=seg_len, lane_sample=lane_sample, reset=reset)


def batched_timeline(lengths: np.ndarray, max_lanes: int) -> Timeline:
    """Samples in chunks of at most ``max_lanes``, longest first, each chunk one segment.

    Sorting by length makes each chunk's samples similar in length, so few lane-steps are
    spent on padding; empty samples are left out.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    order = np.argsort(-lengths, kind="stable")
    order = order[lengths[order] > 0]
    n_lanes = int(min(max_lanes, max(order.size, 1)))
    chunks = [order[i:i + n_lanes] for i in range(0, order.size, n_lanes)]
    return _make(n_lanes, [int(lengths[c].max()) for c in chunks], chunks, reset=True)


def sequential_timeline(order: np.ndarray, lengths: np.ndarray, reset: bool = True) -> Timeline:
    """One lane; the samples of ``order`` one after another (empty samples skipped)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    order = np.asarray(order, dtype=np.int64)
    order = order[lengths[order] > 0]
    return _make(1, [int(lengths[b]) for b in order], [np.array([b]) for b in order], reset=reset)


def input_events(timeline: Timeline, input_spikes: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Spike-generator events of a timeline: (channel index over all lanes, global step).

    Channel ``c`` of lane ``l`` is generator neuron ``l * n_input + c``; only the valid
    steps of each sample are used. Events are sorted by (step, index).
    """
    n_input = input_spikes.shape[2]
    idx_parts, step_parts = [], []
    for k in range(timeline.n_segments):
        for lane, b in enumerate(timeline.lane_sample[k]):
            if b < 0:
                continue
            t, c = np.nonzero(input_spikes[b, :lengths[b]])
            idx_parts.append(c + lane * n_input)
            step_parts.append(t + timeline.seg_start[k])
    if not idx_parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    idx = np.concatenate(idx_parts).astype(np.int64)
    steps = np.concatenate(step_parts).astype(np.int64)
    order = np.lexsort((idx, steps))
    return idx[order], steps[order]


def input_values(timeline: Timeline, payloads: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Graded input laid out on a timeline: (total_steps, n_lanes * n_input) float64.

    Row g, column ``lane * n_input + c`` holds the payload of channel c of the sample that
    lane runs at global step g (0 on idle lanes and past a sample's length).
    """
    n_input = payloads.shape[2]
    out = np.zeros((timeline.total_steps, timeline.n_lanes * n_input), dtype=np.float64)
    for k in range(timeline.n_segments):
        start = int(timeline.seg_start[k])
        for lane, b in enumerate(timeline.lane_sample[k]):
            if b >= 0:
                out[start:start + lengths[b], lane * n_input:(lane + 1) * n_input] = payloads[b, :lengths[b]]
    return out
