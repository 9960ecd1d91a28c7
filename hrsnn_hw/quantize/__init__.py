"""Float networks -> Loihi-style fixed point: decays, thresholds, weights with exponents,
neuron-profile binning, and a report of what it cost.

    spec = load_spec("hrsnn")
    qnet, report = quantize(spec, "loihi2")  # or a TrainedNetwork; policy=QuantizationPolicy(...)
    float_twin = dequantize(qnet, spec)      # the float network the integers stand for

The number format and the network artifact live in :mod:`hrsnn_hw.fixedpoint` (re-exported here).
"""
from .core import quantize
from .dequantize import dequantize, effective_neuron_params
from ..fixedpoint import NumberFormat, QuantizedNetwork, QuantizedProjection
from .policy import QuantizationPolicy
from .report import ParamStats, QuantizationReport
from .sweep import SweepResult, sweep

__all__ = ["quantize", "dequantize", "effective_neuron_params", "QuantizationPolicy", "QuantizationReport",
           "ParamStats", "NumberFormat", "QuantizedNetwork", "QuantizedProjection",
           "sweep", "SweepResult"]

# `from hrsnn_hw import quantize` gives this subpackage (the import binds it): calling it calls quantize()
from .. import _make_callable  # noqa: E402

_make_callable(__name__, quantize)
