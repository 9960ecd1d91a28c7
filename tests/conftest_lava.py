"""Helpers for tests that start the Lava runtime: leftover-process and shared-memory checks.

Not a conftest (pytest does not load it automatically): test modules import it.
Uses psutil when installed, else scans /proc.
"""
from __future__ import annotations

import os
from pathlib import Path

try:
    import psutil
except ImportError:  # psutil is not a declared dependency
    psutil = None

SHM_DIR = Path("/dev/shm")


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _proc_children(pid: int) -> set[int]:
    """All descendants of ``pid`` from /proc (fallback when psutil is missing)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            parents[int(entry.name)] = int(fields[1])
    out, frontier = set(), {pid}
    while frontier:
        frontier = {c for c, p in parents.items() if p in frontier} - out
        out |= frontier
    return out


def child_processes() -> set[int]:
    """Live (non-zombie) descendants of this test process, minus Python's resource tracker
    (started once per interpreter by multiprocessing, not by Lava's runtime)."""
    if psutil is not None:
        pids = set()
        for c in psutil.Process().children(recursive=True):
            try:
                if c.status() != psutil.STATUS_ZOMBIE:
                    pids.add(c.pid)
            except psutil.NoSuchProcess:
                pass
    else:
        pids = _proc_children(os.getpid())
    return {p for p in pids if "resource_tracker" not in _cmdline(p)}


def pid_alive(pid: int) -> bool:
    if psutil is not None:
        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def leftovers(report) -> dict:
    """What a :class:`~hrsnn_hw.lava_backend.session.CleanupReport`'s runtime left behind."""
    pids = [p for p in report.worker_pids + ([report.manager_pid] if report.manager_pid else []) if pid_alive(p)]
    shm = [n for n in report.shm_names if (SHM_DIR / n).exists()]
    return {"processes": pids, "shared_memory": shm}
