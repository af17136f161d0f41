"""Hot spots: where violence is high and sustained.

Runs the emerging hot spot analysis (:func:`vru.analysis.emerging.emerging_hotspots`; methods,
sources and limits in ``docs/methods-hotspots.md``) on a space-time cube built from the
warehouse, with spatial weights from the boundaries in the warehouse
(:class:`vru.model.weights.SpatialWeights`) and optional harm weighting and rates
(:mod:`vru.analysis.harm`, ``docs/methods-harm.md``).

Data by area level (``level=``):

========  =============================  ========  ==========================================
level     crime source                   periods   boundaries (warehouse ``areas``)
========  =============================  ========  ==========================================
lsoa      ``mps_lsoa_annual_millington`` years     LSOA 2011 (the file's LSOAs)
ward      ``mps_ward_detailed``          months    ward 2022: **not bundled**, see below
borough   ``mps_borough_detailed``       months    borough (LAD) 2022
========  =============================  ========  ==========================================

The default is LSOA annual violence (violence against the person, robbery and possession of
weapons, as the targeting section) on 2011 LSOAs with queen contiguity. Ward-level monthly crime
uses 2022 wards, whose boundaries are not bundled (the warehouse holds their codes and names
only): without them there are no neighbours, so ``level="ward"`` raises :class:`MissingData`
saying so, unless 2022 ward boundaries have been loaded into the warehouse.

Documented treatments of bad input (each tested):

- **Known-wrong or missing periods.** A period in which no area has a value (the LSOA file's
  2020 column, stored as missing because it is wrong in the source; a month missing from a
  monthly source) is a period with no data. Without ``start``/``end`` the analysis uses the
  longest run of consecutive periods with data (LSOA: 2011-2019; 2021 lies after the gap). A
  range given explicitly that contains such a period is refused, naming it, unless
  ``skip_gaps=True``: then it is dropped and the time step links the periods either side
  (stated in the notes).
- **NaN counts** in a period that has data elsewhere: refused, naming the area and period.
- **Areas with data but no boundary**: refused, naming them (they cannot have neighbours), except
  the MPS pseudo-areas (airports, "unknown"), which are not places and are dropped with a note.
- **Areas with a boundary but no data** (the City of London, which the MPS does not police):
  dropped from the weights before they are built, with a note (filling zeros would invent cold
  spots).
- **Islands and disconnected areas**: the island policy of the weights (``islands=``, default
  ``"keep"``: no neighbours, no category); the notes give the islands and connected components.

Three routes, each returning a frozen result whose ``areas`` is one row per area (GeoDataFrame,
EPSG:27700) and whose ``as_dict()`` is the JSON of ``vru hotspots --format json``:

* :func:`run`: the warehouse's London crime (:class:`HotspotParams`), with what the report
  section also shows (the same hot spots weighted by harm, the borough outlines of the map);
* :func:`run_for_areas`: any areas and values a user brings (:class:`AreaParams`);
* :func:`run_for_source`: a record-level source's LSOA-month panel in the warehouse
  (data.police.uk street crime, any force or national).

The files (CSV, GeoJSON, JSON) are written by :mod:`vru.outputs.hotspot_files`; the report
section is :mod:`vru.outputs.sections.hotspots`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from vru import taxonomy
from vru.analysis import harm
from vru.analysis.emerging import (
    CONSECUTIVE_HOT,
    INTENSIFYING_HOT,
    NEW_HOT,
    PERSISTENT_HOT,
    emerging_hotspots,
)
from vru.data import harm_tables
from vru.geography import borough_name, is_geographic
from vru.model.weights import ISLAND_POLICIES, RULES, SpatialWeights
from vru.pipelines.base import MissingData, Params, ParamsError, check_categories, check_chi_file
from vru.plain import jsonable
from vru.sources import catalogue
from vru.sources.boundaries import to_geodataframe
from vru.taxonomy import SERIOUS_VIOLENCE_MAJOR
from vru.warehouse import queries as q
from vru.warehouse.store import Warehouse

VIOLENCE = SERIOUS_VIOLENCE_MAJOR


@dataclass(frozen=True)
class Level:
    source: str
    table: str  # crime_annual (years) | crime (months)
    boundary: tuple[str, str]  # (areas level, vintage)
    period_word: str


LEVEL_WORDS = {"lsoa": "LSOA", "ward": "ward", "borough": "borough"}
LEVELS = {
    "lsoa": Level(catalogue.MPS_LSOA_ANNUAL_MILLINGTON, "crime_annual", ("lsoa", "2011"), "year"),
    "ward": Level(catalogue.MPS_WARD_DETAILED, "crime", ("ward", "2022"), "month"),
    "borough": Level(catalogue.MPS_BOROUGH_DETAILED, "crime", ("borough", "2022"), "month"),
}
#: Sources of the detailed MPS vintage, whose violence without injury includes stalking and
#: harassment (docs/methods-harm.md).
DETAILED_SOURCES = (catalogue.MPS_WARD_DETAILED, catalogue.MPS_BOROUGH_DETAILED)

SUSTAINED = (INTENSIFYING_HOT, PERSISTENT_HOT)
#: Per classification scheme: the sustained hot spot patterns (in table order) and the recent ones.
PATTERNS = {
    "arcgis": (SUSTAINED, (NEW_HOT, CONSECUTIVE_HOT)),
    "sfhotspot": (("persistent hotspot",), ("emerging hotspot",)),
}
SCHEMES = tuple(PATTERNS)
FDR = ("period", "cube", None)
WINDOWS = ("cube", "neighbourhood", "period")
METHOD = ("docs/methods-hotspots.md (emerging hot spot analysis), docs/methods-harm.md "
          "(harm weights)")


# --- parameters ------------------------------------------------------------------------------------


def _is_int(v: Any) -> bool:
    return isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool | np.bool_)


def _check_method(p: HotspotParams | AreaParams) -> None:
    """The weights and method choices that every route shares (raise ParamsError naming one)."""
    if p.rule not in RULES:
        raise ParamsError(f"rule: unknown neighbour rule {p.rule!r}: one of {', '.join(RULES)}")
    if p.k is not None and not (_is_int(p.k) and p.k >= 1):
        raise ParamsError(f"k: the number of neighbours must be a whole number >= 1, not {p.k!r}")
    if p.distance is not None and not (_is_number(p.distance) and np.isfinite(p.distance)
                                       and p.distance > 0):
        raise ParamsError(f"distance: metres must be a number > 0, not {p.distance!r}")
    if p.rule == "knn" and p.k is None:
        raise ParamsError("k: rule 'knn' needs k (the number of neighbours)")
    if p.rule == "distance" and p.distance is None:
        raise ParamsError("distance: rule 'distance' needs a distance in metres")
    if p.islands not in ISLAND_POLICIES:
        raise ParamsError(f"islands: unknown island policy {p.islands!r}: one of "
                          f"{', '.join(ISLAND_POLICIES)}")
    if not (_is_int(p.time_lag) and p.time_lag >= 0):
        raise ParamsError(f"time_lag: a whole number of periods >= 0 is needed, not {p.time_lag!r}")
    if p.global_window not in WINDOWS:
        raise ParamsError(f"global_window: one of {', '.join(WINDOWS)}, not {p.global_window!r}")
    if not (_is_number(p.alpha) and 0 < p.alpha < 1):
        raise ParamsError(f"alpha: a significance level between 0 and 1 is needed, not {p.alpha!r}")
    if p.fdr not in FDR:
        raise ParamsError(f"fdr: 'period', 'cube' or None, not {p.fdr!r}")
    if p.scheme not in SCHEMES:
        raise ParamsError(f"scheme: unknown classification {p.scheme!r}: one of {', '.join(SCHEMES)}")


def _norm_period(level: str, v: Any, name: str = "start") -> int | str | None:
    """A period bound as the level's periods are held: a year (int) or a month ("YYYY-MM")."""
    if v is None:
        return None
    if LEVELS[level].period_word == "year":
        try:
            if isinstance(v, bool | np.bool_) or (_is_number(v) and v != int(v)):
                raise ValueError
            return int(str(v)[:4]) if len(str(v)) > 4 else int(v)
        except (TypeError, ValueError, OverflowError):
            raise ParamsError(f"{name}: a year is needed for level {level!r}, not {v!r}") from None
    try:
        return str(pd.Period(str(v), freq="M"))
    except ValueError:
        raise ParamsError(f"{name}: a month (YYYY-MM) is needed for level {level!r}, "
                          f"not {v!r}") from None


