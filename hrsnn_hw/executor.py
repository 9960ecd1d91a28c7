"""Where independent jobs run: in this process, in local worker processes, or on a Dask cluster.

An :class:`Executor` takes a module-level function and a list of argument tuples and yields
``(index, result)`` pairs as jobs finish (callers put them back in job order, so results do
not depend on where or in which order the jobs ran). A job that raises stops the run: its
error comes back as one of the toolkit's :class:`~hrsnn_hw.errors.HrsnnError` classes naming
the job (an :class:`~hrsnn_hw.errors.HrsnnError` keeps its class; anything else becomes a
:class:`~hrsnn_hw.errors.BackendError`); callers that want to keep going wrap their function
(see :func:`hrsnn_hw.evaluation.evaluate_many`).

Local workers are spawned (never forked: Brian2 and Lava hold threads and shared memory) and
die with their parent whatever kills it (:func:`hrsnn_hw.lifecycle.child_init`: the kernel's
parent-death signal, a watch on the parent's pid where that call is missing, and a check for a
parent that died before the request was made); they ignore Ctrl-C, the parent decides.

A cluster is Dask's (:class:`DaskExecutor`, the optional ``cluster`` extra): its scheduler's
address (``tcp://host:port``, from ``dask scheduler``) is checked when the executor is made,
before any stage starts. Its workers belong to the cluster, not to this process: an
interrupted run cancels its queued jobs, and the cluster's owner stops the workers.
"""
from __future__ import annotations

import asyncio
import concurrent.futures as cf
import copyreg
import multiprocessing as mp
import os
import time
import uuid
from types import MappingProxyType
from typing import Any, Callable, Iterator, Protocol, Sequence
from urllib.parse import urlsplit

from .errors import BackendError, HrsnnError
from .lifecycle import child_init

__all__ = ["Executor", "InlineExecutor", "LocalProcessExecutor", "DaskExecutor", "make_executor",
           "default_workers", "check_cluster_address", "is_local_address"]


def _mappingproxy(items: dict) -> MappingProxyType:
    return MappingProxyType(items)


def _reduce_mappingproxy(proxy: MappingProxyType) -> tuple:
    return _mappingproxy, (dict(proxy),)


# The frozen artifacts (NetworkSpec.design, report tables) hold read-only mappings, which the
# standard pickle refuses; jobs for worker processes carry them (cloudpickle, Dask's, has its own).
copyreg.pickle(MappingProxyType, _reduce_mappingproxy)

#: Seconds to wait for a cluster's scheduler (and for its first worker) before giving up.
CONNECT_TIMEOUT_S = 10.0
CLUSTER_SCHEMES = ("tcp", "tls")
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "0.0.0.0")
_TIMEOUTS = (TimeoutError, asyncio.TimeoutError, cf.TimeoutError)  # distinct classes before Python 3.11
_POLL_S = 0.05
#: BLAS/OpenMP threads of a job, wherever it runs (see :func:`run_pinned`).
JOB_BLAS_THREADS = 1
_INSTALL_HINT = "install the cluster extra: pip install 'hrsnn_hw[cluster]' (dask and distributed)"


