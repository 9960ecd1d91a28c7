"""Train and measure one design on one task: MC, spiking activity, E and the task metric.

This is the measurement every report rests on (the README's comparison, the 2x2
ablation, the optimiser's objective, the pipeline). The simulator is a parameter
(:class:`Simulator`): the Brian2 float reference by default, or any callable that maps an
input raster to a :class:`~hrsnn_hw.records.SpikeRecord` (the fixed-point golden model, Lava).

Definitions (after Chakraborty & Mukhopadhyay, ICLR 2023, and Jaeger 2001 for MC):

* memory capacity MC (``mc_protocol="current"``, :mod:`hrsnn_hw.tasks.mc_drive`): the trained
  network's input projections are replaced by a fixed, task-independent current drive, i.i.d.
  uniform u(t) held for each frame through weights well below threshold plus a background
  current (stated as fractions of the threshold); the state of frame t is the spike count of
  every neuron during that frame (no extra filtering, so the memory measured is the
  network's own; ``mc_traces`` reports exponentially filtered traces too); one RidgeCV readout
  per delay k = 1..K reconstructs u(t - k); MC = sum of held-out squared correlations minus
  their chance level (time-shuffled targets). ``mc_protocol="thermometer"`` is the former
  protocol (u thermometer-coded onto the task's input channels, K = 20, no chance correction);
* spiking activity S: spikes per neuron per time step during the MC drive (the same run
  that MC is measured on); ``task_activity`` is the same figure on the task's test set;
* E = MC / S;
* task metric: accuracy (classification) or NRMSE at the task's horizon (prediction) of a
  ridge readout on spike-count features of the test split, fitted on the training split.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import asdict, dataclass, field, replace
from types import MappingProxyType
from typing import Any, Callable, Mapping

import numpy as np

from . import artifacts
from .arrays import frozen_array
from .encoding import EncodedInput, encode
from .errors import ArtifactError, DataError
from .io import to_jsonable
from .records import SpikeRecord
from .spec import INPUT, NetworkSpec, build_spec, read_spec_file
from .tasks import load_task
from .tasks.datasets import TaskData
from .tasks.features import binned_counts, frame_states
from .tasks.firing import firing_statistics
from .tasks.mc_drive import McDrive, drive_network, drive_payloads
from .tasks.memory_capacity import mc_input, memory_capacity
from .tasks.metrics import spike_efficiency
from .tasks.readout import evaluate_classification, evaluate_prediction

Simulator = Callable[[np.ndarray, np.ndarray], SpikeRecord]


#: The encoder ``encoding="auto"`` picks, by task kind.
AUTO_ENCODING: dict[str, tuple[str, dict]] = {
    "classification": ("level_crossing", {"delta": 0.1, "initial": "zero"}),
    "prediction": ("thermometer", {"n_per_channel": 12}),
}


@dataclass(frozen=True)
class ExperimentConfig:
    """How a design is trained and measured.

    Attributes
    ----------
    task : str
        Task name (see :func:`hrsnn_hw.tasks.load_task`) or a path to a user data file.
    encoding : str
        Encoder of the task's series (``"level_crossing"``, ``"send_on_delta"``, ``"rate"``,
        ``"population"``, ``"thermometer"``), or ``"auto"``: :data:`AUTO_ENCODING` by task kind
        (sparse level crossing for classification; a 12-level thermometer per channel for
        prediction, whose one or three channels would otherwise give the network too few inputs).
    encoding_options : dict
        Encoder options (e.g. ``{"delta": 0.1}``); with ``"auto"``, overrides of its options.
    steps_per_frame : int
        Simulation steps each input frame is held for.
    epochs : int
        Unsupervised STDP epochs over the training split.
    n_stdp_samples : int or None
        Training samples presented during STDP per epoch (None: all).
    n_bins : int
        Time bins of the spike-count features of a classification sample.
    mc_protocol : {"current", "thermometer"}
        The memory-capacity drive: the task-independent current drive (default) or the former
        thermometer code on the task's input channels (kept for comparison).
    mc_frames, mc_washout, mc_max_delay : int
        Length of the memory-capacity drive (frames), frames dropped at its start, and K.
    mc_drive, mc_background : float
        Current-drive swing and background, fractions of each neuron's threshold
        (:class:`~hrsnn_hw.tasks.mc_drive.McDrive`).
    mc_payload_bits : int
        Bits of the drive's graded payloads.
    mc_shuffles : int
        Shuffled-target fits averaged into the chance level (0: no chance correction).
    readout : str
        ``"ridge"`` or ``"logistic"`` (classification).
    target : str or None
        Brian2 code-generation target (None: chosen by workload size).
    quick : bool
        Small task subset and short MC drive.
    """

    task: str = "japanese_vowels"
    encoding: str = "auto"
    encoding_options: Mapping[str, Any] = field(default_factory=dict)
    steps_per_frame: int = 5
    epochs: int = 1
    n_stdp_samples: int | None = None
    n_bins: int = 3
    mc_protocol: str = "current"
    mc_frames: int = 3000
    mc_washout: int = 50
    mc_max_delay: int = 100
    mc_drive: float = 0.5
    mc_background: float = 0.4
    mc_payload_bits: int = 8
    mc_shuffles: int = 1
    readout: str = "ridge"
    target: str | None = None
    quick: bool = False

    @classmethod
    def default(cls, quick: bool = False, **overrides: Any) -> "ExperimentConfig":
        """The documented default, or its quick variant (subset of the task, short MC drive)."""
        if quick:
            base = cls(quick=True, mc_frames=1200, mc_washout=30, mc_max_delay=40, n_stdp_samples=40)
        else:
            base = cls()
        return replace(base, **overrides)

    def as_dict(self) -> dict:
        out = asdict(self)
        out["encoding_options"] = dict(self.encoding_options)
        return out


@dataclass(frozen=True)
class PreparedTask:
    """A task with its encoded train and test rasters."""

    task: TaskData
    train: EncodedInput
    test: EncodedInput
    config: ExperimentConfig
    seed: int

    @property
    def n_input(self) -> int:
        return int(self.train.n_channels)


def prepare_task(config: ExperimentConfig, seed: int = 0) -> PreparedTask:
    """Load and encode a task (deterministic for ``seed``)."""
    task = load_task(config.task, quick=config.quick)
    method, opts = config.encoding, dict(config.encoding_options)
    if method == "auto":
        method, defaults = AUTO_ENCODING[task.kind]
        opts = {**defaults, **opts}
    enc_train = encode(task.x_train, task.len_train, method, config.steps_per_frame, seed=seed, **opts)
    enc_test = encode(task.x_test, task.len_test, method, config.steps_per_frame, seed=seed + 1_000_003, **opts)
    return PreparedTask(task=task, train=enc_train, test=enc_test, config=config, seed=seed)


def load_design(design: str | Mapping[str, Any]) -> dict:
    """A design dict from a path or a dict (copied)."""
    if isinstance(design, Mapping):
        return dict(design)
    return read_spec_file(design)


def make_spec(design: str | Mapping[str, Any], n_input: int, seed: int | None) -> NetworkSpec:
    """Sample a design for a task's input width; ``seed`` selects the network instance."""
    return build_spec(load_design(design), n_input=n_input, seed=seed)


