"""MOPAC Public Attitude Survey (PAS): trust and confidence measures by borough, per quarter.

Source: Mayor's Office for Policing and Crime, London Datastore dataset "MOPAC Surveys", workbook
"PAS_T&Cdashboard_to Q3 23-24.xlsx", sheet "Borough", as a CSV (``PAS_Dashboard_Borough.csv``,
from github.com/Dementjev1/Data-Challenge-2-JBG050); Open Government Licence. See
``data/bundled/mopac_pas_borough/SOURCE.md``.

Layout: ``Date,Survey,Borough,Measure,Proportion,MPS,,,,`` (four trailing unnamed columns).
Quirks handled explicitly:

- decimal commas: numbers are quoted strings such as ``"0,56"`` (a dot is accepted too);
- dates ``D/M/YYYY`` (``31/12/2014``, ``30/6/2023``): each must be a quarter-end date;
- borough spellings "City of Westminster", "Richmond upon Thames" / "Richmond Upon Thames"
  (normalised by :func:`vru.geography.borough_code`);
- the measure ``"Good Job" local`` carries literal double quotes;
- the four unnamed columns are empty except in one known row (31/12/2022, Barking and Dagenham,
  Trust MPS), whose 3rd and 4th unnamed cells hold ``Trust`` and ``0,71`` (spreadsheet residue):
  that residue is dropped with a note; any other non-empty unnamed cell is refused.

Output: ``survey`` rows, source ``mopac_pas``, level ``borough``, period_end = quarter-end date,
measure (code from :data:`MEASURES`; an unknown measure is refused), value = share of respondents
agreeing (0-1), london_value = the MPS (London-wide) value for the same measure and quarter.
Values are rolling survey estimates (about 100 interviews per borough per quarter).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from vru.errors import SourceError
from vru.geography.boroughs import BOROUGHS, borough_code
from vru.schema import Batch, conform
from vru.sources import catalogue
from vru.sources._io import csv_header_fields, read_csv_strings
from vru.sources._io import fail_first as _fail
from vru.sources._io import require_header as _header

SOURCE = catalogue.MOPAC_PAS
COLUMNS = ("Date", "Survey", "Borough", "Measure", "Proportion", "MPS")

#: Measure as published -> measure code.
MEASURES: dict[str, str] = {
    '"Good Job" local': "good_job_local",
    "Contact ward officer": "contact_ward_officer",
    "Informed local": "informed_local",
    "Listen to concerns": "listen_to_concerns",
    "Relied on to be there": "relied_on_to_be_there",
    "Treat everyone fairly": "treat_everyone_fairly",
    "Understand issues": "understand_issues",
    "Trust MPS": "trust_mps",
}

# The one known stray row: (Date, Borough, Measure) -> its four unnamed cells.
KNOWN_STRAY = {("31/12/2022", "Barking and Dagenham", "Trust MPS"): ("", "", "Trust", "0,71")}


def _measure_key(s: str) -> str:
    """Case, quotes and spacing do not distinguish measures ("Richmond Upon" shows case drifts)."""
    return re.sub(r"[^a-z]+", " ", s.lower()).strip()


_MEASURE_KEYS = {_measure_key(k): v for k, v in MEASURES.items()}


def sniff(path: str | Path) -> bool:
    """A CSV whose header starts ``Date,Survey,Borough,Measure,Proportion,MPS``."""
    fields = csv_header_fields(path)
    return tuple(fields[:6]) == COLUMNS




def _shares(p, raw: pd.Series, lines, column: str) -> np.ndarray:
    s = raw.fillna("").str.strip()
    _fail(p, s == "", lines, column, s, "missing value (truncated row?)")
    ok = s.str.fullmatch(r"-?\d+(?:[.,]\d+)?")
    _fail(p, ~ok, lines, column, s, "not a number (expected e.g. 0,56)")
    v = s.str.replace(",", ".", regex=False).astype("float64").to_numpy()
    _fail(p, (v < 0) | (v > 1), lines, column, v, "proportion must be between 0 and 1")
    return v


def _quarter_end(p, raw: pd.Series, lines) -> np.ndarray:
    s = raw.fillna("").str.strip()
    parts = s.str.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}")
    _fail(p, ~parts, lines, "Date", s, "not a date D/M/YYYY")
    out = []
    for i, text in enumerate(s):
        d, m, y = (int(x) for x in text.split("/"))
        try:
            when = date(y, m, d)
        except ValueError:
            raise SourceError(p, f"impossible date {text!r}", row=int(lines[i]),
                              column="Date") from None
        nxt = pd.Timestamp(when) + pd.Timedelta(days=1)
        if m not in (3, 6, 9, 12) or nxt.day != 1:
            raise SourceError(p, f"not a quarter-end date: {text!r}", row=int(lines[i]),
                              column="Date")
        out.append(pd.Timestamp(when))
    return np.asarray(out, dtype="datetime64[ns]")




def load(path: str | Path) -> Batch:
    """Read and validate the whole PAS borough file."""
    p = Path(path)
    header = _header(p)
    if not header:
        raise SourceError(p, "file is empty")
    for i, c in enumerate(COLUMNS):
        if i >= len(header) or header[i] != c:
            got = header[i] if i < len(header) else None
            raise SourceError(p, f"expected column {c!r} in position {i + 1}, found {got!r}; "
                              f"header is {header}", row=1, column=c)
    for c in header[len(COLUMNS):]:
        if c.strip():
            raise SourceError(p, f"unknown column {c!r}", row=1, column=c)
    raw = read_csv_strings(p)
    if raw.empty:
        raise SourceError(p, "no data rows")
    raw.columns = list(COLUMNS) + [f"unnamed column {i}" for i in
                                   range(len(COLUMNS) + 1, len(raw.columns) + 1)]
    lines = np.arange(len(raw)) + 2
    notes: list[str] = []

    extra = [c for c in raw.columns if c.startswith("unnamed")]
    if extra:
        cells = raw[extra].fillna("").apply(lambda c: c.str.strip())
        stray = (cells != "").any(axis=1).to_numpy()
        for i in np.flatnonzero(stray):
            key = (raw.at[i, "Date"].strip(), raw.at[i, "Borough"].strip(),
                   raw.at[i, "Measure"].strip())
            got = tuple(cells.iloc[i])
            if KNOWN_STRAY.get(key) == got:
                notes.append(f"line {lines[i]}: dropped known spreadsheet residue {got} in the "
                             "unnamed columns")
                continue
            known = KNOWN_STRAY.get(key, ("",) * len(got))
            col = extra[next(k for k, v in enumerate(got) if v != (known[k] if k < len(known)
                                                                     else ""))]
            msg = f"unexpected value {cells.at[i, col]!r} in an unnamed column"
            if key in KNOWN_STRAY:
                msg += f" (the known residue of this row is {KNOWN_STRAY[key]}, found {got})"
            raise SourceError(p, msg, row=int(lines[i]), column=col)

    survey = raw["Survey"].fillna("").str.strip()
    _fail(p, survey != "PAS", lines, "Survey", survey, "unknown survey (expected 'PAS')")
    names = raw["Borough"].fillna("")
    codes = np.array([borough_code(x) for x in names], dtype=object)
    _fail(p, [c not in BOROUGHS for c in codes], lines, "Borough", names, "unknown borough")
    measure_raw = raw["Measure"].fillna("")
    measures = np.array([_MEASURE_KEYS.get(_measure_key(x)) for x in measure_raw], dtype=object)
    _fail(p, [m is None for m in measures], lines, "Measure", measure_raw, "unknown measure")
    period = _quarter_end(p, raw["Date"], lines)
    value = _shares(p, raw["Proportion"], lines, "Proportion")
    london = _shares(p, raw["MPS"], lines, "MPS")

    df = pd.DataFrame({"source": SOURCE, "level": "borough", "area_code": codes,
                       "period_end": period, "measure": measures, "value": value,
                       "london_value": london})
    dup = df.duplicated(["area_code", "period_end", "measure"]).to_numpy()
    _fail(p, dup, lines, "Borough", names, "duplicate (Date, Borough, Measure)")
    spellings = sorted(set(names) - {BOROUGHS[c] for c in codes})
    if spellings:
        notes.append(f"borough spellings normalised: {spellings}")
    notes.append(f"{len(df)} rows: {df['area_code'].nunique()} boroughs, "
                 f"{df['period_end'].nunique()} quarters, {df['measure'].nunique()} measures")
    return Batch(path=str(p), source=SOURCE, tables={"survey": conform("survey", df)},
                 notes=notes)
