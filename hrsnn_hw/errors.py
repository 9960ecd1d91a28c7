"""One error hierarchy for the whole toolkit.

Every error a user can trigger derives from :class:`HrsnnError` and carries the
offending parameter, its value, the allowed range and a hint, so the message
says what to change without a traceback from deep inside Brian2 or Lava.
"""
from __future__ import annotations

import csv
import functools
import os
import warnings
import zipfile
import zlib
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


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
        self.message = message
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


class VerificationError(HrsnnError, RuntimeError):
    """An exact equivalence check failed (a failed check, not a programming error: not an
    ``AssertionError``, so ``python -O`` and ``except AssertionError`` do not touch it)."""


class ArtifactError(HrsnnError, ValueError):
    """An artifact file is missing, corrupt or of an unsupported format version."""


class PathError(HrsnnError, ValueError):
    """A name cannot become a file name, or a write would land outside the output folder."""


class ResourceError(HrsnnError, ValueError):
    """A run would need more memory than the machine has (refused before allocating)."""


class RunLockedError(HrsnnError, RuntimeError):
    """Another run holds the output folder's lock."""


class OptimizeError(HrsnnError, RuntimeError):
    """The optimisation study cannot proceed (evaluator failures, lost workers, ...)."""


class StudyMismatchError(OptimizeError, ValueError):
    """The study given cannot be used: made with another setup, or not a study storage (bad input)."""


class LossyConversionWarning(UserWarning):
    """A conversion lost information but was allowed (lenient policy).

    ``parameter`` names what lost it (as the error would have), so that a caller can tell
    warnings about different parts apart without parsing the message.
    """

    def __init__(self, message: str, parameter: str | None = None) -> None:
        super().__init__(message)
        self.parameter = parameter


def warn_or_raise(error: HrsnnError, strict: bool, stacklevel: int = 3) -> None:
    """Raise ``error`` under a strict policy, else emit it as a :class:`LossyConversionWarning`."""
    if strict:
        raise error
    warnings.warn(LossyConversionWarning(str(error), parameter=error.parameter), stacklevel=stacklevel)


#: Exceptions a loader raises on malformed content it did not anticipate (wrong types deep in a
#: document, arrays of the wrong shape...). :func:`clean_errors` turns them into the loader's own
#: error class, so that bad input never ends in a traceback.
MALFORMED = (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError, ZeroDivisionError,
             RecursionError, UnicodeError, EOFError, OSError, csv.Error, zipfile.BadZipFile, zlib.error)


def clean_errors(error: type[HrsnnError], parameter: str, hint: str) -> Callable[[F], F]:
    """Decorator for loaders: an unanticipated exception on malformed input becomes ``error``.

    The loader's own checks still give the precise messages; this is the safety net for the
    combinations they do not foresee (found by the property tests in tests/test_fuzz_loaders.py).
    """
    def deco(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except HrsnnError:
                raise
            except MALFORMED as exc:
                first = args[0] if args else None
                value = str(first) if isinstance(first, (str, os.PathLike)) else None
                raise error(f"malformed input ({type(exc).__name__}: {str(exc)[:300]})", parameter=parameter,
                            value=value, hint=hint) from None
        return wrapper  # type: ignore[return-value]
    return deco
