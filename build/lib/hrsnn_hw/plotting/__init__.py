"""Figures (matplotlib, Agg backend: files only, no display needed)."""
from __future__ import annotations

from pathlib import Path
from typing import Any


def pyplot() -> Any:
    """matplotlib.pyplot on the non-interactive Agg backend."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    return plt


def save_figure(fig: Any, path: str | Path) -> Path:
    """Save a figure atomically (PNG by suffix) and close it."""
    from ..io import atomic_path
    path = Path(path)
    try:
        with atomic_path(path, suffix=path.suffix or ".png") as tmp:
            fig.savefig(tmp, dpi=120, bbox_inches="tight")
    finally:
        pyplot().close(fig)
    return path
