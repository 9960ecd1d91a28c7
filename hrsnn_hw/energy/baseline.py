"""The conventional baseline (the same network as a rate model on a CPU/GPU) and design ratios."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import HrsnnError
from ..mapping.connectivity import connectivity
from ..profiles import HardwareProfile
from ..fixedpoint import QuantizedNetwork
from ..spec import INPUT, NetworkSpec
from .estimate import _band, _Prices
from .report import EnergyReport

VARIANTS = ("dense", "sparse")


def network_sizes(net: QuantizedNetwork | NetworkSpec) -> dict[str, int]:
    """Neurons, inputs and stored synapses (recurrent, input) of a network or spec."""
    if isinstance(net, QuantizedNetwork):
        conn = connectivity(net)
        n = net.n_neurons
        return {"name": net.name, "n_neurons": n, "n_input": net.n_input,
                "nnz_rec": int(conn.synapses[:, :n].sum()), "nnz_in": int(conn.synapses[:, n:].sum())}
    if isinstance(net, NetworkSpec):
        nnz_rec = sum(p.n_synapses for p in net.projections if p.pre != INPUT)
        nnz_in = sum(p.n_synapses for p in net.projections if p.pre == INPUT)
        return {"name": net.name, "n_neurons": net.n_neurons, "n_input": net.n_input,
                "nnz_rec": int(nnz_rec), "nnz_in": int(nnz_in)}
    raise HrsnnError("expected a QuantizedNetwork or a NetworkSpec", parameter="net", value=type(net).__name__)


def conventional_baseline(net: QuantizedNetwork | NetworkSpec, n_steps: int | Sequence[int] | np.ndarray,
                          profile: HardwareProfile, *, variant: str = "dense",
                          design: str | None = None) -> EnergyReport:
    """Energy per inference of the same recurrent network run as a rate (non-spiking) model.

    Per step every neuron takes a weighted sum of the input vector and of the previous
    state vector and updates its state once:

    * ``variant="dense"``: MACs per step = ``N x n_input + N x N`` (dense matrices, what a
      BLAS/cuBLAS implementation does);
    * ``variant="sparse"``: MACs per step = ``nnz(W_in) + nnz(W_rec)`` (a sparse kernel that
      skips absent synapses; its index overhead is not charged).

    Plus ``N`` neuron updates per step. Priced at the profile's ``mac`` and
    ``neuron_update_active`` (else ``mac``) energies; no static or memory-traffic term.

    Parameters
    ----------
    net : QuantizedNetwork or NetworkSpec
        The network (a spec counts its synapses; a quantized network its nonzero mantissas).
    n_steps : int or array of int
        Steps per inference (an array: one entry per sample, e.g. ``counts.per_sample["steps"]``).
    profile : HardwareProfile
        A profile with ``energy.mac`` (``cpu``, ``gpu``).
    variant : {"dense", "sparse"}
    design : str, optional
        Design name (default: the network's).
    """
    if variant not in VARIANTS:
        raise HrsnnError("unknown baseline variant", parameter="variant", value=variant,
                         allowed=f"one of {list(VARIANTS)}")
    sizes = network_sizes(net)
    steps = np.atleast_1d(np.asarray(n_steps, dtype=np.float64))
    if steps.ndim != 1 or steps.size == 0 or (steps < 0).any():
        raise HrsnnError("n_steps must be a non-negative number of steps (or one per sample)",
                         parameter="n_steps", value=n_steps)
    prices = _Prices(profile)
    mac = prices.get("mac")
    if mac is None:
        profile.get("energy", "mac")          # raises the profile's own clear error
    nu = prices.get("neuron_update_active", "mac")
    n, m = sizes["n_neurons"], sizes["n_input"]
    if variant == "dense":
        macs_per_step = n * m + n * n
        what = f"N x n_input + N x N = {n} x {m} + {n} x {n} = {macs_per_step}"
    else:
        macs_per_step = sizes["nnz_in"] + sizes["nnz_rec"]
        what = f"nnz(W_in) + nnz(W_rec) = {sizes['nnz_in']} + {sizes['nnz_rec']} = {macs_per_step}"
    macs = macs_per_step * steps
    updates = n * steps
    terms = {"mac": _band(mac)[:, None] * macs[None, :], "neuron_updates": _band(nu)[:, None] * updates[None, :]}
    notes = [f"rate (non-spiking) model of the same recurrent network, {variant}: MACs per step = {what}",
             f"{n} neuron updates per step, one operation each",
             "no static power, memory traffic or framework overhead charged"]
    for key, info in prices.used.items():
        if info.get("estimate"):
            notes.append(f"{key} is an estimate: {info.get('note')}")
    mean = {k: float(v[0].mean()) for k, v in terms.items()}
    return EnergyReport(design=design or sizes["name"], profile=profile.name, model=f"rate_{variant}",
                        terms=mean, terms_low={k: float(v[1].mean()) for k, v in terms.items()},
                        terms_high={k: float(v[2].mean()) for k, v in terms.items()},
                        per_sample=terms["mac"][0] + terms["neuron_updates"][0], by_core=np.zeros(0),
                        unattributed=float(sum(mean.values())), time_per_inference=0.0, time_band=(0.0, 0.0),
                        n_cores=0, n_chips=0,
                        counts={"steps": float(steps.mean()), "macs": float(macs.mean()),
                                "neuron_updates": float(updates.mean())},
                        prices=prices.used, assumptions=tuple(notes))


def compare_designs(numerator: EnergyReport, denominator: EnergyReport) -> dict:
    """Energy ratio of two designs on the same profile (e.g. HRSNN / MRSNN).

    The band is the spread of the ratio over both designs priced at the same end of every
    price band (low with low, value with value, high with high): the prices are shared, so
    their uncertainty mostly cancels in the ratio.
    """
    if numerator.profile != denominator.profile or numerator.model != denominator.model:
        raise HrsnnError("designs can only be compared on the same profile and model", parameter="denominator",
                         value=f"{denominator.profile}/{denominator.model}",
                         allowed=f"{numerator.profile}/{numerator.model}")

    def ratio(a: float, b: float) -> float | None:
        return a / b if b > 0 else None

    value = ratio(numerator.total, denominator.total)
    ends = [r for r in (value, ratio(numerator.low, denominator.low), ratio(numerator.high, denominator.high))
            if r is not None]
    return {"profile": numerator.profile, "model": numerator.model, "numerator": numerator.design,
            "denominator": denominator.design, "ratio": value,
            "low": min(ends) if ends else None, "high": max(ends) if ends else None,
            "terms": {k: ratio(v, denominator.terms.get(k, 0.0)) for k, v in numerator.terms.items()}}
