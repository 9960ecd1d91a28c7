"""Network specs: validated, immutable, reproducibly sampled heterogeneous RSNNs."""
from .controls import shuffle_weights
from .distributions import field_rng, is_heterogeneous, mean_of, sample
from .files import build_spec, load_spec, make_arm, read_spec_file, save_spec, scale_design, spec_to_dict
from .model import (INPUT, NEURON_FIELDS, SPEC_FORMAT, SPEC_VERSION, STDP_FIELDS, NetworkSpec,
                    Population, Projection, StdpRule)

__all__ = ["NetworkSpec", "Population", "Projection", "StdpRule", "build_spec", "load_spec", "save_spec",
           "make_arm", "scale_design", "read_spec_file", "spec_to_dict", "sample", "mean_of", "is_heterogeneous",
           "field_rng", "shuffle_weights", "INPUT", "NEURON_FIELDS", "STDP_FIELDS", "SPEC_FORMAT", "SPEC_VERSION"]
