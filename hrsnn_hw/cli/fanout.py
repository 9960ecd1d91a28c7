"""The fan-out options shared by ``ablation``, ``capacity``, ``sweep`` and ``optimize``.

``--workers N`` runs the independent jobs (seeds, sizes, settings, trials) in N local
processes; ``--cluster tcp://host:port`` runs them on a Dask cluster instead. The cluster is
connected to in the subcommand's ``check`` (before the output folder is locked and before any
stage starts), so a wrong address costs ``--cluster-timeout`` seconds, not a run.
"""
from __future__ import annotations

import argparse
import contextlib
from typing import Iterator

from ..executor import CONNECT_TIMEOUT_S, Executor, check_cluster_address, make_executor
from .validate import positive_float, positive_int

__all__ = ["add_fanout_arguments", "connect", "executor_of"]


def _address(text: str) -> str:
    return check_cluster_address(text, parameter="--cluster")


def add_fanout_arguments(parser: argparse.ArgumentParser, *, workers: bool = True,
                         workers_help: str = "parallel worker processes on this machine (default: CPUs, at most 4)",
                         cluster_note: str = "overrides --workers") -> None:
    """``--workers`` (unless the command has its own), ``--cluster`` and ``--cluster-timeout``."""
    if workers:
        parser.add_argument("--workers", type=positive_int, default=None, help=workers_help)
    parser.add_argument("--cluster", type=_address, default=None, metavar="ADDRESS",
                        help="run the jobs on a Dask cluster: its scheduler's address, tcp://HOST:PORT "
                             f"(`dask scheduler`; needs the extra hrsnn_hw[cluster]); {cluster_note}")
    parser.add_argument("--cluster-timeout", type=positive_float, default=CONNECT_TIMEOUT_S, metavar="SECONDS",
                        help=f"wait this long for the scheduler and its first worker (default {CONNECT_TIMEOUT_S:g})")


def connect(args: argparse.Namespace) -> None:
    """Pre-flight: connect to ``--cluster`` now (a clear error, exit 2, if it cannot be used)."""
    if getattr(args, "cluster", None) and getattr(args, "_executor", None) is None:
        args._executor = make_executor(address=args.cluster, timeout=args.cluster_timeout)


@contextlib.contextmanager
def executor_of(args: argparse.Namespace, n_jobs: int | None = None) -> Iterator[Executor | None]:
    """The run's executor: the cluster connected by :func:`connect`, else None (the callee makes
    local processes from ``--workers``). The cluster connection is closed at the end."""
    if getattr(args, "cluster", None):
        connect(args)
        try:
            yield args._executor
        finally:
            args._executor.close()
            args._executor = None
    else:
        yield None
