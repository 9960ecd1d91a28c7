"""Agreement with SANA-FE (Boyle et al., IEEE TCAD 2025) on networks generated for this test.

SANA-FE simulates each network itself (its own LIF soma, its own spike routing, energy and
timing model, its Loihi architecture file); hrsnn_hw then counts and prices the spikes and
potentials SANA-FE produced (and, for integrate-and-fire networks, its own golden model's,
which must agree bit for bit). Every energy term (synapse, soma, network, dendrite), every
count SANA-FE reports and the step time (its "simple" timing model) must agree within 1 %.
"""
from __future__ import annotations

import numpy as np
import pytest

from hrsnn_hw.counting import count_ops
from hrsnn_hw.energy import estimate_energy
from hrsnn_hw.mapping import map_network
from hrsnn_hw.profiles import load_profile
from energy_nets import QuantizedNetwork, network, projection
from hrsnn_hw.records import SpikeRecord

sanafe = pytest.importorskip("sanafe")
from sanafe_bridge import run_sanafe  # noqa: E402  (needs sanafe)

TOL = 0.01


def integrate_and_fire(seed: int, n: int, m: int, p_rec: float) -> QuantizedNetwork:
    """A leak-free network (du 4095, dv 0) with excitatory and inhibitory synapses and some biases."""
    rng = np.random.default_rng([seed, 11])
    w = (rng.random((n, n)) < p_rec) * rng.integers(-40, 60, (n, n))
    w_in = (rng.random((n, m)) < 0.4) * rng.integers(20, 90, (n, m))
    bias_mant = np.where(rng.random(n) < 0.2, rng.integers(1, 4, n), 0)
    return network(f"if{seed}", (projection("exc", "recurrent", np.where(w > 0, w, 0), 0, 8, "excitatory"),
                                 projection("inh", "recurrent", np.where(w < 0, w, 0), 0, 8, "inhibitory"),
                                 projection("in", "input", w_in, 0, 8, "excitatory")),
                   n_input=m, du=np.full(n, 4095), dv=np.zeros(n, int), vth=rng.integers(80, 160, n),
                   bias_mant=bias_mant, bias_exp=np.full(n, 6), profile="loihi1_sanafe")


def compare(ours, counts, sf, n_steps: int) -> dict:
    """Every SANA-FE term next to ours: relative differences."""
    r = sf.result
    soma = ours.dynamic["neuron_active"] + ours.dynamic["neuron_idle"] + ours.dynamic["spike_out"]
    pairs = {
        "energy.synapse": (ours.dynamic["synaptic"], r["energy"]["synapse"]),
        "energy.soma": (soma, r["energy"]["soma"]),
        "energy.network": (ours.dynamic["routing"], r["energy"]["network"]),
        "energy.total": (ours.dynamic_j, r["energy"]["total"]),
        "synaptic events": (counts.mean("synaptic_ops"), r["spikes"]),
        "neurons updated": (counts.mean("neuron_updates_active") + counts.mean("input_spikes"), r["neurons_updated"]),
        "neurons fired": (counts.mean("spikes") + counts.mean("input_spikes"), r["neurons_fired"]),
        "packets": (counts.mean("messages"), r["packets_sent"]),
        "hops": (counts.mean("hops_east_west") + counts.mean("hops_north_south"), sum(r["perf_trace"]["hops"])),
        "time": (ours.latency_s, r["sim_time"]),
    }
    assert r["energy"]["dendrite"] == 0.0 and r["timesteps_executed"] == n_steps
    return {k: abs(a - b) / max(abs(b), 1e-30) for k, (a, b) in pairs.items()}


CASES = [  # seed, neurons, inputs, recurrent density, neurons per core (None: packed), steps
    (0, 30, 6, 0.15, 4, 40),
    (1, 48, 8, 0.10, 3, 50),
    (2, 24, 4, 0.25, None, 60),
    (3, 64, 5, 0.08, 7, 40),
]


