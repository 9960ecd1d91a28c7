"""The ``hrsnn-hw`` command line.

Each subcommand lives in its own module ``hrsnn_hw/cli/cmd_<name>.py`` exposing
``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> dict``, and optionally
``check(args)`` (pre-flight validation, run before the output folder is locked and before
any stage starts). This module finds them, adds the common options and turns results and
errors into output and exit codes (:data:`EXIT_CODES`, printed by ``hrsnn-hw --help``).

With ``--json`` exactly one JSON object goes to stdout and nothing else does, also on
failure (then with ``"ok": false`` and an ``"error"`` field); human tables and progress go
to stderr/stdout otherwise. No failure prints a Python traceback unless ``HRSNN_TRACEBACK=1``.
"""
from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import pkgutil
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from ..errors import (ArtifactError, BackendError, HrsnnError, OptimizeError, ResourceError, RunLockedError,
                      StudyMismatchError, VerificationError)
from ..io import to_jsonable
from ..lifecycle import exit_code_of, install_child_guard, termination_handled

log = logging.getLogger("hrsnn_hw")

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT, EXIT_RUNTIME = 0, 1, 2, 3
EXIT_CODE_TEXT = """\
exit codes:
  0    success
  1    a check failed (verification diverged, no trial met the constraints, ...)
  2    bad input (a clear message names the parameter, value, allowed range and a hint)
  3    runtime or backend failure (Brian2 or Lava crashed, an artifact the tool wrote is
       unreadable, out of memory, another run holds --out, an internal error)
  130  interrupted (Ctrl-C, SIGINT)       143  terminated (SIGTERM)
With --json, stdout holds exactly one JSON object, also on failure ("ok": false, "error").
"""


def _exit_codes() -> dict[type, int]:
    # An error's class is looked up along its MRO: the most specific listed class wins.
    return {VerificationError: EXIT_CHECK_FAILED, StudyMismatchError: EXIT_BAD_INPUT,
            BackendError: EXIT_RUNTIME, ArtifactError: EXIT_RUNTIME, OptimizeError: EXIT_RUNTIME,
            RunLockedError: EXIT_RUNTIME, ResourceError: EXIT_BAD_INPUT, HrsnnError: EXIT_BAD_INPUT}


def exit_code_for(exc: BaseException) -> int:
    """The exit code of an exception (see :data:`EXIT_CODE_TEXT`)."""
    if isinstance(exc, KeyboardInterrupt):
        return exit_code_of(exc)
    codes = _exit_codes()
    for cls in type(exc).__mro__:
        if cls in codes:
            return codes[cls]
    return EXIT_RUNTIME


class CheckFailed(Exception):
    """Raised by a subcommand whose result is valid output but whose check failed (exit 1)."""

    def __init__(self, result: dict, message: str) -> None:
        super().__init__(message)
        self.result = result


class UsageError(HrsnnError):
    """The command line itself is malformed (argparse's complaint), exit 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but inside :func:`main` a usage error raises :class:`UsageError` (so ``--json``
    can still print one object); elsewhere it exits 2 as argparse does."""

    raise_errors = False

    def error(self, message: str) -> None:  # noqa: D102
        if _Parser.raise_errors:
            raise UsageError(message, hint=None if "hint:" in message else f"see `{self.prog} --help`")
        super().error(message)


def add_common(parser: argparse.ArgumentParser, *, reports: bool = True) -> None:
    """Options every reporting subcommand takes."""
    from .validate import memory_size, output_dir, seed_value
    g = parser.add_argument_group("common options")
    g.add_argument("--seed", type=seed_value, default=0,
                   help="random seed, 0..2**31-1 (same seed, same result; default 0)")
    g.add_argument("--out", type=output_dir, default=None, help="directory for artifacts, reports and figures")
    g.add_argument("--quick", action="store_true",
                   help="small configuration that finishes in well under a minute (tests, CI)")
    if reports:
        g.add_argument("--json", action="store_true", help="print one JSON object on stdout and nothing else")
    g.add_argument("--quiet", "-q", action="store_true", help="no progress bars or log messages")
    g.add_argument("--max-memory", type=memory_size, default=None, metavar="SIZE",
                   help="memory a run may plan to use, e.g. 8GiB or 'off' (default: the machine's available "
                        "memory); the estimate is checked before anything is allocated")
    g.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                   help="if another run holds --out, wait this long for it (default: exit at once)")


