"""One Lava runtime, always torn down: guarded run, watchdog on stop, original error surfaced.

Lava 0.10 quirks this module absorbs:

- A crash inside a process model hides its traceback (the runtime raises
  ``RuntimeError("1 Exception(s) occurred...")``) and a later ``stop()`` blocks forever.
  The worker processes keep the original ``(exception, traceback)``; we collect it and raise
  :class:`~hrsnn_hw.errors.BackendError` with it.
- An unstopped runtime leaves worker processes and shared-memory segments behind. The
  session stops the runtime in ``__exit__`` (also on error and ``KeyboardInterrupt``); if
  ``stop()`` does not return within ``stop_timeout_s``, or a worker already died, it
  terminates the runtime's own worker processes (by their process objects, never by name),
  shuts the shared-memory manager down and unlinks any segment that is still there.
- ``Process.__del__`` calls ``stop()`` again at garbage collection, which would hang after a
  crash; the session detaches the runtime from every process once it is torn down.

The blocking run executes in a helper thread while the calling thread waits in short
``join`` slices, so Ctrl-C reaches the caller and the timeout is enforced.

Processes and memory never outlive the run (:mod:`hrsnn_hw.lifecycle`): the workers are
forked with a parent-death signal (SIGKILL when this process dies, even by ``kill -9``) and
ignore Ctrl-C (this process stops them: no worker tracebacks); on Ctrl-C or SIGTERM the
session skips the graceful ``stop()`` and terminates them at once. Their pids and shared
memory segments are recorded in the run folder (:func:`hrsnn_hw.rundir.note_resources`), so
the next run of the same ``--out`` removes whatever a killed run left.
"""
from __future__ import annotations

import contextlib
import multiprocessing as mp
import threading
import time
from dataclasses import dataclass, field
from multiprocessing import shared_memory
from typing import Any, Callable, Iterable, Iterator

from ..errors import BackendError
from ..lifecycle import quiet_children
from ..rundir import forget_resources, note_resources

_POLL_S = 0.02
_GRACE_S = 2.0


@dataclass
class CleanupReport:
    """What the teardown of a runtime did (for tests and diagnostics).

    Attributes
    ----------
    worker_pids : list of int
        PIDs of the runtime's worker processes (process models and runtime services).
    manager_pid : int or None
        PID of its shared-memory manager process.
    shm_names : list of str
        Shared-memory segments the runtime allocated.
    graceful : bool
        ``runtime.stop()`` returned in time.
    forced : bool
        Workers had to be terminated.
    notes : list of str
        What happened, in order.
    """

    worker_pids: list[int] = field(default_factory=list)
    manager_pid: int | None = None
    shm_names: list[str] = field(default_factory=list)
    graceful: bool = False
    forced: bool = False
    notes: list[str] = field(default_factory=list)


@contextlib.contextmanager
def _recording_shared_memory() -> Iterator[None]:
    """Record every segment Lava's shared-memory manager creates inside this block, as it is
    created (so a run killed while Lava builds its channels leaves nothing unrecorded)."""
    from lava.magma.runtime.message_infrastructure.shared_memory_manager import SharedMemoryManager
    original = SharedMemoryManager.create_shared_memory

    def create_shared_memory(self, size: int):
        handle = original(self, size)
        note_resources(shm=[handle.name])
        return handle

    SharedMemoryManager.create_shared_memory = create_shared_memory
    try:
        yield
    finally:
        SharedMemoryManager.create_shared_memory = original


class _Timeout(Exception):
    pass