@dataclass(frozen=True)
class HotspotParams(Params):
    """Every choice of the hot spot analysis of the warehouse's London crime, with its default."""

    level: str = "lsoa"
    categories: tuple[str, ...] = VIOLENCE  # a comma-separated string is accepted
    weighting: str = "count"  # "count" | "css" | "chi"
    chi_file: str | None = None  # the CHI table for weighting="chi" (vru.data.harm_tables.load_chi)
    rates: bool = False  # per 1,000 residents (LSOA only: the population is by LSOA)
    pop_year: int = 2020
    start: str | int | None = None  # first period (year, or "YYYY-MM")
    end: str | int | None = None
    skip_gaps: bool = False
    rule: str = "queen"  # "queen" | "rook" | "knn" | "distance"
    k: int | None = None
    distance: float | None = None  # metres
    islands: str = "keep"  # "keep" | "knn1" | "drop"
    time_lag: int = 1
    global_window: str = "period"
    alpha: float = 0.05
    fdr: str | None = "period"
    scheme: str = "arcgis"  # or "sfhotspot"

    def __post_init__(self) -> None:
        if not isinstance(self.level, str) or self.level not in LEVELS:
            raise ParamsError(f"level: unknown area level {self.level!r}: one of {', '.join(LEVELS)}")
        object.__setattr__(self, "categories", check_categories("categories", self.categories))
        if not isinstance(self.weighting, str) or self.weighting not in harm.SCHEMES:
            raise ParamsError(f"weighting: unknown weighting {self.weighting!r}: one of "
                              f"{', '.join(harm.SCHEMES)}")
        object.__setattr__(self, "chi_file", check_chi_file(self.weighting, self.chi_file))
        if not isinstance(self.rates, bool | np.bool_):
            raise ParamsError(f"rates: True or False, not {self.rates!r}")
        if self.rates and self.level != "lsoa":
            raise ParamsError("rates: rates per resident need the population, held here by LSOA "
                              "only: use level='lsoa' or rates=False")
        if not _is_int(self.pop_year):
            raise ParamsError(f"pop_year: a year is needed, not {self.pop_year!r}")
        if not isinstance(self.skip_gaps, bool | np.bool_):
            raise ParamsError(f"skip_gaps: True or False, not {self.skip_gaps!r}")
        start = _norm_period(self.level, self.start, "start")
        end = _norm_period(self.level, self.end, "end")
        if (isinstance(start, int) and isinstance(end, int) and start > end) or (
                isinstance(start, str) and isinstance(end, str) and start > end):  # YYYY-MM
            raise ParamsError(f"start: {start} is after end {end}")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)
        _check_method(self)

    @property
    def parameters(self) -> dict[str, Any]:
        """The choices as the output files state them (categories as a list)."""
        return {**dataclasses.asdict(self), "categories": list(self.categories)}


@dataclass(frozen=True)
class AreaParams(Params):
    """The choices that apply to areas a user brings and to a source's LSOA panel (the rest of
    :class:`HotspotParams` describes the warehouse's London crime). Defaults as
    :class:`HotspotParams`: queen contiguity, islands kept, Benjamini-Hochberg per period at 5%."""

    rule: str = "queen"
    k: int | None = None
    distance: float | None = None
    islands: str = "keep"
    time_lag: int = 1
    global_window: str = "period"
    alpha: float = 0.05
    fdr: str | None = "period"
    scheme: str = "arcgis"

    def __post_init__(self) -> None:
        _check_method(self)


def make_params(cls: type[HotspotParams] | type[AreaParams], what: str, **overrides: Any) -> Any:
    """``cls`` from keyword ``overrides`` (``None`` kept as given, unlike :meth:`Params.of`); a name
    that is not one of its fields is refused, naming ``what`` it does not apply to."""
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise ParamsError(f"{', '.join(map(repr, unknown))} do(es) not apply to {what}: the choices "
                          f"are {', '.join(names)}")
    return cls(**overrides)


