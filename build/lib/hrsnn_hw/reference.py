"""Where the bundled reference designs live: inside the package (``hrsnn_hw/designs``), so a
built wheel runs its default design from anywhere."""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from .errors import SpecError

REFERENCE_DIR = Path(str(resources.files("hrsnn_hw") / "designs"))
REFERENCE_DESIGNS = ("hrsnn", "mrsnn", "het_neurons_hom_stdp", "hom_neurons_het_stdp")


def reference_design_path(name: str) -> Path:
    """Path of a bundled reference design (``"hrsnn"``, ``"mrsnn"``, ...) or data file
    (``"search_space"``)."""
    path = REFERENCE_DIR / f"{name}.json"
    if not path.is_file():
        raise SpecError("unknown reference design", parameter="design", value=name,
                        allowed=f"one of {list(REFERENCE_DESIGNS)} or a path to a design file")
    return path


def resolve_design(name_or_path: str) -> Path:
    """A design argument: a reference name or a file path."""
    p = Path(name_or_path)
    if p.suffix in (".json", ".toml") or p.exists():
        return p
    return reference_design_path(name_or_path)
