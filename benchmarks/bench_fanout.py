"""Benchmark: one fan-out workload in this process, in local processes and on a Dask cluster; prints one JSON object.

The workload is the capacity study (``hrsnn_hw.capacity.capacity_study``: sampled networks of
``--sizes`` x {hom, het} x ``--seeds``, memory capacity measured with Brian2), run side by side
through the three executors of :mod:`hrsnn_hw.executor`:

* ``inline``: every network in this process (``workers=1``);
* ``local_processes``: ``--workers`` spawned processes;
* ``dask``: a ``dask.distributed.LocalCluster`` of ``--workers`` processes with one thread each,
  reached through its address like a remote cluster (its start-up timed apart).

It checks that the three give the same rows, bit for bit (wall times aside), and reports the
ratios. On a machine shared with other work the times are noisy; the identity is not.

    .venv/bin/python benchmarks/bench_fanout.py [--sizes 100,200] [--seeds 2] [--workers 2] [--frames 500]
"""
from __future__ import annotations

import argparse
import json
import os
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100,200")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--frames", type=int, default=500)
    ap.add_argument("--max-delay", type=int, default=15)
    args = ap.parse_args()

    from distributed import LocalCluster

    from hrsnn_hw.capacity import capacity_study
    from hrsnn_hw.executor import DaskExecutor, make_executor
    from hrsnn_hw.experiment import ExperimentConfig

    sizes = tuple(int(s) for s in args.sizes.split(","))
    seeds = tuple(range(args.seeds))
    config = ExperimentConfig.default(quick=True, epochs=0, mc_frames=args.frames, mc_washout=30,
                                      mc_max_delay=args.max_delay)

    def run(executor) -> tuple[float, list]:
        t0 = time.perf_counter()
        result = capacity_study("hrsnn", sizes=sizes, seeds=seeds, config=config, executor=executor)
        wall = time.perf_counter() - t0
        rows = [{k: v for k, v in r.items() if k != "wall_time_s"} for r in result.rows]
        return wall, [rows, result.per_delay.tolist(), result.per_delay_traces.tolist()]

    inline_s, inline = run(make_executor(1))
    local_s, local = run(make_executor(args.workers))
    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                           silence_logs=40)
    try:
        with DaskExecutor(cluster.scheduler_address) as dask:
            startup_s = time.perf_counter() - t0
            dask_s, on_dask = run(dask)
    finally:
        cluster.close()
    print(json.dumps({
        "workload": f"capacity_study sizes={list(sizes)} arms=2 seeds={len(seeds)} frames={args.frames}",
        "jobs": len(sizes) * 2 * len(seeds), "workers": args.workers, "cpus": os.cpu_count(),
        "inline_s": round(inline_s, 2), "local_processes_s": round(local_s, 2), "dask_s": round(dask_s, 2),
        "dask_cluster_startup_s": round(startup_s, 2),
        "speedup_local_processes": round(inline_s / local_s, 2), "speedup_dask": round(inline_s / dask_s, 2),
        "identical_local_processes": local == inline, "identical_dask": on_dask == inline,
    }))


if __name__ == "__main__":
    main()
