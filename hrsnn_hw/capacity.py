"""Memory capacity against network size for the homogeneous and heterogeneous designs.

Before any claim about heterogeneity is read, the regime has to be able to show one: a
reservoir that integrates has an MC that grows with N. :func:`capacity_study` samples the
heterogeneous design and its homogeneous twin (:func:`hrsnn_hw.spec.make_arm`) at every size
(:func:`hrsnn_hw.spec.scale_design`: E/I ratio and recurrent fan-in kept), for several seeds
(the seed is the unit: a seed fixes the network instance and the drive), optionally trains
them (unsupervised STDP on a task), and measures MC under the task-independent current drive
(:func:`hrsnn_hw.experiment.measure_memory`, Brian2 reference). The result is one artifact
holding the rows, the per-delay curves and the firing-rate statistics.

The readouts have as many features as the network has neurons, and a ridge readout fitted on
too few frames underestimates MC more the more features it has, which would bend the MC-vs-N
curve down by the estimator, not by the network. So the drive runs at least
``frames_per_neuron * N`` frames (:data:`FRAMES_PER_NEURON`, 30 by default; docs/regime.md
shows the estimate against the frame count).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from . import artifacts
from .errors import DataError
from .executor import Executor, default_workers, make_executor
from .experiment import ExperimentConfig, brian2_simulator, load_design, measure_memory
from .io import PathLike, atomic_path, write_text_atomic
from .spec import build_spec, make_arm, scale_design

__all__ = ["CapacityResult", "capacity_study", "measure_network", "write_capacity", "DEFAULT_SIZES", "QUICK_SIZES", "ARMS",
           "FRAMES_PER_NEURON"]

DEFAULT_SIZES = (200, 500, 1000, 2000)
QUICK_SIZES = (100, 200, 400)
#: arm name -> (heterogeneous neurons, heterogeneous STDP)
ARMS = {"hom": (False, False), "het": (True, True)}
#: Least MC drive frames per neuron (per readout feature) of a capacity measurement.
FRAMES_PER_NEURON = 30
ROW_KEYS = ("n_neurons", "arm", "seed", "mc", "activity", "mc_traces", "mc_raw", "mc_chance",
            "silent_fraction", "saturated_fraction", "cv_isi_median", "mc_frames", "wall_time_s")


@artifacts.artifact("hrsnn_hw.CapacityResult", 1)
@dataclass(frozen=True)
class CapacityResult:
    """MC against N for the two arms.

    Attributes
    ----------
    rows : tuple of dict
        One per (size, arm, seed): :data:`ROW_KEYS`.
    per_delay : ndarray, shape (n_rows, K)
        Chance-corrected r_k^2 per delay (frame spike counts), row-aligned with ``rows``.
    per_delay_traces : ndarray, shape (n_rows, K)
        The same on exponentially filtered traces.
    config : dict
        The experiment config (MC drive, frames, K...), the design and the epochs.
    """

    rows: tuple
    per_delay: np.ndarray
    per_delay_traces: np.ndarray
    config: dict

    def summary(self) -> list[dict]:
        """Mean, standard deviation and 95 % t-interval of MC over seeds, per size and arm,
        and the paired het - hom difference per size (seeds paired)."""
        out = []
        sizes = sorted({r["n_neurons"] for r in self.rows})
        for n in sizes:
            by_arm = {}
            for arm in ARMS:
                rows = sorted((r for r in self.rows if r["n_neurons"] == n and r["arm"] == arm),
                              key=lambda r: r["seed"])
                by_arm[arm] = {r["seed"]: r for r in rows}
                mc = np.array([r["mc"] for r in rows])
                act = np.array([r["activity"] for r in rows])
                out.append({"n_neurons": n, "arm": arm, "n_seeds": int(mc.size), **_interval(mc, "mc"),
                            "activity_mean": float(act.mean()) if act.size else float("nan"),
                            "mc_traces_mean": float(np.mean([r["mc_traces"] for r in rows])) if rows else float("nan"),
                            "silent_fraction_mean": float(np.mean([r["silent_fraction"] for r in rows])) if rows else float("nan"),
                            "saturated_fraction_mean": float(np.mean([r["saturated_fraction"] for r in rows])) if rows else float("nan")})
            paired = sorted(set(by_arm["hom"]) & set(by_arm["het"]))
            diff = np.array([by_arm["het"][s]["mc"] - by_arm["hom"][s]["mc"] for s in paired])
            out.append({"n_neurons": n, "arm": "het-hom", "n_seeds": int(diff.size), **_interval(diff, "mc"),
                        "seeds_positive": int(np.sum(diff > 0))})
        return out

    def to_markdown(self) -> str:
        lines = ["| N | arm | seeds | MC mean | 95 % CI | MC (traces) | activity | silent | saturated |",
                 "|---|---|---|---|---|---|---|---|---|"]
        for s in self.summary():
            if s["arm"] == "het-hom":
                lines.append(f"| {s['n_neurons']} | het - hom (paired) | {s['n_seeds']} | {s['mc_mean']:+.2f} | "
                             f"[{s['mc_low']:+.2f}, {s['mc_high']:+.2f}] | | | {s['seeds_positive']} of "
                             f"{s['n_seeds']} seeds > 0 | |")
            else:
                lines.append(f"| {s['n_neurons']} | {s['arm']} | {s['n_seeds']} | {s['mc_mean']:.2f} | "
                             f"[{s['mc_low']:.2f}, {s['mc_high']:.2f}] | {s['mc_traces_mean']:.2f} | "
                             f"{s['activity_mean']:.4f} | {100 * s['silent_fraction_mean']:.0f} % | "
                             f"{100 * s['saturated_fraction_mean']:.0f} % |")
        cfg = self.config
        lines.append("")
        lines.append(f"MC: chance-corrected sum over delays 1..{cfg.get('mc_max_delay')} of held-out r^2 "
                     f"(frame spike counts; traces for comparison), {_frames_text(cfg)} frames of "
                     f"{cfg.get('steps_per_frame')} steps, current drive {cfg.get('mc_drive')} x v_th, "
                     f"background {cfg.get('mc_background')} x v_th; "
                     f"{'untrained' if not cfg.get('epochs') else str(cfg.get('epochs')) + ' STDP epoch(s) on ' + str(cfg.get('task'))}"
                     f" networks; intervals: mean +- t(0.975, n-1) * sd / sqrt(n) over seeds.")
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {"rows": [dict(r) for r in self.rows],
                "summary": self.summary(), "config": dict(self.config)}

    def plot(self, path: PathLike) -> Path:
        """MC against N (log axis) per arm, seeds as dots, mean and 95 % interval; and the
        mean per-delay curves at the largest size."""
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4))
        colours = {"hom": "tab:blue", "het": "tab:orange"}
        summary = [s for s in self.summary() if s["arm"] in ARMS]
        for arm in ARMS:
            rows = [r for r in self.rows if r["arm"] == arm]
            ax.scatter([r["n_neurons"] for r in rows], [r["mc"] for r in rows], s=12, alpha=0.5, color=colours[arm])
            s = [x for x in summary if x["arm"] == arm]
            n = np.array([x["n_neurons"] for x in s])
            mean = np.array([x["mc_mean"] for x in s])
            ax.plot(n, mean, "-o", color=colours[arm], label=f"{arm} (mean, 95 % CI)")
            ax.fill_between(n, [x["mc_low"] for x in s], [x["mc_high"] for x in s], color=colours[arm], alpha=0.2)
        ax.set_xscale("log")
        ax.set_xlabel("neurons N")
        ax.set_ylabel("memory capacity (chance-corrected)")
        ax.legend()
        n_max = max(r["n_neurons"] for r in self.rows)
        for arm in ARMS:
            idx = [i for i, r in enumerate(self.rows) if r["arm"] == arm and r["n_neurons"] == n_max]
            if idx:
                curve = self.per_delay[idx].mean(axis=0)
                ax2.plot(np.arange(1, curve.size + 1), curve, color=colours[arm], label=f"{arm}, N = {n_max}")
        ax2.axhline(0.0, color="grey", lw=0.5)
        ax2.set_xlabel("delay k (frames)")
        ax2.set_ylabel("r_k^2 - chance")
        ax2.legend()
        fig.tight_layout()
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=120)
        plt.close(fig)
        return Path(path)


def _frames_text(cfg: Mapping[str, Any]) -> str:
    by_size = cfg.get("mc_frames_by_size")
    if not by_size or len(set(by_size.values())) == 1:
        return str(next(iter(by_size.values())) if by_size else cfg.get("mc_frames"))
    per = cfg.get("frames_per_neuron")
    return (f"max({cfg.get('mc_frames')}, {per} x N) = " + ", ".join(f"{f:,} (N = {n})" for n, f in by_size.items()))


def _interval(values: np.ndarray, name: str) -> dict:
    n = values.size
    if n == 0:
        return {f"{name}_mean": float("nan"), f"{name}_sd": float("nan"), f"{name}_low": float("nan"),
                f"{name}_high": float("nan")}
    mean = float(values.mean())
    sd = float(values.std(ddof=1)) if n > 1 else float("nan")
    if n > 1:
        from scipy.stats import t
        half = float(t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    else:
        half = float("nan")
    return {f"{name}_mean": mean, f"{name}_sd": sd, f"{name}_low": mean - half, f"{name}_high": mean + half}


def _check_sizes(sizes: Sequence[int]) -> tuple[int, ...]:
    out = []
    for n in sizes:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 10:
            raise DataError("network sizes must be integers >= 10", parameter="sizes", value=n,
                            allowed="integers >= 10", hint="for example --sizes 200,500,1000")
        out.append(int(n))
    if not out:
        raise DataError("no network size given", parameter="sizes", value=list(sizes), allowed="one or more sizes")
    return tuple(sorted(set(out)))


def check_frames_per_neuron(value: Any, parameter: str = "frames_per_neuron") -> int:
    """``value`` as a frames-per-neuron count (0..1000), or a DataError naming ``parameter``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value <= 1000:
        raise DataError("frames per neuron out of range", parameter=parameter, value=value, allowed="integers 0..1000",
                        hint=f"the default ({FRAMES_PER_NEURON}) keeps the readout from being limited by its "
                             "training frames")
    return int(value)


