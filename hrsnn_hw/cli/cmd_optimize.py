"""``hrsnn-hw optimize``: Bayesian optimisation of a design's heterogeneity."""
from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from .fanout import add_fanout_arguments, connect, executor_of
from .validate import design_ref, nonneg_int, positive_float, positive_int, profile_name, task_name

NAME = "optimize"
HELP = "search the heterogeneity of a design by Bayesian optimisation (GP surrogate) and write the best design"
DESCRIPTION = """\
Search the distributions of a design's neuron time constants and STDP parameters (and any
scalar you name) to maximise the spike efficiency E = memory capacity / activity, or the
task metric, or to minimise spikes or energy per inference, under constraints. The
surrogate is a Gaussian process (scikit-learn, no torch). Every trial is stored in an
optuna database (SQLite file <out>/study.db by default), so an interrupted study (Ctrl-C,
SIGTERM, kill -9, a lost machine: optuna's heartbeat notices, its retry callback re-queues
the trial) resumes where it stopped: run the same command again. The best design is
re-evaluated on fresh seeds next to the reference HRSNN and its MRSNN twin and written as
<out>/best_design.json.

A silent network cannot win: E = MC / activity (and spikes, energy, activity) improve when a
network fires less and remembers less, so these objectives carry the constraint
"mc>=mrsnn" by default: a design must remember at least as much as the reference MRSNN
(the design's homogeneous twin, measured on the same search seeds before the search).
--no-mc-floor drops it; --constraint adds others (a task-metric floor, ...).

Tuned vs tuned: a second study ("<study-name>-mrsnn") gives the MRSNN the same budget over
its homogeneous parameters (the searched means and scalars, without the spreads); the final
table on fresh seeds shows E, MC, activity and the task metric of the optimised HRSNN, the
tuned MRSNN, the reference HRSNN and the reference MRSNN, with paired differences and their
bootstrap intervals. mc_activity.png and summary.md show the trade-off the search found: the
trials no other trial beats on both MC and activity. --no-tuned-mrsnn skips the second study.

A floor met on one seed does not carry: the search drives MC down to the floor, so the best
feasible trial is often one whose MC was high by chance on its search seed. Before selecting,
each study's --confirm-top best feasible trials are run again on --confirm-seeds further
seeds beside the reference MRSNN, and the selection is the best whose constraints still hold
there (summary.md lists them). The fresh re-evaluation seeds are not used for this.

examples:
  hrsnn-hw optimize --budget 40 --out runs/opt40                       # the documented study
  hrsnn-hw optimize --quick                                           # smoke run, under 2 minutes
  hrsnn-hw optimize --constraint "accuracy>=0.8" --budget 40
  hrsnn-hw optimize --objectives task,spikes --budget 60               # Pareto front
  hrsnn-hw optimize --objectives task,energy --profile loihi2
  hrsnn-hw optimize --param populations.exc.tau_m.mean=0.005:0.1 --log \\
                    --param populations.exc.tau_m.cv=0:1.5 --param 'projections.exc->exc.p=0.05:0.3'
  hrsnn-hw optimize --workers 2 --budget 40                            # 2 processes, one study

a Dask cluster (one command, trials on the cluster's workers):
  hrsnn-hw optimize --cluster tcp://SCHEDULER:8786 --storage postgresql://user@dbhost/optuna
  submits --workers optuna workers (default: one per worker thread of the cluster) sharing the
  study through the database; the reference and re-evaluation seeds run there too. An SQLite
  --storage is refused unless the scheduler is on this machine (tcp://127.0.0.1:PORT).

several machines (one study, shared budget):
  on every machine, the same options and one database server:
      hrsnn-hw optimize --storage postgresql://user@host/db --study-name s1 --budget 80 \\
                        --workers 2 --worker-only
  and on one of them (or later) without --worker-only, for selection, re-evaluation and
  reports. With a database server there is no budget lock: up to workers-1 extra trials.
  An SQLite file on a shared filesystem works where its locks do (not on most NFS).

search space: --space FILE (default the bundled search_space.json) and/or --param
PATH=LOW:HIGH[:log][:int] (repeatable; --log after a --param makes it log-scale). With
--param and no --space only the --param parameters are searched; with both, --param adds
to or overrides the file. Quote paths that contain '->' (stdp.exc->exc..., projections...)
in a shell, or '>' redirects the output.
"""

