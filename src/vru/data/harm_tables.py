"""The harm weighting's tables, read and validated: the data :mod:`vru.analysis.harm` weighs with.

:mod:`vru.analysis.harm` reads nothing itself (the analysis layer is pure): its caller passes it a
:class:`~vru.model.harm.HarmTables`, the bundled one being :func:`bundled`, and, for the Cambridge Crime Harm
Index, a :class:`~vru.model.harm.ChiTable` from :func:`load_chi`. The tables:

- ``harm_offences.csv`` (``offence_code,category``): every Home Office offence code of the bundled CSS table
  -> the harmonised leaf it belongs to (:func:`offence_categories`);
- ``harm_representatives.csv`` (``category,offence_code,why``): per leaf, the offence whose weight stands for
  it, and why; an empty ``offence_code`` means the median of the leaf's offences (:func:`representatives`);
- the bundled ONS Crime Severity Score table (``bundled/crime_harm_weights``, :func:`css_table`);
- London's offences per leaf in one year, from the bundled MPS borough files (:func:`london_volumes`);
- a user's Cambridge Crime Harm Index table (:func:`load_chi`).

Every problem of a file raises :class:`~vru.errors.SourceError` naming the file, line and column.
"""

from __future__ import annotations

import csv
import functools
import gzip
import io
import math
import zlib
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from vru import taxonomy
from vru.errors import SourceError
from vru.model.harm import AGGREGATE_ROW, ChiTable, HarmTables

CSS_FILE = "ons_css_offence_weights__mopd_severity_codes.csv.gz"
#: The year of the default London volumes (:func:`london_volumes`, :func:`bundled`).
VOLUME_YEAR = 2019
#: The bundled MPS borough files the London volumes come from (vru/data/bundled/mps_crime_borough,
#: see its SOURCE.md), with their taxonomy scheme.
MPS_BOROUGH_FILES = (
    ("mps_borough_crime_historical_201004_202311.csv.gz", "mps_coarse"),
    ("mps_borough_crime_detailed_201004_202111.csv.gz", "mps_detailed"),
)
CHI_OPTIONAL = ("description", "offence", "note", "source")


def line(i: int) -> int:
    """File line of 0-based data row ``i`` (the header is line 1)."""
    return int(i) + 2


def read_table(path: str | Path) -> pd.DataFrame:
    """A CSV (gzip or not, UTF-8, LF or CRLF) with every value as a string; SourceError naming
    the file when it cannot be read."""
    try:
        raw = Path(path).read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise SourceError(path, f"cannot read file (truncated or corrupt?): {e}") from None
    if not raw.strip():
        raise SourceError(path, "file is empty")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise SourceError(path, f"not UTF-8 text: {e}") from None
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[],
                           skip_blank_lines=False)
    except pd.errors.ParserError as e:
        raise SourceError(path, f"cannot parse as CSV: {e}") from None


def check_header(path, cols: list[str], required: list[str], optional=()) -> None:
    for c in required:
        if c not in cols:
            raise SourceError(path, f"missing required column {c!r}; header is {cols}", row=1,
                              column=c)
    for c in cols:
        if c not in required and c not in optional:
            raise SourceError(path, f"unknown column {c!r}", row=1, column=c)


# --- the offence -> category tables ---------------------------------------------------------------


def _data(name: str) -> Path:
    return Path(str(resources.files("vru.data").joinpath(name)))


def _rows(name: str, columns: list[str]) -> list[tuple[int, dict[str, str]]]:
    path = _data(name)
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != columns:
            raise SourceError(path, f"the header must be {','.join(columns)}, not {reader.fieldnames}", row=1)
        return [(line(i), r) for i, r in enumerate(reader)]


@functools.cache
def _offence_categories() -> dict[str, str]:
    name = "harm_offences.csv"
    leaves = set(taxonomy.leaves())
    out: dict[str, str] = {}
    for n, r in _rows(name, ["offence_code", "category"]):
        code, cat = r["offence_code"].strip(), r["category"].strip()
        if not code or code in out:
            raise SourceError(_data(name), f"offence code {code!r} empty or given twice", row=n,
                              column="offence_code")
        if cat not in leaves:
            raise SourceError(_data(name), f"{cat!r} is not a leaf of the taxonomy (taxonomy.csv)", row=n,
                              column="category")
        out[code] = cat
    return out


