"""Staggered difference-in-differences: Callaway & Sant'Anna (2021) group-time effects.

Callaway, B. and Sant'Anna, P. H. C. (2021), "Difference-in-differences with multiple time
periods", *Journal of Econometrics* 225(2):200-230. Definitions follow the authors' R package
``did`` and the Python package ``differences`` (whose ``ATTgt`` is this module's test oracle).

**Data.** A balanced panel of areas (units) observed every period, one outcome per area-period,
and each area's *cohort*: the first period in which it is treated, or none (never treated).
Periods are taken in sorted order and event time is counted in periods (months for a monthly
panel). Nothing is imputed: a missing area-period, a duplicate or a cohort outside the panel is
refused with an :class:`EvaluationError`. The panel is a :class:`vru.model.panel.Panel`, or a long
DataFrame that becomes one (:func:`as_panel`): the checks are made there, once, for every method.

**Group-time effects.** For cohort ``g`` and period ``t`` with base period ``b``

    ATT(g, t) = mean_{i in g}(Y_it - Y_ib) - mean_{i in C(g, t)}(Y_it - Y_ib)

(unconditional parallel trends, no covariates: the regression, inverse-probability-weighted and
doubly robust estimators of the paper all reduce to this difference of mean changes). Base
period: ``"varying"`` (default, as ``did``/``differences``): ``b = t - 1`` for pre-treatment
periods ``t < g`` (so pre-period "effects" are one-period placebo changes) and
``b = g - 1 - anticipation`` for ``t >= g``; ``"universal"``: ``b = g - 1 - anticipation`` for all
``t`` (the cell ``t = b`` is 0 by construction). Controls ``C(g, t)``: ``"never_treated"`` (areas
never treated) or ``"not_yet_treated"`` (never treated, or first treated after
``max(t, b) + anticipation``, excluding cohort ``g`` itself).

All cells are computed at once from cohort-by-period sums of the outcome matrix (one matrix
product), not with a regression per cell.

**Poisson variant (``model="poisson"``), for counts.** Under *multiplicative* parallel trends
(the untreated expected count of cohort ``g`` changes by the same factor as the controls'), the
group-time estimand is the log ratio of expected outcomes

    theta(g, t) = log( (m_g,t / m_g,b) / (m_C,t / m_C,b) ),   m = mean count of the group,

i.e. ``exp(theta) = E[Y_t(1) | g] / E[Y_t(0) | g]``, the treated areas' expected outcome relative
to their counterfactual. This is exactly the coefficient on treated x post of a Poisson
pseudo-maximum-likelihood (PPML) regression on the 2 x 2 data of the cell (treated and control
areas, periods ``b`` and ``t``, with group, period and interaction dummies: saturated, so its
score equations are solved by the group means; Wooldridge 2023, *Econometrics Journal* 26(3)).
Each cell also reports the level effect ``m_g,t - m_g,b * m_C,t / m_C,b`` (counts per area).
Aggregations average ``theta`` with the weights below and report ``exp`` of the average (a
weighted geometric mean of the cell ratios) with its interval. A cell whose control or treated
mean is 0 in period ``b`` or ``t`` has no ratio and is left out (NaN).

**Aggregations** (as ``did::aggte`` / ``differences``): *simple* = average of the post-treatment
cells (``t >= g``) weighted by cohort size; *group* = per cohort, the plain mean of its
post-treatment cells, and overall the cohort-size-weighted mean of those; *event* = per event
time ``e = t - g``, the cohort-size-weighted mean of the cells with that ``e`` (pre-treatment
``e < 0`` too), and overall the plain mean of the ``e >= 0`` effects. The influence function of
every aggregate includes the estimation of the cohort-size weights (the ``wif`` term).

**Inference.** Influence functions per area (clustered by area, as the panel is): the analytic
variance is ``sum_i psi_i^2 / N^2`` (``psi`` scaled as in ``did``: ``N`` times the area's
contribution). ``cluster``: an area attribute (e.g. the borough of an LSOA); influence functions
are summed within clusters and the variance multiplied by ``G / (G - 1)``. Or the multiplier
bootstrap (``inference="bootstrap"``, seeded): Rademacher weights per cluster, standard errors
from the bootstrap interquartile range divided by 1.349 (as ``did``), and for the event study a
uniform (simultaneous) critical value. Unlike ``did``, clustered bootstrap draws use cluster
*sums* of the influence function over ``N`` (the exact linearisation whatever the cluster sizes),
not means of cluster means. Intervals are ``estimate +/- z se`` (normal): with few treated areas
(fewer than ~20) these are unreliable, so :mod:`vru.analysis.evaluation` also reports placebo
(randomisation) inference.

**Pre-trend test.** A joint test that the pre-treatment event-time effects (``e < 0``,
optionally only the last ``max_lead`` of them) are all 0. The statistic is the Wald statistic
``W = a' V^-1 a`` with ``V`` their influence-function covariance; R's ``did`` (and ``csdid``'s
``estat pretrend``) refer it to a chi-squared on ``len(a)`` degrees of freedom, and that p-value
is kept (``p_value_asymptotic``). With few treated areas it is far too liberal: a cohort of
``m`` areas contributes a covariance of rank ``m - 1`` estimated from ``m`` areas, so ``V`` is
badly underestimated in some directions (with parallel trends true, 18 areas of which 6 treated
in two cohorts, 7 leads: 70% rejections at 5%; 60 areas, 20 treated: 20%). The headline
``p_value`` is therefore a **permutation test** of the same statistic: the areas' cohorts are
reassigned at random (cohort sizes kept; every distinct assignment when there are at most
``n_draws``, seeded random draws otherwise, stopping once 20 statistics reach the observed one,
Besag and Clifford's sequential p-value), ``W`` recomputed for each, and ``p`` = the share of
reassignments with a statistic at least as large. It is exact when the areas are exchangeable
under the null (no area's pre-period path depends on its being treated) and, the statistic being
studentised, asymptotically valid under parallel trends with unequal variances (Chung and
Romano 2013). Simulated size at 5%: 3-6% in the designs above (``tests/test_pretrend_size.py``).
A clustered result is not permuted (areas in a cluster share shocks): its ``W`` is referred to
Hotelling's small-sample F, ``W (G - k) / (k (G - 1))`` on ``(k, G - k)`` degrees of freedom with
``G`` clusters and ``k`` effects (declined when ``G <= k``). When ``V`` is singular (rank below
the number of restrictions, e.g. more pre-periods than independent areas, or a reciprocal 1-norm
condition number at most machine epsilon, R ``did``'s check) the test is *declined* ("not
computed: singular covariance", with the rank), as R's ``did`` and ``csdid`` do: a
pseudo-inverse would give a large, meaningless statistic. With ``level="cells"`` it tests every
pre-treatment ATT(g, t), which is ``differences``' ``wald_pre_test``. A pass is not proof of
parallel trends: the test has little power with few areas; a rejection says the treated areas
already moved differently before the start, not by how much the estimate is biased.

**Cohorts without a pre-period.** A cohort first treated in the first period, or within
``anticipation`` periods of it, has no untreated base period: it is dropped (as R's ``did``
does) and named (:attr:`PanelArrays.dropped`, ``settings["dropped_cohorts"]``); the panel is
refused only when no cohort remains. Never treated may be coded as missing, or as ``0`` when
the periods are numbers and 0 is not one of them (the convention of R's ``did`` and ``csdid``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from vru.errors import VRUError
from vru.model.panel import Panel, PanelError, show

CONTROLS = ("never_treated", "not_yet_treated")
BASE_PERIODS = ("varying", "universal")
MODELS = ("linear", "poisson")
INFERENCE = ("analytic", "bootstrap")
IQR_NORMAL = stats.norm.ppf(0.75) - stats.norm.ppf(0.25)  # 1.349: IQR of a standard normal
STOP_AT = 20  # permutation pre-trend test: stop drawing after this many statistics >= observed


class EvaluationError(VRUError):
    """An evaluation cannot be run as asked (bad panel, treated areas, dates or controls).

    Re-exported as :class:`vru.analysis.evaluation.EvaluationError`.
    """


# --- the panel ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PanelArrays:
    """A validated balanced panel as arrays: ``y[i, t]`` for unit ``units[i]``, period
    ``periods[t]``; ``cohort[i]`` = index of the first treated period, -1 for never treated;
    ``cluster[i]`` = cluster code (0..G-1), by default each unit its own cluster; ``dropped``:
    the cohorts left out because they have no pre-period (first treated period -> number of
    units)."""

    units: pd.Index
    periods: pd.Index
    y: np.ndarray
    cohort: np.ndarray
    cluster: np.ndarray
    dropped: dict = field(default_factory=dict)  # cohort (first period) -> units dropped

    @property
    def n(self) -> int:
        return len(self.units)


def as_panel(panel: pd.DataFrame | Panel, *, unit: str = "unit", period: str = "period",
             value: str = "outcome", cohort: str | None = None,
             cluster: str | None = None) -> Panel:
    """``panel`` as a validated :class:`~vru.model.panel.Panel`: a Panel is returned as it is, a
    long DataFrame goes through :meth:`Panel.from_long <vru.model.panel.Panel.from_long>` (the
    one place where panels are checked); its refusals are raised as :class:`EvaluationError`."""
    if isinstance(panel, Panel):
        return panel
    try:
        return Panel.from_long(panel, unit=unit, period=period, value=value, cohort=cohort,
                               cluster=cluster)
    except PanelError as e:
        raise EvaluationError(str(e)) from None


def arrays(panel: Panel, *, anticipation: int = 0) -> PanelArrays:
    """A panel with cohorts as :class:`PanelArrays` for the estimators.

    Cohorts that leave no pre-period (first treated in the first period, or within
    ``anticipation`` periods of it) are dropped, as R's ``did`` does, and named in
    :attr:`PanelArrays.dropped`; if no treated unit remains the panel is refused.
    """
    units, periods = panel.units, panel.periods
    y = np.array(panel.values, dtype=float)  # writable copy
    coh = panel.cohort_index
    early = (coh >= 0) & (coh <= anticipation)
    dropped: dict = {}
    if early.any():
        for c in np.unique(coh[early]):
            dropped[periods[c]] = int((coh == c).sum())
        if not (coh > anticipation).any():
            what = ("the first period" if anticipation == 0 else
                    f"the first {anticipation + 1} periods (anticipation of {anticipation})")
            raise EvaluationError(
                "no treated cohort has a pre-period: every cohort ("
                + ", ".join(f"{show(k)}: {_units(v)}" for k, v in dropped.items())
                + f") starts within {what} of the panel, from {show(periods[0])}")
    if panel.clusters is not None:
        codes = pd.factorize(panel.clusters.to_numpy())[0]
    else:
        codes = np.arange(len(units))
    if early.any():
        keep = ~early
        units, y, coh = units[keep], y[keep], coh[keep]
        codes = pd.factorize(codes[keep])[0]
    return PanelArrays(units, periods, y, coh, codes.astype(np.int64), dropped)


def panel_arrays(panel: pd.DataFrame | Panel, *, unit: str = "unit", period: str = "period",
                 outcome: str = "outcome", cohort: str = "cohort", cluster: str | None = None,
                 anticipation: int = 0) -> PanelArrays:
    """Validate a long panel (or take a :class:`~vru.model.panel.Panel`) and return it as arrays
    (see :class:`PanelArrays` and :func:`arrays`).

    ``panel[cohort]``: the first treated period of the unit (a value of ``panel[period]``), or
    missing for never treated; constant within a unit. A cohort of ``0`` also means never
    treated (the convention of R's ``did`` and of ``csdid``) when the periods are numbers and 0
    is not one of them. Raises :class:`EvaluationError` for a missing column or value, a
    duplicate unit-period, an unbalanced panel, a non-finite outcome, a cohort that varies
    within a unit or is not a period of the panel (saying so when the cohort and period columns
    hold different kinds of value, e.g. numbers against text): the checks of
    :class:`vru.model.panel.Panel`, made there and only there.
    """
    p = as_panel(panel, unit=unit, period=period, value=outcome, cohort=cohort, cluster=cluster)
    return arrays(p, anticipation=anticipation)


def _units(n: int) -> str:
    return f"{n} unit" + ("" if n == 1 else "s")


# --- group-time cells --------------------------------------------------------------------------


def _cells(cohorts: np.ndarray, T: int, base_period: str,
           anticipation: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cohort index k, period t, base b) of every group-time cell, ``did``'s order."""
    ks, ts, bs = [], [], []
    for k, g in enumerate(cohorts):
        fixed = g - 1 - anticipation
        if base_period == "varying":
            for t in range(1, T):
                ks.append(k)
                ts.append(t)
                bs.append(t - 1 if t < g else fixed)
        else:
            for t in range(T):
                ks.append(k)
                ts.append(t)
                bs.append(fixed)
    return np.array(ks, dtype=np.int64), np.array(ts, dtype=np.int64), np.array(bs, dtype=np.int64)


@dataclass
class _Core:
    """Cell estimates and their influence functions (N x C)."""

    k: np.ndarray
    t: np.ndarray
    b: np.ndarray
    g: np.ndarray  # first treated period index of each cell's cohort
    est: np.ndarray  # ATT (linear) or theta (poisson)
    psi: np.ndarray | None  # None when computed without them (need_psi=False)
    n1: np.ndarray
    n0: np.ndarray
    level: np.ndarray  # level ATT (poisson: m_gt - m_gb m_Ct / m_Cb; linear: = est)
    treated_mean: np.ndarray  # m_g,t: the cohort's mean outcome in period t
    cohorts: np.ndarray
    cohort_size: np.ndarray
    means: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # (m1t, m1b, m0t, m0b) per cell
    thresh: np.ndarray  # not-yet-treated: controls first treated after this

    @property
    def influence(self) -> np.ndarray:
        """``psi``, for the estimates that need it (the cells computed with ``need_psi=True``)."""
        if self.psi is None:
            raise RuntimeError("the cells were computed without their influence functions")
        return self.psi


def _core(pa: PanelArrays, *, control: str, base_period: str, anticipation: int,
          model: str, need_psi: bool = True, pre_only: bool = False,
          max_lead: int | None = None) -> _Core:
    y, coh = pa.y, pa.cohort
    N, T = y.shape
    cohorts = np.unique(coh[coh >= 0])
    K = len(cohorts)
    if K == 0:
        raise EvaluationError("no unit is ever treated")
    kk, tt, bb = _cells(cohorts, T, base_period, anticipation)
    if pre_only:  # the pre-treatment cells alone (the permutation pre-trend test)
        e = tt - cohorts[kk]
        sel = (e < 0) & (e >= -max_lead if max_lead is not None else True)
        kk, tt, bb = kk[sel], tt[sel], bb[sel]
    gg = cohorts[kk]
    unit_k = np.searchsorted(cohorts, coh)  # cohort position of each treated unit
    unit_k[coh < 0] = -1
    # cohort x period sums and sizes; never-treated sums; suffix sums over later cohorts
    onehot = np.zeros((K, N))
    onehot[unit_k[coh >= 0], np.flatnonzero(coh >= 0)] = 1.0
    S = onehot @ y
    n_k = onehot.sum(axis=1)
    never = coh < 0
    S_nev = y[never].sum(axis=0)
    n_nev = float(never.sum())
    suffix = np.vstack([np.cumsum(S[::-1], axis=0)[::-1], np.zeros((1, T))])
    n_suffix = np.concatenate([np.cumsum(n_k[::-1])[::-1], [0.0]])

    n1 = n_k[kk]
    if control == "never_treated":
        S0_t, S0_b = S_nev[tt], S_nev[bb]
        n0 = np.full(len(kk), n_nev)
        ctrl_thresh = np.full(len(kk), np.iinfo(np.int64).max)
    else:
        s = np.maximum(tt, bb) + anticipation
        j0 = np.searchsorted(cohorts, s, side="right")  # first cohort treated after s
        own = gg > s  # the cell's own cohort would count as not yet treated: take it out
        S0_t = S_nev[tt] + suffix[j0, tt] - np.where(own, S[kk, tt], 0.0)
        S0_b = S_nev[bb] + suffix[j0, bb] - np.where(own, S[kk, bb], 0.0)
        n0 = n_nev + n_suffix[j0] - np.where(own, n_k[kk], 0.0)
        ctrl_thresh = s

    with np.errstate(divide="ignore", invalid="ignore"):
        m1t, m1b = S[kk, tt] / n1, S[kk, bb] / n1
        m0t, m0b = S0_t / n0, S0_b / n0
    same = tt == bb  # universal base: the reference cell
    with np.errstate(divide="ignore", invalid="ignore"):
        if model == "linear":
            est = (m1t - m1b) - (m0t - m0b)
            level = est
        else:
            est = np.log(m1t) - np.log(m1b) - np.log(m0t) + np.log(m0b)
            level = m1t - m1b * m0t / m0b
    bad = (n0 == 0) | ~np.isfinite(est)
    est = np.where(bad, np.nan, est)
    level = np.where(bad, np.nan, level)
    est[same] = 0.0
    level[same] = 0.0
    psi = None
    if need_psi:  # unit x cell influence functions
        D = unit_k[:, None] == kk[None, :]
        G_unit = np.where(never, np.iinfo(np.int64).max, coh)
        C = never[:, None] | ((G_unit[:, None] > ctrl_thresh[None, :]) & ~D)
        with np.errstate(divide="ignore", invalid="ignore"):
            if model == "linear":
                dy = y[:, tt] - y[:, bb]
                psi = N * (D * (dy - (m1t - m1b)) / n1 - C * (dy - (m0t - m0b)) / n0)
            else:
                r1 = (y[:, tt] - m1t) / m1t - (y[:, bb] - m1b) / m1b
                r0 = (y[:, tt] - m0t) / m0t - (y[:, bb] - m0b) / m0b
                psi = N * (D * r1 / n1 - C * r0 / n0)
        psi[:, bad | same] = 0.0
    return _Core(kk, tt, bb, gg, est, psi, n1, n0, level, m1t, cohorts, n_k,
                 (m1t, m1b, m0t, m0b), ctrl_thresh)


# --- aggregation ---------------------------------------------------------------------------------


def _agg(core: _Core, idx: np.ndarray, unit_k: np.ndarray, *,
         weighted: bool = True) -> tuple[float, np.ndarray]:
    """Estimate and influence function of a cohort-size-weighted (or plain) mean of cells."""
    est = core.est[idx]
    psi = core.influence
    if not weighted:
        w = np.full(len(idx), 1.0 / len(idx))
        return float(w @ est), psi[:, idx] @ w
    N = psi.shape[0]
    dummies = (unit_k[:, None] == core.k[idx][None, :]).astype(float)
    shares = core.cohort_size[core.k[idx]] / N
    tot = shares.sum()
    w = shares / tot
    wif = (dummies - shares) / tot - (dummies - shares).sum(axis=1)[:, None] * (shares / tot**2)
    return float(w @ est), psi[:, idx] @ w + wif @ est


@dataclass
class _Estimates:
    rows: list[dict] = field(default_factory=list)
    psi: list[np.ndarray] = field(default_factory=list)

    def add(self, row: dict, est: float, psi: np.ndarray) -> None:
        self.rows.append(row | {"estimate": est})
        self.psi.append(psi)


def _variance_and_bootstrap(psi: np.ndarray, cluster: np.ndarray, *, inference: str, n_boot: int,
                            seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Standard errors of the columns of ``psi`` (N x m) and, for the bootstrap, the draws."""
    N = psi.shape[0]
    G = int(cluster.max()) + 1
    by_unit = G == N and np.array_equal(cluster, np.arange(N))
    sums = psi if by_unit else np.zeros((G, psi.shape[1]))
    if not by_unit:
        np.add.at(sums, cluster, psi)
    if inference == "analytic":
        var = (sums**2).sum(axis=0) / N**2
        if not by_unit:
            var *= G / (G - 1)
        return np.sqrt(var), None
    rng = np.random.default_rng(seed)
    draws = np.empty((n_boot, psi.shape[1]))
    step = max(1, int(2e7 // max(G, 1)))  # bound memory of the weight matrix
    for lo in range(0, n_boot, step):
        v = rng.choice(np.array([-1.0, 1.0]), size=(min(step, n_boot - lo), G))
        draws[lo:lo + len(v)] = v @ sums / N
    q75, q25 = np.quantile(draws, [0.75, 0.25], axis=0, method="inverted_cdf")
    return (q75 - q25) / IQR_NORMAL, draws


@dataclass
class DiDResult:
    """Callaway-Sant'Anna estimates. Tables (DataFrames), one row per estimate, columns
    ``estimate, se, ci_low, ci_high, p_value`` (and for ``model="poisson"``: ``ratio,
    ratio_low, ratio_high`` = exp of the log-ratio estimate and its interval):

    - ``cells``: ``cohort, base_period, period, event_time, n_treated, n_control`` (+ ``level``
      for Poisson: the effect in counts per area);
    - ``simple`` (one row), ``group`` (``cohort``) with ``group_overall``, ``event``
      (``event_time``; with the bootstrap also ``cband_low, cband_high``, from the critical value
      :attr:`uniform_critical_value`) with ``event_overall``.
    """

    cells: pd.DataFrame
    simple: pd.DataFrame
    group: pd.DataFrame
    group_overall: pd.DataFrame
    event: pd.DataFrame
    event_overall: pd.DataFrame
    settings: dict
    n_units: int
    n_treated: int
    n_never: int
    _psi: np.ndarray = field(repr=False)
    _cluster: np.ndarray = field(repr=False)
    _cols: dict[str, list[Any]] = field(repr=False)  # positions of each table's rows; "rows": the rows
    uniform_critical_value: float | None = None  # bootstrap: the event study's simultaneous band
    _pa: PanelArrays | None = field(default=None, repr=False)  # for the permutation pre-test

    @property
    def att(self) -> float:
        """The simple aggregate (log ratio for the Poisson model)."""
        return float(self.simple["estimate"].iloc[0])

    @property
    def se(self) -> float:
        return float(self.simple["se"].iloc[0])

    def pretrend(self, *, max_lead: int | None = None, level: str = "event", n_draws: int = 999,
                 seed: int = 0) -> dict:
        """Joint test that the pre-treatment effects are 0 (see the module docstring).

        Returns ``{"statistic", "df", "p_value", "method", "p_value_asymptotic", "n_draws",
        "exhaustive", "n_restrictions", "leads", "computed", "reason"}``. ``statistic`` is the
        analytic Wald statistic ``W`` and ``p_value_asymptotic`` its chi-squared p-value on
        ``df`` (= rank of the covariance) degrees of freedom: R ``did``'s pre-test, kept for
        comparison. ``p_value`` is the headline, from ``method``: ``"permutation"`` (areas'
        cohorts reassigned at random, ``n_draws`` draws, or every distinct assignment when
        there are at most ``n_draws`` of them: ``exhaustive``), or ``"hotelling_f"`` when the
        result is clustered (``W (G - k) / (k (G - 1))`` against F(k, G - k), ``G`` clusters).
        When the covariance is singular (rank below the number of restrictions, or reciprocal
        condition number at most machine epsilon, the test of R's ``did``) the test is declined,
        as ``did`` and ``csdid`` do: ``computed`` is False, ``statistic`` and the p-values are
        NaN, and ``reason`` says why (with the rank).
        """
        if level not in ("event", "cells"):
            raise EvaluationError(f"unknown pre-trend test level {level!r}: 'event' or 'cells'")
        if max_lead is not None and max_lead < 1:
            raise EvaluationError("max_lead must be at least 1 pre-treatment period")
        if n_draws < 99:
            raise EvaluationError("the permutation pre-trend test needs at least 99 draws")
        a, psi, leads = _leads(self, max_lead, level)
        base = {"n_restrictions": len(a), "leads": leads, "method": None,
                "p_value_asymptotic": np.nan, "n_draws": 0, "exhaustive": False}
        if len(a) == 0:
            return base | {"statistic": np.nan, "df": 0, "p_value": np.nan, "computed": False,
                           "reason": "no pre-treatment effect to test"}
        W, rank = _wald(a, psi, self._cluster)
        if W is None:
            return base | {"statistic": np.nan, "df": rank, "p_value": np.nan, "computed": False,
                           "reason": f"not computed: singular covariance (rank {rank} of {len(a)} "
                                     f"pre-treatment effects)"}
        k = len(a)
        out = base | {"statistic": W, "df": rank, "p_value_asymptotic": float(stats.chi2.sf(W, k)),
                      "computed": True, "reason": ""}
        G = int(self._cluster.max()) + 1
        if G != self.n_units:  # clustered: the Hotelling small-sample correction
            if G <= k:
                return out | {"p_value": np.nan, "computed": False, "method": "hotelling_f",
                              "reason": f"not computed: {G} clusters for {k} pre-treatment "
                                        f"effects (the F test needs more clusters than effects)"}
            F = W * (G - k) / (k * (G - 1))
            return out | {"p_value": float(stats.f.sf(F, k, G - k)), "method": "hotelling_f"}
        stats_b, exhaustive = _permuted_wald(self, max_lead, level, n_draws, seed, W)
        ok = np.isfinite(stats_b)
        n = int(ok.sum())
        hits = int((stats_b[ok] >= W - 1e-9 * max(1.0, W)).sum())
        stopped = not exhaustive and hits >= STOP_AT
        if n < (2 if exhaustive or stopped else 99):
            return out | {"p_value": np.nan, "computed": False, "method": "permutation",
                          "n_draws": n, "exhaustive": exhaustive,
                          "reason": f"not computed: only {n} reassignments of the treated "
                                    f"areas give a testable covariance"}
        p = hits / n if exhaustive or stopped else (1 + hits) / (1 + n)
        return out | {"p_value": float(p), "method": "permutation", "n_draws": n,
                      "exhaustive": exhaustive}

    @property
    def _rows(self) -> list[dict]:
        return self._cols["rows"]

    def describe(self) -> str:
        """The simple aggregate in words."""
        s = self.simple.iloc[0]
        cg = self.settings["control"].replace("_", "-")
        if self.settings["model"] == "poisson":
            return (f"Callaway-Sant'Anna (Poisson, ratio of expected outcomes): treated areas' "
                    f"outcome was {s['ratio']:.3f} times its counterfactual (95% CI "
                    f"{s['ratio_low']:.3f} to {s['ratio_high']:.3f}, p = {s['p_value']:.3f}); "
                    f"{self._counts()}, {cg} controls.")
        return (f"Callaway-Sant'Anna: average effect on the treated {s['estimate']:+.4g} "
                f"(95% CI {s['ci_low']:+.4g} to {s['ci_high']:+.4g}, p = {s['p_value']:.3f}); "
                f"{self._counts()}, {cg} controls.")

    def _counts(self) -> str:
        both = self.n_treated == 1 and self.n_never == 1
        return (f"{self.n_treated} treated and {self.n_never} never-treated "
                f"area{'' if both else 's'}")


# --- the pre-trend test ---------------------------------------------------------------------------


def _leads(res: DiDResult, max_lead: int | None,
           level: str) -> tuple[np.ndarray, np.ndarray, list[Any]]:
    """The pre-treatment estimates tested, their influence functions (N x k) and labels."""
    if level == "event":
        ev = res.event
        keep = (ev["event_time"] < 0) & ev["estimate"].notna()
        if max_lead is not None:
            keep &= ev["event_time"] >= -max_lead
        cols = np.asarray(res._cols["event"])[keep.to_numpy()]
        leads = ev.loc[keep, "event_time"].tolist()
    else:
        c = res.cells
        keep = (c["event_time"] < 0) & c["estimate"].notna()
        cols = np.asarray(res._cols["cells"])[keep.to_numpy()]
        leads = list(zip(c.loc[keep, "cohort"], c.loc[keep, "period"], strict=True))
    psi = res._psi[:, cols]
    nonzero = np.any(psi != 0, axis=0)
    psi, cols = psi[:, nonzero], cols[nonzero]
    leads = [x for x, nz in zip(leads, nonzero, strict=True) if nz]
    a = np.array([res._rows[i]["estimate"] for i in cols])
    return a, psi, leads


def _wald(a: np.ndarray, psi: np.ndarray, cluster: np.ndarray) -> tuple[float | None, int]:
    """``W = N a' V^-1 a`` with ``V`` the influence-function covariance (clustered when
    ``cluster`` is not one unit per cluster) and the rank of ``V``; ``W`` is None when ``V`` is
    singular (rank below ``len(a)`` or reciprocal 1-norm condition number <= machine epsilon)."""
    N = psi.shape[0]
    G = int(cluster.max()) + 1
    if G == N:
        V = psi.T @ psi / N
    else:
        sums = np.zeros((G, psi.shape[1]))
        np.add.at(sums, cluster, psi)
        V = sums.T @ sums / N * G / (G - 1)
    rank = int(np.linalg.matrix_rank(V))
    with np.errstate(divide="ignore", invalid="ignore"):
        rcond = 1.0 / np.linalg.cond(V, 1) if rank == len(a) else 0.0
    if rank < len(a) or not rcond > np.finfo(float).eps:
        return None, rank
    return float(N * a @ np.linalg.solve(V, a)), rank


def _assignments(cohort: np.ndarray, n_draws: int, seed: int) -> tuple[list[np.ndarray], bool]:
    """Reassignments of the cohort labels to the units (sizes kept): every distinct one when
    there are at most ``n_draws`` (the observed one included), else ``n_draws`` at random."""
    labels, counts = np.unique(cohort, return_counts=True)
    N = len(cohort)
    total = math.factorial(N)
    for c in counts:
        total //= math.factorial(int(c))
    if total <= n_draws:
        out: list[np.ndarray] = []

        def place(free: list[int], j: int, cur: np.ndarray) -> None:
            if j == len(labels) - 1:
                cur = cur.copy()
                cur[free] = labels[j]
                out.append(cur)
                return
            for pick in itertools.combinations(free, int(counts[j])):
                nxt = cur.copy()
                nxt[list(pick)] = labels[j]
                place([i for i in free if i not in pick], j + 1, nxt)

        place(list(range(N)), 0, np.empty(N, dtype=cohort.dtype))
        return out, True
    rng = np.random.default_rng(seed)
    return [rng.permutation(cohort) for _ in range(n_draws)], False


def _permuted_wald(res: DiDResult, max_lead: int | None, level: str, n_draws: int, seed: int,
                   W_obs: float, stop_at: int = STOP_AT) -> tuple[np.ndarray, bool]:
    """The Wald statistic of :meth:`DiDResult.pretrend` recomputed with the areas' cohorts
    reassigned (NaN where the covariance is singular or nothing is left to test). Random draws
    stop once ``stop_at`` of them reach ``W_obs`` (Besag and Clifford's sequential p-value)."""
    pa, st = res._pa, res.settings
    if pa is None:
        raise EvaluationError("the permutation pre-trend test needs the panel the result was "
                              "estimated on: estimate it with att_gt or estimate")
    draws, exhaustive = _assignments(pa.cohort, n_draws, seed)
    out = []
    hits = 0
    for coh in draws:
        perm = PanelArrays(pa.units, pa.periods, pa.y, coh, pa.cluster, pa.dropped)
        a, psi = _lead_estimates(perm, st, max_lead, level)
        W = _wald(a, psi, pa.cluster)[0] if len(a) else None
        out.append(np.nan if W is None else W)
        hits += W is not None and W >= W_obs - 1e-9 * max(1.0, W_obs)
        if not exhaustive and hits >= stop_at:
            break
    return np.array(out), exhaustive


def _lead_estimates(pa: PanelArrays, st: dict, max_lead: int | None,
                    level: str) -> tuple[np.ndarray, np.ndarray]:
    """The pre-treatment estimates of :func:`_leads` and their influence functions, computed
    straight from the cells (as :func:`estimate` does, without the other aggregations)."""
    core = _core(pa, control=st["control"], base_period=st["base_period"],
                 anticipation=st["anticipation"], model=st["model"], pre_only=True,
                 max_lead=max_lead if level == "event" else None)
    unit_k = np.searchsorted(core.cohorts, pa.cohort)
    unit_k[pa.cohort < 0] = -1
    ok = np.isfinite(core.est)
    e_all = core.t - core.g
    pre = ok & (e_all < 0)
    if level == "cells":
        a, psi = core.est[pre], core.influence[:, pre]
    else:
        es = [e for e in np.unique(e_all[pre]) if max_lead is None or e >= -max_lead]
        aggs = [_agg(core, np.flatnonzero(ok & (e_all == e)), unit_k) for e in es]
        a = np.array([x[0] for x in aggs])
        psi = np.stack([x[1] for x in aggs], axis=1) if aggs else np.zeros((pa.n, 0))
    nonzero = np.any(psi != 0, axis=0)
    return a[nonzero], psi[:, nonzero]


def att_gt(panel: pd.DataFrame | Panel, *, unit: str = "unit", period: str = "period",
           outcome: str = "outcome", cohort: str = "cohort", control: str = "never_treated",
           base_period: str = "varying", anticipation: int = 0, model: str = "linear",
           inference: str = "analytic", cluster: str | None = None, n_boot: int = 999,
           seed: int = 0, alpha: float = 0.05) -> DiDResult:
    """Callaway-Sant'Anna ATT(g, t) with simple, group and event-time aggregations.

    ``panel``: long DataFrame with columns ``unit``, ``period``, ``outcome`` and ``cohort`` (first
    treated period, missing = never treated), or a :class:`~vru.model.panel.Panel` with cohorts
    (the column names are then not used). See the module docstring for every option.
    """
    _check_options(control=control, base_period=base_period, model=model, inference=inference,
                   anticipation=anticipation, alpha=alpha, n_boot=n_boot)
    pa = panel_arrays(panel, unit=unit, period=period, outcome=outcome, cohort=cohort,
                      cluster=cluster, anticipation=anticipation)
    return estimate(pa, control=control, base_period=base_period, anticipation=anticipation,
                    model=model, inference=inference, n_boot=n_boot, seed=seed, alpha=alpha)


def _check_options(*, control: str, base_period: str, model: str, inference: str, anticipation: int,
                   alpha: float, n_boot: int) -> None:
    for name, val, allowed in (("control", control, CONTROLS),
                               ("base_period", base_period, BASE_PERIODS),
                               ("model", model, MODELS), ("inference", inference, INFERENCE)):
        if val not in allowed:
            raise EvaluationError(f"unknown {name} {val!r}: one of {', '.join(allowed)}")
    if not (isinstance(anticipation, int | np.integer) and anticipation >= 0):
        raise EvaluationError("anticipation must be a whole number of periods >= 0")
    if not 0 < alpha < 1:
        raise EvaluationError("alpha must be between 0 and 1")
    if inference == "bootstrap" and n_boot < 99:
        raise EvaluationError("the bootstrap needs at least 99 draws")


def _simple_fast(pa: PanelArrays, core: _Core, idx: np.ndarray, unit_k: np.ndarray,
                 model: str) -> tuple[float, np.ndarray]:
    """The simple aggregate and its influence function in O(N T), without the N x C matrix.

    Each cell's influence is linear in a unit's outcomes at ``t`` and ``b`` with coefficients
    that depend only on the unit's group (its cohort, or never treated), so the weighted sum
    over cells is ``y_i . U_group - const_group``; the cohort-share term likewise depends only on
    the group. Equal to :func:`_agg` (tested).
    """
    y = pa.y
    N, T = y.shape
    K = len(core.cohorts)
    m1t, m1b, m0t, m0b = (m[idx] for m in core.means)
    kc, t, b = core.k[idx], core.t[idx], core.b[idx]
    n1, n0 = core.n1[idx], core.n0[idx]
    est_c = core.est[idx]
    shares = core.cohort_size[kc] / N
    tot = shares.sum()
    w = shares / tot
    if model == "linear":
        c1t, c1b, k1 = np.ones(len(idx)), -np.ones(len(idx)), m1t - m1b
        c0t, c0b, k0 = np.ones(len(idx)), -np.ones(len(idx)), m0t - m0b
    else:
        c1t, c1b, k1 = 1 / m1t, -1 / m1b, np.zeros(len(idx))
        c0t, c0b, k0 = 1 / m0t, -1 / m0b, np.zeros(len(idx))
    Et = np.zeros((len(idx), T))
    Et[np.arange(len(idx)), t] = 1.0
    Eb = np.zeros((len(idx), T))
    Eb[np.arange(len(idx)), b] = 1.0
    own = np.zeros((K, len(idx)))
    own[kc, np.arange(len(idx))] = 1.0
    a1 = w / n1
    U = (own * (a1 * c1t)) @ Et + (own * (a1 * c1b)) @ Eb  # K x T
    K1 = own @ (a1 * k1)
    # control membership of each group (cohorts 0..K-1, then never) in each cell
    g = core.cohorts
    Ch = np.vstack([(g[:, None] > core.thresh[idx][None, :]) & (np.arange(K)[:, None] != kc),
                    np.ones((1, len(idx)), dtype=bool)]).astype(float)
    a0 = w / n0
    V = (Ch * (a0 * c0t)) @ Et + (Ch * (a0 * c0b)) @ Eb  # (K+1) x T
    K0 = Ch @ (a0 * k0)
    grp = np.where(unit_k >= 0, unit_k, K)
    treated = unit_k >= 0
    psi = np.zeros(N)
    yu = np.einsum("it,it->i", y[treated], U[unit_k[treated]])
    psi[treated] = yu - K1[unit_k[treated]]
    psi -= np.einsum("it,it->i", y, V[grp]) - K0[grp]
    psi *= N
    # estimation of the cohort-share weights
    se_ = shares @ est_c
    per_k = own @ est_c  # sum of the cells' estimates, per cohort
    n_cells = own.sum(axis=1)
    d_est = np.where(treated, per_k[np.maximum(unit_k, 0)], 0.0)
    d_cnt = np.where(treated, n_cells[np.maximum(unit_k, 0)], 0.0)
    psi += (d_est - se_) / tot - (d_cnt - tot) * se_ / tot**2
    return float(w @ est_c), psi


def simple_estimate(pa: PanelArrays, *, control: str = "never_treated",
                    base_period: str = "varying", anticipation: int = 0,
                    model: str = "linear") -> tuple[float, float, float]:
    """The simple aggregate alone, fast (for placebo draws): ``(estimate, analytic SE, level)``.

    ``level``: the same weighted average of the treated cohorts' mean outcomes in the post
    periods. Multiplying the treated areas' post-period outcomes by ``1 + d`` moves the linear
    estimate by exactly ``d * level`` (the estimator is linear and base periods are before the
    start) and the Poisson log ratio by ``log(1 + d)``.
    """
    never = pa.cohort < 0
    if control == "never_treated" and not never.any():
        raise EvaluationError("no never-treated unit: use control='not_yet_treated'")
    core = _core(pa, control=control, base_period=base_period, anticipation=anticipation,
                 model=model, need_psi=False)
    unit_k = np.searchsorted(core.cohorts, pa.cohort)
    unit_k[never] = -1
    post = np.isfinite(core.est) & (core.t >= core.g)
    if not post.any():
        return np.nan, np.nan, np.nan
    idx = np.flatnonzero(post)
    est, psi = _simple_fast(pa, core, idx, unit_k, model)
    se, _ = _variance_and_bootstrap(psi[:, None], pa.cluster, inference="analytic", n_boot=0,
                                    seed=0)
    shares = core.cohort_size[core.k[idx]]
    level = float(shares @ core.treated_mean[idx] / shares.sum())
    return est, float(se[0]), level


def estimate(pa: PanelArrays, *, control: str = "never_treated", base_period: str = "varying",
             anticipation: int = 0, model: str = "linear", inference: str = "analytic",
             n_boot: int = 999, seed: int = 0, alpha: float = 0.05) -> DiDResult:
    """:func:`att_gt` on an already validated :class:`PanelArrays`."""
    _check_options(control=control, base_period=base_period, model=model, inference=inference,
                   anticipation=anticipation, alpha=alpha, n_boot=n_boot)
    never = pa.cohort < 0
    if control == "never_treated" and not never.any():
        raise EvaluationError("no never-treated unit: use control='not_yet_treated'")
    if model == "poisson" and (pa.y < 0).any():
        raise EvaluationError("the Poisson model needs non-negative outcomes (counts or rates)")
    core = _core(pa, control=control, base_period=base_period, anticipation=anticipation,
                 model=model)
    unit_k = np.searchsorted(core.cohorts, pa.cohort)
    unit_k[never] = -1
    periods = pa.periods
    ok = np.isfinite(core.est)
    E = _Estimates()
    cols: dict[str, list[int]] = {}

    def add_many(name: str, items: Iterable[tuple[dict[str, Any], float, np.ndarray]]) -> None:
        cols[name] = []
        for row, est, psi in items:
            cols[name].append(len(E.rows))
            E.add(row, est, psi)

    add_many("cells", (
        ({"cohort": periods[core.g[c]], "base_period": periods[core.b[c]],
          "period": periods[core.t[c]], "event_time": int(core.t[c] - core.g[c]),
          "n_treated": int(core.n1[c]), "n_control": int(core.n0[c]),
          **({"level": core.level[c]} if model == "poisson" else {})},
         core.est[c], core.influence[:, c]) for c in range(len(core.k))))
    post = ok & (core.t >= core.g)
    if not post.any():
        raise EvaluationError("no post-treatment period with an estimable effect")
    add_many("simple", [({}, *_agg(core, np.flatnonzero(post), unit_k))])
    grp = []
    for k in np.unique(core.k[post]):
        idx = np.flatnonzero(post & (core.k == k))
        grp.append(({"cohort": periods[core.cohorts[k]], "n_treated": int(core.cohort_size[k])},
                    *_agg(core, idx, unit_k, weighted=False)))
    add_many("group", grp)
    # overall over cohorts: cohort-size weights (with their influence) of the group means
    g_idx = np.array(cols["group"])
    g_est = np.array([E.rows[i]["estimate"] for i in g_idx])
    g_psi = np.stack([E.psi[i] for i in g_idx], axis=1)
    ks = np.unique(core.k[post])
    shares = core.cohort_size[ks] / pa.n
    dummies = (unit_k[:, None] == ks[None, :]).astype(float)
    tot = shares.sum()
    wif = (dummies - shares) / tot - (dummies - shares).sum(axis=1)[:, None] * (shares / tot**2)
    add_many("group_overall", [({}, float(shares / tot @ g_est),
                                g_psi @ (shares / tot) + wif @ g_est)])
    ev = []
    e_all = core.t - core.g
    for e in np.unique(e_all[ok]):
        idx = np.flatnonzero(ok & (e_all == e))
        ev.append(({"event_time": int(e)}, *_agg(core, idx, unit_k)))
    add_many("event", ev)
    e_post = [i for i in cols["event"] if E.rows[i]["event_time"] >= 0]
    add_many("event_overall", [({}, float(np.mean([E.rows[i]["estimate"] for i in e_post])),
                                np.mean([E.psi[i] for i in e_post], axis=0))])

    psi = np.stack(E.psi, axis=1)
    se, draws = _variance_and_bootstrap(psi, pa.cluster, inference=inference, n_boot=n_boot,
                                        seed=seed)
    z = stats.norm.ppf(1 - alpha / 2)
    est = np.array([r["estimate"] for r in E.rows])
    zero = ~np.any(psi != 0, axis=0)  # reference cells / cells without an estimate
    se = np.where(zero, np.nan, se)
    frames = {}
    uniform_crit = None
    for name, positions in cols.items():
        df = pd.DataFrame([E.rows[i] for i in positions])
        i = np.asarray(positions)
        df["se"] = se[i]
        df["ci_low"] = est[i] - z * se[i]
        df["ci_high"] = est[i] + z * se[i]
        with np.errstate(invalid="ignore", divide="ignore"):
            df["p_value"] = 2 * stats.norm.sf(np.abs(est[i] / se[i]))
        if name == "event" and draws is not None:
            sel = i[np.isfinite(se[i]) & (se[i] > 0)]
            crit = np.nan
            if len(sel):
                t_max = np.max(np.abs(draws[:, sel] / se[sel]), axis=1)
                crit = float(np.quantile(t_max, 1 - alpha, method="inverted_cdf"))
            df["cband_low"] = est[i] - crit * se[i]
            df["cband_high"] = est[i] + crit * se[i]
            uniform_crit = crit
        if model == "poisson":
            df["ratio"] = np.exp(df["estimate"])
            df["ratio_low"] = np.exp(df["ci_low"])
            df["ratio_high"] = np.exp(df["ci_high"])
        frames[name] = df
    settings = {"control": control, "base_period": base_period, "anticipation": anticipation,
                "model": model, "inference": inference, "n_boot": n_boot if draws is not None
                else None, "seed": seed if draws is not None else None, "alpha": alpha,
                "n_clusters": int(pa.cluster.max()) + 1,
                "dropped_cohorts": [{"cohort": k.item() if isinstance(k, np.generic) else k,
                                     "n_units": int(v)} for k, v in pa.dropped.items()]}
    return DiDResult(frames["cells"], frames["simple"], frames["group"], frames["group_overall"],
                     frames["event"], frames["event_overall"], settings, pa.n,
                     int((~never).sum()), int(never.sum()), psi, pa.cluster,
                     {**cols, "rows": E.rows}, uniform_crit, pa)


__all__ = ["EvaluationError", "PanelArrays", "as_panel", "arrays", "panel_arrays", "att_gt", "estimate",
           "simple_estimate", "DiDResult",
           "CONTROLS", "BASE_PERIODS", "MODELS", "INFERENCE"]
