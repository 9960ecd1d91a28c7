"""``hrsnn-hw optimize`` on the command line (synthetic evaluator)."""
from __future__ import annotations

import json

import pytest

from hrsnn_hw.cli import build_parser, main
from hrsnn_hw.cli.cmd_optimize import build_config

SYN = ["--evaluator", "hrsnn_hw.optimize.synthetic:evaluate"]


def test_help_lists_the_options(capsys):
    with pytest.raises(SystemExit) as info:
        main(["optimize", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for option in ("--budget", "--objectives", "--constraint", "--param", "--workers", "--storage", "--study-name",
                   "--reeval-seeds", "--sampler", "--worker-only", "several machines"):
        assert option in text


@pytest.mark.slow
def test_json_output_is_one_object_with_the_results(capsys, tmp_path):
    code = main(["optimize", *SYN, "--budget", "4", "--reeval-seeds", "2", "--out", str(tmp_path), "--json",
                 "--no-figures", "--param", "populations.exc.tau_m.mean=0.005:0.1", "--log",
                 "--param", "populations.exc.tau_m.cv=0:1.5", "--constraint", "accuracy>=0.3"])
    out = capsys.readouterr().out
    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert result["ok"] is True and "_text" not in result
    assert result["trials"]["complete"] == 4
    assert result["objectives"] == [{"name": "efficiency", "metric": "efficiency", "direction": "maximize"}]
    # the efficiency objective carries the MC floor by default, measured on the reference MRSNN
    assert result["constraints"] == ["accuracy>=0.3", "mc>=mrsnn"]
    floor = result["constraint_values"]["mc>=mrsnn"]
    assert floor == pytest.approx(result["reference"]["metrics"]["mc"]) and floor > 0
    assert result["best"]["metrics"]["mc"] >= floor
    assert set(result["best"]["params"]) == {"populations.exc.tau_m.mean", "populations.exc.tau_m.cv"}
    assert result["best"]["design_file"].endswith("best_design.json")
    # the MRSNN got the same budget over its homogeneous parameter
    tuned = result["tuned_mrsnn"]
    assert tuned["trials"]["complete"] == 4 and set(tuned["best"]["params"]) == {"populations.exc.tau_m.mean"}
    assert set(result["reeval"]["designs"]) == {"mrsnn", "tuned_mrsnn", "reference_hrsnn", "optimized"}
    assert result["mc_check"]["against"] == "tuned_mrsnn"
    assert "| reference HRSNN |" in result["table_markdown"] and "| MRSNN (tuned, same budget) |" in result["table_markdown"]
    assert result["mc_activity_front"]
    assert set(result["timings"]) >= {"search_wall_s", "reeval_wall_s", "total_wall_s", "mean_trial_s"}
    assert (tmp_path / "summary.md").read_text().startswith("| design |")


def test_log_flag_and_quick_defaults(tmp_path):
    args = build_parser().parse_args(["optimize", "--quick", "--out", str(tmp_path), "--param",
                                      "populations.exc.tau_m.mean=0.005:0.1", "--log"])
    config = build_config(args)
    assert config.space.params[0].log and config.budget == 4 and config.reeval_seeds == 2 and config.quick
    assert config.storage == str(tmp_path / "study.db")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["optimize", "--log"])


def test_bad_input_exits_2_with_a_named_parameter(capsys, tmp_path):
    code = main(["optimize", *SYN, "--out", str(tmp_path), "--json", "--param", "populations.exc.tau_q.cv=0:1"])
    result = json.loads(capsys.readouterr().out)
    assert code == 2 and result["ok"] is False and result["parameter"] == "populations.exc.tau_q.cv"
    code = main(["optimize", *SYN, "--out", str(tmp_path), "--json", "--objectives", "task,energy"])
    assert code == 2 and "profile" in json.loads(capsys.readouterr().out)["message"]


@pytest.mark.slow
def test_no_feasible_trial_exits_1(capsys, tmp_path):
    code = main(["optimize", *SYN, "--budget", "3", "--reeval-seeds", "0", "--out", str(tmp_path), "--json",
                 "--no-figures", "--param", "populations.exc.tau_m.cv=0:1.5", "--constraint", "accuracy>=1.5"])
    result = json.loads(capsys.readouterr().out)
    assert code == 1 and result["ok"] is False and result["best"] is None and result["trials"]["complete"] == 3


def test_worker_only_runs_trials_and_leaves_reports_to_another_run(capsys, tmp_path):
    common = [*SYN, "--out", str(tmp_path), "--json", "--no-figures", "--reeval-seeds", "0",
              "--param", "populations.exc.tau_m.cv=0:1.5", "--sampler", "random"]
    code = main(["optimize", *common, "--budget", "3", "--worker-only"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and result["best"] is None and result["trials"]["complete"] == 3
    assert not (tmp_path / "best_design.json").exists()
    code = main(["optimize", *common, "--budget", "4"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and result["trials"]["complete"] == 4 and (tmp_path / "best_design.json").exists()


def test_the_mc_floor_and_the_tuned_mrsnn_can_be_switched_off(capsys, tmp_path):
    code = main(["optimize", *SYN, "--budget", "3", "--reeval-seeds", "0", "--out", str(tmp_path), "--json",
                 "--no-figures", "--param", "populations.exc.tau_m.cv=0:1.5", "--no-mc-floor", "--no-tuned-mrsnn"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and result["constraints"] == [] and result["tuned_mrsnn"] is None and result["reference"] is None


def test_the_saved_command_names_the_cluster_and_the_storage_without_its_password(tmp_path):
    from hrsnn_hw.cli.cmd_optimize import _command
    args = build_parser().parse_args(["optimize", "--budget", "8", "--cluster", "tcp://10.0.0.5:8786", "--storage",
                                      "postgresql://bob:s3cret@db:5432/optuna", "--study-name", "s1",
                                      "--out", str(tmp_path)])
    cmd = _command(args, 8, 2, (5, 5))
    assert "--cluster tcp://10.0.0.5:8786" in cmd and "--study-name s1" in cmd
    assert "postgresql://bob:***@db:5432/optuna" in cmd and "s3cret" not in cmd
    plain = _command(build_parser().parse_args(["optimize", "--out", str(tmp_path)]), 40, 5, (5, 5))
    assert "--cluster" not in plain and "--storage" not in plain and "--study-name" not in plain
