"""Process models of the routing processes, one class per number of groups (fixed point, int32).

Lava's builder requires a model to declare exactly the ports its process has, and these
processes have one port per group, so the classes are made here for a given group count
(cached) and handed to Lava through ``exception_proc_model_map``.
"""
from __future__ import annotations

import functools

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort, PyRefPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from hrsnn_hw.lava_backend.procs.routing.process import GroupStateRecorder, SpikeGather, SynapticScatter

# Stock LIF's s_out and Dense's a_out are int32 ports: the routed values keep that type.
_INT = np.int32


class _Routing(PyLoihiProcessModel):
    def __init__(self, proc_params) -> None:
        super().__init__(proc_params)
        self._index = [np.asarray(i, np.int64) for i in self.proc_params["index"]]
        self._n = sum(len(i) for i in self._index)


class _GatherBase(_Routing):
    def run_spk(self) -> None:
        out = np.zeros(self._n, _INT)
        for k, idx in enumerate(self._index):
            out[idx] = getattr(self, f"s_in_{k}").recv()
        self.s_out.send(out)


class _ScatterBase(_Routing):
    def run_spk(self) -> None:
        a_in = self.a_in.recv()
        for k, idx in enumerate(self._index):
            getattr(self, f"a_out_{k}").send(a_in[idx])


class _RecorderBase(_Routing):
    def __init__(self, proc_params) -> None:
        super().__init__(proc_params)
        self._steps = int(self.proc_params["num_steps"])
        self._buf = np.zeros((2, self._steps, self._n), _INT)

    def post_guard(self) -> bool:
        return True

    def run_post_mgmt(self) -> None:
        k = self.time_step - 1
        if k < self._steps:
            for g, idx in enumerate(self._index):
                self._buf[0, k, idx] = getattr(self, f"u_ref_{g}").read()
                self._buf[1, k, idx] = getattr(self, f"v_ref_{g}").read()
        if self.time_step == self._steps:
            self.raster_out.send(self._buf)


def _model(base: type, proc: type, name: str, ports: dict[str, LavaPyType]) -> type:
    cls = type(name, (base,), {"__module__": __name__, **ports})
    return requires(CPU)(tag("fixed_pt")(implements(proc=proc, protocol=LoihiProtocol)(cls)))


@functools.lru_cache(maxsize=None)
def gather_model(n_groups: int) -> type:
    """Model class of a :class:`SpikeGather` with ``n_groups`` inputs."""
    ports = {f"s_in_{k}": LavaPyType(PyInPort.VEC_DENSE, _INT) for k in range(n_groups)}
    ports["s_out"] = LavaPyType(PyOutPort.VEC_DENSE, _INT)
    return _model(_GatherBase, SpikeGather, f"PySpikeGather{n_groups}", ports)


@functools.lru_cache(maxsize=None)
def scatter_model(n_groups: int) -> type:
    """Model class of a :class:`SynapticScatter` with ``n_groups`` outputs."""
    ports = {f"a_out_{k}": LavaPyType(PyOutPort.VEC_DENSE, _INT) for k in range(n_groups)}
    ports["a_in"] = LavaPyType(PyInPort.VEC_DENSE, _INT)
    return _model(_ScatterBase, SynapticScatter, f"PySynapticScatter{n_groups}", ports)


@functools.lru_cache(maxsize=None)
def group_recorder_model(n_groups: int) -> type:
    """Model class of a :class:`GroupStateRecorder` over ``n_groups`` groups."""
    ports = {f"{var}_ref_{k}": LavaPyType(PyRefPort.VEC_DENSE, _INT) for k in range(n_groups) for var in "uv"}
    ports["raster_out"] = LavaPyType(PyOutPort.VEC_DENSE, _INT)
    return _model(_RecorderBase, GroupStateRecorder, f"PyGroupStateRecorder{n_groups}", ports)
