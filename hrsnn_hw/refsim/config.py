"""How the Brian2 reference simulator runs: code-generation target, compile cache, threads.

Importing this module does not import Brian2, so a :class:`SimulatorConfig` can be built
and validated (for example by the CLI) on a machine without it.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import HrsnnError

__all__ = ["SimulatorConfig", "SimulatorConfigError", "TARGETS", "default_cache_root"]

#: Brian2 code-generation targets the reference simulator supports.
TARGETS = ("numpy", "cython", "cpp_standalone")

#: Sequential steps above which ``SimulatorConfig.auto`` picks cython. Cython runs STDP training
#: ~5x faster per step (27k vs 5.7k steps/s, benchmarks/bench_refsim.py) but its first compile
#: takes 30-50 s on a cold cache; 150k steps is ~25 s on numpy.
AUTO_CYTHON_STEPS = 150_000
#: Neuron-steps (neurons x lanes x steps) above which ``auto`` picks cython whatever the number
#: of sequential steps: the numpy target's per-element cost dominates large networks. Measured
#: (hrsnn scaled to N = 4,000, 16 samples x 200 steps = 1.3e7 neuron-steps, loaded 2-core machine):
#: numpy 4.0 s, cython 1.6 s (compile cached), cpp_standalone 2.1 s (build cached). Below ~5e6 the
#: cython run saves less than its first compile (30-50 s, once per machine) costs.
AUTO_CYTHON_NEURON_STEPS = 5_000_000


class SimulatorConfigError(HrsnnError, ValueError):
    """A :class:`SimulatorConfig` field is invalid."""


def default_cache_root() -> Path:
    """Where compiled Brian2 code is kept between runs (``$HRSNN_HW_CACHE`` or ~/.cache/hrsnn_hw)."""
    root = os.environ.get("HRSNN_HW_CACHE")
    if root:
        return Path(root).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser() / "hrsnn_hw"


def _compiler_available() -> bool:
    return any(shutil.which(cc) for cc in ("cc", "gcc", "clang", "g++", "c++"))


@dataclass(frozen=True)
class SimulatorConfig:
    """Settings of one Brian2 run.

    Attributes
    ----------
    target : {"numpy", "cython", "cpp_standalone"}
        Brian2 code-generation target. ``"numpy"`` needs no compiler and starts fastest
        (tests, inference batches); ``"cython"`` compiles once (~15 s, cached in
        ``cache_dir``) and is much faster per step (long STDP training runs);
        ``"cpp_standalone"`` builds a C++ program per network (reused build directory).
    cache_dir : str or None
        Compile cache kept between runs: Cython extension cache for ``"cython"``, build
        directory for ``"cpp_standalone"``. ``None`` means ``default_cache_root()/<target>``.
    threads : int
        OpenMP threads for ``"cpp_standalone"`` (1 = no OpenMP); ignored by the others.
    max_batch : int
        Most samples simulated side by side (network replicas) in one batched inference
        run; bounds memory, since every replica holds its own copy of the synapses.
    """

    target: str = "numpy"
    cache_dir: str | None = None
    threads: int = 1
    max_batch: int = 128

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise SimulatorConfigError(
                "unknown Brian2 code-generation target", parameter="target", value=self.target,
                allowed=f"one of {list(TARGETS)}",
                hint="use 'numpy' (no compiler needed) or 'cython' (faster for long runs)")
        for name, lo in (("threads", 1), ("max_batch", 1)):
            value: Any = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < lo:
                raise SimulatorConfigError(f"{name} must be an integer >= {lo}", parameter=name,
                                           value=value, allowed=f"integers >= {lo}")
        if self.cache_dir is not None and not isinstance(self.cache_dir, (str, os.PathLike)):
            raise SimulatorConfigError("cache_dir must be a path or None", parameter="cache_dir",
                                       value=self.cache_dir)
        if self.cache_dir is not None:
            object.__setattr__(self, "cache_dir", str(self.cache_dir))

    def resolved_cache_dir(self) -> Path:
        """The compile cache / build directory this config uses (not created here)."""
        if self.cache_dir is not None:
            return Path(self.cache_dir).expanduser()
        return default_cache_root() / f"brian2_{self.target}"

    @classmethod
    def auto(cls, sequential_steps: int = 0, *, neuron_steps: int = 0, **kwargs: Any) -> "SimulatorConfig":
        """Pick a target for a workload by its size: cython for long sequential runs or large
        networks, when it can compile (its compile cache is kept between runs); numpy otherwise.

        Parameters
        ----------
        sequential_steps : int
            Time steps the run has to go through one after another (a training epoch is
            the sum of its sample lengths times the number of epochs).
        neuron_steps : int
            Neuron updates of the whole run (neurons x samples x steps): large networks pay for
            a compile even when the run is short.
        **kwargs
            Other :class:`SimulatorConfig` fields.
        """
        target = "numpy"
        big = sequential_steps > AUTO_CYTHON_STEPS or neuron_steps > AUTO_CYTHON_NEURON_STEPS
        if big and _compiler_available():
            try:
                import Cython  # noqa: F401  (only asking whether it is there)
                target = "cython"
            except ImportError:
                pass
        return cls(target=target, **kwargs)

    def to_dict(self) -> dict:
        """Plain-JSON description (for provenance)."""
        return {"target": self.target, "cache_dir": str(self.resolved_cache_dir()),
                "threads": self.threads, "max_batch": self.max_batch}
