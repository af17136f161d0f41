"""London at a glance: violence trends since 2010, the borough league table, maps of violence and
deprivation, and the street-level data loaded.

The numbers behind the needs assessment's summary, trends, league table, maps and street-level
sections (:mod:`vru.outputs.sections.london`) and the dashboard's overview, league and borough
pages. Crime is the MPS borough series of the detailed classification (the only one that separates
knife offences); rates are per 1,000 residents of one ONS mid-year estimate, summed from LSOAs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, cast

import geopandas as gpd
import pandas as pd

from vru import taxonomy
from vru.analysis import needs
from vru.geography import BOROUGHS, MPS_BOROUGHS
from vru.pipelines.base import MissingData, Params, ParamsError, check_category, check_source, check_year
from vru.plain import jsonable
from vru.sources import catalogue
from vru.sources.boundaries import to_geodataframe
from vru.warehouse import queries as q
from vru.warehouse.store import Warehouse

#: What :class:`LondonParams` ``parts`` may name: the parts of the result worth computing.
PARTS = ("league", "trends", "maps", "street")
#: The category the maps and the London summary rank by.
VAP = taxonomy.VIOLENCE_AGAINST_THE_PERSON


@dataclass(frozen=True)
class LondonParams(Params):
    """``pop_year``: the ONS mid-year population estimate of the rates. ``source``: the monthly
    borough crime series (a catalogue key); ``lsoa_source``: the annual LSOA series of the LSOA map.
    ``measures``: the league table's crime categories; the table is ranked by the first.
    ``borough``: trends of that borough (a GSS code) instead of London. ``parts``: which of
    :data:`PARTS` to compute (the others are left empty)."""

    pop_year: int = 2020
    source: str = catalogue.MPS_BOROUGH_DETAILED
    lsoa_source: str = catalogue.MPS_LSOA_ANNUAL_MILLINGTON
    measures: tuple[str, ...] = taxonomy.LEAGUE_MEASURES
    borough: str | None = None
    parts: tuple[str, ...] = PARTS

    def __post_init__(self) -> None:
        for name in ("measures", "parts"):
            v = getattr(self, name)
            if isinstance(v, str):
                v = tuple(x.strip() for x in v.split(",") if x.strip())
            elif isinstance(v, list):
                v = tuple(v)
            if not isinstance(v, tuple) or not all(isinstance(x, str) for x in v):
                raise ParamsError(f"{name}: a tuple of names, not {v!r}")
            object.__setattr__(self, name, v)
        object.__setattr__(self, "pop_year", check_year("pop_year", self.pop_year))
        for name in ("source", "lsoa_source"):
            check_source(name, getattr(self, name))
        if not self.measures:
            raise ParamsError("measures: name at least one crime category")
        for m in self.measures:
            check_category("measures", m)
        if len(set(self.measures)) != len(self.measures):
            raise ParamsError("measures: a category is named twice")
        bad = [p for p in self.parts if p not in PARTS]
        if bad:
            raise ParamsError(f"parts: unknown part {bad[0]!r}: one of {', '.join(PARTS)}")
        if self.borough is not None and (not isinstance(self.borough, str) or self.borough not in BOROUGHS):
            raise ParamsError(f"borough: not a London borough code: {self.borough!r}")


@dataclass(frozen=True)
class LondonMaps:
    """The data of the four maps: ``boroughs`` (the 2022 boroughs, also the outline of the LSOA
    maps), ``borough_rate`` (boroughs with the first measure's ``rate_per_1000``), ``borough_imd``
    (boroughs with the IMD 2019 average ``value``; None without borough deprivation), ``lsoa_rate``
    (2011 LSOAs with the ``rate`` of ``year``), ``lsoa_imd`` (the same with the IMD 2019 score
    ``imd``), and the Spearman correlation ``rho`` of rate and score over ``n_lsoas`` LSOAs."""

    boroughs: gpd.GeoDataFrame
    borough_rate: gpd.GeoDataFrame
    borough_imd: gpd.GeoDataFrame | None
    lsoa_rate: gpd.GeoDataFrame
    lsoa_imd: gpd.GeoDataFrame
    year: int
    rho: float
    n_lsoas: int

    def as_dict(self) -> dict[str, Any]:
        rates = self.lsoa_imd.drop(columns="geometry")[["code", "rate", "imd"]]
        out = {"year": self.year, "rho": self.rho, "n_lsoas": self.n_lsoas,
               "boroughs": self.borough_rate.drop(columns="geometry")[["code", "rate_per_1000"]],
               "lsoas": rates}
        return cast(dict[str, Any], jsonable(out))


@dataclass(frozen=True)
class LondonResult:
    """``first``, ``last``: the months of the crime source; ``window``: its latest 12 months.
    ``league``: measure -> :func:`vru.analysis.needs.league_table` of the MPS boroughs (ranked by
    ``params.measures[0]`` in :attr:`ranking`); ``totals``: measure -> London offences in the
    window and in the 12 months before; ``change_pct``: measure -> the change between them in
    percent (NaN without offences before). ``trends``: group title (:data:`vru.taxonomy.TREND_GROUPS`)
    -> monthly offences by category (columns: category keys), ``smooth``: their 12-month rolling
    means. ``maps``: :class:`LondonMaps` (None when not computed or when the warehouse lacks the
    areas). ``street``: offences by street-level source and category (``source, category, n,
    first, last``; empty when none is loaded)."""

    params: LondonParams
    first: pd.Timestamp
    last: pd.Timestamp
    window: tuple[pd.Timestamp, pd.Timestamp]
    league: dict[str, pd.DataFrame] = field(default_factory=dict)
    totals: dict[str, tuple[int, int]] = field(default_factory=dict)
    change_pct: dict[str, float] = field(default_factory=dict)
    trends: dict[str, pd.DataFrame] = field(default_factory=dict)
    smooth: dict[str, pd.DataFrame] = field(default_factory=dict)
    maps: LondonMaps | None = None
    street: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def ranking(self) -> pd.DataFrame:
        """The league table of the first measure (the order of every borough listing)."""
        return self.league[self.params.measures[0]]

    def as_dict(self) -> dict[str, Any]:
        return cast(dict[str, Any], jsonable({
            "params": self.params, "first_month": self.first, "last_month": self.last,
            "window": list(self.window), "league": self.league,
            "totals": {k: {"current": c, "previous": p, "change_pct": self.change_pct[k]}
                       for k, (c, p) in self.totals.items()},
            "trends": {k: v.rename_axis("month").reset_index() for k, v in self.trends.items()},
            "maps": self.maps, "street": self.street,
        }))


def run(wh: Warehouse, params: LondonParams | None = None) -> LondonResult:
    """The London figures of ``params`` (default :class:`LondonParams`). Raises
    :class:`MissingData` when the warehouse has no data of ``params.source``."""
    p = params or LondonParams()
    first, last = q.crime_months(wh, p.source)
    if pd.isna(last):
        raise MissingData(f"the warehouse has no monthly borough crime ({p.source}): build it with "
                          f"`vru init` or add the MPS borough files with `vru ingest`")
    out: dict[str, Any] = {}
    if "league" in p.parts:
        out["league"], out["totals"] = _league(wh, p, last)
        out["change_pct"] = {k: 100.0 * (c - prev) / prev if prev else float("nan")
                             for k, (c, prev) in out["totals"].items()}
    if "trends" in p.parts:
        out["trends"], out["smooth"] = _trends(wh, p)
    if "maps" in p.parts:
        first_measure = dataclasses.replace(p, measures=p.measures[:1])
        tables = out["league"] if "league" in out else _league(wh, first_measure, last)[0]
        out["maps"] = _maps(wh, p, tables[p.measures[0]])
    if "street" in p.parts:
        out["street"] = _street(wh)
    return LondonResult(p, first, last, needs.window(last), **out)


def _league(wh: Warehouse, p: LondonParams,
            last: pd.Timestamp) -> tuple[dict[str, pd.DataFrame], dict[str, tuple[int, int]]]:
    pop = q.population(wh, level="borough", year=p.pop_year).set_index("area_code")["population"]
    if pop.empty:
        raise MissingData(f"the warehouse has no mid-{p.pop_year} population: rates per resident "
                          f"need the ONS estimates (`vru init` loads them)")
    tables, totals = {}, {}
    for cat in p.measures:
        s = q.crime_series(wh, source=p.source, level="borough", category=cat)
        tables[cat] = needs.league_table(s, pop, last, areas=list(MPS_BOROUGHS))  # no City
        cur = needs.window_totals(s, last).sum()
        prev = needs.window_totals(s, last - pd.DateOffset(months=12)).sum()
        totals[cat] = (int(cur), int(prev))
    return tables, totals


def _trends(wh: Warehouse, p: LondonParams) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    trends, smooth = {}, {}
    for title, cats in taxonomy.TREND_GROUPS.items():
        cols = {}
        for cat in cats:
            s = q.crime_series(wh, source=p.source, level="borough", category=cat)
            if p.borough is not None:
                s = s[s["area_code"] == p.borough]
            cols[cat] = needs.london_monthly(s)
        data = pd.DataFrame(cols)
        if p.borough is not None:  # a borough's month without offences of a category counts 0
            data = data.fillna(0)
        trends[title] = data
        smooth[title] = data.apply(needs.rolling_12)
    return trends, smooth


def _maps(wh: Warehouse, p: LondonParams, rates: pd.DataFrame) -> LondonMaps | None:
    areas = q.areas(wh, "borough", "2022")
    lsoa_areas = q.areas(wh, "lsoa", "2011")
    annual = q.crime_annual(wh, source=p.lsoa_source, level="lsoa", category=VAP)
    counted = annual.dropna(subset=["count"])
    if areas.empty or lsoa_areas.empty or counted.empty:
        return None
    boroughs = to_geodataframe(areas)
    boroughs = boroughs[boroughs["code"].isin(BOROUGHS)]
    b = boroughs.merge(rates[["area_code", "rate_per_1000"]], left_on="code",
                       right_on="area_code", how="left")
    imd_b = q.deprivation(wh, level="borough", measure="imd_average_score")
    b2 = None if imd_b.empty else boroughs.merge(imd_b, left_on="code", right_on="area_code",
                                                 how="left")
    lsoa = to_geodataframe(lsoa_areas)
    year = int(counted["year"].max())
    v = annual[annual["year"] == year].set_index("area_code")["count"]
    pop = q.population(wh, level="lsoa", year=p.pop_year).set_index("area_code")["population"]
    lsoa["rate"] = lsoa["code"].map(needs.rate_per_1000(v, pop))
    lsoa_rate = lsoa.copy()
    imd = q.deprivation(wh, level="lsoa", measure="imd_score")
    lsoa["imd"] = lsoa["code"].map(imd.set_index("area_code")["value"])
    corr = pd.concat([lsoa.set_index("code")["rate"], lsoa.set_index("code")["imd"]], axis=1).dropna()
    rho = float(corr["rate"].rank().corr(corr["imd"].rank()))
    return LondonMaps(boroughs, b, b2, lsoa_rate, lsoa, year, rho, len(corr))


def _street(wh: Warehouse) -> pd.DataFrame:
    return wh.sql(
        "SELECT source, category, sum(count)::BIGINT AS n, min(month) AS first, "
        "max(month) AS last FROM crime WHERE source LIKE ? "
        "GROUP BY source, category ORDER BY source, n DESC", [f"{catalogue.POLICE_UK_STREET}/%"])
