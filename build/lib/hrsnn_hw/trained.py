"""The output of unsupervised training: the spec with its learned (frozen) weights."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .io import PathLike, read_json, write_json_atomic
from .errors import ArtifactError
from .spec import NetworkSpec, build_spec, spec_to_dict

TRAINED_KIND = "hrsnn_hw.TrainedNetwork"
TRAINED_VERSION = 1


@dataclass(frozen=True)
class TrainedNetwork:
    """A network after STDP training, weights frozen.

    Attributes
    ----------
    spec : NetworkSpec
        The design with the learned weights in its projections.
    initial : NetworkSpec
        The spec before training (same structure, initial weights).
    training : dict
        What training did: ``epochs``, ``n_samples``, per-epoch weight statistics and
        spiking activity, wall time, simulator target.
    provenance : dict
        Seed, task, encoder, package versions.
    """

    spec: NetworkSpec
    initial: NetworkSpec
    training: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)

    def save(self, path: PathLike) -> None:
        """Write as versioned JSON, atomically."""
        write_json_atomic(path, {"format": TRAINED_KIND, "version": TRAINED_VERSION,
                                 "spec": spec_to_dict(self.spec), "initial": spec_to_dict(self.initial),
                                 "training": self.training, "provenance": self.provenance}, indent=None)

    @classmethod
    def load(cls, path: PathLike) -> "TrainedNetwork":
        data: dict[str, Any] = read_json(path)
        if data.get("format") != TRAINED_KIND:
            raise ArtifactError("wrong artifact kind", parameter="format", value=data.get("format"),
                                allowed=TRAINED_KIND)
        if data.get("version") != TRAINED_VERSION:
            raise ArtifactError("unsupported format version", parameter="version", value=data.get("version"),
                                allowed=str(TRAINED_VERSION))
        return cls(spec=build_spec(data["spec"]), initial=build_spec(data["initial"]),
                   training=data.get("training", {}), provenance=data.get("provenance", {}))
