"""One pipeline from a design to a deployed, verified, priced network, stage by stage.

    design --train (Brian2 STDP)--> trained --float metrics (Brian2)
           --quantize(profile)--> qnet --fixed metrics (golden) --deploy (Lava) --verify
           --energy (all profiles) --report

Each stage is cached in ``out/<stage>-<design>/`` (see :mod:`.cache`): a re-run skips
stages whose inputs did not change. The pipeline processes the design and, by default, its
homogeneous twin (the MRSNN: every distribution replaced by its mean, same connectivity),
so every report compares the two at equal task.
"""
from __future__ import annotations

import dataclasses
import logging
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from ..errors import DataError
from ..experiment import (ExperimentConfig, Measurement, PreparedTask, make_spec, measure, measure_with_records,
                          prepare_task, train_spec)
from ..io import write_json_atomic, write_text_atomic
from ..profiles import available_profiles, load_profile
from ..records import SpikeRecord
from ..reference import resolve_design
from ..spec import make_arm, read_spec_file
from ..tasks import known_tasks
from ..trained import TrainedNetwork
from ..io import safe_filename
from .cache import StageCache, file_digest, package_digest, stage_key

if TYPE_CHECKING:
    from ..quantize import QuantizationReport
    from ..quantize.sweep import SweepResult
    from ..verify import VerificationReport
    from ..executor import Executor

log = logging.getLogger("hrsnn_hw.pipeline")
STAGES = ("train", "float", "quantize", "fixed", "deploy", "verify", "energy", "report")


@dataclass(frozen=True)
class PipelineConfig:
    """Everything a pipeline run depends on (its hash keys the stage cache).

    Attributes
    ----------
    design : str
        Design file (or reference name: ``hrsnn``, ``mrsnn``, ...).
    baseline : str or None
        ``"twin"`` (the design's homogeneous twin, the MRSNN), another design, or None.
    task : str
        Task name or user data file.
    profile : str
        Deployment profile (quantization formats, mapping limits).
    energy_profiles : tuple of str
        Profiles priced in the energy stage (default: every bundled profile).
    seed : int
        Network instance, encoder, training order and MC drive seed.
    quick : bool
        Small task subset, short MC drive, one Lava sample.
    lava_samples : int or None
        Test samples deployed on Lava and compared step by step (default 3; 1 with quick).
    rate_samples : int or None
        Test samples of the rung-4 rate comparison (default 40; 10 with quick).
    epochs : int or None
        STDP epochs (default from :class:`ExperimentConfig`).
    target : str or None
        Brian2 code-generation target.
    strict : bool
        Quantize under a strict policy: every lossy conversion is an error, not a warning.
    """

    design: str = "hrsnn"
    baseline: str | None = "twin"
    task: str = "japanese_vowels"
    profile: str = "loihi2"
    energy_profiles: tuple[str, ...] = ()
    seed: int = 0
    quick: bool = False
    lava_samples: int | None = None
    rate_samples: int | None = None
    epochs: int | None = None
    target: str | None = None
    strict: bool = False

    def experiment(self) -> ExperimentConfig:
        overrides: dict[str, Any] = {"task": self.task, "target": self.target}
        if self.epochs is not None:
            overrides["epochs"] = self.epochs
        return ExperimentConfig.default(quick=self.quick, **overrides)

    @property
    def n_lava(self) -> int:
        return self.lava_samples if self.lava_samples is not None else (1 if self.quick else 3)

    @property
    def n_rate(self) -> int:
        return self.rate_samples if self.rate_samples is not None else (10 if self.quick else 40)

    @property
    def profiles(self) -> tuple[str, ...]:
        return self.energy_profiles or tuple(available_profiles())


