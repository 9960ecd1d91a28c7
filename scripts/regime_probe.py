"""Probe the reservoir regime of a variant of the reference design (docs/regime.md).

Runs :func:`hrsnn_hw.capacity.capacity_study` on the HRSNN with some shared mean parameters
changed (both arms get the change: the homogeneous twin is derived from the variant), and
prints MC, activity and the silent / saturated fractions per arm::

    python scripts/regime_probe.py N SEEDS FRAMES [knob=value ...]
    python scripts/regime_probe.py 500 1,2 1200 inh=0.5 ee=0.5 bias_i=0.0003

Knobs (factors multiply a projection's weight mean and max; STDP's w_max and learning rates
follow the E->E factor so one epoch moves weights by the same fraction): ``inh`` (inh->exc and
inh->inh factor), ``ee`` (exc->exc factor), ``rec`` (every recurrent projection), ``bias`` / ``bias_e`` / ``bias_i`` (V),
``tau_m`` (factor on both populations' mean tau_m), ``cfg.<ExperimentConfig field>``.
The default MC protocol is the quick one (K = 40, washout 30) unless ``cfg.mc_max_delay`` /
``cfg.mc_washout`` are given.
"""
import copy
import sys
import time

from hrsnn_hw.capacity import capacity_study
from hrsnn_hw.experiment import ExperimentConfig, load_design


def _scale(design: dict, names: list[str], factor: float) -> None:
    for name in names:
        weight = design["projections"][name]["weight"]
        weight["mean"] *= factor
        weight["max"] *= factor
        rule = design.get("stdp", {}).get(name)
        if rule is not None:
            rule["w_max"] *= factor
            rule["eta_plus"] *= factor
            rule["eta_minus"] *= factor


def variant(base: dict, knobs: dict[str, float]) -> dict:
    d = copy.deepcopy(base)
    for key, value in knobs.items():
        if key == "inh":
            _scale(d, ["inh->exc", "inh->inh"], value)
        elif key == "ee":
            _scale(d, ["exc->exc"], value)
        elif key == "rec":
            _scale(d, [name for name in d["projections"] if not name.startswith("input")], value)
        elif key == "bias":
            for pop in d["populations"].values():
                pop["bias"] = value
        elif key in ("bias_e", "bias_i"):
            d["populations"]["exc" if key == "bias_e" else "inh"]["bias"] = value
        elif key == "tau_m":
            for pop in d["populations"].values():
                pop["tau_m"]["mean"] *= value
        else:
            raise SystemExit(f"unknown knob {key!r}")
    return d


def main(argv: list[str]) -> None:
    n, seeds, frames = int(argv[0]), [int(s) for s in argv[1].split(",")], int(argv[2])
    knobs, cfg_kw = {}, {"mc_washout": 30, "mc_max_delay": 40}
    for item in argv[3:]:
        key, value = item.split("=")
        if key.startswith("cfg."):
            field = key[4:]
            cfg_kw[field] = int(value) if field in ("steps_per_frame", "mc_max_delay", "mc_washout") else float(value)
        else:
            knobs[key] = float(value)
    cfg = ExperimentConfig.default(epochs=0, quick=True, mc_frames=frames, **cfg_kw)
    t0 = time.time()
    result = capacity_study(variant(load_design("hrsnn"), knobs), sizes=[n], seeds=seeds, config=cfg)
    for s in result.summary():
        if s["arm"] == "het-hom":
            print(f"  het-hom {s['mc_mean']:+.2f}")
        else:
            print(f"  {s['arm']} N={n} mc={s['mc_mean']:.2f} traces={s['mc_traces_mean']:.2f} "
                  f"activity={s['activity_mean']:.4f} silent={s['silent_fraction_mean']:.2f} "
                  f"saturated={s['saturated_fraction_mean']:.2f}")
    print(f"  knobs {argv[3:]} seeds {seeds} frames {frames}: {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
