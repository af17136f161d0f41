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


# tables with a ``source`` column and the column that gives their period
_PERIODS = {
    "crime": ("month", "month"),
    "crime_annual": ("year", "year"),
    "population": ("year", "year"),
    "deprivation": (None, None),
    "unemployment": ("period", "month"),
    "survey": ("period_end", "quarter end"),
    "survey_responses": ("period_end", "quarter end"),
}


def _period_text(value, unit: str | None) -> str:
    if value is None or unit is None:
        return ""
    if unit == "year":
        return str(int(value))
    ts = pd.Timestamp(value)
    return f"{ts:%Y-%m}" if unit == "month" else f"{ts:%Y-%m-%d}"


def status(wh: Warehouse) -> list[dict]:
    """What the warehouse holds, per source: the files behind it (each with its own rows, when and
    with which user category map it was loaded), the rows loaded and the rows held now in each
    table, and the periods (months, years or quarter ends) held.

    A source's rows held are the rows of every table whose ``source`` is the loader's source or
    starts with it and "/" (data.police.uk street files give one source per force). Rows loaded
    count every row a file gave, in every table; rows held count the tables that carry a source.
    So rows held can be fewer than rows loaded when a later release restated months an earlier file
    had given, and also because a file's ``areas`` rows are counted as loaded but never held under
    its source: an MPS ward file gives its wards as ``areas`` rows (they carry no source), so its
    rows loaded exceed its rows held by the number of wards it names.
    Boundaries (``areas``) carry no source: their files are listed, with no rows held.
    """
    loads = wh.sql(
        "SELECT source, path, sha256, rows, loaded_at, category_map, category_map_sha256 "
        "FROM loads ORDER BY source, path")
    out = []
    for source, files in loads.groupby("source", sort=True):
        held: dict[str, int] = {}
        periods: dict[str, dict] = {}
        for table, (col, unit) in _PERIODS.items():
            where = "(source = ? OR starts_with(source, ?))"
            sel = "count(*)" + (f", min({col}), max({col}), count(DISTINCT {col})" if col else "")
            row = wh.con.execute(f"SELECT {sel} FROM {table} WHERE {where}",
                                 [source, source + "/"]).fetchone()
            if not row[0]:
                continue
            held[table] = int(row[0])
            if col:
                periods[table] = {"unit": unit, "first": _period_text(row[1], unit),
                                  "last": _period_text(row[2], unit), "count": int(row[3])}
        out.append({
            "source": str(source),
            "files": [{
                "path": str(r.path),
                "sha256": str(r.sha256),
                "rows": int(r.rows),
                "loaded_at": pd.Timestamp(r.loaded_at).isoformat(),
                "category_map": None if pd.isna(r.category_map) else str(r.category_map),
                "category_map_sha256": (None if pd.isna(r.category_map_sha256)
                                        else str(r.category_map_sha256)),
            } for r in files.itertuples(index=False)],
            "rows_loaded": int(files["rows"].sum()),
            "rows_held": held,
            "periods": periods,
        })
    return out
