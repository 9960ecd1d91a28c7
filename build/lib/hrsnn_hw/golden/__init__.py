"""The golden model: the executable definition of the fixed-point arithmetic (numpy only).

``simulate(qnet, input_spikes, sample_lengths)`` runs Lava's bit-accurate LIF/Dense rules
(extended with per-neuron parameters and a refractory counter) on a batch of samples;
``simulate_float`` is its float twin; :mod:`.compare` holds the exact and rounding-bounded
comparisons of the equivalence ladder; :mod:`.testing` builds random fixed-point networks.
"""
from .compare import (Divergence, ExactComparison, IntFloatComparison, compare_exact,
                      compare_int_float, rounding_bounds)
from .formats import FixedFormat, format_of
from .kernel import (NeuronParams, StepResult, SynapseGroup, group_projections, lif_step,
                     lif_step_float, network_params, neuron_params)
from .simulate import OVERFLOW_KEYS, simulate, simulate_float
from .validate import check_inputs, check_network, check_projection, lava_effective_weights

__all__ = ["Divergence", "ExactComparison", "FixedFormat", "IntFloatComparison", "NeuronParams",
           "OVERFLOW_KEYS", "StepResult", "SynapseGroup", "check_inputs", "check_network",
           "check_projection", "compare_exact", "compare_int_float", "format_of", "group_projections",
           "lava_effective_weights", "lif_step", "lif_step_float", "network_params", "neuron_params",
           "rounding_bounds", "simulate", "simulate_float"]
