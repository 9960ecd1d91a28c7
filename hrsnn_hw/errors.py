"""One error hierarchy for the whole toolkit.

Every error a user can trigger derives from :class:`HrsnnError` and carries the
offending parameter, its value, the allowed range and a hint, so the message
says what to change without a traceback from deep inside Brian2 or Lava.
"""
from __future__ import annotations

import warnings
from typing import Any


class HrsnnError(Exception):
    """Base class of every error raised on purpose by hrsnn_hw.

    Parameters
    ----------
    message : str
        What went wrong, in one sentence.
    parameter : str, optional
        Dotted name of the offending field (``"populations.exc.tau_m"``).
    value : Any, optional
        The offending value (or a short description of it).
    allowed : str, optional
        The allowed range or set, in words (``"(0, inf) s"``).
    hint : str, optional
        What the user can do about it.
    index : int, optional
        Index of the offending element inside an array parameter.
    """

    def __init__(self, message: str, *, parameter: str | None = None, value: Any = None,
                 allowed: str | None = None, hint: str | None = None,
                 index: int | None = None) -> None:
        self.parameter = parameter
        self.value = value
        self.allowed = allowed
        self.hint = hint
        self.index = index
        parts = [message]
        if parameter is not None:
            where = parameter if index is None else f"{parameter}[{index}]"
            parts.append(f"parameter: {where}")
        if value is not None:
            parts.append(f"value: {value!r}")
        if allowed is not None:
            parts.append(f"allowed: {allowed}")
        if hint is not None:
            parts.append(f"hint: {hint}")
        super().__init__("; ".join(parts))


class SpecError(HrsnnError, ValueError):
    """A network spec (or design file) is invalid."""


class DataError(HrsnnError, ValueError):
    """A dataset, encoding or user-supplied data file is invalid."""


class QuantizationError(HrsnnError, ValueError):
    """A design cannot be represented in the target's fixed-point formats."""


class ProfileError(HrsnnError, ValueError):
    """A hardware profile file is invalid."""


class MappingError(HrsnnError, ValueError):
    """A network does not fit onto the target's cores."""


class BackendError(HrsnnError, RuntimeError):
    """A simulator backend (Brian2 or Lava) failed."""


class VerificationError(HrsnnError, AssertionError):
    """An exact equivalence check failed."""


class ArtifactError(HrsnnError, ValueError):
    """An artifact file is missing, corrupt or of an unsupported format version."""


class LossyConversionWarning(UserWarning):
    """A conversion lost information but was allowed (lenient policy)."""


def warn_or_raise(error: HrsnnError, strict: bool, stacklevel: int = 3) -> None:
    """Raise ``error`` under a strict policy, else emit it as a :class:`LossyConversionWarning`."""
    if strict:
        raise error
    warnings.warn(str(error), LossyConversionWarning, stacklevel=stacklevel)
