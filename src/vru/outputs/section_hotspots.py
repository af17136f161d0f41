"""Report section and machine-readable results: where violence is high and sustained.

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
only): without them there are no neighbours, so ``level="ward"`` raises an error saying so,
unless 2022 ward boundaries have been loaded into the warehouse.

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

:func:`results` returns one row per area (GeoDataFrame, EPSG:27700); :func:`write` saves it as
CSV, GeoJSON (WGS 84) or JSON; :func:`build` returns the report section (or ``None`` when the
warehouse lacks the data).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

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
from vru.geography import borough_name, is_geographic
from vru.model.weights import SpatialWeights
from vru.outputs import charts_hotspots, csvsafe
from vru.outputs.html import Section, esc, figure, table
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


@dataclass
class HotspotParams:
    """Every choice of the hot spot analysis, with its default."""

    level: str = "lsoa"
    categories: tuple[str, ...] = VIOLENCE
    weighting: str = "count"  # "count" | "css" | "chi"
    chi_file: str | None = None  # the CHI table for weighting="chi" (vru.analysis.harm.load_chi)
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

    def __post_init__(self):
        if self.level not in LEVELS:
            raise ValueError(f"unknown area level {self.level!r}: one of {', '.join(LEVELS)}")
        if isinstance(self.categories, str):
            self.categories = (self.categories,)
        self.categories = tuple(self.categories)
        if not self.categories:
            raise ValueError("no crime category given")
        known = set(taxonomy.categories()["code"])
        for c in self.categories:
            if c not in known:
                raise ValueError(f"unknown crime category {c!r} (see docs/taxonomy.md)")
        for a in self.categories:
            for b in self.categories:
                if a != b and a in taxonomy.descendants(b):
                    raise ValueError(f"categories overlap: {a!r} is part of {b!r}")
        if self.weighting not in harm.SCHEMES:
            raise ValueError(f"unknown weighting {self.weighting!r}: one of {harm.SCHEMES}")


def _params(p: HotspotParams | None, kwargs: dict) -> HotspotParams:
    if p is not None and kwargs:
        raise TypeError("give either a HotspotParams or keyword parameters, not both")
    if p is not None:
        return p
    names = {f.name for f in fields(HotspotParams)}
    unknown = sorted(set(kwargs) - names)
    if unknown:
        raise TypeError(f"unknown hot spot parameters {unknown}; known: {sorted(names)}")
    return HotspotParams(**kwargs)


# --- the cube --------------------------------------------------------------------------------------


def _rows(wh: Warehouse, lv: Level, cats: list[str], p: HotspotParams) -> pd.DataFrame:
    """Crime rows (area_code, period, category, count) at the finest stored category."""
    level = lv.boundary[0]
    if lv.table == "crime_annual":
        df = wh.sql("SELECT area_code, year AS period, category, count FROM crime_annual "
                    "WHERE source = ? AND level = ? AND list_contains(?, category)",
                    [lv.source, level, cats])
    else:
        df = wh.sql("SELECT area_code, strftime(month, '%Y-%m') AS period, category, "
                    "sum(count)::DOUBLE AS count FROM crime WHERE source = ? AND level = ? "
                    "AND list_contains(?, category) GROUP BY ALL", [lv.source, level, cats])
    if df.empty:
        raise ValueError(f"no {', '.join(p.categories)} crime from {lv.source} at {level} level "
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


def _norm_period(lv: Level, v):
    if v is None:
        return None
    if lv.period_word == "year":
        try:
            return int(str(v)[:4]) if len(str(v)) > 4 else int(v)
        except ValueError:
            raise ValueError(f"a year is needed for level {lv!r}, not {v!r}") from None
    try:
        return str(pd.Period(str(v), freq="M"))
    except ValueError:
        raise ValueError(f"a month (YYYY-MM) is needed, not {v!r}") from None


def _choose_periods(lv: Level, values: pd.DataFrame, p: HotspotParams, notes: list) -> list:
    present = list(values.columns)
    every = _all_periods(lv, present)
    has = values.notna().any(axis=0).reindex(every, fill_value=False)
    no_data = [t for t in every if not has[t]]
    start, end = _norm_period(lv, p.start), _norm_period(lv, p.end)
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


def _weights_for(p: HotspotParams, lv: Level):
    if p.weighting == "count":
        return None
    overrides = None
    table = harm.category_weights(p.weighting, chi=p.chi_file)
    if lv.source in DETAILED_SOURCES:
        overrides = harm.detailed_vintage_overrides(table)
    return overrides


def cube(wh: Warehouse, p: HotspotParams | None = None, **kwargs) -> dict:
    """The areas x periods values, the areas' boundaries and names, and notes on every treatment.

    Returns ``values`` (DataFrame, areas x periods), ``areas`` (GeoDataFrame of the analysed
    areas with code, name, parent_code), ``notes`` (list of sentences), ``weights_used``.
    """
    p = _params(p, kwargs)
    lv = LEVELS[p.level]
    notes: list[str] = []
    cats = sorted(set().union(*(taxonomy.descendants(c) for c in p.categories)))
    rows = _rows(wh, lv, cats, p)
    weights_used = None
    if p.weighting != "count":
        overrides = _weights_for(p, lv)
        rows = harm.harm_weighted(rows, p.weighting, chi=p.chi_file, overrides=overrides,
                                  unweighted="drop")
        weights_used = rows.attrs["weights"]
        if rows.attrs["dropped"]:
            notes.append("Categories without a harm weight left out: " + ", ".join(
                f"{k} ({v:,.0f} offences)" for k, v in rows.attrs["dropped"].items()))
        if overrides:
            weights_used = weights_used.copy()
            vwi = overrides[taxonomy.VIOLENCE_WITHOUT_INJURY]
            notes.append(f"Violence without injury weighted {vwi:.2f}"
                         " (it includes stalking and harassment in the detailed MPS vintage)")
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
        msg = (f"no {bl} {bv} boundaries in the warehouse, so {bl}s have no neighbours")
        if p.level == "ward":
            msg += (": the bundled ward boundaries are the 2018 wards, while the MPS ward series "
                    "uses the 2022 wards. Load 2022 ward boundaries (vru load <file>), or use "
                    "level='lsoa' (LSOA annual violence, the default)")
        raise ValueError(msg)
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
        if p.level != "lsoa":
            raise ValueError("rates per resident need the population, held here by LSOA only: "
                             "use level='lsoa' or rates=False")
        pop = q.population(wh, level="lsoa", year=p.pop_year).set_index("area_code")["population"]
        values = harm.per_population(values, pop)
        notes.append(f"Rates per 1,000 residents (ONS mid-{p.pop_year} population, the same for "
                     f"every {lv.period_word})")
    values.index = pd.Index(values.index.astype(str), name="area")
    return {"values": values, "areas": geo, "notes": notes, "weights_used": weights_used,
            "level": lv}


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


def analyse(wh: Warehouse, p: HotspotParams | None = None, **kwargs) -> dict:
    """The cube, the weights and the emerging hot spot result (see :func:`results`)."""
    p = _params(p, kwargs)
    c = cube(wh, p)
    values, geo, notes = c["values"], c["areas"], list(c["notes"])
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
    return {"params": p, "values": values.loc[ids], "areas": geo, "weights": weights, "report": rep,
            "result": res, "notes": notes, "weights_used": c["weights_used"]}


def _emerging_columns(res, values: pd.DataFrame, ids: list) -> dict:
    """The per-area columns of an emerging hot spot result (see :func:`results`)."""
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


def results(wh: Warehouse, p: HotspotParams | None = None, **kwargs) -> gpd.GeoDataFrame:
    """One row per analysed area, for ``vru hotspots`` (CSV, GeoJSON or JSON via :func:`write`).

    Columns: ``code``, ``name``, ``borough``, ``borough_name``, ``ward_code``, ``ward_name`` (the
    2018 ward containing the area's representative point; for wards, the ward itself; empty for
    boroughs), ``category`` (emerging hot spot pattern; empty for an island), ``n_periods``,
    ``n_hot``, ``n_cold``, ``share_hot`` (share of periods in which the area was a significant hot
    spot), ``share_cold``, ``trend_tau``, ``trend_z``, ``trend_p`` (Mann-Kendall on the area's
    z-scores), ``last_z`` (z of the last period), ``mean_value``, ``last_value`` (counts, harm or
    rates as asked), ``island``, ``geometry`` (EPSG:27700). ``attrs``: ``parameters``,
    ``periods``, ``notes``, ``weights`` (harm weight per category, if any), ``method`` (a
    pointer to the docs).
    """
    p = _params(p, kwargs)
    a = analyse(wh, p)
    res, geo, values = a["result"], a["areas"], a["values"]
    ids = list(values.index)
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
    periods = [str(c) for c in values.columns]
    params = asdict(p)
    params["categories"] = list(p.categories)
    out.attrs = {
        "parameters": params,
        "source": LEVELS[p.level].source,
        "periods": periods,
        "notes": a["notes"],
        "weights": ({k: float(v) for k, v in a["weights_used"].items()}
                    if a["weights_used"] is not None else None),
        "method": "docs/methods-hotspots.md (emerging hot spot analysis), docs/methods-harm.md "
                  "(harm weights)",
    }
    return out


# --- the user's own areas ----------------------------------------------------------------------------

#: The choices that apply to a user's own areas (the rest of :class:`HotspotParams` describes the
#: warehouse's crime data).
AREA_PARAMS = ("rule", "k", "distance", "islands", "time_lag", "global_window", "alpha", "fdr",
               "scheme")


def _show(v) -> str:
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


def _area_params(params: dict, what: str) -> dict:
    """The options of :data:`AREA_PARAMS` from ``params``, defaults filled in; any other option is refused
    naming ``what`` it does not apply to."""
    unknown = sorted(set(params) - set(AREA_PARAMS))
    if unknown:
        raise ValueError(f"{', '.join(map(repr, unknown))} do(es) not apply to {what}: the choices are "
                         f"{', '.join(AREA_PARAMS)}")
    defaults = HotspotParams()
    return {k: params.get(k, getattr(defaults, k)) for k in AREA_PARAMS}


def results_for_areas(data: gpd.GeoDataFrame, *, code: str = "code", value: str = "value",
                      period: str | None = None, name: str | None = None, level: str = "area",
                      **params) -> gpd.GeoDataFrame:
    """Hot spots of any areas a user brings (not only London's), one row per area.

    ``data``: a GeoDataFrame with area codes in ``code``, numbers in ``value`` and, for emerging
    hot spots, periods in ``period`` (one row per area and period, every area in every period;
    the geometry of an area's first row is used). Any CRS (it is reprojected to British National
    Grid); names in ``name`` (default: the code). ``params``: the weights and method choices of
    :data:`AREA_PARAMS` (defaults as :class:`HotspotParams`: queen contiguity, islands kept,
    Benjamini-Hochberg per period at 5%).

    Without ``period``: Getis-Ord Gi* (binary weights, analytic two-sided p-values) with columns
    ``code``, ``name``, ``value``, ``gi_z``, ``gi_p``, ``gi_q`` (Benjamini-Hochberg), ``bin``
    (ArcGIS's -3..3 on q-values), ``hotspot`` (``"hot"``, ``"cold"`` or ``""`` at ``alpha``),
    ``island``, ``geometry``. With ``period``: the emerging hot spot analysis, with the columns
    of :func:`results` that do not depend on London (``code``, ``name``, ``category``,
    ``n_periods``, ``n_hot``, ``n_cold``, ``share_hot``, ``share_cold``, ``trend_tau``,
    ``trend_z``, ``trend_p``, ``last_z``, ``mean_value``, ``last_value``, ``island``,
    ``geometry``).
    """

    p = _area_params(params, "your own areas")
    if not isinstance(data, gpd.GeoDataFrame):
        raise TypeError(f"areas must be a GeoDataFrame with a geometry column, not "
                        f"{type(data).__name__}")
    values = _user_values(data, code, value, period)
    out = _area_hotspots(values, data.drop_duplicates(code), code=code, name=name, level=level,
                         p=p, period=period)
    out.attrs["parameters"].update(value=value)
    return out


def _area_hotspots(values: pd.DataFrame, first: gpd.GeoDataFrame, *, code: str,
                   name: str | None, level: str, p: dict, period: str | None) -> gpd.GeoDataFrame:
    """Hot spots of areas ``first`` (one row per area) with ``values`` (areas x periods; one
    column ``None`` without periods): :func:`results_for_areas` after its checks."""
    from vru.analysis import hotspots as hs
    from vru.model.areas import AreaSet

    areas = AreaSet.from_geodataframe(first, code=code, name=name, level=level)
    weights = SpatialWeights.from_areas(areas, p["rule"], k=p["k"], distance=p["distance"],
                                        islands=p["islands"])
    rep = weights.report
    notes = [rep.text()[0].upper() + rep.text()[1:]]
    ids = list(weights.unique_ids)
    values = values.loc[ids]
    g = areas.frame.loc[ids]
    if period is None:
        gi = hs.getis_ord(values.iloc[:, 0], weights, star=True, transform="B")
        q = hs.fdr_bh(gi["p"].to_numpy())
        sig = np.nan_to_num(q, nan=1.0) <= p["alpha"]
        z = gi["z"].to_numpy()
        out = gpd.GeoDataFrame({
            "code": ids, "name": g["name"].to_numpy(dtype=object),
            "value": values.iloc[:, 0].to_numpy(), "gi_z": z, "gi_p": gi["p"].to_numpy(),
            "gi_q": q, "bin": hs.gi_bin(z, gi["p"].to_numpy(), fdr=True),
            "hotspot": np.where(sig & (z > 0), "hot", np.where(sig & (z < 0), "cold", "")),
            "island": weights.islands,
        }, geometry=g.geometry.to_numpy(), crs=g.crs)
        periods: list = []
        method = ("Getis-Ord Gi* (binary weights, analytic two-sided p-values, Benjamini-Hochberg "
                  "q-values): docs/methods-hotspots.md")
    else:
        if values.shape[1] < max(2, int(p["time_lag"]) + 1):
            raise ValueError(f"{values.shape[1]} period(s) in column {period!r}: emerging hot spot "
                             f"analysis needs at least {max(2, int(p['time_lag']) + 1)}")
        res = emerging_hotspots(values, weights, time_lag=p["time_lag"],
                                global_window=p["global_window"], alpha=p["alpha"], fdr=p["fdr"],
                                scheme=p["scheme"])
        out = gpd.GeoDataFrame({"code": ids, "name": g["name"].to_numpy(dtype=object),
                                **_emerging_columns(res, values, ids)},
                               geometry=g.geometry.to_numpy(), crs=g.crs)
        periods = [str(c) for c in values.columns]
        method = "docs/methods-hotspots.md (emerging hot spot analysis)"
    out.attrs = {"parameters": {**p, "code": code, "period": period, "level": level},
                 "source": "your areas", "periods": periods, "notes": notes, "weights": None,
                 "method": method}
    return out


FORMATS = ("csv", "geojson", "json")


# Record-level sources whose LSOA-month panel hot spots can run on (``source=`` of
# :func:`results_for_source`): name -> the warehouse ``source`` (one per force: ``NAME/<force>``)
PANEL_SOURCES = {"police_uk": catalogue.POLICE_UK_STREET}
NO_LOCATION = "X-NO-LOCATION"  # the police.uk panel's crimes without a location
NOT_CRIME = (taxonomy.ANTI_SOCIAL_BEHAVIOUR,)


def read_areas(areas: str | Path | gpd.GeoDataFrame, code: str = "code") -> gpd.GeoDataFrame:
    """LSOA geometry for :func:`results_for_source`: a GeoDataFrame, a boundary file GeoPandas
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
        raise ValueError(f"no {source} crime at LSOA level in the warehouse"
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
    cube = np.zeros((len(codes), len(months)))
    cube[cells["i"], cells["j"]] = cells["n"]
    periods = [pd.Timestamp(m).strftime("%Y-%m") for m in months]
    notes = [f"{source}: {len(codes):,} LSOAs x {len(periods)} months ({periods[0]} to "
             f"{periods[-1]}), {'all crime but anti-social behaviour' if not categories else ''}"
             f"{', '.join(cats) if categories else ''}; crimes without a location left out"]
    return pd.DataFrame(cube, index=pd.Index(codes, name="code"), columns=periods), notes


def results_for_source(wh: Warehouse, source: str = "police_uk",
                       areas: str | Path | gpd.GeoDataFrame | None = None, *,
                       categories: tuple[str, ...] | None = None, start: str | None = None,
                       end: str | None = None, code: str = "code", name: str | None = None,
                       **params) -> gpd.GeoDataFrame:
    """Emerging hot spots on a record-level source's LSOA-month panel (data.police.uk street
    crime: ``source="police_uk"``, any force or all of England and Wales).

    The LSOA geometry: ``areas`` (a GeoDataFrame, a boundary file or a CSV of centroids: see
    :func:`read_areas`), else the warehouse's LSOA ``areas`` (only London's are bundled). Every
    LSOA of the panel needs one: else the call is refused naming how many and which. Centroids
    have no borders: use ``rule="knn"`` (with ``k``) or ``"distance"``. ``params``: as
    :func:`results_for_areas`. Columns: those of :func:`results_for_areas` with periods.
    """
    p = _area_params(params, "a source's panel")
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
    if p["rule"] in ("queen", "rook") and first.geometry.geom_type.isin(["Point", "MultiPoint"]).all():
        raise ValueError(f"the LSOA areas are points (centroids): they share no borders, so rule "
                         f"{p['rule']!r} finds no neighbours; use rule='knn' with k, or 'distance'")
    if values.shape[1] < max(2, int(p["time_lag"]) + 1):
        raise ValueError(f"{values.shape[1]} month(s) of {source} data: emerging hot spot analysis "
                         f"needs at least {max(2, int(p['time_lag']) + 1)}")
    out = _area_hotspots(values, first, code=code, name=name, level="lsoa", p=p, period="month")
    out.attrs["source"] = source
    out.attrs["notes"] = notes + out.attrs["notes"]
    out.attrs["parameters"].update(categories=list(categories or []), start=start, end=end)
    return out


def render(gdf: gpd.GeoDataFrame, fmt: str) -> str:
    """:func:`results` as text: ``csv`` (no geometry), ``geojson`` (WGS 84, as RFC 7946 asks) or
    ``json`` (``{"parameters", "periods", "notes", "weights", "areas": [...]}``, no geometry)."""
    fmt = fmt.lower()
    plain = pd.DataFrame(gdf.drop(columns="geometry"))
    if fmt == "csv":
        return csvsafe.safe_frame(plain).to_csv(index=False, quoting=csvsafe.QUOTING)
    if fmt == "geojson":
        g = gdf.to_crs(4326)
        g.attrs = {}
        return g.to_json(na="null", drop_id=True)
    if fmt == "json":
        def clean(v):
            if isinstance(v, float) and not math.isfinite(v):
                return None
            if isinstance(v, np.generic):
                return clean(v.item())
            return v
        recs = [{k: clean(v) for k, v in r.items()} for r in plain.to_dict("records")]
        doc = {k: gdf.attrs.get(k) for k in ("parameters", "source", "periods", "notes",
                                              "weights", "method")}
        doc["areas"] = recs
        return json.dumps(doc, indent=1, default=str)
    raise ValueError(f"unknown output format {fmt!r}: csv, geojson or json")


def write(gdf: gpd.GeoDataFrame, path: str | Path, fmt: str | None = None) -> Path:
    """:func:`render` into ``path``; ``fmt`` defaults to the file's extension."""
    path = Path(path)
    text = render(gdf, fmt or path.suffix.lstrip("."))
    path.write_text(text, encoding="utf-8", newline="")
    return path


# --- the report section -----------------------------------------------------------------------------

SUSTAINED = (INTENSIFYING_HOT, PERSISTENT_HOT)
#: Per classification scheme: the sustained hot spot patterns (in table order) and the recent ones.
PATTERNS = {
    "arcgis": (SUSTAINED, (NEW_HOT, CONSECUTIVE_HOT)),
    "sfhotspot": (("persistent hotspot",), ("emerging hotspot",)),
}


def _sustained(r: pd.DataFrame, scheme: str = "arcgis") -> pd.DataFrame:
    """The most persistent and intensifying hot spots, most sustained first (intensifying before
    persistent, then by periods hot and mean value)."""
    sustained = PATTERNS[scheme][0]
    s = r[r["category"].isin(sustained)].copy()
    s["_order"] = s["category"].map({c: i for i, c in enumerate(sustained)})
    return s.sort_values(["n_hot", "_order", "mean_value"], ascending=[False, True, False])


def build(wh: Warehouse, p: HotspotParams | None = None) -> Section | None:
    """The hot spot section of the needs assessment, or ``None`` without the data it needs."""
    p = p or HotspotParams()
    lv = LEVELS[p.level]
    have = wh.sql(
        f"SELECT (SELECT count(*) FROM {lv.table} WHERE source = ? AND level = ?) AS c, "
        "(SELECT count(*) FROM areas WHERE level = ? AND vintage = ? AND geometry IS NOT NULL) AS b",
        [lv.source, lv.boundary[0], *lv.boundary]).iloc[0]
    if (have == 0).any():
        return None
    r = results(wh, p)
    periods = r.attrs["periods"]
    notes = r.attrs["notes"]
    cats = " + ".join(taxonomy.label(c).lower() for c in p.categories)
    span = f"{periods[0]}-{periods[-1]}"
    n_areas = len(r)
    counts = r["category"].value_counts()
    sustained = _sustained(r, p.scheme)
    top = sustained.head(20)
    sustained_cats, recent_cats = PATTERNS[p.scheme]
    emerging = r[r["category"].isin(recent_cats)]
    level_word = LEVEL_WORDS[p.level]

    # a second run with harm weights: do counts and harm agree on the sustained hot spots?
    compare = ""
    if p.weighting == "count" and len(p.categories) > 1:
        alt = results(wh, HotspotParams(**{**asdict(p), "weighting": "css"}))
        a_set = set(sustained["code"])
        b_set = set(alt.loc[alt["category"].isin(sustained_cats), "code"])
        w = alt.attrs["weights"] or {}
        compare = (
            "<p><strong>Counts or harm?</strong> Weighted by the ONS Crime Severity Score "
            "instead of counted (weights per category: "
            + esc(", ".join(f"{taxonomy.label(k).lower()} {v:,.1f}" for k, v in w.items()))
            + f"; docs/methods-harm.md), {len(b_set):,} {level_word}s are persistent or "
              f"intensifying hot spots, {len(a_set & b_set):,} of them also by count; "
              f"{len(a_set - b_set):,} are sustained hot spots by count only and "
              f"{len(b_set - a_set):,} by harm only. The choice of weighting changes the map, "
              f"so it is stated with every result.</p>")

    geo = r.copy()
    geo["pattern"] = geo["category"]
    boroughs = to_geodataframe(_areas(wh, "borough", "2022"))
    boroughs = boroughs[boroughs["code"].map(is_geographic) & boroughs["geometry"].notna()]
    colours = (charts_hotspots.EHSA_COLOURS if p.scheme == "arcgis"
               else charts_hotspots.SFHOTSPOT_COLOURS)
    map_svg = charts_hotspots.categorical_map(
        geo, "pattern", colours=colours, outline=boroughs if p.level != "borough" else None,
        title=f"Emerging hot spots: {cats}, {span}",
        label=(f"Map of London {level_word}s coloured by emerging hot spot pattern of {cats}, "
               f"{span}"),
        missing_label="no result (island)")

    rows = pd.DataFrame({
        "Rank": [str(i) for i in range(1, len(top) + 1)],
        "Area": [f"{n} ({c})" for n, c in zip(top["name"], top["code"], strict=True)],
        "Ward (2018)": [w if isinstance(w, str) else "–" for w in top["ward_name"]],
        "Borough": top["borough_name"].astype(str),
        "Pattern": top["category"].astype(str),
        f"{lv.period_word.capitalize()}s hot": [f"{h} of {t}" for h, t in
                                               zip(top["n_hot"], top["n_periods"], strict=True)],
        "Trend (tau)": [f"{v:+.2f}" if np.isfinite(v) else "–" for v in top["trend_tau"]],
        "Last z": [f"{v:.1f}" for v in top["last_z"]],
        f"Offences a {lv.period_word} (mean)": [f"{v:,.0f}" for v in top["mean_value"]],
    })
    if p.weighting != "count" or p.rates:
        rows = rows.rename(columns={f"Offences a {lv.period_word} (mean)":
                                    f"Value a {lv.period_word} (mean)"})
    by_borough = sustained["borough_name"].value_counts()
    ctab = pd.DataFrame({"Pattern": counts.index.astype(str),
                         f"{level_word}s": [f"{v:,}" for v in counts.to_numpy()]})
    hot_words = (", ".join(f"{b} {n}" for b, n in by_borough.head(8).items())
                 if len(by_borough) else "none")
    settings = (f"space-time Getis-Ord Gi* with {p.rule} contiguity neighbours"
                if p.rule in ("queen", "rook") else f"space-time Getis-Ord Gi* with {p.rule} neighbours")
    what = "counts" if p.weighting == "count" else esc(p.weighting.upper()) + " harm"
    n_t = len(periods)
    if p.scheme == "arcgis":
        scheme_text = (
            f"Benjamini-Hochberg false discovery rate {100 * p.alpha:g}% per {lv.period_word}; a "
            f"Mann-Kendall test on each area's z-scores gives its trend; areas are classed into "
            f"ArcGIS's 17 patterns. With {n_t} {lv.period_word}s, persistent and intensifying "
            f"hot spots are areas that were significant hot spots in at least 90% of them "
            f"including the last ({-(-9 * n_t // 10)} of {n_t}); intensifying ones with a "
            f"significant upward trend.</p>")
        found = (f"{int(counts.get(PERSISTENT_HOT, 0)):,} persistent and "
                 f"{int(counts.get(INTENSIFYING_HOT, 0)):,} intensifying hot spots")
        recent_words = "new or consecutive"
    else:
        scheme_text = (
            "each area's p-values adjusted across its periods (Holm), areas classed with R "
            "sfhotspot's scheme: persistent hot spots were significant hot spots in at least 80% "
            f"of the {n_t} {lv.period_word}s; emerging ones only recently.</p>")
        found = f"{int(counts.get('persistent hotspot', 0)):,} persistent hot spots"
        recent_words = "emerging"
    body = (
        f"<p>Where is violence high <em>and</em> sustained? This section runs an emerging hot "
        f"spot analysis of {esc(cats)} ({what}"
        f"{' per 1,000 residents' if p.rates else ''}) in {n_areas:,} {level_word}s, "
        f"{lv.period_word} by {lv.period_word}, {esc(span)} ({len(periods)} {lv.period_word}s; "
        f"data: {esc(lv.source)}).</p>"
        f"<p><strong>Method</strong> (docs/methods-hotspots.md): {esc(settings)}, a time step of "
        f"{p.time_lag} {lv.period_word}, each {lv.period_word} compared with "
        f"{'itself' if p.global_window == 'period' else 'the whole ' + esc(p.global_window)}; "
        + scheme_text
        + f"<p><strong>Findings.</strong> {esc(found)}; by borough: "
        f"{esc(hot_words)}. {len(emerging):,} {level_word}s are {esc(recent_words)} hot spots "
        f"(hot only recently).</p>"
        + figure(map_svg, f"Emerging hot spot patterns of {cats} by {level_word}, {span}. "
                          "Grey: areas without neighbours (no result).")
        + table(rows, f"The {len(top)} most persistent and intensifying hot spots"
                      f"{' (of ' + format(len(sustained), ',') + ')' if len(sustained) > len(top) else ''}"
                      f": intensifying first, then persistent, each by {lv.period_word}s hot "
                      f"and mean value",
                numeric={"Rank", f"{lv.period_word.capitalize()}s hot", "Trend (tau)", "Last z",
                         rows.columns[-1]})
        + table(ctab, f"{level_word}s by pattern", numeric={f"{level_word}s"})
        + compare
        + "<p><strong>What this can and cannot tell.</strong> A hot spot is an area whose "
          "<em>neighbourhood</em> (the area and its neighbours) had more offences than the "
          f"London average for that {lv.period_word}, beyond what chance would give; it is not "
          "a ranking of single areas, and a quiet area surrounded by busy ones can be one. "
          "Counts follow residents and footfall, so town centres and the West End stand out; "
          "rates per resident mislead where victims are visitors. Patterns depend on the "
          "settings (neighbour rule, time step, window, significance level, weighting) and on "
          "the boundaries (LSOAs, wards and grids give different maps). With few periods the "
          "trend test has little power. The patterns describe where violence clustered, not "
          "why: they are a starting point for local knowledge, not a causal finding "
          "(docs/methods-hotspots.md, section 'What the results can and cannot tell').</p>"
        + "<p><strong>Notes.</strong> " + esc(" ".join(n.rstrip(".") + "." for n in notes))
        + (" Ward-level monthly series (MPS, 2022 wards) are not analysed here: the bundled "
           "ward boundaries are the 2018 wards, so 2022 wards have no neighbours; the ward of each "
           "LSOA above is the 2018 ward containing its representative point."
           if p.level == "lsoa" else "")
        + "</p>"
    )
    return Section("hotspots", "Hot spots: high and sustained violence", body)


__all__ = ["VIOLENCE", "LEVELS", "HotspotParams", "cube", "analyse", "results", "write", "build"]
