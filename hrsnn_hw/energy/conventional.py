"""The conventional baseline: a non-spiking model trained on the same data, priced on a CPU or GPU.

An echo-state network (ESN) of ``n_units`` leaky tanh units reads the task's frames (the
series the spike encoder sees, one frame per step of the ESN, not one per SNN step); a
linear readout (the project's readouts, fitted on the training split) gives its task metric.
Its work per input frame, in multiply-accumulates (MACs)::

    MACs per frame = n_units x channels (input weights, dense)
                     + nnz(W_rec) (sparse recurrent weights)
                     + 2 x n_units (the leaky blend and the nonlinearity, one op each)

plus the readout once per inference (classification: features x classes) or once per frame
(prediction: units x outputs). Priced per MAC at batch size 1 (the profile's
``mac_batch1``: a measured inference energy over its MACs) and at a stated batch size (the
profile's ``mac``: peak throughput per watt, valid when the batch fills the device).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import scipy.sparse

from .. import artifacts
from ..errors import HrsnnError
from ..profiles import HardwareProfile, load_profile
from .estimate import _Prices, _band
from .report import EnergyReport


@artifacts.artifact("hrsnn_hw.ConventionalModel", 1)
@dataclass(frozen=True)
class ConventionalModel:
    """A trained non-spiking baseline and the work it does per inference.

    Attributes
    ----------
    name : str
        ``"esn"``.
    task : str
        Task it was trained and scored on.
    n_units, n_channels, n_outputs, n_recurrent_weights : int
        Reservoir units, input channels per frame, readout outputs, nonzero recurrent weights.
    macs_per_frame : float
        See the module docstring.
    readout_macs : float
        Readout MACs per inference (classification) or per frame (prediction).
    readout_per_frame : bool
        True for prediction tasks.
    frames : ndarray of int64, shape (n_test,)
        Input frames of every test sample (one inference each).
    task_metric_name : str
        ``"accuracy"`` or ``"nrmse"``.
    task_metric, train_metric : float
        On the test and training splits.
    params : dict
        Reservoir hyper-parameters and seed.
    notes : tuple of str
    """

    name: str
    task: str
    n_units: int
    n_channels: int
    n_outputs: int
    n_recurrent_weights: int
    macs_per_frame: float
    readout_macs: float
    readout_per_frame: bool
    frames: np.ndarray
    task_metric_name: str
    task_metric: float
    train_metric: float
    params: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        arr = np.array(self.frames, dtype=np.int64, copy=True)
        arr.setflags(write=False)
        object.__setattr__(self, "frames", arr)
        object.__setattr__(self, "notes", tuple(self.notes))

    def macs_per_sample(self) -> np.ndarray:
        """MACs of every test inference."""
        readout = self.readout_macs * (self.frames if self.readout_per_frame else 1)
        return self.frames * self.macs_per_frame + readout

    @property
    def macs_per_inference(self) -> float:
        return float(self.macs_per_sample().mean()) if self.frames.size else 0.0


def _reservoir(n_units: int, n_channels: int, density: float, spectral_radius: float, input_scale: float,
               seed: int) -> tuple[np.ndarray, scipy.sparse.csr_matrix, np.ndarray]:
    rng = np.random.default_rng([seed, 0xE5])
    w_in = rng.uniform(-input_scale, input_scale, (n_units, n_channels))
    w = scipy.sparse.random(n_units, n_units, density=density, random_state=rng,
                            data_rvs=lambda k: rng.uniform(-1.0, 1.0, k), format="csr")
    radius = _spectral_radius(w)
    if radius > 0:
        w = w * (spectral_radius / radius)
    bias = rng.uniform(-0.2, 0.2, n_units)
    return w_in, w.tocsr(), bias


def _spectral_radius(w: scipy.sparse.csr_matrix) -> float:
    """Largest |eigenvalue|: dense for small reservoirs, ARPACK (O(nnz) per iteration) for large ones."""
    if not w.nnz:
        return 0.0
    if w.shape[0] <= 400:
        return float(np.max(np.abs(np.linalg.eigvals(w.toarray()))))
    import scipy.sparse.linalg
    try:
        vals = scipy.sparse.linalg.eigs(w, k=1, which="LM", return_eigenvectors=False, tol=1e-6, maxiter=20000,
                                        v0=np.ones(w.shape[0]))
    except scipy.sparse.linalg.ArpackNoConvergence as exc:
        vals = exc.eigenvalues
    if len(vals) == 0:
        return float(np.max(np.abs(np.linalg.eigvals(w.toarray()))))
    return float(np.max(np.abs(vals)))


def _states(x: np.ndarray, lengths: np.ndarray, w_in: np.ndarray, w: scipy.sparse.csr_matrix, bias: np.ndarray,
            leak: float) -> np.ndarray:
    """Reservoir state after every frame, (n, T, units); zero past each sample's length."""
    n, t_max, _ = x.shape
    h = np.zeros((n, w.shape[0]))
    out = np.zeros((n, t_max, w.shape[0]))
    drive = x @ w_in.T + bias
    w_t = w.T.tocsr()
    for t in range(t_max):
        pre = drive[:, t] + h @ w_t
        h = (1 - leak) * h + leak * np.tanh(pre)
        h[t >= lengths] = 0.0
        out[:, t] = h
    return out