def offence_categories() -> dict[str, str]:
    """Home Office offence code (``code_original`` of the bundled CSS table) -> harmonised leaf.

    Groups follow the ONS offence classification of police recorded crime (violence with/without
    injury, stalking and harassment, ...). Choices of ours: 92C "Other drug offences" goes with
    trafficking (the Home Office Counting Rules' "Possession of drugs" holds possession only);
    the causing-death-by-driving offences go to the coarse MPS vintage's "Death or serious injury
    caused by illegal driving"."""
    return dict(_offence_categories())


@functools.cache
def _representatives() -> dict[str, tuple[str | None, str]]:
    name = "harm_representatives.csv"
    offences = _offence_categories()
    out: dict[str, tuple[str | None, str]] = {}
    for n, r in _rows(name, ["category", "offence_code", "why"]):
        cat, code, why = r["category"].strip(), r["offence_code"].strip(), r["why"].strip()
        if cat in out or cat not in set(offences.values()):
            raise SourceError(_data(name), f"{cat!r} is given twice or no offence maps to it", row=n,
                              column="category")
        if code and offences.get(code) != cat:
            raise SourceError(_data(name), f"offence {code!r} is not one of {cat!r}'s (harm_offences.csv)",
                              row=n, column="offence_code")
        out[cat] = (code or None, why)
    return out


def representatives() -> dict[str, tuple[str | None, str]]:
    """Leaf -> (Home Office offence code whose weight represents the leaf, why). ``None``: the
    median of the leaf's offences (no single offence dominates)."""
    return dict(_representatives())


# --- the bundled CSS table -----------------------------------------------------------------------


def css_path() -> Path:
    return _data("bundled") / "crime_harm_weights" / CSS_FILE


@functools.cache
def _css_table() -> pd.DataFrame:
    path = css_path()
    df = read_table(path)
    cols = ["category_counts", "description", "code_severity", "code_original",
            "category_severity", "offence", "weight"]
    check_header(path, list(df.columns), cols)
    w = pd.to_numeric(df["weight"], errors="coerce")
    bad = np.flatnonzero(~np.isfinite(w.to_numpy(float)) | (w.to_numpy(float) <= 0))
    if len(bad):
        raise SourceError(path, f"weight {df['weight'].iloc[bad[0]]!r} is not a positive number",
                          row=line(bad[0]), column="weight")
    out = pd.DataFrame({
        "code": df["code_original"].str.strip(), "offence": df["description"].str.strip(),
        "group": df["category_counts"], "weight": w.to_numpy(float),
    })
    known = out["code"].isin(list(_offence_categories())) | (out["code"] == AGGREGATE_ROW)
    if not known.all():
        i = int(np.flatnonzero(~known.to_numpy())[0])
        raise SourceError(path, f"offence code {out['code'].iloc[i]!r} is not mapped to a "
                                "harmonised category", row=line(i), column="code_original")
    return out


def css_table() -> pd.DataFrame:
    """The bundled CSS table, one row per line of the file: ``code`` (Home Office offence code),
    ``offence``, ``group`` (Home Office offence group), ``weight``."""
    return _css_table().copy()


# --- London volumes --------------------------------------------------------------------------------


def _mps_year_totals(path: Path, scheme: str, year: int) -> pd.Series:
    """London total per harmonised category of one MPS borough file (rows = major, minor,
    borough; one column per month ``YYYYMM``) over the months of ``year``."""
    df = read_table(path)
    months = [c for c in df.columns if len(c) == 6 and c.isdigit() and c.startswith(str(year))]
    if len(months) != 12:
        raise ValueError(f"{path.name}: {len(months)} months of {year}, not 12")
    cats = [taxonomy.harmonise(scheme, a, b) for a, b in zip(df["MajorText"], df["MinorText"],
                                                              strict=True)]
    if any(c is None for c in cats):
        i = cats.index(None)
        raise SourceError(path, f"category {df['MinorText'].iloc[i]!r} not in the taxonomy",
                          row=line(i), column="MinorText")
    counts = df[months].apply(pd.to_numeric).sum(axis=1)
    return counts.groupby(pd.Series(cats, index=df.index)).sum()


