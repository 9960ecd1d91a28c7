"""How to quantize: the user's choices, validated."""
from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass

from ..errors import QuantizationError

ROUNDINGS = ("nearest",)
BINNINGS = ("kmeans-log", "quantile")


@dataclass(frozen=True)
class QuantizationPolicy:
    """Choices of one quantization run.

    Attributes
    ----------
    strict : bool
        If True every lossy-but-allowed conversion (a decay with no leak, a saturated
        threshold, weights rounding to zero, possible ``u`` overflow...) raises
        :class:`~hrsnn_hw.errors.QuantizationError`; if False it emits a
        :class:`~hrsnn_hw.errors.LossyConversionWarning` and is listed in the report.
    max_neuron_profiles : int or None
        K, the most distinct ``(du, dv, vth, refractory_steps)`` neuron profiles allowed.
        None takes the profile's ``core_limits.neuron_profiles_per_core`` (no limit if the
        profile has none) and applies it to the
        whole network: the quantizer does not know the placement, and K network-wide keeps
        every core within its limit whatever the mapper does (a network spanning several
        cores could use up to K per core if the mapper grouped neurons by profile; not done).
        Pass ``n_neurons`` (or more) for per-neuron parameters (no binning).
    weight_bits : int or None
        Effective weight mantissa bits (1 .. the profile's ``weight_bits``); None uses the
        profile's. Fewer bits keep the same register and zero its low bits, as Lava's
        ``num_weight_bits`` does.
    rounding : str
        ``"nearest"`` (round half to even) for every parameter.
    v_scale : float or None
        Volts per integer unit of ``u`` and ``v``; None chooses it (see
        :func:`hrsnn_hw.quantize.scale.choose_v_scale`).
    state_headroom : str
        ``"u"`` (default): the finest scale at which ``u`` cannot wrap under the worst-case
        drive; ``v`` may then clip at the negative rail under strong inhibition (reported,
        and modelled by the golden model exactly as Lava does). ``"v"``: ``v`` cannot clip
        either; the scale is then coarser, and because Lava shifts both ``a_in`` and ``vth``
        left by 6 bits, weights lose precision (about 4 bits on the reference design).
    binning : str
        ``"kmeans-log"`` (exact 1-D k-means on log time constants; Lloyd iterations when
        several parameters vary) or ``"quantile"`` (equal-count groups).
    """

    strict: bool = False
    max_neuron_profiles: int | None = None
    weight_bits: int | None = None
    rounding: str = "nearest"
    v_scale: float | None = None
    binning: str = "kmeans-log"
    state_headroom: str = "u"

    def __post_init__(self) -> None:
        if not isinstance(self.strict, bool):
            raise QuantizationError("strict must be True or False", parameter="policy.strict", value=self.strict)
        for name in ("max_neuron_profiles", "weight_bits"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1):
                raise QuantizationError("expected a positive integer or None", parameter=f"policy.{name}",
                                        value=value, allowed="integers >= 1, or None for the profile's value")
            if value is not None:
                object.__setattr__(self, name, int(value))  # numpy integers -> int, for JSON and equality
        if self.rounding not in ROUNDINGS:
            raise QuantizationError("unknown rounding", parameter="policy.rounding", value=self.rounding,
                                    allowed=f"one of {list(ROUNDINGS)}")
        if self.binning not in BINNINGS:
            raise QuantizationError("unknown binning method", parameter="policy.binning", value=self.binning,
                                    allowed=f"one of {list(BINNINGS)}")
        if self.state_headroom not in ("u", "v"):
            raise QuantizationError("unknown state headroom", parameter="policy.state_headroom",
                                    value=self.state_headroom, allowed="'v' (no u wrap, no v clip) or 'u' (no u wrap)")
        if self.v_scale is not None:
            ok = (not isinstance(self.v_scale, bool) and isinstance(self.v_scale, numbers.Real)
                  and math.isfinite(self.v_scale) and self.v_scale > 0)
            if not ok:
                raise QuantizationError("v_scale must be a positive number of volts per unit", parameter="policy.v_scale",
                                        value=self.v_scale, allowed="(0, inf) V, or None to choose automatically")
            object.__setattr__(self, "v_scale", float(self.v_scale))

    def as_dict(self) -> dict:
        """The policy as plain JSON types (for provenance)."""
        return asdict(self)