# --- results ---------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class HotspotTable:
    """One row per analysed area (``areas``, a GeoDataFrame) and what the files state with it."""

    areas: gpd.GeoDataFrame
    parameters: dict[str, Any]
    source: str
    periods: tuple[str, ...]
    notes: tuple[str, ...]
    weights: dict[str, float] | None
    method: str

    def frame(self) -> pd.DataFrame:
        """The rows without geometry."""
        return pd.DataFrame(self.areas.drop(columns="geometry"))

    def metadata(self) -> dict[str, Any]:
        """``parameters``, ``source``, ``periods``, ``notes``, ``weights``, ``method`` as JSON-ready
        Python."""
        return {"parameters": jsonable(self.parameters), "source": self.source,
                "periods": list(self.periods), "notes": list(self.notes),
                "weights": None if self.weights is None else dict(self.weights),
                "method": self.method}

    def as_dict(self) -> dict[str, Any]:
        """What ``vru hotspots --format json`` writes: :meth:`metadata` and ``areas`` (the rows,
        no geometry)."""
        return self.metadata() | {"areas": jsonable(self.frame())}


@dataclass(frozen=True, eq=False)
class HarmComparison:
    """The same hot spots weighted by harm: the weight per category, the areas that are sustained
    (persistent or intensifying) hot spots under it, and how many are sustained hot spots under
    both weightings, by counts only and by harm only."""

    weighting: str
    weights: dict[str, float]
    sustained: frozenset[str]
    both: int
    count_only: int
    harm_only: int


@dataclass(frozen=True, eq=False, kw_only=True)
class HotspotResult(HotspotTable):
    """:func:`run`'s result: the area table of the warehouse's London crime, its parameters, the
    comparison with harm weights (``None`` unless asked and counted with several categories) and
    the borough outlines of the map (``None`` at borough level)."""

    params: HotspotParams
    harm: HarmComparison | None = None
    outline: gpd.GeoDataFrame | None = None

    @property
    def level(self) -> Level:
        return LEVELS[self.params.level]

    def sustained(self) -> pd.DataFrame:
        """The sustained hot spots (persistent and intensifying under ArcGIS's scheme, persistent
        under sfhotspot's), most sustained first: by periods hot, then intensifying before
        persistent, then by mean value."""
        return sustained(self.frame(), self.params.scheme)


def sustained(rows: pd.DataFrame, scheme: str = "arcgis") -> pd.DataFrame:
    """The most persistent and intensifying hot spots of ``rows`` (an area table), most sustained
    first (intensifying before persistent, then by periods hot and mean value)."""
    patterns = PATTERNS[scheme][0]
    s = rows[rows["category"].isin(patterns)].copy()
    s["_order"] = s["category"].map({c: i for i, c in enumerate(patterns)})
    return s.sort_values(["n_hot", "_order", "mean_value"], ascending=[False, True, False])


# --- the cube --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Cube:
    """The areas x periods values, the analysed areas (code, name, parent_code, geometry), the notes
    on every treatment and the harm weight per category (``None`` for counts)."""

    values: pd.DataFrame
    areas: gpd.GeoDataFrame
    notes: tuple[str, ...]
    weights: pd.Series | None


def _rows(wh: Warehouse, lv: Level, cats: list[str], p: HotspotParams) -> pd.DataFrame:
    """Crime rows (area_code, period, category, count) at the finest stored category, in a fixed
    order (a harm-weighted sum of floats depends on the order of its terms)."""
    level = lv.boundary[0]
    if lv.table == "crime_annual":
        df = wh.sql("SELECT area_code, year AS period, category, count FROM crime_annual "
                    "WHERE source = ? AND level = ? AND list_contains(?, category) ORDER BY ALL",
                    [lv.source, level, cats])
    else:
        df = wh.sql("SELECT area_code, strftime(month, '%Y-%m') AS period, category, "
                    "sum(count)::DOUBLE AS count FROM crime WHERE source = ? AND level = ? "
                    "AND list_contains(?, category) GROUP BY ALL ORDER BY ALL", [lv.source, level, cats])
    if df.empty:
        raise MissingData(f"no {', '.join(p.categories)} crime from {lv.source} at {level} level "
                          "in the warehouse: load it first (vru init loads the bundled data)")
    return df


def _areas(wh: Warehouse, level: str, vintage: str) -> pd.DataFrame:
    """Areas of one level and vintage; ``geometry`` WKB bytes or None (the 2022 wards have none:
    ``queries.areas`` cannot read NULL geometries)."""
    df = wh.sql("SELECT * FROM areas WHERE level = ? AND vintage = ? ORDER BY code", [level, vintage])
    df["geometry"] = [None if g is None or g is pd.NA else bytes(g) for g in df["geometry"]]
    return df


def _all_periods(lv: Level, present: list) -> list:
    if lv.period_word == "year":
        return list(range(int(min(present)), int(max(present)) + 1))
    months = pd.period_range(min(present), max(present), freq="M")
    return [str(m) for m in months]


def _choose_periods(lv: Level, values: pd.DataFrame, p: HotspotParams, notes: list) -> list:
    present = list(values.columns)
    every = _all_periods(lv, present)
    has = values.notna().any(axis=0).reindex(every, fill_value=False)
    no_data = [t for t in every if not has[t]]
    start, end = _norm_period(p.level, p.start, "start"), _norm_period(p.level, p.end, "end")
    if start is None and end is None:
        runs, cur = [], []
        for t in every:
            if has[t]:
                cur.append(t)
            else:
                if cur:
                    runs.append(cur)
                cur = []
        if cur:
            runs.append(cur)
        best = max(runs, key=lambda r: (len(r), str(r[-1])))
        if no_data:
            notes.append(f"{lv.period_word.capitalize()}s with no data ({', '.join(map(str, no_data))}): "
                         f"the analysis uses the longest run of consecutive {lv.period_word}s with "
                         f"data, {best[0]}-{best[-1]}")
        return best
    lo = start if start is not None else every[0]
    hi = end if end is not None else every[-1]
    chosen = [t for t in every if (str(lo) <= str(t) <= str(hi))] if lv.period_word == "month" \
        else [t for t in every if lo <= t <= hi]
    if not chosen:
        raise ValueError(f"no {lv.period_word} with data between {lo} and {hi} (data: "
                         f"{every[0]}-{every[-1]})")
    gaps = [t for t in chosen if not has[t]]
    if gaps:
        if not p.skip_gaps:
            raise ValueError(
                f"{lv.period_word}(s) without data in the range {lo}-{hi}: "
                f"{', '.join(map(str, gaps))} (e.g. the LSOA file's 2020, wrong in the source): "
                "choose a range without them, or skip_gaps=True to drop them (the time step then "
                "links the periods either side)")
        notes.append(f"{lv.period_word.capitalize()}s without data dropped: "
                     f"{', '.join(map(str, gaps))}; the time step links the periods either side")
        chosen = [t for t in chosen if has[t]]
    return chosen


