"""What drives violence (the "City Hall analysis"): the data and the method.

Reproduces, from named data, the two statements City Hall made without publishing their measures:

1. "six of the 10 boroughs with the highest increases in unemployment over the pandemic are in the
   top 10 boroughs for serious violence", computed with every bundled labour-market measure
   (ONS model-based unemployment rate 2019 -> 2020 and 2019 -> 2021; WPI/Nomis claimant count
   October 2019 -> October 2020 summed from LSOAs to boroughs, as a change in claimants, a change
   in the claimant rate and a percentage change) against serious violence as counts and as rates
   per 1,000 residents, over a stated period and, for sensitivity, over other years;
2. (2019) "three quarters of the boroughs with the highest violent offending are among the 10
   most deprived" (IMD 2019 average score).

Plus rank and linear correlations and count regressions at borough and LSOA level. The methods are
in :mod:`vru.analysis.drivers` and ``docs/methods-drivers.md``. Universe: the 32 boroughs policed
by the Metropolitan Police (the City of London has no MPS figures and no model-based rate).

:func:`run` returns a :class:`DriversResult` (``vru drivers`` prints its :meth:`~DriversResult.as_dict`);
its section of the report is :func:`vru.outputs.sections.drivers.present`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd

from vru import taxonomy
from vru.analysis import drivers as d
from vru.geography import MPS_BOROUGHS
from vru.pipelines.base import MissingData, Params, ParamsError, check_category
from vru.plain import jsonable
from vru.sources import catalogue
from vru.taxonomy import SERIOUS_VIOLENCE, SERIOUS_VIOLENCE_MAJOR
from vru.warehouse import queries as q
from vru.warehouse.store import Warehouse

CRIME_SOURCE = catalogue.MPS_BOROUGH_DETAILED  # the only borough series with knife offences
LSOA_CRIME_SOURCE = catalogue.MPS_LSOA_ANNUAL_MILLINGTON
ONS_SOURCE = catalogue.ONS_MODEL_UNEMPLOYMENT
CLAIMANT_SOURCE = catalogue.WPI_CLAIMANT_COUNT

#: Default serious violence: violence with injury + robbery + knife offences (possession of an
#: article with a blade or point and other knife offences), MPS detailed classification.
#: LSOA serious violence: the LSOA annual aggregation has major categories only.
LSOA_VIOLENCE = SERIOUS_VIOLENCE_MAJOR
#: IMD 2019 domains used as predictors (the crime domain is left out: it is built from recorded
#: crime, which would put the outcome on both sides of the equation).
IMD_DOMAINS = ("income_score", "employment_score", "education_score", "health_score",
               "barriers_score", "living_environment_score")
CLAIMED_K = 6  # City Hall's "six of the 10"
#: The most permutations a run may ask for (each top-n overlap draws this many shuffles).
MAX_PERMUTATIONS = 1_000_000

_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


# --- parameters ----------------------------------------------------------------------------------


def _tuple(name: str, value: Any, *, comma: bool = False) -> tuple:
    """``value`` as a tuple: a list or tuple as is, a comma-separated string split (``comma``)."""
    if comma and isinstance(value, str):
        return tuple(c.strip() for c in value.split(",") if c.strip())
    if isinstance(value, list | tuple):
        return tuple(value)
    raise ParamsError(f"{name}: expected a list, got {value!r}")


def _int(name: str, value: Any, lo: int | None = None, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ParamsError(f"{name}: expected a whole number, got {value!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        bounds = (f"at least {lo}" if hi is None else f"at most {hi}" if lo is None
                  else f"from {lo} to {hi}")
        raise ParamsError(f"{name}: must be {bounds}, got {value}")
    return int(value)


def _month(name: str, value: Any) -> str:
    if not isinstance(value, str) or not _MONTH.fullmatch(value.strip()):
        raise ParamsError(f"{name}: expected a year and month like 2020-04, got {value!r}")
    return value.strip()


def _categories(name: str, value: Any) -> tuple[str, ...]:
    cats = _tuple(name, value, comma=True)
    if not cats:
        raise ParamsError(f"{name}: name at least one crime category")
    for c in cats:
        check_category(name, c)
    for i, c in enumerate(cats):
        if c in cats[:i]:
            raise ParamsError(f"{name}: {c!r} named twice")
        for other in cats[:i]:
            outer, inner = ((c, other) if other in taxonomy.descendants(c) else
                            (other, c) if c in taxonomy.descendants(other) else (None, None))
            if outer is not None:
                raise ParamsError(f"{name}: {inner!r} is part of {outer!r}, so its offences would "
                                  f"be counted twice; name one of them")
    return cats


def _periods(name: str, value: Any, *, empty: bool) -> tuple[tuple[str, str, str], ...]:
    out = []
    for item in _tuple(name, value):
        if not isinstance(item, list | tuple) or len(item) != 3 or not isinstance(item[0], str):
            raise ParamsError(f"{name}: each period is (label, first month, last month), "
                              f"got {item!r}")
        lo, hi = _month(name, item[1]), _month(name, item[2])
        if lo > hi:
            raise ParamsError(f"{name}: period {item[0]!r} ends ({hi}) before it starts ({lo})")
        out.append((item[0], lo, hi))
    if not out and not empty:
        raise ParamsError(f"{name}: name at least one period")
    return tuple(out)


@dataclass(frozen=True)
class DriverParams(Params):
    """Every choice of the analysis, with its default (see docs/methods-drivers.md).

    Categories may be given as a comma-separated string; months are ``YYYY-MM``; periods are
    ``(label, first month, last month)``.
    """

    categories: tuple[str, ...] = SERIOUS_VIOLENCE
    start: str = "2020-04"  # the first pandemic year, April 2020 - March 2021
    end: str = "2021-03"
    sensitivity_periods: tuple[tuple[str, str, str], ...] = (
        ("2019", "2019-01", "2019-12"), ("2020", "2020-01", "2020-12"),
        ("2021", "2021-01", "2021-12"), ("2022", "2022-01", "2022-12"))
    n: int = 10
    ons_from: int = 2019
    ons_to: tuple[int, ...] = (2020, 2021)
    claimant_from: str = "2019-10"
    claimant_to: str = "2020-10"
    deprivation_periods: tuple[tuple[str, str, str], ...] = (
        ("2018", "2018-01", "2018-12"), ("2019", "2019-01", "2019-12"))
    deprivation_n: tuple[int, ...] = (4, 8, 10, 12)
    lsoa_categories: tuple[str, ...] = LSOA_VIOLENCE
    lsoa_year: int = 2021  # latest correct year of the LSOA aggregation (2020 is wrong)
    permutations: int = 10_000
    seed: int = 0

    def __post_init__(self) -> None:
        boroughs = len(MPS_BOROUGHS)
        ons_from = _int("ons_from", self.ons_from, 1900, 2100)
        ons_to = tuple(_int("ons_to", y, ons_from + 1, 2100) for y in _tuple("ons_to", self.ons_to))
        if not ons_to:
            raise ParamsError("ons_to: name at least one year")
        values: dict[str, Any] = {
            "categories": _categories("categories", self.categories),
            "start": _month("start", self.start),
            "end": _month("end", self.end),
            "sensitivity_periods": _periods("sensitivity_periods", self.sensitivity_periods,
                                            empty=True),
            "n": _int("n", self.n, 1, boroughs),
            "ons_from": ons_from,
            "ons_to": ons_to,
            "claimant_from": _month("claimant_from", self.claimant_from),
            "claimant_to": _month("claimant_to", self.claimant_to),
            "deprivation_periods": _periods("deprivation_periods", self.deprivation_periods,
                                            empty=False),
            "deprivation_n": tuple(_int("deprivation_n", k, 1, boroughs)
                                   for k in _tuple("deprivation_n", self.deprivation_n)),
            "lsoa_categories": _categories("lsoa_categories", self.lsoa_categories),
            "lsoa_year": _int("lsoa_year", self.lsoa_year, 1900, 2100),
            "permutations": _int("permutations", self.permutations, 1, MAX_PERMUTATIONS),
            "seed": _int("seed", self.seed, 0),
        }
        if values["start"] > values["end"]:
            raise ParamsError(f"end: the last month ({values['end']}) is before the first "
                              f"({values['start']})")
        if values["claimant_from"] >= values["claimant_to"]:
            raise ParamsError(f"claimant_to: must be after claimant_from ({values['claimant_from']}), "
                              f"got {values['claimant_to']}")
        if not values["deprivation_n"]:
            raise ParamsError("deprivation_n: name at least one n")
        for k, v in values.items():
            object.__setattr__(self, k, v)


# --- results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabourMarket:
    """The pandemic rise in unemployment per MPS borough, by every bundled measure."""

    rises: pd.DataFrame  # one column per measure id, indexed by borough
    labels: dict[str, str]  # measure id -> a description in words
    #: Share of each borough's 16-64 residents living in the LSOAs the claimant file covers
    #: (empty without the claimant count or the 16-64 population).
    coverage: dict[str, float] = field(default_factory=dict)
    missing_lsoas: int | None = None  # 2011 LSOAs the claimant file lacks (None: no claimant count)


@dataclass(frozen=True)
class UnemploymentStatement:
    """The unemployment statement with every measure: headline grid and sensitivity over periods."""

    grid: pd.DataFrame  # d.overlap_grid for every (rise, violence) pair, with x_label and y_label
    sensitivity: pd.DataFrame  # period, x, y, k, k_min, k_max, p_exact, rho
    labour: LabourMarket
    violence: pd.DataFrame  # count and rate per borough over the headline period
    violence_labels: dict[str, str]
    #: Min, median and max half-width of the ONS model-based rate's 95% interval (None: not bundled).
    ons_ci_range: tuple[float, float, float] | None

    @property
    def rises(self) -> pd.DataFrame:
        return self.labour.rises

    @property
    def rise_labels(self) -> dict[str, str]:
        return self.labour.labels

    def k_range(self) -> pd.DataFrame:
        """The least and the largest k of each pair of measures over the periods of
        ``sensitivity`` (columns ``min`` and ``max``, indexed by ``x`` and ``y``)."""
        return self.sensitivity.groupby(["x", "y"])["k"].agg(["min", "max"])

    def mean_k(self) -> pd.Series:
        """The mean k of the headline grid for each violence measure (``count``, ``rate``)."""
        return self.grid.groupby("y")["k"].mean()

    def as_dict(self) -> dict:
        return {"grid": self.grid, "sensitivity": self.sensitivity,
                "rise_measures": self.rise_labels, "violence_measures": self.violence_labels,
                "rises": self.rises.reset_index(), "violence": self.violence.reset_index(),
                "claimant_coverage": self.labour.coverage}


@dataclass(frozen=True)
class LsoaDrivers:
    """LSOA correlations with the violence rate, and Poisson / NB2 regressions of the counts."""

    frame: pd.DataFrame  # one row per 2011 LSOA (see lsoa_frame)
    correlations: pd.DataFrame
    regressions: dict[str, d.Regression]  # "poisson", "negbin"
    predictors: list[str]
    #: The two predictors most correlated with each other and their Pearson r (None: fewer than two).
    collinear: tuple[str, str, float] | None = None

    def as_dict(self) -> dict:
        return {"correlations": self.correlations, "regressions": _regressions(self.regressions)}


def _regressions(fits: dict[str, d.Regression]) -> dict:
    return {k: r.as_dict() | {"description": r.describe()} for k, r in fits.items()}


@dataclass(frozen=True)
class DriversResult:
    """Everything the drivers section shows. ``deprivation`` is None without IMD borough scores;
    ``lsoa`` without the LSOA crime, deprivation and population; ``borough_regressions`` without
    the IMD borough scores."""

    params: DriverParams
    statement: UnemploymentStatement
    deprivation: pd.DataFrame | None
    lsoa: LsoaDrivers | None
    borough_regressions: dict[str, d.Regression] | None
    caveat: str = d.CAVEAT

    def as_dict(self) -> dict:
        """The numbers as JSON-ready Python (``vru drivers``, the API)."""
        return cast(dict, jsonable({
            "parameters": self.params.as_dict(),
            "caveat": self.caveat,
            "unemployment_statement": self.statement.as_dict(),
            "deprivation_statement": self.deprivation,
            "lsoa": self.lsoa,
            "borough_regressions": (None if self.borough_regressions is None
                                    else _regressions(self.borough_regressions)),
        }))


# --- data from the warehouse -------------------------------------------------------------------


def _pop_year(wh: Warehouse, start: str, end: str) -> int:
    """The available mid-year estimate nearest the middle of the period."""
    years = wh.sql("SELECT DISTINCT year FROM population WHERE level = 'lsoa' ORDER BY 1")["year"]
    if years.empty:
        raise MissingData("no population estimates in the warehouse")
    mid = pd.Timestamp(start) + (pd.Timestamp(end) + pd.offsets.MonthEnd(0) - pd.Timestamp(start)) / 2
    return int(min(years, key=lambda y: (abs(pd.Timestamp(f"{y}-07-01") - mid), -y)))


def borough_violence(wh: Warehouse, categories: tuple[str, ...] = SERIOUS_VIOLENCE, start: str = "2020-04",
                     end: str = "2021-03", *, source: str = CRIME_SOURCE) -> pd.DataFrame:
    """Offences per MPS borough over ``start``..``end`` (whole months) and per 1,000 residents.

    Columns ``count``, ``population`` (mid-year estimate nearest the middle of the period),
    ``pop_year``, ``rate_per_1000``. Raises ValueError if the period is not covered by the source.
    """
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    first, last = q.crime_months(wh, source)
    if pd.isna(first) or first > lo or last < hi:
        covers = "nothing" if pd.isna(first) else f"{first:%Y-%m}..{last:%Y-%m}"
        raise ValueError(f"{source} does not cover {lo:%Y-%m}..{hi:%Y-%m} (it covers {covers})")
    parts = [q.crime_series(wh, source=source, level="borough", category=c, start=start, end=end)
             for c in categories]
    s = pd.concat(parts)
    count = s.groupby("area_code")["count"].sum().reindex(MPS_BOROUGHS).fillna(0)
    year = _pop_year(wh, start, end)
    pop = q.population(wh, level="borough", year=year).set_index("area_code")["population"]
    out = pd.DataFrame({"count": count.astype("int64"), "population": pop.reindex(MPS_BOROUGHS)})
    out["pop_year"] = year
    out["rate_per_1000"] = 1000.0 * out["count"] / out["population"]
    return out.rename_axis("borough")


def _claimant_wide(wh: Warehouse, months: list[str]) -> pd.DataFrame:
    df = wh.sql(
        "SELECT area_code, period, measure, value FROM unemployment WHERE source = ? "
        "AND level = 'lsoa' AND list_contains(?, period)",
        [CLAIMANT_SOURCE, [pd.Timestamp(m) for m in months]],
    )
    if df.empty:
        raise ValueError(f"no claimant count ({CLAIMANT_SOURCE}) for {months} in the warehouse")
    df["key"] = df["measure"].astype(str) + "@" + df["period"].dt.strftime("%Y-%m")
    return df.pivot(index="area_code", columns="key", values="value")


def _lsoa_parent(wh: Warehouse) -> pd.Series:
    a = q.areas(wh, "lsoa", "2011")
    return pd.Series(a["parent_code"].astype(str).to_numpy(), index=a["code"].astype(str),
                     name="borough")


def labour_market_rises(wh: Warehouse, p: DriverParams | None = None) -> LabourMarket:
    """The pandemic rise in unemployment per MPS borough, by every bundled measure.

    Claimant counts are summed from LSOAs (2011 LSOA -> borough from the LSOA boundaries); the
    claimant rate is the borough sum of claimants over the borough sum of the 16-64 population
    WPI used, in percentage points. Raises MissingData without any unemployment measure.
    """
    p = p or DriverParams()
    out, labels = pd.DataFrame(index=pd.Index(MPS_BOROUGHS, name="borough")), {}
    coverage: dict[str, float] = {}
    missing_lsoas = None
    u = wh.sql("SELECT area_code, year(period) AS year, value FROM unemployment WHERE source = ? "
               "AND level = 'borough' AND measure = 'unemployment_rate_model' "
               "AND period_months = 12", [ONS_SOURCE])
    if not u.empty:
        w = u.pivot(index="area_code", columns="year", values="value")
        for to in p.ons_to:
            if p.ons_from in w.columns and to in w.columns:
                key = f"ons_rate_{p.ons_from}_{to}"
                out[key] = d.change(w, p.ons_from, to).reindex(MPS_BOROUGHS)
                labels[key] = (f"ONS model-based unemployment rate, change {p.ons_from} to {to} "
                               f"(percentage points)")
    c0, c1 = pd.Timestamp(p.claimant_from), pd.Timestamp(p.claimant_to)
    try:
        cw = _claimant_wide(wh, [p.claimant_from, p.claimant_to])
    except ValueError:
        cw = None
    if cw is not None:
        a, b = f"{c0:%Y-%m}", f"{c1:%Y-%m}"
        need = [f"claimant_count@{a}", f"claimant_count@{b}", f"population_16_64@{a}",
                f"population_16_64@{b}"]
        if all(k in cw.columns for k in need):
            bor = d.sum_to_parent(cw[need], _lsoa_parent(wh)).reindex(MPS_BOROUGHS)
            span = f"{c0:%b %Y} to {c1:%b %Y}"
            out["claimant_count_change"] = bor[need[1]] - bor[need[0]]
            labels["claimant_count_change"] = f"Claimant count, change {span} (claimants)"
            out["claimant_rate_change"] = (100 * bor[need[1]] / bor[need[3]]
                                           - 100 * bor[need[0]] / bor[need[2]])
            labels["claimant_rate_change"] = (f"Claimant rate, change {span} (percentage points "
                                              f"of residents aged 16-64)")
            out["claimant_count_pct"] = 100 * (bor[need[1]] / bor[need[0]] - 1)
            labels["claimant_count_pct"] = f"Claimant count, percentage change {span}"
            parent = _lsoa_parent(wh)
            have = cw[need].dropna().index
            missing_lsoas = int((~parent.index.isin(have)).sum())
            pop = q.population(wh, level="borough", year=int(c0.year), age_band="16-64")
            if not pop.empty:
                full = pop.set_index("area_code")["population"].reindex(MPS_BOROUGHS)
                coverage = (bor[need[2]] / full).to_dict()
    if not labels:
        raise MissingData("no unemployment measure in the warehouse for the chosen years and months")
    return LabourMarket(out, labels, coverage, missing_lsoas)


def violence_measures(wh: Warehouse, categories: tuple[str, ...], start: str,
                      end: str) -> tuple[dict[str, pd.Series], dict[str, str]]:
    """Serious violence per borough as ``count`` and ``rate`` (per 1,000), and their labels."""
    v = borough_violence(wh, categories, start, end)
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    span = f"{lo:%b %Y} - {hi:%b %Y}"
    return ({"count": v["count"].astype(float), "rate": v["rate_per_1000"]},
            {"count": f"serious violence offences, {span}",
             "rate": f"serious violence per 1,000 residents (mid-{v['pop_year'].iloc[0]}), {span}"})


def unemployment_statement(wh: Warehouse, p: DriverParams | None = None) -> UnemploymentStatement:
    """The unemployment statement with every measure: headline grid, sensitivity over periods.

    Raises MissingData when the crime source does not cover the headline period.
    """
    p = p or DriverParams()
    labour = labour_market_rises(wh, p)
    rises, rise_labels = labour.rises, labour.labels
    try:
        viol, viol_labels = violence_measures(wh, p.categories, p.start, p.end)
    except ValueError as e:
        raise MissingData(f"{e}: choose a start and end within it") from None
    grid = d.overlap_grid({k: rises[k] for k in rise_labels}, viol, n=p.n,
                          permutations=p.permutations, seed=p.seed)
    grid["x_label"] = grid["x"].map(rise_labels)
    grid["y_label"] = grid["y"].map(viol_labels)
    sens = []
    for name, lo, hi in ((f"{p.start}..{p.end}", p.start, p.end), *p.sensitivity_periods):
        try:
            v, _ = violence_measures(wh, p.categories, lo, hi)
        except ValueError:
            continue
        g = d.overlap_grid({k: rises[k] for k in rise_labels}, v, n=p.n, permutations=1,
                           seed=p.seed)
        g["period"] = name
        sens.append(g[["period", "x", "y", "k", "k_min", "k_max", "p_exact", "rho"]])
    sens = pd.concat(sens, ignore_index=True)
    ci = wh.sql("SELECT value FROM unemployment WHERE source = ? AND level = 'borough' AND "
                "measure = 'unemployment_rate_model_ci95' AND year(period) BETWEEN ? AND ?",
                [ONS_SOURCE, p.ons_from, max(p.ons_to)])["value"]
    return UnemploymentStatement(
        grid=grid, sensitivity=sens, labour=labour, violence=pd.DataFrame(viol),
        violence_labels=viol_labels,
        ons_ci_range=(float(ci.min()), float(ci.median()), float(ci.max())) if len(ci) else None)


def deprivation_statement(wh: Warehouse, p: DriverParams | None = None) -> pd.DataFrame:
    """k of the top-n boroughs by violence that are among the 10 most deprived (IMD average score).

    Periods of ``p.deprivation_periods`` the crime source does not cover are left out; raises
    MissingData when it covers none of them.
    """
    p = p or DriverParams()
    imd = q.deprivation(wh, level="borough", measure="imd_average_score")
    if imd.empty:
        raise MissingData("no IMD borough average scores in the warehouse")
    imd = imd.set_index("area_code")["value"].reindex(MPS_BOROUGHS).rename("imd_average_score")
    rows = []
    uncovered = ""
    for cats, cname in ((p.categories, "serious violence"),
                        ((taxonomy.VIOLENCE_AGAINST_THE_PERSON,), "violence against the person")):
        for label, lo, hi in p.deprivation_periods:
            try:
                v, _ = violence_measures(wh, cats, lo, hi)
            except ValueError as e:
                uncovered = str(e)
                continue
            for kind, series in v.items():
                for n in p.deprivation_n:
                    o = d.top_n_overlap(series.rename(kind), imd, n, n_y=10,
                                        permutations=p.permutations, seed=p.seed)
                    rows.append({"violence": cname, "period": label, "measure": kind, "n_top": n,
                                 "k": o.k, "k_min": o.k_min, "k_max": o.k_max,
                                 "share": o.k / n, "expected": o.expected, "p_exact": o.p_exact,
                                 "p_permutation": o.p_permutation, "common": o.common})
    if not rows:
        raise MissingData(f"{uncovered}: choose deprivation periods within it")
    return pd.DataFrame(rows)


def lsoa_frame(wh: Warehouse, p: DriverParams | None = None) -> pd.DataFrame:
    """One row per 2011 LSOA with violence, population, youth share, claimant change and IMD."""
    p = p or DriverParams()
    parts = [q.crime_annual(wh, source=LSOA_CRIME_SOURCE, level="lsoa", category=c)
             for c in p.lsoa_categories]
    a = pd.concat(parts)
    a = a[a["year"] == p.lsoa_year]
    if a.empty or a["count"].isna().all():
        raise MissingData(f"no LSOA violence for {p.lsoa_year} in the warehouse")
    viol = a.groupby("area_code")["count"].sum(min_count=len(p.lsoa_categories))
    year = _pop_year(wh, f"{p.lsoa_year}-01", f"{p.lsoa_year}-12")
    pop = q.population(wh, level="lsoa", year=year).set_index("area_code")["population"]
    youth = q.population(wh, level="lsoa", year=year, age_band="16-29").set_index(
        "area_code")["population"]
    df = pd.DataFrame({"violence": viol}).rename_axis("lsoa")
    df["population"] = pop.reindex(df.index)
    df["youth_share"] = youth.reindex(df.index) / df["population"]
    df["violence_rate"] = 1000.0 * df["violence"] / df["population"]
    df["borough"] = _lsoa_parent(wh).reindex(df.index)
    try:
        cw = _claimant_wide(wh, [p.claimant_from, p.claimant_to])
        c0, c1 = (f"{pd.Timestamp(m):%Y-%m}" for m in (p.claimant_from, p.claimant_to))
        df["claimant_rate_change"] = (cw[f"claimant_rate@{c1}"] - cw[f"claimant_rate@{c0}"]).reindex(
            df.index)
    except (ValueError, KeyError):
        df["claimant_rate_change"] = np.nan
    dep = wh.sql("SELECT area_code, measure, value FROM deprivation WHERE level = 'lsoa' AND "
                 "edition = 'IoD2019' AND list_contains(?, measure)", [["imd_score", *IMD_DOMAINS]])
    dep = dep.pivot(index="area_code", columns="measure", values="value")
    return df.join(dep, how="left")


def lsoa_drivers(wh: Warehouse, p: DriverParams | None = None) -> LsoaDrivers:
    """LSOA correlations with the violence rate, and Poisson / NB2 regressions of the counts."""
    p = p or DriverParams()
    df = lsoa_frame(wh, p)
    pairs = [(x, "violence_rate") for x in ("claimant_rate_change", "imd_score", "youth_share")
             if df[x].notna().sum() >= 4]
    cors = d.correlation_table(df, pairs)
    preds = [c for c in (*IMD_DOMAINS, "claimant_rate_change", "youth_share")
             if c in df.columns and df[c].notna().sum() > 0]
    fits = {}
    for fam in ("poisson", "negbin"):
        fits[fam] = d.count_regression(df, "violence", preds, exposure="population", family=fam,
                                       standardise=True)
    return LsoaDrivers(frame=df, correlations=cors, regressions=fits, predictors=preds,
                       collinear=most_collinear(df, preds))


def most_collinear(df: pd.DataFrame, columns: list[str]) -> tuple[str, str, float] | None:
    """The two of ``columns`` with the largest absolute Pearson correlation, and that correlation
    (None with fewer than two columns or no computable correlation)."""
    cm = df[columns].corr(method="pearson")
    cm = cm.where(~np.eye(len(cm), dtype=bool))
    pairs = cm.abs().stack().dropna()
    if pairs.empty:
        return None
    a, b = pairs.idxmax()
    return str(a), str(b), float(cm.loc[a, b])


def borough_regression(wh: Warehouse, p: DriverParams | None = None,
                       labour: LabourMarket | None = None) -> dict[str, d.Regression]:
    """Borough serious violence counts on IMD average score, claimant-rate rise and youth share
    (``labour``: the rises already computed for ``p``)."""
    p = p or DriverParams()
    v = borough_violence(wh, p.categories, p.start, p.end)
    rises = (labour or labour_market_rises(wh, p)).rises
    imd = q.deprivation(wh, level="borough", measure="imd_average_score").set_index("area_code")
    yr = int(v["pop_year"].iloc[0])
    youth = q.population(wh, level="borough", year=yr, age_band="16-29").set_index("area_code")
    df = v.copy()
    df["imd_average_score"] = imd["value"].reindex(df.index)
    df["youth_share"] = youth["population"].reindex(df.index) / df["population"]
    preds = ["imd_average_score", "youth_share"]
    if "claimant_rate_change" in rises:
        df["claimant_rate_change"] = rises["claimant_rate_change"]
        preds.insert(1, "claimant_rate_change")
    return {fam: d.count_regression(df, "count", preds, exposure="population", family=fam,
                                    standardise=True) for fam in ("poisson", "negbin")}


def _has(wh: Warehouse, query: str, params: list) -> bool:
    return bool(wh.sql(f"SELECT EXISTS ({query}) AS x", params)["x"].iloc[0])


def available(wh: Warehouse) -> dict[str, bool]:
    """Which parts of the analysis the warehouse can support."""
    borough = (
        _has(wh, "SELECT 1 FROM crime WHERE source = ? AND level = 'borough'", [CRIME_SOURCE])
        and _has(wh, "SELECT 1 FROM unemployment WHERE source IN (?, ?)",
                 [ONS_SOURCE, CLAIMANT_SOURCE])
        and _has(wh, "SELECT 1 FROM population WHERE level = 'lsoa'", [])
        and _has(wh, "SELECT 1 FROM areas WHERE level = 'lsoa' AND vintage = '2011'", [])
    )
    deprivation = borough and _has(
        wh, "SELECT 1 FROM deprivation WHERE level = 'borough' AND measure = 'imd_average_score'", [])
    lsoa = (_has(wh, "SELECT 1 FROM crime_annual WHERE source = ? AND level = 'lsoa'",
                 [LSOA_CRIME_SOURCE])
            and _has(wh, "SELECT 1 FROM deprivation WHERE level = 'lsoa'", [])
            and _has(wh, "SELECT 1 FROM population WHERE level = 'lsoa'", []))
    return {"borough": borough, "deprivation": deprivation, "lsoa": lsoa}


#: The stages :func:`run` reports to its progress callback, in order (those left out too).
STAGES = ("unemployment", "deprivation", "regressions", "LSOAs")


def run(wh: Warehouse, params: DriverParams | None = None, *,
        progress: Callable[[str, int], None] | None = None) -> DriversResult:
    """The drivers analysis on the warehouse. ``progress(stage, total)`` is called after each of
    the :data:`STAGES`.

    Raises MissingData without the borough crime, unemployment, population and LSOA boundaries the
    unemployment statement needs; the deprivation statement and the regressions are left out
    (None) without the IMD, and the LSOA analysis without the LSOA crime and deprivation. Raises
    MissingData too when the crime data cover none of the deprivation periods.
    Errors of the method (e.g. too few areas for the chosen top n) are ValueErrors.
    """
    done = progress or (lambda _stage, _total: None)
    p = params or DriverParams()
    have = available(wh)
    if not have["borough"]:
        raise MissingData("the warehouse lacks the borough crime, unemployment or population "
                          "data the drivers analysis needs")
    statement = unemployment_statement(wh, p)
    done("unemployment", len(STAGES))
    dep = deprivation_statement(wh, p) if have["deprivation"] else None
    done("deprivation", len(STAGES))
    regs = borough_regression(wh, p, statement.labour) if have["deprivation"] else None
    done("regressions", len(STAGES))
    lsoa = lsoa_drivers(wh, p) if have["lsoa"] else None
    done("LSOAs", len(STAGES))
    return DriversResult(params=p, statement=statement, deprivation=dep, lsoa=lsoa,
                         borough_regressions=regs)


__all__ = ["DriverParams", "DriversResult", "UnemploymentStatement", "LabourMarket", "LsoaDrivers",
           "available", "borough_violence", "violence_measures", "labour_market_rises",
           "unemployment_statement", "deprivation_statement", "lsoa_frame", "lsoa_drivers", "most_collinear",
           "borough_regression", "run", "CLAIMED_K", "MAX_PERMUTATIONS", "SERIOUS_VIOLENCE", "STAGES"]
