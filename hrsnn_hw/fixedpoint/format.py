"""The number format of the fixed-point arithmetic (one class), Lava's decay offsets and the
Dense weight register.

Every width and shift is a hardware fact read from a profile's ``number_format`` section;
the two decay offsets and the overflow modes are part of Lava's arithmetic, not of a chip,
and are defined here once (``lava/proc/lif/models.py``, ``AbstractPyLifModelFixed``):

* the current decays by ``2**decay_bits - (du + DU_OFFSET)`` (Lava's ``ds_offset = 1``, so a
  full reset of ``u`` each step is reachable), the voltage by ``2**decay_bits - (dv + DV_OFFSET)``
  (``dm_offset = 0``);
* ``u`` wraps at :attr:`NumberFormat.wrap_limit` (``2**(state_bits-1)``: ``u > limit`` ->
  ``u - 2 limit``, ``u <= -limit`` -> ``u + 2 limit``), ``v`` clips to
  ``[-clip_limit, clip_limit]`` with :attr:`NumberFormat.clip_limit` = ``2**(state_bits-1) - 1``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .. import artifacts
from ..errors import QuantizationError
from ..profiles import HardwareProfile, load_profile

#: Lava ``AbstractPyLifModelFixed.ds_offset``: the u decay multiplier is ``2**D - (du + 1)``.
DU_OFFSET = 1
#: Lava ``AbstractPyLifModelFixed.dm_offset``: the v decay multiplier is ``2**D - dv``.
DV_OFFSET = 0
#: How the state registers overflow in Lava's bit-accurate LIF (not configurable there).
OVERFLOW = {"u": "wrap", "v": "clip"}
#: Sign modes of a Dense weight register.
SIGN_MODES = ("excitatory", "inhibitory", "mixed")

_REQUIRED = ("state_bits", "decay_bits", "u_shift", "vth_shift", "vth_mant_bits", "weight_bits",
             "weight_exp_min", "weight_exp_max", "bias_mant_bits", "bias_exp_max")
_OPTIONAL = ("refractory_max_steps", "spike_payload_bits")


@artifacts.node("hrsnn_hw.NumberFormat")
@dataclass(frozen=True)
class NumberFormat:
    """Bit widths and shifts of Loihi-style fixed point (Lava's names), from one profile.

    Attributes
    ----------
    state_bits : int
        Width of ``u`` and ``v`` (24 on Loihi); see :attr:`wrap_limit` and :attr:`clip_limit`.
    decay_bits : int
        Width of ``du``/``dv``; decays multiply by ``2**decay_bits - d`` and shift right by it.
    u_shift, vth_shift : int
        Left shifts that MSB-align the synaptic input and the threshold mantissa.
    vth_mant_bits : int
        Width of the unsigned threshold mantissa.
    weight_bits : int
        Width of the Dense weight register (Lava's ``max_num_weight_bits``, 8).
    weight_exp_min, weight_exp_max : int
        Range of a projection's ``weight_exp``.
    bias_mant_bits : int
        Width of the signed bias mantissa.
    bias_exp_max : int
        Largest bias exponent (exponents are unsigned).
    refractory_max_steps : int or None
        Longest refractory period the target supports; ``None`` when the profile is silent
        (the simulators then accept any count, the quantizer allows none).
    spike_payload_bits : int or None
        Width of a graded spike's signed integer payload; ``None`` = binary spikes only.
    profile : str
        Name of the profile the format was read from ("" for a hand-made format).
    """

    state_bits: int
    decay_bits: int
    u_shift: int
    vth_shift: int
    vth_mant_bits: int
    weight_bits: int
    weight_exp_min: int
    weight_exp_max: int
    bias_mant_bits: int
    bias_exp_max: int
    refractory_max_steps: int | None = None
    spike_payload_bits: int | None = None
    profile: str = ""

    def __post_init__(self) -> None:
        for key in (*_REQUIRED, *_OPTIONAL):
            raw = getattr(self, key)
            if raw is None and key in _OPTIONAL:
                continue
            if isinstance(raw, bool) or not isinstance(raw, (int, np.integer)):
                raise QuantizationError("number format entry must be an integer",
                                        parameter=f"number_format.{key}", value=raw,
                                        hint=f"fix the profile {self.profile!r}" if self.profile else None)
            object.__setattr__(self, key, int(raw))
        self.check()

    def check(self) -> None:
        """Refuse formats the arithmetic cannot work with (a broken profile, not a user error)."""
        where = f"fix {self.profile}.json" if self.profile else None
        for name in ("decay_bits", "state_bits", "vth_mant_bits", "weight_bits", "bias_mant_bits"):
            if getattr(self, name) < 1:
                raise QuantizationError("number format width must be >= 1", parameter=f"number_format.{name}",
                                        value=getattr(self, name), allowed="integers >= 1", hint=where)
        if self.weight_exp_min > self.weight_exp_max:
            raise QuantizationError("weight_exp_min exceeds weight_exp_max",
                                    parameter="number_format.weight_exp_min", value=self.weight_exp_min,
                                    allowed=f"<= {self.weight_exp_max}", hint=where)
        for name in ("bias_exp_max", "u_shift", "vth_shift", "refractory_max_steps"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise QuantizationError("shifts, exponents and step counts must be >= 0",
                                        parameter=f"number_format.{name}", value=value, allowed=">= 0", hint=where)
        if self.spike_payload_bits is not None and not 1 <= self.spike_payload_bits <= 32:
            raise QuantizationError("graded spike payload width out of range",
                                    parameter="number_format.spike_payload_bits", value=self.spike_payload_bits,
                                    allowed="1..32 bits (Lava's Dense accumulates in int32)", hint=where)

    # --- construction ----------------------------------------------------------------------
    @classmethod
    def from_profile(cls, profile: HardwareProfile | str) -> "NumberFormat":
        """Read the ``number_format`` section of a hardware profile (or a profile name/path)."""
        if isinstance(profile, str):
            profile = load_profile(profile)
        section = "number_format"
        if profile.kind != "neuromorphic" or not profile.sections.get(section):
            raise QuantizationError("the profile has no fixed-point number format", parameter="profile",
                                    value=profile.name,
                                    allowed="a neuromorphic profile with a number_format section",
                                    hint="quantize for a chip profile such as 'loihi1' or 'loihi2'")
        values: dict[str, Any] = {k: profile.int(section, k) for k in _REQUIRED}
        for key in _OPTIONAL:
            values[key] = profile.int(section, key) if profile.has(section, key) else None
        return cls(profile=profile.name, **values)

    def as_dict(self) -> dict[str, Any]:
        """Plain fields (for Lava process parameters and provenance)."""
        return asdict(self)

    # --- derived limits ----------------------------------------------------------------------
    @property
    def wrap_limit(self) -> int:
        """``2**(state_bits - 1)``: ``u`` wraps above it (and at or below its negative)."""
        return 1 << (self.state_bits - 1)

    @property
    def clip_limit(self) -> int:
        """``2**(state_bits - 1) - 1``: ``v`` clips to ``[-clip_limit, clip_limit]``; the largest
        state value that can neither wrap nor clip."""
        return self.wrap_limit - 1

    @property
    def decay_unity(self) -> int:
        """``2**decay_bits``, the decay denominator (4096)."""
        return 1 << self.decay_bits

    @property
    def decay_max(self) -> int:
        """Largest ``du``/``dv`` (4095)."""
        return self.decay_unity - 1

    @property
    def vth_mant_max(self) -> int:
        """Largest threshold mantissa the register holds."""
        return (1 << self.vth_mant_bits) - 1

    @property
    def vth_max(self) -> int:
        """Largest threshold mantissa whose shifted value still fits the state register."""
        return min(self.vth_mant_max, self.clip_limit >> self.vth_shift)

    @property
    def bias_mant_max(self) -> int:
        return (1 << (self.bias_mant_bits - 1)) - 1

    @property
    def bias_mant_min(self) -> int:
        return -(1 << (self.bias_mant_bits - 1))

    @property
    def graded(self) -> bool:
        """True if spikes can carry integer payloads."""
        return bool(self.spike_payload_bits)

    @property
    def payload_range(self) -> tuple[int, int]:
        """Inclusive range of a graded spike's signed payload ((0, 1) = binary spikes only)."""
        if not self.spike_payload_bits:
            return 0, 1
        half = 1 << (self.spike_payload_bits - 1)
        return -half, half - 1


# --- the Dense weight register -------------------------------------------------------------

def weight_range(sign_mode: str, fmt: NumberFormat) -> tuple[int, int]:
    """Inclusive range Lava's Dense clips a weight matrix to, for a sign mode.

    Lava negates inhibitory matrices, clips to ``[0, 2**weight_bits - 1]`` and negates back;
    mixed matrices keep one extra value on the negative side.
    """
    top = (1 << fmt.weight_bits) - 1
    if sign_mode == "excitatory":
        return 0, top
    if sign_mode == "inhibitory":
        return -top, 0
    return -(1 << fmt.weight_bits), top


def truncation_bits(sign_mode: str, num_weight_bits: int, fmt: NumberFormat) -> int:
    """Low bits Lava's Dense zeroes (arithmetic shift right then left) for this projection."""
    return fmt.weight_bits - int(num_weight_bits) + (1 if sign_mode == "mixed" else 0)


def lava_effective_weights(w: np.ndarray, sign_mode: str, num_weight_bits: int,
                           fmt: NumberFormat) -> np.ndarray:
    """What Lava's fixed-point Dense actually uses for ``w`` (clip, then truncate by sign mode)."""
    lo, hi = weight_range(sign_mode, fmt)
    k = truncation_bits(sign_mode, num_weight_bits, fmt)
    out = np.clip(np.asarray(w, np.int64), lo, hi)
    if sign_mode == "inhibitory":
        return -(((-out) >> k) << k)
    return (out >> k) << k
