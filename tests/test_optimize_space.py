"""Search space of ``hrsnn-hw optimize``: parsing, validation errors, writing values into designs."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

from hrsnn_hw.reference import REFERENCE_DIR

from hrsnn_hw.errors import SpecError
from hrsnn_hw.io import read_json
from hrsnn_hw.optimize import (parse_constraint, parse_objectives, parse_param, read_space_file,
                               space_from_cli, space_from_dict, TaskMetric)
from hrsnn_hw.spec import build_spec

REF = REFERENCE_DIR


@pytest.fixture(scope="module")
def design() -> dict:
    return read_json(REF / "hrsnn.json")


def test_default_space_file_is_valid_for_the_reference_design(design):
    space = read_space_file(REF / "search_space.json")
    space.validate(design)
    assert "populations.exc.tau_m.cv" in space.names and "stdp.exc->exc.tau_minus.cv" in space.names
    mean = next(p for p in space.params if p.path == "populations.exc.tau_m.mean")
    assert mean.log and mean.low < 0.02 < mean.high


def test_cli_param_syntax_with_flags():
    p = parse_param("populations.exc.tau_m.mean=0.005:0.1:log")
    assert (p.path, p.low, p.high, p.log, p.integer) == ("populations.exc.tau_m.mean", 0.005, 0.1, True, False)
    q = parse_param("populations.exc.n=100:300:int")
    assert q.integer and not q.log
    assert q.distribution().__class__.__name__ == "IntDistribution"


@pytest.mark.parametrize("spec, fragment", [
    ("populations.exc.tau_x.cv=0:1", "unknown search path"),
    ("populations.exc.tau_m.cv=1.5:0", "low < high"),
    ("populations.exc.tau_m.cv=nan:1", "finite"),
    ("populations.exc.tau_m.cv=0:inf", "finite"),
    ("populations.exc.tau_m=0:1", "names a table"),
    ("populations.exc.tau_m.mean=0:0.1:log", "log-scale"),
    ("populations.exc.tau_m.cv", "PATH=LOW:HIGH"),
    ("populations.exc.tau_m.cv=0.5", "two bounds"),
    ("populations.exc.tau_m.cv=0:1:cubic", "unknown flag"),
    ("populations.exc.n=100.5:300:int", "integer bounds"),
    ("populations.exc.tau_m.shape=1:3", "other way"),
    ("populations.exc.tau_m.std=0:1", "not a field"),
    ("projections.exc->exc.p=0.05:1.5", "high bound"),
    ("populations.exc.tau_syn.max=0:1", "past a plain number"),
])
def test_bad_search_parameters_name_the_parameter(design, spec, fragment):
    with pytest.raises(SpecError) as info:
        space_from_cli([spec]).validate(design)
    assert fragment in str(info.value)
    assert info.value.parameter is not None


def test_file_errors(design):
    with pytest.raises(SpecError, match="unknown key in search parameter"):
        space_from_dict({"params": {"populations.exc.tau_m.cv": {"low": 0, "high": 1, "lg": True}}})
    with pytest.raises(SpecError, match="missing search bound"):
        space_from_dict({"params": {"populations.exc.tau_m.cv": {"low": 0}}})
    with pytest.raises(SpecError, match="empty"):
        space_from_dict({"params": {}})
    with pytest.raises(SpecError, match="not a search space file"):
        space_from_dict({"format": "hrsnn_hw.spec", "params": {}})
    with pytest.raises(SpecError, match="given twice"):
        space_from_cli(["populations.exc.tau_m.cv=0:1", "populations.exc.tau_m.cv=0:2"])


def test_apply_writes_values_and_opens_plain_numbers(design):
    before = copy.deepcopy(design)
    values = {"populations.exc.tau_m.cv": 1.1, "populations.exc.tau_syn.mean": 0.008,
              "populations.exc.tau_syn.cv": 0.4, "projections.exc->exc.p": 0.15, "stdp.exc->exc.tau_plus.cv": 0.0}
    space = space_from_cli([f"{k}=0:1" if k != "populations.exc.tau_syn.mean" else f"{k}=0.001:0.02" for k in values])
    space.validate(design)
    new = space.apply(design, values)
    assert design == before  # input untouched
    assert new["populations"]["exc"]["tau_m"]["cv"] == 1.1
    assert new["populations"]["exc"]["tau_syn"] == {"dist": "gamma", "mean": 0.008, "cv": 0.4}
    assert new["projections"]["exc->exc"]["p"] == 0.15
    spec = build_spec(new)
    tau_syn = spec.population("exc").tau_syn
    assert tau_syn.std() > 0  # opened: synaptic time constants are heterogeneous now
    with pytest.raises(SpecError, match="outside the search space"):
        space.apply(design, {"populations.inh.tau_m.cv": 0.3})


def test_a_learning_rate_spread_the_balance_rule_overrides_is_refused(design):
    dead = space_from_cli(["stdp.exc->exc.eta_plus.cv=0:1.5"])
    with pytest.raises(SpecError, match="no effect") as info:
        dead.validate(design)
    assert info.value.parameter == "stdp.exc->exc.eta_plus.cv" and "tau_plus.cv" in info.value.hint
    free = copy.deepcopy(design)
    free["stdp"]["exc->exc"]["balance"] = "independent"
    dead.validate(free)  # under independent draws the spread of eta is a real parameter


def test_objectives_and_constraints_parse():
    acc = TaskMetric("accuracy", True)
    objs = parse_objectives("task,spikes", acc, None)
    assert [(o.metric, o.direction) for o in objs] == [("task_metric", "maximize"), ("spikes_per_inference", "minimize")]
    nrmse = parse_objectives("task", TaskMetric("nrmse", False), None)
    assert nrmse[0].direction == "minimize"
    c = parse_constraint("accuracy >= 0.8", acc, None)
    assert c.violation({"task_metric": 0.85}) == pytest.approx(-0.05)
    assert c.violation({"task_metric": 0.7}) == pytest.approx(0.1)
    assert c.violation({}) == float("inf")
    with pytest.raises(SpecError, match="scored by accuracy"):
        parse_constraint("nrmse<=0.3", acc, None)
    with pytest.raises(SpecError, match=">= or <="):
        parse_constraint("accuracy>0.8", acc, None)
    with pytest.raises(SpecError, match="unknown objective"):
        parse_objectives("speed", acc, None)
    with pytest.raises(SpecError, match="hardware profile"):
        parse_objectives("task,energy", acc, None)
