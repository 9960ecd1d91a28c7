"""One evaluator of seed pools: results in job order, failures kept apart, workers die with their parent."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from hrsnn_hw.errors import HrsnnError
from hrsnn_hw.evaluation import EvalJob, evaluate_many, evaluator_reference
from hrsnn_hw.executor import InlineExecutor, LocalProcessExecutor, make_executor

ROOT = Path(__file__).resolve().parent.parent


def square_or_fail(design, task, *, seed, delay=0.0):
    """A module-level evaluator (importable by worker processes)."""
    time.sleep(delay)
    if seed == 3:
        raise ValueError("seed 3 fails")
    return {"value": seed * seed, "pid": os.getpid(), "task": task, "n": design["n"]}


def _jobs(n, **options):
    return [EvalJob(label=f"j{s}", design={"n": s}, task="t", seed=s, options=options) for s in range(n)]


@pytest.mark.parametrize("workers", [1, 2])
def test_outcomes_come_back_in_job_order_with_failures_kept_apart(workers):
    done = []
    outcomes = evaluate_many(_jobs(5, delay=0.05 * (workers - 1)), square_or_fail, workers=workers,
                             progress=lambda d, t: done.append((d, t)))
    assert [o.job.seed for o in outcomes] == list(range(5))
    assert [o.metrics["value"] for o in outcomes if o.ok] == [0, 1, 4, 16]
    bad = outcomes[3]
    assert not bad.ok and bad.metrics is None and bad.error == "ValueError: seed 3 fails"
    assert done[-1] == (5, 5) and len(done) == 5
    pids = {o.metrics["pid"] for o in outcomes if o.ok}
    assert (pids == {os.getpid()}) == (workers == 1)


def test_make_executor_picks_inline_for_one_worker_and_refuses_bad_settings():
    assert isinstance(make_executor(1), InlineExecutor)
    assert isinstance(make_executor(2), LocalProcessExecutor)
    with pytest.raises(HrsnnError) as info:
        make_executor(0)
    assert info.value.parameter == "workers"
    with pytest.raises(HrsnnError) as info:  # a cluster address without its scheme (tests/test_cluster.py: the rest)
        make_executor(2, address="scheduler:8786")
    assert info.value.parameter == "--cluster" and "tcp://" in str(info.value)


def test_worker_processes_need_an_importable_evaluator():
    assert evaluator_reference(square_or_fail) == f"{__name__}:square_or_fail"
    with pytest.raises(HrsnnError, match="importable"):
        evaluate_many(_jobs(2), lambda design, task, seed: {}, workers=2)
    outcomes = evaluate_many(_jobs(2), lambda design, task, seed: {"ok": 1}, workers=1)
    assert all(o.ok for o in outcomes)


_PARENT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from hrsnn_hw.evaluation import EvalJob, evaluate_many
    jobs = [EvalJob(label="x", design={{"path": {pids!r}}}, task="t", seed=s) for s in range(2)]
    evaluate_many(jobs, "test_executor:record_pid_and_sleep", workers=2)
""")


def record_pid_and_sleep(design, task, *, seed):
    Path(design["path"], f"{os.getpid()}.pid").write_text(str(seed))
    time.sleep(120)
    return {}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie waiting for its (dead) parent's reaper is gone for our purpose
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_workers_die_with_their_parent(tmp_path, sig):
    code = _PARENT.format(tests=str(ROOT / "tests"), pids=str(tmp_path))
    parent = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while len(list(tmp_path.glob("*.pid"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        workers = [int(p.stem) for p in tmp_path.glob("*.pid")]
        assert len(workers) == 2 and all(_alive(w) for w in workers)
        parent.send_signal(sig)
        parent.wait(timeout=30)
        deadline = time.monotonic() + 15
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [w for w in workers if _alive(w)]
    finally:
        parent.kill()
        parent.wait()
        for p in tmp_path.glob("*.pid"):
            try:
                os.kill(int(p.stem), signal.SIGKILL)
            except ProcessLookupError:
                pass


def fail_on_two(x):
    """A module-level job (importable by worker processes)."""
    if x == 2:
        raise HrsnnError("two is refused", parameter="x", value=x)
    if x == 3:
        raise ZeroDivisionError("three")
    return x


@pytest.mark.parametrize("executor", [InlineExecutor(), LocalProcessExecutor(2)], ids=["inline", "processes"])
def test_a_failing_job_is_a_toolkit_error_naming_the_job(executor):
    from hrsnn_hw.errors import BackendError
    with pytest.raises(HrsnnError) as info:
        list(executor.map_unordered(fail_on_two, [(0,), (2,)], labels=["zero", "two"]))
    assert type(info.value) is HrsnnError and "job 1 (two)" in str(info.value) and info.value.parameter == "x"
    with pytest.raises(BackendError) as info:
        list(executor.map_unordered(fail_on_two, [(3,)]))
    assert "ZeroDivisionError: three" in str(info.value)
    assert sorted(executor.map_unordered(fail_on_two, [(0,), (1,)])) == [(0, 0), (1, 1)]
