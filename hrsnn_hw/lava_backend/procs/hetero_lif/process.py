"""The HeteroLIF process: Lava's LIF with one value per neuron for every parameter.

Stock ``lava.proc.lif.process.LIF`` declares ``du``, ``dv`` and ``vth`` as one value per
process and its bit-accurate model has no refractory period. HeteroLIF holds every
parameter per neuron, a refractory counter, and an optional reset schedule: at the listed
time steps the neurons discard their input, zero u, v and the counter and stay silent, so
several samples can run back to back in one Lava run.
"""
from __future__ import annotations

import typing as ty

import numpy as np
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess, LogConfig
from lava.magma.core.process.variable import Var

from hrsnn_hw.fixedpoint import NumberFormat


class HeteroLIF(AbstractProcess):
    """Current-based LIF neurons with per-neuron integer parameters (Lava fixed-point names).

    Parameters
    ----------
    shape : tuple of int
        ``(N,)``.
    du, dv, vth, bias_mant, bias_exp, refractory_steps : array_like, shape (N,)
        Per-neuron parameters (see :mod:`hrsnn_hw.golden.kernel` for the arithmetic).
    number_format : dict
        :meth:`hrsnn_hw.fixedpoint.NumberFormat.as_dict` of the network (bit widths, shifts).
    reset_steps : sequence of int, optional
        Lava time steps (1-based) at which the neurons reset and stay silent.
    u, v : array_like, optional
        Initial state (default 0).
    """

    def __init__(self, *, shape: tuple[int, ...], du, dv, vth, bias_mant, bias_exp, refractory_steps,
                 number_format: dict, reset_steps: ty.Sequence[int] = (), u=0, v=0,
                 name: ty.Optional[str] = None, log_config: ty.Optional[LogConfig] = None) -> None:
        reset_steps = tuple(sorted(int(s) for s in reset_steps))
        # fail here, in the caller's process, rather than inside a Lava worker
        number_format = NumberFormat(**dict(number_format)).as_dict()
        super().__init__(shape=shape, number_format=dict(number_format), reset_steps=reset_steps,
                         name=name, log_config=log_config)
        self.a_in = InPort(shape=shape)
        self.s_out = OutPort(shape=shape)
        self.u = Var(shape=shape, init=np.broadcast_to(u, shape).copy())
        self.v = Var(shape=shape, init=np.broadcast_to(v, shape).copy())
        self.refractory_count = Var(shape=shape, init=np.zeros(shape, np.int32))
        self.du = Var(shape=shape, init=np.broadcast_to(du, shape).copy())
        self.dv = Var(shape=shape, init=np.broadcast_to(dv, shape).copy())
        self.vth = Var(shape=shape, init=np.broadcast_to(vth, shape).copy())
        self.bias_mant = Var(shape=shape, init=np.broadcast_to(bias_mant, shape).copy())
        self.bias_exp = Var(shape=shape, init=np.broadcast_to(bias_exp, shape).copy())
        self.refractory_steps = Var(shape=shape, init=np.broadcast_to(refractory_steps, shape).copy())
