"""The output folder of a run: one run at a time, and what a killed run left behind.

:class:`RunDir` is entered by the CLI around every command that writes into ``--out``:

* it takes an exclusive ``flock`` on ``<out>/.hrsnn/lock`` (the kernel releases it when the
  holder dies, even by ``kill -9``, so there is never a stale lock to break) and writes the
  holder's pid, host, start time and command into it; a second run waits up to ``wait_s``
  and otherwise exits with a message naming the run that holds it;
* once it holds the lock it reaps what an earlier, killed run left: worker processes and
  shared-memory segments recorded in ``<out>/.hrsnn/resources.log`` by
  :func:`note_resources` (the Lava session records its workers there). Holding the lock
  proves their owner is gone, and each process is matched by its kernel start time so a
  reused pid is never touched;
* it confines every write of :mod:`hrsnn_hw.io` to ``out``.

Written by hand: ``fcntl.flock`` is the tool; ``filelock`` would add a dependency and
still not say who holds the lock.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any, Iterable

from .errors import PathError, RunLockedError
from .io import confine_writes

log = logging.getLogger("hrsnn_hw")
STATE_DIR = ".hrsnn"
LOCK_FILE = "lock"
RESOURCES_FILE = "resources.log"
_POLL_S = 0.2

_current: "RunDir | None" = None


def process_start_token(pid: int) -> str:
    """Kernel start time of ``pid`` (Linux ``/proc``), so a reused pid is not mistaken for it."""
    try:
        with open(f"/proc/{int(pid)}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        return fields[19].decode()
    except (OSError, IndexError, ValueError):
        return ""


def process_alive(pid: int, start_token: str = "") -> bool:
    """True if ``pid`` runs and (when ``start_token`` is given) is the same process."""
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OSError, ValueError):
        return False
    if start_token:
        current = process_start_token(int(pid))
        if current and current != start_token:
            return False
    return True


class RunDir:
    """Context manager: lock ``out``, reap a killed run's leftovers, confine writes to ``out``.

    Parameters
    ----------
    out : path
        The output folder (created if missing).
    command : str
        What this run is (shown to a second run that finds the folder locked).
    wait_s : float
        How long a second run waits for the lock before giving up (0: not at all).
    """

    def __init__(self, out: str | os.PathLike, command: str = "", wait_s: float = 0.0) -> None:
        self.out = Path(out)
        self.command = command
        self.wait_s = float(wait_s)
        self._fd: int | None = None
        self.reaped: dict[str, list] = {"processes": [], "shm": []}

    @property
    def state_dir(self) -> Path:
        return self.out / STATE_DIR

    def __enter__(self) -> "RunDir":
        global _current
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise PathError("the output folder is a file (or holds a file named .hrsnn)", parameter="--out",
                            value=str(self.out), hint="give a folder") from None
        except OSError as exc:
            raise PathError(f"cannot create the output folder ({exc.strerror})", parameter="--out",
                            value=str(self.out), hint="give a writable folder") from None
        self._lock()
        try:
            self.reaped = reap_leftovers(self.out)
        except BaseException:
            self._unlock()
            raise
        self._confine = confine_writes(self.out)
        self._confine.__enter__()
        _current = self
        return self

    def __exit__(self, *exc: Any) -> None:
        global _current
        _current = None
        try:
            self._confine.__exit__(*exc)
        finally:
            self._unlock()

    # -- the lock ----------------------------------------------------------------------
    def _lock(self) -> None:
        path = self.state_dir / LOCK_FILE
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise PathError(f"cannot write into the output folder ({exc.strerror})", parameter="--out",
                            value=str(self.out), hint="give a writable folder") from None
        deadline = time.monotonic() + self.wait_s
        announced = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _read_holder(fd)
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise RunLockedError("another run is using this output folder", parameter="--out",
                                         value=str(self.out), hint=f"held by {holder}; wait for it to finish, "
                                         "use another --out, or pass --wait SECONDS to queue behind it") from None
                if not announced:
                    print(f"hrsnn-hw: waiting for {holder} to release {self.out} "
                          f"(up to {self.wait_s:g} s)", file=sys.stderr)
                    announced = True
                time.sleep(_POLL_S)
        holder = {"pid": os.getpid(), "start_token": process_start_token(os.getpid()), "host": socket.gethostname(),
                  "started": time.strftime("%Y-%m-%d %H:%M:%S"), "command": self.command}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode("utf-8"), 0)
        self._fd = fd

    def _unlock(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing releases the flock
            self._fd = None


def _read_holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0).decode("utf-8") or "{}")
    except (OSError, ValueError):
        info = {}
    if not info:
        return "another run (starting up)"
    return (f"run pid {info.get('pid')} on {info.get('host')} since {info.get('started')}"
            + (f" ({info['command']})" if info.get("command") else ""))


# -- leftovers of killed runs ---------------------------------------------------------------

def _resources_path(out: Path) -> Path:
    return out / STATE_DIR / RESOURCES_FILE


def _read_resources(out: Path) -> dict:
    """Replay the append-only log: what was noted and not forgotten since."""
    procs: dict[int, str] = {}
    shm: dict[str, None] = {}
    try:
        text = _resources_path(out).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {"processes": [], "shm": []}
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a line cut by a kill
        if not isinstance(entry, dict):
            continue
        op, pid, name = entry.get("op"), entry.get("pid"), entry.get("shm")
        if op == "add" and isinstance(pid, int):
            procs[pid] = str(entry.get("start_token", ""))
        elif op == "del" and isinstance(pid, int):
            procs.pop(pid, None)
        elif op == "add" and isinstance(name, str):
            shm[name] = None
        elif op == "del" and isinstance(name, str):
            shm.pop(name, None)
    return {"processes": [{"pid": p, "start_token": t} for p, t in procs.items()], "shm": list(shm)}


def _append(lines: list[dict]) -> None:
    run = _current
    if run is None or not lines:
        return
    # one O_APPEND write per call, no fsync: it must survive the process (kill -9), which the
    # page cache does, and it runs once per Lava channel
    data = "".join(json.dumps(x) + "\n" for x in lines).encode("utf-8")
    try:
        fd = os.open(_resources_path(run.out), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
    except OSError as exc:
        log.debug("could not record run resources: %s", exc)


def note_resources(pids: Iterable[int | None] = (), shm: Iterable[str] = ()) -> None:
    """Record processes and shared-memory segments of the current run (no-op outside a RunDir).

    A later run of the same ``--out`` removes whatever is still there if this run is killed.
    """
    lines = [{"op": "add", "pid": int(p), "start_token": process_start_token(int(p))} for p in pids if p is not None]
    lines += [{"op": "add", "shm": str(s).lstrip("/")} for s in shm]
    _append(lines)


def forget_resources(pids: Iterable[int | None] = (), shm: Iterable[str] = ()) -> None:
    """Drop entries of processes and segments this run released itself."""
    lines = [{"op": "del", "pid": int(p)} for p in pids if p is not None]
    lines += [{"op": "del", "shm": str(s).lstrip("/")} for s in shm]
    _append(lines)


def _valid_shm_name(name: str) -> bool:
    # multiprocessing's segment names (psm_<hex>): nothing else in /dev/shm is ever touched
    return bool(re.fullmatch(r"psm_[0-9a-f]{4,64}", name))


def _is_python(pid: int) -> bool:
    """Our workers are (forked) Python processes; a recorded pid running anything else is left alone."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return b"python" in fh.read().split(b"\0", 1)[0].lower()
    except OSError:
        return False


def reap_leftovers(out: str | os.PathLike) -> dict[str, list]:
    """Kill recorded processes that still run and unlink recorded segments that still exist.

    Call only while holding the folder's lock (then their run is certainly over).
    """
    out = Path(out)
    data = _read_resources(out)
    reaped: dict[str, list] = {"processes": [], "shm": []}
    for entry in data["processes"]:
        pid, token = entry.get("pid"), str(entry.get("start_token", ""))
        if (isinstance(pid, int) and pid > 1 and pid != os.getpid() and token and process_alive(pid, token)
                and _is_python(pid)):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
                reaped["processes"].append(pid)
    for name in data["shm"]:
        if not _valid_shm_name(name):
            continue
        try:
            os.unlink(f"/dev/shm/{name}")
            reaped["shm"].append(name)
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("could not remove shared-memory segment %s left by a killed run: %s", name, exc)
    if reaped["processes"] or reaped["shm"]:
        log.warning("removed what a killed run left in %s: %d processes, %d shared-memory segments",
                    out, len(reaped["processes"]), len(reaped["shm"]))
    with contextlib.suppress(OSError):  # the earlier run is over: start a fresh log
        _resources_path(out).unlink()
    return reaped
