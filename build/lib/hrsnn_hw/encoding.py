"""Analog-to-spike encoders (numpy only, deterministic for a seed).

Each input frame (one time step of a :class:`~hrsnn_hw.tasks.datasets.TaskData` sample) is
held for ``steps_per_frame`` simulation steps. Output rasters have shape
(n_samples, n_frames * steps_per_frame, n_channels_out); padding steps are always silent.

Methods
-------
``"rate"``
    One channel per input channel; at every step of a frame, spike with probability
    ``p = x * p_max`` (Bernoulli), x in [0, 1].
``"population"``
    ``n_per_channel`` neurons per input channel with Gaussian receptive fields centred on
    ``linspace(0, 1, n_per_channel)``, width ``sigma``; neuron j spikes with probability
    ``p_max * exp(-(x - c_j)^2 / (2 sigma^2))`` per step.
``"thermometer"``
    ``n_per_channel`` channels per input channel, deterministic: channel j of input channel c
    fires once, on the first step of frame f, when ``x_f > (j + 0.5) / n_per_channel``, so the
    number of active channels is x quantised to ``n_per_channel`` levels and no encoder noise
    is added (used for memory capacity and the prediction tasks).
``"level_crossing"``
    Two channels per input channel (``2c`` = up, ``2c + 1`` = down). Levels are a fixed grid
    ``k * delta``; between frame f-1 and f the signal crosses
    ``L(x_f) - L(x_{f-1})`` levels, ``L(x) = floor(x / delta)``. Each crossing is one spike
    on the up (or down) channel, placed on consecutive steps from the first step of frame f,
    at most ``steps_per_frame`` per frame (the excess is counted in
    ``params["dropped_events"]``).
``"send_on_delta"``
    Same channel layout. A reference r follows the signal: when ``|x_f - r| >= delta``,
    ``floor(|x_f - r| / delta)`` spikes (capped as above) go to the up/down channel and r is
    *reset to x_f* (not moved by multiples of delta, which is what makes it differ from level
    crossing: the grid moves with the last event).

For the two event methods the first frame is compared with ``initial``: ``"first"`` (default,
the first frame emits nothing and only changes are sent) or ``"zero"`` (the first frame
emits the level of x_0 on the up channel, so the absolute level is sent once).

Randomness: sample b uses ``np.random.default_rng([seed, b])`` and draws only for its valid
steps, so its spikes do not depend on the padding or on the other samples' lengths.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import DataError, warn_or_raise

__all__ = ["EncodedInput", "encode", "n_output_channels", "METHODS", "DEFAULT_OPTIONS"]

METHODS = ("rate", "level_crossing", "send_on_delta", "population", "thermometer")

#: Options each method accepts, with their defaults.
DEFAULT_OPTIONS: dict[str, dict[str, Any]] = {
    "rate": {"p_max": 0.5},
    "population": {"p_max": 0.5, "n_per_channel": 8, "sigma": None},
    "thermometer": {"n_per_channel": 8},
    "level_crossing": {"delta": 0.1, "initial": "first"},
    "send_on_delta": {"delta": 0.1, "initial": "first"},
}

# floor(0.3 / 0.1) is 2 in floating point; a tiny tolerance makes values that sit on a level
# (as the user wrote them) count as reaching it.
_LEVEL_EPS = 1e-9


@dataclass(frozen=True)
class EncodedInput:
    """A batch of input spike rasters.

    Attributes
    ----------
    spikes : ndarray of bool, shape (n_samples, n_steps, n_channels_out)
        Steps past ``sample_lengths[b]`` are padding and always False.
    sample_lengths : ndarray of int64, shape (n_samples,)
        Valid steps per sample: the number of valid frames times ``steps_per_frame``.
    method : str
        The encoding method.
    params : dict
        Every setting used (defaults filled in), ``steps_per_frame``, ``seed``,
        ``n_input_channels`` and, for event methods, ``dropped_events``.
    """

    spikes: np.ndarray
    sample_lengths: np.ndarray
    method: str
    params: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        spikes = np.asarray(self.spikes, dtype=bool)
        lengths = np.asarray(self.sample_lengths, dtype=np.int64)
        if spikes.ndim != 3 or lengths.shape != (spikes.shape[0],):
            raise DataError("spikes must be (n_samples, n_steps, n_channels) with one length per sample",
                            parameter="spikes", value=(spikes.shape, lengths.shape))
        spikes.setflags(write=False)
        lengths.setflags(write=False)
        object.__setattr__(self, "spikes", spikes)
        object.__setattr__(self, "sample_lengths", lengths)

    @property
    def n_channels(self) -> int:
        """Number of output (spike) channels."""
        return int(self.spikes.shape[2])

    @property
    def n_samples(self) -> int:
        return int(self.spikes.shape[0])

    @property
    def n_steps(self) -> int:
        return int(self.spikes.shape[1])


def _check_method(method: Any) -> str:
    if method not in METHODS:
        raise DataError("unknown encoding method", parameter="method", value=method,
                        allowed=f"one of {list(METHODS)}")
    return method


def _resolve_options(method: str, opts: dict[str, Any]) -> dict[str, Any]:
    defaults = DEFAULT_OPTIONS[method]
    unknown = sorted(set(opts) - set(defaults))
    if unknown:
        raise DataError(f"option not used by the {method!r} encoder", parameter=unknown[0],
                        value=opts[unknown[0]], allowed=f"one of {sorted(defaults)}",
                        hint="check the spelling or the method")
    out = dict(defaults)
    out.update(opts)
    if "p_max" in out:
        p = out["p_max"]
        if not isinstance(p, (int, float, np.number)) or not (0.0 < float(p) <= 1.0):
            raise DataError("spike probability per step out of range", parameter="p_max", value=p,
                            allowed="(0, 1]", hint="p_max is the probability at x = 1")
        out["p_max"] = float(p)
    if "delta" in out:
        d = out["delta"]
        if not isinstance(d, (int, float, np.number)) or not (math.isfinite(float(d)) and float(d) > 0):
            raise DataError("level spacing must be positive", parameter="delta", value=d,
                            allowed="(0, inf), typically 0.02..0.25 for inputs in [0, 1]")
        out["delta"] = float(d)
    if "initial" in out and out["initial"] not in ("first", "zero"):
        raise DataError("unknown reference for the first frame", parameter="initial",
                        value=out["initial"], allowed="'first' or 'zero'")
    if method in ("population", "thermometer"):
        n = out["n_per_channel"]
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
            raise DataError("population size must be an integer >= 2", parameter="n_per_channel",
                            value=n, allowed=">= 2")
        out["n_per_channel"] = int(n)
    if method == "population":
        if out["sigma"] is None:
            # Half the spacing: a value midway between two centres still drives both at 61 %.
            out["sigma"] = 0.5 / (out["n_per_channel"] - 1)
        s = out["sigma"]
        if not isinstance(s, (int, float, np.number)) or not (math.isfinite(float(s)) and float(s) > 0):
            raise DataError("receptive-field width must be positive", parameter="sigma", value=s,
                            allowed="(0, inf)")
        out["sigma"] = float(s)
    return out


def thermometer(x: np.ndarray, lengths: np.ndarray, n_per_channel: int, steps_per_frame: int) -> np.ndarray:
    """Deterministic thermometer raster (n, F * steps_per_frame, C * n_per_channel) of x in [0, 1].

    Channel ``c * n_per_channel + j`` fires on the first step of frame f when
    ``x[:, f, c] > (j + 0.5) / n_per_channel``; padding frames are silent.
    """
    n, f_max, c = x.shape
    levels = (np.arange(n_per_channel) + 0.5) / n_per_channel
    valid = np.arange(f_max)[None, :] < np.asarray(lengths)[:, None]
    active = (x[..., None] > levels) & valid[:, :, None, None]  # (n, F, C, n_per_channel)
    out = np.zeros((n, f_max * steps_per_frame, c * n_per_channel), dtype=bool)
    out[:, ::steps_per_frame, :] = active.reshape(n, f_max, c * n_per_channel)
    return out


def n_output_channels(method: str, n_input_channels: int, **opts: Any) -> int:
    """Number of spike channels ``encode`` produces, so a network can be sized first.

    Parameters
    ----------
    method : str
        One of :data:`METHODS`.
    n_input_channels : int
        Channels C of the analog input.
    **opts
        The encoder options (only ``n_per_channel`` matters).
    """
    method = _check_method(method)
    if isinstance(n_input_channels, bool) or not isinstance(n_input_channels, (int, np.integer)) \
            or n_input_channels < 1:
        raise DataError("number of input channels must be a positive integer",
                        parameter="n_input_channels", value=n_input_channels, allowed=">= 1")
    o = _resolve_options(method, opts)
    if method == "rate":
        return int(n_input_channels)
    if method in ("population", "thermometer"):
        return int(n_input_channels) * o["n_per_channel"]
    return 2 * int(n_input_channels)


def _prepare(x: Any, lengths: Any) -> tuple[np.ndarray, np.ndarray]:
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError("input must be a numeric array", parameter="x", value=type(x).__name__) from None
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3:
        raise DataError("input must be (n_samples, n_frames, n_channels) or (n_samples, n_frames)",
                        parameter="x", value=arr.shape)
    n, t_max, _ = arr.shape
    if lengths is None:
        lens = np.full(n, t_max, dtype=np.int64)
    else:
        raw = np.asarray(lengths)
        if raw.shape != (n,) or not np.issubdtype(raw.dtype, np.number) or \
                np.any(raw != np.round(raw)):
            raise DataError("lengths must be one integer per sample", parameter="lengths",
                            value=raw.shape if raw.shape != (n,) else raw.tolist()[:5],
                            allowed=f"shape ({n},), integers")
        lens = raw.astype(np.int64)
        if np.any((lens < 0) | (lens > t_max)):
            bad = int(np.flatnonzero((lens < 0) | (lens > t_max))[0])
            raise DataError("length outside the input", parameter="lengths", value=int(lens[bad]),
                            index=bad, allowed=f"0..{t_max}")
    valid = np.arange(t_max)[None, :] < lens[:, None]
    bad = ~np.isfinite(arr) & valid[..., None]
    if bad.any():
        b, t, c = (int(v) for v in np.argwhere(bad)[0])
        raise DataError("non-finite input value", parameter="x", value=float(arr[b, t, c]),
                        index=b, allowed="finite numbers in [0, 1]",
                        hint=f"sample {b}, frame {t}, channel {c}; fill or drop missing values first")
    # Padding may hold anything (NaN included); it is never encoded.
    arr = np.where(valid[..., None], arr, 0.0)
    return arr, lens


def _clip_unit(x: np.ndarray, lens: np.ndarray, strict: bool, method: str) -> np.ndarray:
    valid = (np.arange(x.shape[1])[None, :] < lens[:, None])[..., None]
    outside = ((x < 0.0) | (x > 1.0)) & valid
    if outside.any():
        b, t, c = (int(v) for v in np.argwhere(outside)[0])
        warn_or_raise(DataError(f"{int(outside.sum())} input value(s) outside [0, 1] for "
                                f"{method} coding; clipped", parameter="x",
                                value=float(x[b, t, c]), index=b, allowed="[0, 1]",
                                hint="scale inputs with training statistics (the task loaders do)"),
                      strict, stacklevel=4)  # point at the caller of encode()
        x = np.clip(x, 0.0, 1.0)
    return x


def _bernoulli(prob: np.ndarray, lens: np.ndarray, spf: int, seed: int) -> np.ndarray:
    """prob: (n, F, C) per-frame probabilities -> (n, F * spf, C) spikes."""
    n, f_max, c = prob.shape
    out = np.zeros((n, f_max * spf, c), dtype=bool)
    for b in range(n):
        steps = int(lens[b]) * spf
        if steps == 0:
            continue
        rng = np.random.default_rng([seed, b])
        p = np.repeat(prob[b, :lens[b]], spf, axis=0)
        out[b, :steps] = rng.random((steps, c)) < p
    return out


def _place_events(up: np.ndarray, down: np.ndarray, spf: int) -> tuple[np.ndarray, int]:
    """Event counts (n, F, C) -> spikes (n, F * spf, 2C), ``count`` spikes from each frame's start."""
    n, f_max, c = up.shape
    counts = np.empty((n, f_max, 2 * c), dtype=np.int64)
    counts[:, :, 0::2] = up
    counts[:, :, 1::2] = down
    dropped = int(np.maximum(counts - spf, 0).sum())
    k = np.arange(spf)[None, None, :, None]
    spikes = k < counts[:, :, None, :]  # (n, F, spf, 2C)
    return spikes.reshape(n, f_max * spf, 2 * c), dropped


