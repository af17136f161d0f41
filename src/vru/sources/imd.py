"""English Indices of Deprivation 2019 (IoD2019): LSOA, borough and ward measures.

Source: Ministry of Housing, Communities & Local Government, *English Indices of Deprivation 2019*,
in the Greater London Authority's London extracts (London Datastore, "Indices of Deprivation";
Open Government Licence v3.0). Formats read (see ``data/bundled/imd2019/SOURCE.md``):

- ``ID_2019_for_London.xlsx``: the workbook. Only the sheets "IMD 2019" (one row per 2011 LSOA)
  and "Borough summary measures" are read (openpyxl, read-only); the other sheets are ignored.
- the CSV export of the sheet "IMD 2019" (same 28 columns, values unchanged);
- the CSV export of the sheet "Borough summary measures" (12 columns; several header cells end
  with a trailing space in the original, which is accepted);
- ``London_wards_id2019_summary_measures.xlsx``: sheet "wards_id_summary", one row per 2018
  London ward (City of London merged into one unit, E05009297).

Everything goes to the ``deprivation`` table (long format), ``edition`` "IoD2019":

===================  ==========  ===============================================================
source               level       measures
===================  ==========  ===============================================================
``iod2019_lsoa``     ``lsoa``    ``<d>_score``, ``<d>_rank``, ``<d>_decile`` for each domain
                                 ``<d>`` in :data:`DOMAINS` (``imd`` is the overall index).
                                 Rank: national rank among England's 32,844 LSOAs, 1 = most
                                 deprived; decile: national decile, 1 = most deprived 10%.
``iod2019_borough``  ``borough`` ``imd_average_rank``, ``imd_average_score``,
                                 ``imd_proportion_lsoas_most_deprived_10pct``, ``imd_extent``,
                                 ``imd_local_concentration``, each with a ``..._rank`` among
                                 England's 317 local authorities (1 = most deprived).
``iod2019_ward``     ``ward``    see :data:`WARD_COLUMNS`: IMD extent / average rank / average
                                 score (with ranks among the London wards in the file, 1 = most
                                 deprived), worst LSOA's national rank, numbers of LSOAs in the
                                 worst 5/10/20/50% (population-apportioned, so fractional),
                                 income / employment / IDACI / IDAOPI scale (number of people),
                                 score (rate) and rank, and the IoD2019 population denominators
                                 (mid-2015, excluding prisoners) as ``pop_*``.
===================  ==========  ===============================================================

Validation: area codes must be GSS codes of the right kind (E01 LSOA, E05 ward, E06-E09 local
authority), every number must parse, ranks must be whole numbers within their range, deciles 1-10,
shares 0-1, and each LSOA decile must equal ``ceil(rank / 3284.4)`` (how MHCLG cut the 32,844
ranks into deciles; true for every London LSOA and domain). Unknown or missing columns are
refused. Most indicators refer to 2015-2017, not 2019 (see the workbook's notes).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from vru.errors import SourceError
from vru.geography.boroughs import BOROUGHS, borough_code
from vru.schema import Batch, conform
from vru.sources import catalogue
from vru.sources._io import base_name, check_columns, header_fields, read_csv_strings
from vru.sources._io import fail_first as _fail_if
from vru.sources._io import require_header as _header

EDITION = "IoD2019"
N_LSOAS_ENGLAND = 32_844  # LSOAs ranked by IoD2019
N_LADS_ENGLAND = 317  # local authority districts ranked by IoD2019

LSOA_SHEET = "IMD 2019"
BOROUGH_SHEET = "Borough summary measures"
WARD_SHEET = "wards_id_summary"

# measure prefix -> the domain's name in the IoD2019 column headers
DOMAINS: dict[str, str] = {
    "imd": "Index of Multiple Deprivation (IMD)",
    "income": "Income",
    "employment": "Employment",
    "education": "Education, Skills and Training",
    "health": "Health Deprivation and Disability",
    "crime": "Crime",
    "barriers": "Barriers to Housing and Services",
    "living_environment": "Living Environment",
}

# Value kinds and what they may hold.
SCORE, RANK, DECILE, SHARE, COUNT, AVG_RANK = "score", "rank", "decile", "share", "count", "avg"


@dataclass(frozen=True)
class _Layout:
    level: str
    source: str
    code_column: str
    code_pattern: str
    id_columns: tuple[str, ...]  # non-measure columns (code first)
    measures: dict[str, tuple[str, str]]  # header -> (measure, kind)
    rank_max: int | None  # for kind RANK; None = number of rows in the file


def _lsoa_measures() -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for key, label in DOMAINS.items():
        score = f"{label} Score (rate)" if key in ("income", "employment") else f"{label} Score"
        out[score] = (f"{key}_score", SCORE)
        out[f"{label} Rank (where 1 is most deprived)"] = (f"{key}_rank", RANK)
        out[f"{label} Decile (where 1 is most deprived 10% of LSOAs)"] = (f"{key}_decile", DECILE)
    return out


LSOA = _Layout(
    level="lsoa",
    source=f"{catalogue.IOD2019}_lsoa",
    code_column="LSOA code (2011)",
    code_pattern=r"E01\d{6}",
    id_columns=(
        "LSOA code (2011)",
        "LSOA name (2011)",
        "Local Authority District code (2019)",
        "Local Authority District name (2019)",
    ),
    measures=_lsoa_measures(),
    rank_max=N_LSOAS_ENGLAND,
)

# Header cells are matched after stripping surrounding spaces (the original has trailing spaces).
BOROUGH = _Layout(
    level="borough",
    source=f"{catalogue.IOD2019}_borough",
    code_column="Local Authority District code (2019)",
    code_pattern=r"E0[6-9]\d{6}",
    id_columns=("Local Authority District code (2019)", "Local Authority District name (2019)"),
    measures={
        "IMD - Average rank": ("imd_average_rank", AVG_RANK),
        "IMD - Rank of average rank": ("imd_average_rank_rank", RANK),
        "IMD - Average score": ("imd_average_score", SCORE),
        "IMD - Rank of average score": ("imd_average_score_rank", RANK),
        "IMD - Proportion of LSOAs in most deprived 10% nationally": (
            "imd_proportion_lsoas_most_deprived_10pct", SHARE),
        "IMD - Rank of proportion of LSOAs in most deprived 10% nationally": (
            "imd_proportion_lsoas_most_deprived_10pct_rank", RANK),
        "IMD 2019 - Extent": ("imd_extent", SHARE),
        "IMD 2019 - Rank of extent": ("imd_extent_rank", RANK),
        "IMD 2019 - Local concentration": ("imd_local_concentration", AVG_RANK),
        "IMD 2019 - Rank of local concentration": ("imd_local_concentration_rank", RANK),
    },
    rank_max=N_LADS_ENGLAND,
)

#: Ward workbook header -> (measure, kind). Ranks are among the wards of the file (London).
WARD_COLUMNS: dict[str, tuple[str, str]] = {
    "Population": ("pop_total", COUNT),
    "Working age population": ("pop_working_age", COUNT),
    "Child population": ("pop_children", COUNT),
    "16-59 population": ("pop_16_59", COUNT),
    "Old age population": ("pop_older", COUNT),
    "IMD Extent %": ("imd_extent", SHARE),
    "IMD Extent Rank": ("imd_extent_rank", RANK),
    "IMD Average rank": ("imd_average_rank", AVG_RANK),
    "IMD average rank rank": ("imd_average_rank_rank", RANK),
    "IMD average score": ("imd_average_score", SCORE),
    "IMD average score rank": ("imd_average_score_rank", RANK),
    "Rank of worst LSOA": ("imd_worst_lsoa_rank", AVG_RANK),
    "Worst LSOA: % of resident in ward": ("worst_lsoa_share_of_residents", SHARE),
    "Number of LSOAs": ("lsoa_count", COUNT),
    "# LSOAs in worst 5%": ("lsoas_in_worst_5pct", COUNT),
    "# LSOAs in worst 10%": ("lsoas_in_worst_10pct", COUNT),
    "# LSOAs in worst 20%": ("lsoas_in_worst_20pct", COUNT),
    "# LSOAs in worst 50%": ("lsoas_in_worst_50pct", COUNT),
    "Income scale": ("income_scale", COUNT),
    "Income score": ("income_score", SHARE),
    "Income rank": ("income_rank", RANK),
    "Employment scale": ("employment_scale", COUNT),
    "Employment score": ("employment_score", SHARE),
    "Employment rank": ("employment_rank", RANK),
    "IDACI scale": ("idaci_scale", COUNT),
    "IDACI score": ("idaci_score", SHARE),
    "IDACI score rank": ("idaci_rank", RANK),
    "IDAOPI scale": ("idaopi_scale", COUNT),
    "IDAOPI score": ("idaopi_score", SHARE),
    "IDAOPI score (rank)": ("idaopi_rank", RANK),
}

WARD = _Layout(
    level="ward",
    source=f"{catalogue.IOD2019}_ward",
    code_column="Ward Code",
    code_pattern=r"E05\d{6}",
    id_columns=("Ward Code", "Ward Name", "Borough", "Worst LSOA Code"),
    measures=WARD_COLUMNS,
    rank_max=None,
)


# ----------------------------------------------------------------------------------- sniffing

def _sheet_names(path: Path) -> list[str]:
    """Sheet names of an xlsx workbook (from xl/workbook.xml), [] if not a readable workbook."""
    try:
        with zipfile.ZipFile(path) as z:
            xml = z.read("xl/workbook.xml").decode("utf-8", errors="replace")
    except (OSError, KeyError, zipfile.BadZipFile):
        return []
    return [_unescape(n) for n in re.findall(r'<(?:\w+:)?sheet\b[^>]*\bname="([^"]*)"', xml)]


def _unescape(s: str) -> str:
    return (s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
            .replace("&apos;", "'").replace("&amp;", "&"))


def _csv_layout(fields: Sequence[str]) -> _Layout | None:
    names = [f.strip() for f in fields]
    if (names and names[0] == LSOA.code_column
            and "Index of Multiple Deprivation (IMD) Score" in names):
        return LSOA
    if names and names[0] == BOROUGH.code_column and "IMD - Average rank" in names:
        return BOROUGH
    return None


def sniff(path: str | Path) -> bool:
    """An IoD2019 London workbook (by sheet names) or a CSV export of its LSOA/borough sheet."""
    p = Path(path)
    name = base_name(p).lower()
    if name.endswith(".xlsx"):
        sheets = _sheet_names(p)
        return LSOA_SHEET in sheets or WARD_SHEET in sheets
    if name.endswith(".csv"):
        try:
            return _csv_layout(header_fields(p)) is not None
        except (OSError, EOFError, UnicodeDecodeError, ValueError):
            return False
    return False


# ------------------------------------------------------------------------------------ loading



def load(path: str | Path) -> Batch:
    """Load one IoD2019 file (workbook or CSV export) into ``deprivation`` rows."""
    p = Path(path)
    if base_name(p).lower().endswith(".xlsx"):
        return _load_workbook(p)
    fields = _header(p)
    if not fields:
        raise SourceError(p, "file is empty")
    layout = _csv_layout(fields)
    if layout is None:
        raise SourceError(p, f"not an IoD2019 LSOA or borough CSV export; header is {fields}",
                          row=1)
    raw = read_csv_strings(p)
    lines = np.arange(len(raw)) + 2
    df = _parse(p, layout, list(raw.columns), raw, lines)
    return Batch(path=str(p), source=layout.source, tables={"deprivation": df},
                 notes=_notes(layout, df))


def _load_workbook(p: Path) -> Batch:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many types for a corrupt/truncated zip
        raise SourceError(p, f"cannot read as an xlsx workbook (truncated or corrupt?): {e}"
                          ) from None
    try:
        sheets = wb.sheetnames
        if WARD_SHEET in sheets:
            df = _parse_sheet(p, wb, WARD_SHEET, WARD)
            return Batch(path=str(p), source=WARD.source, tables={"deprivation": df},
                         notes=_notes(WARD, df))
        if LSOA_SHEET not in sheets:
            raise SourceError(p, f"no sheet {LSOA_SHEET!r} or {WARD_SHEET!r}; sheets are {sheets}")
        frames = [_parse_sheet(p, wb, LSOA_SHEET, LSOA)]
        notes = _notes(LSOA, frames[0])
        if BOROUGH_SHEET in sheets:
            frames.append(_parse_sheet(p, wb, BOROUGH_SHEET, BOROUGH))
            notes += _notes(BOROUGH, frames[1])
        else:
            notes.append(f"sheet {BOROUGH_SHEET!r} absent: no borough summary rows")
        notes.append("other sheets of the workbook are not read")
    finally:
        wb.close()
    df = conform("deprivation", pd.concat(frames, ignore_index=True))
    return Batch(path=str(p), source=f"{catalogue.IOD2019}_london_workbook", tables={"deprivation": df},
                 notes=notes)


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v)  # refused later as not a number
    if isinstance(v, float):
        return repr(v)
    return str(v)


def _parse_sheet(p: Path, wb, sheet: str, layout: _Layout) -> pd.DataFrame:
    where = f"{p} [sheet {sheet!r}]"
    try:
        rows = wb[sheet].iter_rows(values_only=True)
        header_row = next(rows, None)
        if header_row is None:
            raise SourceError(where, "sheet is empty")
        header = [_cell(v) for v in header_row]
        while header and header[-1] == "":
            header.pop()
        data: list[list[str]] = []
        lines: list[int] = []
        for i, r in enumerate(rows, start=2):
            vals = [_cell(v) for v in r]
            if all(v == "" for v in vals):
                continue  # formatted but empty rows
            if any(v != "" for v in vals[len(header):]):
                col = len(header) + next(k for k, v in enumerate(vals[len(header):]) if v != "")
                raise SourceError(where, f"value in unnamed column {col + 1}", row=i)
            data.append((vals + [""] * len(header))[: len(header)])
            lines.append(i)
    except SourceError:
        raise
    except Exception as e:
        raise SourceError(where, f"cannot read sheet (truncated or corrupt?): {e}") from None
    raw = pd.DataFrame(data, columns=header, dtype="object")
    return _parse(where, layout, header, raw, np.asarray(lines, dtype=int))


def _notes(layout: _Layout, df: pd.DataFrame) -> list[str]:
    n = df["area_code"].nunique()
    return [f"{layout.source}: {n} {layout.level} areas x {df['measure'].nunique()} measures "
            f"(edition {EDITION})"]


def _numbers(where, raw: pd.Series, lines: np.ndarray, column: str) -> np.ndarray:
    s = raw.fillna("").astype(str).str.strip()
    empty = (s == "").to_numpy()
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise SourceError(where, "missing value (truncated row?)", row=int(lines[i]), column=column)
    vals = pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64")
    bad = ~np.isfinite(vals)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise SourceError(where, f"not a number: {s.iloc[i]!r}", row=int(lines[i]), column=column)
    return vals


def _parse(where, layout: _Layout, header: list[str], raw: pd.DataFrame,
           lines: np.ndarray) -> pd.DataFrame:
    """Validate a sheet (as strings, with the file line of each row) and melt it to long rows."""
    stripped = [h.strip() for h in header]
    if len(set(stripped)) != len(stripped):
        dup = next(h for h in stripped if stripped.count(h) > 1)
        raise SourceError(where, f"duplicate column {dup!r}", row=1, column=dup)
    raw = raw.copy()
    raw.columns = stripped
    check_columns(where, stripped, required=[*layout.id_columns, *layout.measures])
    if raw.empty:
        raise SourceError(where, "no data rows")
    blank = raw.fillna("").astype(str).apply(lambda c: c.str.strip() == "").all(axis=1).to_numpy()
    raw, lines = raw[~blank].reset_index(drop=True), lines[~blank]

    codes = raw[layout.code_column].fillna("").astype(str).str.strip()
    bad = ~codes.str.fullmatch(layout.code_pattern).to_numpy()
    _fail_if(where, bad, lines, layout.code_column, codes.to_numpy(),
             f"not a {layout.level} GSS code ({layout.code_pattern})")
    dup = codes.duplicated().to_numpy()
    _fail_if(where, dup, lines, layout.code_column, codes.to_numpy(), "duplicate area code")
    _check_ids(where, layout, raw, lines)

    n = len(raw)
    rank_max = layout.rank_max or n
    values: dict[str, np.ndarray] = {}
    for col, (measure, kind) in layout.measures.items():
        v = _numbers(where, raw[col], lines, col)
        if kind in (RANK, DECILE):
            top = 10 if kind == DECILE else rank_max
            _fail_if(where, (v != np.round(v)) | (v < 1) | (v > top), lines, col, v,
                     f"{kind} must be a whole number from 1 to {top}")
        elif kind == SHARE:
            _fail_if(where, (v < 0) | (v > 1), lines, col, v, "share must be between 0 and 1")
        elif kind == COUNT:
            _fail_if(where, v < 0, lines, col, v, "count must not be negative")
        elif kind == AVG_RANK:
            _fail_if(where, (v < 1) | (v > N_LSOAS_ENGLAND), lines, col, v,
                     f"average/LSOA rank must be between 1 and {N_LSOAS_ENGLAND}")
        values[measure] = v
    if layout is LSOA:
        width = N_LSOAS_ENGLAND / 10
        for key in DOMAINS:
            expected = np.ceil(values[f"{key}_rank"] / width)
            col = next(c for c, (m, _) in layout.measures.items() if m == f"{key}_decile")
            _fail_if(where, expected != values[f"{key}_decile"], lines, col,
                     values[f"{key}_decile"], "decile inconsistent with the rank "
                     f"(expected ceil(rank / {width:g}))")

    measures = list(values)
    out = pd.DataFrame({
        "source": layout.source,
        "edition": EDITION,
        "level": layout.level,
        "area_code": np.repeat(codes.to_numpy(dtype=object), len(measures)),
        "measure": np.tile(np.asarray(measures, dtype=object), n),
        "value": np.column_stack([values[m] for m in measures]).ravel(),
    })
    return conform("deprivation", out)


def _check_ids(where, layout: _Layout, raw: pd.DataFrame, lines: np.ndarray) -> None:
    """Check the non-measure columns: names present, parent codes/names known."""
    for col in layout.id_columns[1:]:
        s = raw[col].fillna("").astype(str).str.strip()
        _fail_if(where, (s == "").to_numpy(), lines, col, s.to_numpy(), "missing value")
    if layout is LSOA:
        lad = raw["Local Authority District code (2019)"].astype(str).str.strip()
        _fail_if(where, ~lad.str.fullmatch(r"E0[6-9]\d{6}").to_numpy(), lines,
                 "Local Authority District code (2019)", lad.to_numpy(),
                 "not a local authority GSS code")
    if layout is WARD:
        names = raw["Borough"].astype(str)
        known = np.array([borough_code(x) in BOROUGHS for x in names])
        _fail_if(where, ~known, lines, "Borough", names.to_numpy(), "unknown borough name")
        worst = raw["Worst LSOA Code"].astype(str).str.strip()
        _fail_if(where, ~worst.str.fullmatch(r"E01\d{6}").to_numpy(), lines, "Worst LSOA Code",
                 worst.to_numpy(), "not an LSOA GSS code")


def measure_names(level: str) -> list[str]:
    """The measure names this module emits for ``level`` ("lsoa", "borough" or "ward")."""
    layout = {"lsoa": LSOA, "borough": BOROUGH, "ward": WARD}[level]
    return [m for m, _ in layout.measures.values()]
