"""quantize / dequantize / report / sweep on whole networks."""
from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

from hrsnn_hw.errors import LossyConversionWarning, QuantizationError
from hrsnn_hw.reference import REFERENCE_DIR
from hrsnn_hw.io import to_jsonable
from hrsnn_hw.quantize import (QuantizationPolicy, QuantizationReport, QuantizedNetwork, SweepResult, dequantize,
                               quantize, sweep)
from hrsnn_hw.spec import NetworkSpec, build_spec, load_spec
from hrsnn_hw.trained import TrainedNetwork

REFERENCE = REFERENCE_DIR


@pytest.fixture(scope="module")
def hrsnn() -> NetworkSpec:
    return load_spec(REFERENCE / "hrsnn.json")


@pytest.fixture(scope="module")
def hrsnn_q(hrsnn):
    return quantize(hrsnn, "loihi2", QuantizationPolicy(strict=True))


def small_design(**pop_overrides) -> dict:
    """Two populations, every connection type, explicit per-neuron values where overridden."""
    exc = {"n": 6, "excitatory": True, "tau_m": [0.005, 0.01, 0.02, 0.04, 0.08, 0.16], "tau_syn": 0.005,
           "v_th": 0.02, "refractory": 0.002, "bias": 0.0}
    inh = {"n": 3, "excitatory": False, "tau_m": 0.01, "tau_syn": 0.005, "v_th": 0.02, "refractory": 0.002,
           "bias": 0.0}
    exc.update(pop_overrides)
    return {"format": "hrsnn_hw.spec", "version": 1, "name": "small", "seed": 3, "dt": 0.001, "n_input": 4,
            "populations": {"exc": exc, "inh": inh},
            "projections": {"input->exc": {"p": 0.5, "weight": 0.004}, "exc->exc": {"p": 0.5, "weight": 0.001},
                            "exc->inh": {"p": 0.5, "weight": 0.002}, "inh->exc": {"p": 0.5, "weight": 0.003}}}


def small(**kw) -> NetworkSpec:
    design = small_design(**{k: v for k, v in kw.items() if k != "dt"})
    if "dt" in kw:
        design["dt"] = kw["dt"]
    return build_spec(design)


def quantize_quiet(spec, profile="loihi2", **policy):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        qnet, report = quantize(spec, profile, QuantizationPolicy(**policy))
    return qnet, report, [w for w in caught if issubclass(w.category, LossyConversionWarning)]


# --- the reference design ----------------------------------------------------------------------
@pytest.mark.parametrize("profile", ["loihi1", "loihi2"])
def test_reference_hrsnn_quantizes_strictly(hrsnn, profile):
    qnet, report = quantize(hrsnn, profile, QuantizationPolicy(strict=True))
    assert report.warnings == () and report.profile == profile
    n = hrsnn.n_neurons
    assert qnet.n_neurons == n and qnet.n_input == hrsnn.n_input and qnet.dt == hrsnn.dt
    assert report.neuron_profiles["before"] > 32 and report.neuron_profiles["binned"]
    keys = {tuple(r) for r in np.column_stack([qnet.du, qnet.dv, qnet.vth, qnet.refractory_steps])}
    assert len(keys) == report.neuron_profiles["after"] <= 32  # profile default K
    assert np.all((qnet.du >= 0) & (qnet.du <= 4095) & (qnet.dv >= 1) & (qnet.dv <= 4095))
    assert np.all((qnet.vth >= 1) & (qnet.vth < 2 ** 17))
    assert np.array_equal(qnet.refractory_steps, np.rint(hrsnn.neuron_param("refractory") / hrsnn.dt))
    assert not report.overflow["u_overflow_possible"] and report.overflow["u_headroom"] >= 1.0
    assert report.parameters["tau_m"].max_rel_err < 0.1
    assert [p.name for p in qnet.projections] == [p.name for p in hrsnn.projections]
    for proj, qp in zip(hrsnn.projections, qnet.projections):
        post, pre = hrsnn.global_indices(proj)
        assert qp.source == ("input" if proj.pre == "input" else "recurrent")
        assert np.count_nonzero(qp.w_post_pre) == proj.n_synapses  # nothing lost, nothing extra
        vals = qp.w_post_pre[post, pre]
        assert qp.sign_mode == ("inhibitory" if proj.pre == "inh" else "excitatory")
        assert np.all(vals < 0) if qp.sign_mode == "inhibitory" else np.all(vals > 0)
        assert 128 <= np.abs(vals).max() <= 255 and qp.num_weight_bits == 8
        assert report.projections[proj.name]["weight_exp"] == qp.weight_exp
    assert qnet.provenance["profile"] == profile and qnet.number_format.u_shift == 6