def _level_crossing(x: np.ndarray, lens: np.ndarray, delta: float, initial: str,
                    spf: int) -> tuple[np.ndarray, int]:
    levels = np.floor(x / delta + _LEVEL_EPS).astype(np.int64)
    prev = np.empty_like(levels)
    prev[:, 1:] = levels[:, :-1]
    prev[:, 0] = 0 if initial == "zero" else levels[:, 0]
    diff = levels - prev
    valid = (np.arange(x.shape[1])[None, :] < lens[:, None])[..., None]
    diff = np.where(valid, diff, 0)
    return _place_events(np.maximum(diff, 0), np.maximum(-diff, 0), spf)


def _send_on_delta(x: np.ndarray, lens: np.ndarray, delta: float, initial: str,
                   spf: int) -> tuple[np.ndarray, int]:
    n, f_max, c = x.shape
    up = np.zeros((n, f_max, c), dtype=np.int64)
    down = np.zeros_like(up)
    ref = np.zeros((n, c)) if initial == "zero" else x[:, 0].copy()
    # Sequential in time because the reference depends on earlier events; vectorised over
    # samples and channels.
    for f in range(f_max):
        active = (f < lens)[:, None]
        d = x[:, f] - ref
        m = np.floor(np.abs(d) / delta + _LEVEL_EPS).astype(np.int64)
        fire = (m >= 1) & active
        up[:, f] = np.where(fire & (d > 0), m, 0)
        down[:, f] = np.where(fire & (d < 0), m, 0)
        ref = np.where(fire, x[:, f], ref)
    return _place_events(up, down, spf)


