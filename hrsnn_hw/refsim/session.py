"""One guarded use of Brian2: target preferences, standalone device, errors, global state.

Brian2 keeps global state (preferences, the active device, the standalone project). A
:func:`brian_session` sets what a run needs, restores everything on the way out (also
after an error), serialises standalone builds that share a directory, and turns any
Brian2 failure into a :class:`~hrsnn_hw.errors.BackendError` with a hint instead of a
traceback from deep inside the code generator.
"""
from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import logging
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows; builds are then not serialised
    fcntl = None

from ..errors import BackendError, HrsnnError
from .config import SimulatorConfig

__all__ = ["BrianSession", "brian_session", "import_brian2", "shape_key"]

_PREF_KEYS = ("codegen.target", "codegen.runtime.cython.cache_dir", "devices.cpp_standalone.openmp_threads",
              "codegen.cpp.extra_compile_args_gcc")
# Brian2 compiles with -ffast-math (and gcc contracts a*b+c into FMAs), which lets the
# compiler reorder the float arithmetic of a step. Without them compiled targets compute
# the same float64 values as the numpy target, operation for operation.
_UNSAFE_FLAGS = ("-ffast-math",)
_STRICT_FLAGS = ("-ffp-contract=off",)
_CYTHON_SUBDIR = "strict_fp"
_HINTS = {
    "numpy": "this should not happen on the numpy target; please report it with the spec file",
    "cython": "the cython target needs Cython and a working C++ compiler; use target='numpy' "
              "(no compiler, slower per step) or check the compiler installation",
    "cpp_standalone": "the cpp_standalone target needs a working C++ compiler and make; "
                      "use target='cython' or target='numpy'",
}


def import_brian2() -> Any:
    """Import Brian2 quietly, or raise :class:`BackendError` saying how to get it."""
    try:
        if "brian2" not in sys.modules and threading.current_thread() is not threading.main_thread():
            brian2 = _import_off_the_main_thread()
        else:
            import brian2
    except ImportError as exc:  # pragma: no cover - brian2 is a declared dependency
        raise BackendError("Brian2 is not installed", parameter="brian2", value=str(exc),
                           hint="pip install 'brian2>=2.8,<3'") from None
    _release_warnings()
    return brian2


def _import_off_the_main_thread() -> Any:
    """Import Brian2 from a worker thread (a Dask worker runs its jobs in threads).

    Brian2's ``__init__`` installs a Ctrl-C handler, which Python allows only in the main
    thread; from another thread that one call is skipped (Ctrl-C is the main thread's business
    there anyway), everything else imports as usual.
    """
    import signal
    original = signal.signal

    def main_thread_only(signum: Any, handler: Any) -> Any:
        if threading.current_thread() is threading.main_thread():
            return original(signum, handler)
        return signal.getsignal(signum)
    signal.signal = main_thread_only
    try:
        import brian2
    finally:
        signal.signal = original
    return brian2


def _release_warnings() -> None:
    """Undo Brian2's import-time capture of every Python warning into its console logger.

    Brian2 routes all warnings of the process through logging and its own console handler,
    so a warning of ours (a lossy quantization, say) printed twice in another format. Warnings
    go back to the warnings module; Brian2's own log messages are untouched.
    """
    import logging
    logging.captureWarnings(False)
    warn_logger = logging.getLogger("py.warnings")
    for handler in list(warn_logger.handlers):
        warn_logger.removeHandler(handler)


