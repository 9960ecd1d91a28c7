"""The number formats the fixed-point arithmetic runs in, taken from the network or its profile.

Bit widths are hardware facts: they come from ``qnet.formats`` (written by ``quantize``)
and, for any key missing there, from the hardware profile the network was quantized for
(``qnet.provenance["profile"]``, else ``"loihi2"``). Nothing here hard-codes a width.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Mapping

from ..errors import QuantizationError
from ..profiles import HardwareProfile, load_profile

DEFAULT_PROFILE = "loihi2"

_INT_KEYS = ("state_bits", "decay_bits", "u_shift", "vth_shift", "vth_mant_bits", "weight_bits",
             "weight_exp_min", "weight_exp_max", "bias_mant_bits", "bias_exp_max")
_OPTIONAL_KEYS = ("refractory_max_steps",)


@dataclass(frozen=True)
class FixedFormat:
    """Bit widths and shifts of Loihi-style fixed point (Lava's names).

    Attributes
    ----------
    state_bits : int
        Width of ``u`` and ``v`` (24 on Loihi).
    decay_bits : int
        Width of ``du``/``dv``; decays multiply by ``2**decay_bits - d`` and shift right by it.
    u_shift, vth_shift : int
        Left shifts that MSB-align the synaptic input and the threshold mantissa.
    vth_mant_bits : int
        Width of the unsigned threshold mantissa.
    weight_bits : int
        Widest weight mantissa of a Dense synapse (Lava's ``max_num_weight_bits``).
    weight_exp_min, weight_exp_max : int
        Range of a projection's ``weight_exp``.
    bias_mant_bits : int
        Width of the signed bias mantissa.
    bias_exp_max : int
        Largest bias exponent (exponents are unsigned).
    refractory_max_steps : int or None
        Longest refractory period the target supports; ``None`` when the profile is silent.
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

    @property
    def state_max(self) -> int:
        """``2**(state_bits - 1)``: u wraps above it, v clips one below it."""
        return 1 << (self.state_bits - 1)

    @property
    def decay_unity(self) -> int:
        """``2**decay_bits``, the decay multiplier meaning "no decay"."""
        return 1 << self.decay_bits

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_profile(cls, profile: HardwareProfile) -> "FixedFormat":
        """Read the ``number_format`` section of a hardware profile."""
        values: dict[str, Any] = {k: profile.int("number_format", k) for k in _INT_KEYS}
        for key in _OPTIONAL_KEYS:
            values[key] = profile.int("number_format", key) if profile.has("number_format", key) else None
        return cls(**values)

    @classmethod
    def from_mapping(cls, formats: Mapping[str, Any], fallback: "FixedFormat") -> "FixedFormat":
        """Take every key present in ``formats`` (a ``qnet.formats`` dict), the rest from ``fallback``."""
        values = fallback.as_dict()
        for key in (*_INT_KEYS, *_OPTIONAL_KEYS):
            if key in formats and formats[key] is not None:
                raw = formats[key]
                if isinstance(raw, bool) or not isinstance(raw, (int, float)) or int(raw) != raw:
                    raise QuantizationError("number format entry must be an integer",
                                            parameter=f"formats.{key}", value=raw)
                values[key] = int(raw)
        return cls(**values)


def format_of(qnet: Any, profile: HardwareProfile | str | None = None) -> FixedFormat:
    """The :class:`FixedFormat` of a :class:`~hrsnn_hw.quantize.network.QuantizedNetwork`.

    Parameters
    ----------
    qnet : QuantizedNetwork
        The network; its ``formats`` dict wins over the profile.
    profile : HardwareProfile or str, optional
        Profile for keys ``qnet.formats`` lacks. Default: ``qnet.provenance["profile"]`` when it
        names a bundled profile, else ``"loihi2"``.
    """
    if profile is None:
        prov = qnet.provenance.get("profile") if isinstance(qnet.provenance, Mapping) else None
        if isinstance(prov, Mapping):
            prov = prov.get("name")
        profile = prov if isinstance(prov, str) and prov else DEFAULT_PROFILE
    if isinstance(profile, str):
        profile = load_profile(profile)
    fmt = FixedFormat.from_mapping(qnet.formats or {}, FixedFormat.from_profile(profile))
    _check_overflow_modes(qnet.formats or {})
    return fmt


def _check_overflow_modes(formats: Mapping[str, Any]) -> None:
    """The kernel implements Lava's modes only (u wraps, v clips, du + 1, dv + 0): refuse anything else."""
    from .kernel import DU_OFFSET, DV_OFFSET
    for key, expected in (("du_offset", DU_OFFSET), ("dv_offset", DV_OFFSET)):
        if key in formats and formats[key] is not None and int(formats[key]) != expected:
            raise QuantizationError("unsupported decay offset", parameter=f"formats.{key}", value=formats[key],
                                    allowed=str(expected), hint="Lava's LIF adds 1 to du and 0 to dv")
    modes = formats.get("overflow")
    if modes is None:
        return
    expected = {"u": "wrap", "v": "clip"}
    if isinstance(modes, Mapping):
        for var, mode in expected.items():
            if var in modes and modes[var] != mode:
                raise QuantizationError("unsupported overflow mode", parameter=f"formats.overflow.{var}",
                                        value=modes[var], allowed=repr(mode),
                                        hint="Lava's bit-accurate LIF wraps u and clips v")
