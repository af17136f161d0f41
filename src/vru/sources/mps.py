"""MPS recorded crime by borough and by ward, monthly counts.

Source: Metropolitan Police Service, London Datastore dataset "recorded_crime_summary"
(https://data.london.gov.uk/dataset/recorded_crime_summary), files "MPS Borough Level Crime
(Historical / most recent 24 months).csv" and "MPS Ward Level Crime (...).csv"; Open Government
Licence. Bundled copies: ``vru/data/bundled/mps_crime_borough`` and ``mps_crime_ward`` (see their
SOURCE.md).

Layout: one row per (major category, minor category, area); one column per month named ``YYYYMM``
holding a non-negative integer count.

- Borough files: ``MajorText, MinorText, LookUp_BoroughName | BoroughName, YYYYMM...``. The
  borough column is ``LookUp_BoroughName`` in the 2023 releases, ``BoroughName`` in later ones.
  The borough file published since 2026 (the London Datastore dataset "MPS Recorded Crime:
  Geographic Breakdown") names the same three columns ``Group, SubGroup, BOCU`` (BOCU: the
  borough name); it is read the same way, and errors name the file's own columns.
- Ward files: ``MajorText, MinorText, WardName, WardCode, LookUp_BoroughName, YYYYMM...`` (May-2022
  wards). Later releases of the ward "Historical" file add a ``Refreshed Date`` column (the date the
  extract was produced, not a property of any count): it is accepted and ignored.

Two classification vintages exist and are told apart by the categories present, never by the file
name: the *detailed* Title-Case scheme (12 major / 56 minor, with knife offences) -> taxonomy scheme
``mps_detailed``, and the *coarse* UPPER-CASE scheme (12 major / 32 minor in the 2023 releases;
the later releases' new names, below, are in the same scheme) -> ``mps_coarse``. A file mixing
them, or holding a category of neither, is refused naming the row and column, and the message says
how to map the category with a user category map (:func:`vru.taxonomy.read_user_map`); pairs a
user map gives are neutral in telling the vintage apart and are reported in ``Batch.notes`` (with
the map's name and SHA-256).

Releases since 2024 renamed categories within the coarse vintage; each name is mapped so that a
series reads as one (``docs/methods.md``, "MPS category names that change between releases"):
residential burglary is ``BURGLARY IN A DWELLING``, then ``BURGLARY - RESIDENTIAL`` (from February
2024), then ``RES BURGLARY OF A HOME`` + ``RES BURGLARY OF UNCONNECTED BUILDING``, all
``residential_burglary``. A file that publishes one harmonised category under successive names
(each ending before the next begins) gets a note naming them and their months (``vru ingest``
prints it).

Treatments (each reported in ``Batch.notes``):

- Minor categories that map to the same harmonised category (e.g. the four vehicle-offence minors)
  are summed, so that (area, month, category) is unique.
- Zero counts are not stored: the files list every month for every (category, area) row, mostly
  zeros at ward level; a missing (area, month, category) in the ``crime`` table means zero for the
  months the batch covers (given in the notes).
- Ward E05013570 (Heathrow Villages) is listed both under "Aviation Security (SO18)" (the MPS unit
  policing Heathrow) and under "Hillingdon": the two are summed into the one ward, whose parent is
  Hillingdon. Generally a ward listed under the aviation unit is given the real borough it is also
  listed under in the same file (or, for Heathrow Villages, Hillingdon); a ward listed under two
  real boroughs, or only under the aviation unit with no known borough, is refused.
- Borough files keep the MPS non-geographic units ("London Heathrow and London City Airports",
  "Unknown") under the pseudo-codes of :mod:`vru.geography.boroughs`, so London totals reconcile
  with the published figures.

Output: ``crime`` rows with source ``mps_borough_detailed``, ``mps_borough_coarse``,
``mps_ward_detailed`` or ``mps_ward_coarse``; ward files also give ``areas`` rows (level ``ward``,
vintage ``2022``, parent = borough code, no geometry).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from vru import taxonomy
from vru.errors import SourceError
from vru.geography.boroughs import AIRPORTS_CODE, borough_code, borough_name
from vru.schema import Batch, conform
from vru.sources import catalogue
from vru.sources._io import (
    base_name,
    check_columns,
    fail_first_cell,
    first_bad,
    header_fields,
    line_of,
    read_csv_strings,
    require_nonempty,
)

MAJOR = "MajorText"
MINOR = "MinorText"
BOROUGH_COLUMNS = ("LookUp_BoroughName", "BoroughName")
# the borough file since 2026: the same columns under other names
GROUP_COLUMNS = ("Group", "SubGroup", "BOCU")
WARD_COLUMNS = ("WardName", "WardCode", "LookUp_BoroughName")
IGNORED_COLUMNS = ("Refreshed Date",)

WARD_VINTAGE = "2022"

# Wards the MPS lists under its aviation unit, with the borough the ward lies in.
AVIATION_WARD_BOROUGHS = {"E05013570": "E09000017"}  # Heathrow Villages -> Hillingdon

VINTAGES = {
    "mps_detailed": ("detailed", "detailed Title-Case classification"),
    "mps_coarse": ("coarse", "coarse UPPER-CASE classification"),
}
# (level, vintage) -> the source key of the file (vru.sources.catalogue)
SOURCES = {
    ("borough", "detailed"): catalogue.MPS_BOROUGH_DETAILED,
    ("borough", "coarse"): catalogue.MPS_BOROUGH_COARSE,
    ("ward", "detailed"): catalogue.MPS_WARD_DETAILED,
    ("ward", "coarse"): catalogue.MPS_WARD_COARSE,
}

_MONTH_RE = re.compile(r"(\d{4})(\d{2})")
_COUNT_RE = r"\d{1,12}"
_WARD_CODE_RE = r"E05\d{6}"


_NAME_RE = re.compile(r"mps[ _-]*(borough|ward)[ _-]*(level[ _-]*)?crime", re.IGNORECASE)


def sniff(path: str | Path) -> bool:
    """True for a London Datastore MPS crime summary file: the header starts with ``MajorText``,
    or the file is named like the published files ("MPS Borough Level Crime (...).csv",
    ``mps_ward_crime_*.csv``). A file claimed by name but with a damaged header is then refused by
    :func:`load` naming the missing or unknown column, rather than as an unknown format."""
    try:
        h = header_fields(path)
    except (OSError, EOFError, ValueError):
        return False
    if h and h[0] == MAJOR:
        return True
    if tuple(h[:3]) == GROUP_COLUMNS:
        return True
    return bool(h) and bool(_NAME_RE.search(base_name(path)))


# knife offences and their children: only the detailed classification has them
_KNIFE = frozenset({taxonomy.KNIFE_OFFENCES, *taxonomy.descendants(taxonomy.KNIFE_OFFENCES)})


def load(path: str | Path, *, category_map: taxonomy.UserCategoryMap | None = None) -> Batch:
    """Read and validate a whole MPS borough or ward file; see the module docstring.

    ``category_map``: a user category map (:func:`vru.taxonomy.read_user_map`) for categories the
    platform does not know.
    """
    path = Path(path)
    require_nonempty(path)
    header = header_fields(path)
    level, id_cols, ignored, months = _parse_header(path, header)
    major_col, minor_col = id_cols[0], id_cols[1]

    df = read_csv_strings(path)
    if list(df.columns) != header:  # pandas renames nothing here: duplicates were refused above
        raise SourceError(path, f"header could not be read consistently: {list(df.columns)}",
                          row=1)
    if len(df) == 0:
        raise SourceError(path, "no data rows (header only)", row=2)

    _check_cells(path, df, id_cols, [c for c, _ in months], ignored)
    scheme = _vintage(path, df, major_col, minor_col, category_map)
    vintage_name, vintage_label = VINTAGES[scheme]
    source = SOURCES[(level, vintage_name)]
    notes = [f"classification: {vintage_label} (taxonomy scheme {scheme})"]
    if id_cols[:3] == list(GROUP_COLUMNS):
        notes.append("layout: Group, SubGroup, BOCU (the borough file published since 2026) read "
                     "as major category, minor category, borough")

    major = df[major_col].str.strip()
    minor = df[minor_col].str.strip()
    pairs = pd.DataFrame({"major": major, "minor": minor}).drop_duplicates()
    cat_of = {}
    by_user = []
    for a, b in zip(pairs["major"], pairs["minor"], strict=True):
        c = taxonomy.harmonise(scheme, a, b)
        if c is None and category_map is not None:
            c = category_map.harmonise(a, b)
            if scheme == "mps_coarse" and c in _KNIFE:
                line = category_map.lines.get((a, b))
                raise SourceError(category_map.path, (
                    f"maps ({a} / {b}) of {Path(path).name}, a file of the coarse MPS "
                    f"classification, to {c}: knife offences exist only where the source "
                    "publishes them (the detailed classification; docs/taxonomy.md), and a coarse "
                    "category mixes them with other offences: map it to its coarse parent (e.g. "
                    "possession_of_weapons)"), row=line, column="category")
            by_user.append(f"({a} / {b}) -> {c}")
        cat_of[(a, b)] = c
    if category_map is not None:
        used = (f"{len(by_user)} source categories mapped by it: {'; '.join(by_user)}" if by_user
                else "none of its mappings was needed by this file")
        notes.append(f"user category map {category_map.name} (sha256 {category_map.sha256}): "
                     f"{used}")
    joined = {f"{a}\x1f{b}": c for (a, b), c in cat_of.items()}
    category = (major + "\x1f" + minor).map(joined).astype("string")
    n_cats = len(set(cat_of.values()))
    if n_cats < len(cat_of):
        notes.append(f"{len(cat_of)} source (major, minor) categories map to {n_cats} harmonised "
                     "categories; counts of source categories sharing one were summed")

    bcol = id_cols[-1] if level == "ward" else id_cols[2]
    bcode = _borough_codes(path, df, bcol)

    areas = None
    if level == "borough":
        area = bcode
        _refuse_duplicates(path, df, [major_col, minor_col], area, bcol)
    else:
        ward = df["WardCode"].str.strip()
        i = first_bad(~ward.str.fullmatch(_WARD_CODE_RE))
        if i is not None:
            raise SourceError(path, f"not a ward code (E05 + 6 digits): {ward.iloc[i]!r}",
                              row=line_of(i), column="WardCode")
        _refuse_duplicates(path, df, [major_col, minor_col, "WardCode"], bcode, bcol)
        parent, ward_notes = _ward_parents(path, df, ward, bcode, bcol)
        notes.extend(ward_notes)
        area = ward
        areas = _ward_areas(path, df, ward, parent)

    counts = pd.DataFrame(df[[c for c, _ in months]].astype("int64").to_numpy())
    notes.extend(_renamed_series(major, minor, category, counts, months))
    wide = counts.groupby([area.to_numpy(), category.to_numpy()], sort=True).sum()

    values = wide.to_numpy()  # groups x months
    n_groups, n_months = values.shape
    stamps = np.array([m for _, m in months], dtype="datetime64[ns]")
    keep = values.ravel() != 0
    long = pd.DataFrame({
        "source": source,
        "level": level,
        "area_code": np.repeat(wide.index.get_level_values(0).to_numpy(), n_months)[keep],
        "month": np.tile(stamps, n_groups)[keep],
        "category": np.repeat(wide.index.get_level_values(1).to_numpy(), n_months)[keep],
        "count": values.ravel()[keep],
    })
    first, last = months[0][1], months[-1][1]
    notes.append(f"covers {first:%Y-%m}..{last:%Y-%m}; {int((~keep).sum())} zero counts not "
                 f"stored (a missing area/month/category means 0); {len(long)} non-zero counts")
    if ignored:
        notes.append(f"column(s) {ignored} ignored (extract metadata, not a count)")

    tables = {"crime": conform("crime", long)}
    if areas is not None:
        tables["areas"] = conform("areas", areas)
    return Batch(path=str(path), source=source, tables=tables, notes=notes)


def _renamed_series(major: pd.Series, minor: pd.Series, category: pd.Series, counts: pd.DataFrame,
                    months: list) -> list[str]:
    """A note for each harmonised category the file publishes under successive names (each name
    ends before the next begins, e.g. residential burglary: BURGLARY IN A DWELLING, then BURGLARY
    - RESIDENTIAL): the names and their months, read as one series."""
    key = (major + " / " + minor).to_numpy()
    by_pair = counts.groupby(key).sum()
    cat_of = dict(zip(key, category.to_numpy(), strict=True))
    spans: dict[str, list[tuple[int, int, str]]] = {}
    for pair, row in zip(by_pair.index, by_pair.to_numpy() != 0, strict=True):
        if row.any() and isinstance(cat_of[pair], str):
            idx = np.flatnonzero(row)
            spans.setdefault(cat_of[pair], []).append((int(idx[0]), int(idx[-1]), pair))
    out = []
    for cat, s in sorted(spans.items()):
        s.sort()
        if len(s) < 2 or not all(a[1] < b[0] for a, b in zip(s, s[1:], strict=False)):
            continue  # one name, or names published side by side (summed, noted elsewhere)
        names = "; ".join(f"{pair} ({months[a][1]:%Y-%m}..{months[b][1]:%Y-%m})" for a, b, pair in s)
        out.append(f"series renamed within the file: {cat} is published as {names}; read as one "
                   f"series {cat} (docs/taxonomy.md)")
    return out


# --- header -------------------------------------------------------------------------------------


def _parse_header(path: Path, header: list[str]):
    """(level, id columns, ignored columns, [(month column, Timestamp)]) or SourceError."""
    seen: set[str] = set()
    for c in header:
        if c in seen:
            raise SourceError(path, f"column {c!r} appears twice in the header", row=1, column=c)
        seen.add(c)
    if "WardCode" in header or "WardName" in header:
        level, id_cols = "ward", [MAJOR, MINOR, *WARD_COLUMNS]
    elif tuple(header[:3]) == GROUP_COLUMNS:
        level, id_cols = "borough", list(GROUP_COLUMNS)
    else:
        present = [c for c in BOROUGH_COLUMNS if c in header]
        if len(present) > 1:
            raise SourceError(path, f"both {BOROUGH_COLUMNS[0]!r} and {BOROUGH_COLUMNS[1]!r} "
                              "present: cannot tell which is the borough", row=1,
                              column=present[1])
        bcol = present[0] if present else BOROUGH_COLUMNS[0]
        level, id_cols = "borough", [MAJOR, MINOR, bcol]
    check_columns(path, header, id_cols, IGNORED_COLUMNS,
                  allow_extra_pattern=lambda c: True)

    ignored = [c for c in header if c in IGNORED_COLUMNS]
    months: list[tuple[str, pd.Timestamp]] = []
    for c in header:
        if c in id_cols or c in IGNORED_COLUMNS:
            continue
        m = _MONTH_RE.fullmatch(c)
        if not m or not (1 <= int(m.group(2)) <= 12):
            if c[:1].isdigit():
                raise SourceError(path, f"cannot parse month column {c!r}: expected YYYYMM "
                                  "with month 01-12", row=1, column=c)
            raise SourceError(path, f"unknown column {c!r} (not in any known vintage of the "
                              f"MPS {level} file)", row=1, column=c)
        stamp = pd.Timestamp(year=int(m.group(1)), month=int(m.group(2)), day=1)
        if months:
            prev = months[-1][1]
            if stamp != prev + pd.DateOffset(months=1):
                raise SourceError(path, f"month columns are not contiguous: {c} follows "
                                  f"{months[-1][0]}", row=1, column=c)
        months.append((c, stamp))
    if not months:
        raise SourceError(path, "no month (YYYYMM) columns", row=1)
    return level, id_cols, ignored, months


# --- cell checks --------------------------------------------------------------------------------


def _check_cells(path: Path, df: pd.DataFrame, id_cols: list[str], month_cols: list[str],
                 ignored: list[str]) -> None:
    """Refuse the first (in file order) missing id value or count that is not a non-negative
    integer. A row shorter than the header (a truncated file) reads as empty values (or NaN)."""
    cols = [c for c in df.columns if c in id_cols or c in month_cols or c in ignored]
    masks = []
    for c in cols:
        s = df[c]
        if c in month_cols:
            m = ~s.str.fullmatch(_COUNT_RE).fillna(False)
        elif c in id_cols:
            m = s.isna() | (s.str.strip() == "")
        else:  # ignored column: only a missing field (truncated row) matters
            m = s.isna()
        masks.append(m.to_numpy(dtype=bool))
    fail_first_cell(path, df, cols, masks, lambda v: f"count {v!r} is not a non-negative integer")


def _vintage(path: Path, df: pd.DataFrame, major_col: str = MAJOR, minor_col: str = MINOR,
             category_map: taxonomy.UserCategoryMap | None = None) -> str:
    """The taxonomy scheme of the file, decided from the categories present (pairs only the user
    category map knows fit either scheme)."""
    major = df[major_col].str.strip()
    minor = df[minor_col].str.strip()
    first = pd.DataFrame({"major": major, "minor": minor}).drop_duplicates()  # first occurrences
    schemes_of: list[tuple[int, str, str, set[str]]] = []
    for i, a, b in zip(first.index, first["major"], first["minor"], strict=True):
        s = {sch for sch in VINTAGES if taxonomy.harmonise(sch, a, b) is not None}
        if not s and category_map is not None and category_map.harmonise(a, b) is not None:
            s = set(VINTAGES)
        schemes_of.append((int(i), a, b, s))
    unknown = [t for t in schemes_of if not t[3]]
    if unknown:
        i, a, b, _ = min(unknown)
        known_major = any(a == m for sch in VINTAGES for m, _ in taxonomy.known(sch))
        raise SourceError(path, unknown_category_message(a, b, category_map, len(unknown)),
                          row=line_of(i), column=minor_col if known_major else major_col)
    common = set(VINTAGES)
    first_row = None
    for i, a, b, s in schemes_of:
        if first_row is None:
            first_row = (i, s)
        if not (common & s):
            j, s0 = first_row
            raise SourceError(
                path, f"file mixes MPS classification vintages: line {line_of(j)} is "
                f"{VINTAGES[sorted(s0)[0]][1]} but ({a!r}, {b!r}) here is "
                f"{VINTAGES[sorted(s)[0]][1]}", row=line_of(i), column=major_col)
        common &= s
    return sorted(common)[0]


def unknown_category_message(major: str, minor: str,
                             category_map: taxonomy.UserCategoryMap | None = None,
                             n_unknown: int = 1) -> str:
    """What an unknown category is refused with: the category, and how to map it yourself."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow([major, minor, "<category>"])
    where = (f" nor in the user category map {category_map.name}" if category_map is not None
             else "")
    more = (f" ({n_unknown} unknown categories in this file; this is the first)"
            if n_unknown > 1 else "")
    return (f"unknown category (major {major!r}, minor {minor!r}){more}: in neither the detailed "
            f"(Title-Case) nor the coarse (UPPER-CASE) MPS classification{where}. To load the "
            "file now, map it yourself: write a CSV with the header major,minor,category and the "
            f"line {buf.getvalue()} (category: a code of docs/taxonomy.md, e.g. "
            "residential_burglary), then run: vru ingest --category-map YOUR_MAP.csv FILE")