@dataclass(frozen=True)
class Brian2Simulator:
    """A :data:`Simulator` running ``spec`` (frozen) on the Brian2 reference (backend ``"brian2"``;
    no target given: chosen by the size of the run).

    ``on(other_spec)`` is the same backend on another network (the memory-capacity drive
    replaces the input projections, :func:`measure_memory`).
    """

    network: NetworkSpec
    target: str | None = None

    def __call__(self, spikes: np.ndarray, lengths: np.ndarray) -> SpikeRecord:
        from .backends import simulate
        return simulate(self.network, spikes, lengths, backend="brian2",
                        **({"target": self.target} if self.target else {}))

    def on(self, spec: NetworkSpec) -> "Brian2Simulator":
        return replace(self, network=spec)


@dataclass(frozen=True)
class GoldenSimulator:
    """A :data:`Simulator` running a quantized network on the fixed-point golden model (backend ``"golden"``).

    ``network`` is the float spec ``qnet`` was quantized from; ``on(other_spec)`` quantizes
    another network (the memory-capacity drive) for the same profile with the same policy at
    the same voltage scale, so neurons and recurrent weights get the same integers and the
    drive becomes one more (graded) input projection.
    """

    qnet: Any
    network: NetworkSpec

    def __call__(self, spikes: np.ndarray, lengths: np.ndarray) -> SpikeRecord:
        from .backends import simulate
        return simulate(self.qnet, spikes, lengths, backend="golden")

    @property
    def graded_input(self) -> bool:
        """Whether this golden model and the network's profile take graded (integer) payloads."""
        from .golden.validate import check_inputs
        probe = np.full((1, 1, self.qnet.n_input), 2, dtype=np.int64)
        try:
            check_inputs(self.qnet, probe, None)
        except DataError:
            return False
        return True

    def on(self, spec: NetworkSpec) -> "GoldenSimulator":
        from .quantize import QuantizationPolicy, quantize
        prov = dict(self.qnet.provenance)
        # Not strict for the drive network: the quantizer judges a weight by what one binary spike
        # delivers, and a drive weight per payload unit is far below that although the summed
        # payload is delivered (float and fixed activity agree under the drive); the task network
        # itself was quantized under the caller's policy.
        policy = QuantizationPolicy(**{**dict(prov.get("policy") or {}), "v_scale": float(self.qnet.v_scale),
                                       "strict": False})
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            qnet, _ = quantize(spec, prov["profile"], policy)
        # Drop the false "weights round to 0" of the drive's input projections (see above), and what
        # the task network's own quantization already said about the parts the two networks share
        # (same neurons, same recurrent weights, same v_scale: a repeat, printed twice otherwise);
        # anything else the drive network's quantization says is passed on.
        shared = {f"projections.{p.name}" for p in self.network.projections if p.pre != INPUT} | \
            {f"populations.{p.name}" for p in self.network.populations}
        for w in caught:
            parameter = str(getattr(w.message, "parameter", "") or "")
            if parameter.startswith(f"projections.{INPUT}->") or \
                    any(parameter == part or parameter.startswith(part + ".") for part in shared):
                continue
            warnings.warn(w.message, w.category, stacklevel=2)
        return replace(self, qnet=qnet, network=spec)