def _harm_rows(rows: pd.DataFrame, p: HotspotParams, lv: Level, notes: list
               ) -> tuple[pd.DataFrame, pd.Series]:
    """``rows`` with a ``harm`` column (categories without a weight left out, with a note) and the
    weight used per category."""
    overrides = None
    tables = harm_tables.bundled()
    chi = harm_tables.load_chi(p.chi_file) if p.chi_file else None
    table = harm.category_weights(p.weighting, tables=tables, chi=chi)
    if lv.source in DETAILED_SOURCES:
        overrides = harm.detailed_vintage_overrides(table, tables.volumes)
    weighted = harm.harm_weighted(rows, p.weighting, tables=tables, chi=chi, overrides=overrides,
                                  unweighted="drop")
    out, used = weighted.table, weighted.weights
    if weighted.dropped:
        notes.append("Categories without a harm weight left out: " + ", ".join(
            f"{k} ({v:,.0f} offences)" for k, v in weighted.dropped.items()))
    if overrides:
        vwi = overrides[taxonomy.VIOLENCE_WITHOUT_INJURY]
        notes.append(f"Violence without injury weighted {vwi:.2f}"
                     " (it includes stalking and harassment in the detailed MPS vintage)")
    return out, used


def cube(wh: Warehouse, p: HotspotParams | None = None) -> Cube:
    """The areas x periods values of ``p``'s crime, the areas' boundaries and names, and notes on
    every treatment (see the module docstring)."""
    p = p if p is not None else HotspotParams()
    lv = LEVELS[p.level]
    notes: list[str] = []
    cats = sorted(set().union(*(taxonomy.descendants(c) for c in p.categories)))
    rows = _rows(wh, lv, cats, p)
    weights_used = None
    if p.weighting != "count":
        rows, weights_used = _harm_rows(rows, p, lv, notes)
        value_col = "harm"
    else:
        value_col = "count"
    # a NaN anywhere in an area-period makes the cell NaN (min_count: every stored row present)
    keys = [rows["area_code"], rows["period"]]
    cell = rows[value_col].groupby(keys).sum(min_count=1)
    cell = cell.where(~rows[value_col].isna().groupby(keys).any())
    values = cell.unstack("period")
    values = values.reindex(columns=sorted(values.columns))
    if lv.table == "crime":
        # a month listed for some areas but not others: the others had zero offences
        has = values.notna().any(axis=0)
        values.loc[:, has] = values.loc[:, has].fillna(0.0)
    periods = _choose_periods(lv, values, p, notes)
    values = values.reindex(columns=periods)
    bad = values.isna()
    if bad.any().any():
        area, per = bad.stack()[bad.stack()].index[0]
        raise ValueError(f"{int(bad.to_numpy().sum())} missing value(s) in {lv.period_word}s that "
                         f"have data, e.g. area {area} in {per}: fill or drop them explicitly")
    if len(periods) < max(2, p.time_lag + 1):
        raise ValueError(f"{len(periods)} {lv.period_word}(s) of data: emerging hot spot analysis "
                         f"needs at least {max(2, p.time_lag + 1)}")
    # areas: boundaries and data must agree
    bl, bv = lv.boundary
    areas = _areas(wh, bl, bv)
    if bl == "borough":
        areas = areas[areas["code"].map(is_geographic)]
    with_geom = areas[areas["geometry"].notna()]
    if with_geom.empty:
        raise MissingData(_no_boundaries(p))
    codes = pd.Index(values.index.astype(str))
    known = set(with_geom["code"])
    pseudo = [c for c in codes if c not in known and p.level == "borough" and not is_geographic(c)]
    if pseudo:
        notes.append(f"{len(pseudo)} MPS pseudo-areas (airports, unknown) left out: not places")
        values = values.drop(index=pseudo)
        codes = pd.Index(values.index.astype(str))
    unplaced = [c for c in codes if c not in known]
    if unplaced:
        raise ValueError(f"{len(unplaced)} area(s) with data have no {bl} {bv} boundary, e.g. "
                         f"{unplaced[:5]}: they cannot be given neighbours")
    no_data = sorted(known - set(codes))
    if no_data:
        names = with_geom.set_index("code")["name"]
        city = any(str(names[c]).startswith("City of London") for c in no_data)
        notes.append(f"{len(no_data)} {LEVEL_WORDS[bl]}s have boundaries but no data and are left "
                     f"out of the weights (e.g. {', '.join(f'{names[c]} ({c})' for c in no_data[:3])}"
                     f"{'; the City of London is not policed by the MPS' if city else ''})")
    geo = to_geodataframe(with_geom[with_geom["code"].isin(set(codes))].reset_index(drop=True))
    geo = geo.set_index("code", drop=False).loc[list(codes)].reset_index(drop=True)
    if p.rates:
        pop = q.population(wh, level="lsoa", year=p.pop_year).set_index("area_code")["population"]
        values = harm.per_population(values, pop)
        notes.append(f"Rates per 1,000 residents (ONS mid-{p.pop_year} population, the same for "
                     f"every {lv.period_word})")
    values.index = pd.Index(values.index.astype(str), name="area")
    return Cube(values, geo, tuple(notes), weights_used)


def _no_boundaries(p: HotspotParams) -> str:
    bl, bv = LEVELS[p.level].boundary
    msg = f"no {bl} {bv} boundaries in the warehouse, so {bl}s have no neighbours"
    if p.level == "ward":
        msg += (": the bundled ward boundaries are the 2018 wards, while the MPS ward series "
                "uses the 2022 wards. Load 2022 ward boundaries (vru ingest <file>), or use "
                "level='lsoa' (LSOA annual violence, the default)")
    return msg


