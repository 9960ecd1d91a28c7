"""Process models of the recorders (fixed-point: int32 rasters; float: float64 rasters)."""
from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort, PyRefPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from hrsnn_hw.lava_backend.procs.recorder.process import RasterSink, StateRecorder


class _RasterSinkBase(PyLoihiProcessModel):
    def __init__(self, proc_params) -> None:
        super().__init__(proc_params)
        self._n = int(self.proc_params["num_steps"])
        self._buf = None

    def run_spk(self) -> None:
        data = self.a_in.recv()
        if self._buf is None:
            self._buf = np.zeros((self._n, *data.shape), self.raster_out._d_type)
        k = self.time_step - 1
        if k < self._n:
            self._buf[k] = data
        if self.time_step == self._n:
            self.raster_out.send(self._buf)


@implements(proc=RasterSink, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyRasterSinkFixed(_RasterSinkBase):
    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32)
    raster_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32)


@implements(proc=RasterSink, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyRasterSinkFloat(_RasterSinkBase):
    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    raster_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)


class _StateRecorderBase(PyLoihiProcessModel):
    def __init__(self, proc_params) -> None:
        super().__init__(proc_params)
        self._n = int(self.proc_params["num_steps"])
        self._buf = None

    def post_guard(self) -> bool:
        return True

    def run_post_mgmt(self) -> None:
        u, v = self.u_ref.read(), self.v_ref.read()
        if self._buf is None:
            self._buf = np.zeros((2, self._n, *u.shape), self.raster_out._d_type)
        k = self.time_step - 1
        if k < self._n:
            self._buf[0, k] = u
            self._buf[1, k] = v
        if self.time_step == self._n:
            self.raster_out.send(self._buf)


@implements(proc=StateRecorder, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyStateRecorderFixed(_StateRecorderBase):
    u_ref: PyRefPort = LavaPyType(PyRefPort.VEC_DENSE, np.int32)
    v_ref: PyRefPort = LavaPyType(PyRefPort.VEC_DENSE, np.int32)
    raster_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32)


@implements(proc=StateRecorder, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyStateRecorderFloat(_StateRecorderBase):
    u_ref: PyRefPort = LavaPyType(PyRefPort.VEC_DENSE, float)
    v_ref: PyRefPort = LavaPyType(PyRefPort.VEC_DENSE, float)
    raster_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
