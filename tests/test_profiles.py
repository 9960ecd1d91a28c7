"""Hardware profiles: the JSON Schema validates every bundled file; bad files fail naming the field;
the cited facts and the derivations written in the profiles are recomputed from their sources."""
from __future__ import annotations

import json
import math

import pytest

from hrsnn_hw.errors import ProfileError
from hrsnn_hw.profiles import (KEY_DOCS, PROFILE_DIR, SECTIONS, available_profiles, load_profile, parse_profile,
                               schema)

EXPECTED = {"loihi1", "loihi1_sanafe", "loihi2", "truenorth", "spinnaker2", "cpu", "gpu"}

# lava-dl tutorials/lava/lib/dl/netx/pilotnet_snn/benchmark.ipynb (the cited measurement)
PILOTNET_LAYERS = (200 * 66 * 3, 99 * 32 * 24, 49 * 15 * 36, 24 * 7 * 48, 22 * 4 * 64, 20 * 2 * 64, 100, 50, 10, 1)
PILOTNET = {"steps": 16, "cores": 74, "fps": 408.91, "total_w": 0.679234, "static_w": 0.232078,
            "dynamic_j": 1.093544e-3, "total_j": 1.661103e-3, "fullest_core": 3168}


def raw(name: str) -> dict:
    return json.loads((PROFILE_DIR / f"{name}.json").read_text())


def test_schema_is_a_valid_json_schema_and_documents_every_key():
    import jsonschema
    jsonschema.Draft202012Validator.check_schema(schema())
    for section in SECTIONS:
        for key in schema()["properties"][section]["properties"]:
            assert KEY_DOCS[f"{section}.{key}"], f"{section}.{key} has no description"


def test_every_expected_profile_is_bundled():
    assert EXPECTED <= set(available_profiles())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bundled_profile_loads_with_cited_values(name):
    prof = load_profile(name)
    assert prof.name == name and prof.version == 2
    n_values = 0
    for section, values in prof.sections.items():
        for key, pv in values.items():
            n_values += 1
            assert pv.source in prof.sources, f"{section}.{key}"
            assert pv.low <= pv.value <= pv.high
            assert prof.citation(section, key)
    assert n_values >= 2
    for citation in prof.sources.values():
        assert "shared/docs" not in citation and "energy-sources" not in citation


def test_static_and_time_models_name_the_conventions():
    models = {n: (load_profile(n).static_model, load_profile(n).time_model) for n in EXPECTED}
    assert models["loihi1"] == models["loihi1_sanafe"] == models["loihi2"] == ("per_chip", "compute")
    assert models["truenorth"] == ("in_event_energy", "tick")
    assert models["spinnaker2"] == ("none_published", "real_time")
    assert models["cpu"] == models["gpu"] == ("excluded", "none")


def test_loihi2_values_are_estimates_derived_from_the_pilotnet_measurement():
    prof = load_profile("loihi2")
    for section in ("energy", "timing"):
        for key, pv in prof.sections[section].items():
            assert pv.estimate, f"{section}.{key} must be marked estimate"
            assert pv.note, f"{section}.{key} needs a note"
    neurons = sum(PILOTNET_LAYERS)
    assert neurons == 158509
    # the measurement is self-consistent: dynamic energy = (total - static power) / inference rate
    assert (PILOTNET["total_w"] - PILOTNET["static_w"]) / PILOTNET["fps"] == pytest.approx(PILOTNET["dynamic_j"], rel=1e-4)
    assert PILOTNET["total_w"] / PILOTNET["fps"] == pytest.approx(PILOTNET["total_j"], rel=1e-4)
    core_steps = PILOTNET["steps"] * PILOTNET["cores"]
    overhead = prof.get("energy", "per_core_step_overhead")
    assert overhead.high == pytest.approx(PILOTNET["dynamic_j"] / core_steps, rel=1e-3)
    residual = PILOTNET["dynamic_j"] - neurons * PILOTNET["steps"] * prof.number("energy", "neuron_update_active")
    assert overhead.value == pytest.approx(residual / core_steps, rel=1e-3)
    assert overhead.low == 0.0
    step = 1 / PILOTNET["fps"] / PILOTNET["steps"]
    assert prof.get("timing", "neuron_active_time").high == pytest.approx(step / PILOTNET["fullest_core"], rel=2e-3)
    assert prof.number("energy", "static_power_per_chip") == pytest.approx(PILOTNET["static_w"])
    # no time or power is taken from PilotNet's step as a value: it only bounds the bands
    assert not prof.has("timing", "tick")


