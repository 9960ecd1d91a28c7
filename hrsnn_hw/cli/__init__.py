"""The ``hrsnn-hw`` command line.

Each subcommand lives in its own module ``hrsnn_hw/cli/cmd_<name>.py`` exposing
``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> dict``; this module
finds them, adds the common options and turns results and errors into output and
exit codes:

* 0 success; 1 a check failed (for example ``verify`` found a divergence);
* 2 bad input (a clear message on stderr naming the parameter); 130 interrupted.

With ``--json`` exactly one JSON object goes to stdout and nothing else does; human
tables and progress go to stderr/stdout otherwise.
"""
from __future__ import annotations

import argparse
import importlib
import json
import logging
import pkgutil
import sys
import time
from pathlib import Path
from typing import Any

from ..errors import HrsnnError
from ..io import to_jsonable

log = logging.getLogger("hrsnn_hw")


class CheckFailed(Exception):
    """Raised by a subcommand whose result is valid output but whose check failed (exit 1)."""

    def __init__(self, result: dict, message: str) -> None:
        super().__init__(message)
        self.result = result


def add_common(parser: argparse.ArgumentParser, *, reports: bool = True) -> None:
    """Options every reporting subcommand takes."""
    g = parser.add_argument_group("common options")
    g.add_argument("--seed", type=int, default=0, help="random seed (same seed, same result; default 0)")
    g.add_argument("--out", type=Path, default=None, help="directory for artifacts, reports and figures")
    g.add_argument("--quick", action="store_true",
                   help="small configuration that finishes in well under a minute (tests, CI)")
    if reports:
        g.add_argument("--json", action="store_true", help="print one JSON object on stdout and nothing else")
    g.add_argument("--quiet", "-q", action="store_true", help="no progress bars or log messages")


def _discover() -> list[Any]:
    mods = []
    pkg_dir = Path(__file__).parent
    for info in sorted(pkgutil.iter_modules([str(pkg_dir)]), key=lambda m: m.name):
        if info.name.startswith("cmd_"):
            mods.append(importlib.import_module(f"{__name__}.{info.name}"))
    return mods


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__
    parser = argparse.ArgumentParser(
        prog="hrsnn-hw",
        description="Heterogeneous recurrent spiking networks, from design to a measured neuromorphic deployment.")
    parser.add_argument("--version", action="version", version=f"hrsnn-hw {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in _discover():
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=getattr(mod, "DESCRIPTION", mod.HELP),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        mod.add_arguments(p)
        add_common(p, reports=getattr(mod, "REPORTS", True))
        p.set_defaults(_run=mod.run)
    return parser


def progress_enabled(args: argparse.Namespace) -> bool:
    """Progress bars only for humans: not with --json/--quiet, not when stderr is not a terminal."""
    return not (getattr(args, "json", False) or getattr(args, "quiet", False)) and sys.stderr.isatty()


def _emit(args: argparse.Namespace, result: dict) -> None:
    if getattr(args, "json", False):
        public = {k: v for k, v in result.items() if not str(k).startswith("_")}
        sys.stdout.write(json.dumps(to_jsonable(public)) + "\n")
    else:
        text = result.get("_text") if isinstance(result, dict) else None
        if text:
            sys.stdout.write(text.rstrip("\n") + "\n")
        else:
            sys.stdout.write(json.dumps(to_jsonable({k: v for k, v in result.items() if not k.startswith("_")}),
                                        indent=2) + "\n")


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    # Users of the command line want the message (it names parameter, value, range and
    # hint), not the line of library code that raised it.
    print(f"warning: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``hrsnn-hw`` console script."""
    import warnings
    warnings.showwarning = _show_warning
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    level = logging.WARNING if (getattr(args, "quiet", False) or getattr(args, "json", False)) else logging.INFO
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr)
    t0 = time.perf_counter()
    try:
        result = args._run(args)
    except CheckFailed as exc:
        _emit(args, {**exc.result, "ok": False})
        print(f"hrsnn-hw {args.command}: {exc}", file=sys.stderr)
        return 1
    except HrsnnError as exc:
        if getattr(args, "json", False):
            sys.stdout.write(json.dumps({"ok": False, "error": type(exc).__name__, "message": str(exc),
                                         "parameter": exc.parameter}) + "\n")
        print(f"hrsnn-hw {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"hrsnn-hw {args.command}: interrupted", file=sys.stderr)
        return 130
    if isinstance(result, dict):
        result.setdefault("ok", True)
        result.setdefault("wall_time_s", round(time.perf_counter() - t0, 3))
        _emit(args, result)
    return 0


def run_cli(argv: list[str]) -> int:
    """Run the CLI in-process (tests)."""
    return main(argv)
