"""The golden model: the executable definition of the fixed-point arithmetic (numpy + numba).

``simulate(qnet, input_spikes, sample_lengths)`` runs Lava's bit-accurate LIF/Dense rules
(extended with per-neuron parameters and a refractory counter) on a batch of samples, event
by event, as one numba-compiled loop per sample (:mod:`.kernel` holds every compiled rule,
:mod:`.synapses` the CSR it reads); ``simulate_float`` is its float twin; :mod:`.compare` holds the
exact and rounding-bounded comparisons of the equivalence ladder; :mod:`.testing` builds
random fixed-point networks. The number format comes from the network itself
(:attr:`hrsnn_hw.fixedpoint.QuantizedNetwork.number_format`).
"""
from ..fixedpoint import lava_effective_weights
from .compare import (Divergence, ExactComparison, IntFloatComparison, compare_exact,
                      compare_int_float, rounding_bounds)
from .kernel import NeuronParams, StepResult, lif_step, lif_step_float, network_params, neuron_params
from .simulate import OVERFLOW_KEYS, simulate, simulate_float
from .synapses import SynapseGroup, SynapseSet, group_projections
from .validate import check_inputs, check_network, check_projection

__all__ = ["Divergence", "ExactComparison", "IntFloatComparison", "NeuronParams", "OVERFLOW_KEYS", "StepResult",
           "SynapseGroup", "SynapseSet", "check_inputs", "check_network", "check_projection", "compare_exact",
           "compare_int_float", "group_projections", "lava_effective_weights", "lif_step", "lif_step_float",
           "network_params", "neuron_params", "rounding_bounds", "simulate", "simulate_float"]
