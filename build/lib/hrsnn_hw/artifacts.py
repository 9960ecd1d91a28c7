"""One serialiser for every frozen artifact, driven by its dataclass fields and a registry of kinds.

An artifact class is a frozen dataclass decorated with :func:`artifact`; it then gains
``save(path)`` and ``load(path)``. Nested dataclasses (a projection inside a network, a rung
inside a report) are registered with :func:`node` so they can be rebuilt. Files are:

* ``.npz``: every ndarray stored natively (no pickle) plus one ``__meta__`` entry, a JSON
  document ``{"format": kind, "version": v, "data": ...}``;
* ``.json``: the same document, arrays written inline as ``{"__array__": {dtype, shape, data}}``.

Loading calls the class's constructor with the stored fields, so every check in its
``__post_init__`` runs again on what was read. Writes are atomic (:mod:`hrsnn_hw.io`).
Written by hand because no maintained library serialises frozen dataclasses holding numpy
arrays into npz/JSON without pickle (NIR's own format is HDF5 of its node types only).
"""
from __future__ import annotations

import dataclasses
import io
import json
import math
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Mapping, TypeVar

import numpy as np

from .errors import ArtifactError
from .io import PathLike, _atomic_write_bytes

T = TypeVar("T")

#: Every registered class by kind name (artifacts and nested nodes).
KINDS: dict[str, type] = {}
_ARRAY, _TUPLE, _NODE, _FLOAT = "__array__", "__tuple__", "__node__", "__float__"


def _register(kind: str, cls: type) -> None:
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls.__name__} must be a dataclass to be an artifact")
    other = KINDS.get(kind)
    if other is not None and other.__qualname__ != cls.__qualname__:
        raise TypeError(f"artifact kind {kind!r} is already taken by {other.__qualname__}")
    KINDS[kind] = cls
    cls.ARTIFACT_KIND = kind


def node(kind: str) -> Callable[[type[T]], type[T]]:
    """Register a dataclass that appears inside artifacts (it has no file of its own)."""
    def deco(cls: type[T]) -> type[T]:
        _register(kind, cls)
        return cls
    return deco


def artifact(kind: str, version: int, *, readable: tuple[int, ...] | None = None,
             upgrade: Callable[[int, dict], dict] | None = None) -> Callable[[type[T]], type[T]]:
    """Register a frozen dataclass as a saveable artifact kind.

    Parameters
    ----------
    kind : str
        Name stored in the file (``"hrsnn_hw.QuantizedNetwork"``) and checked on load.
    version : int
        Format version written by this code.
    readable : tuple of int, optional
        Versions :meth:`load` accepts (default: only ``version``).
    upgrade : callable, optional
        ``upgrade(old_version, fields) -> fields`` for readable older versions.
    """
    def deco(cls: type[T]) -> type[T]:
        _register(kind, cls)
        cls.ARTIFACT_VERSION = int(version)
        cls.ARTIFACT_READABLE = tuple(readable or (version,))
        cls.ARTIFACT_UPGRADE = staticmethod(upgrade) if upgrade else None

        def save_method(self, path: PathLike) -> Path:
            """Write atomically (``.npz`` or ``.json`` by suffix), versioned, no pickle."""
            return save(self, path)

        def load_method(klass, path: PathLike):
            """Read a file written by :meth:`save`; the constructor's checks run again."""
            return load(path, klass)

        if "save" not in cls.__dict__:
            cls.save = save_method
        if "load" not in cls.__dict__:
            cls.load = classmethod(load_method)
        return cls
    return deco


# --------------------------------------------------------------------------- encoding

