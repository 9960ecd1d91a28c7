"""Recorders that accumulate a raster inside their process model and hand it over once.

``Var.get()``, ``Monitor`` and the sink ``RingBuffer`` move values to the host one at a time
(about 20 s per million values). These processes keep the whole raster in the process model
and send it as a single message through an external pipe at the last step; the host reads
it with :meth:`receive` after the run.
"""
from __future__ import annotations

import typing as ty

from lava.magma.core.process.ports.ports import InPort, OutPort, RefPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.process.variable import Var


class _OneShotPipe(AbstractProcess):
    """Common part: an OutPort flagged as external pipe, read once by the host."""

    def _make_pipe(self, shape: tuple[int, ...]) -> None:
        self.raster_out = OutPort(shape=shape)
        self.raster_out.flag_external_pipe(buffer_size=1)

    def receive(self, timeout_s: float | None = None):
        """The raster (blocks until the process model has sent it; ``None`` on timeout)."""
        port = getattr(self.raster_out, "external_pipe_csp_recv_port", None)
        if port is None:
            raise RuntimeError("the runtime has not been created yet")
        if timeout_s is not None:
            import time
            deadline = time.monotonic() + timeout_s
            while not port.probe():
                if time.monotonic() > deadline:
                    return None
                time.sleep(0.005)
        return port.recv()


class RasterSink(_OneShotPipe):
    """Records what arrives at ``a_in`` for ``num_steps`` steps; raster shape (num_steps, *shape).

    Parameters
    ----------
    shape : tuple of int
        Shape of the input vector.
    num_steps : int
        Steps of the run (the raster is sent at step ``num_steps``).
    """

    def __init__(self, *, shape: tuple[int, ...], num_steps: int, name: ty.Optional[str] = None) -> None:
        super().__init__(shape=shape, num_steps=int(num_steps), name=name)
        self.a_in = InPort(shape=shape)
        self._make_pipe((int(num_steps), *shape))


class StateRecorder(_OneShotPipe):
    """Reads Vars ``u`` and ``v`` through RefPorts after every step; raster shape (2, num_steps, *shape).

    Parameters
    ----------
    u, v : Var
        The state Vars of a neuron process (same shape).
    num_steps : int
        Steps of the run.
    """

    def __init__(self, *, u: Var, v: Var, num_steps: int, name: ty.Optional[str] = None) -> None:
        shape = tuple(u.shape)
        super().__init__(shape=shape, num_steps=int(num_steps), name=name)
        self.u_ref = RefPort(shape=shape)
        self.v_ref = RefPort(shape=shape)
        self.u_ref.connect_var(u)
        self.v_ref.connect_var(v)
        self._make_pipe((2, int(num_steps), *shape))
