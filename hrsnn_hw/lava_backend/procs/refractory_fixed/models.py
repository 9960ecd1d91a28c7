"""Bit-accurate model of Lava's stock ``LIFRefractory``: Lava's fixed-point LIF plus the refractory rule.

The second, independent implementation of the neuron step that the equivalence ladder
compares the golden kernel with on networks that have refractory periods. Nothing here calls
:mod:`hrsnn_hw.golden`:

- current and voltage updates, the 24-bit wrap of u, the clip of v, the bias and the
  threshold are Lava's own code (``AbstractPyLifModelFixed`` and ``PyLifModelBitAcc``);
- the refractory rule is written from its definition in Lava's floating-point
  ``PyLifRefractoryModelFloat``: a neuron that spikes at time step t is refractory until step
  ``t + refractory_period`` inclusive; meanwhile its current integrates as usual, its voltage is
  held (at 0, where the spike reset it) and it cannot spike. It keeps the *end step* of each
  neuron's period where the golden kernel counts steps down, so the two formulations check
  each other.
"""
from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.ports import PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol
from lava.proc.lif.models import AbstractPyLifModelFixed, PyLifModelBitAcc
from lava.proc.lif.process import LIFRefractory


@implements(proc=LIFRefractory, protocol=LoihiProtocol)
@requires(CPU)
@tag("bit_accurate_loihi", "fixed_pt")
class PyLifRefractoryModelBitAcc(AbstractPyLifModelFixed):
    """``LIFRefractory`` in Loihi fixed point: one du, dv, vth and refractory period per process."""

    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
    vth: int = LavaPyType(int, np.int32, precision=17)
    refractory_period_end: np.ndarray = LavaPyType(np.ndarray, np.int32)

    # Lava's bit-accurate threshold (vth << 6) and spike condition (v > threshold), reused as they are
    scale_threshold = PyLifModelBitAcc.scale_threshold
    spiking_activation = PyLifModelBitAcc.spiking_activation

    def __init__(self, proc_params) -> None:
        super().__init__(proc_params)
        self.effective_vth = 0
        self.refractory_period = int(self.proc_params["refractory_period"])

    def subthr_dynamics(self, activation_in: np.ndarray) -> None:
        refractory = self.refractory_period_end >= self.time_step
        held_v = self.v[refractory].copy()
        super().subthr_dynamics(activation_in)  # Lava's fixed-point u and v updates, every neuron
        self.v[refractory] = held_v

    def reset_voltage(self, spike_vector: np.ndarray) -> None:
        super().reset_voltage(spike_vector)
        self.refractory_period_end[spike_vector] = self.time_step + self.refractory_period
