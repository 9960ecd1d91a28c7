"""Mapping: each per-core rule, packing by profile, coordinates, errors that name the rule."""
from __future__ import annotations

import json

import numpy as np
import pytest

from hrsnn_hw.errors import MappingError
from hrsnn_hw.mapping import Placement, connectivity, map_network
from hrsnn_hw.profiles import PROFILE_DIR, load_profile, parse_profile
from energy_nets import QuantizedNetwork, network, projection


def make_qnet(w_rec, w_in, *, du=None, dv=None, vth=None, refractory=None, name="net") -> QuantizedNetwork:
    w_rec, w_in = np.asarray(w_rec), np.asarray(w_in)
    n, m = w_in.shape
    full = (lambda v, d: np.full(n, d) if v is None else np.asarray(v))
    return network(name, (projection("rec", "recurrent", w_rec, 0, 8, "mixed"),
                          projection("in", "input", w_in, 0, 8, "excitatory")),
                   n_input=m, du=full(du, 800), dv=full(dv, 200), vth=full(vth, 100),
                   refractory=full(refractory, 0))


def custom_profile(base: str = "loihi1_sanafe", **limits):
    data = json.loads((PROFILE_DIR / f"{base}.json").read_text())
    src = next(iter(data["sources"]))
    for key, value in limits.items():
        if value is None:
            data["core_limits"].pop(key, None)
        else:
            data["core_limits"][key] = {"value": value, "unit": "bit" if "bits" in key or "memory" in key
                                        else "count", "source": src}
    return parse_profile(data, origin="test")


