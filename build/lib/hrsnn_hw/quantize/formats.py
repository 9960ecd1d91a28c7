"""The target's fixed-point number formats, read once from a hardware profile.

Every bit width and limit the quantizer uses comes from here, and everything here comes
from the profile (``number_format`` and ``core_limits``), except the two decay offsets,
which are part of Lava's arithmetic rather than a chip fact: the current decay uses
``4096 - (du + 1)`` (Lava's ``ds_offset = 1``) and the voltage decay ``4096 - dv``
(``dm_offset = 0``), see ``lava/proc/lif/models.py``.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import QuantizationError
from ..golden.formats import FixedFormat
from ..profiles import HardwareProfile, load_profile

DU_OFFSET = 1  # Lava AbstractPyLifModelFixed.ds_offset: the u decay is 4096 - (du + 1)
DV_OFFSET = 0  # Lava AbstractPyLifModelFixed.dm_offset


@dataclass(frozen=True)
class FixedPointFormat:
    """Number formats of one target (all integers, from the profile).

    Attributes
    ----------
    profile_name : str
        Name of the profile the formats were read from.
    profile_version : int
        Its format version.
    decay_bits : int
        Width of ``du``/``dv``; the decay unit is ``2**decay_bits``.
    state_bits : int
        Width of ``u`` and ``v`` (signed).
    u_shift, vth_shift : int
        Left shift of the synaptic input into ``u`` and of ``vth`` before the comparison.
    vth_mant_bits : int
        Width of the (unsigned) threshold mantissa.
    weight_bits : int
        Width of the weight register (Lava's 8-bit Dense weights); a projection may use fewer
        effective bits, see :mod:`hrsnn_hw.quantize.weights`.
    weight_exp_min, weight_exp_max : int
        Range of the per-projection weight exponent.
    bias_mant_bits : int
        Width of the signed bias mantissa.
    bias_exp_max : int
        Largest bias exponent (the smallest is 0).
    refractory_max_steps : int
        Longest refractory period in steps (0 when the profile defines none).
    neurons_per_core : int
        Neurons (compartments) per core.
    neuron_profiles_per_core : int or None
        Distinct ``(du, dv, vth, refractory)`` profiles one core holds; None = unlimited.
    threshold_profiles_per_core : int or None
        Distinct thresholds one core holds, where the profile says (Loihi 1: 8).
    """

    profile_name: str
    profile_version: int
    decay_bits: int
    state_bits: int
    u_shift: int
    vth_shift: int
    vth_mant_bits: int
    weight_bits: int
    weight_exp_min: int
    weight_exp_max: int
    bias_mant_bits: int
    bias_exp_max: int
    refractory_max_steps: int
    neurons_per_core: int
    neuron_profiles_per_core: int | None = None
    threshold_profiles_per_core: int | None = None

    @classmethod
    def from_profile(cls, profile: HardwareProfile | str) -> "FixedPointFormat":
        """Read the formats from a profile (or a profile name/path)."""
        if isinstance(profile, str):
            profile = load_profile(profile)
        nf = "number_format"
        if profile.kind != "neuromorphic" or not profile.sections.get(nf):
            raise QuantizationError("the profile has no fixed-point number format", parameter="profile",
                                    value=profile.name, allowed="a neuromorphic profile with a number_format section",
                                    hint="quantize for a chip profile such as 'loihi1' or 'loihi2'")
        optional = (lambda key: profile.int("core_limits", key) if profile.has("core_limits", key) else None)
        # The number formats are read in one place (the golden model's FixedFormat); the
        # quantizer adds the per-core limits it bins and checks against.
        numbers = FixedFormat.from_profile(profile).as_dict()
        numbers["refractory_max_steps"] = numbers["refractory_max_steps"] or 0
        fmt = cls(profile_name=profile.name, profile_version=int(profile.version), **numbers,
                  neuron_profiles_per_core=optional("neuron_profiles_per_core"),
                  neurons_per_core=profile.int("core_limits", "neurons_per_core"),
                  threshold_profiles_per_core=optional("threshold_profiles_per_core"))
        fmt.check()
        return fmt

    def check(self) -> None:
        """Refuse formats the quantizer cannot work with (a broken profile, not a user error)."""
        positive = {"decay_bits": self.decay_bits, "state_bits": self.state_bits,
                    "vth_mant_bits": self.vth_mant_bits, "weight_bits": self.weight_bits,
                    "bias_mant_bits": self.bias_mant_bits, "neurons_per_core": self.neurons_per_core}
        if self.neuron_profiles_per_core is not None:
            positive["neuron_profiles_per_core"] = self.neuron_profiles_per_core
        for name, value in positive.items():
            if value < 1:
                raise QuantizationError("profile value must be >= 1", parameter=f"profile.{name}", value=value,
                                        allowed="integers >= 1", hint=f"fix {self.profile_name}.json")
        if self.weight_exp_min > self.weight_exp_max:
            raise QuantizationError("weight_exp_min exceeds weight_exp_max", parameter="profile.weight_exp_min",
                                    value=self.weight_exp_min, allowed=f"<= {self.weight_exp_max}")
        if self.bias_exp_max < 0 or self.refractory_max_steps < 0 or self.u_shift < 0 or self.vth_shift < 0:
            raise QuantizationError("shifts, exponents and step counts must be >= 0", parameter="profile",
                                    value=self.profile_name)

    # --- derived limits ------------------------------------------------------------------
    @property
    def decay_unity(self) -> int:
        """The decay denominator, ``2**decay_bits`` (4096)."""
        return 1 << self.decay_bits

    @property
    def decay_max(self) -> int:
        """Largest ``du``/``dv`` (4095)."""
        return self.decay_unity - 1

    @property
    def state_max(self) -> int:
        """Largest positive ``u``/``v`` (``2**23 - 1``)."""
        return (1 << (self.state_bits - 1)) - 1

    @property
    def vth_max(self) -> int:
        """Largest threshold mantissa whose shifted value still fits the state register."""
        return min((1 << self.vth_mant_bits) - 1, self.state_max >> self.vth_shift)

    @property
    def bias_mant_max(self) -> int:
        return (1 << (self.bias_mant_bits - 1)) - 1

    @property
    def bias_mant_min(self) -> int:
        return -(1 << (self.bias_mant_bits - 1))

    def as_dict(self, weight_bits: int | None = None) -> dict:
        """The ``formats`` dictionary stored in a :class:`QuantizedNetwork`."""
        return {"state_bits": self.state_bits, "decay_bits": self.decay_bits, "u_shift": self.u_shift,
                "vth_shift": self.vth_shift, "vth_mant_bits": self.vth_mant_bits,
                "weight_bits": self.weight_bits,
                "weight_bits_effective": int(self.weight_bits if weight_bits is None else weight_bits),
                "weight_exp_min": self.weight_exp_min, "weight_exp_max": self.weight_exp_max,
                "bias_mant_bits": self.bias_mant_bits, "bias_exp_max": self.bias_exp_max,
                "refractory_max_steps": self.refractory_max_steps, "du_offset": DU_OFFSET, "dv_offset": DV_OFFSET,
                "overflow": {"u": "wrap", "v": "clip"}, "rounding": "nearest"}