class _LogFlag(argparse.Action):
    """``--log`` marks the preceding ``--param`` as log-scale."""

    def __call__(self, parser, namespace, values, option_string=None):
        params = getattr(namespace, "param", None) or []
        if not params:
            parser.error("--log applies to the --param just before it; none given")
        if not params[-1].endswith(":log"):
            params[-1] = params[-1] + ":log"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("design and search space")
    g.add_argument("--design", type=design_ref, default=None, help="base design file (default hrsnn)")
    g.add_argument("--space", default=None, help="search space file (default the bundled search_space.json)")
    g.add_argument("--param", action="append", default=None, metavar="PATH=LOW:HIGH[:log][:int]",
                   help="a searched parameter (repeatable), e.g. populations.exc.tau_m.cv=0.0:1.5")
    g.add_argument("--log", action=_LogFlag, nargs=0, help="make the preceding --param log-scale")
    g = parser.add_argument_group("objectives")
    g.add_argument("--objectives", default="efficiency",
                   help="comma-separated: efficiency (default), task, spikes, energy, mc, activity; "
                        "two or more give a Pareto front")
    g.add_argument("--constraint", action="append", default=[], metavar="METRIC>=X",
                   help='feasibility condition (repeatable), e.g. "accuracy>=0.8" or "nrmse<=0.3"')
    g.add_argument("--task", type=task_name, default="japanese_vowels",
                   help="task of the evaluator (default japanese_vowels)")
    g.add_argument("--profile", type=profile_name, default=None,
                   help="hardware profile for energy per inference (e.g. loihi2)")
    g.add_argument("--epochs", type=nonneg_int, default=None,
                   help="STDP training epochs (evaluator default if omitted)")
    g = parser.add_argument_group("study")
    g.add_argument("--budget", type=positive_int, default=None,
                   help="number of COMPLETE trials the study should hold, across resumes, in each of the HRSNN and "
                        "the tuned-MRSNN studies (default 40; --quick 4)")
    g.add_argument("--sampler", default="gp", choices=["gp", "tpe", "random", "nsga2", "optuna-gp"],
                   help="gp: scikit-learn GP + expected improvement (default); optuna-gp needs torch")
    g.add_argument("--n-startup", type=positive_int, default=None,
                   help="quasi-random trials before the GP (default: auto)")
    g.add_argument("--search-seeds", type=positive_int, default=1,
                   help="seeds averaged per trial during the search (default 1)")
    g.add_argument("--reeval-seeds", type=nonneg_int, default=None,
                   help="fresh seeds for re-evaluating the best design and the references (default 5; --quick 2)")
    g.add_argument("--confirm-seeds", type=nonneg_int, default=None,
                   help="seeds on which each study's best feasible trials are run again before one is selected: "
                        "the selection is the best whose constraints (the MC floor) still hold there (default 5; "
                        "--quick 1; 0: select on the search seeds)")
    g.add_argument("--confirm-top", type=positive_int, default=None,
                   help="how many of each study's best feasible trials are confirmed (default 5; --quick 2)")
    g.add_argument("--workers", type=positive_int, default=1,
                   help="worker processes on this machine (default 1); with --cluster, optuna workers on the "
                        "cluster (default 1: one per worker thread of the cluster)")
    add_fanout_arguments(g, workers=False, cluster_note="the study is shared through --storage (a database URL)")
    g.add_argument("--storage", default=None,
                   help="SQLite file or database URL of the study (default <out>/study.db; <out> defaults to "
                        "runs/optimize/<study-name>[_quick])")
    g.add_argument("--study-name", default="hrsnn", help="study name inside the storage (default hrsnn)")
    g.add_argument("--worker-only", action="store_true",
                   help="only run trials (another process/machine does selection and reports)")
    g.add_argument("--stale-after", type=positive_float, default=300.0,
                   help="seconds without heartbeat after which another host's running trial is retried (default 300; "
                        "on this host a dead worker's trial is retried at once)")
    g.add_argument("--evaluator", default=None, metavar="MODULE:FUNCTION",
                   help="objective function (default hrsnn_hw.experiment:evaluate_design; "
                        "hrsnn_hw.optimize.synthetic:evaluate for a dry run)")
    g.add_argument("--no-figures", action="store_true", help="do not write figures")
    g.add_argument("--no-mc-floor", action="store_true",
                   help="do not add the default constraint mc>=mrsnn to objectives a silent network improves")
    g.add_argument("--no-tuned-mrsnn", action="store_true",
                   help="do not tune the MRSNN (compare with the untuned reference MRSNN only)")


