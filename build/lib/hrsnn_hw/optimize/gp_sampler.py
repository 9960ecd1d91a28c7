"""A Gaussian-process Bayesian-optimisation sampler for optuna, on scikit-learn (no torch).

The paper chooses the heterogeneity by Bayesian optimisation with a GP surrogate. optuna's
own ``GPSampler`` needs torch; this sampler gives the same kind of search with what the
project already depends on:

* **Start-up**: the first ``n_startup_trials`` trials are points of one scrambled Sobol
  sequence (point ``i`` for trial number ``i``), so parallel workers never propose the
  same start-up point and a study is reproducible for its seed.
* **Surrogate**: ``GaussianProcessRegressor`` with a constant x Matern-5/2 kernel (one
  length scale per parameter, ARD) plus a white-noise term (the objective is noisy), on
  parameters mapped to the unit cube (log-scaled parameters in log space) and targets
  normalised by scikit-learn (``normalize_y``). Hyperparameters by maximum likelihood.
* **Acquisition**: expected improvement over the best *posterior mean* at an observed
  feasible point (robust to noise), maximised over Sobol candidates plus Gaussian
  perturbations of the best points, then polished by L-BFGS-B.
* **Constraints** (optuna's ``trial.constraints``, ``c <= 0`` feasible): one GP per
  constraint; the acquisition is EI x probability of feasibility (Gardner et al. 2014);
  while nothing feasible is known it is the probability of feasibility alone.
* **Parallel workers**: trials still RUNNING in other workers enter the GP as
  pseudo-observations at the posterior mean ("kriging believer"), which removes their
  neighbourhood's uncertainty so two workers do not propose the same point.
* **Multi-objective**: ParEGO (Knowles 2006) - each trial draws a random weight vector
  (seeded by the trial number), scalarises the normalised objectives with the augmented
  Chebyshev function and runs the single-objective GP search on that.

Everything random is keyed by ``(seed, trial.number)``: the sampler holds no state between
trials, so any number of workers can share a study.
"""
from __future__ import annotations

import math
import warnings
import zlib
from typing import Any, Callable, Mapping, Sequence

import numpy as np
from optuna.distributions import BaseDistribution, FloatDistribution, IntDistribution
from optuna.samplers import BaseSampler
from optuna.search_space import IntersectionSearchSpace
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState
from scipy import optimize as sp_optimize
from scipy import stats
from scipy.stats import qmc


def _check_dist(name: str, dist: BaseDistribution) -> None:
    if not isinstance(dist, (FloatDistribution, IntDistribution)):
        raise ValueError(f"SklearnGPSampler supports numeric parameters only; {name!r} is {type(dist).__name__}")


def to_unit(dist: BaseDistribution, value: float) -> float:
    """Map a parameter value into [0, 1] (log space for log distributions)."""
    low, high = float(dist.low), float(dist.high)
    if high == low:
        return 0.5
    if dist.log:
        return (math.log(value) - math.log(low)) / (math.log(high) - math.log(low))
    return (float(value) - low) / (high - low)


def from_unit(dist: BaseDistribution, u: float) -> float | int:
    """Inverse of :func:`to_unit`, rounded onto the distribution's grid."""
    u = min(max(float(u), 0.0), 1.0)
    low, high = float(dist.low), float(dist.high)
    if dist.log:
        v = math.exp(math.log(low) + u * (math.log(high) - math.log(low)))
    else:
        v = low + u * (high - low)
    step = getattr(dist, "step", None)
    if isinstance(dist, IntDistribution):
        step = step or 1
        v = int(round((v - low) / step) * step + low)
        return int(min(max(v, dist.low), dist.high))
    if step is not None:
        v = round((v - low) / step) * step + low
    return float(min(max(v, low), high))


def parego_scalarise(y: np.ndarray, weights: np.ndarray, rho: float = 0.05) -> np.ndarray:
    """Augmented Chebyshev scalarisation of minimisation objectives ``y`` (n, m), normalised to [0, 1]."""
    lo, hi = y.min(axis=0), y.max(axis=0)
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    z = (y - lo) / span
    return np.max(weights * z, axis=1) + rho * np.sum(weights * z, axis=1)


