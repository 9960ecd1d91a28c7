"""Atomic, versioned, pickle-free files.

Artifacts are single ``.npz`` files: named arrays plus one ``__meta__`` entry that
holds a JSON document with ``format`` (the artifact kind), ``version`` and any
scalar metadata. Reports are JSON. Every write goes to a temporary file in the
destination folder and is then renamed, so a crash never leaves half a file.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np

from .errors import ArtifactError

PathLike = str | os.PathLike


@contextlib.contextmanager
def atomic_path(path: PathLike, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is fsynced and renamed onto ``path``.

    For writers that want a file name (matplotlib, h5py, nir): a crash or an exception leaves
    ``path`` as it was and removes the temporary file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _atomic_write_bytes(path: PathLike, data: bytes) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def to_jsonable(obj: Any) -> Any:
    """Convert numpy scalars/arrays, paths and tuples into plain JSON types."""
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, float) and not np.isfinite(obj):
        return None if np.isnan(obj) else ("inf" if obj > 0 else "-inf")
    return obj


def write_text_atomic(path: PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return _atomic_write_bytes(path, text.encode("utf-8"))


def write_json_atomic(path: PathLike, obj: Any, indent: int | None = 2) -> Path:
    """Write ``obj`` as JSON to ``path`` atomically (numpy types converted)."""
    return write_text_atomic(path, json.dumps(to_jsonable(obj), indent=indent, sort_keys=False) + "\n")


def read_json(path: PathLike) -> Any:
    """Read a JSON file, raising :class:`ArtifactError` with the path on failure."""
    path = Path(path)
    try:
        with open(path, "r", encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        raise ArtifactError("file not found", parameter="path", value=str(path),
                            hint="check the path") from None
    except json.JSONDecodeError as exc:
        raise ArtifactError(f"not valid JSON ({exc.msg} at line {exc.lineno})",
                            parameter="path", value=str(path)) from None


def save_artifact(path: PathLike, kind: str, version: int, meta: Mapping[str, Any],
                  arrays: Mapping[str, np.ndarray]) -> Path:
    """Save arrays and JSON metadata into one versioned ``.npz`` file, atomically.

    Parameters
    ----------
    path : path-like
        Destination; ``.npz`` is the conventional suffix.
    kind : str
        Artifact kind, checked on load (``"hrsnn_hw.QuantizedNetwork"``).
    version : int
        Format version of this kind, checked on load.
    meta : mapping
        JSON-serialisable metadata.
    arrays : mapping of str to ndarray
        Numeric arrays (object arrays are refused: no pickle).
    """
    payload = {"format": kind, "version": int(version), "meta": to_jsonable(dict(meta))}
    out: dict[str, np.ndarray] = {"__meta__": np.array(json.dumps(payload))}
    for name, arr in arrays.items():
        a = np.asarray(arr)
        if a.dtype == object:
            raise ArtifactError("object arrays cannot be saved without pickle",
                                parameter=f"arrays.{name}", value=str(a.dtype),
                                hint="convert to a numeric or fixed-width string dtype")
        out[name] = a
    buf = io.BytesIO()
    np.savez_compressed(buf, **out)
    return _atomic_write_bytes(path, buf.getvalue())


def load_artifact(path: PathLike, kind: str,
                  supported_versions: tuple[int, ...] = (1,)) -> tuple[dict, dict[str, np.ndarray], int]:
    """Load a file written by :func:`save_artifact`.

    Returns
    -------
    meta : dict
        The JSON metadata.
    arrays : dict of str to ndarray
        The stored arrays.
    version : int
        The file's format version.
    """
    path = Path(path)
    if not path.exists():
        raise ArtifactError("artifact file not found", parameter="path", value=str(path),
                            hint="run the stage that produces it first")
    try:
        with np.load(path, allow_pickle=False) as npz:
            payload = json.loads(str(npz["__meta__"]))
            arrays = {k: npz[k] for k in npz.files if k != "__meta__"}
    except (OSError, ValueError, KeyError) as exc:
        raise ArtifactError(f"cannot read artifact ({exc})", parameter="path", value=str(path)) from None
    if payload.get("format") != kind:
        raise ArtifactError("wrong artifact kind", parameter="format", value=payload.get("format"),
                            allowed=kind, hint=f"{path} holds a different artifact")
    version = payload.get("version")
    if version not in supported_versions:
        raise ArtifactError("unsupported format version", parameter="version", value=version,
                            allowed=f"one of {list(supported_versions)}",
                            hint="re-create the artifact with this version of hrsnn_hw")
    return payload["meta"], arrays, int(version)