def test_loihi1_bands_span_davies_and_sanafe():
    davies, sanafe = load_profile("loihi1"), load_profile("loihi1_sanafe")
    assert davies.number("energy", "synaptic_op") == pytest.approx(23.6e-12)
    assert sanafe.number("energy", "synaptic_op") == pytest.approx(33.6e-12)
    for prof in (davies, sanafe):
        syn = prof.get("energy", "synaptic_op")
        assert syn.low <= 23.6e-12 * (1 + 1e-9) and syn.high == pytest.approx(35.5e-12)
        idle = prof.get("energy", "neuron_update_idle")
        assert idle.low == pytest.approx(51.2e-12) and idle.high == pytest.approx(52e-12)
        sync = prof.get("timing", "barrier_sync_time")
        assert [sync.at_tiles(k) for k in (1, 2, 3, 4, 28, 29, 40)] == pytest.approx(
            [0.6e-6, 1.0e-6, 1.0e-6, 1.4e-6, 1.4e-6, 1.8e-6, 1.8e-6])
    assert sanafe.number("energy", "message_out") == pytest.approx(111e-12)
    assert sanafe.number("timing", "message_in_time") == pytest.approx(16e-9)
    assert (sanafe.int("core_limits", "mesh_width"), sanafe.int("core_limits", "mesh_height")) == (8, 4)


def test_spinnaker2_names_the_prototype_node_of_its_figures():
    prof = load_profile("spinnaker2")
    assert "28 nm" in prof.description and "22 nm FDSOI" in prof.description
    assert "28 nm" in prof.sources["hoeppner2019"] and "22 nm" in prof.sources["mayr2019"]
    assert prof.get("energy", "synaptic_op").estimate


def test_truenorth_limits_one_target_core_per_neuron():
    assert load_profile("truenorth").int("core_limits", "target_cores_per_neuron") == 1


def test_conventional_batch1_prices_are_blouw_measurements_per_mac():
    for name, mj in (("cpu", 6.3), ("gpu", 29.8)):
        prof = load_profile(name)
        assert prof.number("energy", "mac_batch1") == pytest.approx(mj * 1e-3 / 172800, rel=1e-3)
        assert prof.number("energy", "mac_batch1") > prof.number("energy", "mac")


def test_units_convert_to_si():
    prof = load_profile("loihi1")
    assert prof.number("energy", "static_power_per_chip") == pytest.approx(0.104)
    assert prof.get("timing", "barrier_sync_time").low == pytest.approx(113e-9)
    assert prof.int("number_format", "decay_bits") == 12


def test_user_profile_by_path(tmp_path):
    data = raw("loihi1")
    data["name"] = "my_chip"
    data["energy"]["synaptic_op"] = {"value": 10, "unit": "pJ", "source": "davies2018"}
    path = tmp_path / "my_chip.json"
    path.write_text(json.dumps(data))
    prof = load_profile(path)
    assert prof.name == "my_chip"
    assert prof.number("energy", "synaptic_op") == pytest.approx(10e-12)
    assert prof.path == str(path)


def test_energy_only_profile_cannot_be_asked_for_number_formats():
    prof = load_profile("truenorth")
    assert not prof.sections["number_format"]
    with pytest.raises(ProfileError) as exc:
        prof.int("number_format", "decay_bits")
    assert exc.value.parameter == "number_format.decay_bits"


