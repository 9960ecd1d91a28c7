"""The Lava backend: the only subpackage that imports Lava.

- :func:`compile_network` -- QuantizedNetwork -> RingBuffer -> Dense -> HeteroLIF (+ recorders)
- :func:`build_stock` -- the same from Lava's stock LIF / LIFRefractory, one process per neuron
  profile (the independent oracle)
- :func:`run_lava` -- run a batch of samples, return a SpikeRecord (runtime always stopped)
- :mod:`.ladder` -- exact rungs 1 and 2 (and rung 3 re-exported)
"""
from . import _mp_guard  # noqa: F401  (must run before the first Lava import)
from .compile import LavaNetwork, compile_network
from .run import execute, run_lava
from .session import CleanupReport, LavaSession
from .stock import NeuronProfile, build_stock, neuron_profiles

__all__ = ["CleanupReport", "LavaNetwork", "LavaSession", "NeuronProfile", "build_stock", "compile_network",
           "execute", "neuron_profiles", "run_lava"]
