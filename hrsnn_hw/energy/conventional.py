"""The conventional baseline: a non-spiking model trained on the same data, priced on a CPU or GPU.

The project's echo-state network (:mod:`hrsnn_hw.nonspiking`, the ablation's reference too)
of ``n_units`` leaky tanh units reads the task's frames (the series the spike encoder sees,
one frame per update, not one per SNN step); the project's readout, fitted on the training
split, gives its task metric.
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


#: Largest reservoir the energy baseline builds: the ESN's weights are dense and its spectral radius
#: is an O(N^3) eigenvalue problem, so a scaled-up spiking design is compared with an ESN of at most this size.
MAX_UNITS = 500


def train_esn(task, *, n_units: int = 200, seed: int = 0, n_bins: int = 3, readout: str = "ridge") -> ConventionalModel:
    """The project's echo-state reference (:class:`hrsnn_hw.nonspiking.EchoStateNetwork`) trained on
    ``task`` with the project's readout (the ablation's ESN reference, scored the same way), with
    the work it does per input frame.

    Parameters
    ----------
    task : TaskData
        Inputs in [0, 1], one row per frame.
    n_units : int
        Reservoir size (default: the reference SNN's 200 neurons); capped at :data:`MAX_UNITS`.
    seed : int
        Reservoir instance.
    n_bins, readout
        Classification features and readout, as for the spiking network.
    """
    from ..nonspiking import EchoStateNetwork, binned_frames
    from ..tasks.readout import evaluate_classification, evaluate_prediction
    if isinstance(n_units, bool) or int(n_units) != n_units or n_units < 1:
        raise HrsnnError("the reservoir needs at least one unit", parameter="n_units", value=n_units,
                         allowed="integers >= 1")
    notes = []
    if n_units > MAX_UNITS:
        notes.append(f"reservoir capped at {MAX_UNITS} units (asked {n_units}): its spectral radius is an O(N^3) "
                     "problem and its weights are dense")
        n_units = MAX_UNITS
    esn = EchoStateNetwork(n_units=int(n_units), seed=int(seed))
    n_channels = int(task.x_train.shape[2])
    nnz = int(np.count_nonzero(esn.weights(n_channels)[0]))
    s_tr, s_te = esn.states(task.x_train, task.len_train), esn.states(task.x_test, task.len_test)
    if task.kind == "classification":
        res = evaluate_classification(binned_frames(s_tr, task.len_train, n_bins), task.y_train,
                                      binned_frames(s_te, task.len_test, n_bins), task.y_test, readout=readout)
        name, metric, train_metric = "accuracy", float(res["accuracy"]), float(res["train_accuracy"])
        n_classes = int(len(task.class_names) or (int(np.max(task.y_train)) + 1))
        n_features = n_bins * n_units
        readout_macs, per_frame, n_out = float(n_features * n_classes + n_features), False, n_classes
        readout_note = (f"readout once per inference: {n_features} features x {n_classes} classes MACs "
                        f"+ {n_features} for the bin means")
    else:
        washout = int(task.metadata.get("suggested_washout", 0))
        res = evaluate_prediction(s_tr, task.y_train, s_te, task.y_test, task.horizon, washout=washout,
                                  len_train=task.len_train, len_test=task.len_test)
        name, metric, train_metric = "nrmse", float(res["nrmse"]), float(res["train_nrmse"])
        n_out = int(np.asarray(task.y_train).shape[-1]) if np.asarray(task.y_train).ndim == 3 else 1
        readout_macs, per_frame = float(n_units * n_out), True
        readout_note = f"readout every frame: {n_units} units x {n_out} outputs MACs"
    macs_per_frame = float(n_units * n_channels + nnz + 2 * n_units)
    notes += [f"echo-state network (hrsnn_hw.nonspiking), {n_units} tanh units, recurrent density {esn.density}, "
              f"spectral radius {esn.spectral_radius}, leak {esn.leak}: one update per input frame",
              f"MACs per frame = {n_units} x {n_channels} + {nnz} + 2 x {n_units} = {macs_per_frame:.0f}",
              readout_note]
    return ConventionalModel(name="esn", task=task.name, n_units=int(n_units), n_channels=n_channels, n_outputs=n_out,
                             n_recurrent_weights=nnz, macs_per_frame=macs_per_frame, readout_macs=readout_macs,
                             readout_per_frame=per_frame, frames=np.asarray(task.len_test), task_metric_name=name,
                             task_metric=metric, train_metric=train_metric,
                             params={"density": esn.density, "spectral_radius": esn.spectral_radius, "leak": esn.leak,
                                     "input_scaling": esn.input_scaling, "seed": int(seed), "n_bins": n_bins},
                             notes=tuple(notes))


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
