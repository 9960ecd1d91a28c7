"""NetworkSpec: sampling, validation errors (field, value, range), round trips."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from hrsnn_hw.reference import REFERENCE_DIR

from hrsnn_hw.errors import SpecError
from hrsnn_hw.io import read_json
from hrsnn_hw.spec import build_spec, load_spec, make_arm, save_spec

REF = REFERENCE_DIR


@pytest.fixture(scope="module")
def design() -> dict:
    return read_json(REF / "hrsnn.json")


def _bad(design: dict, mutate) -> SpecError:
    d = copy.deepcopy(design)
    mutate(d)
    with pytest.raises(SpecError) as info:
        build_spec(d)
    return info.value


def test_reference_design_samples_expected_structure(design):
    spec = build_spec(design)
    assert spec.n_neurons == 200
    assert [p.name for p in spec.populations] == ["exc", "inh"]
    tau_m = spec.population("exc").tau_m
    assert tau_m.min() >= 0.002 and tau_m.max() <= 0.4
    # gamma with cv 0.6 really is heterogeneous; clipping keeps the mean near 20 ms
    assert 0.3 < tau_m.std() / tau_m.mean() < 0.9
    assert abs(tau_m.mean() - 0.02) < 0.005
    w = spec.recurrent_weights().toarray()
    exc = spec.is_excitatory()
    assert (w[:, exc] >= 0).all() and (w[:, ~exc] <= 0).all()  # Dale's law
    assert np.all(np.diag(w) == 0)  # no autapses by default
    rule = spec.stdp_rule("exc->exc")
    assert rule is not None and rule.eta_plus.shape == (spec.projection("exc->exc").n_synapses,)


def test_sampling_is_reproducible_and_seed_dependent(design):
    a, b = build_spec(design), build_spec(design)
    c = build_spec(design, seed=2)
    assert np.array_equal(a.neuron_param("tau_m"), b.neuron_param("tau_m"))
    assert np.array_equal(a.recurrent_weights().toarray(), b.recurrent_weights().toarray())
    assert not np.array_equal(a.neuron_param("tau_m"), c.neuron_param("tau_m"))


def test_arms_share_connectivity_and_differ_only_in_heterogeneity(design):
    het = build_spec(design)
    hom = build_spec(make_arm(design, hetero_neurons=False, hetero_stdp=False))
    assert np.array_equal(het.recurrent_weights().toarray(), hom.recurrent_weights().toarray())
    assert np.array_equal(het.input_weights().toarray(), hom.input_weights().toarray())
    assert np.ptp(hom.population("exc").tau_m) == 0
    assert hom.population("exc").tau_m[0] == pytest.approx(0.02)
    assert np.ptp(hom.stdp_rule("exc->exc").eta_plus) == 0
    mixed = build_spec(make_arm(design, hetero_neurons=True, hetero_stdp=False))
    assert np.array_equal(mixed.neuron_param("tau_m"), het.neuron_param("tau_m"))


def test_reference_arm_files_match_make_arms(design):
    import importlib.util
    spec = importlib.util.spec_from_file_location("make_arms", Path(__file__).resolve().parent.parent / "scripts" / "make_arms.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for name, arm in mod.arms_from(design).items():
        assert read_json(REF / f"{name}.json") == json.loads(json.dumps(arm)), name


def test_save_load_round_trip_is_bit_exact(design, tmp_path):
    spec = build_spec(design)
    path = save_spec(spec, tmp_path / "s.json")
    back = load_spec(path)
    for f in ("tau_m", "tau_syn", "v_th", "refractory", "bias"):
        assert np.array_equal(back.neuron_param(f), spec.neuron_param(f))
    assert np.array_equal(back.recurrent_weights().toarray(), spec.recurrent_weights().toarray())
    assert np.array_equal(back.stdp[0].tau_plus, spec.stdp[0].tau_plus)
    # a saved spec can be re-sampled for another input size from the design it records
    other = load_spec(path, n_input=7)
    assert other.n_input == 7 and other.input_weights().toarray().shape == (200, 7)


def test_toml_design_loads(tmp_path):
    text = """