def golden_simulator(qnet: Any, spec: NetworkSpec) -> GoldenSimulator:
    """A :data:`Simulator` running ``qnet`` (quantized from ``spec``) on the golden model."""
    return GoldenSimulator(qnet=qnet, network=spec)


def brian2_simulator(spec: NetworkSpec, target: str | None = None) -> Brian2Simulator:
    """A :data:`Simulator` running ``spec`` (frozen) on the Brian2 reference."""
    return Brian2Simulator(network=spec, target=target)


def train_spec(spec: NetworkSpec, prepared: PreparedTask, *, seed: int = 0, progress: bool = False):
    """Unsupervised STDP training on the (unlabelled) training split; returns a TrainedNetwork."""
    from .refsim import SimulatorConfig, train

    cfg = prepared.config
    x, lengths = prepared.train.spikes, prepared.train.sample_lengths
    if cfg.n_stdp_samples is not None and cfg.n_stdp_samples < x.shape[0]:
        pick = np.random.default_rng([seed, 7]).choice(x.shape[0], cfg.n_stdp_samples, replace=False)
        pick.sort()
        x, lengths = x[pick], lengths[pick]
    steps = int(lengths.sum()) * cfg.epochs
    sim_cfg = (SimulatorConfig(target=cfg.target) if cfg.target
               else SimulatorConfig.auto(steps, neuron_steps=spec.n_neurons * steps))
    trained = train(spec, x, lengths, epochs=cfg.epochs, config=sim_cfg, seed=seed, progress=progress)
    return trained


