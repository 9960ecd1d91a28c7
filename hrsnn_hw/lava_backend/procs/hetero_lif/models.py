"""Process models of HeteroLIF: both call the golden kernel, so the arithmetic is defined once."""
from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from hrsnn_hw.fixedpoint import NumberFormat
from hrsnn_hw.golden.kernel import NeuronParams, lif_step, lif_step_float, neuron_params

from hrsnn_hw.lava_backend.procs.hetero_lif.process import HeteroLIF


class _HeteroLifBase(PyLoihiProcessModel):
    """Shared bookkeeping: cached constants, reset schedule."""

    def __init__(self, proc_params) -> None:
        super().__init__(proc_params)
        self._fmt = NumberFormat(**self.proc_params["number_format"])
        self._reset_steps = frozenset(self.proc_params["reset_steps"])
        self._params: NeuronParams | None = None

    def on_var_update(self) -> None:
        # a host-side Var.set() may have changed a parameter: rebuild the constants
        self._params = None

    def _constants(self) -> NeuronParams:
        if self._params is None:
            self._params = neuron_params(self.du, self.dv, self.vth, self.bias_mant, self.bias_exp,
                                         self.refractory_steps, self._fmt)
        return self._params

    def _reset_now(self) -> bool:
        if self.time_step not in self._reset_steps:
            return False
        self.u[:] = 0
        self.v[:] = 0
        self.refractory_count[:] = 0
        self.s_out.send(np.zeros(self.s_out.shape, self.s_out._d_type))
        return True


@implements(proc=HeteroLIF, protocol=LoihiProtocol)
@requires(CPU)
@tag("bit_accurate_loihi", "fixed_pt")
class PyHeteroLifModelFixed(_HeteroLifBase):
    """Bit-accurate model: :func:`hrsnn_hw.golden.kernel.lif_step` on the process's Vars."""

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=1)
    u: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    v: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    refractory_count: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=8)
    du: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=12)
    dv: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=12)
    vth: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=17)
    bias_mant: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=13)
    bias_exp: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=3)
    refractory_steps: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=8)

    def run_spk(self) -> None:
        a_in = self.a_in.recv()
        if self._reset_now():
            return
        r = lif_step(self.u.astype(np.int64), self.v.astype(np.int64),
                     self.refractory_count.astype(np.int64), a_in.astype(np.int64), self._constants())
        self.u[:] = r.u
        self.v[:] = r.v
        self.refractory_count[:] = r.refractory
        self.s_out.send(r.spikes.astype(np.int32))


@implements(proc=HeteroLIF, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyHeteroLifModelFloat(_HeteroLifBase):
    """Float model: :func:`hrsnn_hw.golden.kernel.lif_step_float` (the golden float twin).

    Expects float synaptic input already scaled by ``2**weight_exp`` (Lava's float Dense
    ignores ``weight_exp``; :func:`hrsnn_hw.lava_backend.compile_network` pre-scales).
    """

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    u: np.ndarray = LavaPyType(np.ndarray, float)
    v: np.ndarray = LavaPyType(np.ndarray, float)
    refractory_count: np.ndarray = LavaPyType(np.ndarray, int)
    du: np.ndarray = LavaPyType(np.ndarray, int)
    dv: np.ndarray = LavaPyType(np.ndarray, int)
    vth: np.ndarray = LavaPyType(np.ndarray, int)
    bias_mant: np.ndarray = LavaPyType(np.ndarray, int)
    bias_exp: np.ndarray = LavaPyType(np.ndarray, int)
    refractory_steps: np.ndarray = LavaPyType(np.ndarray, int)

    def run_spk(self) -> None:
        a_in = self.a_in.recv()
        if self._reset_now():
            return
        r = lif_step_float(self.u, self.v, self.refractory_count, a_in, self._constants())
        self.u[:] = r.u
        self.v[:] = r.v
        self.refractory_count[:] = r.refractory
        self.s_out.send(r.spikes.astype(float))
