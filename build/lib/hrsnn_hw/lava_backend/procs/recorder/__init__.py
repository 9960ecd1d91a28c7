"""Recorders that hand a whole raster to the host once, through an external pipe."""
from .process import RasterSink, StateRecorder

__all__ = ["RasterSink", "StateRecorder"]