def _encode(obj: Any, path: str, arrays: dict[str, np.ndarray] | None) -> Any:
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        return value if math.isfinite(value) else {_FLOAT: repr(value)}
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            raise ArtifactError("object arrays cannot be saved without pickle", parameter=path,
                                value=str(obj.dtype), hint="convert to a numeric or fixed-width string dtype")
        if arrays is None:
            return {_ARRAY: {"dtype": obj.dtype.str, "shape": list(obj.shape),
                             "data": _encode(obj.ravel().tolist(), path, None)}}
        arrays[path] = obj
        return {_ARRAY: path}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        kind = getattr(type(obj), "ARTIFACT_KIND", None)
        if kind is None or KINDS.get(kind) is not type(obj):
            raise ArtifactError("a nested dataclass is not registered", parameter=path,
                                value=type(obj).__qualname__, hint="decorate it with hrsnn_hw.artifacts.node")
        fields = {f.name: _encode(getattr(obj, f.name), f"{path}.{f.name}", arrays)
                  for f in dataclasses.fields(obj) if f.init}
        return {_NODE: kind, "fields": fields}
    if isinstance(obj, (Mapping, MappingProxyType)):
        out = {}
        for k, v in obj.items():
            if not isinstance(k, str) or k.startswith("__"):
                raise ArtifactError("mapping keys must be strings not starting with '__'", parameter=path,
                                    value=repr(k))
            out[k] = _encode(v, f"{path}.{k}", arrays)
        return out
    if isinstance(obj, tuple):
        return {_TUPLE: [_encode(v, f"{path}[{i}]", arrays) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, f"{path}[{i}]", arrays) for i, v in enumerate(obj)]
    if isinstance(obj, Path):
        return str(obj)
    raise ArtifactError("value cannot be serialised", parameter=path, value=type(obj).__name__,
                        allowed="numbers, strings, arrays, tuples, lists, mappings, registered dataclasses")