def test_quantize_does_not_mutate_its_input(hrsnn):
    before = {name: hrsnn.neuron_param(name).copy() for name in ("tau_m", "tau_syn", "v_th", "bias", "refractory")}
    weights = {p.name: p.weight.copy() for p in hrsnn.projections}
    quantize(hrsnn, "loihi1", QuantizationPolicy(max_neuron_profiles=4))
    for name, arr in before.items():
        assert np.array_equal(hrsnn.neuron_param(name), arr)
    for pop in hrsnn.populations:
        assert not pop.tau_m.flags.writeable and not pop.v_th.flags.writeable
    for p in hrsnn.projections:
        assert np.array_equal(p.weight, weights[p.name]) and not p.weight.flags.writeable


def test_quantized_arrays_are_read_only(hrsnn_q):
    qnet, report = hrsnn_q
    assert not qnet.dv.flags.writeable and not qnet.projections[0].w_post_pre.flags.writeable
    assert not report.arrays["tau_m_eff"].flags.writeable


def test_deterministic(hrsnn):
    a_net, a_rep = quantize(hrsnn, "loihi2", QuantizationPolicy(max_neuron_profiles=8, binning="quantile"))
    b_net, b_rep = quantize(hrsnn, "loihi2", QuantizationPolicy(max_neuron_profiles=8, binning="quantile"))
    for name in ("du", "dv", "vth", "bias_mant", "bias_exp", "refractory_steps"):
        assert np.array_equal(getattr(a_net, name), getattr(b_net, name))
    for pa, pb in zip(a_net.projections, b_net.projections):
        assert pa.weight_exp == pb.weight_exp and np.array_equal(pa.w_post_pre, pb.w_post_pre)
    assert a_net.v_scale == b_net.v_scale
    assert json.dumps(a_rep.to_dict(), sort_keys=True) == json.dumps(b_rep.to_dict(), sort_keys=True)


def test_trained_network_input(hrsnn):
    trained = TrainedNetwork(spec=hrsnn, initial=hrsnn, provenance={"seed": 5})
    qnet, _ = quantize(trained, "loihi2")
    ref, _ = quantize(hrsnn, "loihi2")
    assert np.array_equal(qnet.dv, ref.dv) and qnet.provenance["source"] == "TrainedNetwork"
    assert qnet.provenance["trained"] == {"seed": 5}
    with pytest.raises(QuantizationError, match="NetworkSpec or a TrainedNetwork"):
        quantize({"not": "a spec"}, "loihi2")


def test_saved_network_round_trip(hrsnn_q, tmp_path):
    qnet, _ = hrsnn_q
    qnet.save(tmp_path / "q.npz")
    back = QuantizedNetwork.load(tmp_path / "q.npz")
    assert np.array_equal(back.vth, qnet.vth) and back.v_scale == qnet.v_scale
    assert all(np.array_equal(a.w_post_pre, b.w_post_pre) for a, b in zip(back.projections, qnet.projections))


