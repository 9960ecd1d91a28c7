"""State features of a spike record for the host-side readouts.

All functions read only each sample's valid steps (``record.sample_lengths``) and work in
chunks of samples, so a float copy of a large raster is never held at once.

The exponential trace of neuron i is ``x_i[t] = exp(-1 / tau_steps) * x_i[t-1] + s_i[t]``
with ``x_i[-1] = 0``: a spike adds 1, so a steady rate r (spikes/step) gives a trace of about
``r * tau_steps``.
"""
from __future__ import annotations

import math
from typing import Any, Iterator

import numpy as np
from scipy.signal import lfilter

from ..errors import DataError
from ..records import SpikeRecord

__all__ = ["binned_counts", "filtered_traces", "final_state", "frame_states"]

# Elements (samples x steps x neurons) converted to float64 at once: ~32 MB.
_CHUNK_ELEMENTS = 4_000_000


def _check_record(record: Any) -> SpikeRecord:
    if not isinstance(record, SpikeRecord):
        raise DataError("expected a SpikeRecord", parameter="record", value=type(record).__name__,
                        hint="simulators return hrsnn_hw.records.SpikeRecord")
    return record


def _check_tau(tau_steps: Any) -> float:
    try:
        tau = float(tau_steps)
    except (TypeError, ValueError):
        tau = float("nan")
    if not (math.isfinite(tau) and tau > 0):
        raise DataError("trace time constant must be positive", parameter="tau_steps",
                        value=tau_steps, allowed="(0, inf) steps",
                        hint="typically the membrane time constant in steps, e.g. 20")
    return tau