def _short(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    if not lines:
        return type(exc).__name__
    text = lines[0] if len(lines) == 1 else f"{lines[0]} ... {lines[-1]}"
    return f"{type(exc).__name__}: {text[:400]}"


class BrianSession:
    """What a simulation needs from an active :func:`brian_session`."""

    def __init__(self, brian2: Any, config: SimulatorConfig, directory: Path | None) -> None:
        self.b2 = brian2
        self.config = config
        self.directory = directory
        self.build_time = 0.0

    @property
    def standalone(self) -> bool:
        return self.config.target == "cpp_standalone"

    def finish(self) -> None:
        """Compile and run the standalone project (no-op on runtime targets)."""
        if not self.standalone:
            return
        t0 = time.perf_counter()
        self.b2.device.build(directory=str(self.directory), compile=True, run=True,
                             with_output=False, clean=False)
        self.build_time = time.perf_counter() - t0


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fcntl is None:  # pragma: no cover
        yield
        return
    with open(path, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def shape_key(**shape) -> str:
    """A short digest of everything that shapes the generated code of a run (sizes, counts, steps).

    Runs with the same key generate the same C++ source and differ only in data (Brian2
    writes arrays set from Python as files read at run time), so a standalone build directory
    per key is compiled once and reused: Brian2 rewrites only changed files and ``make``
    recompiles nothing.
    """
    text = json.dumps({k: shape[k] for k in sorted(shape)}, sort_keys=True, default=str)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


@contextlib.contextmanager
def brian_session(config: SimulatorConfig, what: str = "simulation", *,
                  shape: str | None = None) -> Iterator[BrianSession]:
    """Run Brian2 code under ``config`` and leave Brian2's global state as it was.

    Parameters
    ----------
    config : SimulatorConfig
        Target, cache directory and threads.
    what : str
        Short description used in error messages (``"training"``, ``"simulation"``).
    shape : str, optional
        :func:`shape_key` of the run: the standalone target then builds in a directory of its
        own per shape (``cache_dir/<shape>``), kept between runs, so a network of a shape seen
        before is not recompiled.

    Raises
    ------
    BackendError
        For any failure inside Brian2 (compilation, missing compiler, code generation).
    """
    b2 = import_brian2()
    prefs = b2.prefs
    saved = {key: prefs[key] for key in _PREF_KEYS}
    # Brian2 logs code-generation chatter (and harmless warnings about our generated code) to
    # the console; quiet it for the session only.
    brian_logger = logging.getLogger("brian2")
    saved_level = brian_logger.level
    brian_logger.setLevel(logging.ERROR)
    directory = config.resolved_cache_dir()
    standalone = config.target == "cpp_standalone"
    if standalone and shape:
        directory = directory / f"shape_{shape}"
    stack = contextlib.ExitStack()
    device_set = False
    try:
        with stack:
            if config.target != "numpy":
                flags = [f for f in prefs["codegen.cpp.extra_compile_args_gcc"] if f not in _UNSAFE_FLAGS]
                prefs["codegen.cpp.extra_compile_args_gcc"] = flags + [f for f in _STRICT_FLAGS if f not in flags]
            if config.target == "cython":
                # Brian2's Cython cache key ignores compiler flags: keep these modules apart
                # from ones built with Brian2's default (fast-math) flags.
                cython_dir = directory / _CYTHON_SUBDIR
                cython_dir.mkdir(parents=True, exist_ok=True)
                prefs["codegen.runtime.cython.cache_dir"] = str(cython_dir)
            if standalone:
                # Brian2 names objects uniquely among the *live* ones ("..._codeobject_1" while an
                # earlier run's objects await collection): collect them so a shape generates the
                # same source every time and its build is reused.
                gc.collect()
                directory.mkdir(parents=True, exist_ok=True)
                # Two processes building into one directory would corrupt each other's project.
                stack.enter_context(_file_lock(directory / ".hrsnn_hw.lock"))
                prefs["devices.cpp_standalone.openmp_threads"] = config.threads if config.threads > 1 else 0
                b2.set_device("cpp_standalone", directory=str(directory), build_on_run=False)
                device_set = True
            else:
                prefs["codegen.target"] = config.target
            try:
                yield BrianSession(b2, config, directory if standalone else None)
            finally:
                if device_set:
                    # Forget this project so the next standalone run starts clean, then go back.
                    from brian2.devices.device import reset_device
                    b2.device.reinit()
                    reset_device()
                    device_set = False
    except HrsnnError:
        raise
    except MemoryError:
        raise BackendError(f"Brian2 {what} ran out of memory", parameter="max_batch",
                           value=config.max_batch,
                           hint="lower SimulatorConfig.max_batch (fewer samples side by side)") from None
    except Exception as exc:  # noqa: BLE001 - every Brian2 failure becomes a BackendError
        err = BackendError(f"Brian2 {what} failed on target {config.target!r} ({_short(exc)})",
                           parameter="target", value=config.target, hint=_HINTS[config.target])
        err.original = exc  # kept for debugging without printing Brian2's traceback
        raise err from None
    finally:
        for key, value in saved.items():
            prefs[key] = value
        brian_logger.setLevel(saved_level)
