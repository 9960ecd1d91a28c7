"""Every simulator behind one call: ``simulate(network, inputs, lengths, backend=...)``.

After Brian2's device registry (devices registered by name, chosen per run) and Lava's
process/model split (the network says *what* runs, the backend *how*): a backend is a named
entry in :data:`BACKENDS` that turns a network and an input raster into a
:class:`~hrsnn_hw.records.SpikeRecord`. The registered backends are

============  ==================  ========  ==========================================================
name          network             fidelity  runs on
============  ==================  ========  ==========================================================
brian2        NetworkSpec /       float     the Brian2 reference (``hrsnn_hw.refsim``, the only
              TrainedNetwork                importer of Brian2)
golden        QuantizedNetwork    fixed     the compiled golden model: the executable definition of
                                            the fixed-point arithmetic
golden-float  QuantizedNetwork    float     the golden model's float twin (same constants, exact
                                            real arithmetic, no wrap or clip)
lava          QuantizedNetwork    fixed     Lava's CPU simulator: HeteroLIF + Dense (the deployment)
lava-stock    QuantizedNetwork    fixed     Lava's CPU simulator: stock LIF / LIFRefractory, one
                                            process per neuron profile, + Dense (the oracle)
============  ==================  ========  ==========================================================

Heavy simulators are imported only when their backend runs, so ``import hrsnn_hw.backends``
needs neither Brian2 nor Lava. Another package registers its own simulator with
:func:`register_backend`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from .errors import DataError
from .records import SpikeRecord

#: The network kinds a backend can run.
NETWORK_KINDS = ("spec", "quantized")

Runner = Callable[..., SpikeRecord]


@dataclass(frozen=True)
class Backend:
    """One registered simulator.

    Attributes
    ----------
    name : str
        Registry key (``"golden"``).
    network : str
        ``"spec"`` (a float :class:`~hrsnn_hw.spec.NetworkSpec` or
        :class:`~hrsnn_hw.trained.TrainedNetwork`) or ``"quantized"`` (a
        :class:`~hrsnn_hw.quantize.QuantizedNetwork`).
    fidelity : str
        ``"float"`` or ``"fixed"``.
    description : str
        One line for help texts and reports.
    options : tuple of str
        Keyword options the runner accepts besides ``record_states``.
    run : callable
        ``run(network, input_spikes, sample_lengths, *, record_states, **options) -> SpikeRecord``.
    """

    name: str
    network: str
    fidelity: str
    description: str
    options: tuple[str, ...]
    run: Runner


#: Every registered backend by name.
BACKENDS: dict[str, Backend] = {}


def register_backend(name: str, *, network: str, fidelity: str, description: str,
                     options: tuple[str, ...] = ()) -> Callable[[Runner], Runner]:
    """Decorator registering ``run`` as backend ``name`` (see :class:`Backend`)."""
    if network not in NETWORK_KINDS:
        raise ValueError(f"network must be one of {NETWORK_KINDS}, got {network!r}")
    if fidelity not in ("float", "fixed"):
        raise ValueError(f"fidelity must be 'float' or 'fixed', got {fidelity!r}")

    def deco(run: Runner) -> Runner:
        other = BACKENDS.get(name)
        if other is not None and other.run is not run:
            raise ValueError(f"backend {name!r} is already registered ({other.description})")
        BACKENDS[name] = Backend(name=name, network=network, fidelity=fidelity, description=description,
                                 options=tuple(options), run=run)
        return run
    return deco


def available_backends() -> tuple[str, ...]:
    """Names of the registered backends, in registration order."""
    return tuple(BACKENDS)


def get_backend(name: str) -> Backend:
    """The backend registered as ``name``.

    Raises
    ------
    DataError
        Unknown name (the message lists the registered ones).
    """
    if not isinstance(name, str) or name not in BACKENDS:
        raise DataError("unknown simulator backend", parameter="backend", value=name,
                        allowed=f"one of {list(BACKENDS)}",
                        hint="hrsnn_hw.backends.available_backends() lists them")
    return BACKENDS[name]


def _network_kind(network: Any) -> str | None:
    from .fixedpoint import QuantizedNetwork
    from .spec import NetworkSpec
    from .trained import TrainedNetwork
    if isinstance(network, QuantizedNetwork):
        return "quantized"
    if isinstance(network, (NetworkSpec, TrainedNetwork)):
        return "spec"
    return None


_KIND_TEXT = {"spec": "a float NetworkSpec or TrainedNetwork", "quantized": "a QuantizedNetwork"}
_KIND_HINT = {"spec": "run the float network this one was quantized from (or a backend for QuantizedNetwork: "
                      "golden, golden-float, lava, lava-stock)",
              "quantized": "quantize the network first (hrsnn_hw.quantize.quantize), or use backend 'brian2'"}


def _checked(backend: str, network: Any, options: Mapping[str, Any]) -> Backend:
    entry = get_backend(backend)
    if _network_kind(network) != entry.network:
        raise DataError(f"backend {entry.name!r} runs {_KIND_TEXT[entry.network]}", parameter="network",
                        value=type(network).__name__, allowed=_KIND_TEXT[entry.network],
                        hint=_KIND_HINT[entry.network])
    unknown = sorted(set(options) - set(entry.options))
    if unknown:
        raise DataError(f"option not taken by backend {entry.name!r}", parameter=unknown[0],
                        value=options[unknown[0]],
                        allowed=f"one of {list(entry.options)}" if entry.options else "no options")
    return entry


def simulate(network: Any, input_spikes: Any, sample_lengths: Any = None, *, backend: str = "golden",
             record_states: bool = False, **options: Any) -> SpikeRecord:
    """Run ``network`` on a batch of input rasters with the chosen simulator.

    Parameters
    ----------
    network : NetworkSpec, TrainedNetwork or QuantizedNetwork
        What to run; the backend decides which kind it takes (see the module table).
    input_spikes : ndarray of bool, shape (B, T, n_input)
        Input rasters (``input_spikes[b, t]`` reaches ``u`` at step ``t + 1``).
    sample_lengths : ndarray of int, shape (B,), optional
        Valid steps per sample (default: all ``T``).
    backend : str
        A name from :func:`available_backends`.
    record_states : bool
        Also return ``u`` and ``v``.
    **options
        Backend options (see each runner; e.g. ``target`` for brian2, ``timeout_s`` for lava).

    Returns
    -------
    SpikeRecord
        Its provenance names the backend (``provenance["simulator"]``).

    Raises
    ------
    DataError
        Unknown backend, an option the backend does not take, or a network of the wrong kind.
    """
    entry = _checked(backend, network, options)
    record = entry.run(network, input_spikes, sample_lengths, record_states=bool(record_states), **options)
    return dataclasses.replace(record, provenance={**record.provenance, "simulator": entry.name})


def simulator(network: Any, backend: str = "golden", **options: Any) -> Callable[[np.ndarray, np.ndarray], SpikeRecord]:
    """``network`` bound to a backend: a callable ``(input_spikes, sample_lengths) -> SpikeRecord``
    (what :func:`hrsnn_hw.experiment.measure` takes). The backend and options are checked now."""
    _checked(backend, network, options)

    def run(input_spikes: np.ndarray, sample_lengths: np.ndarray) -> SpikeRecord:
        return simulate(network, input_spikes, sample_lengths, backend=backend, **options)
    return run


# --------------------------------------------------------------------------- the backends

@register_backend("brian2", network="spec", fidelity="float", options=("target", "config"),
                  description="Brian2 float reference (hrsnn_hw.refsim)")
def _run_brian2(network, input_spikes, sample_lengths, *, record_states: bool, target: str | None = None,
                config=None) -> SpikeRecord:
    from .refsim import SimulatorConfig
    from .refsim import simulate as refsim_simulate
    if config is not None and target is not None:
        raise DataError("give target or config, not both", parameter="target", value=target,
                        hint="SimulatorConfig(target=...) holds the target")
    if config is None:
        # no target given: chosen by the size of the run (numpy for small ones, cython for large)
        shape = np.shape(getattr(input_spikes, "spikes", input_spikes))
        steps = int(np.sum(sample_lengths)) if sample_lengths is not None else int(np.prod(shape[:2]))
        neuron_steps = int(getattr(getattr(network, "spec", network), "n_neurons", 0)) * steps
        config = SimulatorConfig(target=target) if target else SimulatorConfig.auto(neuron_steps=neuron_steps)
    return refsim_simulate(network, input_spikes, sample_lengths, config=config, record_states=record_states)


@register_backend("golden", network="quantized", fidelity="fixed", options=("batch_size", "count_active"),
                  description="compiled (numba) golden model, bit-accurate fixed point, event-driven (hrsnn_hw.golden)")
def _run_golden(network, input_spikes, sample_lengths, *, record_states: bool, batch_size: int | None = None,
                count_active: bool = False) -> SpikeRecord:
    from .golden import simulate as golden_simulate
    return golden_simulate(network, input_spikes, sample_lengths, record_states=record_states,
                           batch_size=batch_size, count_active=count_active)


@register_backend("golden-float", network="quantized", fidelity="float",
                  options=("batch_size", "saturate_v"),
                  description="the golden model's float twin: same constants, exact arithmetic, no wrap or clip")
def _run_golden_float(network, input_spikes, sample_lengths, *, record_states: bool,
                      batch_size: int | None = None, saturate_v: bool = False) -> SpikeRecord:
    from .golden import simulate_float
    return simulate_float(network, input_spikes, sample_lengths, record_states=record_states,
                          batch_size=batch_size, saturate_v=saturate_v)


_LAVA_OPTIONS = ("timeout_s", "samples_per_run", "cleanup", "connections")


@register_backend("lava", network="quantized", fidelity="fixed", options=("fidelity", *_LAVA_OPTIONS),
                  description="Lava CPU simulator, HeteroLIF + Dense (hrsnn_hw.lava_backend)")
def _run_lava(network, input_spikes, sample_lengths, *, record_states: bool, **options) -> SpikeRecord:
    from .lava_backend import run_lava
    return run_lava(network, input_spikes, sample_lengths, record_states=record_states, **options)


@register_backend("lava-stock", network="quantized", fidelity="fixed", options=_LAVA_OPTIONS,
                  description="Lava CPU simulator, stock LIF / LIFRefractory per neuron profile + Dense (the oracle)")
def _run_lava_stock(network, input_spikes, sample_lengths, *, record_states: bool, **options) -> SpikeRecord:
    from .lava_backend import run_lava
    return run_lava(network, input_spikes, sample_lengths, record_states=record_states, stock=True, **options)


def describe() -> Mapping[str, str]:
    """``{name: description}`` of every backend (for help texts)."""
    return {name: b.description for name, b in BACKENDS.items()}