def thermometer_raster(u: np.ndarray, n_channels: int, steps_per_frame: int) -> np.ndarray:
    """Deterministic thermometer code of a scalar series in [0, 1] on ``n_channels`` channels
    (see :func:`hrsnn_hw.encoding.thermometer`): the number of active channels is a linear
    function of u, and no encoder noise hides the network's own memory."""
    from .encoding import thermometer
    return thermometer(np.asarray(u, dtype=np.float64).reshape(1, -1, 1), np.array([u.size]), n_channels,
                       steps_per_frame)


def mc_drive(n_input: int, config: ExperimentConfig, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The memory-capacity input u(t) (one i.i.d. uniform value per frame), its raster and length.

    ``mc_protocol="current"``: integer payloads of the three drive channels
    (:func:`~hrsnn_hw.tasks.mc_drive.drive_payloads`, ``n_input`` is not used);
    ``"thermometer"``: u thermometer-coded on ``n_input`` channels.
    """
    u = mc_input(config.mc_frames, seed=seed)
    if config.mc_protocol == "thermometer":
        raster = thermometer_raster(u, n_input, config.steps_per_frame)
    else:
        raster = drive_payloads(u, mc_drive_of(config), config.steps_per_frame)
    return u, raster, np.array([raster.shape[1]])


def mc_drive_of(config: ExperimentConfig) -> McDrive:
    """The current drive's stated scales from a config."""
    return McDrive(drive=config.mc_drive, background=config.mc_background, payload_bits=config.mc_payload_bits)


def frame_counts(record: SpikeRecord, steps_per_frame: int) -> np.ndarray:
    """Spike counts per neuron and frame of a one-sample record, shape (n_frames, n_neurons)."""
    n_frames = int(record.sample_lengths[0]) // steps_per_frame
    spikes = record.spikes[0, : n_frames * steps_per_frame]
    return spikes.reshape(n_frames, steps_per_frame, -1).sum(axis=1, dtype=np.int64).astype(np.float64)


MC_PROTOCOLS = ("current", "thermometer")


def measure_memory(simulator: Simulator, n_input: int, config: ExperimentConfig, seed: int) -> dict:
    """MC and spiking activity of a (frozen) network under the MC drive.

    With ``mc_protocol="current"`` the simulator must be able to run the drive network:
    a :class:`Brian2Simulator` or :class:`GoldenSimulator` (``.network`` and ``.on(spec)``).

    Returns
    -------
    dict
        ``mc`` (chance-corrected, frame spike counts), ``mc_raw``, ``mc_chance``,
        ``mc_per_delay`` (corrected), ``mc_per_delay_raw``, ``mc_per_delay_chance``, ``mc_traces``
        and ``mc_per_delay_traces`` (exponentially filtered traces, tau = one frame),
        ``mc_protocol``, ``activity``, ``firing`` (:func:`~hrsnn_hw.tasks.firing.firing_statistics`
        under the drive), ``mc_total_spikes``, ``mc_steps`` and the ``record``.
    """
    if config.mc_protocol not in MC_PROTOCOLS:
        raise DataError("unknown memory-capacity protocol", parameter="mc_protocol", value=config.mc_protocol,
                        allowed=f"one of {list(MC_PROTOCOLS)}")
    if config.mc_protocol == "current" and getattr(simulator, "graded_input", True) is False:
        # Binary-spike hardware (Loihi 1), or a golden model without graded input: the current
        # drive cannot run there. Measured with the former protocol instead, and labelled so.
        warnings.warn("the current MC drive needs graded (integer) input, which this fixed-point model or "
                      "profile does not take; MC measured with mc_protocol='thermometer' (labelled in the result)",
                      stacklevel=2)
        config = replace(config, mc_protocol="thermometer")
    u, raster, lengths = mc_drive(n_input, config, seed)
    if config.mc_protocol == "current":
        network = getattr(simulator, "network", None)
        if not (isinstance(network, NetworkSpec) and callable(getattr(simulator, "on", None))):
            raise DataError("the current MC drive needs a simulator that can run the drive network",
                            parameter="simulator", value=type(simulator).__name__,
                            allowed="Brian2Simulator or GoldenSimulator (experiment.brian2_simulator, golden_simulator)",
                            hint="or set mc_protocol='thermometer' (the former protocol) for a plain callable")
        run = simulator.on(drive_network(network, mc_drive_of(config), seed=seed))
        record = run(raster, lengths)
        refractory = network.neuron_param("refractory")
        max_rate = 1.0 / (1.0 + np.rint(refractory / network.dt))
    else:
        record = simulator(raster, lengths)
        max_rate = 1.0
    spf = config.steps_per_frame
    counts = frame_counts(record, spf)
    kw = dict(max_delay=config.mc_max_delay, washout=config.mc_washout, seed=seed)
    if config.mc_protocol == "thermometer":
        kw.update(max_delay=min(config.mc_max_delay, 20), n_shuffles=0)
    else:
        kw.update(n_shuffles=config.mc_shuffles)
    by_counts = memory_capacity(counts, u, **kw)
    traces = frame_states(record, spf, float(spf))[0][: counts.shape[0]]
    by_traces = memory_capacity(traces, u, **kw)
    return {"mc": float(by_counts.mc), "mc_raw": by_counts.mc_raw, "mc_chance": by_counts.mc_chance,
            "mc_per_delay": by_counts.per_delay.tolist(), "mc_per_delay_raw": by_counts.per_delay_raw.tolist(),
            "mc_per_delay_chance": by_counts.per_delay_chance.tolist(),
            "mc_traces": float(by_traces.mc), "mc_per_delay_traces": by_traces.per_delay.tolist(),
            "mc_protocol": config.mc_protocol, "activity": record.activity(),
            "firing": firing_statistics(record, max_rate=max_rate),
            "mc_total_spikes": int(record.spikes.sum()), "mc_steps": int(record.sample_lengths.sum()),
            "record": record}


#: Keys of :func:`measure_memory`'s result that are fields of :class:`MemoryMeasurement`.
_MEMORY_FIELDS = ("mc", "mc_per_delay", "activity", "mc_total_spikes", "mc_steps")


@artifacts.node("hrsnn_hw.MemoryMeasurement")
@dataclass(frozen=True)
class MemoryMeasurement:
    """What the memory-capacity run of a frozen network measured.

    Attributes
    ----------
    mc : float
        Memory capacity (sum of ``mc_per_delay``, as the protocol defines it).
    mc_per_delay : ndarray of float64, shape (K,)
        Held-out r^2 for delays 1..K.
    activity : float
        Spikes per neuron per step during the MC drive (the activity E is computed with).
    total_spikes, steps : int
        Spikes and simulated steps of the MC drive.
    details : mapping
        Further figures of the MC protocol (JSON-like values or arrays), by name.
    """

    mc: float
    mc_per_delay: np.ndarray
    activity: float
    total_spikes: int
    steps: int
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "mc_per_delay", frozen_array(self.mc_per_delay, np.float64))
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))
        if self.mc_per_delay.ndim != 1:
            raise ArtifactError("mc_per_delay must be 1-D", parameter="mc_per_delay", value=self.mc_per_delay.shape)
        if not (np.isfinite(self.activity) and self.activity >= 0):
            raise ArtifactError("activity must be a finite number >= 0", parameter="activity", value=self.activity)


