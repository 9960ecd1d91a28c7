"""Float networks -> Loihi-style fixed point: decays, thresholds, weights with exponents,
neuron-profile binning, and a report of what it cost.

    spec = load_spec("hrsnn")
    qnet, report = quantize(spec, "loihi2")  # or a TrainedNetwork; policy=QuantizationPolicy(...)
    float_twin = dequantize(qnet, spec)      # the float network the integers stand for
"""
from .core import quantize
from .dequantize import dequantize, effective_neuron_params
from .formats import FixedPointFormat
from .network import QNET_KIND, QNET_VERSION, QuantizedNetwork, QuantizedProjection
from .policy import QuantizationPolicy
from .report import ParamStats, QuantizationReport
from .sweep import SweepResult, sweep

__all__ = ["quantize", "dequantize", "effective_neuron_params", "QuantizationPolicy", "QuantizationReport",
           "ParamStats", "FixedPointFormat", "QuantizedNetwork", "QuantizedProjection", "QNET_KIND", "QNET_VERSION",
           "sweep", "SweepResult"]
