"""Stage cache: a stage re-runs only when its inputs (config + upstream stages) changed.

Each stage writes its files into ``<out>/<stage>/`` and a ``stage.json`` holding the key
(a hash of everything it depends on) and a JSON summary. A later run with the same key and
all files present loads the summary instead of recomputing, and says so.
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..io import read_json, to_jsonable, write_json_atomic

log = logging.getLogger("hrsnn_hw.pipeline")
STAGE_FORMAT = "hrsnn_hw.stage"
STAGE_VERSION = 1


def stage_key(*parts: Any) -> str:
    """A stable hash of JSON-able parts (config dicts, upstream keys, file contents)."""
    blob = json.dumps(to_jsonable(parts), sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:16]


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes (for inputs given as files)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


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
        self.results: dict[str, StageResult] = {}

    def run(self, name: str, key: str, produce: Callable[[Path], dict], outputs: tuple[str, ...] = ()) -> StageResult:
        """Run ``produce(directory) -> summary`` unless a previous run with ``key`` is complete."""
        directory = self.out / name
        meta_path = directory / "stage.json"
        done = self.results.get(name)
        if done is not None and done.key == key:
            return done
        if not self.force and meta_path.exists():
            try:
                meta = read_json(meta_path)
            except Exception:  # a damaged stage file means: run the stage again
                meta = {}
            if (meta.get("format") == STAGE_FORMAT and meta.get("key") == key
                    and all((directory / o).exists() for o in meta.get("outputs", outputs))):
                self.on_event(f"[{name}] inputs unchanged: skipped (cached in {directory})")
                res = StageResult(name, key, meta.get("summary", {}), directory, True, 0.0)
                self.results[name] = res
                return res
        self.on_event(f"[{name}] running")
        directory.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        summary = produce(directory)
        wall = time.perf_counter() - t0
        write_json_atomic(meta_path, {"format": STAGE_FORMAT, "version": STAGE_VERSION, "stage": name, "key": key,
                                      "outputs": list(outputs), "wall_time_s": wall, "summary": summary})
        self.on_event(f"[{name}] done in {wall:.1f} s")
        res = StageResult(name, key, summary, directory, False, wall)
        self.results[name] = res
        return res