@artifacts.node("hrsnn_hw.TaskMeasurement")
@dataclass(frozen=True)
class TaskMeasurement:
    """The task metric of a frozen network (readout fitted on the train split, scored on test).

    Attributes
    ----------
    task, kind : str
        Task name and ``"classification"`` or ``"prediction"``.
    metric_name : str
        ``"accuracy"`` or ``"nrmse"``.
    higher_is_better : bool
    metric, train_metric : float
        Test and training value of the metric.
    activity : float
        Spikes per neuron per step on the test split.
    spikes_per_inference, steps_per_inference : float
        Mean spikes and steps per test sample.
    y_pred : ndarray
        The readout's test predictions (labels, or the scored frames' predicted values).
    horizon : int
        Prediction horizon in frames (0 for classification).
    """

    task: str
    kind: str
    metric_name: str
    higher_is_better: bool
    metric: float
    train_metric: float
    activity: float
    spikes_per_inference: float
    steps_per_inference: float
    y_pred: np.ndarray
    horizon: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "y_pred", frozen_array(self.y_pred))
        if self.kind not in ("classification", "prediction"):
            raise ArtifactError("unknown task kind", parameter="kind", value=self.kind,
                                allowed="'classification' or 'prediction'")


@artifacts.artifact("hrsnn_hw.Measurement", 1)
@dataclass(frozen=True)
class Measurement:
    """MC, activity, E and the task metric of one frozen network on one seed.

    Attributes
    ----------
    memory : MemoryMeasurement
    task : TaskMeasurement
    seed : int
        Seed of the MC drive (the network's seed is the caller's).
    backend : str
        Simulator that produced the records (``"brian2"``, ``"golden"``, ...), when it says.
    """

    memory: MemoryMeasurement
    task: TaskMeasurement
    seed: int
    backend: str = ""

    @property
    def mc(self) -> float:
        return self.memory.mc

    @property
    def activity(self) -> float:
        """Spikes per neuron per step under the MC drive."""
        return self.memory.activity

    @property
    def efficiency(self) -> float:
        """E = MC / activity (NaN for a silent network: never infinite)."""
        return float(spike_efficiency(self.memory.mc, self.memory.activity, on_zero="nan"))

    def scalars(self) -> dict[str, Any]:
        """The JSON-friendly numbers every report and the optimiser read, by their flat names
        (the MC protocol's scalar and table-valued details included; its curves are not)."""
        t = self.task
        out = {"mc": self.memory.mc, "activity": self.memory.activity, "efficiency": self.efficiency,
               "task_metric": t.metric, "task_metric_name": t.metric_name, "higher_is_better": t.higher_is_better,
               "train_metric": t.train_metric, "task_activity": t.activity,
               "spikes_per_inference": t.spikes_per_inference, "steps_per_inference": t.steps_per_inference}
        for key, value in self.memory.details.items():
            if key not in out and (isinstance(value, (bool, int, float, str, np.number)) or isinstance(value, Mapping)):
                out[key] = to_jsonable(value)
        return out

    def summary(self) -> dict[str, Any]:
        """:meth:`scalars` plus the per-delay MC curve, the MC protocol's details and the predictions
        (plain JSON types)."""
        out = self.scalars()
        out["mc_per_delay"] = self.memory.mc_per_delay.tolist()
        out["mc_details"] = to_jsonable(dict(self.memory.details))
        out["y_pred"] = self.task.y_pred.tolist()
        return out