def _discover() -> list[Any]:
    mods = []
    pkg_dir = Path(__file__).parent
    for info in sorted(pkgutil.iter_modules([str(pkg_dir)]), key=lambda m: m.name):
        if info.name.startswith("cmd_"):
            mods.append(importlib.import_module(f"{__name__}.{info.name}"))
    return mods


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__
    parser = _Parser(
        prog="hrsnn-hw",
        description="Heterogeneous recurrent spiking networks, from design to a measured neuromorphic deployment.",
        epilog=EXIT_CODE_TEXT, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"hrsnn-hw {__version__}")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # `hrsnn-hw --json` alone
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for mod in _discover():
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=getattr(mod, "DESCRIPTION", mod.HELP),
                           epilog=EXIT_CODE_TEXT, formatter_class=argparse.RawDescriptionHelpFormatter)
        mod.add_arguments(p)
        add_common(p, reports=getattr(mod, "REPORTS", True))
        p.set_defaults(_run=mod.run, _check=getattr(mod, "check", None), _module=mod)
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


def _failure(exc: BaseException, code: int) -> dict:
    """The JSON object (and one-line message) of a failure."""
    if isinstance(exc, KeyboardInterrupt):
        kind = "Terminated" if code == 143 else "Interrupted"
        return {"ok": False, "error": kind, "message": "terminated by SIGTERM" if code == 143 else "interrupted",
                "exit_code": code}
    if isinstance(exc, HrsnnError):
        out = {"ok": False, "error": type(exc).__name__, "message": str(exc), "parameter": exc.parameter,
               "exit_code": code}
        if exc.hint:
            out["hint"] = exc.hint
        return out
    if isinstance(exc, MemoryError):
        message = ("out of memory; the run needs more memory than the machine could give "
                   "(see --max-memory and the size of the design and data)")
    elif isinstance(exc, OSError):
        message = f"system error: {exc}"
    else:
        message = (f"internal error: {type(exc).__name__}: {exc} (this is a bug in hrsnn_hw; "
                   "HRSNN_TRACEBACK=1 prints the traceback)")
    return {"ok": False, "error": type(exc).__name__, "message": message, "parameter": None, "exit_code": code}


def _wants_json(argv: list[str]) -> bool:
    return "--json" in argv


def _out_of(args: argparse.Namespace) -> Path | None:
    module = getattr(args, "_module", None)
    writes = getattr(module, "OUTPUT", None)
    if callable(writes):
        return writes(args)
    return Path(args.out) if getattr(args, "out", None) else None


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``hrsnn-hw`` console script."""
    import warnings
    argv = list(sys.argv[1:] if argv is None else argv)
    warnings.showwarning = _show_warning
    install_child_guard()
    json_mode = _wants_json(argv)
    args = None
    command = "hrsnn-hw"
    t0 = time.perf_counter()
    with termination_handled():
        try:
            parser = build_parser()
            _Parser.raise_errors = True
            try:
                args = parser.parse_args(argv)
            finally:
                _Parser.raise_errors = False
            json_mode = bool(getattr(args, "json", False))
            if not getattr(args, "_run", None):
                if json_mode:
                    raise UsageError("no command given", hint="see `hrsnn-hw --help`")
                parser.print_help()
                return EXIT_BAD_INPUT
            command = f"hrsnn-hw {args.command}"
            quiet = getattr(args, "quiet", False) or json_mode
            logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, format="%(message)s",
                                stream=sys.stderr)
            if args._check is not None:
                args._check(args)  # pre-flight: every argument, profile and estimate before any stage
            out = _out_of(args)
            if out is not None and getattr(args._module, "LOCKS_OUT", True):
                from ..rundir import RunDir
                with RunDir(out, command=" ".join(["hrsnn-hw", *argv])[:500], wait_s=max(0.0, args.wait)):
                    result = args._run(args)
            else:
                result = args._run(args)
        except CheckFailed as exc:
            _emit(args, {**exc.result, "ok": False, "error": "CheckFailed", "message": str(exc)})
            print(f"{command}: check failed: {exc}", file=sys.stderr)
            return EXIT_CHECK_FAILED
        except SystemExit:  # --help and --version exit 0 the argparse way
            raise
        except BaseException as exc:  # noqa: BLE001 - every failure becomes one message and an exit code
            code = exit_code_for(exc)
            info = _failure(exc, code)
            if json_mode:
                sys.stdout.write(json.dumps(to_jsonable(info)) + "\n")
            if isinstance(exc, KeyboardInterrupt):
                print(f"{command}: {info['message']}", file=sys.stderr)
            else:
                print(f"{command}: error: {info['message']}", file=sys.stderr)
            if os.environ.get("HRSNN_TRACEBACK") == "1" and not isinstance(exc, (HrsnnError, KeyboardInterrupt)):
                traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
            return code
    if isinstance(result, dict):
        result.setdefault("ok", True)
        result.setdefault("wall_time_s", round(time.perf_counter() - t0, 3))
        _emit(args, result)
    return EXIT_OK


def run_cli(argv: list[str]) -> int:
    """Run the CLI in-process (tests)."""
    return main(argv)
