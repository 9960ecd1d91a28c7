"""The one serialiser: round trips through npz and JSON, and clean errors on damaged files."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from hrsnn_hw import artifacts
from hrsnn_hw.errors import ArtifactError


@artifacts.node("test.Inner")
@dataclass(frozen=True)
class Inner:
    name: str
    w: np.ndarray


@artifacts.artifact("test.Outer", 2, readable=(1, 2), upgrade=lambda v, f: {**f, "note": f"from v{v}"})
@dataclass(frozen=True)
class Outer:
    inners: tuple
    scale: float
    counts: np.ndarray
    meta: dict = field(default_factory=dict)
    note: str = ""
    maybe: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.scale < 0:
            raise ValueError("scale must be >= 0")


def _outer() -> Outer:
    rng = np.random.default_rng(0)
    return Outer(inners=(Inner("a", rng.integers(-5, 5, (3, 4)).astype(np.int16)),
                         Inner("b", rng.random(7) > 0.5)),
                 scale=float("inf"), counts=np.arange(5, dtype=np.int64),
                 meta={"profile": "loihi2", "nested": {"x": [1, 2.5, None]}, "t": (1, 2)})


@pytest.mark.parametrize("suffix", [".npz", ".json"])
def test_round_trip_keeps_types_dtypes_and_values(tmp_path, suffix):
    obj = _outer()
    path = obj.save(tmp_path / f"outer{suffix}")
    back = Outer.load(path)
    assert isinstance(back.inners, tuple) and all(isinstance(i, Inner) for i in back.inners)
    for a, b in zip(obj.inners, back.inners):
        assert a.name == b.name and a.w.dtype == b.w.dtype and np.array_equal(a.w, b.w)
    assert back.scale == float("inf") and back.maybe is None
    assert np.array_equal(back.counts, obj.counts) and back.counts.dtype == np.int64
    assert back.meta["nested"] == {"x": [1, 2.5, None]} and back.meta["t"] == (1, 2)
    assert artifacts.load(path).scale == float("inf")  # by registered kind


def test_old_version_is_upgraded_and_unknown_version_refused(tmp_path):
    doc = artifacts.to_document(_outer())
    doc["version"] = 1
    assert artifacts.from_document(doc).note == "from v1"
    doc["version"] = 7
    with pytest.raises(ArtifactError, match="unsupported format version"):
        artifacts.from_document(doc)


def test_constructor_checks_run_on_load(tmp_path):
    doc = artifacts.to_document(_outer())
    doc["data"]["fields"]["scale"] = -1.0
    with pytest.raises(ArtifactError, match="scale must be >= 0"):
        artifacts.from_document(doc)


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty", "text"])
def test_damaged_files_give_artifact_errors(tmp_path, damage):
    path = _outer().save(tmp_path / "o.npz")
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        mid = len(data) // 2
        path.write_bytes(data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1:])
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        path.write_text("[1, 2, 3]")
    with pytest.raises(ArtifactError):
        Outer.load(path)


def test_wrong_kind_and_missing_file(tmp_path):
    with pytest.raises(ArtifactError, match="not found"):
        Outer.load(tmp_path / "nope.npz")
    other = artifacts.to_document(_outer())
    other["format"] = "test.Inner"
    with pytest.raises(ArtifactError):
        artifacts.from_document(other, Outer)


def test_unregistered_nested_dataclass_and_object_arrays_are_refused(tmp_path):
    @dataclass(frozen=True)
    class Loose:
        x: int

    bad = Outer(inners=(Loose(1),), scale=1.0, counts=np.zeros(1))
    with pytest.raises(ArtifactError, match="not registered"):
        bad.save(tmp_path / "bad.npz")
    with pytest.raises(ArtifactError, match="object arrays"):
        Outer(inners=(), scale=1.0, counts=np.array([object()])).save(tmp_path / "obj.npz")
