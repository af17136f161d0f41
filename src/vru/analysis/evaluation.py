"""Did violence fall where the programme went? One entry point, :func:`evaluate`.

It validates the input, removes (or separately estimates) spillover neighbours, runs staggered
difference-in-differences (:mod:`vru.analysis.did`) and synthetic control
(:mod:`vru.analysis.synth`), simulates the power of the design, and states the result in plain
words with its limits. Pure: pandas objects in, a :class:`EvaluationResult` out. Method
statement: ``docs/methods-evaluation.md``.

**Input.** A balanced long panel (one row per area and period, e.g. area-months) with an
outcome (a count, or a rate), or a :class:`vru.model.panel.Panel` (where every panel is checked),
and the treated areas with their first treated period (a mapping ``area -> start``, or a
DataFrame with columns ``area`` and ``start``, or the panel's own cohorts). For a panel of monthly
``Timestamp`` periods a start may be given as text (``"2021-07"``). Refused with an
:class:`EvaluationError`: a treated area missing from the panel, a start outside the panel or of
another kind than the periods (a number against dates), fewer than ``min_controls`` control
areas (after spillover exclusion), an unbalanced panel, a missing value, a numeric option that is
not a number of the right kind. A cohort starting in the first period (or within
``anticipation`` periods of it) has no pre-period: as R's ``did`` does, it is dropped and named
(``design["dropped_cohorts"]`` and the statement); only when no cohort is left is the panel
refused.

**Spillover.** With spatial weights (:class:`vru.model.weights.SpatialWeights`, e.g.
``SpatialWeights.from_areas(areas, "queen")``; or a libpysal ``Graph`` or a table of pairs
``focal, neighbor``: every link is an adjacency, weights are ignored), the areas
within ``rings`` steps of a treated area (ring 1 = its neighbours, ring 2 = their neighbours, and
so on; treated areas themselves are never in a ring) are either excluded from the controls
(``spillover="exclude"``) or, in addition, estimated as a second "treated" group
(``spillover="separate"``): each ring area starts when the earliest of its nearest treated areas
starts, and its effect is estimated by DiD against the areas outside every ring, the treated
areas left out.

**Power.** Before a null result is read as "no effect" the design's minimum detectable effect
(MDE) is simulated by *placebo assignment on control data*: each draw gives the treated areas'
start dates to as many randomly drawn control areas (none of them treated, so no real effect is
in the data) and estimates the effect against the remaining controls exactly as for the real
design (DiD simple aggregate; synthetic control pooled ATT). A multiplicative effect ``1 + d``
on the placebo areas' post-period outcomes (``d = -0.1``: a 10% reduction) moves each draw's
estimate by a known amount (DiD linear: ``d`` times the treated post-period level; Poisson:
``log(1 + d)``; synthetic control: ``d`` times the placebo areas' post-period mean), which the
tests check against re-estimation on injected data. The test is the randomisation test whose
critical value is the ``1 - alpha`` quantile of ``|estimate|`` over the draws (so its size is
``alpha`` by construction); the power at ``d`` is the share of draws whose shifted estimate
exceeds it. MDE = the smallest reduction with power >= ``target_power`` (default 80%, at
``alpha`` 5%, two-sided), as a proportion of the counterfactual and in outcome units at the
treated areas' pre-period level. For DiD the draws also give the false-positive rate of the
analytic interval (``size_analytic``), which is too high when there are few treated areas.

**Randomisation inference.** The DiD estimate also gets a placebo-assignment p-value over all
areas (the sharp null of no effect anywhere), as the synthetic control's pooled test.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from vru.analysis import did as _did
from vru.analysis import synth as _synth
from vru.analysis.did import EvaluationError
from vru.format import plural
from vru.model.panel import Panel, PanelError, kind, show
from vru.plain import jsonable

if TYPE_CHECKING:
    from libpysal.graph import Graph

    from vru.model.weights import SpatialWeights

METHODS = ("did", "synth")
SPILLOVER = ("exclude", "separate")
SCALES = ("level", "log")


# --- input -------------------------------------------------------------------------------------


def _coerce_start(value, periods: pd.Index):
    if isinstance(periods, pd.DatetimeIndex) and not isinstance(value, pd.Timestamp):
        if kind([value]) == "numbers":  # 2015 is not a date (pandas reads it as 1970 + 2015 ns)
            return value
        try:
            return pd.Timestamp(value)
        except (ValueError, TypeError) as e:
            raise EvaluationError(f"start {show(value)} is not a date") from e
    if isinstance(value, str) and len(periods) and not isinstance(periods[0], str):
        try:
            return type(periods[0])(value)
        except (ValueError, TypeError) as e:
            raise EvaluationError(f"start {show(value)} is not a period like {show(periods[0])}") from e
    return value


def treated_starts(treated, periods: pd.Index, units: pd.Index | None = None, *,
                   column: str | None = None, first_period: str = "refuse") -> dict:
    """Validate the treated areas and their starts against the panel: ``{area: start}``.

    ``treated``: mapping area -> first treated period, or a DataFrame with columns ``area`` and
    ``start``. Every area must be in ``units`` (when given), every start one of ``periods`` after
    the first. A start of ``0`` means never treated (the convention of R's ``did`` and ``csdid``)
    when the periods are numbers and 0 is not one of them: such areas are left out. ``column``:
    the name of the panel's period column, for messages. ``first_period``: ``"refuse"`` a start
    in the first period (no pre-period), or ``"keep"`` it for the estimator to drop and name (as
    R's ``did`` does; :func:`evaluate`).
    """
    if first_period not in ("refuse", "keep"):
        raise EvaluationError(f"unknown first_period {first_period!r}: 'refuse' or 'keep'")
    if isinstance(treated, pd.DataFrame):
        missing = [c for c in ("area", "start") if c not in treated.columns]
        if missing:
            raise EvaluationError(f"the treated-areas table needs columns 'area' and 'start' "
                                  f"(missing {missing[0]!r})")
        dup = treated["area"][treated["area"].duplicated()]
        if len(dup):
            raise EvaluationError(f"treated area {show(dup.iloc[0])} is listed more than once")
        treated = dict(zip(treated["area"], treated["start"], strict=True))
    elif not isinstance(treated, Mapping):
        raise EvaluationError("treated areas must be a mapping area -> start or a DataFrame "
                              "with columns 'area' and 'start'")
    if not treated:
        raise EvaluationError("no treated areas")
    out = {}
    if units is not None:
        known = set(units)
        missing = [a for a in treated if a not in known]
        if missing:
            raise EvaluationError(
                f"treated area{'s' if len(missing) > 1 else ''} "
                f"{', '.join(map(show, missing))} not in the panel")
    first, last = periods[0], periods[-1]
    zero_is_never = kind(periods) == "numbers" and 0 not in set(periods)
    for area, start in treated.items():
        if start is None or (not isinstance(start, str) and pd.isna(start)):
            raise EvaluationError(f"treated area {show(area)} has no start date")
        if zero_is_never and kind([start]) == "numbers" and start == 0:
            continue  # never treated coded as 0 (R's did, csdid)
        s = _coerce_start(start, periods)
        p_kind, s_kind = kind(periods), kind([s])
        if s not in periods and p_kind != s_kind and "values" not in (p_kind, s_kind):
            raise EvaluationError(
                f"treated area {show(area)}: start {show(start)} is {_a(s_kind)}, but the "
                f"panel's periods{f' (column {column!r})' if column else ''} are {p_kind} (e.g. "
                f"{show(first)}): give the start as a period of the panel")
        if s not in periods:
            try:
                where = ("before" if s < first else "after" if s > last
                         else "not one of the periods of")
            except TypeError:
                where = "not one of the periods of"
            raise EvaluationError(
                f"treated area {show(area)}: start {show(start)} is outside the panel ({where} "
                f"{_fmt(first)} to {_fmt(last)})" if where != "not one of the periods of" else
                f"treated area {show(area)}: start {show(start)} is not one of the panel's "
                f"periods")
        if s == first and first_period == "refuse":
            raise EvaluationError(f"treated area {show(area)} starts in the first period of the "
                                  f"panel ({_fmt(first)}): no pre-period to compare with")
        out[area] = s
    if not out:
        raise EvaluationError("no treated areas: every start is 0, which codes never treated")
    return out


def _fmt(p) -> str:
    if isinstance(p, pd.Timestamp):
        return f"{p:%Y-%m}"
    return str(p.item() if isinstance(p, np.generic) else p)


def _a(kind: str) -> str:
    return {"numbers": "a number", "text": "text", "dates": "a date"}.get(kind, kind)


# --- spillover -----------------------------------------------------------------------------------


def spillover_rings(neighbours, treated: Mapping, rings: int = 1) -> pd.DataFrame:
    """Areas within ``rings`` contiguity steps of a treated area.

    ``neighbours``: :class:`vru.model.weights.SpatialWeights` (e.g.
    ``SpatialWeights.from_areas(areas, "queen")``), or at the edge a libpysal ``Graph`` or a
    table of pairs with columns ``focal`` and ``neighbor``; links count in both directions.
    Returns one row per ring area: ``area``, ``ring`` (1 = neighbour of a treated area),
    ``start`` (the earliest start among the treated areas at that distance) and ``nearest``
    (those treated areas, ``;``-separated). Treated areas are never in a ring.
    """
    from vru.model.weights import SpatialWeights

    if isinstance(neighbours, pd.DataFrame) and not {"focal", "neighbor"} <= set(neighbours.columns):
        raise EvaluationError("the neighbour table needs columns 'focal' and 'neighbor' (or give "
                              "vru.model.weights.SpatialWeights)")
    if not (isinstance(rings, int) and rings >= 1):
        raise EvaluationError("rings must be a whole number >= 1")
    try:
        weights = SpatialWeights.coerce(neighbours)
    except (TypeError, ValueError) as e:
        raise EvaluationError(f"spillover neighbours: {e}") from None
    adj: dict = {}
    for a, nbrs in weights.neighbours().items():
        for b in nbrs:
            adj.setdefault(a, set()).add(b)
            adj.setdefault(b, set()).add(a)
    best: dict = {}  # area -> (ring, start, [treated])
    for t, s in treated.items():
        seen = {t}
        frontier = {t}
        for r in range(1, rings + 1):
            nxt = set()
            for a in frontier:
                nxt |= adj.get(a, set())
            nxt -= seen
            seen |= nxt
            for a in nxt:
                if a in treated:
                    continue
                cur = best.get(a)
                if cur is None or r < cur[0]:
                    best[a] = (r, s, [t])
                elif r == cur[0]:
                    best[a] = (r, min(cur[1], s), cur[2] + [t])
            frontier = nxt
    rows = [{"area": a, "ring": r, "start": s, "nearest": ";".join(map(str, sorted(ts)))}
            for a, (r, s, ts) in best.items()]
    return pd.DataFrame(rows, columns=["area", "ring", "start", "nearest"]).sort_values(
        ["ring", "area"]).reset_index(drop=True)


# --- power ---------------------------------------------------------------------------------------


@dataclass
class PowerResult:
    """Power of the design from placebo assignments on control data (see the module docstring)."""

    method: str
    model: str
    alpha: float
    target_power: float
    n_draws: int
    critical_value: float
    mde_relative: float  # smallest detectable reduction, proportion of the counterfactual
    mde_absolute: float  # the same at the treated areas' pre-period level, outcome units
    mde_increase: float  # smallest detectable increase (proportion)
    curve: pd.DataFrame  # effect (proportional change), power
    size_analytic: float | None = None  # DiD: false-positive rate of the analytic interval
    estimates: np.ndarray = field(default_factory=lambda: np.array([]), repr=False)
    levels: np.ndarray = field(default_factory=lambda: np.array([]), repr=False)

    def power(self, effect: float) -> float:
        """Power against a proportional change ``effect`` (e.g. -0.1 for a 10% reduction)."""
        return float(np.mean(np.abs(self._shift(effect)) > self.critical_value))

    def _shift(self, effect: float) -> np.ndarray:
        if self.model == "poisson":
            return self.estimates + (np.log1p(effect) if effect > -1 else -np.inf)
        return self.estimates + effect * self.levels

    def describe(self, unit_words: str = "") -> str:
        name = {"did": "difference-in-differences", "synth": "synthetic control"}[self.method]
        if not np.isfinite(self.mde_relative):
            return (f"With this design ({name}) even a 100% reduction would be detected less than "
                    f"{100 * self.target_power:.0f}% of the time.")
        absolute = (f" (about {self.mde_absolute:.2g}{unit_words} at the treated areas' "
                    f"pre-period level)" if np.isfinite(self.mde_absolute) else "")
        return (f"The {name} design detects a reduction with {100 * self.target_power:.0f}% "
                f"power (5% two-sided placebo test) only if it is at least "
                f"{100 * self.mde_relative:.0f}%{absolute}.")


def _power_from_draws(method, model, est, level, alpha, target, pre_level, size=None):
    est = np.asarray(est, dtype=float)
    level = np.asarray(level, dtype=float)
    ok = np.isfinite(est) & np.isfinite(level)
    est, level = est[ok], level[ok]
    n = len(est)
    if n < 20:
        raise EvaluationError(f"only {n} placebo draws could be estimated: too few control areas "
                              "to simulate the power of the design")
    a = np.sort(np.abs(est))[::-1]
    k = math.ceil(alpha * (1 + n) - 1 - 1e-9)
    crit = float(a[max(k, 1) - 1])
    grid = np.round(np.linspace(0, 1, 1001), 3)
    pr = PowerResult(method, model, alpha, target, n, crit, np.nan, np.nan, np.nan,
                     pd.DataFrame(), size, est, level)
    down = np.array([pr.power(-x) for x in grid])
    up = np.array([pr.power(x) for x in grid])
    hit = np.flatnonzero(down[:-1] >= target)  # a 100% reduction (log 0) is left out
    pr.mde_relative = float(grid[hit[0]]) if len(hit) else np.nan
    hit = np.flatnonzero(up >= target)
    pr.mde_increase = float(grid[hit[0]]) if len(hit) else np.nan
    pr.mde_absolute = pr.mde_relative * pre_level if np.isfinite(pr.mde_relative) else np.nan
    sel = np.round(np.linspace(0, 1, 21), 2)
    pr.curve = pd.DataFrame({"effect": np.concatenate([-sel[::-1], sel[1:]]),
                             "power": np.concatenate([down[np.isin(grid, sel)][::-1],
                                                      up[np.isin(grid, sel)][1:]])})
    return pr


def _assignments(n_pool: int, k: int, n_draws: int, seed: int) -> tuple[np.ndarray, bool]:
    if math.perm(n_pool, k) <= n_draws:
        import itertools

        return np.array(list(itertools.permutations(range(n_pool), k)),
                        dtype=np.int64).reshape(-1, k), True
    rng = np.random.default_rng(seed)
    return np.stack([rng.permutation(n_pool)[:k] for _ in range(n_draws)]), False


def _did_draws(pa: _did.PanelArrays, pool: np.ndarray, starts: np.ndarray, *, n_draws: int,
               seed: int, control: str, base_period: str, anticipation: int, model: str):
    """DiD simple estimates of placebo assignments: ``len(starts)`` units of ``pool`` (row
    indices of ``pa``) get the starts, the rest of ``pool`` are the never-treated controls."""
    draws, exhaustive = _assignments(len(pool), len(starts), n_draws, seed)
    y = pa.y[pool]
    cl = pd.factorize(pa.cluster[pool])[0]
    units = pa.units[pool]
    est = np.empty(len(draws))
    se = np.empty(len(draws))
    lev = np.empty(len(draws))
    for r, d in enumerate(draws):
        coh = np.full(len(pool), -1, dtype=np.int64)
        coh[d] = starts
        p = _did.PanelArrays(units, pa.periods, y, coh, cl)
        est[r], se[r], lev[r] = _did.simple_estimate(p, control=control, base_period=base_period,
                                                     anticipation=anticipation, model=model)
    return est, se, lev, exhaustive


def power(panel: pd.DataFrame | Panel, treated, *, unit: str = "area_code", period: str = "month",
          outcome: str = "value", method: str = "did", model: str = "linear",
          control: str = "never_treated", base_period: str = "varying", anticipation: int = 0,
          exclude=(), pre_periods: int | None = None, n_draws: int = 1000, alpha: float = 0.05,
          target_power: float = 0.8, seed: int = 0) -> PowerResult:
    """Minimum detectable effect of the design by placebo assignment on control data.

    ``exclude``: areas left out of the controls (e.g. spillover rings). See the module docstring.
    """
    pa, starts, pool = _prepare(panel, treated, unit=unit, period=period, outcome=outcome,
                                exclude=exclude, anticipation=anticipation, min_controls=2)
    return _power(pa, starts, pool, method=method, model=model, control=control,
                  base_period=base_period, anticipation=anticipation, pre_periods=pre_periods,
                  n_draws=n_draws, alpha=alpha, target_power=target_power, seed=seed)


def _power(pa, starts: dict, pool: np.ndarray, *, method, model, control, base_period,
           anticipation, pre_periods, n_draws, alpha, target_power, seed,
           covariates: pd.DataFrame | None = None) -> PowerResult:
    tr = pa.units.get_indexer(list(starts))
    s_idx = pa.periods.get_indexer(list(starts.values()))
    pre_level = float(np.mean([pa.y[i, max(0, s - (pre_periods or s)):s].mean()
                               for i, s in zip(tr, s_idx, strict=True)]))
    if len(pool) - len(starts) < 2:
        raise EvaluationError(
            f"too few control areas: {len(pool)} controls for {len(starts)} placebo areas per "
            "draw (at least 2 must remain as controls)")
    if method == "did":
        est, se, lev, _ = _did_draws(pa, pool, s_idx, n_draws=n_draws, seed=seed,
                                     control=control, base_period=base_period,
                                     anticipation=anticipation, model=model)
        z = stats.norm.ppf(1 - alpha / 2)
        ok = np.isfinite(est) & np.isfinite(se)
        size = float(np.mean(np.abs(est[ok]) > z * se[ok])) if ok.any() else np.nan
        return _power_from_draws("did", model, est, lev, alpha, target_power, pre_level, size)
    if method == "synth":
        if model == "poisson":
            raise EvaluationError("the synthetic control has no Poisson variant: model='linear'")
        Y = pd.DataFrame(pa.y.T, index=pa.periods, columns=pa.units)
        d = _synth.placebo_assignments(Y, list(starts.values()), list(pa.units[pool]),
                                       n_draws=n_draws, seed=seed, pre_periods=pre_periods,
                                       covariates=covariates)
        return _power_from_draws("synth", "linear", d.att, d.post_level, alpha, target_power,
                                 pre_level)
    raise EvaluationError(f"unknown method {method!r}: one of {', '.join(METHODS)}")


# --- the evaluation ------------------------------------------------------------------------------


def _prepare(panel, treated, *, unit, period, outcome, exclude, anticipation, min_controls,
             cluster=None):
    base = _did.as_panel(panel, unit=unit, period=period, value=outcome, cluster=cluster)
    starts = treated_starts(treated, base.periods, base.units, column=base.names["period"],
                            first_period="keep")
    try:
        with_starts = base.with_cohorts(starts)
    except PanelError as e:
        raise EvaluationError(str(e)) from None
    pa = _did.arrays(with_starts, anticipation=anticipation)
    if pa.dropped:  # cohorts without a pre-period (first period, anticipation): left out, named
        kept = set(pa.units)
        starts = {a: s for a, s in starts.items() if a in kept}
    excl = set(exclude) - set(starts)
    pool = np.flatnonzero((pa.cohort < 0) & ~pa.units.isin(list(excl)))
    if len(pool) < min_controls:
        n_ex = int(((pa.cohort < 0) & pa.units.isin(list(excl))).sum())
        extra = f" after excluding {n_ex} spillover areas" if n_ex else ""
        raise EvaluationError(
            f"too few control areas: {len(pool)}{extra}, at least {min_controls} needed "
            f"({len(starts)} treated areas)")
    return pa, starts, pool


def _subset(pa: _did.PanelArrays, rows: np.ndarray) -> _did.PanelArrays:
    return _did.PanelArrays(pa.units[rows], pa.periods, pa.y[rows], pa.cohort[rows],
                            pd.factorize(pa.cluster[rows])[0], pa.dropped)


@dataclass
class EvaluationResult:
    """Everything :func:`evaluate` found; ``statement`` and ``limits`` say it in words."""

    design: dict
    did: _did.DiDResult | None
    did_placebo: dict | None
    pretrend: dict | None
    synth: _synth.SynthResult | None
    spillover: _did.DiDResult | None
    rings: pd.DataFrame | None
    power: dict[str, PowerResult]
    statement: str
    limits: list[str]
    power_failed: dict[str, str] = field(default_factory=dict)
    mde_analytic: dict | None = None  # DiD: (z_{1-alpha/2} + z_power) x SE, for reference

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The result tables (DataFrames) by name."""
        t: dict[str, pd.DataFrame] = {}
        if self.did is not None:
            t["did_simple"] = self.did.simple
            t["did_group"] = self.did.group
            t["did_event"] = self.did.event
            t["did_cells"] = self.did.cells
        if self.synth is not None:
            t["synth_units"] = self.synth.table
            t["synth_weights"] = self.synth.weights
            t["synth_event"] = self.synth.event
        if self.spillover is not None:
            t["spillover_simple"] = self.spillover.simple
            t["spillover_event"] = self.spillover.event
        if self.rings is not None:
            t["rings"] = self.rings
        if self.power:
            t["power"] = pd.DataFrame([{
                "method": k, "mde_reduction": p.mde_relative, "mde_absolute": p.mde_absolute,
                "mde_increase": p.mde_increase, "critical_value": p.critical_value,
                "n_draws": p.n_draws, "size_analytic": p.size_analytic}
                for k, p in self.power.items()])
            t["power_curve"] = pd.concat([p.curve.assign(method=k)
                                          for k, p in self.power.items()], ignore_index=True)
        return t

    def as_dict(self) -> dict:
        """JSON-ready: plain Python numbers, strings and lists."""
        out = {"design": self.design, "statement": self.statement,
               "limits": self.limits,
               "tables": self.tables}
        if self.did is not None:
            out["did"] = {"simple": jsonable(self.did.simple)[0],
                          "settings": self.did.settings,
                          "placebo": self.did_placebo, "pretrend": self.pretrend}
        if self.synth is not None:
            s = self.synth
            out["synth"] = {"pooled_att": s.pooled_att, "ci_low": s.ci_low, "ci_high": s.ci_high,
                            "p_pooled_att": s.p_pooled_att, "p_pooled_ratio": s.p_pooled_ratio,
                            "settings": s.settings, "fit_unique": s.fit_unique,
                            "att_range": s.pooled_range,
                            "warning": "" if s.fit_unique is not False else
                            "the pre-period fit is not unique: effects from "
                            f"{_num(s.pooled_range[0])} to {_num(s.pooled_range[1])} fit "
                            "equally well"}
        return jsonable(out)


def evaluate(panel: pd.DataFrame | Panel, treated=None, *, unit: str = "area_code",
             period: str = "month", outcome: str = "value", cohort: str | None = None,
             methods=METHODS, model: str = "linear",
             control: str = "never_treated", base_period: str = "varying", anticipation: int = 0,
             neighbours: SpatialWeights | Graph | pd.DataFrame | None = None, rings: int = 1,
             spillover: str = "exclude",
             covariates: pd.DataFrame | None = None, inference: str = "analytic",
             cluster: str | None = None, n_boot: int = 999, pre_periods: int | None = None,
             n_draws: int = 1000, power: bool = True, alpha: float = 0.05,
             target_power: float = 0.8, min_controls: int = 5, max_lead: int | None = 12,
             seed: int = 0, outcome_label: str = "the outcome",
             outcome_unit: str = "", outcome_scale: str = "level",
             recorded_crime: bool = False) -> EvaluationResult:
    """Evaluate a programme: DiD and synthetic control, spillover, power, a statement in words.

    ``panel``: a long DataFrame (columns ``unit``, ``period``, ``outcome``, and ``cluster`` if
    given) or a :class:`~vru.model.panel.Panel` (the column names are then not used).
    ``treated``: area -> first treated period (or a DataFrame ``area, start``); or leave it out
    and give the cohorts with the panel (``cohort``: a column of each area's first treated
    period, missing or 0 for never treated; or a Panel with cohorts). ``methods``: any
    of ``"did"``, ``"synth"``. ``model``: ``"linear"`` or ``"poisson"`` (DiD on counts: ratio of
    expected outcomes). ``neighbours`` + ``rings`` + ``spillover``: see the module docstring.
    ``pre_periods``: the synthetic control fits on at most this many periods before each start.
    ``max_lead``: the pre-trend test covers the last ``max_lead`` pre-treatment event times.
    ``n_draws``: placebo assignments for the randomisation tests and the power simulation.
    ``outcome_label`` / ``outcome_unit``: words for the statement (e.g. "violence with injury",
    "offences per 1,000 residents per month"). ``outcome_scale``: ``"level"``, or ``"log"`` for a
    log outcome (the synthetic control's fit is then stated in log points, not as a percentage
    of the level). ``recorded_crime``: the outcome is police-recorded crime (adds the caveat that
    it measures recording as well as offending).
    """
    if outcome_scale not in SCALES:
        raise EvaluationError(f"unknown outcome_scale {outcome_scale!r}: one of "
                              f"{', '.join(SCALES)}")
    methods = (methods,) if isinstance(methods, str) else tuple(methods)
    if covariates is not None and not isinstance(covariates, pd.DataFrame):
        raise EvaluationError(f"covariates must be a pandas DataFrame (one row per area), not "
                              f"{type(covariates).__name__}")
    for m in methods:
        if m not in METHODS:
            raise EvaluationError(f"unknown method {m!r}: one of {', '.join(METHODS)}")
    if not methods:
        raise EvaluationError("no method chosen")
    if spillover not in SPILLOVER:
        raise EvaluationError(f"unknown spillover mode {spillover!r}: one of "
                              f"{', '.join(SPILLOVER)}")
    _check_numbers(n_draws=n_draws, n_boot=n_boot, min_controls=min_controls, rings=rings,
                   pre_periods=pre_periods, max_lead=max_lead, seed=seed, anticipation=anticipation,
                   alpha=alpha, target_power=target_power)
    if "synth" in methods and model == "poisson" and methods == ("synth",):
        raise EvaluationError("the synthetic control has no Poisson variant: model='linear'")
    _did._check_options(control=control, base_period=base_period, model=model,
                        inference=inference, anticipation=anticipation, alpha=alpha,
                        n_boot=n_boot)
    base = _did.as_panel(panel, unit=unit, period=period, value=outcome, cohort=cohort,
                         cluster=cluster)
    if treated is None:
        if base.cohorts is None or not base.cohorts.notna().any():
            raise EvaluationError("no treated areas: give treated (area -> first treated "
                                  "period), or the panel's cohorts (cohort column)")
        treated = {u: c for u, c in base.cohorts.items() if c is not None}
    elif base.cohorts is not None:
        raise EvaluationError("the treated areas are given twice, as treated and as the "
                              "panel's cohorts: give one of them")
    starts0 = treated_starts(treated, base.periods, base.units, column=base.names["period"],
                             first_period="keep")
    ring_table = None
    excluded: list = []
    if neighbours is not None:
        ring_table = spillover_rings(neighbours, starts0, rings)
        ring_table = ring_table[ring_table["area"].isin(set(base.units))].reset_index(drop=True)
        excluded = list(ring_table["area"])
    pa, starts, pool = _prepare(base, starts0, unit=unit, period=period, outcome=outcome,
                                exclude=excluded, anticipation=anticipation,
                                min_controls=min_controls, cluster=cluster)
    dropped = [{"cohort": _fmt(c), "areas": sorted(_fmt(a) for a, s in starts0.items()
                                                     if s == c)} for c in pa.dropped]
    tr_rows = np.flatnonzero(pa.cohort >= 0)
    keep = np.sort(np.concatenate([tr_rows, pool]))
    main = _subset(pa, keep)
    design = {"n_treated": len(starts), "n_controls": len(pool), "n_periods": len(pa.periods),
              "first_period": pa.periods[0], "last_period": pa.periods[-1],
              "starts": {str(k): v for k, v in starts.items()},
              "excluded_spillover": [str(a) for a in excluded], "rings": rings
              if neighbours is not None else 0, "spillover": spillover
              if neighbours is not None else None, "model": model, "control": control,
              "methods": list(methods), "outcome": outcome_label, "alpha": alpha,
              "dropped_cohorts": dropped, "outcome_scale": outcome_scale,
              "headline_inference": None, "headline_reason": ""}
    opts = {"control": control, "base_period": base_period, "anticipation": anticipation}

    did_res = did_plac = pre = None
    if "did" in methods:
        did_res = _did.estimate(main, model=model, inference=inference, n_boot=n_boot,
                                seed=seed, alpha=alpha, **opts)
        pre = did_res.pretrend(max_lead=max_lead, seed=seed)
        # randomisation p-value over all areas (treated + controls): sharp null of no effect
        s_idx = pa.periods.get_indexer(list(starts.values()))
        order = main.units.get_indexer(list(starts))
        universe = np.concatenate([order, np.setdiff1d(np.arange(main.n), order)])
        est, _, _, exh = _did_draws(main, universe, s_idx, n_draws=n_draws, seed=seed,
                                    model=model, **opts)
        obs = did_res.att
        ok = np.isfinite(est)
        hits = int((np.abs(est[ok]) >= abs(obs) - 1e-12 * max(1.0, abs(obs))).sum())
        n = int(ok.sum())
        c = _critical(est[ok], alpha, exh)
        did_plac = {"p_value": hits / n if exh else (1 + hits) / (1 + n), "n_draws": n,
                    "exhaustive": exh, "critical_value": c, "ci_low": obs - c, "ci_high": obs + c}
        if model == "poisson":
            did_plac |= {"ratio_low": math.exp(obs - c), "ratio_high": math.exp(obs + c)}
        single = did_res.group.loc[did_res.group["n_treated"] == 1, "cohort"].tolist()
        if single:
            design["headline_inference"] = "placebo"
            design["headline_reason"] = (
                f"{plural(len(single), 'cohort')} ({', '.join(_fmt(c) for c in single)}) "
                f"{'has' if len(single) == 1 else 'have'} a single treated area: the analytic "
                "standard error then rests on one area's deviations and is far too small, so "
                "the headline interval and p-value come from placebo (randomisation) "
                "inference; the analytic interval is secondary")
        else:
            design["headline_inference"] = "analytic"
            design["headline_reason"] = ("every cohort has more than one treated area: the "
                                         "analytic interval is shown, with the placebo p-value")

    spill = None
    if neighbours is not None and spillover == "separate" and ring_table is not None \
            and len(ring_table) and "did" in methods:
        ring_rows = pa.units.get_indexer(list(ring_table["area"]))
        coh = np.full(pa.n, -1, dtype=np.int64)
        coh[ring_rows] = pa.periods.get_indexer(list(ring_table["start"]))
        rows = np.sort(np.concatenate([ring_rows, pool]))
        sp = _did.PanelArrays(pa.units[rows], pa.periods, pa.y[rows], coh[rows],
                              pd.factorize(pa.cluster[rows])[0])
        spill = _did.estimate(sp, model=model, inference=inference, n_boot=n_boot, seed=seed,
                              alpha=alpha, **opts)

    syn = None
    if "synth" in methods:
        syn = _synth.synth(Panel(main.units, main.periods, main.y, names=base.names), starts,
                           donors=list(pa.units[pool]), covariates=covariates,
                           pre_periods=pre_periods, n_draws=n_draws, alpha=alpha, seed=seed)

    pw: dict[str, PowerResult] = {}
    failed: dict[str, str] = {}
    if power:
        for m in methods:
            try:
                pw[m] = _power(pa, starts, pool, method=m,
                               model="linear" if m == "synth" else model,
                               pre_periods=pre_periods, n_draws=n_draws, alpha=alpha,
                               target_power=target_power, seed=seed,
                               covariates=covariates if m == "synth" else None, **opts)
            except EvaluationError as e:
                failed[m] = str(e)
    mde_an = None
    if did_res is not None:
        zsum = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(target_power)
        _, _, level = _did.simple_estimate(main, model=model, **opts)
        if model == "poisson":
            rel = 1 - math.exp(-zsum * did_res.se)
            mde_an = {"relative": rel, "absolute": rel * level}
        else:
            mde_an = {"relative": zsum * did_res.se / level if level else np.nan,
                      "absolute": zsum * did_res.se}
    res = EvaluationResult(design, did_res, did_plac, pre, syn, spill, ring_table, pw, "", [],
                           failed, mde_an)
    res.statement, res.limits = _words(res, outcome_label, outcome_unit,
                                       recorded_crime=recorded_crime)
    return res


_WHOLE_MIN = {"n_draws": 1, "n_boot": 1, "min_controls": 1, "rings": 1, "pre_periods": 1,
              "max_lead": 1, "seed": 0, "anticipation": 0}
_OPTIONAL = {"pre_periods", "max_lead"}


def _check_numbers(**options) -> None:
    """The numeric options of :func:`evaluate`, each named with the value and its type when it
    is not what it must be (a whole number, a share strictly between 0 and 1), before any of them
    reaches numpy."""
    for name, v in options.items():
        what = f"{show(v)} ({type(v).__name__})"
        if name in _WHOLE_MIN:
            if v is None and name in _OPTIONAL:
                continue
            lo = _WHOLE_MIN[name]
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < lo:
                none = " or None" if name in _OPTIONAL else ""
                raise EvaluationError(f"{name} must be a whole number >= {lo}{none}, not {what}")
        elif isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating) \
                or not 0 < v < 1:
            raise EvaluationError(f"{name} must be a number between 0 and 1 (exclusive), not "
                                  f"{what}")


def _critical(est: np.ndarray, alpha: float, exhaustive: bool) -> float:
    """The ``1 - alpha`` quantile of ``|estimate|`` over placebo draws (as
    :meth:`vru.analysis.synth.PlaceboDraws.critical_value`; NaN with too few draws)."""
    x = np.sort(np.abs(est))[::-1]
    k = math.floor(alpha * len(x)) if exhaustive else math.ceil(alpha * (1 + len(x)) - 1 - 1e-9)
    return float(x[k - 1]) if 1 <= k <= len(x) else np.nan


# --- words ---------------------------------------------------------------------------------------


def _pretrend_test(pt: dict) -> str:
    """The pre-trend test's name in words (see :meth:`vru.analysis.did.DiDResult.pretrend`)."""
    return {"permutation": "permutation test", "hotelling_f": "small-sample F test"}.get(
        pt.get("method"), "joint test")


def _pv(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def _pp(p: float) -> str:
    """A placebo (randomisation) p-value: never shown as 0.00, which it cannot be (the smallest
    is one over the number of assignments), but with its first significant digit."""
    return f"{p:.2f}" if not p < 0.01 else f"{p:.1g}"


def _num(x: float) -> str:
    return f"{x:+.3g}" if abs(x) >= 0.001 else f"{x:+.2e}"


def _span(x: pd.Series, fmt: str) -> str:
    """``"4.1% to 6.3%"``; one value when both ends read the same (one treated area)."""
    lo, hi = fmt.format(x.min()), fmt.format(x.max())
    return lo if lo == hi else f"{lo} to {hi}"


def _interval(lo: float, hi: float, settings: dict, design: dict) -> str:
    """The synthetic control's randomisation interval in words, or why it cannot be computed
    (too few placebo assignments for the ``1 - alpha`` quantile), never ``nan``."""
    if np.isfinite(lo) and np.isfinite(hi):
        return f"randomisation interval {_num(lo)} to {_num(hi)}"
    alpha = design["alpha"]
    n = settings.get("n_draws")
    level = f"{100 * (1 - alpha):g}%"
    if not n:
        return f"no {level} randomisation interval: no placebo assignments were run"
    return (f"no {level} randomisation interval: {plural(n, 'placebo assignment')} "
            f"{'is' if n == 1 else 'are'} too few, at least {math.ceil(1 / alpha)} are needed")


def _words(r: EvaluationResult, label: str, unit_words: str, *,
           recorded_crime: bool = False) -> tuple[str, list[str]]:
    d = r.design
    parts = [f"{plural(d['n_treated'], 'treated area')} against "
             f"{plural(d['n_controls'], 'control area')}, "
             f"{_fmt(d['first_period'])} to {_fmt(d['last_period'])}."]
    for dc in d.get("dropped_cohorts") or []:
        why = ("starts in the first period of the panel: no pre-period to compare with"
               if dc["cohort"] == _fmt(d["first_period"]) else
               "has no pre-period once anticipation is allowed for")
        parts.append(f"Left out: the cohort starting {dc['cohort']} ({', '.join(dc['areas'])}) "
                     f"{why}.")
    significant = []
    placebo_headline = d.get("headline_inference") == "placebo"
    if r.did is not None and placebo_headline:
        s = r.did.simple.iloc[0]
        pl = r.did_placebo
        pp = pl["p_value"]
        if d["model"] == "poisson":
            ri = (f"randomisation interval {100 * (pl['ratio_low'] - 1):+.0f}% to "
                  f"{100 * (pl['ratio_high'] - 1):+.0f}%; " if np.isfinite(pl["critical_value"])
                  else _interval(np.nan, np.nan, pl, d) + "; ")
            parts.append(
                f"Difference-in-differences (Callaway-Sant'Anna, Poisson): after the start, "
                f"{label} in the treated areas was {s['ratio']:.2f} times what the control areas' "
                f"trend implies ({100 * (s['ratio'] - 1):+.0f}%; {ri}placebo p = {_pp(pp)}; "
                f"analytic 95% CI {100 * (s['ratio_low'] - 1):+.0f}% to "
                f"{100 * (s['ratio_high'] - 1):+.0f}%, not reliable here).")
        else:
            ri = (f"randomisation interval {_num(pl['ci_low'])} to {_num(pl['ci_high'])}; "
                  if np.isfinite(pl["critical_value"]) else _interval(np.nan, np.nan, pl, d) + "; ")
            parts.append(
                f"Difference-in-differences (Callaway-Sant'Anna): after the start, {label} in the "
                f"treated areas changed by {_num(s['estimate'])} relative to the control areas "
                f"({ri}placebo p = {_pp(pp)}; analytic 95% CI {_num(s['ci_low'])} to "
                f"{_num(s['ci_high'])}, not reliable here).")
        parts.append(f"Inference: {d['headline_reason']}.")
        significant.append(pp <= d["alpha"])
    elif r.did is not None:
        s = r.did.simple.iloc[0]
        pp = r.did_placebo["p_value"]
        if d["model"] == "poisson":
            parts.append(
                f"Difference-in-differences (Callaway-Sant'Anna, Poisson): after the start, "
                f"{label} in the treated areas was {s['ratio']:.2f} times what the control areas' "
                f"trend implies ({100 * (s['ratio'] - 1):+.0f}%; 95% CI "
                f"{100 * (s['ratio_low'] - 1):+.0f}% to {100 * (s['ratio_high'] - 1):+.0f}%; "
                f"placebo p = {_pp(pp)}).")
        else:
            parts.append(
                f"Difference-in-differences (Callaway-Sant'Anna): after the start, {label} in the "
                f"treated areas changed by {_num(s['estimate'])} relative to the control areas "
                f"(95% CI {_num(s['ci_low'])} to {_num(s['ci_high'])}; placebo p = {_pp(pp)}).")
        significant.append(pp <= d["alpha"])
    if r.did is not None:
        if r.pretrend and r.pretrend["n_restrictions"] and not r.pretrend.get("computed", True):
            parts.append(f"Pre-trends: the joint test of {r.pretrend['n_restrictions']} "
                         f"pre-period effects was {r.pretrend['reason']}, so parallel trends "
                         "are untested.")
        elif r.pretrend and r.pretrend["df"]:
            pt = r.pretrend
            test = _pretrend_test(pt)
            if pt["p_value"] < 0.05:
                parts.append(f"Warning: before the start the treated and control areas already "
                             f"moved differently ({test} of {pt['n_restrictions']} pre-period "
                             f"effects, p {_pv(pt['p_value'])}: a difference this large is "
                             "unusual by chance alone), so parallel trends may not hold and part "
                             "of the estimate may reflect a difference that predates the "
                             "programme; the test does not say how much.")
            else:
                parts.append(f"Pre-trends: no clear difference before the start ({test} of "
                             f"{pt['n_restrictions']} pre-period effects, p = "
                             f"{pt['p_value']:.2f}); this test has little power with few areas, "
                             "so it does not show that the trends were parallel.")
    if r.synth is not None:
        sy = r.synth
        t = sy.table
        if d.get("outcome_scale") == "log":
            fit = (f"pre-period fit RMSPE {_span(t['pre_rmspe'], '{:.3g}')} log points")
        else:
            fit = (f"pre-period fit RMSPE {_span(t['pre_rmspe_pct'], '{:.1f}%')} of the "
                   "pre-period level")
        if sy.fit_unique is False:
            lo, hi = sy.pooled_range
            bad = t.loc[t["fit_unique"].eq(False), "unit"]
            parts.append(
                f"Synthetic control: the pre-period fit is not unique: pooled post-period gaps "
                f"(actual - synthetic) from {_num(lo)} to {_num(hi)} fit equally well "
                f"({plural(len(bad), 'treated area')}: {', '.join(map(_fmt, bad))} "
                f"{'has' if len(bad) == 1 else 'have'} many donor weightings with the same "
                f"pre-period fit, which disagree after the start), so no single effect can be "
                f"reported; the weights the solver happened to find give {_num(sy.pooled_att)} "
                f"(placebo p = {_pp(sy.p_pooled_att)}); {fit}.")
        else:
            parts.append(
                f"Synthetic control: the pooled post-period gap (actual - synthetic) is "
                f"{_num(sy.pooled_att)} ({_interval(sy.ci_low, sy.ci_high, sy.settings, d)}; "
                f"placebo p = {_pp(sy.p_pooled_att)}); {fit}.")
            significant.append(sy.p_pooled_att <= d["alpha"])
    if r.spillover is not None:
        s = r.spillover.simple.iloc[0]
        if d["model"] == "poisson":
            est = (f"{s['ratio']:.2f} times their counterfactual (95% CI {s['ratio_low']:.2f} to "
                   f"{s['ratio_high']:.2f})")
        else:
            est = (f"a change of {_num(s['estimate'])} relative to the areas further away (95% "
                   f"CI {_num(s['ci_low'])} to {_num(s['ci_high'])})")
        sp_pre = r.spillover.pretrend(max_lead=12)
        warn = (f"; but they already moved differently before the start (pre-trend p "
                f"{_pv(sp_pre['p_value'])})" if sp_pre["computed"] and sp_pre["p_value"] < 0.05
                else "")
        parts.append(f"Neighbouring areas ({plural(r.spillover.n_treated, 'area')} within "
                     f"{plural(d['rings'], 'ring')} of a treated area, estimated as if treated): "
                     f"{est}{warn}.")
    uw = f" {unit_words}" if unit_words else ""
    for p in r.power.values():
        parts.append(p.describe(uw))
    for m, why in r.power_failed.items():
        name = {"did": "difference-in-differences", "synth": "synthetic control"}[m]
        parts.append(f"The power of the {name} design could not be simulated ({why}).")
    if "did" in r.power_failed and r.mde_analytic and np.isfinite(r.mde_analytic["relative"]):
        parts.append(f"From the analytic standard error alone (a large-sample approximation) the "
                     f"smallest detectable reduction would be about "
                     f"{100 * r.mde_analytic['relative']:.0f}%.")
    if significant and not any(significant):
        best = min((p.mde_relative for p in r.power.values() if np.isfinite(p.mde_relative)),
                   default=np.nan)
        if not r.power:
            parts.append("Verdict: no effect was detected, but without the power of the design "
                         "this cannot be read as evidence that the programme had no effect.")
        elif np.isfinite(best):
            parts.append(f"Verdict: no effect was detected, but the data are consistent both with "
                         f"no effect and with reductions of up to about {100 * best:.0f}%: this is "
                         "not evidence that the programme had no effect.")
        else:
            parts.append("Verdict: no effect was detected, and this design could not have "
                         "detected a plausible one: the result says nothing about the "
                         "programme's effect.")
    elif significant and all(significant):
        parts.append("Verdict: both methods find a difference unlikely to be chance (placebo "
                     "tests); whether it is the programme's effect depends on the assumptions "
                     "below.")
    elif significant:
        parts.append("Verdict: the methods disagree, so the evidence is weak.")
    limits = [
        "The comparison assumes that without the programme the treated areas' outcome would have "
        "moved like the controls' (DiD: parallel trends; synthetic control: like the weighted "
        "donors). Anything else that changed in the treated areas at the same time (other "
        "programmes, policing, recording practice) is mixed into the estimate.",
    ]
    if recorded_crime:
        limits.append("Recorded crime measures police activity and reporting as well as "
                      "offending.")
    if d["n_treated"] < 20 and r.did is not None:
        size = r.power.get("did")
        extra = (f" (on placebo draws the analytic 95% interval excluded 0 in "
                 f"{100 * size.size_analytic:.0f}% of cases, against 5% expected)"
                 if size is not None and size.size_analytic is not None else "")
        limits.append(f"With only {plural(d['n_treated'], 'treated area')} the analytic "
                      f"intervals rest on large-sample approximations{extra}; the placebo "
                      "p-values do not.")
    if d["excluded_spillover"]:
        n_ex = len(d["excluded_spillover"])
        limits.append(f"{plural(n_ex, 'area')} next to treated areas {'was' if n_ex == 1 else 'were'}"
                      " left out of the controls in case the programme (or displaced crime) "
                      "spilled over.")
    else:
        limits.append("Neighbouring areas were not excluded: if the programme displaced crime "
                      "into them, or its benefits spread to them, the controls are contaminated.")
    if r.synth is not None:
        t = r.synth.table
        if d.get("outcome_scale") == "log":
            poor = t[t["pre_rmspe"] > 0.1]
            how = "RMSPE over 0.1 log points"
        else:
            poor = t[t["pre_rmspe_pct"] > 10]
            how = "RMSPE over 10% of the level"
        if len(poor):
            limits.append(f"The synthetic control fits {plural(len(poor), 'treated area')} poorly "
                          f"before the start ({how}): {', '.join(map(_fmt, poor['unit']))}; "
                          f"{'its gap is' if len(poor) == 1 else 'their gaps are'} unreliable.")
        if r.synth.fit_unique is False:
            limits.append("The synthetic control's pre-period fit is not unique (few pre-periods "
                          "for the number of donors): the range of effects over the equally good "
                          "fits is reported instead of one of them; more pre-periods, fewer "
                          "donors or a penalised synthetic control would narrow it.")
    return " ".join(parts), limits


__all__ = ["EvaluationError", "evaluate", "EvaluationResult", "power", "PowerResult",
           "spillover_rings", "treated_starts", "METHODS", "SPILLOVER"]