@dataclass(frozen=True)
class MeasurementRecords:
    """The spike records a :class:`Measurement` was computed from (each saves itself)."""

    memory: SpikeRecord | None
    train: SpikeRecord
    test: SpikeRecord


def _memory_measurement(memory: Mapping[str, Any]) -> tuple["MemoryMeasurement", SpikeRecord | None]:
    """The typed form of :func:`measure_memory`'s result: its named numbers become fields, every
    other entry (protocol-specific figures) goes into ``details``."""
    details = {k: v for k, v in memory.items() if k not in _MEMORY_FIELDS and k != "record"}
    return MemoryMeasurement(mc=float(memory["mc"]), mc_per_delay=np.asarray(memory["mc_per_delay"], dtype=np.float64),
                             activity=float(memory["activity"]), total_spikes=int(memory["mc_total_spikes"]),
                             steps=int(memory["mc_steps"]), details=details), memory.get("record")


def _run_task(simulator: Simulator, prepared: PreparedTask) -> tuple["TaskMeasurement", SpikeRecord, SpikeRecord]:
    cfg = prepared.config
    task = prepared.task
    rec_train = simulator(prepared.train.spikes, prepared.train.sample_lengths)
    rec_test = simulator(prepared.test.spikes, prepared.test.sample_lengths)
    if task.kind == "classification":
        f_tr = binned_counts(rec_train, cfg.n_bins)
        f_te = binned_counts(rec_test, cfg.n_bins)
        res = evaluate_classification(f_tr, task.y_train, f_te, task.y_test, readout=cfg.readout)
        metric, name, higher, train_metric = res["accuracy"], "accuracy", True, res["train_accuracy"]
    else:
        tau = float(cfg.steps_per_frame)
        f_tr = frame_states(rec_train, cfg.steps_per_frame, tau)
        f_te = frame_states(rec_test, cfg.steps_per_frame, tau)
        washout = int(task.metadata.get("suggested_washout", 0))
        res = evaluate_prediction(f_tr, task.y_train, f_te, task.y_test, task.horizon, washout=washout,
                                  len_train=task.len_train, len_test=task.len_test)
        metric, name, higher, train_metric = res["nrmse"], "nrmse", False, res["train_nrmse"]
    result = TaskMeasurement(task=task.name, kind=task.kind, metric_name=name, higher_is_better=higher,
                             metric=float(metric), train_metric=float(train_metric),
                             activity=rec_test.activity(),
                             spikes_per_inference=float(rec_test.total_spikes_per_sample().mean()),
                             steps_per_inference=float(rec_test.sample_lengths.mean()),
                             y_pred=np.asarray(res["y_pred"]), horizon=int(task.horizon))
    return result, rec_train, rec_test


