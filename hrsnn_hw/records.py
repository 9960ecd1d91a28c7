"""The record every simulator returns: spikes (and optionally states) of a batch of samples.

Brian2, the golden model and Lava all return a :class:`SpikeRecord`, so metrics,
readouts, counting and verification never care which backend ran.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .io import PathLike, load_artifact, save_artifact

RECORD_KIND = "hrsnn_hw.SpikeRecord"
RECORD_VERSION = 1


@dataclass(frozen=True)
class SpikeRecord:
    """Spikes of the recurrent layer for a batch of samples.

    Attributes
    ----------
    spikes : ndarray of bool, shape (n_samples, n_steps, n_neurons)
        ``spikes[b, t, i]`` is True when neuron ``i`` fired at step ``t`` of sample ``b``.
        Steps past ``sample_lengths[b]`` are padding and are always False.
    sample_lengths : ndarray of int, shape (n_samples,)
        Number of valid steps of each sample.
    dt : float
        Simulation time step in seconds.
    provenance : dict
        ``backend`` ("brian2", "golden", "lava"), ``fidelity`` ("float", "fixed"),
        ``profile``, ``seed``, ``design`` and package versions.
    v, u : ndarray, optional, shape (n_samples, n_steps, n_neurons)
        Membrane potential and synaptic current, when the backend was asked to record them
        (float volts for float backends, integers for fixed-point backends).
    input_spikes : ndarray of bool, optional, shape (n_samples, n_steps, n_inputs)
        The input raster that drove the run (for graded inputs: where a payload was sent).
    active_per_step : ndarray of int32, optional, shape (n_samples, n_steps)
        Neurons "active" at each step: ``u != 0`` or ``v != 0`` after the step, or spiked
        (0 in padding). Counted by the golden model on request (``count_active=True``)
        without recording ``u`` and ``v``.
    active_per_neuron : ndarray of int32, optional, shape (n_samples, n_neurons)
        Valid steps at which each neuron was active, per sample (same definition).
    """

    spikes: np.ndarray
    sample_lengths: np.ndarray
    dt: float
    provenance: dict = field(default_factory=dict)
    v: np.ndarray | None = None
    u: np.ndarray | None = None
    input_spikes: np.ndarray | None = None
    active_per_step: np.ndarray | None = None
    active_per_neuron: np.ndarray | None = None

    def __post_init__(self) -> None:
        spikes = np.asarray(self.spikes, dtype=bool)
        if spikes.ndim != 3:
            raise ValueError(f"spikes must be (n_samples, n_steps, n_neurons), got shape {spikes.shape}")
        object.__setattr__(self, "spikes", spikes)
        lengths = np.asarray(self.sample_lengths, dtype=np.int64)
        if lengths.shape != (spikes.shape[0],):
            raise ValueError(f"sample_lengths must have shape ({spikes.shape[0]},), got {lengths.shape}")
        object.__setattr__(self, "sample_lengths", lengths)
        for arr in (spikes, lengths):
            arr.setflags(write=False)
        expected = {"active_per_step": (spikes.shape[0], spikes.shape[1]),
                    "active_per_neuron": (spikes.shape[0], spikes.shape[2])}
        for name, shape in expected.items():
            value = getattr(self, name)
            if value is not None:
                arr = np.asarray(value, dtype=np.int32)
                if arr.shape != shape:
                    raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
                arr.setflags(write=False)
                object.__setattr__(self, name, arr)

    @property
    def n_samples(self) -> int:
        return int(self.spikes.shape[0])

    @property
    def n_steps(self) -> int:
        return int(self.spikes.shape[1])

    @property
    def n_neurons(self) -> int:
        return int(self.spikes.shape[2])

    def spike_counts(self) -> np.ndarray:
        """Spikes per sample and neuron, shape (n_samples, n_neurons)."""
        return self.spikes.sum(axis=1, dtype=np.int64)

    def total_spikes_per_sample(self) -> np.ndarray:
        """Total spikes of the layer per sample (per inference), shape (n_samples,)."""
        return self.spikes.sum(axis=(1, 2), dtype=np.int64)

    def activity(self) -> float:
        """Spiking activity S: spikes per neuron per valid time step, over the whole batch."""
        steps = int(self.sample_lengths.sum())
        if steps == 0 or self.n_neurons == 0:
            return 0.0
        return float(self.spikes.sum(dtype=np.int64)) / (steps * self.n_neurons)

    def save(self, path: PathLike) -> None:
        """Write the record atomically as a versioned ``.npz`` (no pickle)."""
        arrays = {"spikes": np.packbits(self.spikes, axis=-1), "sample_lengths": self.sample_lengths}
        for name in ("v", "u", "active_per_step", "active_per_neuron"):
            value = getattr(self, name)
            if value is not None:
                arrays[name] = value
        if self.input_spikes is not None:
            arrays["input_spikes"] = np.packbits(np.asarray(self.input_spikes, bool), axis=-1)
        meta: dict[str, Any] = {"dt": self.dt, "provenance": self.provenance,
                                "n_neurons": self.n_neurons,
                                "n_inputs": None if self.input_spikes is None else int(np.shape(self.input_spikes)[-1])}
        save_artifact(path, RECORD_KIND, RECORD_VERSION, meta, arrays)

    @classmethod
    def load(cls, path: PathLike) -> "SpikeRecord":
        """Read a record written by :meth:`save`."""
        meta, arrays, _ = load_artifact(path, RECORD_KIND, (RECORD_VERSION,))
        spikes = np.unpackbits(arrays["spikes"], axis=-1, count=meta["n_neurons"]).astype(bool)
        inputs = None
        if "input_spikes" in arrays:
            inputs = np.unpackbits(arrays["input_spikes"], axis=-1, count=meta["n_inputs"]).astype(bool)
        return cls(spikes=spikes, sample_lengths=arrays["sample_lengths"], dt=float(meta["dt"]),
                   provenance=meta["provenance"], v=arrays.get("v"), u=arrays.get("u"),
                   input_spikes=inputs, active_per_step=arrays.get("active_per_step"),
                   active_per_neuron=arrays.get("active_per_neuron"))
