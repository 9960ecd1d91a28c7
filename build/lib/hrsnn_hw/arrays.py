"""Read-only array copies: what the frozen artifacts hold, so nothing downstream can mutate them."""
from __future__ import annotations

from typing import Any

import numpy as np


def frozen_array(arr: Any, dtype: Any = None) -> np.ndarray:
    """A copy of ``arr`` (as ``dtype``) with the write flag cleared."""
    out = np.array(arr, dtype=dtype, copy=True)
    out.setflags(write=False)
    return out
