"""Memory a run will need, estimated from the design and data sizes before anything is allocated.

The estimate is a sum of named terms (network, data, records), each an explicit formula of
the numbers in the design file, the data file's headers and the experiment configuration,
so that a design of 10^9 neurons or a file of 10^6 channels is refused in milliseconds,
with a message naming the estimate, the machine's memory and the override
(``--max-memory``), instead of allocating for minutes and dying with ``MemoryError``.

It is an upper-end estimate of the peak, not a measurement: the per-element byte counts
below follow the arrays the code holds today (connectivity is drawn and held in O(synapses),
records are dense (samples x steps x neurons) arrays) and should be revised with the data
structures they describe.
"""
from __future__ import annotations

import math
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from .errors import ResourceError

#: Bytes per synapse across the stages (indices, float weight, STDP parameters and traces,
#: Brian2's per-synapse state, the quantized CSR copy, the golden model's synapse set).
BYTES_PER_SYNAPSE = 160
#: Bytes per neuron of state and parameters across the stages.
BYTES_PER_NEURON = 1024
#: Encoded channels per data channel, at most (thermometer: 12 levels).
MAX_CHANNELS_PER_INPUT = 12
#: Copies of the raw data held while loading and normalising.
DATA_COPIES = 3
#: Bytes per recorded neuron-step: spikes (1) and, where states are recorded, u and v (8 each).
BYTES_SPIKES, BYTES_STATES = 1, 17

# Sizes of the bundled tasks: (train samples, test samples, frames, channels); quick subsets.
BUILTIN_TASKS: dict[str, tuple[int, int, int, int]] = {
    "japanese_vowels": (270, 370, 29, 12), "basic_motions": (40, 40, 100, 6), "gunpoint": (50, 150, 150, 1),
    "unit_test": (20, 22, 24, 1), "mackey_glass": (1, 1, 3000, 1), "lorenz": (1, 1, 3000, 3),
}


def _gib(n: float) -> str:
    return f"{n / 2**30:.3g} GiB" if n >= 2**28 else f"{n / 2**20:.3g} MiB"


