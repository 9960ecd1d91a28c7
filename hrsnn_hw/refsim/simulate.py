"""Frozen-weight (or plastic) inference of a batch of samples with Brian2."""
from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..records import SpikeRecord
from .build import build_network, check_compiled, collect_spikes, collect_states, run_steps
from .config import SimulatorConfig
from .inputs import as_spec, check_inputs, versions
from .session import brian_session, shape_key
from .timeline import batched_timeline, sequential_timeline

__all__ = ["simulate"]


def simulate(spec: Any, input_spikes: Any, sample_lengths: Any = None, *,
             config: SimulatorConfig | None = None, record_states: bool = False,
             plasticity: bool = False) -> SpikeRecord:
    """Run the float reference model on a batch of input rasters.

    Without plasticity the samples are independent: they run side by side as copies of
    the network in one Brian2 group (``config.max_batch`` at a time, longest first), every
    sample from a zero state. The result does not depend on the batch composition: a
    sample gives the same spikes alone or in any batch.

    Parameters
    ----------
    spec : NetworkSpec or TrainedNetwork
        The network (weights as they are in the spec).
    input_spikes : array_like of bool, shape (n_samples, n_steps, n_input)
        Input raster; steps past a sample's length are ignored. An encoder output with
        ``.spikes`` and ``.sample_lengths`` is accepted too.
    sample_lengths : array_like of int, shape (n_samples,), optional
        Valid steps per sample (default: all ``n_steps``).
    config : SimulatorConfig, optional
        Target and cache (default: numpy target).
    record_states : bool
        Also return u and v (volts, after the reset of each step; 0 on padding).
    plasticity : bool
        Keep STDP on while running: samples then run one after another on one copy of the
        network, in the given order, the weights carrying over (state reset between
        samples); the changed weights are discarded (use :func:`train` to keep them).

    Returns
    -------
    SpikeRecord
        Spikes (n_samples, n_steps, n_neurons); provenance backend "brian2", fidelity
        "float", the target, the design name and the spec seed.
    """
    spec = as_spec(spec)
    x, lengths = check_inputs(spec, input_spikes, sample_lengths)
    config = config if config is not None else SimulatorConfig()
    n_samples, n_steps = x.shape[:2]
    if plasticity:
        timeline = sequential_timeline(np.arange(n_samples), lengths, reset=True)
    else:
        timeline = batched_timeline(lengths, config.max_batch)
    spikes = np.zeros((n_samples, n_steps, spec.n_neurons), dtype=bool)
    states = None
    if record_states:
        states = {k: np.zeros((n_samples, n_steps, spec.n_neurons)) for k in ("u", "v")}
    t0 = time.perf_counter()
    build_time = 0.0
    if timeline.total_steps > 0:
        # one standalone build per code shape, reused by every run of that shape
        shape = shape_key(what="simulate", n_neurons=spec.n_neurons, n_input=spec.n_input, dt=spec.dt,
                          lanes=timeline.n_lanes, steps=timeline.total_steps, segments=timeline.n_segments,
                          synapses=[p.n_synapses for p in spec.projections], input_events=int(np.count_nonzero(x)),
                          stdp=[r.projection for r in spec.stdp] if plasticity else [], states=record_states)
        with brian_session(config, "simulation", shape=shape) as session:
            built = build_network(session.b2, spec, timeline, x, lengths, plastic=plasticity,
                                  record_states=record_states)
            run_steps(session.b2, built, timeline.total_steps, spec.dt)
            check_compiled(built)
            session.finish()
            build_time = session.build_time
            spikes = collect_spikes(session.b2, built, timeline, lengths, n_samples, n_steps, spec.dt)
            if record_states:
                states = collect_states(built, timeline, lengths, n_samples, n_steps)
                # Brian2 runs v in Loihi's form; report it in the spec's units (v = gain * v').
                states["v"] = states["v"] * spec.membrane_gain()[None, None, :]
    provenance = {"backend": "brian2", "fidelity": "float", "target": config.target,
                  "design": spec.name, "seed": spec.seed, "plasticity": bool(plasticity),
                  "lanes": timeline.n_lanes, "segments": timeline.n_segments,
                  "wall_time_s": time.perf_counter() - t0, "standalone_build_s": build_time,
                  "versions": versions()}
    return SpikeRecord(spikes=spikes, sample_lengths=lengths, dt=spec.dt, provenance=provenance,
                       v=None if states is None else states["v"], u=None if states is None else states["u"],
                       input_spikes=x)
