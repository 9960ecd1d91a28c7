"""The result of mapping: which core holds each neuron, and how full each core is."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import artifacts
from ..arrays import frozen_array as _frozen

PLACEMENT_KIND = "hrsnn_hw.Placement"
PLACEMENT_VERSION = 2

#: Per-core resources the mapper checks, in :attr:`UtilizationReport.resources` order.
RESOURCES = ("neurons", "synaptic_memory_bits", "input_axons", "output_axons",
             "neuron_profiles", "threshold_profiles")


@artifacts.node("hrsnn_hw.UtilizationReport")
@dataclass(frozen=True)
class UtilizationReport:
    """Used / limit per resource per core.

    Attributes
    ----------
    resources : tuple of str
        Resource names (see :data:`RESOURCES`).
    used : ndarray of int64, shape (n_cores, n_resources)
        What each core uses.
    limits : ndarray of float, shape (n_resources,)
        The profile's limit per core (``inf`` where the profile sets none).
    input_core : ndarray of bool, shape (n_cores,)
        True for cores that hold input sources (``inputs="core"``) instead of neurons.
    """

    resources: tuple[str, ...]
    used: np.ndarray
    limits: np.ndarray
    input_core: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "resources", tuple(self.resources))
        object.__setattr__(self, "used", _frozen(self.used, np.int64).reshape(-1, len(self.resources)))
        object.__setattr__(self, "limits", _frozen(self.limits, np.float64))
        object.__setattr__(self, "input_core", _frozen(self.input_core, bool))

    @property
    def n_cores(self) -> int:
        return int(self.used.shape[0])

    def fraction(self) -> np.ndarray:
        """used / limit, shape (n_cores, n_resources); 0 where unlimited."""
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(np.isfinite(self.limits), self.used / self.limits, 0.0)
        return frac

    def peak(self) -> dict[str, dict]:
        """For each resource: the fullest core, what it uses and the limit."""
        out = {}
        for r, name in enumerate(self.resources):
            col = self.used[:, r]
            core = int(np.argmax(col)) if col.size else -1
            lim = float(self.limits[r])
            out[name] = {"core": core, "used": int(col[core]) if col.size else 0,
                         "limit": lim if np.isfinite(lim) else None,
                         "fraction": float(col[core] / lim) if col.size and np.isfinite(lim) else 0.0}
        return out

    def to_dict(self) -> dict:
        return {"resources": list(self.resources), "limits": [float(x) if np.isfinite(x) else None for x in self.limits],
                "used": self.used.tolist(), "input_core": self.input_core.tolist(), "peak": self.peak()}

    def to_text(self) -> str:
        """A table: one row per core, ``used/limit`` per resource."""
        short = {"neurons": "neurons", "synaptic_memory_bits": "syn_mem_bits", "input_axons": "in_axons",
                 "output_axons": "out_axons", "neuron_profiles": "profiles", "threshold_profiles": "vth_prof"}
        heads = ["core"] + [short.get(r, r) for r in self.resources]
        rows = []
        for c in range(self.n_cores):
            cells = [f"{c}{'(in)' if self.input_core[c] else ''}"]
            for r in range(len(self.resources)):
                lim = self.limits[r]
                cells.append(f"{self.used[c, r]}/{int(lim) if np.isfinite(lim) else '-'}")
            rows.append(cells)
        widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(heads)]
        fmt = "  ".join(f"{{:>{w}}}" for w in widths)
        return "\n".join([fmt.format(*heads)] + [fmt.format(*row) for row in rows])


@artifacts.artifact(PLACEMENT_KIND, PLACEMENT_VERSION)
@dataclass(frozen=True)
class Placement:
    """Neurons (and optionally input sources) on cores, cores on tiles, chips and mesh coordinates.

    Saved and loaded with ``.save(path)`` / ``Placement.load(path)`` (:mod:`hrsnn_hw.artifacts`).

    Attributes
    ----------
    profile : str
        Name of the hardware profile mapped onto.
    strategy : str
        ``"pack_profiles"`` or ``"sequential"``.
    inputs : str
        ``"io"`` (input spikes enter the mesh at :attr:`io_xy`, no core) or ``"core"``
        (input sources occupy cores of their own, like spike generators).
    neuron_core : ndarray of int64, shape (n_neurons,)
        Core of each recurrent neuron.
    input_core : ndarray of int64, shape (n_inputs,)
        Core of each input source; -1 with ``inputs="io"``.
    core_xy : ndarray of int64, shape (n_cores, 2)
        Mesh coordinates (x east-west, y north-south) of each used core; chips sit side by
        side along x. All zero when the profile has no mesh.
    core_tile, core_chip : ndarray of int64, shape (n_cores,)
        Global tile and chip index of each used core.
    io_xy : tuple of int
        Where input spikes enter the mesh with ``inputs="io"``.
    cores_per_tile, cores_per_chip : int
        From the profile (1 per tile when it does not say).
    has_mesh : bool
        False when the profile gives no mesh (hops are then not counted).
    utilization : UtilizationReport
        Used / limit per resource per core.
    notes : tuple of str
        Assumptions the mapping made.
    """

    profile: str
    strategy: str
    inputs: str
    neuron_core: np.ndarray
    input_core: np.ndarray
    core_xy: np.ndarray
    core_tile: np.ndarray
    core_chip: np.ndarray
    io_xy: tuple[int, int]
    cores_per_tile: int
    cores_per_chip: int
    has_mesh: bool
    utilization: UtilizationReport
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        object.__setattr__(self, "neuron_core", _frozen(self.neuron_core, np.int64))
        object.__setattr__(self, "input_core", _frozen(self.input_core, np.int64))
        object.__setattr__(self, "core_xy", _frozen(self.core_xy, np.int64).reshape(-1, 2))
        object.__setattr__(self, "core_tile", _frozen(self.core_tile, np.int64))
        object.__setattr__(self, "core_chip", _frozen(self.core_chip, np.int64))
        object.__setattr__(self, "io_xy", (int(self.io_xy[0]), int(self.io_xy[1])))
        object.__setattr__(self, "notes", tuple(self.notes))

    @property
    def n_neurons(self) -> int:
        return int(self.neuron_core.size)

    @property
    def n_inputs(self) -> int:
        return int(self.input_core.size)

    @property
    def n_cores(self) -> int:
        """Cores used (neuron cores and input cores)."""
        return int(self.core_xy.shape[0])

    @property
    def n_tiles(self) -> int:
        """Tiles holding at least one used core (what the barrier synchronises)."""
        return int(np.unique(self.core_tile).size)

    @property
    def n_neuron_cores(self) -> int:
        """Cores holding neurons (input cores excluded)."""
        return int(self.utilization.n_cores - self.utilization.input_core.sum())

    @property
    def n_chips(self) -> int:
        return int(self.core_chip.max()) + 1 if self.core_chip.size else 0

    def source_core(self) -> np.ndarray:
        """Core of every source (neurons then inputs), -1 for inputs from the I/O port."""
        return np.concatenate([self.neuron_core, self.input_core])

    def source_xy(self) -> np.ndarray:
        """Mesh coordinates of every source (neurons then inputs), shape (N + M, 2)."""
        core = self.source_core()
        xy = np.empty((core.size, 2), dtype=np.int64)
        on_core = core >= 0
        xy[on_core] = self.core_xy[core[on_core]]
        xy[~on_core] = self.io_xy
        return xy

    def summary(self) -> dict:
        return {"profile": self.profile, "strategy": self.strategy, "inputs": self.inputs,
                "n_neurons": self.n_neurons, "n_inputs": self.n_inputs, "n_cores": self.n_cores,
                "n_tiles": self.n_tiles, "n_chips": self.n_chips,
                "peak": self.utilization.peak(), "notes": list(self.notes)}