def _decode(obj: Any, arrays: Mapping[str, np.ndarray] | None) -> Any:
    if isinstance(obj, list):
        return [_decode(v, arrays) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if _ARRAY in obj:
        ref = obj[_ARRAY]
        if isinstance(ref, str):
            if arrays is None or ref not in arrays:
                raise ArtifactError("array missing from artifact", parameter=ref)
            return arrays[ref]
        try:
            return np.asarray(_decode(ref["data"], None), dtype=np.dtype(ref["dtype"])).reshape(ref["shape"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ArtifactError(f"malformed inline array ({exc})", parameter="data") from None
    if _TUPLE in obj:
        return tuple(_decode(v, arrays) for v in obj[_TUPLE])
    if _FLOAT in obj:
        return float(obj[_FLOAT])
    if _NODE in obj:
        cls = KINDS.get(obj[_NODE])
        if cls is None:
            raise ArtifactError("unknown artifact kind", parameter="kind", value=obj[_NODE],
                                allowed=f"one of {sorted(KINDS)}")
        return _construct(cls, {k: _decode(v, arrays) for k, v in dict(obj.get("fields", {})).items()})
    return {k: _decode(v, arrays) for k, v in obj.items()}


def _construct(cls: type, fields: dict) -> Any:
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(fields) - names)
    if unknown:
        raise ArtifactError("artifact has fields its class does not know", parameter=cls.__qualname__,
                            value=unknown, hint="written by another version of hrsnn_hw?")
    try:
        return cls(**fields)
    except ArtifactError:
        raise
    except (TypeError, ValueError) as exc:
        raise ArtifactError(f"artifact content is invalid ({exc})", parameter=cls.__qualname__) from None


# --------------------------------------------------------------------------- files

def to_document(obj: Any) -> dict:
    """The JSON document of an artifact with arrays inline (what ``.json`` files hold)."""
    cls = type(obj)
    return {"format": cls.ARTIFACT_KIND, "version": cls.ARTIFACT_VERSION, "data": _encode(obj, "", None)}


def from_document(doc: Mapping[str, Any], cls: type[T] | None = None,
                  arrays: Mapping[str, np.ndarray] | None = None) -> T:
    """Rebuild an artifact from :func:`to_document`'s output (``cls`` None: by its kind)."""
    if not isinstance(doc, Mapping):
        raise ArtifactError("artifact document must be a JSON object", parameter="document",
                            value=type(doc).__name__)
    kind = doc.get("format")
    target = KINDS.get(kind) if isinstance(kind, str) else None
    if cls is not None and target is not cls:
        raise ArtifactError("wrong artifact kind", parameter="format", value=kind,
                            allowed=getattr(cls, "ARTIFACT_KIND", cls.__qualname__))
    if target is None or not hasattr(target, "ARTIFACT_VERSION"):
        raise ArtifactError("unknown artifact kind", parameter="format", value=kind,
                            allowed="a kind registered with hrsnn_hw.artifacts.artifact")
    version = doc.get("version")
    if version not in target.ARTIFACT_READABLE:
        raise ArtifactError("unsupported format version", parameter="version", value=version,
                            allowed=f"one of {list(target.ARTIFACT_READABLE)}",
                            hint="re-create the artifact with this version of hrsnn_hw")
    data = doc.get("data")
    if not isinstance(data, dict) or data.get(_NODE) != kind:
        raise ArtifactError("artifact body does not match its kind", parameter="data", value=kind)
    fields = {k: _decode(v, arrays) for k, v in dict(data.get("fields", {})).items()}
    if version != target.ARTIFACT_VERSION and target.ARTIFACT_UPGRADE is not None:
        fields = target.ARTIFACT_UPGRADE(version, fields)
    return _construct(target, fields)


def save(obj: Any, path: PathLike) -> Path:
    """Write a registered artifact to ``path`` atomically: ``.json`` as JSON, anything else as npz."""
    cls = type(obj)
    if getattr(cls, "ARTIFACT_VERSION", None) is None:
        raise ArtifactError("not a registered artifact", parameter="obj", value=cls.__qualname__)
    path = Path(path)
    if path.suffix == ".json":
        text = json.dumps(to_document(obj), allow_nan=False, separators=(",", ":"))
        return _atomic_write_bytes(path, (text + "\n").encode("utf-8"))
    arrays: dict[str, np.ndarray] = {}
    doc = {"format": cls.ARTIFACT_KIND, "version": cls.ARTIFACT_VERSION, "data": _encode(obj, "", arrays)}
    buf = io.BytesIO()
    np.savez_compressed(buf, __meta__=np.array(json.dumps(doc, allow_nan=False)), **arrays)
    return _atomic_write_bytes(path, buf.getvalue())


def load(path: PathLike, cls: type[T] | None = None) -> T:
    """Read an artifact written by :func:`save` (any registered kind when ``cls`` is None).

    Raises
    ------
    ArtifactError
        Missing, truncated or damaged file, wrong kind, unsupported version, or content the
        class's own checks refuse.
    """
    path = Path(path)
    if not path.is_file():
        raise ArtifactError("artifact file not found", parameter="path", value=str(path),
                            hint="run the stage that produces it first, or check the path")
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
        if head.startswith(b"PK"):
            with np.load(path, allow_pickle=False) as npz:
                doc = json.loads(str(npz["__meta__"]))
                arrays = {k: npz[k] for k in npz.files if k != "__meta__"}
        else:
            doc = json.loads(path.read_text(encoding="utf-8"))
            arrays = None
    except ArtifactError:
        raise
    except (OSError, ValueError, KeyError, EOFError, RecursionError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"cannot read artifact ({type(exc).__name__}: {exc})", parameter="path",
                            value=str(path), hint="the file is damaged or not an hrsnn_hw artifact; "
                                                  "re-create it") from None
    except Exception as exc:  # zipfile.BadZipFile, zlib.error and friends from a damaged npz
        raise ArtifactError(f"cannot read artifact ({type(exc).__name__}: {exc})", parameter="path",
                            value=str(path), hint="the file is damaged; re-create it") from None
    try:
        return from_document(doc, cls, arrays)
    except RecursionError:
        raise ArtifactError("artifact is nested too deeply", parameter="path", value=str(path)) from None
