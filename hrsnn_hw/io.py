"""Atomic, versioned, pickle-free files.

Artifacts are single ``.npz`` files: named arrays plus one ``__meta__`` entry that
holds a JSON document with ``format`` (the artifact kind), ``version`` and any
scalar metadata. Reports are JSON. Every write goes to a temporary file in the
destination folder and is then renamed, so a crash never leaves half a file; the file
gets the permissions the umask allows (like ``open``), not ``mkstemp``'s 0600.

Two rules keep user data from choosing where files land:

* a name (a design's, a NIR graph's, ``--name``) becomes part of a file name only through
  :func:`safe_filename`, which accepts a safe character set and no path separators;
* inside :func:`confine_writes` (the CLI wraps every command in it with ``--out``), every
  write through this module is checked to resolve inside that folder.
"""
from __future__ import annotations

import contextlib
import contextvars
import io
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np

from .errors import ArtifactError, PathError

PathLike = str | os.PathLike

#: Names that may become (part of) a file name: ASCII letters, digits, ``._+-``, starting with a
#: letter or digit (so never ``.``, ``..`` or a hidden file), at most 100 characters.
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,99}")
SAFE_NAME_TEXT = "1-100 characters from A-Z a-z 0-9 . _ + -, starting with a letter or digit"

_WRITE_ROOT: contextvars.ContextVar[Path | None] = contextvars.ContextVar("hrsnn_write_root", default=None)


def safe_filename(name: Any, *, parameter: str = "name", hint: str | None = None) -> str:
    """Return ``name`` if it can be used as (part of) a file name, else raise :class:`PathError`.

    The one gate through which user-controlled names (design names, NIR metadata, ``--name``)
    reach the file system: no separators, no ``..``, no absolute paths, no control characters.
    """
    if not isinstance(name, str) or not SAFE_NAME.fullmatch(name):
        raise PathError("this name cannot be used as a file name", parameter=parameter,
                        value=name if isinstance(name, str) and len(name) <= 200 else
                        (f"{str(name)[:200]}..." if isinstance(name, str) else type(name).__name__),
                        allowed=SAFE_NAME_TEXT, hint=hint or "rename it (for example my_design-2)")
    return name


@contextlib.contextmanager
def confine_writes(root: PathLike) -> Iterator[Path]:
    """Within this block, every write through this module must resolve inside ``root``."""
    resolved = Path(root).resolve()
    token = _WRITE_ROOT.set(resolved)
    try:
        yield resolved
    finally:
        _WRITE_ROOT.reset(token)


def check_inside(path: PathLike) -> Path:
    """``path`` if it resolves inside the confinement folder (symlinks followed), else PathError."""
    path = Path(path)
    root = _WRITE_ROOT.get()
    if root is not None:
        resolved = path.resolve()
        if resolved != root and root not in resolved.parents:
            raise PathError("refusing to write outside the output folder", parameter="path", value=str(path),
                            allowed=f"inside {root}",
                            hint="a name or path given to the tool points outside --out")
    return path


def current_umask() -> int:
    """The process umask, read without changing it (Linux), else by the set-and-restore idiom."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def make_dir(path: PathLike) -> Path:
    """``mkdir -p`` of a folder that must lie inside the confinement folder."""
    path = check_inside(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def atomic_path(path: PathLike, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is fsynced and renamed onto ``path``.

    For writers that want a file name (matplotlib, h5py, nir): a crash or an exception leaves
    ``path`` as it was and removes the temporary file.
    """
    path = check_inside(path)
    make_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem[:40]}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
            # mkstemp creates 0600; a file written with open() would get 0666 & ~umask
            os.fchmod(fh.fileno(), 0o666 & ~current_umask())
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


def read_json(path: PathLike, *, error: type[Exception] = ArtifactError, what: str = "file") -> Any:
    """Read a JSON file; any failure is ``error`` (an HrsnnError class) naming the path.

    Covers a missing file, a folder, unreadable bytes, text that is not UTF-8 or not JSON, and
    documents nested too deeply for the parser.
    """
    path = Path(path)
    try:
        with open(path, "r", encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        raise error(f"{what} not found", parameter="path", value=str(path), hint="check the path") from None
    except IsADirectoryError:
        raise error(f"{what} is a folder, not a file", parameter="path", value=str(path)) from None
    except PermissionError:
        raise error(f"{what} is not readable (permission denied)", parameter="path", value=str(path)) from None
    except UnicodeDecodeError as exc:
        raise error(f"{what} is not UTF-8 text (byte {exc.start})", parameter="path", value=str(path),
                    hint="JSON files are UTF-8") from None
    except json.JSONDecodeError as exc:
        raise error(f"not valid JSON ({exc.msg} at line {exc.lineno})", parameter="path",
                    value=str(path)) from None
    except RecursionError:
        raise error("JSON nested too deeply", parameter="path", value=str(path)) from None
    except (OSError, ValueError) as exc:
        raise error(f"cannot read {what} ({type(exc).__name__}: {exc})", parameter="path", value=str(path)) from None


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
    if not path.is_file():
        raise ArtifactError("artifact file not found", parameter="path", value=str(path),
                            hint="run the stage that produces it first")
    try:
        with np.load(path, allow_pickle=False) as npz:
            payload = json.loads(str(npz["__meta__"]))
            arrays = {k: npz[k] for k in npz.files if k != "__meta__"}
    except Exception as exc:  # OSError, ValueError, KeyError, zipfile.BadZipFile, zlib.error, EOFError ...
        raise ArtifactError(f"cannot read artifact ({type(exc).__name__}: {exc})", parameter="path",
                            value=str(path), hint="the file is damaged or not an hrsnn_hw artifact; "
                                                  "re-create it") from None
    if not isinstance(payload, dict):
        raise ArtifactError("not an hrsnn_hw artifact (metadata is not an object)", parameter="path",
                            value=str(path))
    if payload.get("format") != kind:
        raise ArtifactError("wrong artifact kind", parameter="format", value=payload.get("format"),
                            allowed=kind, hint=f"{path} holds a different artifact")
    version = payload.get("version")
    if version not in supported_versions:
        raise ArtifactError("unsupported format version", parameter="version", value=version,
                            allowed=f"one of {list(supported_versions)}",
                            hint="re-create the artifact with this version of hrsnn_hw")
    return payload["meta"], arrays, int(version)