# --- neuron profiles ---------------------------------------------------------------------------
def test_binning_respects_k_and_reports_rounding_and_binning_separately(hrsnn):
    unbinned, rep_all = quantize(hrsnn, "loihi2", QuantizationPolicy(max_neuron_profiles=hrsnn.n_neurons))
    distinct = rep_all.neuron_profiles["before"]
    assert rep_all.neuron_profiles["after"] == distinct and not rep_all.neuron_profiles["binned"]
    assert rep_all.parameters["tau_m.binning"].max_rel_err == 0.0
    for method in ("kmeans-log", "quantile"):
        errors = []
        for k in (1, 2, 4, 8, 16):
            qnet, rep = quantize(hrsnn, "loihi2", QuantizationPolicy(max_neuron_profiles=k, binning=method))
            keys = {tuple(r) for r in np.column_stack([qnet.du, qnet.dv, qnet.vth, qnet.refractory_steps])}
            assert len(keys) <= k and rep.neuron_profiles["after"] == len(keys)
            assert rep.neuron_profiles["before"] == distinct
            total = rep.arrays["tau_m_rel_err"]
            assert np.allclose(total, rep.arrays["tau_m_rel_err_rounding"] + rep.arrays["tau_m_rel_err_binning"])
            assert np.array_equal(rep.arrays["tau_m_rel_err_rounding"], rep_all.arrays["tau_m_rel_err"])
            errors.append(rep.parameters["tau_m"].mean_rel_err)
        assert errors[-1] < errors[0]  # more profiles, smaller binning error
    # K at least the number of distinct taus: lossless with respect to rounding alone
    n_taus = np.unique(hrsnn.neuron_param("tau_m")).size
    lossless, rep = quantize(hrsnn, "loihi2", QuantizationPolicy(max_neuron_profiles=n_taus))
    assert np.array_equal(lossless.dv, unbinned.dv) and np.array_equal(lossless.du, unbinned.du)
    assert rep.parameters["tau_m.binning"].max_abs_err == 0.0


def test_profile_without_a_profile_limit_does_not_bin(hrsnn):
    from hrsnn_hw.profiles import load_profile, parse_profile
    raw = json.loads(json.dumps(dict(load_profile("loihi2").raw)))
    del raw["core_limits"]["neuron_profiles_per_core"]
    _, report = quantize(hrsnn, parse_profile(raw))
    assert not report.neuron_profiles["binned"] and report.neuron_profiles["after"] > 32
    assert "unlimited" in report.neuron_profiles["limit_source"]


def test_homogeneous_network_has_one_profile():
    spec = small(tau_m=0.01)  # both populations: tau_m 10 ms, tau_syn 5 ms, same threshold
    qnet, report = quantize(spec, "loihi1", QuantizationPolicy(strict=True, max_neuron_profiles=1))
    assert report.neuron_profiles["before"] == report.neuron_profiles["after"] == 1
    assert np.unique(qnet.dv).size == 1 and report.parameters["tau_m.binning"].max_abs_err == 0.0


def test_heterogeneous_thresholds_are_binned_too():
    spec = small(v_th=[0.01, 0.012, 0.015, 0.02, 0.025, 0.03], tau_m=0.02)
    qnet, report = quantize(spec, "loihi2", QuantizationPolicy(max_neuron_profiles=3))
    keys = {tuple(r) for r in np.column_stack([qnet.du, qnet.dv, qnet.vth, qnet.refractory_steps])}
    assert len(keys) <= 3 and report.parameters["v_th.binning"].max_rel_err > 0


# --- unrepresentable values --------------------------------------------------------------------
def test_tau_m_too_long_is_an_error_when_strict_and_a_warning_otherwise():
    spec = small(tau_m=[0.005, 0.01, 20.0, 0.04, 0.08, 0.16])
    with pytest.raises(QuantizationError) as info:
        quantize(spec, "loihi2", QuantizationPolicy(strict=True))
    err = info.value
    assert err.parameter == "populations.exc.tau_m" and err.index == 2 and err.value == 20.0
    assert "tau_m = 20 s at dt = 1 ms rounds to a 12-bit decay of 0 (no leak)" in str(err)
    assert "lower tau_m or raise dt" in err.hint and "1 ms: 120.2 us .. 4.095 s" in err.allowed
    qnet, report, caught = quantize_quiet(spec)
    assert qnet.dv[2] == 0 and "no leak" in report.warnings[0]
    # without leak the neuron's Loihi-form threshold v_th / (1 - a_v) is out of range as well
    assert len(caught) == 2 and "threshold v_th / (1 - exp(-dt/tau_m))" in report.warnings[1]
    assert report.parameters["tau_m"].n_zeroed == 1 and math.isinf(report.parameters["tau_m"].max_rel_err)
    deq = dequantize(qnet, spec)  # no leak stays a valid (finite) spec: decay 1 to double precision
    assert deq.neuron_param("tau_m")[2] == spec.dt * 2.0 ** 52


