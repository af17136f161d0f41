"""Named read queries over the warehouse, returning DataFrames for the analysis layer.

Roll-ups follow the taxonomy: asking for a category sums every stored category beneath it
(:func:`vru.taxonomy.descendants`). The source is always explicit: figures from different sources
(or vintages of one source) are never added together.
"""

from __future__ import annotations

import pandas as pd

from vru import taxonomy
from vru.warehouse.store import Warehouse


def crime_series(wh: Warehouse, *, source: str, level: str, category: str,
                 start: str | None = None, end: str | None = None) -> pd.DataFrame:
    """Monthly counts (area_code, month, count) of ``category`` and everything beneath it."""
    cats = sorted(taxonomy.descendants(category))
    q = (
        "SELECT area_code, month, sum(count)::BIGINT AS count FROM crime "
        "WHERE source = ? AND level = ? AND list_contains(?, category)"
    )
    params: list = [source, level, cats]
    if start:
        q += " AND month >= ?"
        params.append(pd.Timestamp(start))
    if end:
        q += " AND month <= ?"
        params.append(pd.Timestamp(end))
    q += " GROUP BY area_code, month ORDER BY area_code, month"
    return wh.sql(q, params)


def crime_months(wh: Warehouse, source: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    lo, hi = wh.con.execute(
        "SELECT min(month), max(month) FROM crime WHERE source = ?", [source]
    ).fetchone()
    return pd.Timestamp(lo), pd.Timestamp(hi)


def crime_annual(wh: Warehouse, *, source: str, level: str, category: str) -> pd.DataFrame:
    """Annual counts (area_code, year, count); NaN where the source value is known to be wrong."""
    cats = sorted(taxonomy.descendants(category))
    return wh.sql(
        "SELECT area_code, year, sum(count) AS count FROM crime_annual "
        "WHERE source = ? AND level = ? AND list_contains(?, category) "
        "GROUP BY area_code, year ORDER BY area_code, year",
        [source, level, cats],
    )


def areas(wh: Warehouse, level: str, vintage: str | None = None) -> pd.DataFrame:
    """Areas of one level (and vintage); ``geometry`` as WKB ``bytes`` (or None)."""
    q = "SELECT * FROM areas WHERE level = ?"
    params: list = [level]
    if vintage:
        q += " AND vintage = ?"
        params.append(vintage)
    df = wh.sql(q + " ORDER BY code", params)
    df["geometry"] = [None if g is None or g is pd.NA else bytes(g) for g in df["geometry"]]
    return df


def population(wh: Warehouse, *, level: str, year: int, sex: str = "persons",
               age_band: str = "all") -> pd.DataFrame:
    """Population (area_code, population). Borough figures are summed from LSOAs (2011 set)."""
    if level == "borough":
        return wh.sql(
            "SELECT a.parent_code AS area_code, sum(p.population)::BIGINT AS population "
            "FROM population p JOIN areas a ON a.level = 'lsoa' AND a.vintage = '2011' "
            "AND a.code = p.area_code WHERE p.level = 'lsoa' AND p.year = ? AND p.sex = ? "
            "AND p.age_band = ? GROUP BY a.parent_code ORDER BY 1",
            [year, sex, age_band],
        )
    return wh.sql(
        "SELECT area_code, population FROM population WHERE level = ? AND year = ? AND sex = ? "
        "AND age_band = ? ORDER BY 1",
        [level, year, sex, age_band],
    )


def deprivation(wh: Warehouse, *, level: str, measure: str, edition: str = "IoD2019") -> pd.DataFrame:
    return wh.sql(
        "SELECT area_code, value FROM deprivation WHERE level = ? AND measure = ? AND edition = ? "
        "ORDER BY 1",
        [level, measure, edition],
    )


def sources(wh: Warehouse) -> pd.DataFrame:
    """What has been loaded: one row per file."""
    return wh.sql("SELECT source, path, rows, loaded_at, notes FROM loads ORDER BY source, path")
