"""FaultInjector: a diagnostics process that raises inside its process model at a chosen step."""
from .process import FaultInjector

__all__ = ["FaultInjector"]