def _check_data(wh: Warehouse, p: HotspotParams) -> None:
    """Raise :class:`MissingData` when the warehouse has no crime of ``p``'s level or no
    boundaries to give its areas neighbours."""
    lv = LEVELS[p.level]
    have = wh.sql(
        f"SELECT (SELECT count(*) FROM {lv.table} WHERE source = ? AND level = ?) AS c, "
        "(SELECT count(*) FROM areas WHERE level = ? AND vintage = ? AND geometry IS NOT NULL) AS b",
        [lv.source, lv.boundary[0], *lv.boundary]).iloc[0]
    if have["c"] == 0:
        raise MissingData(f"no {', '.join(p.categories)} crime from {lv.source} at {lv.boundary[0]} "
                          "level in the warehouse: load it first (vru init loads the bundled data)")
    if have["b"] == 0:
        raise MissingData(_no_boundaries(p))


# --- the analysis -----------------------------------------------------------------------------------


def _ward_of(wh: Warehouse, geo: gpd.GeoDataFrame) -> pd.DataFrame:
    """2018 ward (code, name) containing each area's representative point."""
    wards = _areas(wh, "ward", "2018")
    wards = wards[wards["geometry"].notna()]
    if wards.empty:
        return pd.DataFrame({"ward_code": None, "ward_name": None}, index=geo["code"])
    wg = to_geodataframe(wards)
    pts = gpd.GeoDataFrame({"code": geo["code"].to_numpy()},
                           geometry=geo.geometry.representative_point().to_numpy(), crs=geo.crs)
    j = gpd.sjoin(pts, wg[["code", "name", "geometry"]].rename(
        columns={"code": "ward_code", "name": "ward_name"}), predicate="within", how="left")
    j = j[~j["code"].duplicated()].set_index("code")
    return j[["ward_code", "ward_name"]]


def _emerging_columns(res: Any, values: pd.DataFrame, ids: list) -> dict:
    """The per-area columns of an emerging hot spot result (see :func:`run`)."""
    s = res.summary
    bins = res.bins.loc[ids]
    t = bins.shape[1]
    cat = s["category"].reindex(ids)
    return {
        "category": cat.astype(object).where(cat.notna(), None).to_numpy(),
        "n_periods": t,
        "n_hot": (bins == 1).sum(axis=1).to_numpy(),
        "n_cold": (bins == -1).sum(axis=1).to_numpy(),
        "share_hot": ((bins == 1).sum(axis=1) / t).to_numpy(),
        "share_cold": ((bins == -1).sum(axis=1) / t).to_numpy(),
        "trend_tau": s["trend_tau"].reindex(ids).to_numpy() if "trend_tau" in s else np.nan,
        "trend_z": s["trend_z"].reindex(ids).to_numpy() if "trend_z" in s else np.nan,
        "trend_p": s["trend_p"].reindex(ids).to_numpy() if "trend_p" in s else np.nan,
        "last_z": res.z.loc[ids].iloc[:, -1].to_numpy(),
        "mean_value": values.mean(axis=1).to_numpy(),
        "last_value": values.iloc[:, -1].to_numpy(),
        "island": s["island"].reindex(ids).to_numpy(dtype=bool),
    }


def _table(wh: Warehouse, p: HotspotParams) -> HotspotResult:
    """The area table of ``p`` (no harm comparison, no outline)."""
    c = cube(wh, p)
    values, geo, notes = c.values, c.areas, list(c.notes)
    weights = SpatialWeights.from_geodataframe(geo, p.rule, k=p.k, distance=p.distance,
                                               transform="B", id_col="code", islands=p.islands)
    rep = weights.report
    notes.append(rep.text()[0].upper() + rep.text()[1:])
    ids = list(weights.unique_ids)
    if rep.dropped:
        values = values.loc[ids]
        geo = geo.set_index("code", drop=False).loc[ids].reset_index(drop=True)
    res = emerging_hotspots(values.loc[ids], weights, time_lag=p.time_lag,
                            global_window=p.global_window, alpha=p.alpha, fdr=p.fdr,
                            scheme=p.scheme, ids=ids)
    values = values.loc[ids]
    if p.level == "lsoa":
        wards = _ward_of(wh, geo).reindex(ids)
    elif p.level == "ward":
        wards = pd.DataFrame({"ward_code": ids,
                              "ward_name": geo.set_index("code")["name"].reindex(ids).to_numpy()},
                             index=ids)
    else:
        wards = pd.DataFrame({"ward_code": None, "ward_name": None}, index=ids)
    g = geo.set_index("code")
    borough = g["parent_code"] if p.level != "borough" else pd.Series(ids, index=ids)
    borough = borough.reindex(ids).astype(str)
    out = gpd.GeoDataFrame({
        "code": ids,
        "name": g["name"].reindex(ids).astype(str).to_numpy(),
        "borough": borough.to_numpy(),
        "borough_name": [borough_name(b) for b in borough],
        "ward_code": wards["ward_code"].to_numpy(dtype=object),
        "ward_name": wards["ward_name"].to_numpy(dtype=object),
        **_emerging_columns(res, values, ids),
    }, geometry=g.geometry.reindex(ids).to_numpy(), crs=geo.crs)
    return HotspotResult(
        areas=out, parameters=p.parameters, source=LEVELS[p.level].source,
        periods=tuple(str(col) for col in values.columns), notes=tuple(notes),
        weights=(None if c.weights is None else {k: float(v) for k, v in c.weights.items()}),
        method=METHOD, params=p)


def run(wh: Warehouse, params: HotspotParams | None = None, *, compare: bool = True) -> HotspotResult:
    """Emerging hot spots of the warehouse's London crime, one row per analysed area.

    ``areas`` columns: ``code``, ``name``, ``borough``, ``borough_name``, ``ward_code``,
    ``ward_name`` (the 2018 ward containing the area's representative point; for wards, the ward
    itself; empty for boroughs), ``category`` (emerging hot spot pattern; empty for an island),
    ``n_periods``, ``n_hot``, ``n_cold``, ``share_hot`` (share of periods in which the area was a
    significant hot spot), ``share_cold``, ``trend_tau``, ``trend_z``, ``trend_p`` (Mann-Kendall
    on the area's z-scores), ``last_z`` (z of the last period), ``mean_value``, ``last_value``
    (counts, harm or rates as asked), ``island``, ``geometry`` (EPSG:27700). The result also
    holds ``periods``, ``notes``, ``weights`` (harm weight per category, if any) and ``method``
    (a pointer to the docs).

    ``compare`` (the report section's): with counts of several categories, the same analysis
    weighted by the ONS Crime Severity Score (:class:`HarmComparison`), and the borough outlines
    of the map. Raises :class:`MissingData` when the warehouse has no crime of the level or no
    boundaries for it; other bad input raises ``ValueError`` naming it.
    """
    p = params if params is not None else HotspotParams()
    if not isinstance(p, HotspotParams):
        raise TypeError(f"params must be a HotspotParams, not {type(p).__name__}")
    _check_data(wh, p)
    r = _table(wh, p)
    if not compare:
        return r
    comparison = None
    if p.weighting == "count" and len(p.categories) > 1:
        alt = _table(wh, dataclasses.replace(p, weighting="css"))
        codes = alt.areas.loc[alt.areas["category"].isin(PATTERNS[p.scheme][0]), "code"]
        theirs = frozenset(codes)
        mine = set(r.areas.loc[r.areas["category"].isin(PATTERNS[p.scheme][0]), "code"])
        comparison = HarmComparison("css", alt.weights or {}, theirs, both=len(mine & theirs),
                                    count_only=len(mine - theirs), harm_only=len(theirs - mine))
    outline = None
    if p.level != "borough":
        b = to_geodataframe(_areas(wh, "borough", "2022"))
        outline = b[b["code"].map(is_geographic) & b["geometry"].notna()]
    return dataclasses.replace(r, harm=comparison, outline=outline)