@functools.cache
def _london_volumes(year: int) -> pd.Series:
    folder = _data("bundled") / "mps_crime_borough"
    leaves = set(taxonomy.leaves())
    out: dict[str, float] = {}
    for name, scheme in MPS_BOROUGH_FILES:
        totals = _mps_year_totals(folder / name, scheme, year)
        for c, v in totals.items():
            if c in leaves and c not in out and v > 0:
                out[c] = float(v)
    return pd.Series(out, name="count").sort_index()


def london_volumes(year: int) -> pd.Series:
    """London's recorded offences per harmonised leaf in calendar ``year`` (MPS, the bundled
    borough files :data:`MPS_BOROUGH_FILES`, every row summed, categories harmonised with
    :func:`vru.taxonomy.harmonise`): the coarse vintage for every leaf it has, the detailed
    vintage for the others (the knife and firearms offences). The City of London (City of
    London Police) is not included."""
    return _london_volumes(int(year)).copy()


def bundled(year: int = VOLUME_YEAR) -> HarmTables:
    """The bundled tables as :mod:`vru.analysis.harm` takes them: the offence mapping, the representatives,
    the CSS table and London's volumes of calendar ``year`` (each a fresh copy: changing one changes nothing
    else)."""
    return HarmTables(offences=offence_categories(), representatives=representatives(), css=css_table(),
                      volumes=london_volumes(year), volume_year=int(year))


# --- Cambridge Crime Harm Index ----------------------------------------------------------------


def load_chi(path: str | Path) -> ChiTable:
    """Read and validate a user-supplied Cambridge Crime Harm Index table (CSV, gzip or not).

    Header: ``days`` and exactly one key column, ``category`` (a harmonised category code, see
    docs/taxonomy.md) or ``offence_code`` (a Home Office offence code as in the bundled CSS
    table, e.g. ``10D``); optional text columns ``description``, ``offence``, ``note``,
    ``source``; any other column is refused. ``days``: the CHI value (days of imprisonment, a
    finite number >= 0). Keys must be known and unique. Any problem raises
    :class:`~vru.errors.SourceError` with the file line and column; nothing is returned unless
    the whole file is valid. Returns a :class:`~vru.model.harm.ChiTable`: ``key_kind`` (``"category"`` or
    ``"offence_code"``), ``table`` (``key``, the category or offence code, and ``days``) and ``source`` (the
    path).
    """
    df = read_table(path)
    cols = [c.strip() for c in df.columns]
    df.columns = cols
    keys = [c for c in ("category", "offence_code") if c in cols]
    if len(keys) != 1:
        raise SourceError(path, "the header must have exactly one of 'category' (harmonised "
                                f"category) or 'offence_code' (Home Office code); it has {cols}",
                          row=1, column=keys[1] if len(keys) == 2 else "category")
    key = keys[0]
    check_header(path, cols, [key, "days"], CHI_OPTIONAL)
    if df.empty:
        raise SourceError(path, "no rows: the CHI table is empty", row=2)
    k = df[key].str.strip()
    known = (set(taxonomy.categories()["code"]) if key == "category"
             else set(_offence_categories()))
    for i, v in enumerate(k):
        if v == "":
            raise SourceError(path, f"empty {key}", row=line(i), column=key)
        if v not in known:
            what = ("harmonised category (see docs/taxonomy.md)" if key == "category"
                    else "Home Office offence code of the bundled CSS table")
            raise SourceError(path, f"unknown {what}: {v!r}", row=line(i), column=key)
    dup = k.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise SourceError(path, f"{k.iloc[i]!r} appears twice", row=line(i), column=key)
    asb = k == taxonomy.ANTI_SOCIAL_BEHAVIOUR
    if key == "category" and asb.any():
        i = int(np.flatnonzero(asb.to_numpy())[0])
        raise SourceError(path, "anti-social behaviour is not a crime and has no CHI value",
                          row=line(i), column=key)
    days = []
    for i, v in enumerate(df["days"].str.strip()):
        try:
            d = float(v)
        except ValueError:
            d = math.nan
        if not math.isfinite(d) or d < 0:
            raise SourceError(path, f"days must be a number >= 0, not {v!r}", row=line(i),
                              column="days")
        days.append(d)
    return ChiTable(key_kind=key, table=pd.DataFrame({"key": k.to_numpy(), "days": days}), source=str(path))
