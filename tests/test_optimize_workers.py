"""Two worker processes on one study: the budget holds and no trial is duplicated."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import optuna
import pytest

from hrsnn_hw.io import read_json
from hrsnn_hw.reference import REFERENCE_DIR
from hrsnn_hw.optimize import make_config, open_storage, run_search, space_from_cli

REF = REFERENCE_DIR


@pytest.mark.slow
def test_two_spawned_workers_share_one_study(tmp_path):
    config = make_config(read_json(REF / "hrsnn.json"),
                         space_from_cli(["populations.exc.tau_m.mean=0.005:0.1:log", "populations.exc.tau_m.cv=0:1.5"]),
                         storage=str(tmp_path / "study.db"), out=tmp_path, budget=10, workers=2, n_startup=4,
                         reeval_seeds=0, figures=False)
    # module-level evaluator given by name: the spawned workers import it themselves
    stats = run_search(config, "hrsnn_hw.optimize.synthetic:evaluate_slow")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    trials = optuna.load_study(study_name=config.study_name, storage=open_storage(config.storage)).get_trials()
    assert stats["trials"]["complete"] == 10
    assert len(trials) == 10 and all(t.state.name == "COMPLETE" for t in trials)
    assert sorted(t.number for t in trials) == list(range(10))
    params = [json.dumps(t.params, sort_keys=True) for t in trials]
    assert len(set(params)) == 10
    workers = Counter(t.user_attrs["worker"]["pid"] for t in trials)
    assert len(workers) == 2, workers  # both processes really evaluated trials


@pytest.mark.slow
def test_workers_take_a_module_level_callable_by_name_and_refuse_a_lambda(tmp_path):
    import pytest

    from hrsnn_hw.errors import HrsnnError
    from hrsnn_hw.optimize import synthetic
    space = space_from_cli(["populations.exc.tau_m.mean=0.005:0.1:log"])
    config = make_config(read_json(REF / "hrsnn.json"), space, storage=str(tmp_path / "a.db"), out=tmp_path,
                         budget=2, workers=2, n_startup=2, reeval_seeds=0, figures=False, study_name="a")
    assert run_search(config, synthetic.evaluate_slow)["trials"]["complete"] == 2
    config_b = make_config(read_json(REF / "hrsnn.json"), space, storage=str(tmp_path / "b.db"), out=tmp_path,
                           budget=2, workers=2, n_startup=2, reeval_seeds=0, figures=False, study_name="b")
    with pytest.raises(HrsnnError) as info:
        run_search(config_b, lambda design, **kw: synthetic.evaluate(design, **kw))
    assert info.value.parameter == "evaluator" and "module:function" in info.value.hint


def test_a_trial_whose_worker_died_before_recording_itself_is_failed(tmp_path, monkeypatch):
    """A worker killed between asking for a trial and recording itself leaves a RUNNING trial with
    no worker and no heartbeat; the reaper fails it (it once held a resumed study's budget forever)."""
    from hrsnn_hw.optimize import store
    storage = open_storage(tmp_path / "study.db")
    study = optuna.create_study(study_name="s", storage=storage)
    orphan = study.ask()  # never recorded, never told
    me = store.WorkerIdentity.current()
    store.reap_dead_local_trials(study, me)
    assert study.get_trials()[orphan.number].state.name == "RUNNING"  # within the grace: may be recording now
    monkeypatch.setattr(store, "_UNRECORDED_GRACE_S", -1.0)
    store.reap_dead_local_trials(study, me)
    assert study.get_trials()[orphan.number].state.name == "FAIL"
