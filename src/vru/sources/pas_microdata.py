"""Respondent-level trust-and-confidence survey files (the VRU microdata CSV, version 1).

MOPAC does not publish Public Attitude Survey respondent records; a unit that holds survey
microdata (its own survey, or PAS records under a data-sharing agreement) converts it to this
documented layout, and the platform generates synthetic files in the same layout
(:mod:`vru.synthetic.pas_microdata`). Personal data never ships with the platform.

Layout (UTF-8 CSV, optionally gzipped, one row per respondent; see ``docs/methods-confidence.md``)::

    respondent_id,quarter,weight,borough,ethnicity,sex,age_band,<one column per measure>

- the first seven columns in exactly this order (that is how the format is recognised), then one
  or more measure columns named by the PAS measure codes of :data:`MEASURES`, in any order;
  any other column is refused;
- ``respondent_id``: letters, digits, ``_`` or ``-`` (at most 64), unique within a quarter; an
  arbitrary serial, never a name or address;
- ``quarter``: fieldwork quarter ``YYYY-Qn`` (e.g. ``2023-Q4``), stored as the quarter-end date;
- ``weight``: the survey weight, a positive number (``.`` decimal point);
- ``borough``: a London borough in any spelling :func:`vru.geography.borough_code` knows, or
  its GSS code;
- ``ethnicity``: ``Asian``, ``Black``, ``Mixed``, ``White``, ``Other``, ``Not stated`` (the
  ONS 2021 high-level groups);
- ``sex``: ``Female``, ``Male``, ``Not stated``;
- ``age_band``: ``16-24``, ``25-34``, ``35-44``, ``45-54``, ``55-64``, ``65+``, ``Not stated``;
- each measure column: agreement with the measure's statement on the five-point scale
  ``strongly agree``, ``tend to agree``, ``neither agree nor disagree``, ``tend to disagree``,
  ``strongly disagree``, or ``don't know``; empty if the question was not asked.

Letter case, surrounding spaces and curly apostrophes in category values are normalised; any
other unknown value is refused with a :class:`~vru.errors.SourceError` naming the file line and
column. A file loads completely or not at all.

Output: table ``survey_responses`` (long: one row per respondent and answered measure), source
``pas_microdata``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from vru.errors import SourceError
from vru.geography.boroughs import BOROUGHS, borough_code
from vru.schema import TABLES, Batch, conform
from vru.sources._io import csv_header_fields, line_of, read_csv_strings, require_header
from vru.sources._io import fail_first as _fail
from vru.sources.pas import MEASURES as PAS_MEASURES

SOURCE = "pas_microdata"
FORMAT = "vru PAS microdata CSV, version 1"
LEADING = ("respondent_id", "quarter", "weight", "borough", "ethnicity", "sex", "age_band")
MEASURES: tuple[str, ...] = tuple(PAS_MEASURES.values())

ETHNICITY = ("Asian", "Black", "Mixed", "White", "Other", "Not stated")
SEX = ("Female", "Male", "Not stated")
AGE_BANDS = ("16-24", "25-34", "35-44", "45-54", "55-64", "65+", "Not stated")
ANSWERS = ("strongly agree", "tend to agree", "neither agree nor disagree", "tend to disagree",
           "strongly disagree", "don't know")
#: Answers counted as agreeing (the published PAS measures are the share agreeing).
AGREE = ("strongly agree", "tend to agree")
DONT_KNOW = "don't know"

#: The canonical long table (:data:`vru.schema.TABLES` ``survey_responses``).
TABLE: list[tuple[str, str]] = TABLES["survey_responses"]
KEY = ("source", "period_end", "respondent_id", "measure")


def _norm(s: str) -> str:
    s = s.replace("\u2019", "'").replace("\u2018", "'")
    return re.sub(r"\s+", " ", s.strip()).lower()


def sniff(path: str | Path) -> bool:
    """A CSV whose header starts ``respondent_id,quarter,weight,borough,ethnicity,sex,age_band``."""
    fields = csv_header_fields(path)
    return tuple(f.strip() for f in fields[: len(LEADING)]) == LEADING


def _mapped(raw: pd.Series, fn) -> np.ndarray:
    """``fn`` applied to each distinct value (files repeat a handful of categories)."""
    table = {v: fn(v) for v in raw.unique()}
    return np.array([table[v] for v in raw], dtype=object)


def _category(p, raw: pd.Series, lines, column: str, allowed: tuple[str, ...]) -> np.ndarray:
    lookup = {_norm(a): a for a in allowed}
    got = _mapped(raw, lambda x: lookup.get(_norm(x)))
    _fail(p, [g is None for g in got], lines, column, raw.to_numpy(),
          f"unknown {column} (expected one of {list(allowed)})")
    return got


def _header(p: Path) -> list[str]:
    return [f.strip() for f in require_header(p)]


def _conform(df: pd.DataFrame) -> pd.DataFrame:
    return conform("survey_responses", df)


def load(path: str | Path) -> Batch:
    """Read and validate a whole microdata file into the long ``survey_responses`` table."""
    p = Path(path)
    header = _header(p)
    if tuple(header[: len(LEADING)]) != LEADING:
        raise SourceError(p, f"not a {FORMAT} file: the header must start {','.join(LEADING)}; "
                             f"it is {header[: len(LEADING)]}", row=1)
    extra = header[len(LEADING):]
    seen: set[str] = set()
    for col in extra:
        if col not in MEASURES:
            raise SourceError(p, f"unknown column {col!r} (measure columns are {list(MEASURES)})",
                              row=1, column=col)
        if col in seen:
            raise SourceError(p, f"column {col!r} appears twice", row=1, column=col)
        seen.add(col)
    if not extra:
        raise SourceError(p, "no measure columns: at least one of " + ", ".join(MEASURES), row=1)

    raw = read_csv_strings(p)
    if raw.empty:
        raise SourceError(p, "no respondents (header only)")
    raw.columns = header
    lines = np.array([line_of(i) for i in range(len(raw))])

    for col in LEADING:
        v = raw[col].str.strip()
        _fail(p, v == "", lines, col, v, "missing value (truncated row?)")

    rid = raw["respondent_id"].str.strip()
    _fail(p, ~rid.str.fullmatch(r"[A-Za-z0-9_-]{1,64}"), lines, "respondent_id", rid,
          "respondent_id must be 1-64 letters, digits, '_' or '-'")

    q = raw["quarter"].str.strip()
    m = q.str.fullmatch(r"(\d{4})-Q([1-4])")
    _fail(p, ~m, lines, "quarter", q, "not a quarter YYYY-Qn (e.g. 2023-Q4)")
    period_end = pd.PeriodIndex([s.replace("-", "") for s in q], freq="Q").end_time.normalize()

    wtext = raw["weight"].str.strip()
    _fail(p, ~wtext.str.fullmatch(r"\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?"), lines,
          "weight", wtext, "weight must be a positive number")
    weight = wtext.astype("float64").to_numpy()
    _fail(p, ~np.isfinite(weight) | (weight <= 0), lines, "weight", wtext,
          "weight must be a positive number")

    names = raw["borough"]
    codes = _mapped(names, borough_code)
    _fail(p, [c not in BOROUGHS for c in codes], lines, "borough", names.to_numpy(),
          "unknown London borough")

    eth = _category(p, raw["ethnicity"], lines, "ethnicity", ETHNICITY)
    sex = _category(p, raw["sex"], lines, "sex", SEX)
    age = _category(p, raw["age_band"], lines, "age_band", AGE_BANDS)

    answers = {}
    lookup = {_norm(a): a for a in ANSWERS}
    for col in extra:
        text = raw[col]
        got = _mapped(text, lambda x: None if _norm(x) == "" else lookup.get(_norm(x), "?"))
        _fail(p, got == "?", lines, col, text.to_numpy(),
              f"unknown answer (expected one of {list(ANSWERS)} or empty)")
        answers[col] = got

    key = pd.DataFrame({"q": period_end, "id": rid.to_numpy()})
    dup = key.duplicated().to_numpy()
    _fail(p, dup, lines, "respondent_id", rid, "respondent_id repeated within the quarter")

    base = pd.DataFrame({"source": SOURCE, "period_end": period_end, "respondent_id": rid.to_numpy(),
                         "area_code": codes, "weight": weight, "ethnicity": eth, "sex": sex,
                         "age_band": age})
    parts = []
    for col in extra:
        have = pd.notna(answers[col])
        parts.append(base[have].assign(measure=col, answer=answers[col][have]))
    long = pd.concat(parts, ignore_index=True)
    notes = [f"{FORMAT}: {len(raw)} respondents, {base['period_end'].nunique()} quarter(s), "
             f"{base['area_code'].nunique()} borough(s), measures {extra}; {len(long)} answers"]
    spellings = sorted(set(names) - {BOROUGHS[c] for c in codes} - set(BOROUGHS))
    if spellings:
        notes.append(f"borough spellings normalised: {spellings[:10]}"
                     + (" ..." if len(spellings) > 10 else ""))
    return Batch(path=str(p), source=SOURCE, tables={"survey_responses": _conform(long)}, notes=notes)


def read(path: str | Path) -> pd.DataFrame:
    """The validated long ``survey_responses`` table of a file (see :func:`load`)."""
    return load(path).tables["survey_responses"]