def measure_task(simulator: Simulator, prepared: PreparedTask) -> "TaskMeasurement":
    """Task metric of a frozen network: readout fitted on train features, scored on test."""
    return _run_task(simulator, prepared)[0]


def measure_with_records(simulator: Simulator, prepared: PreparedTask,
                         seed: int) -> tuple["Measurement", "MeasurementRecords"]:
    """:func:`measure` plus the spike records it was computed from (MC drive, train, test)."""
    memory, mc_record = _memory_measurement(measure_memory(simulator, prepared.n_input, prepared.config, seed))
    task, rec_train, rec_test = _run_task(simulator, prepared)
    backend = str(rec_test.provenance.get("backend", "")) if isinstance(rec_test.provenance, Mapping) else ""
    return (Measurement(memory=memory, task=task, seed=int(seed), backend=backend),
            MeasurementRecords(memory=mc_record, train=rec_train, test=rec_test))


def measure(simulator: Simulator, prepared: PreparedTask, seed: int) -> "Measurement":
    """MC, activity, E and the task metric of one frozen network (see :class:`Measurement`)."""
    return measure_with_records(simulator, prepared, seed)[0]


#: Control networks :func:`evaluate_design` can measure beside the trained one.
CONTROLS = ("untrained", "shuffled")


def shuffle_plastic_weights(spec: NetworkSpec, seed: int) -> NetworkSpec:
    """``spec`` with the weights of every STDP projection permuted across its synapses.

    Keeps each projection's weight distribution (and so its mean drive) and destroys which
    synapse learned what: the control that tells learned structure from learned statistics.
    Deterministic for ``seed``.
    """
    from .spec import shuffle_weights
    return shuffle_weights(spec, seed=int(seed))


