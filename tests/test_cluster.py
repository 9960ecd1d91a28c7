"""Fan-out on a Dask cluster: the same numbers as local processes, clear errors, nothing left behind.

A ``dask.distributed.LocalCluster`` (two worker processes, one thread each) stands in for
``dask scheduler`` + ``dask worker`` on other machines; its address goes through the same
``--cluster`` option and :func:`hrsnn_hw.executor.make_executor` a real cluster's would.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
from distributed import LocalCluster

from hrsnn_hw.ablation import run_ablation
from hrsnn_hw.errors import BackendError, DataError, HrsnnError
from hrsnn_hw.evaluation import EvalJob, evaluate_many
from hrsnn_hw.executor import DaskExecutor, LocalProcessExecutor, make_executor
from hrsnn_hw.experiment import ExperimentConfig
from hrsnn_hw.quantize import sweep
from hrsnn_hw.reference import REFERENCE_DIR
from hrsnn_hw.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
UNREACHABLE = "tcp://127.0.0.1:9"  # the discard port: nothing listens there on a test machine


def _start_cluster() -> tuple[LocalCluster, list[int]]:
    """A local cluster and the pids of its worker processes (and their children)."""
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                           silence_logs=40)
    with DaskExecutor(cluster.scheduler_address) as dask:
        workers = list(dask.client.run(os.getpid).values())
    pids = list(workers)
    for pid in workers:
        pids += [c.pid for c in psutil.Process(pid).children(recursive=True)]
    return cluster, pids


def _gone(pids: list[int], timeout: float = 20.0) -> list[int]:
    """The pids still alive (zombies count as gone) after waiting up to ``timeout``."""
    deadline = time.monotonic() + timeout
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
        if alive:
            time.sleep(0.2)
    return alive


@pytest.fixture(scope="module")
def cluster():
    cl, pids = _start_cluster()
    try:
        yield cl
    finally:
        cl.close()
    assert len(pids) >= 2 and not _gone(pids), "the cluster's worker processes outlived it"


def square_or_fail(design, task, *, seed):
    if seed == 3:
        raise ValueError("seed 3 fails")
    return {"value": float(np.sqrt(seed + 0.5)) ** 3, "pid": os.getpid()}


def test_the_cluster_executor_gives_the_local_processes_outcomes(cluster):
    jobs = [EvalJob(label=f"j{s}", design={}, task="t", seed=s) for s in range(6)]
    with make_executor(address=cluster.scheduler_address) as dask:
        assert isinstance(dask, DaskExecutor) and dask.workers == 2
        on_cluster = evaluate_many(jobs, square_or_fail, executor=dask, progress=lambda d, t: None)
        worker_pids = set(dask.client.run(os.getpid).values())
    local = evaluate_many(jobs, square_or_fail, executor=LocalProcessExecutor(2))
    assert [o.job.seed for o in on_cluster] == list(range(6))
    assert [o.error for o in on_cluster] == [o.error for o in local] == [None] * 3 + ["ValueError: seed 3 fails"] + [None] * 2
    assert [o.metrics["value"] for o in on_cluster if o.ok] == [o.metrics["value"] for o in local if o.ok]
    assert {o.metrics["pid"] for o in on_cluster if o.ok} <= worker_pids and os.getpid() not in worker_pids


def raise_data_error(x):
    if x == 2:
        raise DataError("bad value", parameter="x", value=x)
    if x == 3:
        raise ZeroDivisionError("division by zero")
    return x


def test_a_failing_job_comes_back_as_a_toolkit_error_naming_the_job(cluster):
    with DaskExecutor(cluster.scheduler_address) as dask:
        with pytest.raises(DataError) as info:  # an HrsnnError keeps its class (and exit code)
            list(dask.map_unordered(raise_data_error, [(2,)], labels=["setting two"]))
        assert "job 0 (setting two)" in str(info.value) and info.value.parameter == "x"
        with pytest.raises(BackendError) as info:
            list(dask.map_unordered(raise_data_error, [(3,)]))
        assert "ZeroDivisionError" in str(info.value) and "job 0" in str(info.value)
        # the connection survives a failed job
        assert sorted(dask.map_unordered(raise_data_error, [(0,), (1,)])) == [(0, 0), (1, 1)]


def test_the_ablation_on_the_cluster_equals_local_processes(cluster):
    config = ExperimentConfig.default(quick=True)
    kw = dict(config=config, seeds=range(6), evaluator="test_ablation:fake_evaluator", references=())
    local = run_ablation("hrsnn", workers=2, **kw)
    with make_executor(address=cluster.scheduler_address) as dask:
        done = []
        remote = run_ablation("hrsnn", executor=dask, progress=lambda d, t: done.append(d), **kw)
    assert done == list(range(1, 4 * 6 + 1))  # progress reported job by job
    assert remote.seeds == local.seeds == (0, 1, 2, 3, 5)  # seed 4 fails in one arm, on both
    assert remote.runs == local.runs and remote.failed == local.failed
    assert json.dumps(remote.as_dict(), sort_keys=True) == json.dumps(local.as_dict(), sort_keys=True)


def tau_error(qnet, *, tau):
    """A sweep evaluation that travels to the workers (a module-level function in a partial)."""
    eff = -qnet.dt / np.log((4096 - qnet.dv) / 4096)
    return {"mean_tau_err": float(np.mean(np.abs(eff - tau) / tau))}


def test_the_quantization_sweep_on_the_cluster_equals_local_processes(cluster):
    import functools
    spec = load_spec(REFERENCE_DIR / "hrsnn.json")
    kw = dict(ks=[1, 4, None], weight_bits=[2, 8],
              evaluate=functools.partial(tau_error, tau=spec.neuron_param("tau_m")))
    inline = sweep(spec, "loihi2", **kw)
    local = sweep(spec, "loihi2", executor=LocalProcessExecutor(2), **kw)
    with make_executor(address=cluster.scheduler_address) as dask:
        remote = sweep(spec, "loihi2", executor=dask, **kw)
    assert len(remote.rows) == 6 and all(np.isfinite(r["mean_tau_err"]) for r in remote.rows)
    assert remote.to_dict() == local.to_dict() == inline.to_dict()


@pytest.mark.slow
def test_optimize_runs_its_trials_on_the_cluster_and_re_evaluates_there(cluster, tmp_path):
    common = ["--quick", "--evaluator", "hrsnn_hw.optimize.synthetic:evaluate", "--budget", "4",
              "--reeval-seeds", "2", "--no-figures", "--no-tuned-mrsnn", "--json"]
    remote = _cli("optimize", *common, "--cluster", cluster.scheduler_address, "--out", str(tmp_path / "c"))
    assert remote.returncode == 0, remote.stderr
    local = _cli("optimize", *common, "--workers", "2", "--out", str(tmp_path / "l"))
    assert local.returncode == 0, local.stderr
    a, b = json.loads(remote.stdout), json.loads(local.stdout)
    assert a["trials"]["complete"] == 4
    # the reference MRSNN on the search seeds and the references on the fresh seeds do not
    # depend on the search's order: the same numbers on the cluster as in local processes
    assert _no_times(a["reference"]) == _no_times(b["reference"])
    for label in ("mrsnn", "reference_hrsnn"):
        assert _no_times(a["reeval"]["designs"][label]) == _no_times(b["reeval"]["designs"][label])
    import optuna
    from hrsnn_hw.optimize import open_storage
    trials = optuna.load_study(study_name="hrsnn", storage=open_storage(tmp_path / "c" / "study.db")).get_trials()
    with DaskExecutor(cluster.scheduler_address) as dask:
        worker_pids = set(dask.client.run(os.getpid).values())
    ran = {t.user_attrs["worker"]["pid"] for t in trials if t.state.name == "COMPLETE"}
    assert ran and ran <= worker_pids  # every trial ran on the cluster's workers


@pytest.mark.slow
def test_stopping_optimize_stops_its_optuna_workers_on_the_cluster(cluster, tmp_path):
    """SIGTERM to `optimize --cluster`: exit 143, and the cluster's workers end after their
    running trial (no trial left RUNNING, none started afterwards, the workers idle)."""
    import signal

    import optuna
    from hrsnn_hw.optimize import open_storage
    out = tmp_path / "opt"
    proc = subprocess.Popen([sys.executable, "-m", "hrsnn_hw", "optimize", "--quick", "--evaluator",
                             "hrsnn_hw.optimize.synthetic:evaluate_slow", "--budget", "500", "--sampler", "random",
                             "--no-tuned-mrsnn", "--no-figures", "--quiet", "--out", str(out),
                             "--cluster", cluster.scheduler_address], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def trials():
        try:
            return optuna.load_study(study_name="hrsnn", storage=open_storage(out / "study.db")).get_trials()
        except Exception:
            return []
    try:
        deadline = time.monotonic() + 300
        while sum(t.state.name == "COMPLETE" for t in trials()) < 3 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert proc.poll() is None, proc.stderr.read()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 143
    finally:
        proc.kill()
        proc.communicate()
    time.sleep(3)  # a running trial takes 0.3 s
    before = trials()
    time.sleep(2)
    after = trials()
    assert len(after) == len(before) < 500 and not [t for t in after if t.state.name == "RUNNING"]
    with DaskExecutor(cluster.scheduler_address) as dask:
        assert not any(dask.client.processing().values())  # nothing left running on the workers


def _no_times(doc):
    """``doc`` without its wall-clock times (the one thing that differs from run to run)."""
    if isinstance(doc, dict):
        return {k: _no_times(v) for k, v in doc.items() if "wall_time" not in k}
    if isinstance(doc, list):
        return [_no_times(v) for v in doc]
    return doc


def _cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "hrsnn_hw", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout, env=env)


@pytest.mark.parametrize("command", [
    ("capacity", "--sizes", "40", "--seeds", "1"),
    ("ablation", "--quick", "--seeds", "3"),
    ("sweep", "--quick"),
    ("optimize", "--quick", "--storage", "postgresql://user@dbhost/optuna"),
])
def test_an_unreachable_cluster_is_a_clear_error_before_any_stage(command, tmp_path):
    t0 = time.monotonic()
    out = _cli(*command, "--cluster", UNREACHABLE, "--cluster-timeout", "1", "--out", str(tmp_path), "--json")
    elapsed = time.monotonic() - t0
    assert out.returncode == 2, out.stderr
    doc = json.loads(out.stdout)
    assert doc["parameter"] == "--cluster" and "no Dask scheduler answers" in doc["message"]
    assert "dask scheduler" in doc["hint"] and "Traceback" not in out.stderr
    assert elapsed < 60  # imports + a 1 s connection timeout, no stage ran
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]  # refused in the pre-flight: not even a lock


@pytest.mark.parametrize("address", ["127.0.0.1:8786", "http://host:8786", "tcp://host", "tcp://host:99999"])
def test_a_malformed_address_is_refused_naming_the_option(address, tmp_path):
    out = _cli("capacity", "--cluster", address, "--out", str(tmp_path), "--json", timeout=120)
    assert out.returncode == 2
    doc = json.loads(out.stdout)
    assert doc["parameter"] == "--cluster" and "tcp://HOST:PORT" in doc["message"]


def test_a_tls_scheduler_without_certificates_is_a_clear_error_naming_the_settings(tmp_path):
    env_clean = {k: v for k, v in os.environ.items() if not k.startswith("DASK_DISTRIBUTED__COMM__TLS")}
    env = {**env_clean, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-m", "hrsnn_hw", "capacity", "--cluster", "tls://127.0.0.1:8786",
                          "--cluster-timeout", "1", "--out", str(tmp_path), "--json"], capture_output=True, text=True,
                         cwd=ROOT, timeout=120, env=env)
    assert out.returncode == 2, out.stderr
    doc = json.loads(out.stdout)
    assert doc["parameter"] == "--cluster" and "certificates" in doc["message"]
    assert "DASK_DISTRIBUTED__COMM__TLS__CA_FILE" in doc["hint"] and "Traceback" not in out.stderr


def test_a_tls_scheduler_is_reached_with_the_certificates_of_dasks_configuration(tmp_path):
    # the check reads Dask's configuration: with a CA file and a client certificate set it passes
    import dask
    from hrsnn_hw.executor import _check_tls_configured
    import distributed
    with dask.config.set({"distributed.comm.tls.ca-file": str(tmp_path / "ca.pem"),
                          "distributed.comm.tls.client.cert": str(tmp_path / "client.pem")}):
        _check_tls_configured(distributed.Security(), "tls://127.0.0.1:8786")
    with pytest.raises(HrsnnError, match="certificates"):
        _check_tls_configured(distributed.Security(), "tls://127.0.0.1:8786")


def test_an_sqlite_study_is_refused_for_a_cluster_on_other_machines(tmp_path):
    out = _cli("optimize", "--quick", "--cluster", "tcp://10.1.2.3:8786", "--out", str(tmp_path), "--json",
               timeout=120)
    assert out.returncode == 2
    doc = json.loads(out.stdout)
    assert doc["parameter"] == "--storage" and "network filesystem" in doc["hint"]


def test_without_the_extra_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(HrsnnError) as info:
        make_executor(address="tcp://127.0.0.1:8786")
    assert info.value.parameter == "--cluster" and "hrsnn_hw[cluster]" in info.value.hint


def test_a_cluster_shut_down_leaves_no_process():
    cl, pids = _start_cluster()
    try:
        with make_executor(address=cl.scheduler_address) as dask:
            worker_pids = set(dask.client.run(os.getpid).values())
    finally:
        cl.close()
    assert len(worker_pids) == 2 and worker_pids <= set(pids)
    assert not _gone(pids)


@pytest.mark.slow
@pytest.mark.brian2
def test_capacity_on_the_cluster_gives_the_local_processes_rows(cluster, tmp_path):
    # N = 80: big enough for a threaded BLAS to change the readout's last bits (jobs run with one
    # BLAS thread everywhere, hrsnn_hw.executor.run_pinned)
    args = ["capacity", "--sizes", "80", "--seeds", "2", "--frames", "300", "--max-delay", "8", "--json"]
    remote = _cli(*args, "--cluster", cluster.scheduler_address, "--out", str(tmp_path / "c"))
    assert remote.returncode == 0, remote.stderr
    local = _cli(*args, "--workers", "2", "--out", str(tmp_path / "l"))
    assert local.returncode == 0, local.stderr
    inline = _cli(*args, "--workers", "1", "--out", str(tmp_path / "i"))
    assert inline.returncode == 0, inline.stderr

    def rows(doc):
        return [{k: v for k, v in r.items() if k != "wall_time_s"} for r in json.loads(doc)["rows"]]
    assert rows(remote.stdout) == rows(local.stdout) == rows(inline.stdout) and len(rows(remote.stdout)) == 4
