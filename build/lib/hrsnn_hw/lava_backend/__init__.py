"""The Lava backend: the only subpackage that imports Lava.

- :func:`compile_network` -- QuantizedNetwork -> RingBuffer -> Dense -> HeteroLIF (+ recorders)
- :func:`build_stock` -- the same with Lava's stock LIF (homogeneous networks; the oracle)
- :func:`run_lava` -- run a batch of samples, return a SpikeRecord (runtime always stopped)
- :mod:`.ladder` -- exact rungs 1 and 2 (and rung 3 re-exported)
"""
from . import _mp_guard  # noqa: F401  (must run before the first Lava import)
from .compile import LavaNetwork, build_stock, compile_network
from .run import execute, run_lava
from .session import CleanupReport, LavaSession

__all__ = ["CleanupReport", "LavaNetwork", "LavaSession", "build_stock", "compile_network", "execute",
           "run_lava"]
