"""Regenerate the ablation arms from hrsnn_hw/designs/hrsnn.json (run: python scripts/make_arms.py).

The arms differ from the HRSNN only where they are homogeneous (distributions replaced by
their means); tests/test_spec.py checks the files agree with this script.
"""
from hrsnn_hw.io import read_json, write_json_atomic
from hrsnn_hw.spec import make_arm

from hrsnn_hw.reference import REFERENCE_DIR as HERE
ARMS = {
    "mrsnn": (False, False, "Homogeneous twin: every neuron and synapse at the HRSNN's mean values."),
    "het_neurons_hom_stdp": (True, False, "Ablation arm: heterogeneous neurons, homogeneous STDP."),
    "hom_neurons_het_stdp": (False, True, "Ablation arm: homogeneous neurons, heterogeneous STDP."),
}


def arms_from(base: dict) -> dict[str, dict]:
    out = {}
    for name, (het_n, het_s, text) in ARMS.items():
        arm = make_arm(base, hetero_neurons=het_n, hetero_stdp=het_s, name=name)
        arm["description"] = text
        out[name] = arm
    return out


if __name__ == "__main__":
    base = read_json(HERE / "hrsnn.json")
    for name, arm in arms_from(base).items():
        write_json_atomic(HERE / f"{name}.json", arm)
        print("wrote", HERE / f"{name}.json")
