"""Property tests: random spec, profile, data and artifact files given to the loaders give a
clean error (an HrsnnError naming what is wrong) or a valid object, never another exception.

Inputs are random documents and mutations of the bundled files (so that the deep checks are
reached, not only the first "not a spec" test), plus random bytes.
"""
from __future__ import annotations

import copy
import io
import json
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hrsnn_hw.errors import HrsnnError
from hrsnn_hw.profiles import PROFILE_DIR, HardwareProfile, load_profile
from hrsnn_hw.reference import REFERENCE_DIR
from hrsnn_hw.spec import NetworkSpec, load_spec
from hrsnn_hw.tasks.datasets import TaskData, load_user_data

SETTINGS = settings(max_examples=120, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# JSON values, biased towards the numbers validation has to think about
numbers = st.one_of(st.integers(min_value=-10**30, max_value=10**30), st.floats(allow_nan=True, allow_infinity=True),
                    st.sampled_from([0, -1, 1, 1e308, -1e308, 1e-308, 2**63, 0.5, 10**9]))
scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=12))
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                            st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                           max_leaves=12)


def _paths(doc, prefix=()):
    """Every (path) to a value inside a JSON document."""
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, prefix + (i,))
    return out


@st.composite
def mutated(draw, base: dict):
    """``base`` with one to three values replaced, deleted or given an extra key."""
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "delete", "extra"]))
        if action == "replace":
            parent[path[-1]] = draw(json_values)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = draw(json_values)
    return doc


def _write(suffix: str, data: bytes) -> Path:
    fh = tempfile.NamedTemporaryFile(suffix=suffix, delete=False)
    fh.write(data)
    fh.close()
    return Path(fh.name)


def _clean_or_valid(load, path: Path, valid_type: type) -> None:
    try:
        obj = load(path)
    except HrsnnError as exc:
        assert str(exc)  # a message, naming the problem
        return
    finally:
        path.unlink(missing_ok=True)
    assert isinstance(obj, valid_type)


BASE_DESIGN = json.loads((REFERENCE_DIR / "mrsnn.json").read_text())
BASE_PROFILE = json.loads((PROFILE_DIR / "loihi2.json").read_text())


@pytest.mark.slow
@SETTINGS
@given(doc=st.one_of(mutated(BASE_DESIGN), json_values))
def test_random_spec_documents(doc):
    _clean_or_valid(load_spec, _write(".json", json.dumps(doc).encode()), NetworkSpec)


@SETTINGS
@given(data=st.binary(max_size=300), suffix=st.sampled_from([".json", ".toml"]))
def test_random_spec_bytes(data, suffix):
    _clean_or_valid(load_spec, _write(suffix, data), NetworkSpec)


@pytest.mark.slow
@SETTINGS
@given(doc=st.one_of(mutated(BASE_PROFILE), json_values))
def test_random_profile_documents(doc):
    _clean_or_valid(load_profile, _write(".json", json.dumps(doc).encode()), HardwareProfile)


@SETTINGS
@given(data=st.binary(max_size=300))
def test_random_profile_bytes(data):
    _clean_or_valid(load_profile, _write(".json", data), HardwareProfile)


dtypes = st.sampled_from(["f8", "f4", "i8", "i1", "u1", "bool", "U3", "S2", "c16"])


@st.composite
def arrays(draw):
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=0, max_size=4)))
    dtype = np.dtype(draw(dtypes))
    n = int(np.prod(shape)) if shape else 1
    if dtype.kind in "US":
        flat = draw(st.lists(st.text(alphabet="ab1 ", max_size=3), min_size=n, max_size=n))
    elif dtype.kind == "b":
        flat = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    else:
        flat = draw(st.lists(st.sampled_from([0, 1, -1, 2, 0.5, float("nan"), float("inf"), 255]),
                             min_size=n, max_size=n))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return np.array(flat).astype(dtype).reshape(shape)
        except (ValueError, OverflowError, TypeError):
            return np.zeros(shape, dtype=dtype)


@pytest.mark.slow
@SETTINGS
@given(contents=st.dictionaries(st.sampled_from(["x_train", "y_train", "x_test", "y_test", "len_train", "len_test",
                                                 "horizon", "other"]), arrays(), max_size=8),
       kind=st.sampled_from(["classification", "prediction"]))
def test_random_npz_data(contents, kind):
    buf = io.BytesIO()
    np.savez(buf, **contents)
    _clean_or_valid(lambda p: load_user_data(p, kind), _write(".npz", buf.getvalue()), TaskData)


csv_cells = st.sampled_from(["train", "test", "0", "1", "2", "a", "", "nan", "1e308", "-3", "x y", "1.5"])


@SETTINGS
@given(header=st.one_of(st.just(["split", "sample", "t", "label", "c0", "c1"]), st.lists(csv_cells, max_size=6)),
       rows=st.lists(st.lists(csv_cells, min_size=0, max_size=7), max_size=12),
       kind=st.sampled_from(["classification", "prediction"]))
def test_random_csv_data(header, rows, kind):
    text = "\n".join(",".join(r) for r in [header, *rows])
    _clean_or_valid(lambda p: load_user_data(p, kind), _write(".csv", text.encode()), TaskData)


@SETTINGS
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".npz", ".csv"]))
def test_random_data_bytes(data, suffix):
    _clean_or_valid(lambda p: load_user_data(p, "classification"), _write(suffix, data), TaskData)


def _valid_artifact_bytes() -> bytes:
    from hrsnn_hw.records import SpikeRecord
    rec = SpikeRecord(spikes=np.zeros((1, 4, 3), bool), sample_lengths=np.array([4]), dt=0.001,
                      provenance={"design": "x"})
    with tempfile.TemporaryDirectory() as d:
        rec.save(Path(d) / "r.npz")
        return (Path(d) / "r.npz").read_bytes()


VALID_RECORD = _valid_artifact_bytes()


@SETTINGS
@given(cut=st.integers(0, len(VALID_RECORD)), flips=st.lists(st.integers(0, len(VALID_RECORD) - 1), max_size=4))
def test_damaged_artifacts(cut, flips):
    """A truncated or bit-flipped npz artifact is an ArtifactError, never a BadZipFile traceback."""
    from hrsnn_hw import artifacts
    from hrsnn_hw.records import SpikeRecord
    data = bytearray(VALID_RECORD)
    for i in flips:
        data[i] ^= 0x5A
    data = bytes(data[:cut]) if cut < len(data) else bytes(data)
    _clean_or_valid(SpikeRecord.load, _write(".npz", data), SpikeRecord)
    _clean_or_valid(lambda p: artifacts.load(p), _write(".npz", data), object)


@pytest.mark.parametrize("n", [10**9, 10**6])
def test_a_huge_design_is_refused_before_sampling(n, tmp_path):
    from hrsnn_hw.errors import ResourceError
    doc = copy.deepcopy(BASE_DESIGN)
    doc["populations"]["exc"]["n"] = n
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ResourceError) as info:
        load_spec(path)
    assert "GiB" in str(info.value) and "--max-memory" in str(info.value) and "available" in str(info.value)
