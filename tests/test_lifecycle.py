"""Processes and memory never outlive a run: SIGTERM like Ctrl-C, children die with their parent
(kill -9 included), the output folder is locked, and a run reaps what a killed run left.

The process tests poll for conditions with generous deadlines (the machine is shared and
loaded); none assumes a speed.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from multiprocessing import shared_memory
from pathlib import Path

import psutil
import pytest

from hrsnn_hw.errors import RunLockedError
from hrsnn_hw.rundir import RunDir, note_resources, process_start_token

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-c", "import sys; from hrsnn_hw.cli import main; sys.exit(main(sys.argv[1:]))"]
GONE_WITHIN_S = 10.0


def _wait_for(condition, timeout: float, poll: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll)
    return condition()


def _alive(pids) -> list[int]:
    out = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                out.append(pid)
        except psutil.NoSuchProcess:
            pass
    return out


def _descendants(pid: int) -> set[int]:
    try:
        return {c.pid for c in psutil.Process(pid).children(recursive=True)}
    except psutil.Error:
        return set()


# -- fork guard --------------------------------------------------------------------------------

def test_a_forked_child_dies_with_its_parent_killed_by_sigkill(tmp_path):
    script = textwrap.dedent("""
        import os, sys, time
        from hrsnn_hw.lifecycle import install_child_guard
        install_child_guard()
        pid = os.fork()
        if pid == 0:
            time.sleep(600)
            os._exit(0)
        print(pid, flush=True)
        time.sleep(600)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        child = int(parent.stdout.readline())
        assert _alive([child]) == [child]
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=60)
        assert _wait_for(lambda: not _alive([child]), GONE_WITHIN_S), "the child outlived its parent"
    finally:
        parent.kill()
        parent.wait()


