"""HeteroLIF: LIF with per-neuron du/dv/vth/bias, a refractory counter and scheduled resets."""
from .process import HeteroLIF

__all__ = ["HeteroLIF"]