@pytest.mark.slow
@pytest.mark.parametrize("seed,n,m,p_rec,per_core,steps", CASES)
def test_integrate_and_fire_network_agrees_with_sanafe_term_by_term(seed, n, m, p_rec, per_core, steps):
    from hrsnn_hw.golden import simulate
    prof = load_profile("loihi1_sanafe")
    qnet = integrate_and_fire(seed, n, m, p_rec)
    x = np.random.default_rng([seed, 5]).random((1, steps, m)) < 0.25
    placement = map_network(qnet, prof, max_neurons_per_core=per_core, inputs="core")
    golden = simulate(qnet, x, np.array([steps]), record_states=True)
    sf = run_sanafe(qnet, placement, x[0], dynamics="integrate")
    # the same arithmetic: SANA-FE's spikes and potentials are the golden model's (potential = v / 64)
    assert np.array_equal(sf.spikes, golden.spikes[0])
    assert np.array_equal(sf.potential * 64, golden.v[0])
    assert golden.spikes.sum() > 20
    counts = count_ops(golden, qnet, placement)
    ours = estimate_energy(counts, prof, placement, time_per_step="compute")
    diff = compare(ours, counts, sf, steps)
    assert max(diff.values()) < TOL, diff
    # the definitions differ where state matters: without v the count is a strict lower bound
    lower = count_ops(SpikeRecord(spikes=golden.spikes, sample_lengths=golden.sample_lengths, dt=golden.dt,
                                  input_spikes=golden.input_spikes), qnet, placement)
    assert lower.mean("neuron_updates_active") < counts.mean("neuron_updates_active")


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_sanafe_dynamics_on_a_quantized_design_agree_term_by_term(seed):
    """A design sampled and quantized by the project, simulated by SANA-FE's own float LIF; we count its output."""
    from hrsnn_hw.quantize import quantize
    from hrsnn_hw.reference import resolve_design
    from hrsnn_hw.spec import build_spec, read_spec_file, scale_design

    prof = load_profile("loihi1_sanafe")
    design = scale_design(read_spec_file(resolve_design("hrsnn")), 40)
    spec = build_spec(design, n_input=6, seed=seed)
    qnet, _ = quantize(spec, prof)
    steps = 60
    x = np.random.default_rng([seed, 9]).random((1, steps, qnet.n_input)) < 0.3
    placement = map_network(qnet, prof, max_neurons_per_core=6, inputs="core")
    sf = run_sanafe(qnet, placement, x[0], dynamics="sanafe")
    assert sf.spikes.sum() > 10
    record = SpikeRecord(spikes=sf.spikes[None], sample_lengths=np.array([steps]), dt=qnet.dt,
                         v=sf.potential[None], input_spikes=x)
    counts = count_ops(record, qnet, placement)
    ours = estimate_energy(counts, prof, placement, time_per_step="compute")
    diff = compare(ours, counts, sf, steps)
    assert max(diff.values()) < TOL, diff
    assert placement.n_tiles >= 2


@pytest.mark.slow
def test_detailed_timing_is_close_to_the_compute_bound_model():
    """SANA-FE's detailed scheduler (message flow on the mesh) against our compute-bound step time."""
    prof = load_profile("loihi1_sanafe")
    qnet = integrate_and_fire(1, 48, 8, 0.10)
    x = np.random.default_rng([1, 5]).random((1, 50, 8)) < 0.25
    placement = map_network(qnet, prof, max_neurons_per_core=3, inputs="core")
    from hrsnn_hw.golden import simulate
    golden = simulate(qnet, x, np.array([50]), record_states=True)
    ours = estimate_energy(count_ops(golden, qnet, placement), prof, placement, time_per_step="compute")
    detailed = run_sanafe(qnet, placement, x[0], dynamics="integrate", timing_model="detailed").result["sim_time"]
    assert 1.0 <= detailed / ours.latency_s < 1.25, detailed / ours.latency_s
