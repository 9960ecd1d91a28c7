"""Let Lava import after something else fixed the multiprocessing start method.

Lava 0.10 calls ``multiprocessing.set_start_method('fork')`` at import time, which raises
"context has already been set" once any library (Brian2's Cython build, joblib, ...) has
asked for the default context. Lava needs fork, so while Lava's modules import we accept a
start method that is already 'fork' and force it otherwise.
"""
from __future__ import annotations

import multiprocessing as _mp

_original = _mp.set_start_method


def _tolerant_set_start_method(method: str, force: bool = False) -> None:
    if _mp.get_start_method(allow_none=True) == method:
        return
    _original(method, force=True)


_mp.set_start_method = _tolerant_set_start_method
try:
    import lava.magma.runtime.message_infrastructure.multiprocessing  # noqa: F401
finally:
    _mp.set_start_method = _original
