"""A bit-accurate process model for Lava's stock ``LIFRefractory`` process (Lava 0.10 ships a
floating-point model only); see :mod:`.models`."""
from .models import PyLifRefractoryModelBitAcc

__all__ = ["PyLifRefractoryModelBitAcc"]
