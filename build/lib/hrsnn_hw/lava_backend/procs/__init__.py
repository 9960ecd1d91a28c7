"""Custom Lava processes, one package each (Lava's compiler imports every file next to a process model)."""
