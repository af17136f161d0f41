"""Claimant count per London LSOA (2011 LSOAs), as compiled by WPI Economics.

Source: DWP/ONS "Claimant count by sex and age" (Nomis dataset NM_162_1, persons, all ages 16+),
pulled from Nomis by WPI Economics for Trust for London's *London's Poverty Profile*
(github.com/WPI-Economics/LPP-PRESS-claimantcount-changes), with ONS mid-year LSOA population
aged 16-64 as denominator; Open Government Licence (underlying data). The files read here are the
DERIVED CSV exports of WPI's two ``.rds`` files (``data/bundled/claimant_count_lsoa/SOURCE.md``):

- ``..._oct2019_oct2020.csv``: October 2019 and October 2020 (population mid-2019);
- ``..._mar2019_mar2024_mar2025.csv``: March 2019, March 2024 and March 2025 (population mid-2020).

Layout: ``lsoa11cd``, one ``Claimant count (<Month YYYY>)`` and one ``Claimant count rate %
(<Month YYYY>)`` column per reference month, ``Date old`` / ``Date new`` / ``Date precovid`` (the
month labels, which must agree with the count columns), ``Population`` (16-64), ``Pop year``,
WPI's derived columns (ppt changes, change deciles, London IMD rank/decile: checked, not emitted),
``Neighbourhood name`` and ``Local Authority`` (checked against the borough list).

Output: ``unemployment`` rows, source ``wpi_claimant_count``, level ``lsoa``, period = the reference
month (first day), period_months 1, measures ``claimant_count`` (people), ``claimant_rate``
(claimants per 100 residents aged 16-64, WPI's rate, 1 dp) and ``population_16_64`` (the
denominator WPI used for that month: the mid-``Pop year`` estimate, repeated for each month of the
file, not an estimate for the month itself). Each rate is checked against
``round(100 * count / population, 1)``.

Caveats (verified, see SOURCE.md):

- **193 of London's 4,835 2011 LSOAs are missing**: WPI kept only codes E01000001..E01004765, so
  the 193 London LSOAs with codes E01032xxx-E01033xxx (created in 2011 boundary changes) are
  absent. They hold 310,448 of 6,036,893 residents aged 16-64 (5.1%); Tower Hamlets (24 LSOAs),
  Greenwich (22), Westminster (18), Hackney (16), Southwark and Newham (13) are worst hit. Borough
  totals summed from these rows are therefore under-counts; LSOA rates are unaffected.
- **Counts are rounded to the nearest 5** by Nomis (0 means 0-2), so small-area rates are noisy and
  borough sums of rounded counts differ slightly from Nomis's borough totals.
- Oct 2019 -> Oct 2020 is a year-on-year pandemic comparison, not Feb/Mar 2020 -> 2021; the claimant
  count includes Universal Credit claimants required to seek work (2020 rule changes inflate it).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from vru.errors import SourceError
from vru.geography.boroughs import BOROUGHS, borough_code
from vru.schema import Batch, conform
from vru.sources import catalogue
from vru.sources._io import check_columns, csv_header_fields, read_csv_strings
from vru.sources._io import fail_first as _fail

SOURCE = catalogue.WPI_CLAIMANT_COUNT
COUNT, RATE, POP = "claimant_count", "claimant_rate", "population_16_64"

_MONTH = r"([A-Z][a-z]+ \d{4})"
_COUNT_COL = re.compile(rf"Claimant count \({_MONTH}\)")
_RATE_COL = re.compile(rf"Claimant count rate % \({_MONTH}\)")
_CHANGE_COL = re.compile(rf"Claimant count rate ppt change \({_MONTH} - {_MONTH}\)")
DATE_COLUMNS = ("Date old", "Date new", "Date precovid")
REQUIRED = ("lsoa11cd", "Population", "Pop year", "Neighbourhood name", "Local Authority")
DECILE_COLUMNS = ("Change decile (1 = low)", "Post covid change decile (1 = low)",
                  "IMD decile London (1 is most deprived)")
IMD_RANK = "IMD rank London (1 is most deprived)"
OPTIONAL = (*DATE_COLUMNS, *DECILE_COLUMNS, IMD_RANK)


def sniff(path: str | Path) -> bool:
    """A CSV whose first column is ``lsoa11cd`` followed by ``Claimant count (...)`` columns."""
    fields = csv_header_fields(path)
    return bool(fields) and fields[0] == "lsoa11cd" and any(_COUNT_COL.fullmatch(f)
                                                            for f in fields)


def _month(p: Path, label: str, **where) -> pd.Timestamp:
    try:
        return pd.Timestamp(datetime.strptime(label.strip(), "%B %Y"))
    except ValueError:
        raise SourceError(p, f"not a month like 'October 2019': {label!r}", **where) from None




def _numbers(p, raw: pd.Series, lines, column: str) -> np.ndarray:
    s = raw.fillna("").str.strip()
    _fail(p, s == "", lines, column, s, "missing value (truncated row?)")
    v = pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64")
    _fail(p, ~np.isfinite(v), lines, column, s, "not a number")
    return v


def _whole(p, raw: pd.Series, lines, column: str, low: float, high: float) -> np.ndarray:
    v = _numbers(p, raw, lines, column)
    _fail(p, (v != np.round(v)) | (v < low) | (v > high), lines, column, v,
          f"must be a whole number from {low:g} to {high:g}")
    return v


def load(path: str | Path) -> Batch:
    """Read and validate a WPI claimant-count CSV (either layout)."""
    p = Path(path)
    raw = read_csv_strings(p)
    cols = list(raw.columns)
    counts = {m.group(1): c for c in cols if (m := _COUNT_COL.fullmatch(c))}
    rates = {m.group(1): c for c in cols if (m := _RATE_COL.fullmatch(c))}
    changes = [c for c in cols if _CHANGE_COL.fullmatch(c)]
    check_columns(p, cols, REQUIRED, [*OPTIONAL, *counts.values(), *rates.values(), *changes])
    if not counts:
        raise SourceError(p, "no 'Claimant count (<Month YYYY>)' column", row=1)
    for label, col in counts.items():
        if label not in rates:
            raise SourceError(p, f"no rate column for {col!r}", row=1, column=col)
    for label, col in rates.items():
        if label not in counts:
            raise SourceError(p, f"no count column for {col!r}", row=1, column=col)
    months = {label: _month(p, label, row=1, column=counts[label]) for label in counts}
    for c in changes:
        for label in _CHANGE_COL.fullmatch(c).groups():
            if label not in counts:
                raise SourceError(p, f"change between months with no count column: {c!r}",
                                  row=1, column=c)
    if raw.empty:
        raise SourceError(p, "no data rows")
    lines = np.arange(len(raw)) + 2

    codes = raw["lsoa11cd"].fillna("").str.strip()
    _fail(p, ~codes.str.fullmatch(r"E01\d{6}"), lines, "lsoa11cd", codes, "not an LSOA GSS code")
    _fail(p, codes.duplicated(), lines, "lsoa11cd", codes, "duplicate LSOA code")
    names = raw["Neighbourhood name"].fillna("").str.strip()
    _fail(p, names == "", lines, "Neighbourhood name", names, "missing value")
    la = raw["Local Authority"].fillna("")
    _fail(p, [borough_code(x) not in BOROUGHS for x in la], lines, "Local Authority", la,
          "unknown borough name")

    dated = set()
    for col in DATE_COLUMNS:
        if col not in cols:
            continue
        s = raw[col].fillna("").str.strip()
        first = s.iloc[0]
        _fail(p, s != first, lines, col, s, f"month label differs from {first!r} (first row)")
        if first not in counts:
            raise SourceError(p, f"month {first!r} has no 'Claimant count ({first})' column",
                              row=2, column=col)
        dated.add(first)
    if dated and dated != set(counts):
        raise SourceError(p, f"months in the date columns {sorted(dated)} differ from the count "
                          f"columns {sorted(counts)}", row=1)

    pop = _whole(p, raw["Population"], lines, "Population", 1, 1e7)
    pop_year = _whole(p, raw["Pop year"], lines, "Pop year", 1990, 2100)
    _fail(p, pop_year != pop_year[0], lines, "Pop year", pop_year, "population year differs")
    for col in DECILE_COLUMNS:
        if col in cols:
            _whole(p, raw[col], lines, col, 1, 10)
    if IMD_RANK in cols:
        _whole(p, raw[IMD_RANK], lines, IMD_RANK, 1, 1e6)
    for col in changes:
        _numbers(p, raw[col], lines, col)

    frames = []
    not_five = 0
    for label, month in sorted(months.items(), key=lambda kv: kv[1]):
        n = _whole(p, raw[counts[label]], lines, counts[label], 0, 1e7)
        r = _numbers(p, raw[rates[label]], lines, rates[label])
        expected = np.round(100 * n / pop, 1)
        _fail(p, np.abs(r - expected) > 0.05 + 1e-9, lines, rates[label], r,
              "rate differs from round(100 * count / Population, 1)")
        not_five += int((n % 5 != 0).sum())
        for measure, values in ((COUNT, n), (RATE, r), (POP, pop)):
            frames.append(pd.DataFrame({"area_code": codes.to_numpy(), "period": month,
                                        "measure": measure, "value": values}))
    df = pd.concat(frames, ignore_index=True)
    df["source"], df["level"], df["period_months"] = SOURCE, "lsoa", 1
    df = conform("unemployment", df)
    notes = [
        f"{len(codes)} LSOAs x months {', '.join(sorted(counts, key=months.get))}; "
        f"population_16_64 is the mid-{int(pop_year[0])} estimate WPI used as denominator",
        "counts are Nomis-rounded to the nearest 5"
        + (f" ({not_five} values are not multiples of 5)" if not_five else ""),
    ]
    if not (codes >= "E01032000").any():
        notes.append("coverage: no LSOA coded E01032xxx or later (WPI dropped London's 193 such "
                     "LSOAs): borough sums of these rows are under-counts")
    return Batch(path=str(p), source=SOURCE, tables={"unemployment": df}, notes=notes)
