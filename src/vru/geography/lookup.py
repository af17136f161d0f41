"""LSOA 2011 <-> 2021 best fit by area overlap, and LSOA -> borough.

ONS publishes an exact 2011 -> 2021 LSOA lookup, but none is bundled here, so the two bundled
boundary sets (ONS LSOA 2011 and 2021, London, generalised to 20 m) are overlaid instead:

1. :func:`lsoa_2011_2021_overlap` intersects every 2011 LSOA with every 2021 LSOA it touches
   (spatial index query, then vectorised shapely intersections; about 2 s for London) and
   reports, per pair, the intersection area and its share of each LSOA's area.
2. **Sliver threshold.** The two sets were generalised separately, so even an unchanged LSOA
   overlaps its neighbours by thin slivers. A pair is kept only if the intersection is at least
   ``min_share`` (default :data:`SLIVER_SHARE` = 10%) of the 2011 LSOA *or* of the 2021 LSOA.
   On the London files the largest share of a dropped pair is 8.7% (a sliver between two
   unchanged LSOAs) and no pair lies between 9% and 90%, so the threshold separates slivers from
   real splits and merges. Each LSOA keeps at least its largest overlap, so no LSOA disappears.
   Shares are reported as measured (they sum to slightly less or more than 1 per LSOA).
3. :func:`best_fit` maps each code to the code of the other vintage holding the largest share of
   it: the 4,659 codes present in both sets map to themselves; a 2011 LSOA split in 2021 maps to
   its largest part; a 2021 LSOA merged from 2011 LSOAs maps to the largest of them.
4. :func:`to_2011` / :func:`to_2021` re-express counts. ``method="apportion"`` splits each
   count over the target LSOAs in proportion to the area of the source LSOA that falls in each
   (kept pairs, shares re-normalised to sum to 1 per source LSOA); ``method="best_fit"`` moves the
   whole count to the best-fit LSOA. Either way totals are preserved (apportioned totals to float
   precision). Area apportioning assumes counts are spread evenly over an LSOA's area; for
   population-like counts that is an approximation, stated as such.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

SLIVER_SHARE = 0.10
BNG = "EPSG:27700"

Vintage = Literal["2011", "2021"]


def _codes(gdf: gpd.GeoDataFrame, raw_col: str, given: str | None) -> pd.Series:
    col = given or (raw_col if raw_col in gdf.columns else "code")
    if col not in gdf.columns:
        raise ValueError(f"no code column: expected {raw_col!r} or 'code' (or pass the name)")
    codes = gdf[col].astype(str)
    if codes.duplicated().any():
        raise ValueError(f"duplicate codes in {col!r}, e.g. {codes[codes.duplicated()].iloc[0]}")
    return codes


def _projected(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        raise ValueError("boundaries without a CRS: areas cannot be measured")
    return gdf if gdf.crs.is_projected else gdf.to_crs(BNG)


def lsoa_2011_2021_overlap(lsoa11: gpd.GeoDataFrame, lsoa21: gpd.GeoDataFrame, *,
                           min_share: float = SLIVER_SHARE, code11: str | None = None,
                           code21: str | None = None) -> pd.DataFrame:
    """Every intersecting (2011, 2021) LSOA pair that is not a sliver.

    Inputs are boundary GeoDataFrames with codes in ``LSOA11CD`` / ``LSOA21CD`` (raw files) or
    ``code`` (:func:`vru.sources.boundaries.read_boundaries`), or the columns named. Returns
    columns ``lsoa11cd, lsoa21cd, area_m2, share_of_2011, share_of_2021`` (share = intersection
    area / the LSOA's area), sorted by code. See the module docstring for the sliver rule.
    """
    c11 = _codes(lsoa11, "LSOA11CD", code11)
    c21 = _codes(lsoa21, "LSOA21CD", code21)
    a = _projected(lsoa11)
    b = _projected(lsoa21)
    if not b.crs.equals(a.crs):
        b = b.to_crs(a.crs)
    ga, gb = np.asarray(a.geometry.values), np.asarray(b.geometry.values)
    i, j = b.sindex.query(ga, predicate="intersects")
    area = shapely.area(shapely.intersection(ga[i], gb[j]))
    area_a, area_b = shapely.area(ga), shapely.area(gb)
    pairs = pd.DataFrame({
        "lsoa11cd": c11.to_numpy()[i], "lsoa21cd": c21.to_numpy()[j], "area_m2": area,
        "share_of_2011": area / area_a[i], "share_of_2021": area / area_b[j],
    })
    pairs = pairs[pairs["area_m2"] > 0]
    keep = np.maximum(pairs["share_of_2011"], pairs["share_of_2021"]) >= min_share
    # every LSOA keeps at least its largest overlap
    keep |= pairs.index.isin(pairs.groupby("lsoa11cd")["share_of_2011"].idxmax())
    keep |= pairs.index.isin(pairs.groupby("lsoa21cd")["share_of_2021"].idxmax())
    out = pairs[keep].sort_values(["lsoa11cd", "lsoa21cd"]).reset_index(drop=True)
    for codes, col in ((c11, "lsoa11cd"), (c21, "lsoa21cd")):
        lost = set(codes) - set(out[col])
        if lost:
            raise ValueError(f"{len(lost)} LSOAs overlap no LSOA of the other vintage, "
                             f"e.g. {sorted(lost)[:3]}")
    return out


# The bundled boundary files (read directly: geography does not import the loaders).
BUNDLED_LSOA = {
    "2011": "lsoa2011_gen20/london-2011-lsoa-gen20.shp.zip",
    "2021": "lsoa2021_gen20/london-2021-lsoa-gen20.shp.zip",
}


def bundled_lsoa(vintage: Vintage) -> gpd.GeoDataFrame:
    """The bundled London LSOA boundaries of ``vintage`` as read from the shapefile (raw
    attributes ``LSOA11CD``/``LSOA21CD``...); validated loading is
    :func:`vru.sources.boundaries.read_boundaries`."""
    from importlib import resources

    if vintage not in BUNDLED_LSOA:
        raise ValueError(f"unknown LSOA vintage {vintage!r}: '2011' or '2021'")
    root = Path(str(resources.files("vru.data").joinpath("bundled", "boundaries")))
    return gpd.read_file(root / BUNDLED_LSOA[vintage])


@functools.lru_cache(maxsize=1)
def _bundled_overlap() -> pd.DataFrame:
    return lsoa_2011_2021_overlap(bundled_lsoa("2011"), bundled_lsoa("2021"))


def bundled_overlap() -> pd.DataFrame:
    """:func:`lsoa_2011_2021_overlap` of the bundled London boundary sets (cached; a copy)."""
    return _bundled_overlap().copy()


def best_fit(overlap: pd.DataFrame, to: Vintage) -> pd.Series:
    """Map each LSOA code to the LSOA of vintage ``to`` holding the largest share of it.

    ``to="2021"``: index = 2011 codes, values = the 2021 LSOA containing the largest part of the
    2011 LSOA (largest ``share_of_2011``). ``to="2011"``: index = 2021 codes, values = the 2011
    LSOA containing the largest part of the 2021 LSOA. Ties go to the smaller code.
    """
    src, dst, share = _direction(to)
    best = (overlap.sort_values([src, share, dst], ascending=[True, False, True])
            .drop_duplicates(src).set_index(src)[dst])
    best.index.name = src
    return best.rename(dst)


def _direction(to: str) -> tuple[str, str, str]:
    if to == "2021":
        return "lsoa11cd", "lsoa21cd", "share_of_2011"
    if to == "2011":
        return "lsoa21cd", "lsoa11cd", "share_of_2021"
    raise ValueError(f"unknown LSOA vintage {to!r}: '2011' or '2021'")


def _convert(df: pd.DataFrame, code_col: str, value_cols: Sequence[str], to: Vintage,
             overlap: pd.DataFrame | None, method: str, by: Sequence[str]) -> pd.DataFrame:
    if overlap is None:
        overlap = _bundled_overlap()
    src, dst, share = _direction(to)
    value_cols, by = list(value_cols), list(by)
    missing = [c for c in [code_col, *value_cols, *by] if c not in df.columns]
    if missing:
        raise ValueError(f"columns not in the frame: {missing}")
    unknown = sorted(set(df[code_col].astype(str)) - set(overlap[src]))
    if unknown:
        raise ValueError(f"{len(unknown)} codes are not {src[4:6]} LSOAs of the overlap table, "
                         f"e.g. {unknown[:3]}")
    if df[value_cols].isna().any().any():
        raise ValueError("missing values in the columns to re-express: fill or drop them first")
    if method == "best_fit":
        weights = best_fit(overlap, to).rename(dst).reset_index().assign(weight=1.0)
    elif method == "apportion":
        weights = overlap[[src, dst, share]].copy()
        weights["weight"] = weights[share] / weights.groupby(src)[share].transform("sum")
        weights = weights[[src, dst, "weight"]]
    else:
        raise ValueError(f"unknown method {method!r}: 'apportion' or 'best_fit'")
    left = df[[*by, code_col, *value_cols]].copy()
    left[code_col] = left[code_col].astype(str)
    merged = left.merge(weights, left_on=code_col, right_on=src, how="inner")
    for c in value_cols:
        merged[c] = merged[c].astype("float64") * merged["weight"]
    out = (merged.groupby([*by, dst], sort=True, dropna=False)[value_cols].sum()
           .reset_index().rename(columns={dst: code_col}))
    return out[[*by, code_col, *value_cols]]


def to_2011(df: pd.DataFrame, code_col: str, value_cols: Sequence[str], *,
            overlap: pd.DataFrame | None = None, method: str = "apportion",
            by: Sequence[str] = ()) -> pd.DataFrame:
    """Re-express counts on 2021 LSOAs as counts on 2011 LSOAs.

    ``df[code_col]`` holds 2021 LSOA codes (unknown codes are refused), ``value_cols`` the counts
    (no missing values), ``by`` optional grouping columns kept as they are (e.g. month,
    category). ``method``: ``"apportion"`` (by area share, fractional results) or ``"best_fit"``
    (whole counts to the best-fit 2011 LSOA). ``overlap`` defaults to the bundled London overlap.
    Returns ``[*by, code_col, *value_cols]`` with 2011 codes in ``code_col``; per ``by`` group
    the totals equal those of the input.
    """
    return _convert(df, code_col, value_cols, "2011", overlap, method, by)


def to_2021(df: pd.DataFrame, code_col: str, value_cols: Sequence[str], *,
            overlap: pd.DataFrame | None = None, method: str = "apportion",
            by: Sequence[str] = ()) -> pd.DataFrame:
    """The reverse of :func:`to_2011`: counts on 2011 LSOAs re-expressed on 2021 LSOAs."""
    return _convert(df, code_col, value_cols, "2021", overlap, method, by)


def lsoa_to_borough(lsoa: pd.DataFrame, boroughs: gpd.GeoDataFrame | None = None) -> pd.Series:
    """Borough code of each LSOA, as a Series indexed by LSOA code.

    Without ``boroughs``: from the attributes of the LSOA boundaries (``code``/``parent_code`` of
    an ``areas`` frame, or ``LSOA11CD``/``LAD11CD``, ``LSOA21CD``/``LAD22CD`` of a raw file).
    With ``boroughs`` (a GeoDataFrame with ``code`` or ``LAD22CD``): spatially, the borough
    containing each LSOA's representative point (always inside the LSOA).
    """
    pairs = (("code", "parent_code"), ("LSOA11CD", "LAD11CD"), ("LSOA21CD", "LAD22CD"))
    found = [(c, par) for c, par in pairs if c in lsoa.columns]
    if not found:
        raise ValueError("no LSOA code column ('code', 'LSOA11CD' or 'LSOA21CD')")
    code, parent = found[0]
    codes = lsoa[code].astype(str)
    if boroughs is None:
        if parent not in lsoa.columns:
            raise ValueError(f"no {parent!r} column: pass the borough boundaries")
        out = pd.Series(lsoa[parent].astype(str).to_numpy(), index=codes.to_numpy())
    else:
        bcol = "LAD22CD" if "LAD22CD" in boroughs.columns else "code"
        b = boroughs[boroughs["level"] == "borough"] if "level" in boroughs.columns else boroughs
        pts = gpd.GeoDataFrame({"lsoa": codes.to_numpy()},
                               geometry=lsoa.geometry.representative_point().to_numpy(),
                               crs=lsoa.crs).to_crs(b.crs)
        j = gpd.sjoin(pts, b[[bcol, "geometry"]], predicate="within", how="left")
        j = j[~j.index.duplicated()]
        if j[bcol].isna().any():
            raise ValueError(f"LSOAs outside every borough, e.g. "
                             f"{j.loc[j[bcol].isna(), 'lsoa'].iloc[:3].tolist()}")
        out = pd.Series(j[bcol].astype(str).to_numpy(), index=j["lsoa"].to_numpy())
    out.index.name = "lsoa"
    return out.rename("borough")