def _binned(states: np.ndarray, lengths: np.ndarray, n_bins: int) -> np.ndarray:
    """Mean state in ``n_bins`` equal bins of each sample's valid frames, bin-major."""
    n, _, units = states.shape
    out = np.zeros((n, n_bins, units))
    csum = np.concatenate([np.zeros((n, 1, units)), np.cumsum(states, axis=1)], axis=1)
    for i in range(n):
        edges = np.round(np.linspace(0, lengths[i], n_bins + 1)).astype(int)
        for k in range(n_bins):
            a, b = edges[k], edges[k + 1]
            if b > a:
                out[i, k] = (csum[i, b] - csum[i, a]) / (b - a)
    return out.reshape(n, n_bins * units)


def _binned_features(x: np.ndarray, lengths: np.ndarray, w_in, w, bias, leak: float, n_bins: int,
                     chunk: int = 64) -> np.ndarray:
    """Mean state in ``n_bins`` equal bins of each sample's frames, bin-major; samples in chunks (bounded memory)."""
    return np.concatenate([_binned(_states(x[i:i + chunk], lengths[i:i + chunk], w_in, w, bias, leak),
                                   lengths[i:i + chunk], n_bins) for i in range(0, x.shape[0], chunk)], axis=0)


def train_esn(task, *, n_units: int = 200, fan_in: int = 20, spectral_radius: float = 0.9, leak: float = 0.3,
              input_scale: float = 1.0, seed: int = 0, n_bins: int = 3, readout: str = "ridge") -> ConventionalModel:
    """Train an echo-state network's readout on ``task`` (a :class:`~hrsnn_hw.tasks.datasets.TaskData`).

    Parameters
    ----------
    task : TaskData
        Inputs in [0, 1], one row per frame.
    n_units : int
        Reservoir size (default: the reference SNN's 200 neurons).
    fan_in : int
        Expected recurrent inputs per unit (density ``fan_in / n_units``: the work per frame
        grows linearly with the size, as the SNN's designs keep their fan-in when scaled).
    spectral_radius, leak, input_scale : float
        Spectral radius of the recurrent matrix, leak rate of the units, input weights' range.
    seed : int
        Reservoir instance.
    n_bins : int
        Classification features: mean state in this many time bins (as the SNN's spike counts).
    readout : str
        Classification readout (see :func:`hrsnn_hw.tasks.readout.evaluate_classification`).
    """
    from ..tasks.readout import evaluate_classification, evaluate_prediction
    if isinstance(n_units, bool) or int(n_units) != n_units or n_units < 1:
        raise HrsnnError("the reservoir needs at least one unit", parameter="n_units", value=n_units,
                         allowed="integers >= 1")
    if not 0 < leak <= 1:
        raise HrsnnError("leak must lie in (0, 1]", parameter="leak", value=leak, allowed="(0, 1]")
    if isinstance(fan_in, bool) or int(fan_in) != fan_in or fan_in < 1:
        raise HrsnnError("fan-in must be a positive whole number", parameter="fan_in", value=fan_in,
                         allowed="integers >= 1")
    density = min(1.0, fan_in / n_units)
    n_channels = int(task.x_train.shape[2])
    w_in, w, bias = _reservoir(int(n_units), n_channels, density, spectral_radius, input_scale, seed)
    if task.kind == "classification":
        f_tr = _binned_features(task.x_train, task.len_train, w_in, w, bias, leak, n_bins)
        f_te = _binned_features(task.x_test, task.len_test, w_in, w, bias, leak, n_bins)
        res = evaluate_classification(f_tr, task.y_train, f_te, task.y_test, readout=readout)
        n_classes = int(len(task.class_names) or (int(np.max(task.y_train)) + 1))
        metric, train_metric, name = float(res["accuracy"]), float(res["train_accuracy"]), "accuracy"
        readout_macs, per_frame, n_out = float(f_tr.shape[1] * n_classes + f_tr.shape[1]), False, n_classes
        readout_note = (f"readout once per inference: {f_tr.shape[1]} features x {n_classes} classes MACs "
                        f"+ {f_tr.shape[1]} for the bin means")
    else:
        washout = int(task.metadata.get("suggested_washout", 0))
        s_tr = _states(task.x_train, task.len_train, w_in, w, bias, leak)
        s_te = _states(task.x_test, task.len_test, w_in, w, bias, leak)
        res = evaluate_prediction(s_tr, task.y_train, s_te, task.y_test, task.horizon, washout=washout,
                                  len_train=task.len_train, len_test=task.len_test)
        n_out = int(np.asarray(task.y_train).shape[-1]) if np.asarray(task.y_train).ndim == 3 else 1
        metric, train_metric, name = float(res["nrmse"]), float(res["train_nrmse"]), "nrmse"
        readout_macs, per_frame = float(n_units * n_out), True
        readout_note = f"readout every frame: {n_units} units x {n_out} outputs MACs"
    macs_per_frame = float(n_units * n_channels + w.nnz + 2 * n_units)
    notes = (f"echo-state network, {n_units} tanh units, recurrent density {density:.3g} (fan-in {fan_in}), spectral radius "
             f"{spectral_radius}, leak {leak}: one update per input frame",
             f"MACs per frame = {n_units} x {n_channels} + {w.nnz} + 2 x {n_units} = {macs_per_frame:.0f}",
             readout_note)
    return ConventionalModel(name="esn", task=task.name, n_units=int(n_units), n_channels=n_channels, n_outputs=n_out,
                             n_recurrent_weights=int(w.nnz), macs_per_frame=macs_per_frame, readout_macs=readout_macs,
                             readout_per_frame=per_frame, frames=np.asarray(task.len_test), task_metric_name=name,
                             task_metric=metric, train_metric=train_metric,
                             params={"fan_in": fan_in, "density": density, "spectral_radius": spectral_radius, "leak": leak,
                                     "input_scale": input_scale, "seed": seed, "n_bins": n_bins},
                             notes=notes)


