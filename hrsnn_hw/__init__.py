"""hrsnn_hw: heterogeneous recurrent spiking networks from design to a measured neuromorphic deployment.

The public API, one call per stage of the chain::

    from hrsnn_hw import load_spec, train, quantize, simulate, verify, estimate_energy, Pipeline

========================  =====================================================================
:func:`load_spec`         a design or spec file (or a bundled design by name) -> ``NetworkSpec``
:func:`train`             unsupervised STDP in Brian2 -> ``TrainedNetwork``
:func:`quantize`          float network -> ``(QuantizedNetwork, QuantizationReport)`` for a profile
:func:`simulate`          one call for every backend (brian2, golden, golden-float, lava, lava-stock)
:func:`verify`            the fixed-point equivalence ladder -> ``VerificationReport``
:func:`estimate_energy`   operation counts priced on a hardware profile -> ``EnergyReport``
:class:`Pipeline`         every stage, cached in a run folder, with a report
========================  =====================================================================

Names are imported on first use (PEP 562), so ``import hrsnn_hw`` imports neither Brian2 nor
Lava nor any subpackage; ``quantize`` and ``verify`` are also subpackages, which the facade
makes callable (calling them calls the function of the same name).
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> (module, attribute). The modules are imported on first access.
_FACADE: dict[str, tuple[str, str]] = {
    "load_spec": ("hrsnn_hw.spec", "load_spec"),
    "train": ("hrsnn_hw.refsim", "train"),
    "quantize": ("hrsnn_hw.quantize", "quantize"),
    "simulate": ("hrsnn_hw.backends", "simulate"),
    "verify": ("hrsnn_hw.verify", "verify"),
    "estimate_energy": ("hrsnn_hw.energy", "estimate_energy"),
    "Pipeline": ("hrsnn_hw.pipeline", "Pipeline"),
    "PipelineConfig": ("hrsnn_hw.pipeline", "PipelineConfig"),
}

#: Facade names that are also subpackages of ``hrsnn_hw``: the import system binds the
#: subpackage to the package attribute, so the subpackage itself is made callable.
_CALLABLE_SUBPACKAGES = ("quantize", "verify")

__all__ = ["load_spec", "train", "quantize", "simulate", "verify", "estimate_energy", "Pipeline", "PipelineConfig",
           "__version__"]

if TYPE_CHECKING:  # static analysers and IDEs see the real objects
    from .backends import simulate
    from .energy import estimate_energy
    from .pipeline import Pipeline, PipelineConfig
    from .quantize import quantize
    from .refsim import train
    from .spec import load_spec
    from .verify import verify


def __getattr__(name: str) -> Any:
    """Import a facade name on first use (PEP 562).

    Parameters
    ----------
    name : str
        One of :data:`__all__`.

    Returns
    -------
    object
        The function or class; for ``quantize`` and ``verify`` the callable subpackage.

    Raises
    ------
    AttributeError
        ``name`` is not part of the facade.
    """
    try:
        module_name, attribute = _FACADE[name]
    except KeyError:
        raise AttributeError(f"module 'hrsnn_hw' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    if name in _CALLABLE_SUBPACKAGES:
        return module  # bound as hrsnn_hw.<name> by the import; calling it calls the function
    value = getattr(module, attribute)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def _make_callable(module_name: str, function: Any) -> None:
    """Let the subpackage ``module_name`` be called like ``function`` (its namesake).

    ``from hrsnn_hw import verify`` then gives the same object whether or not
    ``hrsnn_hw.verify`` was imported before, and ``hrsnn_hw.verify.X`` keeps working.

    Parameters
    ----------
    module_name : str
        Fully qualified subpackage name (``"hrsnn_hw.verify"``).
    function : callable
        What calling the subpackage calls.
    """
    import inspect
    import sys
    import types

    class _CallableModule(types.ModuleType):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            return function(*args, **kwargs)

    _CallableModule.__call__.__doc__ = function.__doc__
    module = sys.modules[module_name]
    module.__class__ = _CallableModule
    module.__signature__ = inspect.signature(function)