def environment() -> dict:
    """Versions of everything a result depends on."""
    import importlib.metadata as md
    out = {"python": platform.python_version(), "platform": platform.platform(), "machine": platform.machine()}
    for pkg in ("hrsnn_hw", "numpy", "scipy", "scikit-learn", "brian2", "lava-nc", "sktime", "matplotlib"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = None
    return out


def _golden_scalars(qnet: Any, *, spec: Any, prepared: PreparedTask, seed: int) -> dict:
    """MC, activity, E and the task metric of a fixed-point network on the golden model (a
    module-level function, so that a sweep's settings can run in other processes)."""
    from ..experiment import golden_simulator
    m = measure(golden_simulator(qnet, spec), prepared, seed).scalars()
    return {k: m[k] for k in ("mc", "activity", "efficiency", "task_metric")}


class Pipeline:
    """Stage-by-stage runner with artifacts in ``out``; every stage method returns its artifact.

    Parameters
    ----------
    config : PipelineConfig
    out : path
        Run directory (artifacts, reports, log).
    force : bool
        Ignore the cache and recompute every stage.
    on_event : callable, optional
        Receives one line per stage event (default: the logger).
    """

    def __init__(self, config: PipelineConfig, out: str | Path, *, force: bool = False,
                 on_event: Callable[[str], None] | None = None) -> None:
        self.config = config
        self.out = Path(out)
        self.cache = StageCache(self.out, force=force, on_event=on_event)
        self.exp = config.experiment()
        self._prepared: PreparedTask | None = None
        self.designs = self._designs()
        self._memo: dict[tuple[str, str], Any] = {}

    # --- inputs -----------------------------------------------------------------------
    def _designs(self) -> dict[str, dict]:
        path = resolve_design(self.config.design)
        design = read_spec_file(path)
        # design names become stage folder names: through the one safe-name gate
        name = safe_filename(str(design.get("name", Path(path).stem)), parameter="design name")
        designs = {name: design}
        if self.config.baseline == "twin":
            if name != "mrsnn":
                designs["mrsnn"] = make_arm(design, hetero_neurons=False, hetero_stdp=False, name="mrsnn")
        elif self.config.baseline:
            bpath = resolve_design(self.config.baseline)
            bdesign = read_spec_file(bpath)
            bname = safe_filename(str(bdesign.get("name", Path(bpath).stem)), parameter="baseline design name")
            if bname == name:
                bname = f"{bname}-baseline"
            designs[bname] = bdesign
        return designs

    @property
    def prepared(self) -> PreparedTask:
        if self._prepared is None:
            self._prepared = prepare_task(self.exp, seed=self.config.seed)
        return self._prepared

    def _key(self, stage: str, name: str) -> str:
        cfg = self.config
        exp = self.exp.as_dict()
        if stage == "train":
            # every input: the design, the experiment, the seed, the task's data file (when the
            # task is a file) and the package's own code and bundled data
            return stage_key("train", self.designs[name], exp, cfg.seed, self._task_digest(), package_digest())
        if stage == "float":
            return stage_key("float", self._key("train", name))
        if stage == "quantize":
            return stage_key("quantize", self._key("train", name), file_digest(load_profile(cfg.profile).path),
                             cfg.strict)
        if stage == "fixed":
            return stage_key("fixed", self._key("quantize", name))
        if stage == "deploy":
            return stage_key("deploy", self._key("quantize", name), cfg.n_lava)
        if stage == "verify":
            from ..verify import VerificationReport
            return stage_key("verify", self._key("deploy", name), self._key("float", name), self._key("fixed", name),
                             cfg.n_rate, VerificationReport.ARTIFACT_KIND, VerificationReport.ARTIFACT_VERSION)
        raise KeyError(stage)

    def _task_digest(self) -> str | None:
        path = Path(self.config.task)
        return file_digest(path) if self.config.task not in known_tasks() and path.is_file() else None

    # --- stages -----------------------------------------------------------------------
    def train(self, name: str) -> TrainedNetwork:
        """Unsupervised STDP training (Brian2); artifact ``trained.json``."""
        if ("train", name) in self._memo:
            return self._memo[("train", name)]

        def produce(d: Path) -> dict:
            spec = make_spec(self.designs[name], self.prepared.n_input, self.config.seed)
            if self.exp.epochs > 0:
                trained = train_spec(spec, self.prepared, seed=self.config.seed)
            else:
                trained = TrainedNetwork(spec=spec, initial=spec, training={"epochs": 0})
            trained = dataclasses.replace(trained, provenance={**trained.provenance, "task": self.exp.task,
                                                               "seed": self.config.seed, "design": name})
            trained.save(d / "trained.json")
            return {"n_neurons": spec.n_neurons, "n_input": spec.n_input, "training": trained.training}
        res = self.cache.run(f"train-{name}", self._key("train", name), produce, ("trained.json",))
        trained = TrainedNetwork.load(res.directory / "trained.json")
        self._memo[("train", name)] = trained
        return trained

    def _measure_stage(self, stage: str, name: str, simulator_factory: Callable[[], Any]) -> Measurement:
        if (stage, name) in self._memo:
            return self._memo[(stage, name)]

        def produce(d: Path) -> dict:
            measurement, records = measure_with_records(simulator_factory(), self.prepared, self.config.seed)
            records.test.save(d / "test_record.npz")
            records.memory.save(d / "mc_record.npz")
            measurement.save(d / "measurement.npz")
            summary = measurement.summary()
            write_json_atomic(d / "metrics.json", summary)
            return summary
        res = self.cache.run(f"{stage}-{name}", self._key(stage, name), produce,
                             ("metrics.json", "measurement.npz", "test_record.npz", "mc_record.npz"))
        measurement = Measurement.load(res.directory / "measurement.npz")
        self._memo[(stage, name)] = measurement
        return measurement

    def float_metrics(self, name: str) -> Measurement:
        """MC, activity, E and task metric of the trained float network (Brian2).

        Returns
        -------
        Measurement
            Loaded from the stage's ``measurement.npz`` (``metrics.json`` holds its summary).
        """
        from ..experiment import brian2_simulator
        trained = self.train(name)
        return self._measure_stage("float", name, lambda: brian2_simulator(trained.spec, self.exp.target))

    def test_record(self, name: str, stage: str = "fixed") -> SpikeRecord:
        """The test-split spike record a measurement stage (``"float"`` or ``"fixed"``) was computed from."""
        if stage not in ("float", "fixed"):
            raise DataError("no test record for this stage", parameter="stage", value=stage,
                            allowed="'float' or 'fixed'")
        (self.float_metrics if stage == "float" else self.fixed_metrics)(name)
        return SpikeRecord.load(self.cache.results[f"{stage}-{name}"].directory / "test_record.npz")

    def quantize(self, name: str):
        """Fixed point for the deployment profile; artifacts ``qnet.npz`` and the quantization report."""
        from ..quantize import QuantizationPolicy, QuantizedNetwork, quantize
        if ("quantize", name) in self._memo:
            return self._memo[("quantize", name)]
        trained = self.train(name)

        def produce(d: Path) -> dict:
            qnet, report = quantize(trained, self.config.profile, QuantizationPolicy(strict=self.config.strict))
            qnet.save(d / "qnet.npz")
            report.save(d / "quantization.json")
            write_text_atomic(d / "quantization.txt", report.to_text())
            report.plot(d / "quantization.png")
            return {"summary": report.summary(), "n_warnings": len(report.warnings)}
        res = self.cache.run(f"quantize-{name}", self._key("quantize", name), produce,
                             ("qnet.npz", "quantization.json", "quantization.txt", "quantization.png"))
        qnet = QuantizedNetwork.load(res.directory / "qnet.npz")
        self._memo[("quantize", name)] = qnet
        return qnet

    def quantization_report(self, name: str) -> "QuantizationReport":
        """What quantizing ``name`` for the deployment profile decided and lost (the quantize stage's report)."""
        from ..quantize import QuantizationReport
        self.quantize(name)
        return QuantizationReport.load(self.cache.results[f"quantize-{name}"].directory / "quantization.json")

    def fixed_metrics(self, name: str) -> Measurement:
        """The same measurements on the quantized network, run by the golden model.

        Returns
        -------
        Measurement
            Loaded from the stage's ``measurement.npz``.
        """
        from ..experiment import golden_simulator
        qnet = self.quantize(name)
        spec = self.train(name).spec
        return self._measure_stage("fixed", name, lambda: golden_simulator(qnet, spec))

    def _lava_inputs(self) -> tuple[np.ndarray, np.ndarray]:
        test = self.prepared.test
        n = min(self.config.n_lava, test.n_samples)
        lengths = test.sample_lengths[:n]
        return test.spikes[:n, : int(lengths.max())], lengths

    def deploy(self, name: str) -> SpikeRecord:
        """Run the quantized network on Lava's CPU simulator (HeteroLIF + Dense) for the first
        test samples; artifact ``lava_record.npz`` (spikes, u, v)."""
        from ..backends import simulate
        qnet = self.quantize(name)

        def produce(d: Path) -> dict:
            x, lengths = self._lava_inputs()
            t0 = time.perf_counter()
            record = simulate(qnet, x, lengths, backend="lava", record_states=True)
            wall = time.perf_counter() - t0
            record.save(d / "lava_record.npz")
            steps = int(lengths.sum())
            return {"samples": int(len(lengths)), "steps": steps, "spikes": int(record.spikes.sum()),
                    "wall_time_s": wall, "steps_per_s": steps / wall if wall > 0 else None,
                    "provenance": record.provenance}
        res = self.cache.run(f"deploy-{name}", self._key("deploy", name), produce, ("lava_record.npz",))
        return SpikeRecord.load(res.directory / "lava_record.npz")

    def verify(self, name: str) -> "VerificationReport":
        """The equivalence ladder (rungs 1-5, :func:`hrsnn_hw.verify.verify`) on the deployed samples;
        returns the :class:`~hrsnn_hw.verify.VerificationReport` (``verification.json``; table in ``.md``)."""
        from ..verify import TaskPredictions, VerificationReport, verify
        qnet = self.quantize(name)
        lava_record = self.deploy(name)
        float_m = self.float_metrics(name)
        fixed_m = self.fixed_metrics(name)
        trained = self.train(name)

        def produce(d: Path) -> dict:
            x, lengths = self._lava_inputs()
            test = self.prepared.test
            n = min(self.config.n_rate, test.n_samples)
            lr = test.sample_lengths[:n]
            where = f"Brian2 vs golden model, {test.n_samples} test samples"
            if float_m.task.metric_name == "accuracy":
                task = TaskPredictions.classification(self.prepared.task.y_test, float_m.task.y_pred,
                                                      fixed_m.task.y_pred, where=where)
            else:
                task = TaskPredictions.prediction(float_m.task.metric, fixed_m.task.metric, where=where)
            report = verify(qnet, x, lengths, reference=trained, rate_inputs=(test.spikes[:n, : int(lr.max())], lr),
                            task=task, records={"lava": lava_record}, brian2_target=self.exp.target,
                            provenance={"design": name, "profile": self.config.profile})
            report.save(d / "verification.json")
            write_text_atomic(d / "verification.md", report.to_markdown())
            return report.summary()
        res = self.cache.run(f"verify-{name}", self._key("verify", name), produce,
                             ("verification.json", "verification.md"))
        return VerificationReport.load(res.directory / "verification.json")

    def energy_inputs(self) -> tuple[list, Any]:
        """What the energy stage prices: every design's golden run of the test split (with SANA-FE's
        active rule per step) and the non-spiking baseline trained on the same task."""
        from ..energy import DesignRun, active_raster, train_esn
        runs = []
        for n in self.designs:
            fixed = self.fixed_metrics(n)
            qnet = self.quantize(n)
            record = self.test_record(n, "fixed")
            active = getattr(record, "active", None)
            if active is None and record.v is None:
                # The record holds no states: re-run the golden model for the state term of the rule.
                active = active_raster(qnet, record.input_spikes, record.sample_lengths)
            runs.append(DesignRun(name=n, network=qnet, record=record, active=active,
                                  task={"name": fixed.task.metric_name, "value": fixed.task.metric}))
        n_units = runs[0].network.n_neurons if runs else 200
        baseline = train_esn(self.prepared.task, n_units=n_units, seed=self.config.seed, n_bins=self.exp.n_bins,
                             readout=self.exp.readout)
        return runs, baseline

    def energy(self):
        """Energy per inference of every design on every profile (golden runs of the test split), on an
        equal core budget, plus the non-spiking baseline on the conventional profiles; returns the
        :class:`~hrsnn_hw.energy.EnergyTable` (artifact ``energy/energy.json``)."""
        from ..energy import EnergyTable, energy_table, plot_energy
        from .. import __version__
        names = list(self.designs)
        keys = [self._key("fixed", n) for n in names]
        profiles = self.config.profiles
        digests = [file_digest(load_profile(p).path) for p in profiles]
        for n in names:
            self.fixed_metrics(n)

        def produce(d: Path) -> dict:
            runs, baseline = self.energy_inputs()
            table = energy_table(runs, profiles, reference="mrsnn" if "mrsnn" in names else None, baseline=baseline,
                                 batch_size=int(self.prepared.test.n_samples))
            table.save(d / "energy.json")
            baseline.save(d / "baseline.json")
            write_text_atomic(d / "energy.txt", table.text)
            plot_energy(table, d / "energy.png")
            return {"reference": table.reference, "n_rows": len(table.rows)}
        res = self.cache.run("energy", stage_key("energy", keys, list(profiles), digests, __version__), produce,
                             ("energy.json", "baseline.json", "energy.txt", "energy.png"))
        return EnergyTable.load(res.directory / "energy.json")

    def sweep(self, name: str, ks: tuple = (1, 2, 4, 8, 16, 32, None), weight_bits: tuple = (2, 3, 4, 6, 8), *,
              executor: "Executor | None" = None) -> "SweepResult":
        """The hardware cost of heterogeneity: quantize the trained network at every
        (K neuron profiles, weight bits) setting and measure MC, activity, E and the task
        metric of each fixed-point network with the golden model. ``executor`` runs the
        settings in parallel (local processes or a Dask cluster; same rows, bit for bit); returns the
        :class:`~hrsnn_hw.quantize.sweep.SweepResult` (artifact ``sweep-<name>/sweep.json``)."""
        import functools

        from ..quantize import sweep as run_sweep
        from ..quantize.sweep import SweepResult
        trained = self.train(name)
        evaluate = functools.partial(_golden_scalars, spec=trained.spec, prepared=self.prepared,
                                     seed=self.config.seed)

        def produce(d: Path) -> dict:
            result = run_sweep(trained, self.config.profile, ks=ks, weight_bits=weight_bits, evaluate=evaluate,
                               executor=executor)
            result.save(d / "sweep.json")
            result.plot(d / "sweep.png", columns=["neuron_profiles", "tau_m_mean_rel_err", "weights_lost", "mc",
                                                  "efficiency", "task_metric"])
            return result.to_dict()
        key = stage_key("sweep", self._key("train", name), file_digest(load_profile(self.config.profile).path),
                        [str(k) for k in ks], [str(b) for b in weight_bits], package_digest())
        stage = self.cache.run(f"sweep-{name}", key, produce, ("sweep.json", "sweep.md", "sweep.png"))
        return SweepResult.load(stage.directory / "sweep.json")

    # --- everything -------------------------------------------------------------------
    def run(self, until: str = "report", progress: Callable[[str], None] | None = None) -> dict:
        """Run every stage up to ``until`` for every design; returns the run summary."""
        if until not in STAGES:
            raise DataError("unknown stage", parameter="until", value=until, allowed=f"one of {list(STAGES)}")
        last = STAGES.index(until)
        t0 = time.perf_counter()
        summary: dict[str, Any] = {"designs": {}, "config": dataclasses.asdict(self.config),
                                   "experiment": self.exp.as_dict(), "out": str(self.out)}
        for name in self.designs:
            entry: dict[str, Any] = {}
            steps = [("train", lambda: self.train(name)), ("float", lambda: self.float_metrics(name)),
                     ("quantize", lambda: self.quantize(name)), ("fixed", lambda: self.fixed_metrics(name)),
                     ("deploy", lambda: self.deploy(name)), ("verify", lambda: self.verify(name))]
            for stage, fn in steps:
                if STAGES.index(stage) > last:
                    break
                if progress:
                    progress(f"{stage}-{name}")
                result = fn()
                if stage in ("float", "fixed"):
                    entry[stage] = {k: v for k, v in result.summary().items() if k not in ("y_pred",)}
                elif stage == "verify":
                    entry["verify"] = result.summary()
            summary["designs"][name] = entry
        if last >= STAGES.index("energy"):
            if progress:
                progress("energy")
            energy = self.energy()
            summary["energy"] = {"rows": [{"profile": r.get("profile"), "design": r.get("design"),
                                           "model": r.get("model"), "dynamic": r.get("dynamic_j"),
                                           "static": r.get("static_j"), "total": r.get("total_j"),
                                           "low": r.get("total_low_j"), "high": r.get("total_high_j"),
                                           "static_convention": r.get("static_convention"),
                                           "n_cores": r.get("cores"), "error": r.get("error")}
                                          for r in energy.rows],
                                 "ratios": energy.to_json()["ratios"]}
        summary["stages"] = {n: {"skipped": r.skipped, "wall_time_s": round(r.wall_time_s, 3)}
                             for n, r in self.cache.results.items()}
        summary["environment"] = environment()
        if last >= STAGES.index("report"):
            if progress:
                progress("report")
            from .report import write_report
            summary["report"] = str(write_report(self, summary))
        summary["wall_time_s"] = time.perf_counter() - t0
        write_json_atomic(self.out / "summary.json", summary)
        return summary
