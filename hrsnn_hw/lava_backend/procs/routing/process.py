"""Processes that route vectors between neuron groups and network-wide synapses (no arithmetic).

Each has one port per group, created in ``__init__`` (port ``k`` carries group ``k``); the
matching process model class is made for the number of groups by :mod:`.models` and selected
through the run configuration's ``exception_proc_model_map``.
"""
from __future__ import annotations

import typing as ty

import numpy as np
from lava.magma.core.process.ports.ports import InPort, OutPort, RefPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.process.variable import Var

from hrsnn_hw.lava_backend.procs.recorder.process import _OneShotPipe


def _index_lists(index: ty.Sequence[ty.Sequence[int]], n: int) -> list[list[int]]:
    groups = [[int(i) for i in np.asarray(idx).ravel()] for idx in index]
    flat = sorted(i for g in groups for i in g)
    if flat != list(range(n)) or any(not g for g in groups):
        raise ValueError("group indices must be non-empty and partition 0..n-1")
    return groups


class SpikeGather(AbstractProcess):
    """Receives the spikes of every group (``s_in_<k>``) and sends one vector in network order.

    Parameters
    ----------
    index : sequence of int arrays
        ``index[k]``: network indices of group k's neurons, in the group's order.
    """

    def __init__(self, *, index: ty.Sequence[ty.Sequence[int]], name: ty.Optional[str] = None) -> None:
        n = sum(len(np.asarray(i).ravel()) for i in index)
        groups = _index_lists(index, n)
        super().__init__(shape=(n,), index=groups, name=name)
        for k, g in enumerate(groups):
            setattr(self, f"s_in_{k}", InPort(shape=(len(g),)))
        self.s_out = OutPort(shape=(n,))

    @property
    def n_groups(self) -> int:
        return len(self.proc_params["index"])


class SynapticScatter(AbstractProcess):
    """Receives network-wide synaptic input (``a_in``, network order; several ``Dense`` outputs
    are summed by Lava's InPort) and sends each group its part (``a_out_<k>``).

    Parameters
    ----------
    index : sequence of int arrays
        As :class:`SpikeGather`.
    """

    def __init__(self, *, index: ty.Sequence[ty.Sequence[int]], name: ty.Optional[str] = None) -> None:
        n = sum(len(np.asarray(i).ravel()) for i in index)
        groups = _index_lists(index, n)
        super().__init__(shape=(n,), index=groups, name=name)
        self.a_in = InPort(shape=(n,))
        for k, g in enumerate(groups):
            setattr(self, f"a_out_{k}", OutPort(shape=(len(g),)))

    @property
    def n_groups(self) -> int:
        return len(self.proc_params["index"])


class GroupStateRecorder(_OneShotPipe):
    """Reads ``u`` and ``v`` of every group after each step; raster (2, num_steps, n) in network order.

    Parameters
    ----------
    groups : sequence of (u Var, v Var)
        The state Vars of each group's neuron process.
    index : sequence of int arrays
        As :class:`SpikeGather`.
    num_steps : int
        Steps of the run (the raster is sent at step ``num_steps``).
    """

    def __init__(self, *, groups: ty.Sequence[tuple[Var, Var]], index: ty.Sequence[ty.Sequence[int]],
                 num_steps: int, name: ty.Optional[str] = None) -> None:
        n = sum(len(np.asarray(i).ravel()) for i in index)
        idx = _index_lists(index, n)
        if len(groups) != len(idx):
            raise ValueError("one (u, v) pair per group is needed")
        super().__init__(shape=(n,), index=idx, num_steps=int(num_steps), name=name)
        for k, (u, v) in enumerate(groups):
            ref_u, ref_v = RefPort(shape=tuple(u.shape)), RefPort(shape=tuple(v.shape))
            setattr(self, f"u_ref_{k}", ref_u)
            setattr(self, f"v_ref_{k}", ref_v)
            ref_u.connect_var(u)
            ref_v.connect_var(v)
        self._make_pipe((2, int(num_steps), n))

    @property
    def n_groups(self) -> int:
        return len(self.proc_params["index"])
