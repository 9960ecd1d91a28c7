"""Process model of FaultInjector (any tag)."""
from __future__ import annotations

import threading

from lava.magma.core.decorator import implements, requires
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lava_fault.process import FaultInjector


@implements(proc=FaultInjector, protocol=LoihiProtocol)
@requires(CPU)
class PyFaultInjectorModel(PyLoihiProcessModel):
    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)

    def __init__(self, proc_params) -> None:
        super().__init__(proc_params)
        if self.proc_params["mode"] == "init":
            raise RuntimeError(self.proc_params["message"])

    def run_spk(self) -> None:
        self.a_in.recv()
        if self.time_step == self.proc_params["fail_at_step"]:
            if self.proc_params["mode"] == "hang":
                threading.Event().wait()
            raise RuntimeError(self.proc_params["message"])
