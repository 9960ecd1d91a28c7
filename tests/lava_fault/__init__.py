"""Test helper (not part of the package): FaultInjector, a Lava process that raises inside its
process model at a chosen step (a package of its own: Lava's compiler imports every file next to a
process model)."""
from .process import FaultInjector

__all__ = ["FaultInjector"]
