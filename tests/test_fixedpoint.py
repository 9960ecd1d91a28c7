"""The fixed-point home: one number format, core limits, the sparse QuantizedNetwork artifact."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.sparse

from hrsnn_hw.errors import ArtifactError, DataError, QuantizationError
from hrsnn_hw.fixedpoint import (DENSE_MAX_ENTRIES, DU_OFFSET, DV_OFFSET, CoreLimits, NumberFormat,
                                 QuantizedNetwork, QuantizedProjection, core_limits)
from hrsnn_hw.golden.testing import random_qnet
from hrsnn_hw.profiles import load_profile


def test_number_format_names_both_state_limits_and_reads_the_profile():
    fmt = NumberFormat.from_profile("loihi2")
    assert (fmt.wrap_limit, fmt.clip_limit) == (1 << 23, (1 << 23) - 1)
    assert fmt.decay_unity == 4096 and fmt.decay_max == 4095 and fmt.profile == "loihi2"
    assert fmt.vth_max == min((1 << 17) - 1, fmt.clip_limit >> 6)
    assert (DU_OFFSET, DV_OFFSET) == (1, 0)
    assert NumberFormat.from_profile(load_profile("loihi2")) == fmt
    with pytest.raises(QuantizationError, match="no fixed-point number format"):
        NumberFormat.from_profile("cpu")
    with pytest.raises(QuantizationError, match="weight_exp_min"):
        dataclasses.replace(fmt, weight_exp_min=9)
    with pytest.raises(QuantizationError, match="integer"):
        dataclasses.replace(fmt, u_shift=1.5)


def test_graded_payload_width_comes_from_the_profile():
    assert NumberFormat.from_profile("loihi2").spike_payload_bits == 32
    lo, hi = NumberFormat.from_profile("loihi2").payload_range
    assert (lo, hi) == (-(1 << 31), (1 << 31) - 1)
    loihi1 = NumberFormat.from_profile("loihi1")
    assert loihi1.spike_payload_bits is None and not loihi1.graded and loihi1.payload_range == (0, 1)


def test_core_limits_are_read_once_for_mapping_and_quantization():
    lim, notes = core_limits(load_profile("loihi2"))
    assert isinstance(lim, CoreLimits) and lim.neurons == 8192 and lim.neuron_profiles == 32
    assert lim.cores_per_chip == 128 and lim.mesh == (8, 16)
    from hrsnn_hw.mapping import core_limits as mapping_core_limits
    assert mapping_core_limits is core_limits


def _proj(**kw) -> QuantizedProjection:
    base = dict(name="p", source="recurrent", n_post=4, n_pre=3, post=[2, 0, 3, 0], pre=[0, 2, 0, 0],
                weight=[5, -7, 0, 9], weight_exp=1, num_weight_bits=8, sign_mode="mixed")
    base.update(kw)
    return QuantizedProjection.from_synapses(**base)


def test_projection_is_csr_by_source_and_drops_zero_mantissas():
    p = _proj()
    assert p.n_synapses == 3 and p.pre_ptr.tolist() == [0, 2, 2, 3]
    assert p.post_index.tolist() == [0, 2, 0] and p.weight.tolist() == [9, 5, -7]
    assert p.fan_out().tolist() == [2, 0, 1] and p.fan_in().tolist() == [2, 0, 1, 0]
    dense = p.dense()
    assert dense.shape == (4, 3) and not dense.flags.writeable
    assert dense[0, 0] == 9 and dense[2, 0] == 5 and dense[0, 2] == -7 and np.count_nonzero(dense) == 3
    assert np.array_equal(p.w_post_pre, dense)
    sp = p.sparse()
    assert isinstance(sp, scipy.sparse.csc_matrix) and np.array_equal(sp.toarray(), dense)
    again = QuantizedProjection.from_dense("p", "recurrent", dense, 1, 8, "mixed")
    assert np.array_equal(again.pre_ptr, p.pre_ptr) and np.array_equal(again.weight, p.weight)
    post, pre, w = p.synapses()
    assert np.array_equal(dense[post, pre], w)


def test_projection_refuses_bad_synapse_lists():
    with pytest.raises(DataError, match="duplicate synapse"):
        _proj(post=[1, 1], pre=[0, 0], weight=[1, 2])
    with pytest.raises(DataError, match="out of range"):
        _proj(post=[4], pre=[0], weight=[1])
    with pytest.raises(ValueError, match="ascending"):
        QuantizedProjection(name="p", source="input", n_post=3, n_pre=1, pre_ptr=[0, 2], post_index=[2, 1],
                            weight=[1, 1], weight_exp=0, num_weight_bits=8, sign_mode="excitatory")
    with pytest.raises(ValueError, match="zero mantissas"):
        QuantizedProjection(name="p", source="input", n_post=3, n_pre=1, pre_ptr=[0, 1], post_index=[1],
                            weight=[0], weight_exp=0, num_weight_bits=8, sign_mode="excitatory")


def test_dense_copy_is_refused_for_large_projections():
    n = int(np.sqrt(DENSE_MAX_ENTRIES)) + 2
    big = QuantizedProjection.from_synapses("big", "recurrent", n, n, [0, n - 1], [n - 1, 0], [3, 4], 0, 8,
                                            "excitatory")
    assert big.n_synapses == 2 and big.fan_in().sum() == 2
    with pytest.raises(DataError, match="too large for a dense matrix"):
        big.dense()


def test_network_roundtrips_through_the_one_serialiser(tmp_path):
    q = random_qnet(np.random.default_rng(0), 30, 5)
    for suffix in (".npz", ".json"):
        q.save(tmp_path / f"q{suffix}")
        back = QuantizedNetwork.load(tmp_path / f"q{suffix}")
        assert back.number_format == q.number_format and back.name == q.name
        for a, b in zip(q.projections, back.projections):
            assert a.name == b.name and a.weight_exp == b.weight_exp and a.shape == b.shape
            assert np.array_equal(a.pre_ptr, b.pre_ptr) and np.array_equal(a.post_index, b.post_index)
            assert np.array_equal(a.weight, b.weight)
        for name in ("du", "dv", "vth", "bias_mant", "bias_exp", "refractory_steps", "excitatory"):
            assert np.array_equal(getattr(q, name), getattr(back, name))
    with pytest.raises(ArtifactError):
        from hrsnn_hw.records import SpikeRecord  # noqa: F401
        QuantizedNetwork.load(tmp_path / "missing.npz")


def test_network_requires_a_typed_format_and_matching_shapes():
    q = random_qnet(np.random.default_rng(1), 6, 2)
    with pytest.raises(TypeError, match="NumberFormat"):
        dataclasses.replace(q, number_format=None)
    wrong = QuantizedProjection.from_dense("w", "input", np.ones((6, 3), int), 0, 8, "excitatory")
    with pytest.raises(ValueError, match="w_post_pre must be"):
        dataclasses.replace(q, projections=q.projections + (wrong,))
    assert q.n_synapses == sum(p.n_synapses for p in q.projections)


def test_golden_and_quantize_do_not_import_each_other():
    import ast
    from pathlib import Path
    pkg = Path(__file__).resolve().parent.parent / "hrsnn_hw"
    for sub, other in (("golden", "quantize"), ("quantize", "golden"), ("fixedpoint", "golden"),
                       ("fixedpoint", "quantize")):
        for path in (pkg / sub).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module:
                    assert other not in node.module.split("."), f"{path.name} imports {node.module}"
