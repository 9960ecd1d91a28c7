"""The memory-capacity current drive, graded input in Brian2, and firing-rate statistics."""
from __future__ import annotations

import numpy as np
import pytest

from hrsnn_hw.errors import DataError
from hrsnn_hw.records import SpikeRecord
from hrsnn_hw.spec import INPUT, build_spec, read_spec_file
from hrsnn_hw.tasks.firing import firing_statistics
from hrsnn_hw.tasks.mc_drive import McDrive, drive_network, drive_payloads


def _spec(n_input=24, seed=0):
    return build_spec(read_spec_file("hrsnn"), n_input=n_input, seed=seed)


def test_payloads_hold_u_and_its_mirror_for_a_frame():
    drive = McDrive(payload_bits=4)
    x = drive_payloads(np.array([0.0, 0.5, 1.0]), drive, 3)
    assert x.shape == (1, 9, 3) and x.dtype == np.int64
    assert x[0, ::3].tolist() == [[0, 15, 15], [8, 7, 15], [15, 0, 15]]
    assert (x[0, 0:3] == x[0, 0]).all()  # held for the whole frame
    with pytest.raises(DataError) as err:
        drive_payloads(np.array([1.5]), drive, 3)
    assert err.value.parameter == "u"
    with pytest.raises(DataError) as err:
        McDrive(drive=-1.0)
    assert err.value.parameter == "mc_drive"


def test_drive_network_keeps_the_recurrence_and_states_its_scale_in_thresholds():
    spec = _spec()
    drive = McDrive(drive=0.8, background=0.3, payload_bits=8)
    net = drive_network(spec, drive)
    assert net.n_input == 3 and net.n_neurons == spec.n_neurons
    rec_before = {p.name: p for p in spec.projections if p.pre != INPUT}
    rec_after = {p.name: p for p in net.projections if p.pre != INPUT}
    assert rec_before.keys() == rec_after.keys()
    for name, proj in rec_before.items():
        assert np.array_equal(proj.weight, rec_after[name].weight)
    assert [r.projection for r in net.stdp] == [r.projection for r in spec.stdp]
    # Steady-state membrane swing per unit payload: w * L / (1 - exp(-dt/tau_syn)), in thresholds.
    w_in = net.input_weights()
    w_in = w_in.toarray() if hasattr(w_in, "toarray") else np.asarray(w_in)
    gain = -np.expm1(-spec.dt / spec.neuron_param("tau_syn"))
    swing = w_in * drive.levels / (gain * spec.neuron_param("v_th"))[:, None]
    np.testing.assert_allclose(swing[:, 2], 0.3)  # background, every neuron
    on_off = swing[:, :2]
    assert ((on_off > 0).sum(axis=1) == 1).all()  # each neuron driven by u or by 1 - u
    assert on_off.max() <= 0.8 and 0.3 < (on_off[:, 0] > 0).mean() < 0.7
    # Independent of the task's input width: the same drive whatever the encoder.
    other = drive_network(_spec(n_input=12), drive)
    w_other = other.input_weights()
    w_other = w_other.toarray() if hasattr(w_other, "toarray") else np.asarray(w_other)
    np.testing.assert_array_equal(w_in, w_other)
    w_seed1 = drive_network(_spec(seed=1), drive).input_weights()
    assert not np.array_equal(w_in, w_seed1.toarray() if hasattr(w_seed1, "toarray") else w_seed1)


@pytest.mark.slow
@pytest.mark.brian2
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_graded_payload_acts_as_a_spike_of_weight_times_payload():
    from hrsnn_hw.refsim import simulate
    design = {"format": "hrsnn_hw.spec", "version": 1, "name": "graded", "seed": 0, "dt": 0.001, "n_input": 2,
              "populations": {"exc": {"n": 3, "excitatory": True, "tau_m": 0.02, "tau_syn": 0.005, "v_th": 1.0}},
              "projections": {"input->exc": {"p": 1.0, "synapses": {"pre": [0, 1, 0], "post": [0, 1, 2],
                                                                    "weight": [0.001, 0.002, 0.003]}}}}
    spec = build_spec(design)
    x = np.zeros((2, 6, 2), np.int64)
    x[0, 1, 0], x[0, 2, 1], x[1, 0, 0], x[1, 3, 1] = 3, 5, 7, 2
    rec = simulate(spec, x, np.array([6, 4]), record_states=True)
    au = np.exp(-0.001 / 0.005)
    expected = np.zeros((2, 6, 3))
    for b, t, c, p in ((0, 1, 0, 3), (0, 2, 1, 5), (1, 0, 0, 7), (1, 3, 1, 2)):
        for post, pre, w in ((0, 0, 0.001), (1, 1, 0.002), (2, 0, 0.003)):
            if pre == c:
                steps = np.arange(t + 1, 6)
                expected[b, steps, post] += p * w * au ** (steps - t - 1)
    expected[1, 4:] = 0.0  # past sample 1's length
    np.testing.assert_allclose(rec.u, expected, rtol=1e-12, atol=1e-15)
    # 0/1 integers are spikes: the same run as a bool raster
    spikes = np.zeros((1, 6, 2), np.int64)
    spikes[0, 1, 0] = 1
    a = simulate(spec, spikes, record_states=True)
    b = simulate(spec, spikes.astype(bool), record_states=True)
    np.testing.assert_array_equal(a.u, b.u)
    with pytest.raises(DataError) as err:
        simulate(spec, x.astype(np.float64) * 0.5)
    assert err.value.parameter == "input_spikes"


