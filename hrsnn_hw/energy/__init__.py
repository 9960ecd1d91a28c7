"""Energy per inference: counts x cited per-event energies (dynamic, the headline) + a static column
under a named convention, a stated time model, designs compared on an equal core budget."""
from .conventional import ConventionalModel, price_conventional, train_esn
from .deployment import Deployment, active_raster, simulate_with_activity
from .estimate import STATIC_MODES, estimate_energy
from .report import STATIC_CONVENTIONS, EnergyReport, format_joules, format_seconds, static_convention_text
from .table import DesignRun, EnergyTable, compare_reports, energy_table, plot_energy, table_text
from .timing import TIME_MODES, step_times

__all__ = ["estimate_energy", "EnergyReport", "Deployment", "active_raster", "simulate_with_activity", "DesignRun", "EnergyTable",
           "energy_table", "compare_reports", "plot_energy", "table_text", "format_joules", "format_seconds",
           "static_convention_text", "ConventionalModel", "train_esn", "price_conventional", "step_times",
           "STATIC_MODES", "STATIC_CONVENTIONS", "TIME_MODES"]
