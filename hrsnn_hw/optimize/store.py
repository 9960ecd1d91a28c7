"""The study store: optuna storage, the budget lock, and recovery of trials whose worker died.

Storage
    A file path opens optuna's ``JournalStorage(JournalFileBackend(path))`` (an append-only
    log that many processes, on one machine or on several machines sharing a filesystem,
    read and write safely). A URL (``sqlite:///...``, ``postgresql://...``) opens
    ``RDBStorage`` instead (needs SQLAlchemy, which optuna already requires).

Budget
    ``--budget N`` means N COMPLETE trials in the study, across resumes and workers. A
    worker takes the budget lock, counts COMPLETE + RUNNING trials, and only asks for a new
    trial while that is below N; so the study never holds more than N complete trials. The
    lock is an ``O_EXCL`` lock file next to the journal (safe on NFSv3+), recording its
    owner so that a lock left by a killed process is broken at once on the same host and
    after ``grace_s`` elsewhere. RDB storages have no lock file: there, parallel workers
    may overshoot the budget by up to (workers - 1) trials.

Dead workers (kill -9, a machine lost)
    optuna 5's heartbeat (``fail_stale_trials``) exists only for RDB storages, so the study
    records its own: every trial stores its worker (host, pid, process start time) as a
    user attribute, and a daemon thread refreshes a ``hrsnn:heartbeat`` system attribute
    every ``heartbeat_s``. Before asking for a trial, a worker fails every RUNNING trial
    whose worker is provably dead (same host, process gone) or silent for longer than
    ``stale_after_s`` (other hosts: keep the clocks in sync), and re-queues its parameters
    as a WAITING trial (``hrsnn:retry_of``), which optuna hands out before sampling anew. A
    Ctrl-C or SIGTERM does the same for the trial in progress on the way out. So no trial
    is lost, and none is counted twice: the failed original does not count, its retry does.
"""
from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from ..errors import HrsnnError

log = logging.getLogger("hrsnn_hw.optimize")

HEARTBEAT_ATTR = "hrsnn:heartbeat"
RETRY_ATTR = "hrsnn:retry_of"
RETRY_COUNT_ATTR = "hrsnn:retry_count"
CONFIG_ATTR = "hrsnn:config"


class OptimizeError(HrsnnError, RuntimeError):
    """The optimisation study cannot proceed (evaluator failures, incompatible resume, ...)."""


def is_url(storage: str) -> bool:
    return "://" in str(storage)


def open_storage(storage: str | os.PathLike) -> optuna.storages.BaseStorage:
    """Journal file storage for a path, RDB storage for a URL."""
    if is_url(str(storage)):
        try:
            return optuna.storages.RDBStorage(str(storage))
        except Exception as exc:  # SQLAlchemy raises many kinds
            raise OptimizeError(f"cannot open the study database ({exc})", parameter="--storage", value=str(storage),
                                hint="check the URL, e.g. sqlite:///study.db or postgresql://user@host/db") from None
    from optuna.storages.journal import JournalFileBackend
    path = Path(storage)
    path.parent.mkdir(parents=True, exist_ok=True)
    return optuna.storages.JournalStorage(JournalFileBackend(str(path)))


# -- processes and workers ---------------------------------------------------------------

def _process_start_token(pid: int) -> str:
    """Kernel start time of ``pid`` (Linux), so a reused pid is not mistaken for the original."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        return fields[19].decode()
    except (OSError, IndexError):
        return ""


def process_alive(pid: int, start_token: str = "") -> bool:
    """True if process ``pid`` (started at ``start_token``, when known) is still running."""
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OSError, ValueError):
        return False
    if start_token and Path("/proc").is_dir():
        current = _process_start_token(int(pid))
        if current and current != start_token:
            return False
    return True


@dataclass(frozen=True)
class WorkerIdentity:
    """Who runs a trial: enough to tell later whether it is still alive."""

    host: str
    pid: int
    start_token: str
    worker_index: int
    run_id: str

    @classmethod
    def current(cls, worker_index: int = 0) -> "WorkerIdentity":
        pid = os.getpid()
        return cls(host=socket.gethostname(), pid=pid, start_token=_process_start_token(pid),
                   worker_index=int(worker_index), run_id=uuid.uuid4().hex[:12])

    def to_dict(self) -> dict:
        return asdict(self)


class Heartbeat:
    """Context manager: refresh the trial's heartbeat attribute every ``interval_s`` seconds."""

    def __init__(self, storage: optuna.storages.BaseStorage, trial_id: int, interval_s: float) -> None:
        self._storage, self._trial_id, self._interval = storage, trial_id, float(interval_s)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"hrsnn-heartbeat-{trial_id}")

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._storage.set_trial_system_attr(self._trial_id, HEARTBEAT_ATTR, time.time())
            except Exception as exc:  # the trial finished meanwhile, or the storage hiccuped
                log.debug("heartbeat of trial %s not written: %s", self._trial_id, exc)

    def __enter__(self) -> "Heartbeat":
        self._storage.set_trial_system_attr(self._trial_id, HEARTBEAT_ATTR, time.time())
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()