def _expect_error(data: dict, parameter: str) -> ProfileError:
    with pytest.raises(ProfileError) as exc:
        parse_profile(data)
    assert exc.value.parameter == parameter, str(exc.value)
    assert parameter in str(exc.value)
    return exc.value


def test_missing_required_field_names_it():
    data = raw("loihi1")
    del data["energy"]["synaptic_op"]
    _expect_error(data, "energy.synaptic_op")
    data = raw("cpu")
    del data["energy"]["mac_batch1"]
    _expect_error(data, "energy.mac_batch1")
    data = raw("loihi1")
    del data["timing"]["barrier_sync_time"]                 # required by the compute time model
    _expect_error(data, "timing.barrier_sync_time")
    data = raw("truenorth")
    del data["timing"]                                       # a tick model needs its tick
    _expect_error(data, "timing")


def test_missing_number_format_key_when_section_present_names_it():
    data = raw("loihi2")
    del data["number_format"]["decay_bits"]
    _expect_error(data, "number_format.decay_bits")


def test_missing_value_source_names_it():
    data = raw("loihi1")
    del data["energy"]["synaptic_op"]["source"]
    _expect_error(data, "energy.synaptic_op.source")


def test_negative_energy_names_the_field():
    data = raw("loihi1")
    data["energy"]["synaptic_op"]["value"] = -23.6
    err = _expect_error(data, "energy.synaptic_op.value")
    assert "negative" in str(err)


def test_wrong_unit_names_the_field_and_the_allowed_units():
    data = raw("loihi1")
    data["energy"]["synaptic_op"]["unit"] = "ns"
    err = _expect_error(data, "energy.synaptic_op.unit")
    assert "pJ" in err.allowed


def test_unknown_key_in_section_value_and_top_level():
    data = raw("loihi1")
    data["energy"]["synaptic_opp"] = {"value": 1, "unit": "pJ", "source": "davies2018"}
    _expect_error(data, "energy.synaptic_opp")
    data = raw("loihi1")
    data["energy"]["synaptic_op"]["sauce"] = "x"
    _expect_error(data, "energy.synaptic_op.sauce")
    data = raw("loihi1")
    data["chip_colour"] = "blue"
    _expect_error(data, "chip_colour")


def test_unknown_source_bad_band_and_bad_table():
    data = raw("loihi1")
    data["energy"]["synaptic_op"]["source"] = "wikipedia"
    _expect_error(data, "energy.synaptic_op.source")
    data = raw("loihi1")
    data["energy"]["synaptic_op"]["low"] = 30
    _expect_error(data, "energy.synaptic_op")
    data = raw("loihi1")
    data["timing"]["barrier_sync_time"]["by_tiles"] = [[4, 1.4], [2, 1.0]]
    _expect_error(data, "timing.barrier_sync_time.by_tiles")


def test_zero_or_fractional_limit_and_bad_models_are_refused():
    data = raw("loihi1")
    data["core_limits"]["neurons_per_core"]["value"] = 0
    _expect_error(data, "core_limits.neurons_per_core.value")
    data = raw("loihi1")
    data["core_limits"]["cores_per_chip"]["value"] = 12.5
    _expect_error(data, "core_limits.cores_per_chip.value")
    data = raw("loihi1")
    data["static_model"] = "guess"
    err = _expect_error(data, "static_model")
    assert "per_chip" in err.allowed
    data = raw("loihi1")
    data["version"] = 1
    err = _expect_error(data, "version")
    assert "version 2" in err.hint


def test_unknown_profile_name_lists_the_bundled_ones():
    with pytest.raises(ProfileError) as exc:
        load_profile("loihi9")
    assert "loihi2" in exc.value.allowed


def test_values_are_finite():
    for name in EXPECTED:
        assert all(math.isfinite(v.value) for s in load_profile(name).sections.values() for v in s.values())