format = "hrsnn_hw.spec"
version = 1
name = "tiny"
seed = 3
dt = 0.001
n_input = 2
[populations.exc]
n = 4
tau_m = {dist = "gamma", mean = 0.02, cv = 0.3}
tau_syn = 0.005
v_th = 0.02
[projections."input->exc"]
p = 1.0
weight = 0.001
"""
    path = tmp_path / "tiny.toml"
    path.write_text(text)
    spec = load_spec(path)
    assert spec.n_neurons == 4 and spec.projection("input->exc").n_synapses == 8


@pytest.mark.parametrize("mutate, parameter, allowed", [
    (lambda d: d["populations"]["exc"].__setitem__("tau_m", -0.01), "populations.exc.tau_m", "(0, inf) s"),
    (lambda d: d["populations"]["exc"].__setitem__("tau_syn", 0.0), "populations.exc.tau_syn", "(0, inf) s"),
    (lambda d: d["populations"]["inh"].__setitem__("v_th", float("nan")), "populations.inh.v_th", None),
    (lambda d: d["populations"]["exc"].__setitem__("refractory", float("inf")), "populations.exc.refractory", None),
    (lambda d: d["projections"]["exc->exc"].__setitem__("p", 1.5), "projections.exc->exc.p", "[0, 1]"),
    (lambda d: d["projections"]["exc->inh"].__setitem__("p", -0.1), "projections.exc->inh.p", "[0, 1]"),
    (lambda d: d["populations"]["exc"].__setitem__("n", 0), "populations.exc.n", "integers >= 1"),
    (lambda d: d["populations"]["exc"].__setitem__("v_th", [0.02] * 3), "populations.exc.v_th", "length 160"),
    (lambda d: d["populations"]["exc"].__setitem__("tau_mm", 0.02), "populations.exc.tau_mm", None),
    (lambda d: d.__setitem__("colour", "red"), "colour", None),
    (lambda d: d.__setitem__("version", 99), "version", "1"),
    (lambda d: d.__setitem__("dt", 0.0), "dt", "(0, inf) s"),
    (lambda d: d["stdp"]["exc->exc"].__setitem__("tau_plus", {"dist": "gamma", "mean": -1, "cv": 0.5}),
     "stdp.exc->exc.tau_plus.mean", "(0, inf)"),
    (lambda d: d["stdp"]["exc->exc"].__setitem__("w_max", 0.0), "stdp.exc->exc.w_max", "(0, inf) V"),
    (lambda d: d["projections"]["exc->exc"].__setitem__("weight", {"dist": "gamma", "mean": 0.01, "cv": 0.5}),
     "projections.exc->exc.weight", "[0, 0.0002] V"),
])
def test_bad_specs_name_field_value_and_range(design, mutate, parameter, allowed):
    err = _bad(design, mutate)
    assert err.parameter == parameter, str(err)
    assert err.value is not None or "value" not in str(err)
    if allowed is not None:
        assert allowed in str(err), str(err)
    assert parameter in str(err)


def test_stdp_on_inhibitory_projection_is_refused(design):
    err = _bad(design, lambda d: d["stdp"].__setitem__("inh->exc", d["stdp"]["exc->exc"]))
    assert err.parameter == "stdp.inh->exc" and "excitatory" in str(err)


def test_explicit_array_of_wrong_length_in_materialised_spec(design, tmp_path):
    data = build_spec(design).to_dict()
    data["stdp"]["exc->exc"]["eta_plus"] = data["stdp"]["exc->exc"]["eta_plus"][:-1]
    with pytest.raises(SpecError) as info:
        build_spec(data)
    assert info.value.parameter == "stdp.exc->exc.eta_plus" and "length" in str(info.value)


def test_spec_arrays_are_immutable(design):
    spec = build_spec(design)
    with pytest.raises(ValueError):
        spec.population("exc").tau_m[0] = 1.0
    with pytest.raises(Exception):
        spec.name = "other"


@pytest.mark.parametrize("n", [50, 201, 1000])
def test_scale_design_keeps_ratio_and_fan_in(design, n):
    from hrsnn_hw.spec import scale_design
    scaled = scale_design(design, n)
    spec, ref = build_spec(scaled, seed=3), build_spec(design, seed=3)
    assert spec.n_neurons == n
    assert spec.population("exc").n / n == pytest.approx(0.8, abs=1.5 / n)
    # expected recurrent fan-in per target neuron is the design's, whatever N
    for proj in ref.projections:
        if proj.pre == "input":
            continue
        want = proj.probability * ref.population(proj.pre).n
        got = spec.projection(proj.name)
        assert got.probability * spec.population(proj.pre).n == pytest.approx(want, rel=1e-9)
    assert scale_design(design, n, keep="probability")["projections"]["exc->exc"]["p"] == \
        design["projections"]["exc->exc"]["p"]


def test_scale_design_refuses_what_it_cannot_scale(design):
    from hrsnn_hw.spec import scale_design
    with pytest.raises(SpecError, match="n_neurons"):
        scale_design(design, 1)
    d = copy.deepcopy(design)
    d["populations"]["exc"]["tau_m"] = [0.02] * 160
    with pytest.raises(SpecError, match="lists cannot be rescaled"):
        scale_design(d, 400)


# --- connectivity in O(synapses) ------------------------------------------------------------------

def test_bernoulli_pairs_follow_the_law_without_a_dense_mask():
    import tracemalloc

    from hrsnn_hw.spec.connect import bernoulli_pairs
    rng = np.random.default_rng(5)
    post, pre = bernoulli_pairs(rng, 300, 400, 0.05, exclude_diagonal=True)
    key = post * 400 + pre
    assert (np.diff(key) > 0).all() and (post != pre).all()
    # Binomial(300*400 - 300, 0.05): mean 5985, sd 75
    assert abs(post.size - 0.05 * (300 * 400 - 300)) < 5 * 75
    degrees = np.bincount(post, minlength=300)
    assert abs(degrees.var() / degrees.mean() - 0.95) < 0.25  # binomial fan-in, not fixed
    again = bernoulli_pairs(np.random.default_rng(5), 300, 400, 0.05, exclude_diagonal=True)
    assert np.array_equal(again[0], post) and np.array_equal(again[1], pre)
    assert bernoulli_pairs(rng, 3, 4, 1.0)[0].size == 12 and bernoulli_pairs(rng, 3, 4, 0.0)[0].size == 0
    # 10^10 candidate pairs, 10^6 synapses: memory follows the synapses (a mask would need 10 GB)
    tracemalloc.start()
    post, _ = bernoulli_pairs(np.random.default_rng(6), 100_000, 100_000, 1e-4)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert abs(post.size - 1e6) < 5e3 and peak < 200 * 2**20


def test_weights_are_sparse_and_sum_shared_pairs(design):
    import scipy.sparse
    spec = build_spec(design)
    w = spec.recurrent_weights()
    assert scipy.sparse.issparse(w) and w.shape == (spec.n_neurons, spec.n_neurons)
    assert w.nnz == sum(p.n_synapses for p in spec.projections if p.pre != "input")
    assert spec.input_weights().nnz == sum(p.n_synapses for p in spec.projections if p.pre == "input")


# --- copy_tree: the deep copy build_spec / make_arm / scale_design take of parsed files ----------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from hrsnn_hw.spec.files import copy_tree  # noqa: E402

_json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=4))
_json_tree = st.recursive(_json_leaf, lambda kids: st.one_of(st.lists(kids, max_size=4),
                                                             st.dictionaries(st.text(max_size=3), kids, max_size=4)),
                          max_leaves=30)


@given(st.dictionaries(st.text(max_size=3), _json_tree, max_size=5))
@settings(max_examples=200, deadline=None)
def test_copy_tree_equals_deepcopy_and_shares_no_container(data):
    copied = copy_tree(data)
    assert copied == copy.deepcopy(data)

    def containers(x):
        if isinstance(x, dict):
            yield x
            for v in x.values():
                yield from containers(v)
        elif isinstance(x, list):
            yield x
            for v in x:
                yield from containers(v)
    original_ids = {id(c) for c in containers(data)}
    assert not original_ids & {id(c) for c in containers(copied)}


def test_build_spec_leaves_the_parsed_design_untouched(tmp_path):
    design = read_json(REFERENCE_DIR / "hrsnn.json")
    before = copy.deepcopy(design)
    spec = build_spec(design, n_input=7, seed=3, name="x")
    assert spec.n_input == 7 and design == before
