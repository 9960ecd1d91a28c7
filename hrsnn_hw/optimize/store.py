"""The study store: optuna's RDB storage with its heartbeat and retry callback, and the budget lock.

Storage
    ``--storage`` takes a database URL (``postgresql://user@host/db`` for workers on many
    machines) or a file path, which becomes an SQLite database (``sqlite:///<path>``); the
    default is ``<out>/study.db``. Both open :class:`optuna.storages.RDBStorage`.

Dead workers (kill -9, a machine lost)
    optuna's heartbeat does the work: every running trial's worker records a heartbeat every
    ``heartbeat_s`` seconds (optuna's heartbeat thread), and before asking for a trial a
    worker calls :func:`optuna.storages.fail_stale_trials`, which fails every RUNNING trial
    silent for longer than ``grace_s`` and hands it to
    :class:`optuna.storages.RetryHeartbeatStaleTrialCallback` (the successor of
    ``RetryFailedTrialCallback``), which queues its parameters again as a WAITING trial;
    optuna hands WAITING trials out before sampling anew. A Ctrl-C or SIGTERM does the same
    for the trial in progress on the way out (:func:`fail_and_retry`). On one machine a trial
    whose worker process is provably gone is retried at once instead of after the grace
    period (each trial records its worker's host, pid and process start time): that check is
    the only liveness code kept here, because a resume should not wait ``grace_s``. So no
    trial is lost, and none is counted twice: the failed original does not count, its retry
    does.

Budget
    ``--budget N`` means N COMPLETE trials in the study, across resumes and workers. A
    worker takes the budget lock, counts COMPLETE + RUNNING trials, and only asks for a new
    trial while that is below N. For an SQLite file the lock is an ``flock`` on a file next to
    the database (released by the kernel when its holder dies); database servers have no
    such lock here, so parallel workers may overshoot the budget by up to (workers - 1).
"""
from __future__ import annotations

import contextlib
import copy
import datetime
import fcntl
import logging
import os
import socket
import time
import uuid
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterator

import optuna
from optuna.storages import RetryHeartbeatStaleTrialCallback, fail_stale_trials
from optuna.trial import FrozenTrial, TrialState

from ..errors import OptimizeError, StudyMismatchError
from ..rundir import process_alive, process_start_token

log = logging.getLogger("hrsnn_hw.optimize")

CONFIG_ATTR = "hrsnn:config"
_OPEN_ATTEMPTS = 5
SQLITE_MAGIC = b"SQLite format 3\x00"

__all__ = ["OptimizeError", "StudyMismatchError", "storage_url", "open_storage", "WorkerIdentity",
           "heartbeat", "reap_dead_local_trials", "fail_and_retry", "retried_from", "budget_lock",
           "CONFIG_ATTR"]


def is_url(storage: str) -> bool:
    return "://" in str(storage)


def storage_url(storage: str | os.PathLike) -> str:
    """A database URL for ``storage``: a URL as given, a file path as an SQLite database."""
    text = str(storage)
    if is_url(text):
        return text
    path = Path(text).absolute()
    if path.is_dir():
        raise StudyMismatchError("the study storage is a folder", parameter="--storage", value=text,
                            hint="give a database file, e.g. runs/opt/study.db, or a URL")
    if path.exists() and path.stat().st_size:
        with open(path, "rb") as fh:
            if fh.read(16) != SQLITE_MAGIC:
                raise StudyMismatchError("the study storage is not an SQLite database", parameter="--storage",
                                         value=text, hint="studies are stored in SQLite (or a database URL); "
                                                          "optuna journal files of earlier versions are not read")
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def open_storage(storage: str | os.PathLike, *, heartbeat_s: float | None = None, grace_s: float | None = None,
                 max_retries: int = 3) -> optuna.storages.RDBStorage:
    """optuna's RDB storage of ``storage``, with heartbeat and retry callback when ``heartbeat_s``."""
    url = storage_url(storage)
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite:"):
        # several worker processes write one file: wait for SQLite's lock instead of failing
        kwargs["engine_kwargs"] = {"connect_args": {"timeout": 120}}
    if heartbeat_s:
        kwargs.update(heartbeat_interval=max(1, int(round(heartbeat_s))),
                      grace_period=max(2, int(round(grace_s or 2 * heartbeat_s))),
                      heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=max_retries))
    # Processes opening a new database at the same moment race to create its schema (one of
    # them gets an IntegrityError on the version table): the loser tries again.
    for attempt in range(_OPEN_ATTEMPTS):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(url, **kwargs)
        except Exception as exc:  # SQLAlchemy raises many kinds
            if attempt + 1 < _OPEN_ATTEMPTS and type(exc).__name__ in ("IntegrityError", "OperationalError"):
                time.sleep(0.2 * (attempt + 1))
                continue
            raise OptimizeError(f"cannot open the study database ({type(exc).__name__}: {exc})",
                                parameter="--storage", value=str(storage),
                                hint="check the path or URL, e.g. runs/opt/study.db or postgresql://user@host/db"
                                ) from None
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class WorkerIdentity:
    """Who runs a trial: enough to tell on the same host whether it is still alive."""

    host: str
    pid: int
    start_token: str
    worker_index: int
    run_id: str

    @classmethod
    def current(cls, worker_index: int = 0) -> "WorkerIdentity":
        pid = os.getpid()
        return cls(host=socket.gethostname(), pid=pid, start_token=process_start_token(pid),
                   worker_index=int(worker_index), run_id=uuid.uuid4().hex[:12])

    def to_dict(self) -> dict:
        return asdict(self)