def _fit_gp(x: np.ndarray, y: np.ndarray, seed: int, kernel: Any = None, n_restarts: int = 1) -> Any:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
    if kernel is None:
        d = x.shape[1]
        kernel = (ConstantKernel(1.0, (1e-2, 1e2))
                  * Matern(length_scale=np.full(d, 0.3), length_scale_bounds=(1e-2, 1e1), nu=2.5)
                  + WhiteKernel(1e-2, (1e-6, 1.0)))
        gp = GaussianProcessRegressor(kernel, normalize_y=True, n_restarts_optimizer=n_restarts,
                                      random_state=seed)
    else:
        gp = GaussianProcessRegressor(kernel, normalize_y=True, optimizer=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        gp.fit(x, y)
    return gp


class SklearnGPSampler(BaseSampler):
    """GP-surrogate Bayesian optimisation with expected improvement (see module docstring).

    Parameters
    ----------
    search_space : mapping of str to distribution, optional
        The parameters to sample jointly. Default: the intersection of the completed trials'
        spaces (optuna's usual inference); give it when known so start-up is joint too.
    seed : int
        Seed of the Sobol sequence and of every candidate set.
    n_startup_trials : int
        Number of quasi-random trials before the GP takes over.
    n_candidates : int
        Sobol candidates per acquisition (rounded up to a power of two).
    n_restarts : int
        Extra random restarts of the kernel-hyperparameter fit (maximum likelihood).
    failed_as_worst : callable, optional
        ``f(frozen_trial) -> bool``: failed trials for which it is true enter the objective
        GP with the worst observed value (designs the evaluator could not run steer the search
        away from their region instead of being ignored).
    """

    def __init__(self, search_space: Mapping[str, BaseDistribution] | None = None, *, seed: int = 0,
                 n_startup_trials: int = 8, n_candidates: int = 2048, n_restarts: int = 1,
                 failed_as_worst: Callable[[FrozenTrial], bool] | None = None) -> None:
        self._space = dict(search_space) if search_space is not None else None
        if self._space:
            for name, dist in self._space.items():
                _check_dist(name, dist)
        self._seed = int(seed)
        self._n_startup = max(1, int(n_startup_trials))
        self._n_candidates = 1 << max(6, int(math.ceil(math.log2(max(2, n_candidates)))))
        self._failed_as_worst = failed_as_worst
        self._n_restarts = max(0, int(n_restarts))
        self._intersection = IntersectionSearchSpace()
        self._sobol_cache: dict[tuple[int, int], np.ndarray] = {}

    # -- optuna sampler interface ---------------------------------------------------------
    def reseed_rng(self) -> None:  # stateless: randomness is keyed by (seed, trial number)
        pass

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        if self._space is not None:
            return dict(self._space)
        space = self._intersection.calculate(study)
        out = {}
        for name, dist in space.items():
            if dist.single():
                continue
            _check_dist(name, dist)
            out[name] = dist
        return out

    def sample_relative(self, study: Study, trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        if not search_space:
            return {}
        fixed = trial.system_attrs.get("fixed_params", {}) or {}
        if all(name in trial.params or name in fixed for name in search_space):
            return {}  # a retried or enqueued trial: its values are already decided
        names = list(search_space)
        trials = study.get_trials(deepcopy=False)
        complete = [t for t in trials if t.state == TrialState.COMPLETE and all(n in t.params for n in names)]
        if len(complete) < self._n_startup or trial.number < self._n_startup:
            u = self._sobol_point(len(names), trial.number)
        else:
            u = self._acquire(study, trial, trials, complete, names, search_space)
        return {name: from_unit(search_space[name], float(ui)) for name, ui in zip(names, u)}

    def sample_independent(self, study: Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        from optuna.samplers import RandomSampler
        if isinstance(param_distribution, (FloatDistribution, IntDistribution)):
            rng = np.random.default_rng([self._seed & 0xFFFFFFFF, trial.number, zlib.crc32(param_name.encode())])
            return from_unit(param_distribution, float(rng.random()))
        return RandomSampler(seed=self._seed + trial.number).sample_independent(
            study, trial, param_name, param_distribution)

    # -- internals ------------------------------------------------------------------------
    def _sobol_point(self, d: int, index: int) -> np.ndarray:
        m = max(1, int(math.ceil(math.log2(index + 1))))
        key = (d, m)
        if key not in self._sobol_cache:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._sobol_cache[key] = qmc.Sobol(d, scramble=True, seed=self._seed).random_base2(m)
        return self._sobol_cache[key][index]

    def _targets(self, study: Study, trial: FrozenTrial, complete: Sequence[FrozenTrial]) -> np.ndarray:
        signs = np.array([-1.0 if d == StudyDirection.MAXIMIZE else 1.0 for d in study.directions])
        values = np.array([t.values for t in complete], dtype=np.float64) * signs
        if values.shape[1] == 1:
            return values[:, 0]
        rng = np.random.default_rng([self._seed & 0xFFFFFFFF, trial.number, 11])
        return parego_scalarise(values, rng.dirichlet(np.ones(values.shape[1])))

    def _acquire(self, study: Study, trial: FrozenTrial, trials: Sequence[FrozenTrial],
                 complete: Sequence[FrozenTrial], names: list[str],
                 space: Mapping[str, BaseDistribution]) -> np.ndarray:
        def unit(t: FrozenTrial) -> list[float]:
            return [to_unit(space[n], t.params[n]) for n in names]

        gp_seed = int(np.random.default_rng([self._seed & 0xFFFFFFFF, trial.number, 3]).integers(2**31 - 1))
        x = np.array([unit(t) for t in complete], dtype=np.float64)
        y = self._targets(study, trial, complete)
        finite = np.isfinite(y)
        x, y, complete = x[finite], y[finite], [t for t, f in zip(complete, finite) if f]
        if len(y) < 2:
            return self._sobol_point(len(names), trial.number)
        x_obj, y_obj = x, y
        if self._failed_as_worst is not None:
            bad = [unit(t) for t in trials if t.state == TrialState.FAIL
                   and all(n in t.params for n in names) and self._failed_as_worst(t)]
            if bad:
                x_obj = np.vstack([x, np.array(bad)])
                y_obj = np.concatenate([y, np.full(len(bad), float(y.max()))])
        gp = _fit_gp(x_obj, y_obj, gp_seed, n_restarts=self._n_restarts)
        pending = [unit(t) for t in trials if t.state == TrialState.RUNNING and t.number != trial.number
                   and all(n in t.params for n in names)]
        if pending:
            xp = np.array(pending)
            gp = _fit_gp(np.vstack([x_obj, xp]), np.concatenate([y_obj, gp.predict(xp)]), gp_seed, kernel=gp.kernel_)

        keys = sorted({k for t in complete for k in t.constraints})
        cons_gps = []
        feasible = np.ones(len(complete), dtype=bool)
        for k in keys:
            c = np.array([t.constraints.get(k, np.inf) for t in complete], dtype=np.float64)
            feasible &= c <= 0
            ok = np.isfinite(c)
            c = np.where(ok, c, (c[ok].max() + 1.0) if ok.any() else 1.0)
            cons_gps.append(_fit_gp(x, c, gp_seed, n_restarts=self._n_restarts))
        incumbent = float(np.min(gp.predict(x[feasible]))) if feasible.any() else None

        def acq(u: np.ndarray) -> np.ndarray:
            u = np.atleast_2d(u)
            out = np.ones(u.shape[0])
            for cgp in cons_gps:
                mu_c, sd_c = cgp.predict(u, return_std=True)
                out *= stats.norm.cdf(-mu_c / np.maximum(sd_c, 1e-12))
            if incumbent is None:
                return out
            mu, sd = gp.predict(u, return_std=True)
            sd = np.maximum(sd, 1e-12)
            z = (incumbent - mu) / sd
            return out * ((incumbent - mu) * stats.norm.cdf(z) + sd * stats.norm.pdf(z))

        rng = np.random.default_rng([self._seed & 0xFFFFFFFF, trial.number, 5])
        d = len(names)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cands = [qmc.Sobol(d, scramble=True, seed=rng).random(self._n_candidates)]
        order = np.argsort(np.where(feasible, y, np.inf) if feasible.any() else y)[:5]
        for i in order:
            for scale in (0.03, 0.1):
                cands.append(np.clip(x[i] + rng.normal(0.0, scale, size=(128, d)), 0.0, 1.0))
        cands = np.vstack(cands)
        scores = acq(cands)
        best_idx = np.argsort(-scores)[:3]
        best_u, best_score = cands[best_idx[0]], float(scores[best_idx[0]])
        for i in best_idx:
            res = sp_optimize.minimize(lambda v: -float(acq(v)[0]), cands[i], method="L-BFGS-B",
                                       bounds=[(0.0, 1.0)] * d, options={"maxiter": 30})
            if np.isfinite(res.fun) and -res.fun > best_score:
                best_u, best_score = np.clip(res.x, 0.0, 1.0), float(-res.fun)
        return best_u
