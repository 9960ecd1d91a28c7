"""Where independent jobs run: in this process, or in local worker processes (a cluster later).

An :class:`Executor` takes a module-level function and a list of argument tuples and yields
``(index, result)`` pairs as jobs finish. The rest of the toolkit only sees this seam, so a
cluster back end (Dask's ``Client.submit`` + ``distributed.as_completed`` has the same shape)
plugs in as one more class and one more branch of :func:`make_executor`.

Local workers are spawned (never forked: Brian2 and Lava hold threads and shared memory) and
die with their parent whatever kills it: each worker asks the kernel for SIGKILL when its
parent dies (Linux ``PR_SET_PDEATHSIG``) and also watches its parent's pid, which covers
systems without that call and a parent that dies before the request is made.
"""
from __future__ import annotations

import concurrent.futures as cf
import ctypes
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from typing import Any, Callable, Iterator, Protocol, Sequence

from .errors import HrsnnError

__all__ = ["Executor", "InlineExecutor", "LocalProcessExecutor", "make_executor", "default_workers"]

_PR_SET_PDEATHSIG = 1


class Executor(Protocol):
    """Runs ``fn(*args)`` for every tuple of ``jobs``; yields ``(index, result)`` in completion order.

    An exception raised by a job is re-raised by the iterator; callers that want to keep
    going wrap their function (see :func:`hrsnn_hw.evaluation.evaluate_many`).
    """

    workers: int

    def map_unordered(self, fn: Callable[..., Any], jobs: Sequence[tuple]) -> Iterator[tuple[int, Any]]:
        ...


class InlineExecutor:
    """Every job in this process, in order (debugging, tests, one worker)."""

    workers = 1

    def map_unordered(self, fn: Callable[..., Any], jobs: Sequence[tuple]) -> Iterator[tuple[int, Any]]:
        for i, args in enumerate(jobs):
            yield i, fn(*args)


def _watch_parent(parent_pid: int, period_s: float = 0.5) -> None:
    while True:
        time.sleep(period_s)
        if os.getppid() != parent_pid:
            os._exit(1)


def _die_with_parent(parent_pid: int) -> None:
    """Worker initializer: end this process when the parent process ends (SIGKILL included)."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: the watcher below still does the job
            pass
    if os.getppid() != parent_pid:  # the parent died before the request was made
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="hrsnn-parent-watch", daemon=True).start()
    # Ctrl-C reaches the whole process group; the parent decides what happens to the jobs.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class LocalProcessExecutor:
    """``workers`` spawned processes on this machine that die with their parent.

    Parameters
    ----------
    workers : int
        Number of worker processes (>= 1).
    """

    def __init__(self, workers: int) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise HrsnnError("number of workers must be a positive integer", parameter="workers", value=workers,
                             allowed=">= 1")
        self.workers = workers

    def map_unordered(self, fn: Callable[..., Any], jobs: Sequence[tuple]) -> Iterator[tuple[int, Any]]:
        jobs = list(jobs)
        if not jobs:
            return
        pool = cf.ProcessPoolExecutor(max_workers=min(self.workers, len(jobs)), mp_context=mp.get_context("spawn"),
                                      initializer=_die_with_parent, initargs=(os.getpid(),))
        futures: dict[cf.Future, int] = {}
        finished = False
        try:
            for i, args in enumerate(jobs):
                futures[pool.submit(fn, *args)] = i
            for fut in cf.as_completed(futures):
                yield futures[fut], fut.result()
            finished = True
        finally:
            if finished:
                pool.shutdown(wait=True)
            else:
                # An error or an interrupt: drop queued jobs and stop the workers now, not after
                # the jobs they are running (which can take minutes). The pool keeps its
                # processes in a private attribute; without it they still end with this process.
                for fut in futures:
                    fut.cancel()
                procs = list((getattr(pool, "_processes", None) or {}).values())
                pool.shutdown(wait=False, cancel_futures=True)
                for proc in procs:
                    if proc.is_alive():
                        proc.terminate()
                for proc in procs:
                    proc.join(timeout=10)


def default_workers(n_jobs: int | None = None, cap: int = 4) -> int:
    """CPUs of this machine, at most ``cap`` and at most ``n_jobs``."""
    n = max(1, min(cap, os.cpu_count() or 1))
    return max(1, min(n, n_jobs)) if n_jobs else n


def make_executor(workers: int | None = None, *, address: str | None = None) -> Executor:
    """The executor for a run: in-process for one worker, else local worker processes.

    Parameters
    ----------
    workers : int, optional
        Worker processes (default :func:`default_workers`); 1 runs every job in this process.
    address : str, optional
        A cluster scheduler's address. Reserved for a cluster back end; none is installed yet.

    Raises
    ------
    HrsnnError
        For a non-positive number of workers, or an address (no cluster back end yet).
    """
    if address is not None:
        raise HrsnnError("running on a cluster is not available in this version", parameter="address",
                         value=address, hint="run without a cluster address (local worker processes)")
    n = default_workers() if workers is None else workers
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise HrsnnError("number of workers must be a positive integer", parameter="workers", value=workers,
                         allowed=">= 1", hint="1 runs every job in this process")
    return InlineExecutor() if n == 1 else LocalProcessExecutor(n)