def price_conventional(model: ConventionalModel, profile: HardwareProfile | str, *,
                       batch_size: int = 1) -> EnergyReport:
    """Dynamic energy per inference of ``model`` on a conventional ``profile`` at ``batch_size``.

    Batch 1 uses ``energy.mac_batch1`` (measured at batch 1); a larger batch uses
    ``energy.mac`` (peak per-MAC energy, reached only when the batch fills the device: the
    report says which batch it assumed).
    """
    prof = load_profile(profile)
    if prof.kind != "conventional":
        raise HrsnnError("a non-spiking model is priced on a conventional profile", parameter="profile",
                         value=prof.name, allowed="cpu, gpu or another conventional profile")
    if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1:
        raise HrsnnError("batch size must be a positive whole number", parameter="batch_size", value=batch_size,
                         allowed="1, 2, 3, ...")
    prices = _Prices(prof)
    pv = prices.get("mac_batch1" if batch_size == 1 else "mac")
    macs = model.macs_per_sample().astype(np.float64)
    terms = _band(pv)[:, None] * macs[None, :]
    notes = list(model.notes)
    notes.append(f"batch size {batch_size}: " + ("per-MAC energy measured at batch 1 (fixed per-inference "
                                                   "overheads included)" if batch_size == 1 else
                                                   "peak per-MAC energy, assuming the batch fills the device"))
    notes.append("dynamic energy only: static power is excluded by the sources")
    for key, info in prices.used.items():
        notes.append(f"{key}: {info['note']}" if info.get("note") else key)
    dyn = {"mac": float(terms[0].mean())}
    return EnergyReport(design=model.name, profile=prof.name, model="conventional", dynamic=dyn,
                        dynamic_low={"mac": float(terms[1].mean())}, dynamic_high={"mac": float(terms[2].mean())},
                        static_j=None, static_low_j=None, static_high_j=None, static_convention=prof.static_model,
                        time_model="none", time_per_step_s=0.0, compute_time_per_step_s=0.0, latency_s=0.0,
                        latency_band_s=(0.0, 0.0), per_sample_dynamic=terms[0], by_core=np.zeros(0),
                        unattributed=dyn["mac"], n_cores=0, n_tiles=0, n_chips=0, batch_size=int(batch_size),
                        counts={"macs": model.macs_per_inference, "macs_per_frame": model.macs_per_frame,
                                "frames": float(model.frames.mean()) if model.frames.size else 0.0},
                        prices=prices.used, comparable=False,
                        comparability="a non-spiking model; dynamic energy only (static excluded by the source)",
                        task={"name": model.task_metric_name, "value": model.task_metric},
                        assumptions=tuple(notes))
