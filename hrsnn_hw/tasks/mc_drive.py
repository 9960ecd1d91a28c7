"""The memory-capacity drive: a fixed, task-independent current into the neurons.

Memory capacity measures the network, not the task's encoder: the network is driven by an
i.i.d. uniform series u(t), one value per frame, held for the whole frame and injected as a
current through input weights well below threshold, with a constant background current. The
drive replaces the task's input projections (:func:`drive_network`), so its width and weights
do not depend on the task and MC is comparable across tasks.

Form (the same for the float reference and the fixed-point hardware): three graded input
channels (Loihi 2 graded spikes, integer payloads of ``payload_bits`` bits, L = 2**bits - 1):

* channel 0 carries ``p(t) = round(u(t) * L)``, channel 1 its mirror ``L - p(t)``: a random half
  of the neurons ("on" cells) is driven by u, the other half ("off" cells) by 1 - u, so the
  drive excites and relieves without negative weights (Dale's law holds for the input too);
* channel 2 carries the constant payload L: the background current.

Scales are stated relative to each neuron's threshold: a payload held long enough moves the
steady-state membrane (``u + bias`` in the spec's units) of neuron i by ``scale * v_th_i`` per
unit of u, with ``scale = drive * w_i`` and ``w_i ~ U(0, 1)`` drawn from the protocol's own random
stream (keyed by the network seed, independent of the task and of every spec field); the
background adds ``background * v_th_i``. A payload p of weight w adds ``p * w`` to the synaptic
current ``u`` every step, whose steady state is ``p * w / (1 - exp(-dt / tau_syn))``; the weights
are set so. The quantizer treats the drive as an ordinary (graded) input projection.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import DataError
from ..spec import INPUT, NetworkSpec, Projection, field_rng

__all__ = ["McDrive", "drive_network", "drive_payloads", "N_DRIVE_CHANNELS"]

#: Channels of the drive: u, its mirror 1 - u, and the constant background.
N_DRIVE_CHANNELS = 3


@dataclass(frozen=True)
class McDrive:
    """The stated scales of the memory-capacity current drive.

    Attributes
    ----------
    drive : float
        Largest steady-state membrane swing of the drive, as a fraction of each neuron's
        threshold (a neuron's own swing is ``drive * w_i``, ``w_i ~ U(0, 1)``).
    background : float
        Constant background drive, as a fraction of each neuron's threshold (added to the
        design's own bias).
    payload_bits : int
        Bits of a graded payload (u is quantized to ``2**bits - 1`` levels; the float reference
        and the fixed-point model see the same payloads).
    """

    drive: float = 0.5
    background: float = 0.4
    payload_bits: int = 8

    def __post_init__(self) -> None:
        for name, lo, hi in (("drive", 0.0, 10.0), ("background", 0.0, 10.0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
                raise DataError(f"MC drive {name} out of range", parameter=f"mc_{name}", value=value,
                                allowed=f"[{lo}, {hi}] (fraction of the threshold)",
                                hint="well below 1 keeps the drive sub-threshold")
        bits = self.payload_bits
        if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not 1 <= bits <= 16:
            raise DataError("payload bits out of range", parameter="mc_payload_bits", value=bits,
                            allowed="integers 1..16", hint="Loihi 2 graded spikes carry up to 24 bits; 8 is plenty")

    @property
    def levels(self) -> int:
        """Largest payload L = 2**payload_bits - 1."""
        return (1 << int(self.payload_bits)) - 1


def drive_payloads(u: Any, drive: McDrive, steps_per_frame: int) -> np.ndarray:
    """Integer payload raster of the drive, shape (1, n_frames * steps_per_frame, 3), int64.

    ``u`` (values in [0, 1]) is held for ``steps_per_frame`` steps per frame.
    """
    u = np.asarray(u, dtype=np.float64).ravel()
    if u.size == 0 or not np.all(np.isfinite(u)) or u.min() < 0 or u.max() > 1:
        raise DataError("drive input must be finite values in [0, 1]", parameter="u",
                        value=f"range [{u.min() if u.size else None}, {u.max() if u.size else None}]",
                        allowed="[0, 1]", hint="use tasks.mc_input(n_frames, seed)")
    if isinstance(steps_per_frame, bool) or not isinstance(steps_per_frame, (int, np.integer)) or steps_per_frame < 1:
        raise DataError("steps per frame must be a positive integer", parameter="steps_per_frame",
                        value=steps_per_frame, allowed=">= 1")
    level = drive.levels
    p = np.rint(u * level).astype(np.int64)
    frames = np.stack([p, level - p, np.full_like(p, level)], axis=1)
    return np.repeat(frames, int(steps_per_frame), axis=0)[None]


def drive_network(spec: NetworkSpec, drive: McDrive, seed: int | None = None) -> NetworkSpec:
    """``spec`` with its input projections replaced by the memory-capacity drive.

    Neurons, recurrent projections and STDP rules of recurrent projections are kept as they
    are (a trained network stays trained); the input becomes the three graded drive channels
    (:data:`N_DRIVE_CHANNELS`). Drive weights come from the protocol's own random stream,
    keyed by ``seed`` (default: the spec's seed).

    Returns
    -------
    NetworkSpec
        Named ``<name>+mc-drive``, ``n_input = 3``; projections ``input-><population>``.
    """
    seed = spec.seed if seed is None else int(seed)
    rng = field_rng(seed, "mc_drive.weights")
    level = float(drive.levels)
    # Per-step current that holds the membrane at +1 threshold per unit payload-fraction.
    gain = spec.neuron_param("v_th") * -np.expm1(-spec.dt / spec.neuron_param("tau_syn"))
    n = spec.n_neurons
    strength = rng.random(n)
    on = rng.random(n) < 0.5
    w_on = drive.drive * strength * gain / level
    w_bg = drive.background * gain / level
    projections = [p for p in spec.projections if p.pre != INPUT]
    start = 0
    for pop in spec.populations:
        idx = np.arange(start, start + pop.n)
        start += pop.n
        local = np.arange(pop.n)
        # Two synapses per neuron, already in (post, pre) order: its u or 1 - u channel, then background.
        pre_a = np.stack([np.where(on[idx], 0, 1), np.full(pop.n, 2)], axis=1).ravel()
        post_a = np.repeat(local, 2)
        w_a = np.stack([w_on[idx], w_bg[idx]], axis=1).ravel()
        keep = w_a > 0
        order = np.arange(int(keep.sum()))
        projections.append(Projection(name=f"{INPUT}->{pop.name}", pre=INPUT, post=pop.name, probability=1.0,
                                      weight_scale=float(np.mean(w_a[keep])) if keep.any() else 0.0,
                                      pre_index=pre_a[keep][order], post_index=post_a[keep][order],
                                      weight=w_a[keep][order]))
    stdp = tuple(r for r in spec.stdp if spec.projection(r.projection).pre != INPUT)
    design = {"mc_drive": dataclasses.asdict(drive), "mc_drive_seed": seed, "network": spec.name}
    return dataclasses.replace(spec, name=f"{spec.name}+mc-drive", n_input=N_DRIVE_CHANNELS,
                               projections=tuple(projections), stdp=stdp, design=design)