def _reference_file(name: str) -> Path:
    """A data file bundled with the reference designs (``search_space.json``)."""
    from ..reference import REFERENCE_DIR
    return REFERENCE_DIR / name


def _without_password(url: str | None) -> str | None:
    """A storage URL as it may be written into a file: the password replaced by ``***``."""
    if not url or "://" not in url:
        return url
    from sqlalchemy.engine import make_url
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a database URL sqlalchemy knows: keep nothing that could be a secret
        return url.split("://", 1)[0] + "://..."


def _command(args: argparse.Namespace, budget: int, reeval: int, confirm: tuple[int, int]) -> str:
    parts = ["hrsnn-hw", "optimize"]
    for flag, value in (("--design", args.design), ("--space", args.space), ("--objectives", args.objectives),
                        ("--task", args.task), ("--profile", args.profile), ("--epochs", args.epochs),
                        ("--budget", budget), ("--sampler", args.sampler), ("--search-seeds", args.search_seeds),
                        ("--reeval-seeds", reeval), ("--confirm-seeds", confirm[0]), ("--confirm-top", confirm[1]),
                        ("--seed", args.seed), ("--workers", args.workers),
                        ("--evaluator", args.evaluator), ("--cluster", args.cluster),
                        ("--storage", _without_password(args.storage)),
                        ("--study-name", args.study_name if args.study_name != "hrsnn" else None)):
        if value is not None:
            parts += [flag, str(value)]
    for p in args.param or []:
        parts += ["--param", p]
    for c in args.constraint:
        parts += ["--constraint", c]
    if args.quick:
        parts.append("--quick")
    for flag in ("no_mc_floor", "no_tuned_mrsnn"):
        if getattr(args, flag, False):
            parts.append("--" + flag.replace("_", "-"))
    if args.out:
        parts += ["--out", str(args.out)]
    return shlex.join(parts)


def build_config(args: argparse.Namespace):
    """The :class:`~hrsnn_hw.optimize.StudyConfig` of parsed arguments."""
    from ..optimize import make_config, read_space_file, space_from_cli
    from ..spec import read_spec_file

    design_path = Path(args.design) if args.design else _reference_file("hrsnn.json")
    design = read_spec_file(design_path)
    if args.param and not args.space:
        space = space_from_cli(args.param)
    else:
        space = read_space_file(Path(args.space) if args.space else _reference_file("search_space.json"))
        if args.param:
            space = space.merged(space_from_cli(args.param))
    budget = args.budget if args.budget is not None else (4 if args.quick else 40)
    reeval = args.reeval_seeds if args.reeval_seeds is not None else (2 if args.quick else 5)
    confirm = (args.confirm_seeds if args.confirm_seeds is not None else (1 if args.quick else 5),
               args.confirm_top if args.confirm_top is not None else (2 if args.quick else 5))
    out = Path(args.out) if args.out else _default_out(args)
    storage = args.storage or str(out / "study.db")
    return make_config(design, space, objectives=args.objectives, constraints=args.constraint, task=args.task,
                       profile=args.profile, epochs=args.epochs, quick=args.quick, seed=args.seed,
                       search_seeds=args.search_seeds, budget=budget, workers=args.workers, sampler=args.sampler,
                       n_startup=args.n_startup, storage=storage, study_name=args.study_name, out=out,
                       reeval_seeds=reeval, confirm_seeds=confirm[0], confirm_top=confirm[1], stale_after_s=args.stale_after, figures=not args.no_figures,
                       worker_only=args.worker_only, mc_floor=not args.no_mc_floor,
                       tune_mrsnn=not args.no_tuned_mrsnn, command=_command(args, budget, reeval, confirm),
                       cluster=args.cluster, cluster_timeout_s=args.cluster_timeout)