def test_tau_too_short_and_tau_syn_beyond_the_floor_warn():
    spec = small(tau_m=[0.00005, 0.01, 0.02, 0.04, 0.08, 0.16], tau_syn=[0.005, 0.005, 0.005, 0.005, 0.005, 30.0])
    qnet, report, caught = quantize_quiet(spec, max_neuron_profiles=100)
    text = " | ".join(report.warnings)
    assert "tau_m = 50 us at dt = 1 ms is shorter than the shortest representable decay" in text
    assert "tau_syn = 30 s at dt = 1 ms needs a decay below the du floor" in text
    assert qnet.dv[0] == 4095 and qnet.du[5] == 0 and len(caught) == 2
    assert report.parameters["tau_m"].n_saturated == 1 and report.parameters["tau_syn"].n_clipped == 1


def test_bad_dt():
    # dt = 1 us: every tau_m of 5-160 ms rounds to no leak
    with pytest.raises(QuantizationError, match="raise dt"):
        quantize(small(dt=1e-6), "loihi2", QuantizationPolicy(strict=True))
    # dt = 0.5 s: the decays saturate and the 2 ms refractory period is lost
    qnet, report, _ = quantize_quiet(small(dt=0.5))
    text = " | ".join(report.warnings)
    assert "is shorter than the shortest representable decay" in text and "lower dt" in text
    assert "refractory = 2 ms is shorter than half a step at dt = 500 ms" in text
    assert np.all(qnet.refractory_steps == 0)


def test_weights_needing_more_bits(tmp_path):
    design = small_design()
    design["projections"]["exc->exc"] = {"p": 1.0, "synapses": {"pre": [0, 1, 2, 3], "post": [1, 2, 3, 4],
                                                                 "weight": [1e-2, 1e-3, 2e-7, 1e-7]}}
    spec = build_spec(design)
    with pytest.raises(QuantizationError) as info:
        quantize(spec, "loihi2", QuantizationPolicy(strict=True))
    err = info.value
    assert err.parameter == "projections.exc->exc.weight" and err.index == 2 and err.value == 2e-7
    assert "2 of 4 weights of projection exc->exc round to 0" in str(err) and "more bits" in str(err)
    qnet, report, caught = quantize_quiet(spec)
    stats = report.parameters["weights[exc->exc]"]
    assert stats.n_zeroed == 2 and report.projections["exc->exc"]["n_lost"] == 2
    qp = next(p for p in qnet.projections if p.name == "exc->exc")
    assert np.count_nonzero(qp.w_post_pre) == 2
    # fewer bits lose more: at 2 bits the 1 mV weight goes too
    _, rep2, _ = quantize_quiet(spec, weight_bits=2)
    assert rep2.projections["exc->exc"]["n_lost"] == 3 and rep2.projections["exc->exc"]["truncated_low_bits"] == 6
    with pytest.raises(QuantizationError, match="weight register"):
        quantize(spec, "loihi2", QuantizationPolicy(weight_bits=9))


def test_threshold_beyond_the_mantissa():
    spec = small()
    with pytest.raises(QuantizationError) as info:
        quantize(spec, "loihi2", QuantizationPolicy(strict=True, v_scale=1e-10))
    assert info.value.parameter == "populations.exc.v_th" and "exceeds the largest representable" in str(info.value)
    qnet, report, _ = quantize_quiet(spec, v_scale=1e-10)
    assert np.all(qnet.vth == 2 ** 17 - 1) and report.parameters["v_th"].n_saturated == spec.n_neurons
    # a threshold range wider than the mantissa: the smallest falls below one unit
    wide = small(v_th=[1e-9, 0.02, 0.02, 0.02, 0.02, 0.02])
    with pytest.raises(QuantizationError, match="below half a threshold unit"):
        quantize(wide, "loihi2", QuantizationPolicy(strict=True))


