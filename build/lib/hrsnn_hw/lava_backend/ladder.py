"""The exact rungs of the equivalence ladder that need Lava (rungs 1 and 2), plus rung 3.

- Rung 1: golden kernel vs Lava's stock bit-accurate ``LIF`` + ``Dense`` on homogeneous
  networks -- is the kernel right? (independent oracle: none of our arithmetic runs in Lava)
- Rung 2: golden vs ``HeteroLIF`` + ``Dense`` on any network -- is the compile/backend right?
- Rung 3: golden integer model vs its float twin within the derived rounding bound
  (:func:`hrsnn_hw.golden.compare.compare_int_float`; numpy only, re-exported here).

Rungs 1 and 2 compare spikes, u and v at every valid step and report the first divergence.
:func:`exact_rung_many` runs several small networks in one Lava run (as independent blocks)
and still compares each network on its own.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..golden.compare import ExactComparison, IntFloatComparison, compare_exact, compare_int_float
from ..golden.compose import split_record, stack_inputs, stack_networks
from ..golden.simulate import simulate, simulate_float
from ..golden.validate import check_inputs
from .run import run_lava

RUNG_NAMES = {1: ("golden", "lava-stock-LIF"), 2: ("golden", "lava-HeteroLIF")}


def exact_rung(qnet, input_spikes, sample_lengths=None, *, rung: int = 2,
               timeout_s: float = 600.0) -> ExactComparison:
    """Rung 1 (``rung=1``, stock LIF) or rung 2 (``rung=2``, HeteroLIF) on one network."""
    if rung not in RUNG_NAMES:
        raise ValueError(f"rung must be 1 or 2, got {rung}")
    golden = simulate(qnet, input_spikes, sample_lengths, record_states=True)
    lava = run_lava(qnet, input_spikes, sample_lengths, record_states=True, stock=(rung == 1),
                    timeout_s=timeout_s)
    return compare_exact(golden, lava, RUNG_NAMES[rung], qnet=qnet)


def exact_rung_many(qnets: Sequence, inputs: Sequence[np.ndarray], sample_lengths, *, rung: int = 2,
                    timeout_s: float = 600.0) -> list[ExactComparison]:
    """Exact rung for several networks at once: one Lava run of the stacked (block-diagonal)
    network, golden run per network, one comparison per network.

    ``inputs[k]`` has shape (B, T, n_input_k) with the same B, T and ``sample_lengths`` for all.
    For rung 1 the networks must share du, dv and vth (stock LIF holds one of each per process).
    """
    if rung not in RUNG_NAMES:
        raise ValueError(f"rung must be 1 or 2, got {rung}")
    checked = [check_inputs(q, x, sample_lengths) for q, x in zip(qnets, inputs)]
    lengths = checked[0][1]
    stacked = stack_networks(list(qnets), name="ladder-stack")
    lava = run_lava(stacked, stack_inputs([x for x, _ in checked]), lengths, record_states=True,
                    stock=(rung == 1), timeout_s=timeout_s)
    parts = split_record(lava, [q.n_neurons for q in qnets])
    out = []
    for q, (x, _), part in zip(qnets, checked, parts):
        golden = simulate(q, x, lengths, record_states=True)
        out.append(compare_exact(golden, part, RUNG_NAMES[rung], qnet=q))
    return out


def float_rung(qnet, input_spikes, sample_lengths=None) -> IntFloatComparison:
    """Rung 3: golden integer model vs its float twin (see :func:`compare_int_float`)."""
    rec_int = simulate(qnet, input_spikes, sample_lengths, record_states=True)
    rec_float = simulate_float(qnet, input_spikes, sample_lengths, record_states=True)
    return compare_int_float(qnet, rec_int, rec_float)


__all__ = ["ExactComparison", "IntFloatComparison", "compare_exact", "compare_int_float", "exact_rung",
           "exact_rung_many", "float_rung"]