def test_firing_statistics_of_known_trains():
    spikes = np.zeros((1, 100, 4), bool)
    spikes[0, ::10, 0] = True                 # regular: CV 0
    spikes[0, :, 1] = np.arange(100) % 2 == 0  # at the highest rate (refractory 1 step)
    spikes[0, [3, 5, 40, 90], 2] = True        # irregular
    rec = SpikeRecord(spikes, np.array([100]), 0.001)
    stats = firing_statistics(rec, max_rate=0.5)
    assert stats["silent_fraction"] == 0.25 and stats["saturated_fraction"] == 0.25
    isi = np.diff([3, 5, 40, 90]).astype(float)
    assert stats["cv_isi_median"] == pytest.approx(np.median([0.0, 0.0, isi.std() / isi.mean()]))
    assert stats["rate_percentiles"]["50"] == pytest.approx(0.07)


@pytest.mark.slow
def test_fixed_point_drive_network_shares_the_task_networks_integers():
    import warnings

    from hrsnn_hw.experiment import ExperimentConfig, golden_simulator, measure_memory
    from hrsnn_hw.quantize import quantize
    spec = _spec()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        qnet, _ = quantize(spec, "loihi2")
    sim = golden_simulator(qnet, spec)
    assert sim.graded_input  # Loihi 2 spikes carry payloads
    drive = McDrive()
    on = sim.on(drive_network(spec, drive))
    assert on.qnet.v_scale == qnet.v_scale and on.qnet.n_input == 3
    for proj in qnet.projections:
        if proj.source != "input":
            other = next(p for p in on.qnet.projections if p.name == proj.name)
            assert other.weight_exp == proj.weight_exp
            assert (abs(other.w_post_pre - proj.w_post_pre)).max() == 0
    np.testing.assert_array_equal(on.qnet.vth, qnet.vth)
    cfg = ExperimentConfig.default(quick=True, mc_frames=200, mc_max_delay=5, mc_washout=5)
    m = measure_memory(sim, spec.n_input, cfg, 0)
    assert m["mc_protocol"] == "current" and m["activity"] > 0.0
    # Binary-spike hardware (Loihi 1) cannot take the current drive: labelled fallback, with a warning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q1, _ = quantize(spec, "loihi1")
    with pytest.warns(UserWarning, match="graded"):
        m1 = measure_memory(golden_simulator(q1, spec), spec.n_input, cfg, 0)
    assert m1["mc_protocol"] == "thermometer"


def test_the_drive_network_does_not_repeat_the_task_networks_quantization_warnings():
    """The drive network shares the task network's neurons and recurrent weights: what quantizing
    those lost was said once, when the task network was quantized, and is not said again."""
    import warnings

    from hrsnn_hw.experiment import golden_simulator
    from hrsnn_hw.quantize import QuantizationPolicy, quantize
    spec = _spec()
    policy = QuantizationPolicy(weight_bits=1)           # coarse enough that recurrent weights are lost
    with warnings.catch_warnings(record=True) as task_warnings:
        warnings.simplefilter("always")
        qnet, _ = quantize(spec, "loihi2", policy)
    recurrent = [w for w in task_warnings if "projections." in str(getattr(w.message, "parameter", ""))
                 and "input->" not in str(getattr(w.message, "parameter", ""))]
    assert recurrent, "the task network's quantization must warn about a recurrent projection for this test"
    with warnings.catch_warnings(record=True) as drive_warnings:
        warnings.simplefilter("always")
        golden_simulator(qnet, spec).on(drive_network(spec, McDrive()))
    repeated = {str(w.message) for w in drive_warnings} & {str(w.message) for w in recurrent}
    assert not repeated
