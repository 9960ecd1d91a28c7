"""Neurons onto cores under a hardware profile's limits (numpy only)."""
from .connectivity import Connectivity, connectivity
from .mapper import INPUT_MODES, STRATEGIES, CoreLimits, core_limits, map_network, neuron_profile_ids
from .placement import RESOURCES, Placement, UtilizationReport

__all__ = ["map_network", "Placement", "UtilizationReport", "Connectivity", "connectivity", "CoreLimits",
           "core_limits", "neuron_profile_ids", "STRATEGIES", "INPUT_MODES", "RESOURCES"]
