"""Unsupervised STDP training of the recurrent layer with Brian2, then frozen weights."""
from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..errors import BackendError, DataError
from ..spec import NetworkSpec
from ..trained import TrainedNetwork
from .build import BuiltNetwork, build_network, check_compiled, run_steps, spike_steps
from .config import SimulatorConfig
from .inputs import as_spec, check_inputs, versions
from .session import brian_session
from .timeline import sequential_timeline

__all__ = ["train", "weight_stats", "STDP_ORDER"]

#: The discrete-time STDP order, recorded with every training run (see refsim/build.py).
STDP_ORDER = ("per step, synapses slot: pre pathway (a_in_post += w; w = clip(w - eta_minus*y, 0, w_max); "
              "x += 1) then post pathway (w = clip(w + eta_plus*x, 0, w_max); y += 1); traces decay "
              "exactly between events; weight change before trace jump")

def weight_stats(w: np.ndarray, w_max: float, initial: np.ndarray | None = None) -> dict[str, float]:
    """Summary of one projection's weights (volts).

    ``frac_zero`` and ``frac_w_max`` are the fractions at each bound; with ``initial``,
    ``mean_abs_change`` (volts) and ``rel_change`` = mean |w - w0| / mean |w0|.
    """
    w = np.asarray(w, dtype=np.float64)
    if w.size == 0:
        return {"n": 0}
    out = {"n": int(w.size), "mean": float(w.mean()), "std": float(w.std()), "min": float(w.min()),
           "max": float(w.max()), "frac_zero": float(np.mean(w <= 0.0)),
           "frac_w_max": float(np.mean(w >= w_max))}
    if initial is not None:
        change = np.abs(w - np.asarray(initial, dtype=np.float64))
        out["mean_abs_change"] = float(np.mean(change))
        # mean |dw| / mean |w0|: how much one stage of training moved the weights, relative to
        # their size (tens of percent is learning; above 1 the bounds decide, not the rule)
        scale = float(np.mean(np.abs(initial)))
        out["rel_change"] = float(np.mean(change)) / scale if scale > 0 else float("nan")
    return out


def _check_epochs(epochs: Any) -> int:
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise DataError("epochs must be a positive integer", parameter="epochs", value=epochs,
                        allowed="integers >= 1")
    return int(epochs)


def _read_weights(built: BuiltNetwork, spec: NetworkSpec) -> dict[str, np.ndarray]:
    out = {}
    for name, syn in built.plastic.items():
        proj = spec.projection(name)
        pre = np.asarray(syn.i[:], dtype=np.int64)
        post = np.asarray(syn.j[:], dtype=np.int64)
        g_post, g_pre = spec.global_indices(proj)
        # Weights are returned in Brian2's synapse order; it must be the projection's order.
        if not (np.array_equal(pre, g_pre) and np.array_equal(post, g_post)):
            raise BackendError("Brian2 reordered the synapses of a plastic projection", parameter="projection",
                               value=name, hint="please report this with the spec file")
        out[name] = np.array(syn.w[:], dtype=np.float64)
    return out


