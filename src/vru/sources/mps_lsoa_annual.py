"""Annual MPS recorded crime per 2011 LSOA, by major category: a third-party aggregation.

Source: James Millington (King's College London), github.com/jamesdamillington/london-data,
``data/crime/london-2011-2021-major-<category>.csv``, built by the notebook
``code/london-crime-2011-2020.ipynb`` from the MPS "LSOA Level Crime" files of the London Datastore
dataset "recorded_crime_summary" (Open Government Licence v2.0): monthly counts summed to calendar
years, joined to the 2011 LSOA list, City of London LSOAs dropped, LSOAs without crime set to 0.
Bundled copies: ``vru/data/bundled/mps_crime_lsoa_annual`` (see its SOURCE.md).

Layout: ``LSOA11CD, LSOA11NM, MSOA11CD, MSOA11NM, LAD11CD, LAD11NM, 2011, ..., 2021``; counts are
written as floats (``13.0``). The crime category is given only by the file name
(``...-major-violence.csv`` etc.); unknown names are refused.

**The 2020 column is wrong**: the notebook computes ``combined['2020'] = combined['2020_x'] +
combined['2020_x']``, adding the Historical-file part of 2020 to itself instead of adding the part
from the 24-month file (London Violence Against the Person 2020 = 247,802 here vs 220,113 in the MPS
borough file). 2020 is therefore stored as NaN, with a note; it is never used as a count.

The ``major-sexual`` file of the same set holds only zeros (the aggregation lost those counts) and
is refused rather than stored as zero crime.

Output: ``crime_annual`` rows, source ``mps_lsoa_annual_millington``, level ``lsoa`` (2011 codes).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from vru import taxonomy
from vru.errors import SourceError
from vru.geography.boroughs import borough_code
from vru.schema import Batch, conform
from vru.sources import catalogue
from vru.sources._io import (
    base_name,
    fail_first_cell,
    first_bad,
    header_fields,
    line_of,
    read_csv_strings,
    require_nonempty,
)

SOURCE = catalogue.MPS_LSOA_ANNUAL_MILLINGTON
ID_COLUMNS = ("LSOA11CD", "LSOA11NM", "MSOA11CD", "MSOA11NM", "LAD11CD", "LAD11NM")
BAD_YEAR = 2020

# File-name category -> MPS major category (taxonomy scheme "mps_major").
FILE_CATEGORIES = {
    "violence": "Violence Against the Person",
    "weapons": "Possession of Weapons",
    "robbery": "Robbery",
    "drugs": "Drug Offences",
    "public-order": "Public Order Offences",
}
REFUSED_CATEGORIES = {
    "sexual": "the major-sexual file of this aggregation holds only zeros in every year (the "
              "sexual-offence counts were lost in the aggregation); refused so that the zeros are "
              "not stored as counts",
}

_NAME_RE = re.compile(r"london-(\d{4})-(\d{4})-major-([a-z-]+)\.csv")
_YEAR_RE = re.compile(r"\d{4}")
_LSOA_RE = r"E01\d{6}"


def sniff(path: str | Path) -> bool:
    """True when the header is exactly the six 2011 LSOA/MSOA/LAD columns followed by year
    columns (what this aggregation writes; e.g. the population files share the first six columns
    but continue with age bands)."""
    try:
        h = header_fields(path)
    except (OSError, EOFError, ValueError):
        return False
    return (len(h) > len(ID_COLUMNS) and tuple(h[:len(ID_COLUMNS)]) == ID_COLUMNS
            and all(_YEAR_RE.fullmatch(c) for c in h[len(ID_COLUMNS):]))


def file_category(path: str | Path) -> str:
    """Harmonised category named by the file name, or SourceError."""
    name = base_name(path)
    m = _NAME_RE.fullmatch(name)
    if not m:
        raise SourceError(path, "cannot tell the crime category: the file name must be "
                          "london-YYYY-YYYY-major-<category>.csv with <category> one of "
                          f"{sorted(FILE_CATEGORIES)}")
    slug = m.group(3)
    if slug in REFUSED_CATEGORIES:
        raise SourceError(path, f"category {slug!r} refused: {REFUSED_CATEGORIES[slug]}")
    if slug not in FILE_CATEGORIES:
        raise SourceError(path, f"unknown category {slug!r} in the file name; known: "
                          f"{sorted(FILE_CATEGORIES)}")
    code = taxonomy.harmonise("mps_major", "", FILE_CATEGORIES[slug])
    if code is None:  # the shipped category_map.csv lacks a major category
        raise RuntimeError(f"category_map.csv has no mps_major entry {FILE_CATEGORIES[slug]!r}")
    return code


def load(path: str | Path) -> Batch:
    """Read and validate one annual LSOA file; 2020 is stored as NaN (see module docstring)."""
    path = Path(path)
    require_nonempty(path)
    category = file_category(path)
    header = header_fields(path)
    for i, c in enumerate(ID_COLUMNS):
        if i >= len(header) or header[i] != c:
            raise SourceError(path, f"expected column {c!r} at position {i + 1}; header is "
                              f"{header}", row=1, column=c)
    years_cols = header[len(ID_COLUMNS):]
    if not years_cols:
        raise SourceError(path, "no year columns", row=1)
    years: list[int] = []
    for c in years_cols:
        if not _YEAR_RE.fullmatch(c):
            raise SourceError(path, f"unknown column {c!r}: expected a year (YYYY)", row=1,
                              column=c)
        y = int(c)
        if years and y != years[-1] + 1:
            raise SourceError(path, f"year columns are not contiguous: {c} follows {years[-1]}",
                              row=1, column=c)
        years.append(y)

    df = read_csv_strings(path)
    if list(df.columns) != header:
        raise SourceError(path, f"header could not be read consistently: {list(df.columns)}",
                          row=1)
    if len(df) == 0:
        raise SourceError(path, "no data rows (header only)", row=2)

    values = _check_cells(path, df, years_cols)

    lsoa = df["LSOA11CD"].str.strip()
    i = first_bad(~lsoa.str.fullmatch(_LSOA_RE))
    if i is not None:
        raise SourceError(path, f"not a 2011 LSOA code (E01 + 6 digits): {lsoa.iloc[i]!r}",
                          row=line_of(i), column="LSOA11CD")
    i = first_bad(lsoa.duplicated())
    if i is not None:
        raise SourceError(path, f"LSOA {lsoa.iloc[i]} appears twice", row=line_of(i),
                          column="LSOA11CD")
    lad = df["LAD11CD"].str.strip()
    uniq = lad.drop_duplicates()
    for i, code in zip(uniq.index, uniq, strict=True):
        if borough_code(code) is None:
            raise SourceError(path, f"not a London borough code: {code!r}", row=line_of(i),
                              column="LAD11CD")

    notes = [f"category from the file name: {category}"]
    if BAD_YEAR in years:
        values[:, years.index(BAD_YEAR)] = np.nan
        notes.append(
            f"{BAD_YEAR} stored as NaN: the aggregation notebook (jamesdamillington/london-data, "
            "code/london-crime-2011-2020.ipynb) computes 2020 as the Historical-file part of 2020 "
            "added to itself (combined['2020_x'] + combined['2020_x']), so the published 2020 "
            "column is wrong (London Violence Against the Person 2020: 247,802 here vs 220,113 "
            "in the MPS borough file)")
    notes.append("City of London LSOAs are absent (policed by City of London Police); LSOAs "
                 "without recorded crime were filled with 0 by the aggregator")

    n, k = values.shape
    out = pd.DataFrame({
        "source": SOURCE,
        "level": "lsoa",
        "area_code": np.repeat(lsoa.to_numpy(), k),
        "year": np.tile(np.array(years, dtype="int64"), n),
        "category": category,
        "count": values.ravel(),
    })
    return Batch(path=str(path), source=SOURCE,
                 tables={"crime_annual": conform("crime_annual", out)}, notes=notes)


def _check_cells(path: Path, df: pd.DataFrame, years_cols: list[str]) -> np.ndarray:
    """Float matrix (rows x years) of counts, after refusing the first bad cell in file order:
    a missing id or value (truncated row), a non-number, a negative or a non-whole count."""
    cols = list(df.columns)
    masks = []
    parsed: dict[str, pd.Series] = {}
    for c in cols:
        s = df[c]
        if c in years_cols:
            v = pd.to_numeric(s.str.strip(), errors="coerce").astype("float64")
            parsed[c] = v
            m = v.isna() | (v < 0) | (v != np.floor(v)) | ~np.isfinite(v)
        else:
            m = s.isna() | (s.str.strip() == "")
        masks.append(m.to_numpy(dtype=bool))
    fail_first_cell(path, df, cols, masks, lambda v: f"{v!r} is not a non-negative whole count")
    return np.column_stack([parsed[c].to_numpy() for c in years_cols]).astype("float64")