@dataclass(frozen=True)
class MemoryEstimate:
    """Estimated peak memory of a run, by term (bytes)."""

    terms: Mapping[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return float(sum(self.terms.values()))

    def __add__(self, other: "MemoryEstimate") -> "MemoryEstimate":
        terms = dict(self.terms)
        for k, v in other.terms.items():
            terms[k] = terms.get(k, 0.0) + v
        return MemoryEstimate(terms)

    def text(self) -> str:
        parts = ", ".join(f"{k} {_gib(v)}" for k, v in self.terms.items() if v)
        return f"{_gib(self.total)} ({parts})"

    def as_dict(self) -> dict:
        return {"total_bytes": self.total, **{f"{k}_bytes": float(v) for k, v in self.terms.items()}}


def _number(value: Any) -> float:
    """The size-relevant number of a design entry (a number, or a distribution's mean)."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, Mapping):
        for key in ("mean", "value", "high", "max"):
            if key in value:
                return _number(value[key])
    return 0.0


def network_size(design: Mapping[str, Any], n_input: int | None = None) -> tuple[float, float]:
    """(neurons, expected synapses) of a design, read without sampling it."""
    pops = design.get("populations") or {}
    sizes: dict[str, float] = {}
    if isinstance(pops, Mapping):
        for name, tab in pops.items():
            sizes[str(name)] = max(_number(tab.get("n", 0)) if isinstance(tab, Mapping) else 0.0, 0.0)
    sizes["input"] = max(float(n_input if n_input is not None else _number(design.get("n_input", 0))), 0.0)
    synapses = 0.0
    projs = design.get("projections") or {}
    if isinstance(projs, Mapping):
        for name, tab in projs.items():
            pre, _, post = str(name).partition("->")
            n_pre, n_post = sizes.get(pre.strip(), 0.0), sizes.get(post.strip(), 0.0)
            if isinstance(tab, Mapping) and isinstance(tab.get("synapses"), Mapping):
                w = tab["synapses"].get("weight")
                synapses += float(len(w)) if isinstance(w, list) else 0.0
            else:
                p = min(max(_number(tab.get("p", 0.0)) if isinstance(tab, Mapping) else 0.0, 0.0), 1.0)
                synapses += p * n_pre * n_post
    neurons = sum(v for k, v in sizes.items() if k != "input")
    return neurons, synapses


def network_estimate(design: Mapping[str, Any], n_input: int | None = None) -> MemoryEstimate:
    """Memory of holding one network through the stages."""
    neurons, synapses = network_size(design, n_input)
    return MemoryEstimate({"network": neurons * BYTES_PER_NEURON + synapses * BYTES_PER_SYNAPSE})


def _npz_shapes(path: Path) -> dict[str, tuple[tuple[int, ...], int]]:
    """Shapes and item sizes of the arrays in an ``.npz``, read from the headers only."""
    out = {}
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if not info.filename.endswith(".npy"):
                    continue
                with zf.open(info) as fh:
                    version = np.lib.format.read_magic(fh)
                    read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                            else np.lib.format.read_array_header_2_0)
                    shape, _, dtype = read(fh)  # the header only, not the data
                out[info.filename[:-4]] = (tuple(int(s) for s in shape), int(dtype.itemsize))
    except Exception:  # a damaged file: the loader reports it properly
        return {}
    return out


def task_size(task: str, quick: bool = False) -> tuple[float, float, float, float]:
    """(train samples, test samples, frames, channels) of a task, without loading its data."""
    if task in BUILTIN_TASKS:
        n_tr, n_te, frames, ch = BUILTIN_TASKS[task]
        if quick and task in ("japanese_vowels", "basic_motions", "gunpoint", "unit_test"):
            n_tr, n_te = min(n_tr, 60), min(n_te, 60)
        return float(n_tr), float(n_te), float(frames), float(ch)
    path = Path(task)
    if path.suffix.lower() == ".npz" and path.is_file():
        shapes = _npz_shapes(path)
        x_tr, x_te = shapes.get("x_train", ((0,), 8))[0], shapes.get("x_test", ((0,), 8))[0]
        frames = float(max(x_tr[1] if len(x_tr) > 1 else 1, x_te[1] if len(x_te) > 1 else 1))
        ch = float(x_tr[2] if len(x_tr) > 2 else 1)
        return float(x_tr[0] if x_tr else 0), float(x_te[0] if x_te else 0), frames, ch
    if path.suffix.lower() == ".csv" and path.is_file():
        # a number in a CSV takes at least 2 bytes ("0,"): at most size/2 values
        values = path.stat().st_size / 2.0
        return 1.0, 1.0, values, 1.0
    return 0.0, 0.0, 0.0, 0.0


def encoded_width(task: str, quick: bool = False) -> int:
    """Input channels of the network for ``task`` under the automatic encoding."""
    from .encoding import n_output_channels
    from .experiment import AUTO_ENCODING
    channels = int(task_size(task, quick)[3])
    kind = "prediction" if task in ("mackey_glass", "lorenz") else "classification"
    method, opts = AUTO_ENCODING[kind]
    try:
        return int(n_output_channels(method, max(channels, 1), **opts))
    except Exception:  # an encoder option this estimate does not know: the upper bound
        return max(channels, 1) * MAX_CHANNELS_PER_INPUT


def data_estimate(task: str, *, quick: bool = False, steps_per_frame: int = 5,
                  n_encoded: int | None = None) -> MemoryEstimate:
    """Memory of the task's data and its encoded spike rasters."""
    n_tr, n_te, frames, ch = task_size(task, quick)
    values = (n_tr + n_te) * frames * ch
    width = n_encoded if n_encoded is not None else ch * MAX_CHANNELS_PER_INPUT
    raster = (n_tr + n_te) * frames * steps_per_frame * width
    return MemoryEstimate({"data": values * 8 * DATA_COPIES + raster})


def records_estimate(neurons: float, task: str, *, quick: bool = False, steps_per_frame: int = 5,
                     mc_frames: int = 3000, lava_samples: int = 3, designs: int = 1) -> MemoryEstimate:
    """Memory of the spike records a run keeps (test split, MC drive, Lava and golden states)."""
    _, n_te, frames, _ = task_size(task, quick)
    steps = frames * steps_per_frame
    per_design = neurons * (n_te * steps * BYTES_SPIKES * 2 + mc_frames * steps_per_frame * BYTES_SPIKES
                            + 2 * lava_samples * steps * BYTES_STATES)
    return MemoryEstimate({"records": per_design * designs})


def machine_memory() -> tuple[float, float]:
    """(available, total) bytes of this machine (``/proc/meminfo``; sysconf elsewhere)."""
    try:
        info = {}
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                key, _, rest = line.partition(":")
                info[key] = float(rest.split()[0]) * 1024
        return info.get("MemAvailable", info["MemTotal"]), info["MemTotal"]
    except (OSError, KeyError, ValueError, IndexError):
        total = float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
        return total, total


def check_memory(estimate: MemoryEstimate, limit: float | None = None, *, what: str = "this run") -> None:
    """Refuse ``estimate`` above ``limit`` bytes (None: the machine's available memory; inf: off).

    Raises
    ------
    ResourceError
        Naming the estimate by term, the machine's memory and the override.
    """
    available, total = machine_memory()
    cap = available if limit is None else float(limit)
    if math.isfinite(cap) and estimate.total > cap:
        raise ResourceError(f"{what} would need about {estimate.text()} of memory",
                            parameter="--max-memory", value=_gib(estimate.total),
                            allowed=(f"<= {_gib(cap)} (" + ("set by --max-memory; " if limit is not None else "")
                                     + f"this machine: {_gib(available)} available of {_gib(total)})"),
                            hint="use a smaller design or data set, or raise the limit with --max-memory SIZE "
                                 "(e.g. --max-memory 64GiB, or --max-memory off) if you know better")
