"""The backend registry: one simulate(network, inputs, backend=...) for every simulator, clear errors."""
from __future__ import annotations

import numpy as np
import pytest

from hrsnn_hw import backends
from hrsnn_hw.backends import available_backends, get_backend, register_backend, simulate, simulator
from hrsnn_hw.errors import DataError
from hrsnn_hw.golden import compare_exact
from hrsnn_hw.golden import simulate as golden_simulate
from hrsnn_hw.golden import simulate_float
from hrsnn_hw.golden.testing import random_inputs, random_qnet
from hrsnn_hw.reference import reference_design_path
from hrsnn_hw.spec import load_spec


@pytest.fixture(scope="module")
def net():
    rng = np.random.default_rng(7)
    q = random_qnet(rng, 16, 4, edge_cases=("refractory", "u_wrap"))
    x, lengths = random_inputs(rng, 3, 30, 4, rate=0.3)
    return q, x, lengths


def test_the_five_backends_are_registered():
    assert available_backends() == ("brian2", "golden", "golden-float", "lava", "lava-stock")
    assert {get_backend(n).fidelity for n in ("golden", "lava", "lava-stock")} == {"fixed"}
    assert get_backend("brian2").network == "spec" and get_backend("golden-float").fidelity == "float"


@pytest.mark.slow
def test_golden_backends_are_the_golden_model(net):
    q, x, lengths = net
    rec = simulate(q, x, lengths, backend="golden", record_states=True)
    direct = golden_simulate(q, x, lengths, record_states=True)
    assert rec.provenance["simulator"] == "golden" and rec.provenance["backend"] == "golden"
    assert compare_exact(rec, direct).ok and rec.spikes.sum() > 0
    twin = simulate(q, x, lengths, backend="golden-float", record_states=True, saturate_v=True)
    np.testing.assert_array_equal(twin.v, simulate_float(q, x, lengths, record_states=True, saturate_v=True).v)
    assert twin.provenance["fidelity"] == "float"


def test_unknown_backend_names_the_allowed_ones(net):
    q, x, lengths = net
    with pytest.raises(DataError, match="unknown simulator backend") as info:
        simulate(q, x, lengths, backend="loihi")
    assert info.value.parameter == "backend" and info.value.value == "loihi"
    for name in available_backends():
        assert name in info.value.allowed


def test_wrong_network_kind_and_unknown_option_are_clear_errors(net):
    q, x, lengths = net
    with pytest.raises(DataError, match="backend 'brian2' runs a float NetworkSpec") as info:
        simulate(q, x, lengths, backend="brian2")
    assert info.value.parameter == "network" and "golden" in info.value.hint
    spec = load_spec(reference_design_path("hrsnn"), n_input=4, seed=0)
    with pytest.raises(DataError, match="backend 'lava' runs a QuantizedNetwork") as info:
        simulate(spec, x, lengths, backend="lava")
    assert "quantize" in info.value.hint
    with pytest.raises(DataError, match="option not taken by backend 'golden'") as info:
        simulate(q, x, lengths, backend="golden", target="numpy")
    assert info.value.parameter == "target" and "batch_size" in info.value.allowed
    with pytest.raises(DataError, match="unknown simulator backend"):
        simulator(q, "lava-float")  # checked when bound, not at the first run


def test_a_package_can_register_its_own_backend(net, monkeypatch):
    q, x, lengths = net
    monkeypatch.setattr(backends, "BACKENDS", dict(backends.BACKENDS))

    @register_backend("golden-again", network="quantized", fidelity="fixed", description="test double")
    def run(network, input_spikes, sample_lengths, *, record_states):
        return golden_simulate(network, input_spikes, sample_lengths, record_states=record_states)

    rec = simulator(q, "golden-again")(x, lengths)
    assert rec.provenance["simulator"] == "golden-again"
    assert np.array_equal(rec.spikes, golden_simulate(q, x, lengths).spikes)
    with pytest.raises(ValueError, match="already registered"):
        register_backend("golden-again", network="quantized", fidelity="fixed", description="other")(lambda *a, **k: None)


@pytest.mark.slow
@pytest.mark.brian2
def test_brian2_backend_is_the_reference_simulator():
    from hrsnn_hw.refsim import SimulatorConfig
    from hrsnn_hw.refsim import simulate as refsim_simulate
    spec = load_spec(reference_design_path("hrsnn"), n_input=6, seed=3)
    x, lengths = random_inputs(np.random.default_rng(8), 2, 40, 6, rate=0.2)
    rec = simulate(spec, x, lengths, backend="brian2", target="numpy")
    direct = refsim_simulate(spec, x, lengths, config=SimulatorConfig(target="numpy"))
    assert rec.provenance["simulator"] == "brian2" and rec.provenance["fidelity"] == "float"
    np.testing.assert_array_equal(rec.spikes, direct.spikes)
    assert rec.spikes.sum() > 0


@pytest.mark.slow
@pytest.mark.lava
def test_lava_backends_agree_with_golden_bit_for_bit(net):
    q, x, lengths = net
    golden = simulate(q, x, lengths, backend="golden", record_states=True)
    for name, model in (("lava", "HeteroLIF"), ("lava-stock", "stock LIF per neuron profile")):
        rec = simulate(q, x, lengths, backend=name, record_states=True, timeout_s=300)
        assert rec.provenance["simulator"] == name and rec.provenance["model"] == model
        assert compare_exact(golden, rec, ("golden", name)).ok