# --- the user's own areas ----------------------------------------------------------------------------


def _show(v: Any) -> str:
    """A value for a message: numpy scalars as plain Python (``2016``, not ``np.int64(2016)``)."""
    return repr(v.item() if isinstance(v, np.generic) else v)


def _user_values(data: pd.DataFrame, code: str, value: str, period: str | None) -> pd.DataFrame:
    """The value column as an areas x periods table (one column, ``None``, without periods)."""
    for role, col in (("code", code), ("value", value), ("period", period)):
        if col is not None and col not in data.columns:
            raise ValueError(f"no {role} column {col!r} in the data: columns are "
                             f"{', '.join(map(str, data.columns))}")
    v = data[value]
    if not (pd.api.types.is_numeric_dtype(v) and not pd.api.types.is_bool_dtype(v)):
        raise ValueError(f"column {value!r} holds {v.dtype} values: the values must be numbers "
                         "(counts, rates or harm scores)")
    bad = ~np.isfinite(v.to_numpy(dtype="float64", na_value=np.nan))
    if bad.any():
        i = int(bad.argmax())
        where = f"area {_show(data[code].iloc[i])}" + (
            f", period {_show(data[period].iloc[i])}" if period is not None else "")
        raise ValueError(f"column {value!r}: row {_show(data.index[i])} ({where}) has no finite "
                         "value: fill or drop it explicitly")
    if period is None:
        return pd.DataFrame({None: v.to_numpy(dtype="float64")},
                            index=pd.Index(data[code].to_numpy()))
    if data[period].isna().any():
        i = int(data[period].isna().to_numpy().argmax())
        raise ValueError(f"column {period!r}: row {_show(data.index[i])} (area "
                         f"{_show(data[code].iloc[i])}) has no period")
    dup = data.duplicated([code, period])
    if dup.any():
        i = int(dup.to_numpy().argmax())
        raise ValueError(f"area {_show(data[code].iloc[i])}, period {_show(data[period].iloc[i])} "
                         f"appears more than once (row {_show(data.index[i])}): one row per area "
                         "and period")
    try:
        wide = data.pivot(index=code, columns=period, values=value).sort_index(axis=1)
    except TypeError as e:
        raise ValueError(f"column {period!r} mixes kinds of period ({e}): use one type, e.g. all "
                         "whole numbers or all dates") from None
    wide = wide.reindex(pd.unique(data[code]))
    gaps = wide.isna().to_numpy()
    if gaps.any():
        i, t = map(int, np.argwhere(gaps)[0])
        raise ValueError(f"area {_show(wide.index[i])} has no row for period "
                         f"{_show(wide.columns[t])}: "
                         f"every area needs a value in every period ({int(gaps.sum())} missing)")
    return wide.astype("float64")


def _area_params(params: AreaParams | None, overrides: dict, what: str) -> AreaParams:
    if params is not None and overrides:
        raise ParamsError("give either an AreaParams or keyword choices, not both")
    if params is not None:
        if not isinstance(params, AreaParams):
            raise TypeError(f"params must be an AreaParams, not {type(params).__name__}")
        return params
    p: AreaParams = make_params(AreaParams, what, **overrides)
    return p


def run_for_areas(data: gpd.GeoDataFrame, params: AreaParams | None = None, *, code: str = "code",
                  value: str = "value", period: str | None = None, name: str | None = None,
                  level: str = "area", **overrides: Any) -> HotspotTable:
    """Hot spots of any areas a user brings (not only London's), one row per area.

    ``data``: a GeoDataFrame with area codes in ``code``, numbers in ``value`` and, for emerging
    hot spots, periods in ``period`` (one row per area and period, every area in every period;
    the geometry of an area's first row is used). Any CRS (it is reprojected to British National
    Grid); names in ``name`` (default: the code). ``params`` (or its fields as keywords): the
    weights and method choices of :class:`AreaParams`.

    Without ``period``: Getis-Ord Gi* (binary weights, analytic two-sided p-values) with columns
    ``code``, ``name``, ``value``, ``gi_z``, ``gi_p``, ``gi_q`` (Benjamini-Hochberg), ``bin``
    (ArcGIS's -3..3 on q-values), ``hotspot`` (``"hot"``, ``"cold"`` or ``""`` at ``alpha``),
    ``island``, ``geometry``. With ``period``: the emerging hot spot analysis, with the columns
    of :func:`run` that do not depend on London (``code``, ``name``, ``category``,
    ``n_periods``, ``n_hot``, ``n_cold``, ``share_hot``, ``share_cold``, ``trend_tau``,
    ``trend_z``, ``trend_p``, ``last_z``, ``mean_value``, ``last_value``, ``island``,
    ``geometry``).
    """
    p = _area_params(params, overrides, "your own areas")
    if not isinstance(data, gpd.GeoDataFrame):
        raise TypeError(f"areas must be a GeoDataFrame with a geometry column, not "
                        f"{type(data).__name__}")
    values = _user_values(data, code, value, period)
    r = _area_hotspots(values, data.drop_duplicates(code), code=code, name=name, level=level,
                       p=p, period=period)
    return dataclasses.replace(r, parameters={**r.parameters, "value": value})