def chain(n: int, m: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Neuron i -> i+1, input 0 -> neuron 0."""
    w = np.zeros((n, n), int)
    w[np.arange(1, n), np.arange(n - 1)] = 5
    w_in = np.zeros((n, m), int)
    w_in[0, 0] = 7
    return w, w_in


def test_connectivity_counts_nonzero_mantissas_only():
    w_rec = np.array([[0, 3, 0], [0, 0, 0], [1, -2, 0]])
    w_in = np.array([[4], [0], [0]])
    conn = connectivity(make_qnet(w_rec, w_in))
    assert conn.n_synapses == 4
    assert conn.fan_out.tolist() == [1, 2, 0, 1]
    assert conn.fan_in.tolist() == [2, 0, 2]


def test_packing_equal_profiles_saves_cores():
    w, w_in = chain(8)
    dv = [10, 20, 30, 40, 10, 20, 30, 40]
    qnet = make_qnet(w, w_in, dv=dv)
    prof = custom_profile(neuron_profiles_per_core=2)
    seq = map_network(qnet, prof, strategy="sequential")
    packed = map_network(qnet, prof, strategy="pack_profiles")
    assert seq.n_cores == 4
    assert packed.n_cores == 2
    for placement in (seq, packed):
        col = placement.utilization.resources.index("neuron_profiles")
        assert placement.utilization.used[:, col].max() <= 2
    # each packed core holds whole profiles: neurons with equal dv share a core
    for value in (10, 20, 30, 40):
        idx = np.nonzero(np.array(dv) == value)[0]
        assert len(set(packed.neuron_core[idx].tolist())) == 1


def test_profile_tuple_includes_vth_and_refractory():
    w, w_in = chain(4)
    prof = custom_profile(neuron_profiles_per_core=1)
    assert map_network(make_qnet(w, w_in), prof).n_cores == 1
    assert map_network(make_qnet(w, w_in, vth=[1, 2, 1, 2]), prof).n_cores == 2
    assert map_network(make_qnet(w, w_in, refractory=[0, 0, 0, 3]), prof).n_cores == 2


def test_threshold_profile_rule():
    w, w_in = chain(6)
    prof = custom_profile(threshold_profiles_per_core=2)
    placement = map_network(make_qnet(w, w_in, vth=[1, 2, 3, 1, 2, 3]), prof)
    col = placement.utilization.resources.index("threshold_profiles")
    assert placement.utilization.used[:, col].max() <= 2
    assert placement.n_cores == 2


def test_neurons_per_core_rule_and_cap():
    w, w_in = chain(7)
    qnet = make_qnet(w, w_in)
    placement = map_network(qnet, custom_profile(neurons_per_core=3))
    assert placement.n_cores == 3
    assert placement.utilization.used[:, 0].tolist() == [3, 3, 1]
    assert map_network(qnet, load_profile("loihi1"), max_neurons_per_core=2).n_cores == 4
    with pytest.raises(MappingError) as exc:
        map_network(qnet, load_profile("loihi1"), max_neurons_per_core=0)
    assert exc.value.parameter == "max_neurons_per_core"


def test_synaptic_memory_splits_cores_and_refuses_a_neuron_too_big():
    n, m = 4, 6
    w = np.zeros((n, n), int)
    w_in = np.ones((n, m), int)                 # 6 synapses per neuron
    qnet = make_qnet(w, w_in)
    prof = custom_profile(synaptic_memory_per_core=12 * 64)   # 12 words of 64 bits
    placement = map_network(qnet, prof)
    assert placement.n_cores == 2
    col = placement.utilization.resources.index("synaptic_memory_bits")
    assert placement.utilization.used[:, col].tolist() == [12 * 64, 12 * 64]
    with pytest.raises(MappingError) as exc:
        map_network(qnet, custom_profile(synaptic_memory_per_core=5 * 64))
    assert exc.value.parameter == "synaptic_memory_per_core"
    assert "384" in str(exc.value) and "320" in str(exc.value)       # needs 6 x 64, has 5 x 64
    # a profile's synapse format replaces the word size
    assert map_network(qnet, custom_profile(synaptic_memory_per_core=96, synapse_bits=8)).n_cores == 2


def test_input_axon_rule():
    n, m = 4, 4
    w_in = np.eye(n, m, dtype=int)              # each neuron listens to its own input
    qnet = make_qnet(np.zeros((n, n), int), w_in)
    placement = map_network(qnet, custom_profile(input_axons_per_core=2))
    assert placement.n_cores == 2
    col = placement.utilization.resources.index("input_axons")
    assert placement.utilization.used[:, col].tolist() == [2, 2]
    with pytest.raises(MappingError) as exc:
        map_network(make_qnet(np.zeros((n, n), int), np.ones((n, m), int)), custom_profile(input_axons_per_core=3))
    assert exc.value.parameter == "input_axons_per_core"


def test_output_axon_rule():
    n = 6
    w = np.ones((n, n), int)                    # all-to-all: each neuron reaches every core
    qnet = make_qnet(w, np.ones((n, 1), int))
    placement = map_network(qnet, custom_profile(neurons_per_core=2))
    col = placement.utilization.resources.index("output_axons")
    assert placement.utilization.used[:, col].tolist() == [6, 6, 6]   # 2 neurons x 3 cores
    with pytest.raises(MappingError) as exc:
        map_network(qnet, custom_profile(neurons_per_core=2, output_axons_per_core=5))
    assert exc.value.parameter == "output_axons_per_core"


def test_network_larger_than_the_board():
    w, w_in = chain(10)
    with pytest.raises(MappingError) as exc:
        map_network(make_qnet(w, w_in), custom_profile(neurons_per_core=2, cores_per_chip=4, mesh_width=1,
                                                        mesh_height=1))
    assert exc.value.parameter == "neurons_per_board"
    assert "8" in str(exc.value) and "10" in str(exc.value)


def test_too_many_profiles_for_the_board_names_the_rule_and_numbers():
    w, w_in = chain(10)
    qnet = make_qnet(w, w_in, dv=np.arange(10) + 1)
    prof = custom_profile(neuron_profiles_per_core=2, cores_per_chip=4, mesh_width=1, mesh_height=1)
    with pytest.raises(MappingError) as exc:
        map_network(qnet, prof)
    assert exc.value.parameter == "cores_per_board"
    msg = str(exc.value)
    assert "needs 5 cores" in msg and "neuron_profiles_per_core" in msg and "10 distinct" in msg


def test_coordinates_follow_the_mesh_convention():
    n = 40
    w, w_in = chain(n)
    placement = map_network(make_qnet(w, w_in), load_profile("loihi1_sanafe"), max_neurons_per_core=2)
    assert placement.n_cores == 20
    # 4 cores per tile; tile t at x = t // 4, y = t % 4 (SANA-FE)
    assert placement.core_tile.tolist() == [c // 4 for c in range(20)]
    assert placement.core_xy[5].tolist() == [0, 1]
    assert placement.core_xy[16].tolist() == [1, 0]
    assert placement.n_chips == 1


def test_chips_sit_side_by_side():
    w, w_in = chain(12)
    prof = custom_profile(neurons_per_core=1, cores_per_chip=4, cores_per_tile=1, mesh_width=2, mesh_height=2,
                          chips_per_board=3)
    placement = map_network(make_qnet(w, w_in), prof)
    assert placement.n_chips == 3
    assert placement.core_xy[4].tolist() == [2, 0]          # chip 1 starts at x = mesh_width
    assert placement.core_xy[11].tolist() == [5, 1]


def test_inputs_on_their_own_cores():
    w, w_in = chain(3, m=5)
    w_in[1, 1:] = 2
    placement = map_network(make_qnet(w, w_in), custom_profile(neurons_per_core=2), inputs="core")
    assert placement.neuron_core.tolist() == [0, 0, 1]
    assert placement.input_core.tolist() == [2, 2, 3, 3, 4]
    assert placement.utilization.input_core.tolist() == [False, False, True, True, True]
    io = map_network(make_qnet(w, w_in), custom_profile(neurons_per_core=2))
    assert (io.input_core == -1).all() and io.n_cores == 2


def test_profiles_without_core_limits_or_bad_options():
    w, w_in = chain(3)
    qnet = make_qnet(w, w_in)
    with pytest.raises(MappingError) as exc:
        map_network(qnet, load_profile("cpu"))
    assert exc.value.parameter == "profile"
    with pytest.raises(MappingError):
        map_network(qnet, load_profile("loihi1"), strategy="random")
    with pytest.raises(MappingError):
        map_network(qnet, load_profile("loihi1"), inputs="usb")


def test_placement_roundtrip_and_report(tmp_path):
    w, w_in = chain(9)
    placement = map_network(make_qnet(w, w_in), load_profile("loihi1"), max_neurons_per_core=4)
    path = tmp_path / "placement.npz"
    placement.save(path)
    back = Placement.load(path)
    assert np.array_equal(back.neuron_core, placement.neuron_core)
    assert np.array_equal(back.utilization.used, placement.utilization.used)
    assert back.notes == placement.notes and back.profile == "loihi1"
    text = placement.utilization.to_text()
    assert "4/4" in text and "1/4" in text          # the cap is the limit the mapper worked to
    peak = placement.utilization.peak()
    assert peak["neurons"]["used"] == 4 and peak["neurons"]["limit"] == 4
    with pytest.raises(ValueError):
        placement.neuron_core[0] = 3


def test_core_budget_spreads_balanced_and_keeps_every_rule():
    w, w_in = chain(10)
    qnet = make_qnet(w, w_in)
    prof = load_profile("loihi1_sanafe")
    assert map_network(qnet, prof).n_cores == 1
    spread = map_network(qnet, prof, cores=4)
    assert spread.n_cores == 4
    assert sorted(np.bincount(spread.neuron_core).tolist()) == [2, 2, 3, 3]
    assert any("core budget of 4" in note for note in spread.notes)
    # a budget below what the limits need is exceeded, and said so
    tight = map_network(make_qnet(w, w_in, vth=np.arange(10)), custom_profile(threshold_profiles_per_core=2), cores=2)
    assert tight.n_cores == 5 and any("exceeded" in note for note in tight.notes)
    with pytest.raises(MappingError) as exc:
        map_network(qnet, prof, cores=0)
    assert exc.value.parameter == "cores"
    with pytest.raises(MappingError):
        map_network(qnet, prof, cores=11)                     # more cores than neurons


def test_truenorth_one_target_core_per_neuron_is_checked():
    tn = load_profile("truenorth")
    w, w_in = chain(8)
    assert map_network(make_qnet(w, w_in), tn).n_cores == 1          # every target on the one core
    n = 300                                                           # > 256 neurons per core: two cores
    w = np.zeros((n, n), int)
    w[np.arange(1, n), np.arange(n - 1)] = 5
    w[280, 3] = 5                                                     # neuron 3 reaches core 0 and core 1
    w_in = np.zeros((n, 1), int)
    w_in[0, 0] = 7
    with pytest.raises(MappingError) as exc:
        map_network(make_qnet(w, w_in), tn, strategy="sequential")
    assert exc.value.parameter == "target_cores_per_neuron" and "splitter" in exc.value.hint


def test_output_axon_overflow_is_resolved_by_refilling_with_fewer_neurons():
    n = 24
    w = np.zeros((n, n), int)
    for k in range(1, 5):                                             # each neuron drives the next four
        w[(np.arange(n) + k) % n, np.arange(n)] = 5
    qnet = make_qnet(w, np.ones((n, 1), int))
    # 8 neurons per core: 8 own-core routes + 4 to the next core = 12 > 10 -> refill with 6 per core
    placement = map_network(qnet, custom_profile(neurons_per_core=8, output_axons_per_core=10), strategy="sequential")
    assert placement.utilization.used[:, 3].max() <= 10 and placement.n_cores == 4
    assert any("refilled" in note for note in placement.notes)
