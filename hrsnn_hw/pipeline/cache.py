"""Stage cache: a stage re-runs only when its inputs (config, upstream stages, code) changed.

Each stage writes its files into ``<out>/<stage>/`` and a ``stage.json`` holding the key
(a hash of everything it depends on, including :func:`package_digest`, a digest of the
package's own code and bundled data, so that a code change recomputes), the SHA-256 of
every output file, and a JSON summary. A later run with the same key whose files are all
present and intact loads the summary instead of recomputing, and says so; a missing or
damaged file is reported in one line and the stage is recomputed.
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..io import check_inside, make_dir, read_json, to_jsonable, write_json_atomic

log = logging.getLogger("hrsnn_hw.pipeline")
STAGE_FORMAT = "hrsnn_hw.stage"
STAGE_VERSION = 2
_CODE_SUFFIXES = (".py", ".json", ".toml")
_CHUNK = 1 << 20


def stage_key(*parts: Any) -> str:
    """A stable hash of JSON-able parts (config dicts, upstream keys, file contents)."""
    blob = json.dumps(to_jsonable(parts), sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:16]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes (for inputs given as files)."""
    return _sha256(Path(path))[:16]


def tree_digest(root: str | Path) -> str:
    """SHA-256 over every ``.py``/``.json``/``.toml`` file under ``root`` (paths and contents)."""
    root = Path(root)
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.suffix in _CODE_SUFFIXES and p.is_file()
                       and "__pycache__" not in p.parts):
        h.update(path.relative_to(root).as_posix().encode("utf-8") + b"\0")
        h.update(_sha256(path).encode("ascii") + b"\0")
    return h.hexdigest()[:16]


@functools.lru_cache(maxsize=None)
def package_digest() -> str:
    """Digest of the package's code and bundled data (every ``hrsnn_hw/**/*.py`` and the bundled
    designs and profiles): part of every stage key, so that a code change recomputes."""
    return tree_digest(Path(__file__).resolve().parent.parent)


def _damage(directory: Path, checksums: dict[str, str]) -> str | None:
    """Why the recorded outputs cannot be trusted (None when all are present and intact)."""
    for name, digest in checksums.items():
        path = directory / name
        if not path.is_file():
            return f"{name} is missing"
        try:
            actual = _sha256(path)
        except OSError as exc:
            return f"{name} is unreadable ({exc.strerror})"
        if actual != digest:
            return f"{name} is damaged (checksum mismatch)"
    return None


@dataclass(frozen=True)
class StageResult:
    """What a stage produced: its key, summary, folder, whether it was skipped and its wall time."""

    name: str
    key: str
    summary: dict
    directory: Path
    skipped: bool
    wall_time_s: float


class StageCache:
    """Runs stages into ``out`` and skips those whose key did not change."""

    def __init__(self, out: str | Path, force: bool = False, on_event: Callable[[str], None] | None = None) -> None:
        self.out = Path(out)
        self.force = force
        self.on_event = on_event or (lambda msg: log.info(msg))
        self._custom_events = on_event is not None
        self.results: dict[str, StageResult] = {}

    def run(self, name: str, key: str, produce: Callable[[Path], dict], outputs: tuple[str, ...] = ()) -> StageResult:
        """Run ``produce(directory) -> summary`` unless a previous run with ``key`` is complete and intact."""
        directory = check_inside(self.out / name)
        meta_path = directory / "stage.json"
        done = self.results.get(name)
        if done is not None and done.key == key:
            return done
        if not self.force and meta_path.exists():
            try:
                meta = read_json(meta_path)
            except Exception:  # a damaged stage file means: run the stage again
                meta = {}
                log.warning("[%s] stage record unreadable: recomputing", name)
            if not isinstance(meta, dict):
                meta = {}
            checksums = meta.get("checksums")
            if (meta.get("format") == STAGE_FORMAT and meta.get("key") == key and isinstance(checksums, dict)
                    and set(outputs) <= set(checksums)):
                why = _damage(directory, {o: str(checksums[o]) for o in outputs})
                if why is None:
                    self.on_event(f"[{name}] inputs unchanged: skipped (cached in {directory})")
                    res = StageResult(name, key, meta.get("summary", {}), directory, True, 0.0)
                    self.results[name] = res
                    return res
                # one line, also under --quiet/--json (a warning, on stderr)
                log.warning("[%s] cached artifact %s: recomputing", name, why)
                if self._custom_events:
                    self.on_event(f"[{name}] cached artifact {why}: recomputing")
        self.on_event(f"[{name}] running")
        make_dir(directory)
        t0 = time.perf_counter()
        summary = produce(directory)
        wall = time.perf_counter() - t0
        checksums = {}
        for o in outputs:
            path = directory / o
            if path.is_file():
                checksums[o] = _sha256(path)
        write_json_atomic(meta_path, {"format": STAGE_FORMAT, "version": STAGE_VERSION, "stage": name, "key": key,
                                      "outputs": list(outputs), "checksums": checksums,
                                      "code": package_digest(), "wall_time_s": wall, "summary": summary})
        self.on_event(f"[{name}] done in {wall:.1f} s")
        res = StageResult(name, key, summary, directory, False, wall)
        self.results[name] = res
        return res