def train(spec: Any, input_spikes: Any, sample_lengths: Any = None, *, epochs: int = 1,
          config: SimulatorConfig | None = None, seed: int = 0, progress: bool = False,
          reset_between_samples: bool = True, shuffle: bool = True) -> TrainedNetwork:
    """Train the plastic projections of ``spec`` with STDP on unlabelled samples.

    The samples are presented one after another (one copy of the network), ``epochs``
    times, each epoch in an order drawn from ``numpy.random.default_rng(seed)`` (or the
    given order if ``shuffle`` is False). Between samples the state (u, v, input
    accumulator, refractory counters, STDP traces) is reset to zero unless
    ``reset_between_samples`` is False. Weights of projections without an STDP rule never
    change. Nothing in the model is random, so the same inputs and seed give the same
    weights bit for bit on a given target.

    Parameters
    ----------
    spec : NetworkSpec or TrainedNetwork
        Network with STDP rules in ``spec.stdp`` (a TrainedNetwork trains on).
    input_spikes : array_like of bool, shape (n_samples, n_steps, n_input)
        Training input rasters (labels are never seen).
    sample_lengths : array_like of int, optional
        Valid steps per sample (default: all steps).
    epochs : int
        Passes over the training samples.
    config : SimulatorConfig, optional
        Default: :meth:`SimulatorConfig.auto` for the number of sequential steps (cython
        for long runs when a compiler is available, else numpy).
    seed : int
        Seed of the presentation order.
    progress : bool
        Show a tqdm progress bar (samples presented).
    reset_between_samples : bool
        Zero the state at every sample start.
    shuffle : bool
        Draw a new sample order every epoch.

    Returns
    -------
    TrainedNetwork
        ``spec`` with the learned weights, the initial spec, and ``training``: epochs,
        sample counts, the order used, per-epoch weight statistics of every plastic
        projection, spiking activity (spikes per neuron per step, overall and per
        population) and wall times.
    """
    spec = as_spec(spec)
    x, lengths = check_inputs(spec, input_spikes, sample_lengths)
    epochs = _check_epochs(epochs)
    n_samples = x.shape[0]
    rng = np.random.default_rng(seed)
    orders = [rng.permutation(n_samples) if shuffle else np.arange(n_samples) for _ in range(epochs)]
    steps_per_epoch = int(lengths.sum())
    config = config if config is not None else SimulatorConfig.auto(steps_per_epoch * epochs)
    timeline = sequential_timeline(np.concatenate(orders), lengths, reset=reset_between_samples)
    rules = {r.projection: r for r in spec.stdp}
    initial = {name: spec.projection(name).weight for name in rules}

    epoch_weights: list[dict[str, np.ndarray]] = []
    epoch_wall: list[float | None] = []
    t_start = time.perf_counter()
    build_s = 0.0
    spike_i = spike_t = np.zeros(0, dtype=np.int64)
    from tqdm import tqdm  # tqdm.auto wants ipywidgets inside notebooks
    with tqdm(total=epochs * n_samples, unit="sample", desc=f"STDP training ({config.target})",
              disable=not progress, leave=False) as bar:
        if steps_per_epoch == 0:
            epoch_weights = [dict(initial) for _ in range(epochs)]
            epoch_wall = [0.0] * epochs
            bar.update(epochs * n_samples)
        else:
            with brian_session(config, "training") as session:
                built = build_network(session.b2, spec, timeline, x, lengths, plastic=True,
                                      snapshot_steps=steps_per_epoch if session.standalone else None)
                for e in range(epochs):
                    t0 = time.perf_counter()
                    done = bar.n

                    def report(fraction: float, done: int = done) -> None:
                        bar.update(done + int(fraction * n_samples) - bar.n)

                    run_steps(session.b2, built, steps_per_epoch, spec.dt, report=report)
                    if e == 0:
                        check_compiled(built)
                    if not session.standalone:
                        epoch_weights.append(_read_weights(built, spec))
                        epoch_wall.append(time.perf_counter() - t0)
                        bar.update(done + n_samples - bar.n)
                session.finish()
                build_s = session.build_time
                if session.standalone:
                    final = _read_weights(built, spec)
                    for e in range(epochs):
                        epoch_weights.append({name: (np.array(built.weight_monitors[name].w[:, e + 1])
                                                     if e + 1 < epochs else final[name]) for name in final})
                        epoch_wall.append(None)
                spike_i, spike_t = spike_steps(session.b2, built, spec.dt)
            bar.update(epochs * n_samples - bar.n)
    wall = time.perf_counter() - t_start

    training = _summary(spec, rules, initial, epoch_weights, epoch_wall, spike_i, spike_t, steps_per_epoch)
    training.update({"epochs": epochs, "n_samples": n_samples, "n_steps_per_epoch": steps_per_epoch,
                     "seed": int(seed), "shuffle": bool(shuffle),
                     "reset_between_samples": bool(reset_between_samples),
                     "sample_order": [o.tolist() for o in orders], "plastic_projections": sorted(rules),
                     "stdp_order": STDP_ORDER, "simulator": config.to_dict(), "wall_time_s": wall,
                     "standalone_build_s": build_s})
    trained_spec = spec.with_weights(epoch_weights[-1]) if rules else spec
    provenance = {"backend": "brian2", "fidelity": "float", "target": config.target, "seed": int(seed),
                  "design": spec.name, "spec_seed": spec.seed, "versions": versions()}
    return TrainedNetwork(spec=trained_spec, initial=spec, training=training, provenance=provenance)


def _summary(spec: NetworkSpec, rules: dict, initial: dict[str, np.ndarray],
             epoch_weights: list[dict[str, np.ndarray]], epoch_wall: list[float | None],
             spike_i: np.ndarray, spike_t: np.ndarray, steps_per_epoch: int) -> dict:
    n = spec.n_neurons
    pops = [(p.name, spec.population_slice(p.name)) for p in spec.populations]
    epoch_of_spike = spike_t // max(steps_per_epoch, 1)
    per_epoch = []
    for e, weights in enumerate(epoch_weights):
        sel = spike_i[epoch_of_spike == e]
        steps = max(steps_per_epoch, 1)
        activity = {name: float(np.count_nonzero((sel >= sl.start) & (sel < sl.stop))) / (steps * (sl.stop - sl.start))
                    for name, sl in pops}
        per_epoch.append({
            "epoch": e + 1,
            "wall_time_s": epoch_wall[e],
            "activity": float(sel.size) / (steps * n) if steps_per_epoch else 0.0,
            "activity_by_population": activity if steps_per_epoch else {name: 0.0 for name, _ in pops},
            "spikes": int(sel.size),
            "weights": {name: weight_stats(w, rules[name].w_max, initial[name]) for name, w in weights.items()},
        })
    return {"initial_weights": {name: weight_stats(w, rules[name].w_max) for name, w in initial.items()},
            "per_epoch": per_epoch}