def _chunks(record: SpikeRecord) -> Iterator[slice]:
    per_sample = max(1, record.n_steps * record.n_neurons)
    size = max(1, _CHUNK_ELEMENTS // per_sample)
    for start in range(0, record.n_samples, size):
        yield slice(start, min(start + size, record.n_samples))


def binned_counts(record: SpikeRecord, n_bins: int) -> np.ndarray:
    """Spike counts in equal bins of each sample's valid steps, divided by the bin length.

    Parameters
    ----------
    record : SpikeRecord
    n_bins : int
        Bins per sample (>= 1). Sample b's bin edges are ``round(linspace(0, L_b, n_bins + 1))``;
        a bin that gets no step (L_b < n_bins) is 0.

    Returns
    -------
    ndarray of float64, shape (n_samples, n_bins * n_neurons)
        Bin-major: columns ``k * n_neurons .. (k + 1) * n_neurons - 1`` hold bin k, in
        spikes per step.
    """
    record = _check_record(record)
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise DataError("number of bins must be a positive integer", parameter="n_bins",
                        value=n_bins, allowed=">= 1")
    n, n_neur = record.n_samples, record.n_neurons
    out = np.zeros((n, n_bins, n_neur), dtype=np.float64)
    for sl in _chunks(record):
        spikes = record.spikes[sl]
        csum = np.zeros((spikes.shape[0], spikes.shape[1] + 1, n_neur), dtype=np.int64)
        np.cumsum(spikes, axis=1, dtype=np.int64, out=csum[:, 1:])
        for j, b in enumerate(range(sl.start, sl.stop)):
            edges = np.round(np.linspace(0, record.sample_lengths[b], n_bins + 1)).astype(np.int64)
            widths = np.diff(edges)
            counts = csum[j, edges[1:]] - csum[j, edges[:-1]]
            out[b] = np.divide(counts, widths[:, None], out=np.zeros(counts.shape),
                               where=widths[:, None] > 0)
    return out.reshape(n, n_bins * n_neur)


def filtered_traces(record: SpikeRecord, tau_steps: float) -> np.ndarray:
    """Exponentially filtered spikes at every step (see the module docstring).

    Returns
    -------
    ndarray of float64, shape (n_samples, n_steps, n_neurons)
        Zero past each sample's valid length.
    """
    record = _check_record(record)
    decay = math.exp(-1.0 / _check_tau(tau_steps))
    out = np.zeros(record.spikes.shape, dtype=np.float64)
    valid = np.arange(record.n_steps)[None, :] < record.sample_lengths[:, None]
    for sl in _chunks(record):
        out[sl] = lfilter([1.0], [1.0, -decay], record.spikes[sl].astype(np.float64), axis=1)
    out[~valid] = 0.0
    return out


def final_state(record: SpikeRecord, tau_steps: float) -> np.ndarray:
    """Classification features: the trace at each sample's last valid step and the mean rate.

    Returns
    -------
    ndarray of float64, shape (n_samples, 2 * n_neurons)
        ``[:, :N]`` the trace at step ``L_b - 1``; ``[:, N:]`` spikes per step over the valid
        steps. Both 0 for an empty sample.
    """
    record = _check_record(record)
    tau = _check_tau(tau_steps)
    n, n_neur = record.n_samples, record.n_neurons
    out = np.zeros((n, 2 * n_neur), dtype=np.float64)
    steps = np.arange(record.n_steps)
    for sl in _chunks(record):
        lens = record.sample_lengths[sl]
        age = (lens[:, None] - 1 - steps[None, :]).astype(np.float64)  # steps before the end
        weights = np.where(age >= 0, np.exp(-np.maximum(age, 0.0) / tau), 0.0)
        spikes = record.spikes[sl].astype(np.float64)
        out[sl, :n_neur] = np.einsum("bt,btn->bn", weights, spikes)
        counts = spikes.sum(axis=1)
        out[sl, n_neur:] = np.divide(counts, lens[:, None], out=np.zeros_like(counts),
                                     where=lens[:, None] > 0)
    return out


def frame_states(record: SpikeRecord, steps_per_frame: int, tau_steps: float) -> np.ndarray:
    """The trace sampled at the last step of every input frame (prediction, memory capacity).

    Parameters
    ----------
    record : SpikeRecord
        ``n_steps`` must be a multiple of ``steps_per_frame`` (true for encoder output).
    steps_per_frame : int
        Steps per input frame, as used by the encoder.
    tau_steps : float
        Trace time constant in steps.

    Returns
    -------
    ndarray of float64, shape (n_samples, n_frames, n_neurons)
        Frame f holds the trace at step ``(f + 1) * steps_per_frame - 1``; frames that are not
        complete within a sample's valid steps are 0.
    """
    record = _check_record(record)
    tau = _check_tau(tau_steps)
    if isinstance(steps_per_frame, bool) or not isinstance(steps_per_frame, (int, np.integer)) \
            or steps_per_frame < 1:
        raise DataError("steps per frame must be a positive integer", parameter="steps_per_frame",
                        value=steps_per_frame, allowed=">= 1")
    spf = int(steps_per_frame)
    if record.n_steps % spf:
        raise DataError("record length is not a whole number of frames", parameter="steps_per_frame",
                        value=spf, allowed=f"a divisor of n_steps={record.n_steps}",
                        hint="use the steps_per_frame the input was encoded with")
    n_frames = record.n_steps // spf
    decay = math.exp(-1.0 / tau)
    # Within a frame a spike at offset k is (spf - 1 - k) steps old at the frame's end; across
    # frames the trace decays by decay**spf. Same recursion as filtered_traces, sampled.
    weights = decay ** np.arange(spf - 1, -1, -1, dtype=np.float64)
    out = np.zeros((record.n_samples, n_frames, record.n_neurons), dtype=np.float64)
    for sl in _chunks(record):
        spikes = record.spikes[sl].reshape(-1, n_frames, spf, record.n_neurons)
        # frames in blocks too: one long MC drive is one sample, and its whole raster as float64
        # would be 8x the record (4.8 GB for 300,000 steps of 2,000 neurons)
        block = max(1, _CHUNK_ELEMENTS // max(1, spikes.shape[0] * spf * record.n_neurons))
        contrib = np.empty((spikes.shape[0], n_frames, record.n_neurons), dtype=np.float64)
        for f0 in range(0, n_frames, block):
            contrib[:, f0:f0 + block] = np.einsum("bfkn,k->bfn", spikes[:, f0:f0 + block].astype(np.float64), weights)
        out[sl] = lfilter([1.0], [1.0, -decay ** spf], contrib, axis=1)
    complete = np.arange(n_frames)[None, :] < (record.sample_lengths // spf)[:, None]
    out[~complete] = 0.0
    return out