def test_explicit_scale_with_possible_u_overflow_warns(hrsnn, hrsnn_q):
    auto = hrsnn_q[1].v_scale
    qnet, report, caught = quantize_quiet(hrsnn, v_scale=auto / 2)
    assert report.overflow["u_overflow_possible"] and report.overflow["u_headroom"] < 0.6
    assert any("u can wrap" in w for w in report.warnings)
    # one warning about u (the halved scale may clip some thresholds too: those warn separately)
    assert sum("u can wrap" in str(w.message) for w in caught) == 1
    assert report.v_scale_choice["explicit"] and qnet.v_scale == auto / 2


def test_worst_case_u_bound_is_reached_by_saturating_input():
    design = small_design(tau_syn=0.02)
    design["projections"] = {"input->exc": {"p": 1.0, "weight": {"dist": "gamma", "mean": 0.004, "cv": 0.5}}}
    spec = build_spec(design)
    qnet, report = quantize(spec, "loihi2", QuantizationPolicy(strict=True))
    qp = qnet.projections[0]
    a_in = np.left_shift(qp.w_post_pre.astype(np.int64).sum(axis=1), qp.weight_exp) << qnet.number_format.u_shift
    u = np.zeros(qnet.n_neurons, dtype=np.int64)
    peak = 0
    for _ in range(400):  # every input channel spikes every step: Lava's integer u update
        prod = u * (4096 - (qnet.du + 1))
        u = np.sign(prod) * (np.abs(prod) >> 12) + a_in
        peak = max(peak, int(u.max()))
    bound = report.overflow["u_worst_units"]
    assert peak <= bound <= 2 ** 23 - 1 and peak >= 0.995 * bound


def test_automatic_scale_is_the_finest_safe_one(hrsnn_q):
    qnet, report = hrsnn_q
    choice = report.v_scale_choice
    assert report.v_scale >= max(choice["bounds"].values()) * (1 - 1e-12)
    assert report.overflow["u_worst_units"] <= 2 ** 23 - 1
    assert choice["binding"] in choice["bounds"]
    # not coarser than needed: the scale is the binding bound itself (u's headroom is ~1 only
    # when u's worst case is what binds; the reference design binds on the threshold)
    assert report.v_scale <= choice["bounds"][choice["binding"]] * (1 + 1e-9)
    assert report.overflow["u_headroom"] >= 1.0
    if choice["binding"] == "u_overflow":
        assert report.overflow["u_headroom"] < 1.01


# --- dequantize ---------------------------------------------------------------------------------
def test_dequantize_gives_the_effective_float_network(hrsnn, hrsnn_q):
    qnet, report = hrsnn_q
    deq = dequantize(qnet, hrsnn)
    assert isinstance(deq, NetworkSpec) and deq.population_names == hrsnn.population_names
    assert np.allclose(deq.neuron_param("tau_m"), report.arrays["tau_m_eff"], rtol=1e-12)
    assert np.allclose(np.exp(-deq.dt / deq.neuron_param("tau_syn")), (4096 - qnet.du - 1) / 4096, rtol=1e-12)
    gain = (qnet.dv.astype(float)) / 4096  # 1 - a_v of the effective decay
    assert np.allclose(deq.neuron_param("v_th"), qnet.vth * 64 * qnet.v_scale * gain, rtol=1e-9)
    assert np.allclose(deq.neuron_param("v_th"), hrsnn.neuron_param("v_th"), rtol=2e-3)  # thresholds kept
    for proj, dproj in zip(hrsnn.projections, deq.projections):
        assert np.array_equal(proj.post_index, dproj.post_index)
        assert np.allclose(dproj.weight, proj.weight, rtol=0.1, atol=0)
    # quantizing the de-quantized network at the same scale gives the same integers back
    again, _ = quantize(deq, "loihi2", QuantizationPolicy(strict=True, v_scale=qnet.v_scale))
    for name in ("du", "dv", "vth", "bias_mant", "bias_exp", "refractory_steps"):
        assert np.array_equal(getattr(again, name), getattr(qnet, name)), name
    for a, b in zip(again.projections, qnet.projections):
        assert a.weight_exp == b.weight_exp and np.array_equal(a.w_post_pre, b.w_post_pre)
    with pytest.raises(QuantizationError, match="does not match"):
        dequantize(qnet, small())


