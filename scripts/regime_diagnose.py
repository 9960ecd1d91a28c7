"""Where is the memory? Per-population firing and MC read from spike counts vs the membrane.

Simulates one arm of (a variant of) the reference design under the MC drive on the Brian2
reference with the membrane recorded, and prints per-population silent fraction, rate and mean
membrane (units of v_th), and the chance-corrected MC of frame spike counts, of the frame-end
membrane v, and of v with the synaptic current u (docs/regime.md)::

    python scripts/regime_diagnose.py N hom|het [knob=value ...]    # knobs as regime_probe.py
    python scripts/regime_diagnose.py 500 hom inh=0.25

Quick protocol: 1,200 frames, K = 40, washout 30, seed 0.
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from regime_probe import variant  # noqa: E402

from hrsnn_hw.experiment import ExperimentConfig, frame_counts, load_design, mc_drive, mc_drive_of  # noqa: E402
from hrsnn_hw.refsim.simulate import simulate  # noqa: E402
from hrsnn_hw.spec import build_spec, make_arm, scale_design  # noqa: E402
from hrsnn_hw.tasks.mc_drive import drive_network  # noqa: E402
from hrsnn_hw.tasks.memory_capacity import memory_capacity  # noqa: E402


def main(argv: list[str]) -> None:
    n, het = int(argv[0]), argv[1] == "het"
    knobs = {k: float(v) for k, v in (item.split("=") for item in argv[2:])}
    design = variant(load_design("hrsnn"), knobs)
    cfg = ExperimentConfig.default(epochs=0, quick=True, mc_frames=1200, mc_washout=30, mc_max_delay=40)
    spec = build_spec(make_arm(scale_design(design, n), hetero_neurons=het, hetero_stdp=het, name="probe"), seed=0)
    u, raster, lengths = mc_drive(spec.n_input, cfg, 0)
    record = simulate(drive_network(spec, mc_drive_of(cfg), seed=0), raster, lengths, record_states=True)
    spf = cfg.steps_per_frame
    counts = frame_counts(record, spf)
    frames = counts.shape[0]
    v = record.v[0, spf - 1::spf][:frames]
    cur = record.u[0, spf - 1::spf][:frames]
    v_th = spec.neuron_param("v_th")
    start = 0
    for pop in spec.populations:
        sl = slice(start, start + pop.n)
        start += pop.n
        total = counts[:, sl].sum(axis=0)
        print(f"{pop.name}: silent {np.mean(total == 0):.2f}, rate {total.mean() / (frames * spf):.4f} "
              f"spikes/neuron/step, mean v {np.mean(v[:, sl] / v_th[sl]):.2f} v_th, "
              f"s.d. of v over time {np.mean(v[:, sl].std(axis=0) / v_th[sl]):.2f} v_th")
    kw = dict(max_delay=cfg.mc_max_delay, washout=cfg.mc_washout, seed=0, n_shuffles=1)
    for name, states in (("counts", counts), ("v", v), ("v and u", np.hstack([v, cur]))):
        result = memory_capacity(states, u, **kw)
        print(f"MC from {name}: {result.mc:.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