def run_pinned(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` with the BLAS and OpenMP thread pools at :data:`JOB_BLAS_THREADS`.

    A threaded BLAS splits its sums by thread count, so the last bits of a least-squares
    readout depend on it; Dask's workers start with one thread and local processes with
    the CPUs. Every executor runs its jobs through this, so the same job gives the same
    numbers, bit for bit, in this process, in a local worker or on a cluster.
    """
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=JOB_BLAS_THREADS):
        return fn(*args)


def _job_name(fn: Callable[..., Any], index: int, labels: Sequence[str] | None) -> str:
    label = labels[index] if labels is not None and index < len(labels) else None
    return f"job {index}" + (f" ({label})" if label else "") + f" of {getattr(fn, '__name__', 'a function')}"


def _job_failed(exc: BaseException, name: str, where: str) -> HrsnnError:
    """``exc`` raised by a job, as a toolkit error naming the job (class kept for HrsnnError)."""
    if isinstance(exc, HrsnnError):
        try:
            return type(exc)(f"{name} failed {where}: {exc.message}", parameter=exc.parameter, value=exc.value,
                             allowed=exc.allowed, hint=exc.hint, index=exc.index)
        except Exception:  # a subclass with another constructor: fall through
            pass
    return BackendError(f"{name} failed {where}: {type(exc).__name__}: {exc}"[:2000], parameter="job", value=name,
                        hint="the other jobs were cancelled; fix what made this one fail and run again")


class Executor(Protocol):
    """Runs ``fn(*args)`` for every tuple of ``jobs``; yields ``(index, result)`` in completion order.

    An exception raised by a job is re-raised by the iterator as an
    :class:`~hrsnn_hw.errors.HrsnnError` naming the job (``labels[index]`` when given);
    callers that want to keep going wrap their function (see
    :func:`hrsnn_hw.evaluation.evaluate_many`). ``close()`` releases what the executor holds.
    """

    workers: int

    def map_unordered(self, fn: Callable[..., Any], jobs: Sequence[tuple], *,
                      labels: Sequence[str] | None = None) -> Iterator[tuple[int, Any]]:
        ...

    def close(self) -> None:
        ...

    def __enter__(self) -> "Executor":
        ...

    def __exit__(self, *exc: Any) -> None:
        ...


class InlineExecutor:
    """Every job in this process, in order (debugging, tests, one worker)."""

    workers = 1

    def map_unordered(self, fn: Callable[..., Any], jobs: Sequence[tuple], *,
                      labels: Sequence[str] | None = None) -> Iterator[tuple[int, Any]]:
        for i, args in enumerate(jobs):
            try:
                result = run_pinned(fn, *args)
            except Exception as exc:
                raise _job_failed(exc, _job_name(fn, i, labels), "in this process") from exc
            yield i, result

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> "InlineExecutor":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


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

    def close(self) -> None:
        """Nothing to release (each :meth:`map_unordered` owns its pool)."""

    def __enter__(self) -> "LocalProcessExecutor":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def map_unordered(self, fn: Callable[..., Any], jobs: Sequence[tuple], *,
                      labels: Sequence[str] | None = None) -> Iterator[tuple[int, Any]]:
        jobs = list(jobs)
        if not jobs:
            return
        pool = cf.ProcessPoolExecutor(max_workers=min(self.workers, len(jobs)), mp_context=mp.get_context("spawn"),
                                      initializer=child_init, initargs=(os.getpid(),))
        futures: dict[cf.Future, int] = {}
        finished = False
        try:
            for i, args in enumerate(jobs):
                futures[pool.submit(run_pinned, fn, *args)] = i
            for fut in cf.as_completed(futures):
                i = futures[fut]
                try:
                    result = fut.result()
                except Exception as exc:
                    raise _job_failed(exc, _job_name(fn, i, labels), "in a worker process") from exc
                yield i, result
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


def check_cluster_address(address: Any, parameter: str = "--cluster") -> str:
    """``address`` if it reads as a Dask scheduler address (``tcp://host:port``), else a clear error.

    Raises
    ------
    HrsnnError
        For anything but ``tcp://`` or ``tls://`` with a host and a port.
    """
    allowed = "tcp://HOST:PORT (or tls://HOST:PORT), the address `dask scheduler` prints"
    if not isinstance(address, str) or not address.strip():
        raise HrsnnError("a cluster address is a scheduler URL", parameter=parameter, value=address, allowed=allowed,
                         hint="e.g. --cluster tcp://10.0.0.5:8786")
    text = address.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if parts is None or parts.scheme not in CLUSTER_SCHEMES or not parts.hostname or port is None \
            or parts.path not in ("", "/"):
        raise HrsnnError("not a Dask scheduler address", parameter=parameter, value=address, allowed=allowed,
                         hint="e.g. --cluster tcp://10.0.0.5:8786; without --cluster the jobs run in local processes")
    return text


def _check_tls_configured(security: Any, address: str) -> None:
    """A ``tls://`` scheduler is reached with the certificates of Dask's own configuration (read by
    ``distributed.Security()``); without a CA file and a client certificate there is no TLS
    context and Dask fails deep inside the connection, so say what to set instead."""
    if not (security.tls_ca_file and security.tls_client_cert):
        raise HrsnnError("a tls:// scheduler needs certificates, and Dask's configuration has none",
                         parameter="--cluster", value=address,
                         allowed="tls:// with distributed.comm.tls.ca-file, .client.cert (and .client.key) set",
                         hint="set them in Dask's config file or environment, e.g. "
                              "DASK_DISTRIBUTED__COMM__TLS__CA_FILE=ca.pem "
                              "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT=client.pem "
                              "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY=client.key; or use tcp://")


def is_local_address(address: str) -> bool:
    """True when the scheduler runs on this machine (its workers then share this filesystem)."""
    host = (urlsplit(address).hostname or "").lower()
    return host in _LOCAL_HOSTS


class DaskExecutor:
    """Jobs on a Dask cluster (``dask scheduler`` + ``dask worker``, or a ``LocalCluster``).

    The connection is made here, so an unreachable scheduler or a cluster without workers is
    reported before any stage starts. Jobs are submitted with ``pure=False`` (every job runs,
    none is taken from Dask's cache) and their results come back as they finish; the function
    and its arguments travel by pickle, so the workers need the same hrsnn_hw installed.
    Dask runs jobs in worker threads; Brian2 keeps process-wide state, so workers for the
    Brian2 stages (ablation, capacity) are started with one thread each
    (``dask worker ADDRESS --nworkers N --nthreads 1``).

    Parameters
    ----------
    address : str
        The scheduler's address, ``tcp://host:port`` (or ``tls://host:port``, with the
        certificates of Dask's configuration: ``distributed.comm.tls.ca-file``,
        ``.client.cert``, ``.client.key``).
    timeout : float
        Seconds to wait for the scheduler, and for its first worker.

    Raises
    ------
    HrsnnError
        When the ``cluster`` extra is not installed (exit 2), the address is malformed or the
        scheduler does not answer within ``timeout`` (exit 2), or it has no worker (exit 2).
    """

    def __init__(self, address: str, *, timeout: float = CONNECT_TIMEOUT_S) -> None:
        self.address = check_cluster_address(address)
        try:
            import distributed
        except ImportError:
            raise HrsnnError("running on a cluster needs Dask's distributed package", parameter="--cluster",
                             value=address, hint=_INSTALL_HINT) from None
        self._distributed = distributed
        if urlsplit(self.address).scheme == "tls":
            _check_tls_configured(distributed.Security(), address)
        try:
            self.client = distributed.Client(self.address, timeout=float(timeout), set_as_default=False)
        except (OSError, *_TIMEOUTS) as exc:
            raise HrsnnError(f"no Dask scheduler answers at this address within {timeout:g} s "
                             f"({type(exc).__name__})", parameter="--cluster", value=address,
                             allowed="the address of a running `dask scheduler`",
                             hint="start one with `dask scheduler` and workers with `dask worker ADDRESS`, "
                                  "check host, port and firewall, or drop --cluster to use local processes") from None
        try:
            try:
                self.client.wait_for_workers(1, timeout=float(timeout))
            except (OSError, *_TIMEOUTS):
                raise HrsnnError(f"the Dask scheduler has no worker (waited {timeout:g} s)", parameter="--cluster",
                                 value=address, hint="start workers with `dask worker ADDRESS` on the machines") from None
            self.workers = max(1, sum(self.client.nthreads().values()))
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> "DaskExecutor":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Disconnect from the scheduler (the cluster itself keeps running)."""
        client = getattr(self, "client", None)
        if client is not None:
            try:
                client.close(timeout=5)
            except Exception:  # closing a lost connection must not hide the run's own error
                pass
            self.client = None

    def map_unordered(self, fn: Callable[..., Any], jobs: Sequence[tuple], *,
                      labels: Sequence[str] | None = None,
                      tick: Callable[[], None] | None = None, tick_s: float = 1.0) -> Iterator[tuple[int, Any]]:
        """As :meth:`Executor.map_unordered`; ``tick()`` is called every ``tick_s`` seconds while
        waiting (progress of long jobs)."""
        if self.client is None:
            raise BackendError("the cluster connection is closed", parameter="--cluster", value=self.address)
        jobs = list(jobs)
        if not jobs:
            return
        d = self._distributed
        name = getattr(fn, "__name__", "job")  # keys named after the job, not the wrapper (dashboard)
        futures = [self.client.submit(run_pinned, fn, *args, pure=False, key=f"{name}-{uuid.uuid4().hex}")
                   for args in jobs]
        index = {f.key: i for i, f in enumerate(futures)}
        pending = list(futures)
        finished = False
        last_tick = time.monotonic()
        try:
            while pending:
                # polling the futures' states (set by the client's own thread) keeps this
                # independent of Dask's default client and lets ``tick`` run while jobs are long
                done = [f for f in pending if f.done()]
                if not done:
                    time.sleep(_POLL_S)
                    if tick is not None and time.monotonic() - last_tick >= tick_s:
                        tick()
                        last_tick = time.monotonic()
                    continue
                finished_ids = {id(f) for f in done}
                pending = [f for f in pending if id(f) not in finished_ids]
                for fut in done:
                    i = index[fut.key]
                    try:
                        result = fut.result()
                    except (d.client.FutureCancelledError, d.scheduler.KilledWorker, OSError) as exc:
                        raise BackendError(f"{_job_name(fn, i, labels)} was lost on the cluster "
                                           f"({type(exc).__name__}: {exc})"[:2000], parameter="--cluster",
                                           value=self.address,
                                           hint="a worker died or the scheduler went away; check the cluster "
                                                "and run again") from None
                    except Exception as exc:
                        raise _job_failed(exc, _job_name(fn, i, labels), "on the cluster") from exc
                    yield i, result
            finished = True
        finally:
            if not finished:
                # an error or an interrupt: queued jobs are dropped (a job already running on a
                # worker thread cannot be stopped by Dask; it finishes and its result is discarded)
                try:
                    self.client.cancel([f for f in futures if not f.done()])
                except Exception:
                    pass


def default_workers(n_jobs: int | None = None, cap: int = 4) -> int:
    """CPUs of this machine, at most ``cap`` and at most ``n_jobs``."""
    n = max(1, min(cap, os.cpu_count() or 1))
    return max(1, min(n, n_jobs)) if n_jobs else n


def make_executor(workers: int | None = None, *, address: str | None = None,
                  timeout: float = CONNECT_TIMEOUT_S) -> Executor:
    """The executor for a run: a Dask cluster when ``address`` is given, else in-process for
    one worker, else local worker processes.

    Parameters
    ----------
    workers : int, optional
        Worker processes (default :func:`default_workers`); 1 runs every job in this process.
        Ignored with ``address`` (the cluster's workers run the jobs).
    address : str, optional
        A Dask scheduler's address (``tcp://host:port``): :class:`DaskExecutor`.
    timeout : float
        Seconds to wait for the scheduler and its first worker.

    Raises
    ------
    HrsnnError
        For a non-positive number of workers, or a cluster that cannot be used (see
        :class:`DaskExecutor`).
    """
    if address is not None:
        return DaskExecutor(address, timeout=timeout)
    n = default_workers() if workers is None else workers
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise HrsnnError("number of workers must be a positive integer", parameter="workers", value=workers,
                         allowed=">= 1", hint="1 runs every job in this process")
    return InlineExecutor() if n == 1 else LocalProcessExecutor(n)
