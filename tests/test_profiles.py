"""Hardware profiles: every bundled file passes the schema; bad files fail naming the field."""
from __future__ import annotations

import copy
import json
import math

import pytest

from hrsnn_hw.errors import ProfileError
from hrsnn_hw.profiles import (PROFILE_DIR, SCHEMA, available_profiles, load_profile,
                               parse_profile)

EXPECTED = {"loihi1", "loihi1_sanafe", "loihi2", "truenorth", "spinnaker2", "cpu", "gpu"}


def raw(name: str) -> dict:
    return json.loads((PROFILE_DIR / f"{name}.json").read_text())


def test_every_expected_profile_is_bundled():
    assert EXPECTED <= set(available_profiles())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bundled_profile_loads_with_cited_values(name):
    prof = load_profile(name)
    assert prof.name == name
    n_values = 0
    for section, values in prof.sections.items():
        for key, pv in values.items():
            n_values += 1
            assert pv.source in prof.sources, f"{section}.{key}"
            assert pv.low <= pv.value <= pv.high
            assert prof.citation(section, key)
    assert n_values >= 3
    if prof.kind == "neuromorphic":
        for key in ("synaptic_op", "neuron_update_active", "neuron_update_idle"):
            assert prof.has("energy", key)
        for key in ("neurons_per_core", "synaptic_memory_per_core", "cores_per_chip"):
            assert prof.has("core_limits", key)
    else:
        assert prof.has("energy", "mac")


def test_loihi2_energy_and_time_are_marked_estimates_with_derivations():
    prof = load_profile("loihi2")
    for section in ("energy", "timing"):
        for key, pv in prof.sections[section].items():
            assert pv.estimate, f"{section}.{key} must be marked estimate"
            assert pv.note, f"{section}.{key} needs a note"
    overhead = prof.get("energy", "per_core_step_overhead")
    assert overhead.high == pytest.approx(1.094e-3 / (16 * 74), rel=1e-4)
    assert overhead.value == pytest.approx(1.094e-3 / (16 * 74) * (1 - 41 / 274), rel=1e-4)
    assert overhead.low == 0.0
    assert prof.number("timing", "time_per_step") == pytest.approx(1 / 408.91 / 16, rel=1e-4)
    assert prof.number("energy", "static_power_per_chip") == pytest.approx(0.232)
    # the dynamic energy of the published point is consistent with its powers
    assert (0.679 - 0.232) / 408.91 == pytest.approx(1.094e-3, rel=2e-3)


def test_loihi1_bands_span_davies_and_sanafe():
    davies, sanafe = load_profile("loihi1"), load_profile("loihi1_sanafe")
    assert davies.number("energy", "synaptic_op") == pytest.approx(23.6e-12)
    assert sanafe.number("energy", "synaptic_op") == pytest.approx(33.6e-12)
    for prof in (davies, sanafe):
        syn = prof.get("energy", "synaptic_op")
        assert syn.low <= 23.6e-12 * (1 + 1e-9) and syn.high == pytest.approx(35.5e-12)
        idle = prof.get("energy", "neuron_update_idle")
        assert idle.low == pytest.approx(51.2e-12) and idle.high == pytest.approx(52e-12)
    assert sanafe.number("energy", "message_out") == pytest.approx(111e-12)
    assert (sanafe.int("core_limits", "mesh_width"), sanafe.int("core_limits", "mesh_height")) == (8, 4)


def test_units_convert_to_si():
    prof = load_profile("loihi1")
    assert prof.number("energy", "static_power_per_chip") == pytest.approx(0.104)
    assert prof.number("timing", "barrier_sync_time") == pytest.approx(113e-9)
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


def test_unknown_source_and_bad_band():
    data = raw("loihi1")
    data["energy"]["synaptic_op"]["source"] = "wikipedia"
    _expect_error(data, "energy.synaptic_op.source")
    data = raw("loihi1")
    data["energy"]["synaptic_op"]["low"] = 30
    _expect_error(data, "energy.synaptic_op")


def test_zero_or_fractional_limit_is_refused():
    data = raw("loihi1")
    data["core_limits"]["neurons_per_core"]["value"] = 0
    _expect_error(data, "core_limits.neurons_per_core.value")
    data = raw("loihi1")
    data["core_limits"]["cores_per_chip"]["value"] = 12.5
    _expect_error(data, "core_limits.cores_per_chip.value")


def test_unknown_profile_name_lists_the_bundled_ones():
    with pytest.raises(ProfileError) as exc:
        load_profile("loihi9")
    assert "loihi2" in exc.value.allowed


def test_every_schema_key_used_by_a_bundled_profile_is_in_the_schema():
    for name in EXPECTED:
        data = raw(name)
        for section in SCHEMA:
            assert set(data.get(section, {})) <= set(SCHEMA[section])
        assert all(math.isfinite(v.value) for s in load_profile(name).sections.values() for v in s.values())
    assert copy.deepcopy(raw("cpu"))["kind"] == "conventional"