def is_stale(trial: FrozenTrial, me: WorkerIdentity, stale_after_s: float, now: float | None = None,
             orphans_are_stale: bool = False) -> bool:
    """Whether a RUNNING trial's worker is gone (see module docstring).

    ``orphans_are_stale``: a RUNNING trial with no recorded worker is stale. True under the
    budget lock, because a live worker records itself before it releases the lock.
    """
    if trial.state != TrialState.RUNNING:
        return False
    worker = trial.user_attrs.get("worker") or {}
    if not worker and orphans_are_stale:
        return True
    if worker.get("run_id") == me.run_id:
        return False
    if worker and worker.get("host") == me.host:
        return not process_alive(int(worker.get("pid", -1)), str(worker.get("start_token", "")))
    now = time.time() if now is None else now
    last = trial.system_attrs.get(HEARTBEAT_ATTR)
    if last is None and trial.datetime_start is not None:
        last = trial.datetime_start.timestamp()
    return last is not None and now - float(last) > stale_after_s


def fail_and_requeue(study: optuna.Study, trial: FrozenTrial, reason: str, max_retries: int) -> bool:
    """Mark a RUNNING trial failed and queue its parameters again; True if it was re-queued."""
    storage = study._storage
    try:
        storage.set_trial_user_attr(trial._trial_id, "failure", {"kind": "interrupted", "reason": reason})
        if not storage.set_trial_state_values(trial._trial_id, TrialState.FAIL):
            return False
    except optuna.exceptions.UpdateFinishedTrialError:
        return False  # another worker got there first
    root = trial.system_attrs.get(RETRY_ATTR, trial.number)
    count = int(trial.system_attrs.get(RETRY_COUNT_ATTR, 0)) + 1
    if not trial.params:
        log.info("trial %d (%s) stopped before its parameters were drawn: nothing to retry", trial.number, reason)
        return False
    if count > max_retries:
        log.warning("trial %d (%s) is not retried again (%d retries already)", trial.number, reason, count - 1)
        return False
    study.add_trial(optuna.trial.create_trial(
        state=TrialState.WAITING, params=trial.params, distributions=trial.distributions,
        system_attrs={RETRY_ATTR: root, RETRY_COUNT_ATTR: count}))
    log.info("trial %d %s: its parameters are queued again", trial.number, reason)
    return True


def reap_stale_trials(study: optuna.Study, me: WorkerIdentity, stale_after_s: float, max_retries: int,
                      orphans_are_stale: bool = False) -> list[int]:
    """Fail and re-queue every RUNNING trial whose worker is gone; return their numbers."""
    reaped = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if is_stale(t, me, stale_after_s, orphans_are_stale=orphans_are_stale):
            fail_and_requeue(study, t, "worker died", max_retries)
            reaped.append(t.number)
    return reaped


# -- the budget lock ----------------------------------------------------------------------

class OwnerFileLock:
    """An ``O_EXCL`` lock file that records its owner, so a dead owner's lock can be broken.

    Parameters
    ----------
    path : path-like
        The lock file.
    me : WorkerIdentity
        The owner written into the file.
    grace_s : float
        Age after which a lock held by a process on another host is considered abandoned.
    """

    def __init__(self, path: str | os.PathLike, me: WorkerIdentity, grace_s: float = 120.0) -> None:
        self.path, self.me, self.grace_s = str(path), me, float(grace_s)

    def _owner_dead(self) -> bool:
        try:
            with open(self.path, "r", encoding="utf-8") as fh:
                owner = json.loads(fh.read() or "{}")
            age = time.time() - os.stat(self.path).st_mtime
        except (OSError, ValueError):
            return False  # vanished or being written: try again
        if owner.get("host") == self.me.host and "pid" in owner:
            return not process_alive(int(owner["pid"]), str(owner.get("start_token", "")))
        return age > self.grace_s

    def acquire(self) -> None:
        delay = 0.005
        while True:
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except OSError as exc:
                if exc.errno != errno.EEXIST:
                    raise
                if self._owner_dead():
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(self.path)
                    log.warning("broke the budget lock %s left by a dead process", self.path)
                    continue
                time.sleep(delay)
                delay = min(delay * 2, 0.2)
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(json.dumps(self.me.to_dict()))
            return

    def release(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    def __enter__(self) -> "OwnerFileLock":
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


def budget_lock(storage: str, me: WorkerIdentity) -> contextlib.AbstractContextManager:
    """The budget lock for a journal file; a no-op for RDB URLs (see module docstring)."""
    if is_url(storage):
        return contextlib.nullcontext()
    return OwnerFileLock(str(storage) + ".budget.lock", me)
