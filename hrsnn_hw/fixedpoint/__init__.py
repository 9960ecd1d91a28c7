"""The one home of the fixed-point representation (after nengo-loihi's single IR).

* :class:`NumberFormat` -- bit widths and shifts of one target, read from its profile;
  :data:`DU_OFFSET` / :data:`DV_OFFSET`, Lava's decay offsets; the Dense weight register
  (:func:`weight_range`, :func:`truncation_bits`, :func:`lava_effective_weights`);
* :class:`CoreLimits` / :func:`core_limits` -- the per-core limits of a profile;
* :class:`QuantizedNetwork` / :class:`QuantizedProjection` -- the network in that format,
  weights stored sparsely (O(synapses)).

The quantizer produces a :class:`QuantizedNetwork`; the golden model, the Lava backend,
mapping and counting consume it. This package imports neither of them.
"""
from .format import (DU_OFFSET, DV_OFFSET, OVERFLOW, SIGN_MODES, NumberFormat, lava_effective_weights,
                     truncation_bits, weight_range)
from .limits import CoreLimits, core_limits
from .network import (DENSE_MAX_ENTRIES, NEURON_INT_FIELDS, QNET_KIND, QNET_VERSION, QuantizedNetwork,
                      QuantizedProjection)

__all__ = ["CoreLimits", "DENSE_MAX_ENTRIES", "DU_OFFSET", "DV_OFFSET", "NEURON_INT_FIELDS", "NumberFormat",
           "OVERFLOW", "QNET_KIND", "QNET_VERSION", "QuantizedNetwork", "QuantizedProjection", "SIGN_MODES",
           "core_limits", "lava_effective_weights", "truncation_bits", "weight_range"]