def frames_for(n_neurons: int, min_frames: int, frames_per_neuron: int = FRAMES_PER_NEURON) -> int:
    """MC drive frames of a capacity measurement at size N: ``max(min_frames, frames_per_neuron * N)``."""
    return max(int(min_frames), int(frames_per_neuron) * int(n_neurons))


def measure_network(design: Mapping[str, Any], n_neurons: int, arm: str, seed: int,
                    config: ExperimentConfig, frames_per_neuron: int = FRAMES_PER_NEURON) -> dict:
    """One (size, arm, seed) measurement: the job :func:`capacity_study` fans out.

    Module-level and free of state shared between jobs, so that it runs the same in this
    process, in a local worker process or on a cluster (same arguments, same numbers). The
    drive runs ``max(config.mc_frames, frames_per_neuron * n_neurons)`` frames.

    Returns
    -------
    dict
        ``"row"`` (:data:`ROW_KEYS`), ``"per_delay"`` and ``"per_delay_traces"`` (arrays).
    """
    t0 = time.perf_counter()
    config = replace(config, mc_frames=frames_for(n_neurons, config.mc_frames, frames_per_neuron))
    het_n, het_s = ARMS[arm]
    arm_design = make_arm(scale_design(dict(design), n_neurons), hetero_neurons=het_n, hetero_stdp=het_s,
                          name=f"{design.get('name', 'design')}-{arm}-n{n_neurons}")
    if config.epochs > 0:
        from .experiment import prepare_task, train_spec
        prepared = prepare_task(config, seed=seed)
        spec = build_spec(arm_design, n_input=prepared.n_input, seed=seed)
        spec = train_spec(spec, prepared, seed=seed).spec
    else:
        spec = build_spec(arm_design, seed=seed)
    m = measure_memory(brian2_simulator(spec, config.target), spec.n_input, config, seed)
    firing = m["firing"]
    row = {"n_neurons": int(spec.n_neurons), "arm": arm, "seed": seed, "mc": m["mc"],
           "activity": m["activity"], "mc_traces": m["mc_traces"], "mc_raw": m["mc_raw"],
           "mc_chance": m["mc_chance"], "silent_fraction": firing["silent_fraction"],
           "saturated_fraction": firing["saturated_fraction"], "cv_isi_median": firing["cv_isi_median"],
           "mc_frames": int(config.mc_frames), "wall_time_s": time.perf_counter() - t0}
    return {"row": row, "per_delay": np.asarray(m["mc_per_delay"], dtype=np.float64),
            "per_delay_traces": np.asarray(m["mc_per_delay_traces"], dtype=np.float64)}


