"""Synthetic control for one or several treated areas with their own start dates.

Abadie, A. and Gardeazabal, J. (2003), *American Economic Review* 93(1); Abadie, Diamond and
Hainmueller (2010), *JASA* 105(490) and (2015), *AJPS* 59(2); pooled inference over several
treated units as Cavallo, Galiani, Noy and Pantano (2013), *Review of Economics and Statistics*
95(5). The single-unit fit is checked against ``pysyncon`` (``Synth``) in the tests.

**One synthetic area per treated area.** For treated area ``j`` first treated in period ``s_j``,
the donors are the never-treated areas (minus any excluded, e.g. spillover rings) and the weights
``w`` (non-negative, summing to 1) solve

    min_w  sum_k v_k (X1_k - X0_k w)^2,

with ``X`` the predictors over the pre-period (periods before ``s_j``, or only the last
``pre_periods`` of them).

- *Without covariates* (default) the predictors are the outcome in every pre-period and
  ``V = I``: the weights minimise the pre-period mean squared prediction error (MSPE) of the
  outcome itself. (The nested optimisation of ``V`` would have the same outer objective, and with
  every lag as a predictor it adds nothing; Kaul et al. 2022, *Journal of Business & Economic
  Statistics* 40(3).)
- *With covariates* (a table of area attributes): the predictors are the covariates and the mean
  outcome over each of ``outcome_blocks`` consecutive blocks of the pre-period; each predictor is
  divided by its standard deviation across the treated and donor areas (as R ``Synth`` and
  ``pysyncon``), and the diagonal ``V`` (non-negative, summing to 1) is chosen to minimise the
  pre-period outcome MSPE of the resulting synthetic area (ADH 2010), by Nelder-Mead on
  ``V = |x| / sum|x|`` from two starts (equal weights, and the regression-based start of
  ``pysyncon``'s ``optim_initial="ols"``), keeping the better.

The inner problem (weights for a given ``V``) is solved *exactly* by an active-set method for
least squares on the simplex (:func:`simplex_least_squares`; Lawson and Hanson's NNLS algorithm
with the sum-to-one constraint, each subproblem solved by least squares after eliminating one
weight), not by a general-purpose optimiser.

**Effects.** Gap = actual - synthetic, per period; the area's ATT is the mean post-period gap; the
pooled ATT is the plain average of the treated areas' ATTs. Pre-period fit: RMSPE (root MSPE)
over the pre-period, also as a percentage of the area's pre-period mean.

**When the fit is not unique.** With few pre-periods and many donors, many weight sets fit the
pre-period equally well (often exactly), and they can imply very different effects; the solver
returns one of them. Because the objective is strictly convex in the fitted pre-period values
``Z0 w``, the optimal weights are exactly the simplex weights ``v`` with ``Z0 v = Z0 w*``
(``Z0 v = Z1`` when the fit is exact): a polytope. The post-period ATT is linear in ``v``, so its
smallest and largest values over all optimal weights are two small linear programmes
(:func:`effect_range`, HiGHS via ``scipy.optimize.linprog``). Each treated area reports the
range (``att_min``, ``att_max``) and ``fit_unique`` (False when the range is wider than
``UNIQUE_RTOL`` = 0.01% of the area's pre-period level); the pooled range is the mean of the
areas' bounds. A non-unique fit is reported as such ("the pre-period fit is not unique:
effects from A to B fit equally well"), not as one effect with a perfect fit. The range is
computed without covariates (``V = I``); with covariates it is not checked (``fit_unique`` is
``None``). Placebo fits are not checked.

**Placebos in space.** Per treated area (ADH 2010): each donor in turn is treated as if it had
started on ``s_j``, with its own synthetic area from the other donors (treated areas are never
donors); the p-value is the rank of the area's post/pre RMSPE ratio among itself and its
placebos, ``(1 + #{placebo ratio >= own}) / (1 + n_placebos)``.

Pooled over several treated areas, by *placebo assignment* (a permutation test of the sharp
null of no effect in any area): each draw picks as many areas as there are treated areas from
all of them (treated and donors), gives them the treated areas' start dates (a random one-to-one
assignment), fits each from the areas not drawn, and computes the pooled statistics exactly as
for the real design, whose treated areas are likewise fitted from the areas not treated. So
every draw, the real one included, uses donor pools of the same size. All assignments are
enumerated when there are at most ``n_draws`` (p = share of assignments at least as extreme as
the real one, which is among them), otherwise ``n_draws`` are drawn with the seed
(``p = (1 + #{draw >= observed}) / (1 + n_draws)``). Statistics: the mean RMSPE ratio
(one-sided, large) and the absolute pooled ATT (two-sided). In our simulations the Cavallo et
al. (2013) combination of per-area placebos, and placebo draws from the donors alone (fitted from
smaller pools than the real treated areas), both rejected a true null in 7-10% of samples at the
5% level (the real areas' larger donor pools overfit the pre-period); the assignment test holds
its size. The interval for the pooled ATT is ``ATT +/- c`` with ``c`` the ``1 - alpha``
quantile of ``|ATT|`` over the draws: the inversion of the test for a constant additive effect,
exact when the effect is 0, and otherwise conservative (draws that contain treated areas carry
part of their effect). :func:`placebo_assignments` also gives the power of the design
(:mod:`vru.analysis.evaluation`, on the donors alone): an effect added to the placebo areas'
post-period outcomes shifts each draw's ATT by a known amount.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

import numpy as np
import pandas as pd
from scipy.optimize import linprog, minimize, nnls

from vru.analysis.did import EvaluationError, as_panel
from vru.model.panel import Panel

# --- weights on the simplex -------------------------------------------------------------------


def _nnls_start(A: np.ndarray, b: np.ndarray, scale: float) -> tuple[np.ndarray, list[int]] | None:
    """A warm start: NNLS (compiled) with the sum-to-one constraint as a heavily weighted extra
    row, its support re-solved exactly; ``None`` unless every weight there is positive."""
    J = A.shape[1]
    M = 1e3 * np.sqrt(scale)
    try:
        w0 = nnls(np.vstack([A, np.full(J, M)]), np.append(b, M))[0]
    except (RuntimeError, ValueError):
        return None
    P = [int(i) for i in np.flatnonzero(w0 > 0)]
    if not P:
        return None
    z = np.zeros(J)
    if len(P) == 1:
        z[P[0]] = 1.0
    else:
        first, rest = P[0], P[1:]
        v = np.linalg.lstsq(A[:, rest] - A[:, [first]], b - A[:, first], rcond=None)[0]
        z[rest] = v
        z[first] = 1.0 - v.sum()
    if not (z[P] > 0).all():
        return None
    return z, P


def simplex_least_squares(A: np.ndarray, b: np.ndarray, *, tol: float = 1e-10,
                          max_iter: int | None = None) -> np.ndarray:
    """``argmin ||A w - b||^2`` subject to ``w >= 0`` and ``sum(w) = 1`` (exact, active set).

    Optimality (KKT): every weight in the support has the same gradient ``g_j = (A'(Aw - b))_j``
    and no donor outside has a smaller one. The active-set iterations solve each equality-
    constrained subproblem from the Gram matrix ``A'A`` (fast), starting from the support that
    NNLS finds with the constraint as a heavily weighted extra row; the final support is solved
    again by least squares on ``A`` itself (accurate), and the KKT conditions are always
    checked. When the solution is not unique (more donors in the support than independent
    pre-periods) the support found is one of the optimal ones.
    """
    A = np.asarray(A, dtype=float)
    b = np.asarray(b, dtype=float)
    m, J = A.shape
    if J == 0:
        raise EvaluationError("no donor areas")
    if J == 1:
        return np.ones(1)
    H = A.T @ A
    f = A.T @ b
    scale = max(float(np.diag(H).max()), float(np.abs(f).max()), 1e-300)
    thresh = tol * scale
    w = np.zeros(J)
    j0 = int(np.argmin(np.diag(H) - 2 * f))  # the single donor nearest b
    w[j0] = 1.0
    P = [j0]
    banned: set[int] = set()
    start = _nnls_start(A, b, scale)
    if start is not None:
        w, P = start
    max_iter = max_iter or 10 * J + 20

    def eqp_gram(S: list[int]) -> np.ndarray | None:
        k = len(S)
        K = np.ones((k + 1, k + 1))
        K[:k, :k] = H[np.ix_(S, S)]
        K[k, k] = 0.0
        rhs = np.append(f[S], 1.0)
        try:
            sol = np.linalg.solve(K, rhs)
        except np.linalg.LinAlgError:
            return None
        if not np.isfinite(sol).all():
            return None
        z = np.zeros(J)
        z[S] = sol[:k]
        return z

    def eqp_lstsq(S: list[int]) -> np.ndarray:
        z = np.zeros(J)
        if len(S) == 1:
            z[S[0]] = 1.0
            return z
        first, rest = S[0], S[1:]
        v = np.linalg.lstsq(A[:, rest] - A[:, [first]], b - A[:, first], rcond=None)[0]
        z[rest] = v
        z[first] = 1.0 - v.sum()
        return z

    def eqp(S: list[int]) -> np.ndarray:
        if len(S) == 1:
            z = np.zeros(J)
            z[S[0]] = 1.0
            return z
        exact = eqp_gram(S)
        return eqp_lstsq(S) if exact is None else exact

    for _ in range(max_iter):
        grad = H @ w - f
        level = grad[P].mean()
        out = np.ones(J, dtype=bool)
        out[P] = False
        if banned:
            out[list(banned)] = False
        if not out.any():
            break
        cand = np.flatnonzero(out)
        j = int(cand[np.argmin(grad[cand])])
        if grad[j] >= level - thresh:
            break
        P.append(j)
        for _inner in range(J + 1):
            z = eqp(P)
            if (z[P] > 0).all():
                w = z
                break
            neg = [i for i in P if z[i] <= 0]
            step = min(w[i] / (w[i] - z[i]) for i in neg)
            w = w + step * (z - w)
            keep = [i for i in P if w[i] > 1e-14]
            for i in P:
                if i not in keep:
                    w[i] = 0.0
            if j not in keep:  # the entering donor left at once: numerical tie, stop trying it
                banned.add(j)
            P = keep or [j]
        w = np.clip(w, 0, None)
        w /= w.sum()
    if len(P) > 1:  # polish the final support on A itself
        z = eqp_lstsq(P)
        if (z[P] >= 0).all():
            w = z
    w = np.clip(w, 0, None)
    return w / float(w.sum())


UNIQUE_RTOL = 1e-4  # effect ranges narrower than this share of the outcome level count as one


def effect_range(Z0: np.ndarray, w: np.ndarray, post: np.ndarray, actual_post: float, *,
                 rtol: float = 1e-9) -> tuple[float, float]:
    """Smallest and largest post-period ATT over every donor weight set that fits the
    pre-period as well as ``w`` (see the module docstring).

    ``Z0``: pre-period donor outcomes (m x J); ``w``: optimal simplex weights; ``post``: each
    donor's mean post-period outcome (J); ``actual_post``: the treated area's. The optimal
    weights are exactly the simplex weights with the same fitted pre-period values ``Z0 w``
    (the objective is strictly convex in them), a linear set: the two linear programmes
    ``min/max post . v`` over it are solved with HiGHS. Rows of ``Z0`` are replaced by an
    orthonormal basis of its row space (singular values above ``rtol`` times the largest), so
    redundant pre-periods do not make the equalities inconsistent.
    """
    Z0 = np.asarray(Z0, dtype=float)
    J = Z0.shape[1]
    if J == 1:
        a = float(actual_post - post[0])
        return a, a
    _, sv, vt = np.linalg.svd(Z0, full_matrices=False)
    r = int((sv > rtol * (sv[0] if len(sv) else 0.0)).sum())
    A = np.vstack([vt[:r], np.ones(J)])
    b = np.append(vt[:r] @ w, 1.0)
    out = []
    for sign in (1.0, -1.0):
        res = linprog(sign * post, A_eq=A, b_eq=b, bounds=(0, None), method="highs")
        if res.status != 0:  # cannot happen for a feasible w; keep the point estimate
            out.append(float(post @ w))
        else:
            out.append(float(post @ res.x))
    lo_syn, hi_syn = min(out[0], post @ w), max(out[1], post @ w)
    return float(actual_post - hi_syn), float(actual_post - lo_syn)


def fit_weights(X0: np.ndarray, X1: np.ndarray, Z0: np.ndarray, Z1: np.ndarray, *,
                v: np.ndarray | None = None, standardise: bool = True,
                maxiter: int | None = None) -> tuple[np.ndarray, np.ndarray, float]:
    """Donor weights, predictor weights ``V`` and the pre-period outcome MSPE.

    ``X0`` (k predictors x J donors), ``X1`` (k), ``Z0`` (m pre-periods x J), ``Z1`` (m).
    ``standardise``: divide each predictor by its standard deviation (``ddof=1``) over the
    treated and donor areas. ``v``: fixed predictor weights (``pysyncon``'s ``custom_V``);
    ``None``: nested optimisation (see the module docstring).
    """
    X0, X1, Z0, Z1 = (np.asarray(a, dtype=float) for a in (X0, X1, Z0, Z1))
    if standardise:
        sd = np.column_stack([X0, X1]).std(axis=1, ddof=1)
        keep = sd > 0
        X0 = X0[keep] / sd[keep, None]
        X1 = X1[keep] / sd[keep]
        if v is not None:
            v = np.asarray(v, dtype=float)[keep]
    else:
        keep = np.ones(len(X1), dtype=bool)

    def solve(vv: np.ndarray) -> np.ndarray:
        r = np.sqrt(vv)
        return simplex_least_squares(X0 * r[:, None], X1 * r)

    def loss(W: np.ndarray) -> float:
        e = Z1 - Z0 @ W
        return float(e @ e / len(Z1))

    if v is not None:
        W = solve(np.asarray(v, dtype=float))
        v_full = np.zeros(len(keep))
        v_full[keep] = v
        return W, v_full, loss(W)
    k = X0.shape[0]

    def objective(x: np.ndarray) -> float:
        a = np.abs(x)
        s = a.sum()
        if s == 0:
            return np.inf
        return loss(solve(a / s))

    starts = [np.full(k, 1.0 / k)]
    Xa = np.column_stack([X0, X1])
    Xr = np.column_stack([np.ones(Xa.shape[1]), Xa.T])
    Za = np.column_stack([Z0, Z1])
    beta = np.linalg.lstsq(Xr, Za.T, rcond=None)[0][1:]
    ols = np.einsum("ij,ij->i", beta, beta)
    if ols.sum() > 0 and np.isfinite(ols).all():
        starts.append(ols / ols.sum())
    def nelder_mead(x0: np.ndarray) -> Any:  # scipy's OptimizeResult
        return minimize(objective, x0, method="Nelder-Mead",
                        options={"maxiter": maxiter or max(1000, 100 * k), "xatol": 1e-8,
                                 "fatol": 1e-12})

    best = nelder_mead(starts[0])
    for x0 in starts[1:]:
        res = nelder_mead(x0)
        if res.fun < best.fun:
            best = res
    vv = np.abs(best.x) / np.abs(best.x).sum()
    W = solve(vv)
    v_full = np.zeros(len(keep))
    v_full[keep] = vv
    return W, v_full, loss(W)


# --- one treated area --------------------------------------------------------------------------


@dataclass
class SynthUnit:
    """The synthetic control of one treated area (and, if run, its placebos)."""

    unit: object
    start: object
    weights: pd.Series  # donor -> weight, largest first
    v: pd.Series | None  # predictor -> weight (None without covariates: V = I on outcomes)
    actual: pd.Series
    synthetic: pd.Series
    n_pre: int
    pre_rmspe: float
    post_rmspe: float
    att: float
    pre_mean: float
    placebo_att: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    placebo_ratio: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    placebo_pre_rmspe: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    placebo_gaps: pd.DataFrame | None = None
    att_min: float = np.nan  # smallest ATT over the equally good pre-period fits (NaN: not checked)
    att_max: float = np.nan  # largest

    @property
    def fit_unique(self) -> bool | None:
        """Whether the pre-period fit pins the effect down (``None``: not checked, covariates).
        False when equally good fits give effects further apart than ``UNIQUE_RTOL`` times the
        area's pre-period level."""
        if not np.isfinite(self.att_min):
            return None
        scale = abs(self.pre_mean) if self.pre_mean else 1.0
        return bool(self.att_max - self.att_min <= UNIQUE_RTOL * scale)

    @property
    def gap(self) -> pd.Series:
        return self.actual - self.synthetic

    @property
    def ratio(self) -> float:
        return self.post_rmspe / self.pre_rmspe if self.pre_rmspe > 0 else np.inf

    @property
    def p_value(self) -> float:
        """Placebo rank p-value of the RMSPE ratio (NaN without placebos)."""
        n = len(self.placebo_ratio)
        if n == 0:
            return np.nan
        return (1 + int((self.placebo_ratio >= self.ratio - 1e-12).sum())) / (1 + n)

    @property
    def pre_rmspe_pct(self) -> float:
        return 100 * self.pre_rmspe / abs(self.pre_mean) if self.pre_mean else np.nan


def _fit_arrays(Y: np.ndarray, u: int, s: int, donors: np.ndarray, lo: int,
                cov: np.ndarray | None, blocks: int) -> tuple[np.ndarray, np.ndarray | None,
                                                           np.ndarray]:
    """Weights, V and gap (periods lo..end) of column ``u`` of ``Y`` (periods x areas)."""
    Z0 = Y[lo:s][:, donors]
    Z1 = Y[lo:s, u]
    if cov is None:
        W = simplex_least_squares(Z0, Z1)
        vv = None
    else:
        cols = np.append(donors, u)
        parts = np.array_split(np.arange(lo, s), min(blocks, s - lo))
        X = np.vstack([cov[:, cols]] + [Y[p][:, cols].mean(axis=0) for p in parts])
        W, vv, _ = fit_weights(X[:, :-1], X[:, -1], Z0, Z1)
    gap = Y[lo:, u] - Y[lo:][:, donors] @ W
    return W, vv, gap


def _predictor_names(periods: pd.Index, lo: int, s: int, covariates: pd.DataFrame | None,
                     blocks: int) -> list[str]:
    names = [] if covariates is None else [str(c) for c in covariates.columns]
    for p in np.array_split(np.arange(lo, s), min(blocks, s - lo)):
        names.append(f"outcome {periods[p[0]]}..{periods[p[-1]]}" if len(p) > 1
                     else f"outcome {periods[p[0]]}")
    return names


def fit_unit(Y: pd.DataFrame, unit: Hashable, start: Hashable, donors: list, *,
             covariates: pd.DataFrame | None = None, outcome_blocks: int = 4,
             pre_periods: int | None = None) -> SynthUnit:
    """Synthetic control for ``unit`` (a column of ``Y``: periods x areas) treated from ``start``."""
    periods = Y.index
    s = periods.get_loc(start)
    lo = 0 if pre_periods is None else max(0, s - pre_periods)
    if s - lo <= 0:
        raise EvaluationError(f"area {unit!r}: no pre-period before {start!r}")
    cols = Y.columns
    arr = Y.to_numpy(dtype=float)
    d_idx = cols.get_indexer(donors)
    cov = None if covariates is None else covariates.loc[list(cols)].to_numpy(dtype=float).T
    W, vv, gap = _fit_arrays(arr, cols.get_loc(unit), s, d_idx, lo, cov, outcome_blocks)
    v_series = None if vv is None else pd.Series(
        vv, index=_predictor_names(periods, lo, s, covariates, outcome_blocks), name="v")
    window = periods[lo:]
    actual = Y.loc[window, unit].astype(float)
    synthetic = pd.Series(actual.to_numpy() - gap, index=window)
    n_pre = s - lo
    w = pd.Series(W, index=pd.Index(donors, name="donor"), name="weight")
    fit = SynthUnit(unit, start, w.sort_values(ascending=False), v_series, actual, synthetic,
                    n_pre, float(np.sqrt(np.mean(gap[:n_pre] ** 2))),
                    float(np.sqrt(np.mean(gap[n_pre:] ** 2))), float(gap[n_pre:].mean()),
                    float(actual.iloc[:n_pre].mean()))
    if cov is None:
        fit.att_min, fit.att_max = effect_range(arr[lo:s][:, d_idx], W,
                                                arr[s:][:, d_idx].mean(axis=0),
                                                float(arr[s:, cols.get_loc(unit)].mean()))
    return fit


def _placebos(Y: pd.DataFrame, start: Hashable, pool: list, *, covariates: pd.DataFrame | None,
              outcome_blocks: int, pre_periods: int | None
              ) -> tuple[pd.Series, pd.Series, pd.Series, pd.DataFrame]:
    """Each donor as if treated from ``start``, from the other donors: ATT, ratio, RMSPE, gaps."""
    periods, cols = Y.index, Y.columns
    arr = Y.to_numpy(dtype=float)
    s = periods.get_loc(start)
    lo = 0 if pre_periods is None else max(0, s - pre_periods)
    n_pre = s - lo
    cov = None if covariates is None else covariates.loc[list(cols)].to_numpy(dtype=float).T
    idx = cols.get_indexer(pool)
    att, ratio, pre, gaps = {}, {}, {}, {}
    for k, d in enumerate(pool):
        _, _, gap = _fit_arrays(arr, idx[k], s, np.delete(idx, k), lo, cov, outcome_blocks)
        r_pre = float(np.sqrt(np.mean(gap[:n_pre] ** 2)))
        r_post = float(np.sqrt(np.mean(gap[n_pre:] ** 2)))
        att[d] = float(gap[n_pre:].mean())
        ratio[d] = r_post / r_pre if r_pre > 0 else np.inf
        pre[d] = r_pre
        gaps[d] = gap
    return (pd.Series(att, dtype=float), pd.Series(ratio, dtype=float),
            pd.Series(pre, dtype=float), pd.DataFrame(gaps, index=periods[lo:]))


# --- several treated areas, placebos, pooling ------------------------------------------------


@dataclass
class SynthResult:
    """Synthetic controls of every treated area, placebo inference and the pooled effect."""

    units: list[SynthUnit]
    pooled_att: float
    p_pooled_att: float
    p_pooled_ratio: float
    ci_low: float
    ci_high: float
    draws: PlaceboDraws | None
    event: pd.DataFrame
    settings: dict

    @property
    def table(self) -> pd.DataFrame:
        """One row per treated area."""
        return pd.DataFrame([{
            "unit": u.unit, "start": u.start, "n_donors": len(u.weights), "n_pre": u.n_pre,
            "pre_mean": u.pre_mean, "pre_rmspe": u.pre_rmspe, "pre_rmspe_pct": u.pre_rmspe_pct,
            "post_rmspe": u.post_rmspe, "ratio": u.ratio, "att": u.att, "p_value": u.p_value,
            "att_min": u.att_min, "att_max": u.att_max, "fit_unique": u.fit_unique,
            "n_placebos": len(u.placebo_ratio),
            "top_donors": "; ".join(f"{k} {v:.2f}" for k, v in u.weights[u.weights >= 0.005]
                                    .head(5).items()),
        } for u in self.units])

    @property
    def fit_unique(self) -> bool | None:
        """False when some treated area's pre-period fit is not unique (see :class:`SynthUnit`);
        ``None`` when not checked (covariates)."""
        flags = [u.fit_unique for u in self.units]
        if any(f is None for f in flags):
            return None
        return all(flags)

    @property
    def pooled_range(self) -> tuple[float, float]:
        """Smallest and largest pooled ATT over the equally good fits of every treated area
        (each area's weights are fitted separately, so the bounds are means of the areas')."""
        return (float(np.mean([u.att_min for u in self.units])),
                float(np.mean([u.att_max for u in self.units])))

    @property
    def weights(self) -> pd.DataFrame:
        """Donor weights, long: unit, donor, weight (weights >= 0.001)."""
        rows = [{"unit": u.unit, "donor": d, "weight": w}
                for u in self.units for d, w in u.weights.items() if w >= 0.001]
        return pd.DataFrame(rows, columns=["unit", "donor", "weight"])

    def describe(self) -> str:
        ci = (f"randomisation interval {self.ci_low:+.4g} to {self.ci_high:+.4g}"
              if np.isfinite(self.ci_low) else "no randomisation interval (too few placebos)")
        n = len(self.units)
        if self.fit_unique is False:
            lo, hi = self.pooled_range
            return (f"Synthetic control: the pre-period fit is not unique: pooled post-period "
                    f"gaps from {lo:+.4g} to {hi:+.4g} fit equally well over {n} treated "
                    f"area{'s' if n != 1 else ''} (the solver's weights give {self.pooled_att:+.4g}"
                    f"; {ci}; placebo p = {self.p_pooled_att:.3f} for the gap, "
                    f"{self.p_pooled_ratio:.3f} for the RMSPE ratio).")
        return (f"Synthetic control: pooled average post-period gap {self.pooled_att:+.4g} over "
                f"{n} treated area{'s' if n != 1 else ''} ({ci}; placebo p = "
                f"{self.p_pooled_att:.3f} for the gap, {self.p_pooled_ratio:.3f} for the RMSPE "
                f"ratio).")


class _FitOptions(TypedDict):
    """The options every fit of :func:`synth` shares (the treated areas', the placebos')."""

    covariates: pd.DataFrame | None
    outcome_blocks: int
    pre_periods: int | None


def _wide(panel: pd.DataFrame | Panel, unit: str, period: str, outcome: str) -> pd.DataFrame:
    """Periods x units, validated by :class:`~vru.model.panel.Panel` (as every panel is)."""
    return as_panel(panel, unit=unit, period=period, value=outcome).to_wide()


def synth(panel: pd.DataFrame | Panel, treated: Mapping, *, unit: str = "unit", period: str = "period",
          outcome: str = "outcome", donors: list | None = None, exclude: Iterable[Hashable] = (),
          covariates: pd.DataFrame | None = None, outcome_blocks: int = 4,
          pre_periods: int | None = None, placebos: bool = True, unit_placebos: bool = True,
          n_draws: int = 1000,
          alpha: float = 0.05, seed: int = 0) -> SynthResult:
    """Synthetic controls for every treated area (``treated``: area -> first treated period).

    ``panel``: a long DataFrame (columns ``unit``, ``period``, ``outcome``) or a
    :class:`~vru.model.panel.Panel` (its cohorts, if any, are not used: ``treated`` says).

    ``donors``: the donor pool (default: every area not treated and not in ``exclude``).
    ``placebos``: run the pooled placebo-assignment test (``n_draws``); ``unit_placebos``: the
    per-area placebo rank test (every donor once per treated area).
    ``covariates``: DataFrame indexed by area (time-invariant predictors). See the module
    docstring for the method and the placebo inference.
    """
    Y = _wide(panel, unit, period, outcome)
    treated = dict(treated)
    for u, s in treated.items():
        if u not in Y.columns:
            raise EvaluationError(f"treated area {u!r} is not in the panel")
        if s not in Y.index:
            raise EvaluationError(f"treated area {u!r}: start {s!r} is outside the panel "
                                  f"({Y.index[0]!r} to {Y.index[-1]!r})")
        if Y.index.get_loc(s) == 0:
            raise EvaluationError(f"treated area {u!r} starts in the first period {s!r}: "
                                  "no pre-period")
    excl = set(exclude) | set(treated)
    pool = [c for c in Y.columns if c not in excl] if donors is None else list(donors)
    bad = [d for d in pool if d not in Y.columns or d in treated]
    if bad:
        raise EvaluationError(f"donor {bad[0]!r} is not an untreated area of the panel")
    if len(pool) < 2:
        raise EvaluationError(f"too few donor areas ({len(pool)}): a synthetic control needs "
                              "at least 2")
    if covariates is not None:
        miss = [u for u in pool + list(treated) if u not in covariates.index]
        if miss:
            raise EvaluationError(f"covariates missing for area {miss[0]!r}")
        if covariates.isna().any().any():
            raise EvaluationError("covariates have missing values")
    kw: _FitOptions = {"covariates": covariates, "outcome_blocks": outcome_blocks,
                       "pre_periods": pre_periods}
    fits = []
    for u, s in treated.items():
        f = fit_unit(Y, u, s, pool, **kw)
        if unit_placebos:
            (f.placebo_att, f.placebo_ratio, f.placebo_pre_rmspe,
             f.placebo_gaps) = _placebos(Y, s, pool, **kw)
        fits.append(f)
    pooled = float(np.mean([f.att for f in fits]))
    p_att = p_ratio = lo = hi = np.nan
    draws = None
    universe = pool + list(treated)
    if placebos and len(universe) - len(fits) >= 2:
        draws = placebo_assignments(Y, [f.start for f in fits], universe, n_draws=n_draws,
                                    seed=seed, **kw)
        p_att = draws.p_value(pooled, "att")
        p_ratio = draws.p_value(float(np.mean([f.ratio for f in fits])), "ratio")
        c = draws.critical_value(alpha)
        lo, hi = pooled - c, pooled + c
    event = _event(fits, Y.index)
    settings = {"covariates": None if covariates is None else list(covariates.columns),
                "outcome_blocks": outcome_blocks if covariates is not None else None,
                "pre_periods": pre_periods, "n_donors": len(pool), "placebos": placebos,
                "alpha": alpha, "seed": seed, "n_draws": None if draws is None else len(draws.att),
                "exhaustive": None if draws is None else draws.exhaustive}
    return SynthResult(fits, pooled, p_att, p_ratio, lo, hi, draws, event, settings)


@dataclass
class PlaceboDraws:
    """Pooled statistics of placebo assignments (one entry per draw).

    ``att``: mean over the placebo areas of their mean post-period gap; ``ratio``: mean of their
    post/pre RMSPE ratios; ``post_level``: mean over the placebo areas of their mean
    post-period outcome (an effect of ``d`` times the outcome shifts ``att`` by ``d * post_level``);
    ``units``: the placebo areas of each draw (in the order of the treated areas).
    """

    att: np.ndarray
    ratio: np.ndarray
    post_level: np.ndarray
    units: np.ndarray
    exhaustive: bool

    def p_value(self, observed: float, stat: str = "att") -> float:
        """Share of draws at least as extreme as ``observed`` (``|att|`` two-sided, ``ratio``
        one-sided); with sampled draws the real assignment is counted once more."""
        x = np.abs(self.att) if stat == "att" else self.ratio
        o = abs(observed) if stat == "att" else observed
        hits = int((x >= o - 1e-12 * max(1.0, abs(o))).sum())
        return hits / len(x) if self.exhaustive else (1 + hits) / (1 + len(x))

    def critical_value(self, alpha: float) -> float:
        """The ``1 - alpha`` quantile of ``|att|`` over the draws (NaN if too few draws)."""
        x = np.sort(np.abs(self.att))[::-1]
        k = math.floor(alpha * len(x)) if self.exhaustive else math.ceil(
            alpha * (1 + len(x)) - 1 - 1e-9)
        return float(x[k - 1]) if k >= 1 else np.nan


def placebo_assignments(Y: pd.DataFrame, starts: list, pool: list, *, n_draws: int = 1000,
                        seed: int = 0, covariates: pd.DataFrame | None = None,
                        outcome_blocks: int = 4, pre_periods: int | None = None,
                        min_donors: int = 2) -> PlaceboDraws:
    """Placebo assignments of ``len(starts)`` areas of ``pool`` to the start dates, each fitted
    from the areas of ``pool`` not drawn (see the module docstring). ``Y``: periods x areas.
    """
    k = len(starts)
    J = len(pool)
    if J - k < min_donors:
        raise EvaluationError(f"too few donor areas for placebo assignments: {J} donors, {k} "
                              f"placebo areas per draw, at least {min_donors} left to fit from")
    periods, cols = Y.index, Y.columns
    arr = Y.to_numpy(dtype=float)
    cov = None if covariates is None else covariates.loc[list(cols)].to_numpy(dtype=float).T
    idx = cols.get_indexer(pool)
    s_idx = [periods.get_loc(s) for s in starts]
    total = math.perm(J, k)
    if total <= n_draws:
        draws = np.array(list(itertools.permutations(range(J), k)), dtype=np.int64)
        exhaustive = True
    else:
        rng = np.random.default_rng(seed)
        draws = np.stack([rng.permutation(J)[:k] for _ in range(n_draws)])
        exhaustive = False
    cache: dict = {}
    att = np.empty(len(draws))
    ratio = np.empty(len(draws))
    level = np.empty(len(draws))
    for r, d in enumerate(draws):
        rest = np.delete(idx, d)
        a = q = m = 0.0
        for j, dj in enumerate(d):
            s = s_idx[j]
            lo = 0 if pre_periods is None else max(0, s - pre_periods)
            key = (int(dj), s, rest.tobytes()) if k > 1 else (int(dj), s)
            if key not in cache:
                _, _, gap = _fit_arrays(arr, idx[dj], s, rest, lo, cov, outcome_blocks)
                n_pre = s - lo
                r_pre = float(np.sqrt(np.mean(gap[:n_pre] ** 2)))
                cache[key] = (float(gap[n_pre:].mean()),
                              float(np.sqrt(np.mean(gap[n_pre:] ** 2))) / r_pre
                              if r_pre > 0 else np.inf,
                              float(arr[s:, idx[dj]].mean()))
            ga, gr, gm = cache[key]
            a += ga
            q += gr
            m += gm
        att[r], ratio[r], level[r] = a / k, q / k, m / k
    units = np.asarray(pool, dtype=object)[draws]
    return PlaceboDraws(att, ratio, level, units, exhaustive)


def _event(fits: list[SynthUnit], periods: pd.Index) -> pd.DataFrame:
    """Mean gap by event time (periods since the start) over the treated areas."""
    rows = []
    for f in fits:
        s = periods.get_loc(f.start)
        e = np.array([periods.get_loc(p) - s for p in f.gap.index])
        rows.append(pd.DataFrame({"event_time": e, "gap": f.gap.to_numpy(), "unit": f.unit}))
    df = pd.concat(rows)
    out = df.groupby("event_time")["gap"].agg(["mean", "count"]).reset_index()
    return out.rename(columns={"mean": "gap", "count": "n_units"})


__all__ = ["simplex_least_squares", "effect_range", "fit_weights", "fit_unit", "synth", "placebo_assignments",
           "SynthUnit", "SynthResult", "PlaceboDraws"]
