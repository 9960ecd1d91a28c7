"""Optimisation studies end to end with the synthetic evaluator: resume, interruption, kill -9,
constraints, Pareto fronts, design files, fresh-seed re-evaluation."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from hrsnn_hw.reference import REFERENCE_DIR

from hrsnn_hw.io import read_json
from hrsnn_hw.optimize import (REEVAL_SEED_OFFSET, OptimizeError, make_config, open_storage, optimize,
                               space_from_cli)
from hrsnn_hw.optimize.objectives import dominates
from hrsnn_hw.optimize.store import retried_from
from hrsnn_hw.optimize.synthetic import evaluate
from hrsnn_hw.spec import load_spec, read_spec_file

REF = REFERENCE_DIR
SMALL = ["populations.exc.tau_m.mean=0.005:0.1:log", "populations.exc.tau_m.cv=0:1.5",
         "stdp.exc->exc.tau_plus.cv=0:1.5"]


@pytest.fixture(scope="module")
def design() -> dict:
    return read_json(REF / "hrsnn.json")


def _config(design, tmp_path, *, space=None, **kw):
    kw.setdefault("budget", 6)
    kw.setdefault("reeval_seeds", 0)
    kw.setdefault("figures", False)
    kw.setdefault("n_startup", 3)
    # the study machinery alone; the MC floor, the confirmation and the tuned MRSNN have their own tests
    kw.setdefault("mc_floor", False)
    kw.setdefault("confirm_seeds", 0)
    kw.setdefault("tune_mrsnn", False)
    return make_config(design, space or space_from_cli(SMALL), storage=str(tmp_path / "study.db"),
                       out=tmp_path, **kw)


def _trials(config):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=config.study_name, storage=open_storage(config.storage))
    return study.get_trials(deepcopy=False)


def _complete(trials):
    return [t for t in trials if t.state.name == "COMPLETE"]


def _unique_params(trials):
    keys = [json.dumps(t.params, sort_keys=True) for t in trials]
    return len(keys) == len(set(keys))


@pytest.mark.slow
def test_resume_reaches_the_budget_exactly_and_keeps_earlier_trials(design, tmp_path):
    first = optimize(_config(design, tmp_path, budget=5), evaluate)
    assert first.trials["complete"] == 5
    before = {t.number: t.params for t in _complete(_trials(_config(design, tmp_path)))}
    second = optimize(_config(design, tmp_path, budget=8), evaluate)
    trials = _trials(_config(design, tmp_path))
    done = _complete(trials)
    assert second.trials["complete"] == 8 and len(done) == 8 and len(trials) == 8
    assert {t.number: t.params for t in done if t.number in before} == before
    assert _unique_params(done)
    for t in done:  # every trial records what it was evaluated with
        assert t.user_attrs["seeds"] == [0]
        assert set(t.user_attrs["metrics"]) >= {"mc", "activity", "efficiency", "task_metric"}
        assert t.user_attrs["wall_time_s"] >= 0 and t.user_attrs["worker"]["pid"] == os.getpid()
    # a third run with the same budget adds nothing
    assert optimize(_config(design, tmp_path, budget=8), evaluate).trials["complete"] == 8


def test_resume_with_another_setup_is_refused(design, tmp_path):
    optimize(_config(design, tmp_path, budget=2), evaluate)
    with pytest.raises(OptimizeError, match="different setup") as info:
        optimize(_config(design, tmp_path, budget=3, objectives="mc"), evaluate)
    assert info.value.parameter == "objectives"


class _InterruptAt:
    """Synthetic evaluator that raises KeyboardInterrupt (Ctrl-C) on its n-th call."""

    def __init__(self, n: int) -> None:
        self.n, self.calls = n, 0

    def __call__(self, design, task, **kw):
        self.calls += 1
        if self.calls == self.n:
            raise KeyboardInterrupt
        return evaluate(design, task, **kw)


@pytest.mark.slow
def test_ctrl_c_requeues_the_running_trial_and_resume_loses_nothing(design, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        optimize(_config(design, tmp_path, budget=6), _InterruptAt(4))
    trials = _trials(_config(design, tmp_path))
    interrupted = [t for t in trials if t.state.name == "FAIL"]
    assert len(interrupted) == 1 and interrupted[0].user_attrs["failure"]["kind"] == "interrupted"
    assert [t.state.name for t in trials].count("WAITING") == 1
    optimize(_config(design, tmp_path, budget=6), evaluate)
    trials = _trials(_config(design, tmp_path))
    done = _complete(trials)
    assert len(done) == 6 and _unique_params(done)
    retry = [t for t in done if retried_from(t) == interrupted[0].number]
    assert len(retry) == 1 and retry[0].params == interrupted[0].params
    assert not [t for t in trials if t.state.name in ("RUNNING", "WAITING")]


@pytest.mark.slow
def test_kill_minus_9_then_resume_retries_the_dead_workers_trial(design, tmp_path):
    out = tmp_path / "killed"
    # the third evaluation hangs, so a trial is certainly RUNNING when the worker is killed
    args = ["optimize", "--evaluator", "hrsnn_hw.optimize.synthetic:evaluate_stalling", "--budget", "50",
            "--out", str(out), "--quiet", "--no-figures", "--reeval-seeds", "0", "--n-startup", "3",
            "--no-mc-floor", "--no-tuned-mrsnn",
            *sum((["--param", p] for p in SMALL), [])]
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from hrsnn_hw.cli import main; sys.exit(main(sys.argv[1:]))",
                             *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    config = _config(design, out)
    running = None
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and running is None:
            time.sleep(0.1)
            if not (out / "study.db").exists():
                continue
            try:
                trials = _trials(config)
            except KeyError:  # the database exists but the study is not written yet
                continue
            # a RUNNING trial with all its parameters: the worker is in (or about to enter) the
            # stalling evaluator
            busy = [t for t in trials if t.state.name == "RUNNING" and len(t.params) == len(SMALL)]
            if len(_complete(trials)) >= 2 and busy:
                time.sleep(0.2)
                proc.send_signal(signal.SIGKILL)
                running = busy[0].number
    finally:
        proc.kill()
        proc.wait()
    assert running is not None, "the worker never got going"
    trials = _trials(config)
    dead = next(t for t in trials if t.number == running)
    n_done = len(_complete(trials))
    assert dead.state.name == "RUNNING" and n_done == 2
    result = optimize(_config(design, out, budget=n_done + 3), evaluate)
    trials = _trials(config)
    done = _complete(trials)
    assert result.trials["complete"] == n_done + 3 == len(done)
    assert not [t for t in trials if t.state.name == "RUNNING"]
    dead = next(t for t in trials if t.number == running)
    assert dead.state.name == "FAIL" and dead.user_attrs["failure"]["reason"] == "worker died"
    retried = [t for t in done if retried_from(t) == running]
    assert len(retried) == 1 and retried[0].params == dead.params
    assert _unique_params(done)


@pytest.mark.slow
def test_constraints_are_respected_by_the_reported_best(design, tmp_path):
    # high E comes with high memory capacity, so a ceiling on MC makes the constraint bind
    config = _config(design, tmp_path, budget=12, constraints=["mc<=5"], n_startup=5)
    result = optimize(config, evaluate)
    done = _complete(_trials(config))
    feasible = [t for t in done if t.user_attrs["metrics"]["mc"] <= 5]
    infeasible = [t for t in done if t.user_attrs["metrics"]["mc"] > 5]
    assert feasible and infeasible
    assert max(t.values[0] for t in infeasible) > max(t.values[0] for t in feasible)  # the constraint binds
    assert all(t.constraints["mc<=5"] <= 0 for t in feasible) and all(t.constraints["mc<=5"] > 0 for t in infeasible)
    best = result.best
    assert best["metrics"]["mc"] <= 5
    assert best["values"]["efficiency"] == max(t.values[0] for t in feasible)


@pytest.mark.slow
def test_pareto_front_is_non_dominated_and_covers_every_trial(design, tmp_path):
    config = _config(design, tmp_path, budget=12, objectives="task,spikes", n_startup=4)
    result = optimize(config, evaluate)
    done = _complete(_trials(config))
    front = {p["trial"]: [p["values"]["task"], p["values"]["spikes"]] for p in result.pareto}
    dirs = config.directions
    assert dirs == ["maximize", "minimize"] and front
    for a in front.values():
        assert not any(dominates(b, a, dirs) for b in front.values())
    for t in done:
        if t.number not in front:
            assert any(dominates(v, list(t.values), dirs) or v == list(t.values) for v in front.values())
    assert result.best["trial"] in front  # the knee is on the front
    for p in result.pareto:
        assert load_spec(p["design_file"]).name.startswith("hrsnn_pareto_")


@pytest.mark.slow
def test_best_design_file_loads_and_holds_the_best_parameters(design, tmp_path):
    config = _config(design, tmp_path, budget=5, reeval_seeds=2, figures=True)
    result = optimize(config, evaluate)
    path = Path(result.files["best_design"])
    assert path == tmp_path / "best_design.json"
    spec = load_spec(path)
    assert spec.name == "hrsnn_optimized" and spec.n_neurons == 200
    data = read_spec_file(path)
    params = result.best["params"]
    assert data["populations"]["exc"]["tau_m"]["mean"] == params["populations.exc.tau_m.mean"]
    assert data["populations"]["exc"]["tau_m"]["cv"] == params["populations.exc.tau_m.cv"]
    assert data["stdp"]["exc->exc"]["tau_plus"]["cv"] == params["stdp.exc->exc.tau_plus.cv"]
    assert data["projections"] == design["projections"]  # only searched numbers change
    # fresh seeds, disjoint from the search seeds, the same for all three designs
    re = result.reeval
    assert re["seeds"] == [REEVAL_SEED_OFFSET, REEVAL_SEED_OFFSET + 1]
    assert set(re["designs"]) == {"mrsnn", "reference_hrsnn", "optimized"}  # no tuned MRSNN in this config
    opt_e = re["designs"]["optimized"]["efficiency"]
    assert opt_e["n"] == 2 and opt_e["mean"] == pytest.approx(sum(opt_e["values"]) / 2)
    again = evaluate(read_spec_file(path), "japanese_vowels", seed=REEVAL_SEED_OFFSET)["efficiency"]
    assert opt_e["values"][0] == pytest.approx(again)
    assert "| optimised HRSNN |" in result.table_markdown and "| MRSNN (reference) |" in result.table_markdown
    for name in ("history", "slices"):
        assert Path(result.files["figures"][name]).stat().st_size > 0
    assert read_json(tmp_path / "result.json")["best"]["trial"] == result.best["trial"]


@pytest.mark.slow
def test_a_design_the_evaluator_rejects_fails_its_trial_only(design, tmp_path):
    from hrsnn_hw.optimize.synthetic import evaluate_failing
    config = _config(design, tmp_path, budget=8, n_startup=6,
                     space=space_from_cli(["populations.exc.tau_m.cv=0:2", "populations.exc.tau_m.mean=0.005:0.1"]))
    result = optimize(config, evaluate_failing)
    trials = _trials(config)
    failed = [t for t in trials if t.state.name == "FAIL"]
    assert result.trials["complete"] == 8
    assert failed and all(t.user_attrs["failure"]["kind"] == "error" for t in failed)
    assert all(t.params["populations.exc.tau_m.cv"] > 1.2 for t in failed)