# --- report -------------------------------------------------------------------------------------
@pytest.mark.slow
def test_report_json_round_trip_text_and_plot(hrsnn, tmp_path):
    spec = small(tau_m=[0.005, 0.01, 20.0, 0.04, 0.08, 0.16])  # with a warning and an infinite error
    _, report, _ = quantize_quiet(spec)
    path = report.save(tmp_path / "report.json")
    assert (tmp_path / "report.arrays.npz").exists()
    back = QuantizationReport.load(path)
    assert to_jsonable(back.to_dict()) == to_jsonable(report.to_dict())
    assert set(back.arrays) == set(report.arrays)
    for key in report.arrays:
        assert np.array_equal(back.arrays[key], report.arrays[key]), key
    assert math.isinf(back.parameters["tau_m"].max_rel_err) and back.warnings == report.warnings
    assert isinstance(back.overflow["u_headroom"], float) and back.v_scale == report.v_scale
    text = report.to_text()
    assert "v_scale" in text and "weights[exc->exc]" in text and "no leak" in text
    png = report.plot(tmp_path / "errors.png")
    assert png.stat().st_size > 5000


# --- sweep --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_sweep_drives_evaluate_over_the_grid(hrsnn, tmp_path):
    tau = hrsnn.neuron_param("tau_m")
    calls = []

    def evaluate(qnet):
        calls.append(qnet)
        eff = -qnet.dt / np.log((4096 - qnet.dv) / 4096)
        keys = {tuple(r) for r in np.column_stack([qnet.du, qnet.dv, qnet.vth, qnet.refractory_steps])}
        return {"mean_tau_err": float(np.mean(np.abs(eff - tau) / tau)), "profiles": len(keys)}

    result = sweep(hrsnn, "loihi2", ks=[1, 4, None], weight_bits=[2, 8], evaluate=evaluate)
    assert len(result.rows) == 6 == len(calls)
    for row in result.rows:
        assert row["profiles"] == row["neuron_profiles"]
        assert row["k"] is None or row["profiles"] <= row["k"]
    by = {(r["k"], r["weight_bits"]): r for r in result.rows}
    assert by[(None, 8)]["mean_tau_err"] < by[(4, 8)]["mean_tau_err"] < by[(1, 8)]["mean_tau_err"]
    assert by[(1, 2)]["weights_mean_rel_err"] > by[(1, 8)]["weights_mean_rel_err"]
    md = result.to_markdown()
    assert md.startswith("| k | weight_bits |") and "| none |" in md
    path = result.save(tmp_path / "sweep.json")
    assert path.with_suffix(".md").read_text().strip() == md
    back = SweepResult.load(path)
    assert back.rows == tuple(json.loads(json.dumps(to_jsonable(list(result.rows)))))
    assert result.plot(tmp_path / "sweep.png").stat().st_size > 5000
    strict = sweep(small(tau_m=[0.005, 0.01, 20.0, 0.04, 0.08, 0.16]), "loihi1", ks=[2], weight_bits=[8],
                   policy=QuantizationPolicy(strict=True))
    assert "no leak" in strict.rows[0]["error"]


def test_v_headroom_guarantees_no_clip_at_a_coarser_scale():
    spec = load_spec("hrsnn")
    q_u, r_u = quantize(spec, "loihi2", QuantizationPolicy(state_headroom="u"))
    q_v, r_v = quantize(spec, "loihi2", QuantizationPolicy(state_headroom="v"))
    assert r_u.overflow["v_negative_clip_possible"] > 0  # the reference's inhibition can reach the rail
    assert r_v.overflow["v_negative_clip_possible"] == 0
    assert r_v.v_scale > r_u.v_scale and r_v.v_scale_choice["binding"] == "v_clip"
    with pytest.raises(QuantizationError) as info:
        QuantizationPolicy(state_headroom="w")
    assert info.value.parameter == "policy.state_headroom"
