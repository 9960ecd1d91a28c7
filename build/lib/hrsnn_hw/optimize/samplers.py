"""The samplers a study can use, built for one worker.

``gp`` (default): :class:`~hrsnn_hw.optimize.gp_sampler.SklearnGPSampler`, GP + expected
improvement on scikit-learn; ParEGO scalarisation in multi-objective mode. ``tpe``:
optuna's multivariate TPE. ``random``: optuna's random sampler (the baseline). ``nsga2``:
optuna's NSGA-II (multi-objective; needs budgets of several populations to shine).
``optuna-gp``: optuna's own ``GPSampler``, which needs torch (``pip install
"hrsnn_hw[bo]"``). All of them honour the constraints optuna stores per trial.
"""
from __future__ import annotations

import os
import socket
import warnings
import zlib
from typing import Callable

import numpy as np
import optuna
from optuna.trial import FrozenTrial

from ..errors import HrsnnError
from .config import StudyConfig
from .gp_sampler import SklearnGPSampler


def worker_seed(seed: int, worker_index: int, salt: str = "") -> int:
    """Independent seeds per worker: samplers with internal state must not repeat each other."""
    entropy = [int(seed) & 0xFFFFFFFF, int(worker_index)] + ([zlib.crc32(salt.encode())] if salt else [])
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def failed_as_worst(trial: FrozenTrial) -> bool:
    """Failures of the design itself (evaluator error, silent network), not interruptions."""
    failure = trial.user_attrs.get("failure") or {}
    return failure.get("kind") in ("error", "non-finite")


def make_sampler(config: StudyConfig, worker_index: int = 0) -> optuna.samplers.BaseSampler:
    """The configured sampler for one worker.

    Raises
    ------
    HrsnnError
        ``optuna-gp`` without torch installed.
    """
    n_startup = config.n_startup_trials()
    # A --worker-only process may run on another machine with the same options and index.
    salt = f"{socket.gethostname()}:{os.getpid()}" if config.worker_only else ""
    seed = worker_seed(config.seed, worker_index, salt)
    name = config.sampler
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if name == "gp":
            # Stateless and keyed by trial number: the same seed in every worker is correct.
            return SklearnGPSampler(config.space.distributions(), seed=config.seed, n_startup_trials=n_startup,
                                    failed_as_worst=failed_as_worst)
        if name == "tpe":
            return optuna.samplers.TPESampler(seed=seed, n_startup_trials=n_startup, multivariate=True)
        if name == "random":
            return optuna.samplers.RandomSampler(seed=seed)
        if name == "nsga2":
            return optuna.samplers.NSGAIISampler(seed=seed, population_size=max(4, n_startup))
        if name == "optuna-gp":
            try:
                import torch  # noqa: F401
            except ImportError:
                raise HrsnnError("the optuna-gp sampler needs torch, which is not installed",
                                 parameter="--sampler", value=name, allowed="gp, tpe, random, nsga2 without torch",
                                 hint='install the optional extra: pip install "hrsnn_hw[bo]" (or use the default '
                                      "--sampler gp, a torch-free GP on scikit-learn)") from None
            return optuna.samplers.GPSampler(seed=seed, n_startup_trials=n_startup)
    raise HrsnnError("unknown sampler", parameter="--sampler", value=name)


SamplerFactory = Callable[[StudyConfig, int], optuna.samplers.BaseSampler]