def heartbeat(study: optuna.Study, trial_id: int) -> contextlib.AbstractContextManager:
    """optuna's heartbeat thread for an ask/tell trial (``Study.optimize`` starts it itself)."""
    # optuna keeps the thread helper in a private module; pinned optuna<6 (see pyproject)
    from optuna.storages._heartbeat import get_heartbeat_thread
    return get_heartbeat_thread(trial_id, study._storage)


def _retry_callback(study: optuna.Study):
    storage = study._storage
    cb = getattr(storage, "get_heartbeat_stale_trial_callback", lambda: None)()
    return cb


def fail_and_retry(study: optuna.Study, trial_id: int, reason: str) -> bool:
    """Fail a RUNNING trial (``failure`` = ``reason``) and queue its parameters again through
    the storage's retry callback; False if another worker finished it first."""
    storage = study._storage
    try:
        storage.set_trial_user_attr(trial_id, "failure", {"kind": "interrupted", "reason": reason})
        if not storage.set_trial_state_values(trial_id, TrialState.FAIL):
            return False
    except optuna.exceptions.UpdateFinishedTrialError:
        return False
    frozen = copy.deepcopy(storage.get_trial(trial_id))
    if not frozen.params:
        log.info("trial %d (%s) stopped before its parameters were drawn: nothing to retry", frozen.number, reason)
        return False
    cb = _retry_callback(study)
    if cb is None:
        return False
    before = len(study.get_trials(deepcopy=False, states=(TrialState.WAITING,)))
    cb(study, frozen)
    queued = len(study.get_trials(deepcopy=False, states=(TrialState.WAITING,))) > before
    if queued:
        log.info("trial %d %s: its parameters are queued again", frozen.number, reason)
    else:
        log.warning("trial %d (%s) is not retried again (retry limit reached)", frozen.number, reason)
    return queued


#: A RUNNING trial with no worker record older than this was asked by a worker that died before
#: recording itself (asking and recording take milliseconds).
_UNRECORDED_GRACE_S = 30.0


def reap_dead_local_trials(study: optuna.Study, me: WorkerIdentity) -> list[int]:
    """Fail and retry RUNNING trials whose worker ran on this host and is gone; then optuna's
    :func:`~optuna.storages.fail_stale_trials` for the rest (silent past the grace period)."""
    reaped = []
    now = datetime.datetime.now()
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = t.user_attrs.get("worker") or {}
        if not worker:
            # A worker records itself right after asking for the trial; one that died in between
            # left a trial no heartbeat will ever fail (its heartbeat starts later), and the
            # budget would wait for it forever.
            started = t.datetime_start
            if started is not None and (now - started).total_seconds() > _UNRECORDED_GRACE_S:
                if fail_and_retry(study, t._trial_id, "its worker died before recording itself"):
                    reaped.append(t.number)
            continue
        if worker.get("run_id") == me.run_id or worker.get("host") != me.host:
            continue
        if not process_alive(int(worker.get("pid", -1)), str(worker.get("start_token", ""))):
            if fail_and_retry(study, t._trial_id, "worker died"):
                reaped.append(t.number)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        fail_stale_trials(study)
    return reaped


def retried_from(trial: FrozenTrial) -> int | None:
    """Number of the original trial a retried trial repeats (None for an original)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return RetryHeartbeatStaleTrialCallback.retried_trial_number(trial)


@contextlib.contextmanager
def _flock(path: str) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def budget_lock(storage: str) -> contextlib.AbstractContextManager:
    """The budget lock of an SQLite file storage; a no-op for database servers (see module docstring)."""
    url = storage_url(storage)
    if url.startswith("sqlite:///") and ":memory:" not in url:
        return _flock(url[len("sqlite:///"):] + ".lock")
    return contextlib.nullcontext()
