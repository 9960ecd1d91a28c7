"""NIR graphs on disk: nir's HDF5 format, written atomically."""
from __future__ import annotations



from pathlib import Path

import nir

from ..errors import ArtifactError
from ..io import PathLike, atomic_path

__all__ = ["save_nir", "load_nir"]


def save_nir(graph: nir.NIRGraph, path: PathLike) -> Path:
    """Write ``graph`` with :func:`nir.write` to a temporary file beside ``path``, then rename.

    A crash never leaves half a ``.nir`` file at ``path``. Returns the path written.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        nir.write(str(tmp), graph)
    return path


def load_nir(path: PathLike) -> nir.NIRGraph:
    """Read a NIR HDF5 file; :class:`ArtifactError` naming the path if it is missing or not NIR."""
    path = Path(path)
    if not path.is_file():
        raise ArtifactError("NIR file not found", parameter="path", value=str(path),
                            hint="write one with `hrsnn-hw nir export` or nir.write")
    try:
        graph = nir.read(path)
    except (OSError, ValueError, KeyError, TypeError, AssertionError) as exc:
        raise ArtifactError(f"not a readable NIR file ({type(exc).__name__}: {exc})", parameter="path",
                            value=str(path), hint="NIR files are HDF5 written by nir.write") from None
    if not isinstance(graph, nir.NIRGraph):
        raise ArtifactError("the NIR file holds a single node, not a graph", parameter="path", value=str(path),
                            allowed="a NIRGraph")
    return graph
