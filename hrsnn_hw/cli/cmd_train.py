"""``hrsnn-hw train``: the pipeline up to the train stage (artifacts cached in --out)."""
from __future__ import annotations

import argparse

from .cmd_run import add_arguments as _run_arguments
from .cmd_run import check  # noqa: F401 - the same pre-flight as `run`
from .cmd_run import run_pipeline_command

NAME = "train"
HELP = "unsupervised STDP training (Brian2) of a design and its MRSNN twin, with float metrics"
DESCRIPTION = """\
unsupervised STDP training (Brian2) of a design and its MRSNN twin, with float metrics.

The same stages, artifacts and cache as ``hrsnn-hw run``: with the same --out, a later
command (quantize, deploy, verify, energy, run) reuses what this one computed.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _run_arguments(parser, with_until=False)
    parser.set_defaults(until="float")


def run(args: argparse.Namespace) -> dict:
    return run_pipeline_command(args, "float")
