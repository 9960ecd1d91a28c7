"""Fixed-point equivalence: the ladder from the golden kernel to the deployed task metric."""
from .ladder import (RungResult, VerificationReport, exact_row, homogeneous_twin, run_exact_rungs,
                     run_rate_rung, task_rung)
from .tolerant import RateComparison, compare_rates, task_metric_verdict

__all__ = ["RungResult", "VerificationReport", "homogeneous_twin", "run_exact_rungs", "run_rate_rung",
           "task_rung", "exact_row", "RateComparison", "compare_rates", "task_metric_verdict"]
