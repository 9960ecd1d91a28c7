"""``hrsnn-hw verify``: the pipeline up to the verify stage (artifacts cached in --out)."""
from __future__ import annotations

import argparse

from .cmd_run import add_arguments as _run_arguments
from .cmd_run import run_pipeline_command

NAME = "verify"
HELP = "run the equivalence ladder (rungs 1-5) on a trained, quantized, deployed network"
DESCRIPTION = """\
run the equivalence ladder (rungs 1-5) on a trained, quantized, deployed network.

  1  golden vs Lava's stock LIF / LIFRefractory, one process per neuron profile (exact)
  2  golden vs Lava HeteroLIF + Dense, the deployment (exact)
  3  golden integer vs its float twin (rounding bound)
  4  Brian2 float vs the quantized network (rates)
  5  task accuracy, float vs fixed point on the same test samples: fails if the drop
     exceeds 3 points at 95 % one-sided confidence (exact McNemar bound)

Writes --out/verify-<design>/verification.json (a VerificationReport) and .md. Exit code 1
when a rung fails. The same stages, artifacts and cache as ``hrsnn-hw run``: with the same
--out, a later command (quantize, deploy, verify, energy, run) reuses what this one computed.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _run_arguments(parser, with_until=False)
    parser.set_defaults(until="verify")


def run(args: argparse.Namespace) -> dict:
    return run_pipeline_command(args, "verify")