def capacity_study(design: str | Mapping[str, Any] = "hrsnn", sizes: Sequence[int] = DEFAULT_SIZES,
                   seeds: Sequence[int] = (0, 1, 2), config: ExperimentConfig | None = None,
                   progress: Callable[[int, int], None] | None = None, *,
                   workers: int | None = None, executor: Executor | None = None,
                   frames_per_neuron: int = FRAMES_PER_NEURON) -> CapacityResult:
    """MC against N for the design's homogeneous twin ("hom") and the design itself ("het").

    Parameters
    ----------
    design : path, name or dict
        The heterogeneous design (default: the reference HRSNN).
    sizes : sequence of int
        Network sizes N (:func:`~hrsnn_hw.spec.scale_design`, fan-in kept).
    seeds : sequence of int
        Network instances (and drives); the unit of the statistics.
    config : ExperimentConfig, optional
        MC protocol, frames, K; ``epochs > 0`` trains each network with STDP on ``config.task``
        first (default: 0 epochs, the networks as sampled). ``config.mc_frames`` is the least
        number of frames at every size.
    frames_per_neuron : int
        The drive runs at least this many frames per neuron (0: ``config.mc_frames`` at every
        size), so that the readout's estimate is not limited by its training frames at large N.
    progress : callable, optional
        ``progress(done, total)`` after every measurement.
    workers : int, optional
        Local worker processes when no executor is given (default: CPUs, at most 4, at most
        one per measurement; 1 measures in this process).
    executor : Executor, optional
        Where the (size, arm, seed) measurements run (:func:`hrsnn_hw.executor.make_executor`;
        a Dask cluster with an address). The rows are the same, bit for bit, wherever they run.
    """
    cfg = config or ExperimentConfig.default(epochs=0)
    check_frames_per_neuron(frames_per_neuron)
    if cfg.mc_protocol != "current":
        raise DataError("the capacity study measures the task-independent current drive", parameter="mc_protocol",
                        value=cfg.mc_protocol, allowed="'current'")
    sizes = _check_sizes(sizes)
    seeds = tuple(int(s) for s in seeds)
    if not seeds or min(seeds) < 0:
        raise DataError("seeds must be non-negative integers", parameter="seeds", value=list(seeds), allowed=">= 0")
    base = load_design(design)
    keys = [(n, arm, seed) for n in sizes for arm in ARMS for seed in seeds]
    own = executor is None
    if own:
        executor = make_executor(default_workers(len(keys)) if workers is None else min(workers, len(keys)))
    results: list[dict | None] = [None] * len(keys)
    try:
        for i, result in executor.map_unordered(measure_network, [(base, n, arm, seed, cfg, frames_per_neuron) for n, arm, seed in keys],
                                                labels=[f"N={n} {arm} seed {seed}" for n, arm, seed in keys]):
            results[i] = result
            if progress is not None:
                progress(sum(r is not None for r in results), len(keys))
    finally:
        if own:
            executor.close()
    rows = [r["row"] for r in results]
    config_doc = {**cfg.as_dict(), "design": str(base.get("name", "design")), "sizes": list(sizes),
                  "seeds": list(seeds), "frames_per_neuron": int(frames_per_neuron),
                  "mc_frames_by_size": {str(n): frames_for(n, cfg.mc_frames, frames_per_neuron) for n in sizes}}
    return CapacityResult(rows=tuple(rows), per_delay=np.asarray([r["per_delay"] for r in results], dtype=np.float64),
                          per_delay_traces=np.asarray([r["per_delay_traces"] for r in results], dtype=np.float64),
                          config=config_doc)


def write_capacity(result: CapacityResult, out: PathLike) -> dict[str, str]:
    """capacity.json (the artifact), capacity.md and capacity.png into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = {"json": str(out / "capacity.json"), "markdown": str(out / "capacity.md"),
             "figure": str(out / "capacity.png")}
    result.save(out / "capacity.json")
    write_text_atomic(out / "capacity.md", result.to_markdown() + "\n")
    result.plot(out / "capacity.png")
    return files