def encode(x: Any, lengths: Any = None, method: str = "rate", steps_per_frame: int = 1,
           seed: int = 0, *, strict: bool = False, **opts: Any) -> EncodedInput:
    """Encode analog frames into spike rasters.

    Parameters
    ----------
    x : array_like, shape (n_samples, n_frames, n_channels) or (n_samples, n_frames)
        Inputs, expected in [0, 1] (the task loaders scale them so).
    lengths : array_like of int, shape (n_samples,), optional
        Valid frames per sample; default all frames.
    method : str
        ``"rate"``, ``"level_crossing"``, ``"send_on_delta"`` or ``"population"`` (see the
        module docstring).
    steps_per_frame : int
        Simulation steps per input frame (>= 1).
    seed : int
        Seed of the Bernoulli draws (rate, population); recorded for the others.
    strict : bool
        For rate/population: inputs outside [0, 1] raise :class:`DataError` instead of being
        clipped with a :class:`~hrsnn_hw.errors.LossyConversionWarning`.
    **opts
        Method options, see :data:`DEFAULT_OPTIONS` (``p_max``, ``n_per_channel``, ``sigma``,
        ``delta``, ``initial``).

    Returns
    -------
    EncodedInput
    """
    method = _check_method(method)
    if isinstance(steps_per_frame, bool) or not isinstance(steps_per_frame, (int, np.integer)) \
            or steps_per_frame < 1:
        raise DataError("steps per frame must be a positive integer", parameter="steps_per_frame",
                        value=steps_per_frame, allowed=">= 1",
                        hint="each input frame is held for this many simulation steps")
    spf = int(steps_per_frame)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise DataError("seed must be a non-negative integer", parameter="seed", value=seed,
                        allowed=">= 0")
    o = _resolve_options(method, opts)
    arr, lens = _prepare(x, lengths)
    n, f_max, c = arr.shape
    params: dict[str, Any] = {"method": method, "steps_per_frame": spf, "seed": int(seed),
                              "n_input_channels": c, **o}
    if method == "rate":
        arr = _clip_unit(arr, lens, strict, method)
        spikes = _bernoulli(arr * o["p_max"], lens, spf, int(seed))
    elif method == "population":
        arr = _clip_unit(arr, lens, strict, method)
        centres = np.linspace(0.0, 1.0, o["n_per_channel"])
        z = (arr[..., None] - centres) / o["sigma"]  # (n, F, C, n_per_channel)
        prob = o["p_max"] * np.exp(-0.5 * z * z)
        params["centres"] = centres.tolist()
        spikes = _bernoulli(prob.reshape(n, f_max, c * o["n_per_channel"]), lens, spf, int(seed))
    elif method == "thermometer":
        arr = _clip_unit(arr, lens, strict, method)
        spikes = thermometer(arr, lens, o["n_per_channel"], spf)
    elif method == "level_crossing":
        spikes, dropped = _level_crossing(arr, lens, o["delta"], o["initial"], spf)
        params["dropped_events"] = dropped
    else:
        spikes, dropped = _send_on_delta(arr, lens, o["delta"], o["initial"], spf)
        params["dropped_events"] = dropped
    return EncodedInput(spikes=spikes, sample_lengths=lens * spf, method=method, params=params)
