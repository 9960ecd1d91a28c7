"""A deployment: a quantized network, a hardware profile and a placement, priced as one.

The energy table and the optimiser's energy objective both go through
:class:`Deployment`, so a design is mapped, counted and priced the same way everywhere.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..counting import OpCounts, count_ops
from ..errors import HrsnnError
from ..mapping import map_network
from ..mapping.placement import Placement
from ..profiles import HardwareProfile, load_profile
from ..records import SpikeRecord
from .estimate import check_static, estimate_energy
from .report import EnergyReport


@dataclass(frozen=True)
class Deployment:
    """A network mapped onto a profile's cores.

    Attributes
    ----------
    network : QuantizedNetwork
    profile : HardwareProfile
    placement : Placement
    """

    network: object
    profile: HardwareProfile
    placement: Placement

    def __post_init__(self) -> None:
        if self.placement.profile != self.profile.name:
            raise HrsnnError("the placement was made for another profile", parameter="placement",
                             value=self.placement.profile, allowed=self.profile.name)
        if self.placement.n_neurons != self.network.n_neurons:
            raise HrsnnError("the placement was made for another network", parameter="placement",
                             value=f"{self.placement.n_neurons} neurons", allowed=f"{self.network.n_neurons}")

    @classmethod
    def map(cls, network, profile: HardwareProfile | str, *, cores: int | None = None,
            strategy: str = "pack_profiles", inputs: str = "io") -> "Deployment":
        """Map ``network`` onto ``profile`` (on at least ``cores`` cores when given).

        Raises
        ------
        MappingError
            The network does not fit (the error names the rule).
        """
        prof = load_profile(profile)
        return cls(network=network, profile=prof,
                   placement=map_network(network, prof, strategy=strategy, inputs=inputs, cores=cores))

    @property
    def cores(self) -> int:
        return self.placement.n_cores

    def count(self, record: SpikeRecord, *, active: np.ndarray | None = None, active_definition: str | None = None,
              learning_projections: Sequence[str] = ()) -> OpCounts:
        """Count the events of ``record`` on this deployment (see :func:`hrsnn_hw.counting.count_ops`)."""
        from .timing import has_compute_model
        return count_ops(record, self.network, self.placement, active=active, active_definition=active_definition,
                         learning_projections=learning_projections, core_steps=has_compute_model(self.profile))

    def price(self, counts: OpCounts, *, static: str = "chip", time_per_step: str | float = "auto") -> EnergyReport:
        """Price counts made on this deployment (see :func:`hrsnn_hw.energy.estimate_energy`)."""
        return estimate_energy(counts, self.profile, self.placement, static=static, time_per_step=time_per_step)

    def energy(self, record: SpikeRecord, *, active: np.ndarray | None = None, active_definition: str | None = None,
               static: str = "chip", time_per_step: str | float = "auto") -> EnergyReport:
        """Count and price ``record``."""
        check_static(static)
        return self.price(self.count(record, active=active, active_definition=active_definition), static=static,
                          time_per_step=time_per_step)


def simulate_with_activity(network, input_spikes: np.ndarray, sample_lengths: np.ndarray, *,
                           batch_size: int = 16) -> tuple[SpikeRecord, np.ndarray]:
    """Golden run of a batch plus SANA-FE's active rule per (sample, step, neuron), without keeping u and v.

    Simulates ``batch_size`` samples at a time with states recorded, keeps the spikes and the
    rule's boolean raster (:func:`hrsnn_hw.counting.active_neurons`), drops the states.
    """
    from ..counting import active_neurons
    from ..golden import simulate

    x = np.asarray(input_spikes)
    lengths = np.asarray(sample_lengths, dtype=np.int64)
    b, t, _ = x.shape
    n = network.n_neurons
    valid = (np.arange(t)[None, :] < lengths[:, None])[:, :, None]
    if np.all(np.asarray(network.bias_mant) != 0):
        # The rule counts a neuron with a non-zero bias as active at every step, whatever its state:
        # no state to record, one plain golden run (the reference designs bias every neuron).
        rec = simulate(network, x, lengths)
        spikes = np.zeros((b, t, n), bool)
        spikes[:, :rec.n_steps] = rec.spikes
        record = SpikeRecord(spikes=spikes, sample_lengths=lengths,
                             dt=float(network.dt), provenance=dict(rec.provenance), input_spikes=(x != 0) & valid)
        return record, np.broadcast_to(valid, (b, t, n)).copy()
    spikes = np.zeros((b, t, n), bool)
    active = np.zeros((b, t, n), bool)
    prov: dict = {}
    for b0 in range(0, b, batch_size):
        b1 = min(b, b0 + batch_size)
        rec = simulate(network, x[b0:b1], lengths[b0:b1], record_states=True)
        spikes[b0:b1, :rec.n_steps] = rec.spikes
        active[b0:b1, :rec.n_steps] = active_neurons(rec, network)[0]
        prov = dict(rec.provenance)
    record = SpikeRecord(spikes=spikes, sample_lengths=lengths, dt=float(network.dt), provenance=prov,
                         input_spikes=(x != 0) & valid)
    return record, active


def active_raster(network, input_spikes: np.ndarray, sample_lengths: np.ndarray, *,
                  batch_size: int = 16) -> np.ndarray:
    """SANA-FE's active rule for every (sample, step, neuron) of a golden run (records without states)."""
    return simulate_with_activity(network, input_spikes, sample_lengths, batch_size=batch_size)[1]
