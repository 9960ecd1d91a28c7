"""Non-spiking references on the same split, so a report shows what the spiking reservoir adds.

* ``linear``: the same readout fitted on the raw input frames (classification: the frames'
  mean in the same number of time bins as the spiking features; prediction: the current
  frame). It has no memory beyond one frame: any gain over it is the reservoir's.
* ``esn``: an echo-state network (Jaeger 2001) of tanh units, as many as the spiking
  network has neurons, with sparse random recurrence scaled to a spectral radius below 1,
  driven by the raw frames; the same readout on its states; its MC on the same i.i.d. drive
  and the same MC estimator. It is the conventional rate reservoir a spiking one competes with.

Both use the task's own split and the readouts of :mod:`hrsnn_hw.tasks.readout`. The ESN is
simulated by hand in NumPy: a few lines, where a reservoir library would add a dependency for
one matrix recursion.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import DataError
from .tasks.datasets import TaskData
from .tasks.memory_capacity import mc_input, memory_capacity
from .tasks.readout import evaluate_classification, evaluate_prediction

__all__ = ["EchoStateNetwork", "REFERENCES", "reference_metrics", "binned_frames"]

#: Reference models, by name, with their label in reports.
REFERENCES = {"linear": "linear readout of the input frames", "esn": "echo-state network (tanh)"}


@dataclass(frozen=True)
class EchoStateNetwork:
    """A leaky tanh reservoir ``x[t] = (1 - a) x[t-1] + a tanh(W x[t-1] + W_in u[t] + b)``.

    Attributes
    ----------
    n_units : int
    spectral_radius : float
        Largest |eigenvalue| of ``W`` (below 1: fading memory).
    input_scaling : float
        ``W_in`` entries are uniform in ``[-input_scaling, input_scaling]``.
    leak : float
        ``a`` in (0, 1].
    density : float
        Fraction of non-zero recurrent weights.
    seed : int
    """

    n_units: int = 200
    spectral_radius: float = 0.9
    input_scaling: float = 1.0
    leak: float = 0.3
    density: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        if self.n_units < 1:
            raise DataError("an ESN needs at least one unit", parameter="n_units", value=self.n_units, allowed=">= 1")
        if not 0.0 < self.leak <= 1.0:
            raise DataError("leak rate out of range", parameter="leak", value=self.leak, allowed="(0, 1]")
        if not 0.0 < self.density <= 1.0:
            raise DataError("density out of range", parameter="density", value=self.density, allowed="(0, 1]")

    def weights(self, n_in: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(W, W_in, b)`` for ``n_in`` input channels (deterministic for ``seed``)."""
        rng = np.random.default_rng([int(self.seed), 0xE5])
        w = rng.uniform(-1.0, 1.0, (self.n_units, self.n_units)) * (rng.random((self.n_units, self.n_units)) < self.density)
        radius = float(np.max(np.abs(np.linalg.eigvals(w)))) if self.n_units > 1 else float(abs(w[0, 0]))
        w = w * (self.spectral_radius / radius) if radius > 0 else w
        w_in = rng.uniform(-self.input_scaling, self.input_scaling, (self.n_units, n_in))
        bias = rng.uniform(-0.2, 0.2, self.n_units)
        return w, w_in, bias

    def states(self, x: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
        """Reservoir state after every frame of every sample (zero state at each start).

        Parameters
        ----------
        x : ndarray, shape (n_samples, n_frames, n_in)
        lengths : ndarray of int, optional
            Valid frames per sample; states past them are 0.

        Returns
        -------
        ndarray of float64, shape (n_samples, n_frames, n_units)
        """
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 3:
            raise DataError("ESN input must be (n_samples, n_frames, n_in)", parameter="x", value=x.shape)
        w, w_in, bias = self.weights(x.shape[2])
        drive = np.einsum("btc,nc->btn", x, w_in) + bias
        out = np.zeros(x.shape[:2] + (self.n_units,))
        state = np.zeros((x.shape[0], self.n_units))
        for t in range(x.shape[1]):
            state = (1.0 - self.leak) * state + self.leak * np.tanh(state @ w.T + drive[:, t])
            out[:, t] = state
        if lengths is not None:
            valid = np.arange(x.shape[1])[None, :] < np.asarray(lengths)[:, None]
            out[~valid] = 0.0
        return out


def binned_frames(x: np.ndarray, lengths: np.ndarray, n_bins: int) -> np.ndarray:
    """Mean of each channel in ``n_bins`` equal bins of every sample's valid frames.

    Returns
    -------
    ndarray of float64, shape (n_samples, n_bins * n_channels)
        Bin-major, like :func:`hrsnn_hw.tasks.features.binned_counts`.
    """
    x = np.asarray(x, dtype=np.float64)
    n, _, c = x.shape
    out = np.zeros((n, n_bins, c))
    for b in range(n):
        edges = np.round(np.linspace(0, int(lengths[b]), n_bins + 1)).astype(np.int64)
        for k in range(n_bins):
            if edges[k + 1] > edges[k]:
                out[b, k] = x[b, edges[k]:edges[k + 1]].mean(axis=0)
    return out.reshape(n, n_bins * c)


def _task_metric(task: TaskData, f_train: np.ndarray, f_test: np.ndarray, *, n_bins: int, readout: str) -> dict:
    """Task metric of per-frame features (classification: binned; prediction: per frame)."""
    if task.kind == "classification":
        res = evaluate_classification(binned_frames(f_train, task.len_train, n_bins), task.y_train,
                                      binned_frames(f_test, task.len_test, n_bins), task.y_test, readout=readout)
        return {"task_metric": float(res["accuracy"]), "task_metric_name": "accuracy", "higher_is_better": True,
                "train_metric": float(res["train_accuracy"])}
    washout = int(task.metadata.get("suggested_washout", 0))
    res = evaluate_prediction(f_train, task.y_train, f_test, task.y_test, task.horizon, washout=washout,
                              len_train=task.len_train, len_test=task.len_test)
    return {"task_metric": float(res["nrmse"]), "task_metric_name": "nrmse", "higher_is_better": False,
            "train_metric": float(res["train_nrmse"])}


def reference_metrics(name: str, task: TaskData, *, seed: int, n_units: int, n_bins: int = 3,
                      readout: str = "ridge", mc_frames: int = 3000, mc_washout: int = 50,
                      mc_max_delay: int = 100) -> dict:
    """Task metric and MC of a non-spiking reference model (see the module docstring).

    Parameters
    ----------
    name : {"linear", "esn"}
    task : TaskData
        The task, with the split the spiking network is scored on.
    seed : int
        ESN weights and MC drive.
    n_units : int
        ESN size (the spiking network's neuron count).
    n_bins, readout
        As for the spiking network's classification features.
    mc_frames, mc_washout, mc_max_delay
        The MC drive and estimator settings of the spiking measurement (the readouts' penalty is
        chosen by cross-validation and MC is chance-corrected, as for the spiking network).

    Returns
    -------
    dict
        ``task_metric``, ``task_metric_name``, ``higher_is_better``, ``train_metric``, ``mc``,
        ``model``.
    """
    if name not in REFERENCES:
        raise DataError("unknown reference model", parameter="reference", value=name, allowed=f"one of {list(REFERENCES)}")
    u = mc_input(int(mc_frames), seed=int(seed))
    if name == "linear":
        f_train, f_test, mc_states = task.x_train, task.x_test, u[:, None]
    else:
        esn = EchoStateNetwork(n_units=int(n_units), seed=int(seed))
        f_train = esn.states(task.x_train, task.len_train)
        f_test = esn.states(task.x_test, task.len_test)
        mc_states = esn.states(u[None, :, None])[0]
    out = _task_metric(task, f_train, f_test, n_bins=n_bins, readout=readout)
    mc = memory_capacity(mc_states, u, max_delay=mc_max_delay, washout=mc_washout, seed=int(seed))
    out.update({"mc": float(mc.mc), "model": REFERENCES[name]})
    return out
