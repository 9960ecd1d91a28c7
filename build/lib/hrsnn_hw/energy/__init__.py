"""Energy per inference: counts x cited per-event energies + per-step overhead + static power x time."""
from .baseline import VARIANTS, compare_designs, conventional_baseline, network_sizes
from .estimate import STATIC_MODES, TIME_MODES, estimate_energy
from .report import EnergyReport, format_joules
from .table import energy_table, plot_energy, table_json, table_text

__all__ = ["estimate_energy", "EnergyReport", "conventional_baseline", "compare_designs", "energy_table",
           "plot_energy", "table_json", "table_text", "format_joules", "network_sizes", "STATIC_MODES",
           "TIME_MODES", "VARIANTS"]
