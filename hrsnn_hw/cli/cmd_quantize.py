"""``hrsnn-hw quantize``: the pipeline up to the quantize stage (artifacts cached in --out)."""
from __future__ import annotations

import argparse

from .cmd_run import add_arguments as _run_arguments
from .cmd_run import check  # noqa: F401 - the same pre-flight as `run`
from .cmd_run import run_pipeline_command

NAME = "quantize"
HELP = "train (cached) and quantize for a hardware profile, with the quantization report"
DESCRIPTION = """\
train (cached) and quantize for a hardware profile, with the quantization report.

The same stages, artifacts and cache as ``hrsnn-hw run``: with the same --out, a later
command (quantize, deploy, verify, energy, run) reuses what this one computed.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _run_arguments(parser, with_until=False)
    parser.set_defaults(until="quantize")


def run(args: argparse.Namespace) -> dict:
    return run_pipeline_command(args, "quantize")