def test_sigterm_is_a_clean_stop_with_exit_143(tmp_path):
    # the pause happens inside the run (after the lock is taken), like a long stage
    script = textwrap.dedent(f"""
        import sys, time
        import hrsnn_hw.cli.cmd_spec as cmd
        def slow(args):
            print("ready", flush=True)
            time.sleep(600)
        cmd.run = slow
        from hrsnn_hw.cli import main
        sys.exit(main(["spec", "hrsnn", "--out", {str(tmp_path / "out")!r}, "--json"]))
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT)
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 143
    doc = json.loads(out)
    assert doc["ok"] is False and doc["error"] == "Terminated" and doc["exit_code"] == 143
    assert "Traceback" not in err and "terminated by SIGTERM" in err


# -- the lock on --out ------------------------------------------------------------------------

def test_a_second_run_on_the_same_out_is_refused_with_the_holder_named(tmp_path):
    with RunDir(tmp_path, command="hrsnn-hw run --seed 1"):
        with pytest.raises(RunLockedError) as info:
            with RunDir(tmp_path, command="hrsnn-hw run --seed 2"):
                pass
        assert f"pid {os.getpid()}" in info.value.hint and "--seed 1" in info.value.hint
    with RunDir(tmp_path, command="third"):  # released: the next run gets it
        pass


def test_the_lock_dies_with_its_holder_and_a_waiting_run_gets_it(tmp_path):
    script = textwrap.dedent(f"""
        import time
        from hrsnn_hw.rundir import RunDir
        with RunDir({str(tmp_path)!r}, command="holder"):
            print("locked", flush=True)
            time.sleep(600)
    """)
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(RunLockedError):
            with RunDir(tmp_path, command="second"):
                pass
        holder.send_signal(signal.SIGKILL)  # no clean-up at all: the kernel releases the flock
        holder.wait(timeout=60)
        with RunDir(tmp_path, command="after", wait_s=60.0):
            pass
    finally:
        holder.kill()
        holder.wait()


def test_cli_second_run_exits_3_naming_the_holder(tmp_path, capsys):
    from hrsnn_hw.cli import main
    with RunDir(tmp_path, command="hrsnn-hw run --out X"):
        code = main(["spec", "hrsnn", "--out", str(tmp_path), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 3 and doc["error"] == "RunLockedError" and f"pid {os.getpid()}" in doc["message"]


# -- leftovers of a killed run ----------------------------------------------------------------

def test_a_run_reaps_the_processes_and_segments_a_killed_run_recorded(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    seg = shared_memory.SharedMemory(create=True, size=64)
    name = seg.name
    seg.close()
    try:
        from multiprocessing import resource_tracker
        resource_tracker.unregister(f"/{name}", "shared_memory")  # this test plays the killed run
    except Exception:
        pass
    try:
        assert _wait_for(lambda: process_start_token(sleeper.pid), 30)
        with RunDir(tmp_path, command="killed run"):
            note_resources(pids=[sleeper.pid], shm=[name])
            # the run "dies" here: it never forgets what it recorded
        assert Path(f"/dev/shm/{name}").exists()
        with RunDir(tmp_path, command="next run") as run:
            assert run.reaped == {"processes": [sleeper.pid], "shm": [name]}
        sleeper.wait(timeout=60)
        assert not Path(f"/dev/shm/{name}").exists()
    finally:
        sleeper.kill()
        sleeper.wait()
        if Path(f"/dev/shm/{name}").exists():
            os.unlink(f"/dev/shm/{name}")


def test_reaping_never_touches_unrelated_processes_or_files(tmp_path):
    other = subprocess.Popen(["sleep", "600"])  # not a Python process: left alone even if recorded
    try:
        assert _wait_for(lambda: process_start_token(other.pid), 30)
        with RunDir(tmp_path):
            note_resources(pids=[other.pid], shm=["../../etc/passwd", "sem.loky-1"])
        with RunDir(tmp_path) as run:
            assert run.reaped == {"processes": [], "shm": []}
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()


# -- a real run: SIGTERM at every stage, kill -9 and a group kill while Lava runs ----------------

def _recorded(out: Path) -> dict:
    from hrsnn_hw.rundir import _read_resources
    return _read_resources(out)


def _lava_live(out: Path, pid: int):
    """Segments of a running Lava network (recorded in --out and present), once its workers run."""
    shm = [s for s in _recorded(out)["shm"] if Path(f"/dev/shm/{s}").exists()]
    return shm if len(shm) >= 4 and len(_descendants(pid)) >= 3 else None


# One folder for the whole sequence: each run resumes from the cache and is stopped in the
# next stage, so the network is trained once. (stage, how the run is stopped, when: a line of
# pipeline.log, or "lava" = Lava's workers and shared memory exist)
SEQUENCE = [("train", "term", "[train-hrsnn] running"), ("float", "term", "[float-hrsnn] running"),
            ("quantize", "term", "[quantize-hrsnn] running"), ("fixed", "term", "[fixed-hrsnn] running"),
            ("deploy", "term", "lava"), ("deploy", "ctrl-c", "lava"), ("deploy", "kill", "lava"),
            ("deploy", "group-kill", "lava"),
            ("verify", "term", "[verify-hrsnn] running"), ("energy", "term", "[energy] running"),
            ("report", "term", "[energy] done")]


@pytest.fixture(scope="module")
def shared_run(tmp_path_factory):
    return tmp_path_factory.mktemp("signals") / "run"


@pytest.mark.slow
@pytest.mark.lava
@pytest.mark.brian2
@pytest.mark.parametrize("stage,how,when", SEQUENCE, ids=[f"{s}-{h}" for s, h, _ in SEQUENCE])
def test_a_stopped_run_leaves_no_process_and_no_segment(stage, how, when, shared_run):
    out = shared_run
    log = out / "pipeline.log"
    offset = log.stat().st_size if log.exists() else 0
    proc = subprocess.Popen([*CLI, "run", "--quick", "--baseline", "none", "--energy-profiles", "loihi2,cpu",
                             "--lava-samples", "3", "--out", str(out), "--quiet"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            start_new_session=how in ("group-kill", "ctrl-c"))
    seen: set[int] = set()
    segments: list[str] = []

    def reached():
        seen.update(_descendants(proc.pid))
        if proc.poll() is not None:
            return True
        if when == "lava":
            live = _lava_live(out, proc.pid)
            if live:
                segments.extend(live)
            return bool(live)
        try:
            with open(log, encoding="utf-8", errors="replace") as fh:
                fh.seek(offset)
                return when in fh.read()
        except OSError:
            return False

    try:
        assert _wait_for(reached, 900, poll=0.05)
        seen.update(_descendants(proc.pid))
        if how == "term":
            proc.send_signal(signal.SIGTERM)
        elif how == "ctrl-c":  # a terminal's Ctrl-C reaches the whole foreground process group
            os.killpg(proc.pid, signal.SIGINT)
        elif how == "kill":
            proc.send_signal(signal.SIGKILL)
        else:  # a scheduler's kill: the whole process group, Python's resource tracker included
            os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    segments += _recorded(out)["shm"]

    def leftovers():
        return _alive(seen), [s for s in segments if Path(f"/dev/shm/{s}").exists()]

    if how in ("term", "ctrl-c"):
        # a stage may finish between the log line and the signal: then the run ends normally
        code = 143 if how == "term" else 130
        assert proc.returncode in (code, 0), err
        assert "Traceback" not in err  # not from the run, not from any of Lava's workers
        if proc.returncode == code:
            assert ("terminated by SIGTERM" if how == "term" else "interrupted") in err
    else:
        assert proc.returncode == -signal.SIGKILL
    if how == "group-kill":
        assert _wait_for(lambda: not leftovers()[0], GONE_WITHIN_S), f"processes left: {leftovers()[0]}"
        # nothing is left to unlink the segments but the next run of the same --out
        nxt = subprocess.run([*CLI, "spec", "hrsnn", "--out", str(out), "--json"], capture_output=True, text=True,
                             cwd=ROOT, timeout=300)
        assert nxt.returncode == 0, nxt.stderr
        assert not leftovers()[1], f"segments left after the next run: {leftovers()[1]}"
    else:
        assert _wait_for(lambda: leftovers() == ([], []), GONE_WITHIN_S), \
            f"left {GONE_WITHIN_S:g} s after stopping at {stage}: {leftovers()}"
    if stage == "deploy" and how != "group-kill":
        assert segments and seen, "the run was not stopped while Lava ran"


@pytest.mark.slow
def test_killing_optimize_stops_its_workers_and_resume_loses_no_trial(tmp_path):
    """kill -9 of `optimize --workers 2`: its workers die with it (SIGTERM from the kernel, so
    they re-queue their trials), and a resume completes the budget with no trial lost."""
    import optuna

    from hrsnn_hw.optimize.store import open_storage, retried_from
    out = tmp_path / "opt"
    def args(evaluator: str) -> list[str]:
        return [*CLI, "optimize", "--evaluator", f"hrsnn_hw.optimize.synthetic:{evaluator}", "--budget", "12",
                "--workers", "2", "--out", str(out), "--quiet", "--no-figures", "--reeval-seeds", "0",
                "--n-startup", "3", "--param", "populations.exc.tau_m.cv=0:1.5", "--sampler", "random"]
    proc = subprocess.Popen(args("evaluate_stalling"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT)
    try:
        workers = _wait_for(lambda: _descendants(proc.pid) if len(_descendants(proc.pid)) >= 2
                            and (out / "study.db").exists() else None, 300)
        assert workers
        optuna.logging.set_verbosity(optuna.logging.WARNING)

        def running():
            try:
                trials = optuna.load_study(study_name="hrsnn", storage=open_storage(out / "study.db")).get_trials()
            except Exception:
                return None
            return [t for t in trials if t.state.name == "RUNNING" and t.params] or None
        assert _wait_for(running, 300)
        workers |= _descendants(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        assert _wait_for(lambda: not _alive(workers), GONE_WITHIN_S), f"workers left: {_alive(workers)}"
    finally:
        proc.kill()
        proc.communicate()
    resume = subprocess.run(args("evaluate"), capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert resume.returncode == 0, resume.stderr[-2000:]
    trials = optuna.load_study(study_name="hrsnn", storage=open_storage(out / "study.db")).get_trials()
    done = [t for t in trials if t.state.name == "COMPLETE"]
    assert len(done) == 12 and not [t for t in trials if t.state.name in ("RUNNING", "WAITING")]
    failed = [t for t in trials if t.state.name == "FAIL"]
    for t in failed:  # every trial stopped by the kill with its parameters drawn was run again
        assert (t.user_attrs.get("failure") or {}).get("kind", "interrupted") == "interrupted", t.user_attrs
        if t.params:
            assert [d for d in done if retried_from(d) == t.number], (t.number, t.params, t.user_attrs)


@pytest.mark.slow
def test_an_interrupt_during_fork_never_lands_inside_loggings_fork_hooks():
    """Python swallows an exception raised inside a fork hook; raised inside logging's
    lock-release hook it leaves the logging lock held and the next log call deadlocks (seen
    when Ctrl-C or a test's alarm hit a Lava fork). With the child guard, handlers are deferred
    while the main thread forks."""
    script = textwrap.dedent("""
        import collections, logging, os, random, signal, sys, time
        from hrsnn_hw.lifecycle import install_child_guard
        install_child_guard()
        swallowed = []
        sys.unraisablehook = lambda u: swallowed.append(getattr(u.object, "__qualname__", str(u.object)))
        def on_alarm(signum, frame):
            raise KeyboardInterrupt
        signal.signal(signal.SIGALRM, on_alarm)
        rng = random.Random(0)
        state = {"i": 0, "interrupts": 0}
        def body():
            while state["i"] < 300:
                state["i"] += 1
                signal.setitimer(signal.ITIMER_REAL, rng.uniform(1e-5, 4e-4))
                pid = os.fork()
                if pid == 0:
                    os._exit(0)
                try:
                    os.waitpid(pid, 0)
                except ChildProcessError:
                    pass
                time.sleep(0.005)
        while state["i"] < 300:
            try:
                body()
            except KeyboardInterrupt:
                state["interrupts"] += 1
        while True:  # an alarm deferred during the last fork may still arrive: stop listening first
            try:
                signal.signal(signal.SIGALRM, signal.SIG_IGN)
                signal.setitimer(signal.ITIMER_REAL, 0)
                break
            except KeyboardInterrupt:
                state["interrupts"] += 1
        import json
        print(json.dumps({"interrupts": state["interrupts"], "swallowed": collections.Counter(swallowed),
                          "lock_free": logging._lock.acquire(timeout=5)}))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    doc = json.loads(out.stdout)
    assert doc["interrupts"] > 100  # the alarms really interrupted the loop
    assert not {"_releaseLock", "_acquireLock"} & set(doc["swallowed"]), doc["swallowed"]
    assert doc["lock_free"] is True