def _in_thread(fn: Callable[[], Any], timeout_s: float, name: str,
               abort: Callable[[], str | None] | None = None) -> Any:
    """Run ``fn`` in a daemon thread; wait in short slices (interruptible), raise on timeout.

    ``abort`` is polled while waiting: when it returns a message, waiting stops early (a worker
    died, so the run can never finish) and :class:`_Timeout` carries that message.
    """
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the calling thread below
            box["error"] = exc

    thread = threading.Thread(target=target, name=f"hrsnn-lava-{name}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    abort_deadline = None
    while thread.is_alive():
        thread.join(_POLL_S)
        now = time.monotonic()
        if now > deadline:
            raise _Timeout(f"{name} did not finish within {timeout_s:.1f} s")
        if abort is not None and abort_deadline is None:
            reason = abort()
            if reason:
                # give Lava a moment to raise on its own before giving up on the thread
                abort_deadline = now + _GRACE_S
                box["abort"] = reason
        if abort_deadline is not None and now > abort_deadline and thread.is_alive():
            raise _Timeout(box["abort"])
    if "error" in box:
        raise box["error"]
    return box.get("value")


class LavaSession:
    """Context manager around one compiled Lava network.

    Parameters
    ----------
    root : AbstractProcess
        Any process of the network (Lava compiles everything connected to it).
    processes : iterable of AbstractProcess
        Every process of the network (their runtime is detached after teardown).
    run_cfg : RunConfig
        Lava run configuration (e.g. ``Loihi2SimCfg(select_tag="fixed_pt")``).
    timeout_s : float
        Longest time a run may take.
    stop_timeout_s : float
        Longest time ``stop()`` may take before the workers are terminated.

    Examples
    --------
    >>> with LavaSession(lif, procs, Loihi2SimCfg(select_tag="fixed_pt")) as s:  # doctest: +SKIP
    ...     s.run(100)
    ...     raster = s.receive(sink)
    """

    def __init__(self, root, processes: Iterable, run_cfg, *, timeout_s: float = 600.0,
                 stop_timeout_s: float = 20.0) -> None:
        self.root = root
        self.processes = list(processes)
        self.run_cfg = run_cfg
        self.timeout_s = float(timeout_s)
        self.stop_timeout_s = float(stop_timeout_s)
        self.runtime = None
        self.cleanup = CleanupReport()
        self._closed = False
        self._interrupted = False

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> "LavaSession":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None and issubclass(exc_type, KeyboardInterrupt):
            self._interrupted = True
        self.close()

    def start(self) -> None:
        """Compile and initialise the runtime (forks the worker processes)."""
        if self.runtime is not None:
            return
        try:
            # workers die with this process and ignore Ctrl-C; segments are recorded as created
            with quiet_children(), _recording_shared_memory():
                self.root.create_runtime(run_cfg=self.run_cfg)
        except BaseException as exc:
            self.runtime = getattr(self.root, "runtime", None)
            self._snapshot()
            if isinstance(exc, KeyboardInterrupt):
                self._interrupted = True
            if isinstance(exc, Exception):
                raise self._error(f"could not build the network: {type(exc).__name__}: {exc}") from exc
            raise
        self.runtime = self.root.runtime
        self._snapshot()

    def run(self, num_steps: int) -> None:
        """Run ``num_steps`` steps (blocking, guarded by ``timeout_s``)."""
        from lava.magma.core.run_conditions import RunSteps
        self.start()
        try:
            _in_thread(lambda: self.root.run(condition=RunSteps(num_steps=int(num_steps))),
                       self.timeout_s, "run", abort=self._dead_worker)
        except _Timeout as exc:
            raise self._error(str(exc), "raise timeout_s or run fewer steps") from None
        except KeyboardInterrupt:
            self._interrupted = True
            raise
        except Exception as exc:
            raise self._error(f"{type(exc).__name__}: {exc}") from exc

    def _error(self, lava_says: str, hint: str | None = None) -> BackendError:
        """A BackendError that leads with the crashed process model's own exception."""
        errors = self._worker_errors()
        if errors:
            summary, tb = errors[0]
            return BackendError(f"Lava run failed in a process model: {summary}", parameter="lava_backend",
                                hint=f"Lava reported: {lava_says}\n" + "\n---\n".join(t for _, t in errors))
        return BackendError(f"Lava run failed: {lava_says}", parameter="lava_backend", hint=hint)

    def receive(self, recorder, timeout_s: float = 30.0):
        """Read the one-shot raster of a recorder process (see :mod:`.procs.recorder`)."""
        data = recorder.receive(timeout_s=timeout_s)
        if data is None:
            raise self._error("a recorder did not deliver its raster",
                              "the run must last exactly the recorder's num_steps steps")
        return data

    def close(self) -> None:
        """Stop the runtime (watchdog-guarded) and make sure nothing is left behind. Idempotent."""
        if self._closed:
            return
        self._closed = True
        rt = self.runtime
        if rt is None:
            return
        try:
            if self._interrupted:
                # Ctrl-C / SIGTERM: the user wants out now, not after a graceful stop
                self.cleanup.notes.append("interrupted: terminating the workers")
            elif not getattr(rt, "_is_started", False):
                # never ran: Lava's stop() would not send STOP and then join workers that wait
                # for commands forever, so tear down directly
                self.cleanup.notes.append("runtime never started: terminating its workers")
            elif self._dead_worker() is not None:
                self.cleanup.notes.append("a worker died: skipping stop(), which would block")
            else:
                try:
                    _in_thread(rt.stop, self.stop_timeout_s, "stop")
                    self.cleanup.graceful = True
                    self.cleanup.notes.append("stopped")
                except _Timeout as exc:
                    self.cleanup.notes.append(str(exc))
                except Exception as exc:  # stop() itself failed: fall through to the forced path
                    self.cleanup.notes.append(f"stop raised {type(exc).__name__}: {exc}")
            if not self.cleanup.graceful or self._any_alive():
                self._force()
        finally:
            self._detach()
            forget_resources(pids=[*self.cleanup.worker_pids, self.cleanup.manager_pid, *self._service_pids()],
                             shm=self.cleanup.shm_names)

    # -- internals ---------------------------------------------------------------------------
    def _actors(self) -> list:
        mi = getattr(self.runtime, "_messaging_infrastructure", None)
        return list(getattr(mi, "actors", []) or [])

    def _snapshot(self) -> None:
        """Remember PIDs and segment names now: Lava clears its lists while stopping."""
        if self.runtime is None:
            return
        self.cleanup.worker_pids = [a.pid for a in self._actors() if a.pid is not None]
        mi = getattr(self.runtime, "_messaging_infrastructure", None)
        smm = getattr(mi, "smm", None)
        manager = getattr(smm, "_manager", None)
        proc = getattr(manager, "_process", None)
        self.cleanup.manager_pid = getattr(proc, "pid", None)
        self.cleanup.shm_names = [h.name for h in getattr(smm, "_shared_memory_handles", [])]
        note_resources(pids=[*self.cleanup.worker_pids, self.cleanup.manager_pid, *self._service_pids()],
                       shm=self.cleanup.shm_names)

    def _service_pids(self) -> list[int]:
        """Pids of the runtime's helper processes besides the workers (the watchdog manager)."""
        wd = getattr(self.runtime, "_watchdog_manager", None)
        pids = []
        for proc in (getattr(getattr(wd, "_mp_manager", None), "_process", None), getattr(wd, "_lm", None),
                     getattr(wd, "_sm", None)):
            if getattr(proc, "pid", None) is not None:
                pids.append(int(proc.pid))
        return pids

    def _refresh_shm(self) -> None:
        mi = getattr(self.runtime, "_messaging_infrastructure", None)
        smm = getattr(mi, "smm", None)
        for h in getattr(smm, "_shared_memory_handles", []) or []:
            if h.name not in self.cleanup.shm_names:
                self.cleanup.shm_names.append(h.name)

    @staticmethod
    def _alive(actor) -> bool:
        try:
            return actor.is_alive()
        except ValueError:  # process object already closed by Lava's join
            return False

    def _any_alive(self) -> bool:
        return any(self._alive(a) for a in self._actors())

    def _dead_worker(self) -> str | None:
        for a in self._actors():
            try:
                code = a.exitcode
            except ValueError:
                return "a Lava worker process exited during the run"
            if code is not None:
                return f"Lava worker process {a.pid} exited with code {code} during the run"
        return None

    def _worker_errors(self) -> list[tuple[str, str]]:
        """``(summary, traceback)`` of every crashed process model, in worker order."""
        parts = []
        for a in self._actors():
            try:
                err = a._exception if getattr(a, "_is_done", False) else a.exception
            except (ValueError, OSError, EOFError):
                err = getattr(a, "_exception", None)
            if err:
                exc, tb = err if isinstance(err, tuple) else (err, "")
                parts.append((f"{type(exc).__name__}: {exc}", str(tb).strip()))
        return parts

    def _force(self) -> None:
        self.cleanup.forced = True
        self._refresh_shm()
        for a in self._actors():
            if self._alive(a):
                a.terminate()
        for a in self._actors():
            if getattr(a, "_is_done", False):
                continue
            try:
                # Lava's SystemProcess.join() takes no timeout: use the base class's
                mp.Process.join(a, 2.0)
                if self._alive(a):
                    a.kill()
                    mp.Process.join(a, 2.0)
                    self.cleanup.notes.append(f"killed worker {a.pid}")
            except (ValueError, AssertionError):
                continue
        mi = getattr(self.runtime, "_messaging_infrastructure", None)
        smm = getattr(mi, "smm", None)
        if smm is not None and getattr(smm, "_manager", None) is not None:
            try:
                _in_thread(smm.shutdown, 10.0, "shared-memory shutdown")
            except BaseException as exc:
                self.cleanup.notes.append(f"shared-memory manager shutdown failed: {exc}")
                proc = getattr(getattr(smm, "_manager", None), "_process", None)
                if proc is not None and proc.is_alive():
                    proc.kill()
                    proc.join(2.0)
        for name in self.cleanup.shm_names:
            try:
                seg = shared_memory.SharedMemory(name=name)
            except FileNotFoundError:
                continue
            seg.close()
            seg.unlink()
            self.cleanup.notes.append(f"unlinked leftover segment {name}")
        wd = getattr(self.runtime, "_watchdog_manager", None)
        if wd is not None:
            try:
                _in_thread(wd.stop, 5.0, "watchdog stop")
            except BaseException:
                pass

    def _detach(self) -> None:
        rt = self.runtime
        if rt is None:
            return
        # Lava's __del__ hooks call stop() again; after a teardown that would block or fail
        rt._is_started = False
        rt._is_running = False
        mi = getattr(rt, "_messaging_infrastructure", None)
        if mi is not None and self.cleanup.forced:
            mi._actors = []
        for proc in self.processes:
            try:
                proc._runtime = None
            except AttributeError:
                pass