def _text(result) -> str:
    lines = [f"study {result.study_name!r} in {result.storage}: "
             + ", ".join(f"{v} {k}" for k, v in result.trials.items() if v)]
    if result.best is None:
        lines.append("no feasible trial" if result.trials.get("complete") else "no complete trial")
    else:
        b = result.best
        vals = ", ".join(f"{k}={v:.4g}" for k, v in b["values"].items())
        lines.append(f"selected trial {b['trial']}: {vals} (search seeds {b.get('search_seeds')})")
        for k, v in b["params"].items():
            lines.append(f"  {k} = {v:.6g}")
    for text, value in result.constraint_values.items():
        if "mrsnn" in text:
            lines.append(f"constraint {text}: the reference MRSNN's value on the search seeds is {value:.4g}")
    if result.confirmation:
        c = result.confirmation
        for label, study in c["studies"].items():
            state = "constraints hold there" if study["confirmed"] else "no candidate held the constraints there"
            lines.append(f"confirmation ({label}): {len(study['candidates'])} best feasible trials on seeds "
                         f"{c['seeds']}; selected trial {study['selected']} (search-seed best: trial "
                         f"{study['search_selected']}); {state}")
    if result.tuned_mrsnn:
        t = result.tuned_mrsnn
        sel = f"selected trial {t['best']['trial']}" if t.get("best") else "no feasible trial"
        lines.append(f"tuned MRSNN study {t['study_name']!r}: "
                     + ", ".join(f"{v} {k}" for k, v in t["trials"].items() if v) + f"; {sel}")
    if result.pareto:
        lines.append(f"Pareto front: {len(result.pareto)} designs (trials {[p['trial'] for p in result.pareto]})")
    if result.mc_activity_front:
        lines.append(f"MC-activity front of the search: trials {[p['trial'] for p in result.mc_activity_front]}")
    if result.table_markdown:
        lines += ["", result.table_markdown]
    for k, v in result.files.items():
        if k != "figures":
            lines.append(f"{k}: {v}")
    for k, v in (result.files.get("figures") or {}).items():
        lines.append(f"figure {k}: {v}")
    t = result.timings
    lines.append(f"search {t.get('search_wall_s', 0):.1f} s, confirmation {t.get('confirm_wall_s', 0) or 0:.1f} s, "
                 f"re-evaluation {t.get('reeval_wall_s', 0) or 0:.1f} s")
    return "\n".join(lines)


def _default_out(args: argparse.Namespace) -> Path:
    # quick and full studies differ in setup, so by default they live apart
    return Path("runs") / "optimize" / (args.study_name + ("_quick" if args.quick else ""))


def OUTPUT(args: argparse.Namespace) -> Path | None:  # noqa: N802 - the CLI's hook name
    """The folder this run locks: none for --worker-only (many workers share one study)."""
    return None if args.worker_only else Path(args.out or _default_out(args))


def check(args: argparse.Namespace) -> None:
    """Every option, the design, the search space and the storage before the first trial."""
    args._config = build_config(args)
    connect(args)


def run(args: argparse.Namespace) -> dict:
    from . import CheckFailed, progress_enabled
    from ..optimize import optimize

    config = getattr(args, "_config", None) or build_config(args)
    with executor_of(args) as executor:
        result = optimize(config, args.evaluator, progress=progress_enabled(args), executor=executor)
    out = result.to_dict()
    if not getattr(args, "json", False):
        out["_text"] = _text(result)
    if not args.worker_only and result.best is None:
        if not result.trials.get("complete"):
            raise CheckFailed(out, "no trial completed")
        best_mc = max((p["mc"] for p in result.mc_activity_front), default=None)
        bounds = ", ".join(f"{text} (= {value:.4g})" if "mrsnn" in text else text
                           for text, value in result.constraint_values.items())
        found = f"; the most MC found was {best_mc:.4g}" if best_mc is not None else ""
        raise CheckFailed(out, f"no trial of {result.trials['complete']} satisfies the constraints {bounds}{found}; "
                               "raise --budget, or see summary.md and mc_activity.png")
    return out