def _area_hotspots(values: pd.DataFrame, first: gpd.GeoDataFrame, *, code: str,
                   name: str | None, level: str, p: AreaParams, period: str | None) -> HotspotTable:
    """Hot spots of areas ``first`` (one row per area) with ``values`` (areas x periods; one
    column ``None`` without periods): :func:`run_for_areas` after its checks."""
    from vru.analysis import hotspots as hs
    from vru.model.areas import AreaSet

    areas = AreaSet.from_geodataframe(first, code=code, name=name, level=level)
    weights = SpatialWeights.from_areas(areas, p.rule, k=p.k, distance=p.distance,
                                        islands=p.islands)
    rep = weights.report
    notes = [rep.text()[0].upper() + rep.text()[1:]]
    ids = list(weights.unique_ids)
    values = values.loc[ids]
    g = areas.frame.loc[ids]
    if period is None:
        gi = hs.getis_ord(values.iloc[:, 0], weights, star=True, transform="B")
        qv = hs.fdr_bh(gi["p"].to_numpy())
        sig = np.nan_to_num(qv, nan=1.0) <= p.alpha
        z = gi["z"].to_numpy()
        out = gpd.GeoDataFrame({
            "code": ids, "name": g["name"].to_numpy(dtype=object),
            "value": values.iloc[:, 0].to_numpy(), "gi_z": z, "gi_p": gi["p"].to_numpy(),
            "gi_q": qv, "bin": hs.gi_bin(z, gi["p"].to_numpy(), fdr=True),
            "hotspot": np.where(sig & (z > 0), "hot", np.where(sig & (z < 0), "cold", "")),
            "island": weights.islands,
        }, geometry=g.geometry.to_numpy(), crs=g.crs)
        periods: tuple[str, ...] = ()
        method = ("Getis-Ord Gi* (binary weights, analytic two-sided p-values, Benjamini-Hochberg "
                  "q-values): docs/methods-hotspots.md")
    else:
        if values.shape[1] < max(2, int(p.time_lag) + 1):
            raise ValueError(f"{values.shape[1]} period(s) in column {period!r}: emerging hot spot "
                             f"analysis needs at least {max(2, int(p.time_lag) + 1)}")
        res = emerging_hotspots(values, weights, time_lag=p.time_lag,
                                global_window=p.global_window, alpha=p.alpha, fdr=p.fdr,
                                scheme=p.scheme)
        out = gpd.GeoDataFrame({"code": ids, "name": g["name"].to_numpy(dtype=object),
                                **_emerging_columns(res, values, ids)},
                               geometry=g.geometry.to_numpy(), crs=g.crs)
        periods = tuple(str(c) for c in values.columns)
        method = "docs/methods-hotspots.md (emerging hot spot analysis)"
    return HotspotTable(
        areas=out, parameters={**dataclasses.asdict(p), "code": code, "period": period,
                               "level": level},
        source="your areas", periods=periods, notes=tuple(notes), weights=None, method=method)


# --- a record-level source's LSOA-month panel -----------------------------------------------------------

#: Record-level sources whose LSOA-month panel hot spots can run on (``source=`` of
#: :func:`run_for_source`): name -> the warehouse ``source`` (one per force: ``NAME/<force>``)
PANEL_SOURCES = {"police_uk": catalogue.POLICE_UK_STREET}
NO_LOCATION = "X-NO-LOCATION"  # the police.uk panel's crimes without a location
NOT_CRIME = (taxonomy.ANTI_SOCIAL_BEHAVIOUR,)


def read_areas(areas: str | Path | gpd.GeoDataFrame, code: str = "code") -> gpd.GeoDataFrame:
    """LSOA geometry for :func:`run_for_source`: a GeoDataFrame, a boundary file GeoPandas
    reads (GeoPackage, GeoJSON, shapefile), or a CSV of centroids with columns ``code``,
    ``longitude`` and ``latitude`` (WGS84; e.g. the national generator's ``lsoas.csv``)."""
    if isinstance(areas, gpd.GeoDataFrame):
        gdf = areas
    else:
        path = Path(areas)
        if not path.is_file():
            raise ValueError(f"{path}: no such file of LSOA boundaries or centroids")
        if path.suffix.lower() == ".csv":
            df = pd.read_csv(path, dtype={code: str})
            missing = [c for c in (code, "longitude", "latitude") if c not in df.columns]
            if missing:
                raise ValueError(f"{path}: a CSV of LSOA centroids needs columns {code}, longitude "
                                 f"and latitude; missing {', '.join(missing)} (columns are "
                                 f"{', '.join(map(str, df.columns))})")
            gdf = gpd.GeoDataFrame(df[[code]], geometry=gpd.points_from_xy(
                df["longitude"], df["latitude"]), crs="EPSG:4326")
        else:
            try:
                gdf = gpd.read_file(path)
            except Exception as e:
                raise ValueError(f"{path}: not a boundary file GeoPandas can read ({e})") from None
    if code not in gdf.columns:
        raise ValueError(f"the LSOA areas have no code column {code!r}: columns are "
                         f"{', '.join(map(str, gdf.columns))} (name it with code=/--areas-code)")
    if gdf.crs is None:
        raise ValueError("the LSOA areas have no coordinate reference system (CRS)")
    return gdf


