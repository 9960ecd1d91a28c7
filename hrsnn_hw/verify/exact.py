"""The exact and rounding-bounded rungs (1-3): the golden model against other runs of the same integers.

- Rung 1: golden vs Lava's stock neurons, one ``LIF`` / ``LIFRefractory`` process per neuron
  profile, + ``Dense`` (backend ``"lava-stock"``) on the network itself: Lava's arithmetic,
  not the golden kernel's, so this is the independent check of the per-neuron arithmetic.
- Rung 2: golden vs ``HeteroLIF`` + ``Dense`` (backend ``"lava"``): is the compiled deployment right?
- Rung 3: golden integer model vs its float twin (backend ``"golden-float"``) within the
  derived rounding bound (:func:`hrsnn_hw.golden.compare.compare_int_float`).

Every simulator is reached through :func:`hrsnn_hw.backends.simulate`, so this module needs
neither Lava nor Brian2 at import time.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..backends import get_backend, simulate
from ..errors import DataError
from ..golden.compare import ExactComparison, IntFloatComparison, compare_exact, compare_int_float
from ..golden.compose import split_record, stack_inputs, stack_networks
from ..golden.validate import check_inputs
from ..records import SpikeRecord

#: Backend each exact rung compares the golden model with.
EXACT_BACKENDS = {1: "lava-stock", 2: "lava"}


def _backend_of(rung: int | None, backend: str | None) -> str:
    if backend is not None:
        return backend
    if rung not in EXACT_BACKENDS:
        raise DataError("unknown exact rung", parameter="rung", value=rung, allowed=f"one of {list(EXACT_BACKENDS)}")
    return EXACT_BACKENDS[rung]


def _timeout(backend: str, timeout_s: float) -> dict:
    return {"timeout_s": timeout_s} if "timeout_s" in get_backend(backend).options else {}


def exact_rung(qnet, input_spikes, sample_lengths=None, *, rung: int | None = None, backend: str | None = None,
               golden: SpikeRecord | None = None, other: SpikeRecord | None = None,
               timeout_s: float = 600.0) -> ExactComparison:
    """Golden vs another fixed-point backend on one network: spikes, u and v at every step.

    Parameters
    ----------
    qnet : QuantizedNetwork
    input_spikes, sample_lengths
        The inputs of both runs.
    rung : {1, 2}, optional
        Picks the backend (:data:`EXACT_BACKENDS`) when ``backend`` is not given.
    backend : str, optional
        Any fixed-point backend of :mod:`hrsnn_hw.backends`.
    golden, other : SpikeRecord, optional
        Runs already made on these inputs (with states); not simulated again.
    timeout_s : float
        Longest Lava run.
    """
    name = _backend_of(rung, backend)
    if golden is None:
        golden = simulate(qnet, input_spikes, sample_lengths, backend="golden", record_states=True)
    if other is None:
        other = simulate(qnet, input_spikes, sample_lengths, backend=name, record_states=True,
                         **_timeout(name, timeout_s))
    return compare_exact(golden, other, ("golden", name), qnet=qnet)


def exact_rung_many(qnets: Sequence, inputs: Sequence[np.ndarray], sample_lengths, *, rung: int | None = None,
                    backend: str | None = None, timeout_s: float = 600.0) -> list[ExactComparison]:
    """The exact rung for several networks with one run of the other backend: the networks run
    side by side (block-diagonal, :func:`~hrsnn_hw.golden.compose.stack_networks`) and each is
    compared on its own with its golden run.

    ``inputs[k]`` has shape (B, T, n_input_k) with the same B, T and ``sample_lengths`` for all.
    """
    name = _backend_of(rung, backend)
    checked = [check_inputs(q, x, sample_lengths) for q, x in zip(qnets, inputs)]
    lengths = checked[0][1]
    stacked = stack_networks(list(qnets), name="ladder-stack")
    run = simulate(stacked, stack_inputs([x for x, _ in checked]), lengths, backend=name, record_states=True,
                   **_timeout(name, timeout_s))
    parts = split_record(run, [q.n_neurons for q in qnets])
    return [compare_exact(simulate(q, x, lengths, backend="golden", record_states=True), part, ("golden", name),
                          qnet=q)
            for q, (x, _), part in zip(qnets, checked, parts)]


def float_rung(qnet, input_spikes, sample_lengths=None, *, golden: SpikeRecord | None = None,
               saturate_v: bool = True) -> IntFloatComparison:
    """Rung 3: golden integer model vs its float twin (see :func:`compare_int_float`).

    With ``saturate_v`` (the default) both runs clip ``v`` at the 24-bit rails, so clipping,
    defined behaviour of the hardware, is reported but only rounding and u wraps can fail it.
    """
    if golden is None:
        golden = simulate(qnet, input_spikes, sample_lengths, backend="golden", record_states=True)
    twin = simulate(qnet, input_spikes, sample_lengths, backend="golden-float", record_states=True,
                    saturate_v=saturate_v)
    return compare_int_float(qnet, golden, twin, allow_v_saturation=saturate_v)


__all__ = ["EXACT_BACKENDS", "ExactComparison", "IntFloatComparison", "exact_rung", "exact_rung_many", "float_rung"]
