"""data.police.uk street files -> crime *points* (one row per crime, with coordinates), for grids.

The street-file loader (:mod:`vru.sources.police_uk`) aggregates crimes to LSOA x month x
category for the warehouse; hot spot analysis on regular grids (:mod:`vru.geography.grids`)
needs the points themselves. This reader is not a registered loader (it returns no warehouse
tables): it validates the files with the loader, then reads their coordinates.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from vru import taxonomy
from vru.geography.grids import to_bng
from vru.sources import police_uk
from vru.sources._io import read_csv_strings


def police_uk_points(paths: Sequence[str | Path]) -> pd.DataFrame:
    """data.police.uk street files -> one row per crime (or anti-social behaviour report) with
    ``month``, ``falls_within``, ``crime_id``, ``category`` (harmonised), ``lsoa_code``,
    ``longitude``, ``latitude``, ``x``, ``y`` (EPSG:27700; NaN for "No Location").

    The files are first validated by :func:`vru.sources.police_uk.load_many` (every check of the
    street loader; a bad line raises its :class:`~vru.errors.SourceError`). Then, exactly as the
    loader counts: a crime is one per (Falls within, Crime ID, Month), placed at the row with the
    lowest located LSOA code (a "No Location" row only if none is located; the first such row in
    file order for its coordinates and type); rows without a Crime ID (anti-social behaviour)
    each count. So the points per LSOA, month and category equal the loader's ``crime`` counts
    (tested on the bundled files; the loader takes a crime's lowest category should its rows
    ever disagree on the type, which has not been seen).
    """
    paths = [Path(p) for p in paths]
    if not paths:
        raise ValueError("no street files given")
    police_uk.load_many(paths)  # validation only: raises SourceError on any bad line
    parts = []
    for i, p in enumerate(paths):
        df = read_csv_strings(p)
        parts.append(pd.DataFrame({
            "file": i, "line": np.arange(len(df)), "crime_id": df["Crime ID"],
            "month": df["Month"], "falls_within": df["Falls within"],
            "longitude": pd.to_numeric(df["Longitude"].replace("", None)),
            "latitude": pd.to_numeric(df["Latitude"].replace("", None)),
            "lsoa_code": df["LSOA code"].replace("", None), "crime_type": df["Crime type"],
        }))
    rows = pd.concat(parts, ignore_index=True)
    rows["category"] = [taxonomy.harmonise("police_uk", "", t) for t in rows["crime_type"]]
    located = rows["lsoa_code"].notna()
    rows = rows.assign(_unlocated=~located, _lsoa=rows["lsoa_code"].fillna(""))
    has_id = rows["crime_id"] != ""
    with_id = rows[has_id].sort_values(["_unlocated", "_lsoa", "file", "line"], kind="stable")
    with_id = with_id.drop_duplicates(["falls_within", "crime_id", "month"], keep="first")
    out = pd.concat([with_id, rows[~has_id]]).sort_values(["file", "line"], kind="stable")
    x, y = to_bng(out["longitude"].to_numpy(float), out["latitude"].to_numpy(float))
    out = out.assign(x=x, y=y)
    cols = ["month", "falls_within", "crime_id", "category", "lsoa_code", "longitude",
            "latitude", "x", "y"]
    return out[cols].reset_index(drop=True)


__all__ = ["police_uk_points"]