def _borough_codes(path: Path, df: pd.DataFrame, bcol: str) -> pd.Series:
    names = df[bcol].str.strip()
    uniq = names.drop_duplicates()
    code_of = {n: borough_code(n) for n in uniq}
    for i, n in zip(uniq.index, uniq, strict=True):
        if code_of[n] is None:
            raise SourceError(path, f"unknown borough {n!r}", row=line_of(i), column=bcol)
    return names.map(code_of).astype("string")


def _refuse_duplicates(path: Path, df: pd.DataFrame, cols: list[str], bcode: pd.Series,
                       bcol: str) -> None:
    key = df[cols].apply(lambda s: s.str.strip())
    key["_b"] = bcode.to_numpy()
    i = first_bad(key.duplicated())
    if i is not None:
        raise SourceError(path, f"duplicate row: same {cols} and borough as an earlier row",
                          row=line_of(i), column=bcol)


# --- wards --------------------------------------------------------------------------------------


def _ward_parents(path: Path, df: pd.DataFrame, ward: pd.Series, bcode: pd.Series, bcol: str):
    """Borough code per ward (dict) and notes; refuses wards whose borough is ambiguous."""
    pairs = pd.DataFrame({"ward": ward, "b": bcode}).drop_duplicates()
    notes = []
    parent: dict[str, str] = {}
    for w, grp in pairs.groupby("ward", sort=True):
        codes = list(grp["b"])
        real = [c for c in codes if c != AIRPORTS_CODE]
        if len(real) > 1:
            raise SourceError(path, f"ward {w} is listed under two boroughs: "
                              f"{[borough_name(c) for c in real]}",
                              row=line_of(int(grp.index[1])), column=bcol)
        if AIRPORTS_CODE in codes:
            known = AVIATION_WARD_BOROUGHS.get(w)
            if real and known and real[0] != known:
                raise SourceError(path, f"ward {w} is listed under {borough_name(real[0])}, "
                                  f"but it lies in {borough_name(known)}",
                                  row=line_of(int(grp.index[0])), column=bcol)
            target = real[0] if real else known
            if target is None:
                i = int(grp.index[grp["b"].to_numpy() == AIRPORTS_CODE][0])
                raise SourceError(path, f"ward {w} is listed only under the MPS aviation unit; "
                                  "its borough is unknown", row=line_of(i), column=bcol)
            n = int((ward.eq(w) & bcode.eq(AIRPORTS_CODE)).sum())
            notes.append(f"ward {w} ({df['WardName'][ward.eq(w)].iloc[0].strip()}): {n} rows "
                         f"listed under the MPS aviation unit were added to the ward, parent "
                         f"{borough_name(target)} ({target})")
            parent[w] = target
        else:
            parent[w] = real[0]
    return parent, notes


def _ward_areas(path: Path, df: pd.DataFrame, ward: pd.Series, parent: dict[str, str]):
    names = pd.DataFrame({"code": ward, "name": df["WardName"].str.strip()}).drop_duplicates()
    dup = names.duplicated("code")
    if dup.any():
        i = int(names.index[dup.to_numpy()][0])
        c = names["code"][i]
        first = names["name"][names["code"] == c].iloc[0]
        raise SourceError(path, f"ward {c} has two names: {first!r} and {names['name'][i]!r}",
                          row=line_of(i), column="WardName")
    names = names.sort_values("code")
    return pd.DataFrame({
        "level": "ward",
        "code": names["code"].to_numpy(),
        "vintage": WARD_VINTAGE,
        "name": names["name"].to_numpy(),
        "parent_code": names["code"].map(parent).to_numpy(),
        "geometry": None,
    })