def evaluate_design(design: str | Mapping[str, Any], task: str = "japanese_vowels", *, seed: int = 0,
                    quick: bool = False, profile: str | None = None, epochs: int | None = None,
                    config: ExperimentConfig | None = None, progress: bool = False,
                    controls: tuple[str, ...] = ()) -> dict:
    """Sample, train (Brian2, STDP) and measure a design; the optimiser's objective.

    Parameters
    ----------
    design : path or dict
        A design file or its parsed content.
    task : str
        Task name or data file.
    seed : int
        Network instance, encoder, training order and MC drive seed.
    quick : bool
        Small configuration (:meth:`ExperimentConfig.default` with ``quick=True``).
    profile : str, optional
        When given, also quantize for this hardware profile, run the golden model on the
        test split and price it: ``energy_per_inference_J``.
    epochs : int, optional
        Override the number of STDP epochs.
    config : ExperimentConfig, optional
        The whole measurement configuration (then ``task`` and ``quick`` are not used).
    controls : tuple of str
        Also measure control networks of the same seed: ``"untrained"`` (the network before
        STDP) and ``"shuffled"`` (the trained weights of every plastic projection permuted
        across its synapses: the learned weight distribution without its learned structure).
        Both need ``epochs >= 1``.

    Returns
    -------
    dict
        :meth:`Measurement.scalars` (``mc``, ``activity``, ``efficiency``, ``task_metric``,
        ``task_metric_name``, ``higher_is_better``, ``spikes_per_inference``, ...) plus
        ``energy_per_inference_J`` (or None) and ``wall_time_s``; with controls, ``controls``:
        ``{name: scalars}``.
    """
    t0 = time.perf_counter()
    cfg = config or ExperimentConfig.default(quick=quick, task=task)
    if epochs is not None:
        cfg = replace(cfg, epochs=int(epochs))
    if cfg.epochs < 0:
        raise DataError("epochs must be >= 0", parameter="epochs", value=cfg.epochs, allowed="integers >= 0",
                        hint="0 measures the untrained network; 1 (default) is one unsupervised STDP epoch")
    controls = tuple(controls)
    unknown = sorted(set(controls) - set(CONTROLS))
    if unknown:
        raise DataError("unknown control", parameter="controls", value=unknown[0], allowed=f"any of {list(CONTROLS)}")
    if controls and cfg.epochs < 1:
        raise DataError("controls compare a trained network with untrained or shuffled versions of it",
                        parameter="epochs", value=cfg.epochs, allowed=">= 1 with controls")
    prepared = prepare_task(cfg, seed=seed)
    spec = make_spec(design, prepared.n_input, seed)
    trained = train_spec(spec, prepared, seed=seed, progress=progress) if cfg.epochs > 0 else None
    net = trained.spec if trained is not None else spec
    out = measure(brian2_simulator(net, cfg.target), prepared, seed).scalars()
    if controls:
        nets = {"untrained": spec, "shuffled": shuffle_plastic_weights(net, seed)}
        out["controls"] = {name: measure(brian2_simulator(nets[name], cfg.target), prepared, seed).scalars()
                           for name in controls}
    out["energy_per_inference_J"] = None
    if profile is not None:
        out["energy_per_inference_J"] = energy_per_inference(net, prepared, profile)
    out["wall_time_s"] = time.perf_counter() - t0
    return out


ENERGY_CONVENTIONS = ("dynamic", "chip", "core_share")


def energy_per_inference(spec: NetworkSpec, prepared: PreparedTask, profile: str, *,
                         convention: str = "dynamic") -> float:
    """Quantize for ``profile``, run the golden model on the test split, price it (joules per inference).

    ``convention="dynamic"`` (default, the optimiser's objective): dynamic energy only, which
    spreading a network over more cores cannot lower; ``"chip"`` / ``"core_share"``: dynamic
    + static under that static convention. The deployment is the one the energy table uses
    (:class:`hrsnn_hw.energy.Deployment`, fewest cores), active neurons by SANA-FE's rule.
    """
    from .counting import ACTIVE_SANAFE
    from .energy import Deployment, simulate_with_activity
    from .profiles import load_profile
    from .quantize import quantize

    if convention not in ENERGY_CONVENTIONS:
        raise DataError("unknown energy convention", parameter="convention", value=convention,
                        allowed=f"one of {list(ENERGY_CONVENTIONS)}")
    prof = load_profile(profile)
    qnet, _ = quantize(spec, prof)
    record, active = simulate_with_activity(qnet, prepared.test.spikes, prepared.test.sample_lengths)
    deployment = Deployment.map(qnet, prof)
    report = deployment.energy(record, active=active, active_definition=ACTIVE_SANAFE,
                               static="chip" if convention == "dynamic" else convention)
    return float(report.dynamic_j if convention == "dynamic" else report.total_j)