def source_panel(wh: Warehouse, source: str, categories: tuple[str, ...] | None = None,
                 start: str | None = None, end: str | None = None) -> tuple[pd.DataFrame, list]:
    """The record-level ``source``'s crimes per LSOA and month from the warehouse, as an
    LSOAs x months table: every LSOA the source has a located crime in (any category), every
    month it has data for (between ``start`` and ``end``, YYYY-MM), zero where the chosen
    categories had none. ``categories``: harmonised codes (a parent includes its children);
    default every category but anti-social behaviour. Returns the table and notes."""
    if source not in PANEL_SOURCES:
        raise ValueError(f"unknown source {source!r}: hot spots on a record-level panel are "
                         f"available for {', '.join(PANEL_SOURCES)}")
    stored = PANEL_SOURCES[source]
    where = "(source = ? OR starts_with(source, ?)) AND level = 'lsoa' AND area_code <> ?"
    args: list = [stored, stored + "/", NO_LOCATION]
    for bound, op, v in (("start", ">=", start), ("end", "<=", end)):
        if v is not None:
            v = str(v)
            if not (len(v) == 7 and v[4] == "-" and v[:4].isdigit() and v[5:].isdigit()
                    and 1 <= int(v[5:]) <= 12):
                raise ValueError(f"{bound} {v!r}: give a month as YYYY-MM")
            where += f" AND month {op} ?"
            args.append(pd.Timestamp(v + "-01").to_pydatetime())
    have = wh.sql(f"SELECT DISTINCT category FROM crime WHERE {where}", args)["category"].tolist()
    if not have:
        raise MissingData(f"no {source} crime at LSOA level in the warehouse"
                          + (f" between {start or 'the start'} and {end or 'the end'}"
                             if start or end else "")
                          + ": ingest the data.police.uk street files first (vru ingest / vru fetch)")
    if categories:
        chosen = set()
        for c in categories:
            if c not in set(taxonomy.categories()["code"]):
                raise ValueError(f"unknown crime category {c!r} (see docs/taxonomy.md)")
            chosen |= {c, *taxonomy.descendants(c)}
        cats = sorted(chosen & set(have))
        if not cats:
            raise ValueError(f"{source} has no {', '.join(categories)} crime: its categories are "
                             f"{', '.join(sorted(have))}")
    else:
        cats = sorted(set(have) - set(NOT_CRIME))
    con = wh.con
    codes = [r[0] for r in con.execute(
        f"SELECT DISTINCT area_code FROM crime WHERE {where} ORDER BY 1", args).fetchall()]
    months = [r[0] for r in con.execute(
        f"SELECT DISTINCT month FROM crime WHERE {where} ORDER BY 1", args).fetchall()]
    # each cell's row and column number computed in DuckDB: Python only places the numbers
    cells = con.execute(f"""
        WITH a AS (SELECT area_code, (row_number() OVER (ORDER BY area_code) - 1)::INTEGER AS i
                   FROM (SELECT DISTINCT area_code FROM crime WHERE {where})),
             m AS (SELECT month, (row_number() OVER (ORDER BY month) - 1)::INTEGER AS j
                   FROM (SELECT DISTINCT month FROM crime WHERE {where})),
             c AS (SELECT area_code, month, sum(count)::DOUBLE AS n FROM crime
                   WHERE {where} AND list_contains(?, category) GROUP BY ALL)
        SELECT i, j, n FROM c JOIN a USING (area_code) JOIN m USING (month)""",
        args + args + args + [cats]).fetchnumpy()
    panel = np.zeros((len(codes), len(months)))
    panel[cells["i"], cells["j"]] = cells["n"]
    periods = [pd.Timestamp(m).strftime("%Y-%m") for m in months]
    notes = [f"{source}: {len(codes):,} LSOAs x {len(periods)} months ({periods[0]} to "
             f"{periods[-1]}), {'all crime but anti-social behaviour' if not categories else ''}"
             f"{', '.join(cats) if categories else ''}; crimes without a location left out"]
    return pd.DataFrame(panel, index=pd.Index(codes, name="code"), columns=periods), notes


def run_for_source(wh: Warehouse, source: str = "police_uk",
                   areas: str | Path | gpd.GeoDataFrame | None = None,
                   params: AreaParams | None = None, *, categories: tuple[str, ...] | None = None,
                   start: str | None = None, end: str | None = None, code: str = "code",
                   name: str | None = None, **overrides: Any) -> HotspotTable:
    """Emerging hot spots on a record-level source's LSOA-month panel (data.police.uk street
    crime: ``source="police_uk"``, any force or all of England and Wales).

    The LSOA geometry: ``areas`` (a GeoDataFrame, a boundary file or a CSV of centroids: see
    :func:`read_areas`), else the warehouse's LSOA ``areas`` (only London's are bundled). Every
    LSOA of the panel needs one: else the call is refused naming how many and which. Centroids
    have no borders: use ``rule="knn"`` (with ``k``) or ``"distance"``. ``params`` (or its fields
    as keywords): as :func:`run_for_areas`. Columns: those of :func:`run_for_areas` with periods.
    """
    p = _area_params(params, overrides, "a source's panel")
    values, notes = source_panel(wh, source, tuple(categories) if categories else None, start, end)
    if areas is not None:
        geo = read_areas(areas, code)
        where = "the areas given"
    else:
        rows = wh.sql("SELECT * FROM areas WHERE level = 'lsoa' ORDER BY vintage DESC, code")
        rows["geometry"] = [None if g is None or g is pd.NA else bytes(g) for g in rows["geometry"]]
        geo = to_geodataframe(rows.drop_duplicates("code"))
        geo = geo[~geo.geometry.isna()]
        code, where = "code", "the warehouse's LSOA boundaries"
    geo = geo.drop_duplicates(code).set_index(geo[code].astype(str).to_numpy())
    missing = [c for c in values.index if c not in geo.index]
    if missing:
        raise ValueError(
            f"{len(missing):,} of the {len(values):,} LSOAs of the {source} panel have no geometry "
            f"in {where} (e.g. {', '.join(missing[:5])}): the national LSOA boundaries are not "
            "bundled (only London's); pass areas= (--areas FILE) a GeoDataFrame, a boundary file "
            "or a CSV of LSOA centroids (code, longitude, latitude) covering them, or narrow the "
            "data to the areas you have")
    first = geo.loc[list(values.index)].reset_index(drop=True)
    if p.rule in ("queen", "rook") and first.geometry.geom_type.isin(["Point", "MultiPoint"]).all():
        raise ValueError(f"the LSOA areas are points (centroids): they share no borders, so rule "
                         f"{p.rule!r} finds no neighbours; use rule='knn' with k, or 'distance'")
    if values.shape[1] < max(2, int(p.time_lag) + 1):
        raise ValueError(f"{values.shape[1]} month(s) of {source} data: emerging hot spot analysis "
                         f"needs at least {max(2, int(p.time_lag) + 1)}")
    r = _area_hotspots(values, first, code=code, name=name, level="lsoa", p=p, period="month")
    return dataclasses.replace(
        r, source=source, notes=tuple(notes) + r.notes,
        parameters={**r.parameters, "categories": list(categories or []), "start": start,
                    "end": end})


__all__ = ["VIOLENCE", "LEVELS", "LEVEL_WORDS", "SUSTAINED", "PATTERNS", "PANEL_SOURCES",
           "HotspotParams", "AreaParams", "make_params", "HotspotTable", "HotspotResult",
           "HarmComparison", "Cube", "cube", "run", "run_for_areas", "run_for_source",
           "read_areas", "source_panel", "sustained"]
