"""Fixed-point equivalence: the ladder from the golden kernel to the deployed task metric.

:func:`verify` runs it and returns a :class:`VerificationReport` (an artifact: ``save``/``load``).
"""
from .exact import EXACT_BACKENDS, exact_rung, exact_rung_many, float_rung
from .ladder import RUNGS, exact_row, verify
from .report import RungResult, VerificationReport
from .tolerant import (RateComparison, TaskPredictions, Tolerances, compare_rates, paired_accuracy_test,
                       task_verdict)

__all__ = ["EXACT_BACKENDS", "RUNGS", "RateComparison", "RungResult", "TaskPredictions",
           "Tolerances", "VerificationReport", "compare_rates", "exact_row", "exact_rung", "exact_rung_many",
           "float_rung", "paired_accuracy_test", "task_verdict", "verify"]

# `from hrsnn_hw import verify` gives this subpackage (the import binds it): calling it calls verify()
from .. import _make_callable  # noqa: E402

_make_callable(__name__, verify)
