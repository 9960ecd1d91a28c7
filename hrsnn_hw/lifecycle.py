"""Process lifecycle: SIGTERM handled like Ctrl-C, and every child dies with its parent.

* :func:`termination_handled` turns SIGTERM (what ``timeout``, Slurm and container runtimes
  send) into :class:`Terminated`, a :class:`KeyboardInterrupt`, so every ``except
  KeyboardInterrupt`` / ``finally`` clean-up written for Ctrl-C runs for it too; the CLI
  exits 143 for it and 130 for Ctrl-C.
* :func:`install_child_guard` registers a fork hook: a forked child (Lava's workers and
  its shared-memory manager) asks the kernel for SIGKILL when its parent dies
  (``prctl(PR_SET_PDEATHSIG)``), so a ``kill -9`` of the parent leaves no worker behind.
  While the main thread forks, Ctrl-C/SIGTERM/SIGALRM handlers are deferred until the fork
  hooks have run (an exception raised inside a hook is swallowed and can leave logging's
  lock held: a deadlock).
  The kernel ties that signal to the parent *thread* that forked, so children forked from
  another thread get a small watchdog thread on the parent's pid instead. Children also
  drop the parent's Python SIGTERM handler, and inside :func:`quiet_children` they ignore
  SIGINT (the parent stops them; otherwise Ctrl-C prints one traceback per worker).
* :func:`child_init` does the same for a *spawned* child (exec'd, so fork hooks do not run);
  call it first thing in the child's entry point.

Written by hand because the standard library has no parent-death hook and ``psutil`` only
observes processes; ``prctl`` is Linux-only, elsewhere the watchdog thread is used.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time
from typing import Any, Iterator

PR_SET_PDEATHSIG = 1
_WATCHDOG_POLL_S = 0.5


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: stop like Ctrl-C (exit 143 from the CLI)."""

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        super().__init__(f"terminated by signal {signum}")
        self.signum = signum


def exit_code_of(interrupt: BaseException) -> int:
    """128 + signal number: 143 for SIGTERM, 130 for Ctrl-C (SIGINT)."""
    return 128 + int(getattr(interrupt, "signum", signal.SIGINT))


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated(signum)


def _unraisable(unraisable: Any) -> None:
    """An interrupt raised where Python swallows exceptions (a fork hook, ``__del__``) is
    delivered again a moment later instead of being lost (the run would go on to the end)."""
    exc = getattr(unraisable, "exc_value", None)
    if isinstance(exc, KeyboardInterrupt):
        signum = int(getattr(exc, "signum", signal.SIGINT))
        timer = threading.Timer(0.05, os.kill, (os.getpid(), signum))
        timer.daemon = True
        timer.start()
        return
    _default_unraisable(unraisable)


_default_unraisable = sys.unraisablehook


@contextlib.contextmanager
def termination_handled() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` in the main thread (no-op from other
    threads); the previous handler is restored after it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    previous_hook, sys.unraisablehook = sys.unraisablehook, _unraisable
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        sys.unraisablehook = previous_hook


# -- children ---------------------------------------------------------------------------

def set_parent_death_signal(signum: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send ``signum`` to this process when its parent dies (Linux)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent_pid: int) -> None:
    def loop() -> None:
        while True:
            if os.getppid() != parent_pid:
                os._exit(1)
            time.sleep(_WATCHDOG_POLL_S)
    threading.Thread(target=loop, name="hrsnn-parent-watchdog", daemon=True).start()


def child_init(parent_pid: int | None = None, *, ignore_sigint: bool = True,
               death_signal: int = signal.SIGKILL) -> None:
    """Make this (child) process die with its parent; call first thing in a spawned child.

    Parameters
    ----------
    parent_pid : int, optional
        The parent's pid as the parent saw it (guards the race where the parent died before
        this call); default ``os.getppid()``.
    ignore_sigint : bool
        Ignore Ctrl-C (the parent stops its children itself).
    death_signal : int
        Signal sent when the parent dies (SIGTERM lets a child clean up; SIGKILL is certain).
    """
    parent_pid = os.getppid() if parent_pid is None else parent_pid
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if ignore_sigint:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not set_parent_death_signal(death_signal):
        _watch_parent(parent_pid)
    if os.getppid() != parent_pid:  # the parent died before the death signal was armed
        os._exit(1)


class _ForkState:
    main_thread = True
    parent_pid = 0
    saved: dict = {}
    deferred: list = []


_fork = _ForkState()
_quiet = threading.Event()
_installed = False
_install_lock = threading.Lock()
#: Signals whose Python handlers are deferred while the main thread forks (see _before_fork).
_DEFERRED_DURING_FORK = (signal.SIGINT, signal.SIGTERM, signal.SIGALRM)


def _defer(signum: int, frame: Any) -> None:
    _fork.deferred.append(signum)


def _before_fork() -> None:
    # A Python signal handler that raises while fork hooks run raises *inside* a hook, where
    # Python swallows the exception, e.g. inside logging's lock-release hook, which then never
    # releases its lock: the next log call deadlocks. So, while the main thread forks, handlers
    # only note the signal; it is sent again once every hook has run. (Registered last, this
    # hook runs first before the fork and last after it.)
    _fork.main_thread = threading.current_thread() is threading.main_thread()
    _fork.parent_pid = os.getpid()
    _fork.saved = {}
    _fork.deferred = []
    if _fork.main_thread:
        for signum in _DEFERRED_DURING_FORK:
            handler = signal.getsignal(signum)
            if callable(handler) and handler is not _defer:
                _fork.saved[signum] = handler
                signal.signal(signum, _defer)


def _restore_handlers() -> list[int]:
    saved, _fork.saved = _fork.saved, {}
    for signum, handler in saved.items():
        signal.signal(signum, handler)
    deferred, _fork.deferred = _fork.deferred, []
    return list(dict.fromkeys(deferred))


def _after_fork_in_parent() -> None:
    for signum in _restore_handlers():
        # from a thread, a moment later: raised here, the handler's exception would be swallowed
        timer = threading.Timer(0.01, os.kill, (os.getpid(), signum))
        timer.daemon = True
        timer.start()


def _after_fork_in_child() -> None:
    parent = _fork.parent_pid
    _restore_handlers()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if _quiet.is_set():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not (_fork.main_thread and set_parent_death_signal(signal.SIGKILL)):
        _watch_parent(parent)
    if os.getppid() != parent:
        os._exit(1)


def install_child_guard() -> None:
    """Register the fork hook (idempotent): forked children die with their parent."""
    global _installed
    with _install_lock:
        if _installed or not hasattr(os, "register_at_fork"):
            return
        os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent,
                            after_in_child=_after_fork_in_child)
        # an interrupt that still lands inside a hook (before our handler swap) is delivered
        # again instead of being lost
        global _default_unraisable
        if sys.unraisablehook is not _unraisable:
            _default_unraisable = sys.unraisablehook
            sys.unraisablehook = _unraisable
        _installed = True


@contextlib.contextmanager
def quiet_children() -> Iterator[None]:
    """Children forked inside this block also ignore SIGINT (their parent stops them)."""
    install_child_guard()
    _quiet.set()
    try:
        yield
    finally:
        _quiet.clear()
