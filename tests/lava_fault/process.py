"""A process that fails on purpose, to test that a crash inside a process model is surfaced
and that the runtime is always torn down (no worker process or shared memory left behind)."""
from __future__ import annotations

import typing as ty

from lava.magma.core.process.ports.ports import InPort
from lava.magma.core.process.process import AbstractProcess


class FaultInjector(AbstractProcess):
    """Receives a vector every step and fails at step ``fail_at_step``.

    Parameters
    ----------
    shape : tuple of int
        Shape of the input.
    fail_at_step : int
        Lava time step (1-based) at which the process model raises.
    message : str
        Text of the exception.
    mode : {"raise", "hang", "init"}
        Raise ``RuntimeError(message)``, block forever (a hung process model), or raise while the
        process model is being built (before the run; ``fail_at_step`` is ignored).
    """

    def __init__(self, *, shape: tuple[int, ...], fail_at_step: int, message: str = "injected fault",
                 mode: str = "raise", name: ty.Optional[str] = None) -> None:
        if mode not in ("raise", "hang", "init"):
            raise ValueError(f"mode must be 'raise', 'hang' or 'init', got {mode!r}")
        super().__init__(shape=shape, fail_at_step=int(fail_at_step), message=str(message), mode=mode,
                         name=name)
        self.a_in = InPort(shape=shape)
