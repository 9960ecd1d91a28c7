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


# -- Lava: kill -9 and SIGTERM during deploy ------------------------------------------------------

def _recorded(out: Path) -> dict:
    from hrsnn_hw.rundir import _read_resources
    return _read_resources(out)


def _start_deploy(out: Path, *extra: str, new_session: bool = False) -> subprocess.Popen:
    return subprocess.Popen([*CLI, "deploy", "--quick", "--baseline", "none", "--lava-samples", "3", "--out", str(out),
                             "--quiet", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            start_new_session=new_session)


def _wait_for_live_lava(proc: subprocess.Popen, out: Path) -> tuple[set[int], list[str]]:
    """Wait until Lava runs (workers forked, segments recorded); return the run's processes and segments."""
    seen: set[int] = set()

    def live():
        seen.update(_descendants(proc.pid))
        rec = _recorded(out)
        shm = [s for s in rec["shm"] if Path(f"/dev/shm/{s}").exists()]
        return shm if (proc.poll() is None and len(shm) >= 4 and len(_descendants(proc.pid)) >= 3) else None

    shm = _wait_for(live, 900, poll=0.05)
    assert shm, f"Lava never ran (exit {proc.poll()}): {proc.stderr.read() if proc.poll() is not None else ''}"
    seen.update(_descendants(proc.pid))
    return seen, shm


@pytest.mark.slow
@pytest.mark.lava
@pytest.mark.brian2
def test_kill_minus_9_during_deploy_leaves_no_process_and_no_segment(tmp_path):
    out = tmp_path / "run"
    proc = _start_deploy(out)
    try:
        pids, shm = _wait_for_live_lava(proc, out)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        t0 = time.monotonic()
        gone = _wait_for(lambda: not _alive(pids) and not [s for s in shm if Path(f"/dev/shm/{s}").exists()],
                         GONE_WITHIN_S)
        assert gone, (f"after {time.monotonic() - t0:.1f} s: processes {_alive(pids)}, "
                      f"segments {[s for s in shm if Path(f'/dev/shm/{s}').exists()]}")
    finally:
        proc.kill()
        proc.communicate()


@pytest.mark.slow
@pytest.mark.lava
@pytest.mark.brian2
def test_group_kill_during_deploy_is_reaped_by_the_next_run(tmp_path):
    # SIGKILL to the whole process group (a scheduler's kill) also takes Python's resource
    # tracker, which would otherwise unlink the segments: the next run of --out does it
    out = tmp_path / "run"
    proc = _start_deploy(out, new_session=True)
    try:
        pids, shm = _wait_for_live_lava(proc, out)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        assert _wait_for(lambda: not _alive(pids), GONE_WITHIN_S), f"processes left: {_alive(pids)}"
        nxt = subprocess.run([*CLI, "spec", "hrsnn", "--out", str(out), "--json"], capture_output=True, text=True,
                             cwd=ROOT, timeout=300)
        assert nxt.returncode == 0, nxt.stderr
        left = [s for s in shm if Path(f"/dev/shm/{s}").exists()]
        assert not left, f"segments left after the next run: {left}"
    finally:
        with_pg = proc.poll() is None
        if with_pg:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()


@pytest.mark.slow
@pytest.mark.lava
@pytest.mark.brian2
def test_sigterm_during_deploy_stops_cleanly(tmp_path):
    out = tmp_path / "run"
    proc = _start_deploy(out)
    try:
        pids, shm = _wait_for_live_lava(proc, out)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 143, err
        assert "Traceback" not in err
        assert _wait_for(lambda: not _alive(pids) and not [s for s in shm if Path(f"/dev/shm/{s}").exists()],
                         GONE_WITHIN_S)
    finally:
        proc.kill()
        proc.communicate()


# SIGTERM at every stage of `run`: one folder, each run resumes from the cache and is stopped
# at the next stage. "report" is signalled once the energy stage is done.
STAGE_MARKS = [("train", "[train-hrsnn] running"), ("float", "[float-hrsnn] running"),
               ("quantize", "[quantize-hrsnn] running"), ("fixed", "[fixed-hrsnn] running"),
               ("deploy", "[deploy-hrsnn] running"), ("verify", "[verify-hrsnn] running"),
               ("energy", "[energy] running"), ("report", "[energy] done")]


@pytest.fixture(scope="module")
def shared_run(tmp_path_factory):
    return tmp_path_factory.mktemp("sigterm") / "run"


@pytest.mark.slow
@pytest.mark.lava
@pytest.mark.brian2
@pytest.mark.parametrize("stage,mark", STAGE_MARKS, ids=[s for s, _ in STAGE_MARKS])
def test_sigterm_at_each_stage_of_run(stage, mark, shared_run):
    out = shared_run
    log = out / "pipeline.log"
    offset = log.stat().st_size if log.exists() else 0
    proc = subprocess.Popen([*CLI, "run", "--quick", "--baseline", "none", "--energy-profiles", "loihi2,cpu",
                             "--out", str(out), "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT)
    seen: set[int] = set()

    def reached():
        seen.update(_descendants(proc.pid))
        if proc.poll() is not None:
            return True
        try:
            with open(log, encoding="utf-8", errors="replace") as fh:
                fh.seek(offset)
                return mark in fh.read()
        except OSError:
            return False

    try:
        assert _wait_for(reached, 900, poll=0.05)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    # a stage may finish between the log line and the signal: then the run ends normally
    assert proc.returncode in (143, 0), err
    assert "Traceback" not in err
    if proc.returncode == 143:
        assert "terminated by SIGTERM" in err
    rec = _recorded(out)
    assert _wait_for(lambda: not _alive(seen) and not [s for s in rec["shm"] if Path(f"/dev/shm/{s}").exists()],
                     GONE_WITHIN_S), f"left after SIGTERM at {stage}: {_alive(seen)}"
