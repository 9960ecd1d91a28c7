"""Brian2 reference simulator: network construction, unsupervised STDP training, batched inference.

The only subpackage that imports Brian2, and only when a simulation runs, so
``import hrsnn_hw.refsim`` is cheap and works without Brian2. See ``refsim/build.py``
for the exact discrete-time order of the neuron update and of STDP.
"""
from .config import TARGETS, SimulatorConfig, SimulatorConfigError
from .simulate import simulate
from .training import STDP_ORDER, train, weight_stats

__all__ = ["SimulatorConfig", "SimulatorConfigError", "TARGETS", "simulate", "train", "weight_stats",
           "STDP_ORDER"]
