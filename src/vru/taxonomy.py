"""The one harmonised crime taxonomy.

Two tables ship with the package (``vru/data``) and are reproduced in ``docs/taxonomy.md``:

- ``taxonomy.csv``: the tree of harmonised categories (``code``, ``label``, ``parent``). A source
  row is stored at the *finest* category its source distinguishes; coarser figures are obtained by
  rolling up the tree (:func:`descendants`). Knife offences exist only where the source has them
  (the detailed Title-Case MPS vintage); they are never estimated.
- ``category_map.csv``: every (major, minor) category of each classification scheme -> category.
  Schemes: ``mps_detailed`` (MPS Title-Case, 12 major / 56 minor), ``mps_coarse`` (MPS UPPER-CASE,
  12 / 32), ``police_uk`` (the 14 data.police.uk crime types, plus the two pre-May-2013 types),
  ``mps_major`` (major categories only, used by the LSOA annual aggregation).

Matching is exact after stripping surrounding whitespace: an unknown category is an error for the
loader to report (with file, row and column), never a guess.

A *user category map* (:func:`read_user_map`, ``vru ingest --category-map FILE``) lets a user load
a file with a category the platform does not know yet, without waiting for a release: a small CSV
``major,minor,category`` (an optional ``note`` column is kept for the user and ignored) mapping the
file's own major and minor category text to a category code of ``taxonomy.csv``. It can only add
categories: a pair the platform already maps elsewhere is refused.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import pandas as pd

from vru.errors import SourceError

SCHEMES = ("mps_detailed", "mps_coarse", "police_uk", "mps_major")

# Categories the analysis names directly.
VIOLENCE_AGAINST_THE_PERSON = "violence_against_the_person"
VIOLENCE_WITH_INJURY = "violence_with_injury"
ROBBERY = "robbery"
SEXUAL_OFFENCES = "sexual_offences"
POSSESSION_OF_WEAPONS = "possession_of_weapons"
KNIFE_OFFENCES = "knife_offences"
VIOLENCE_WITHOUT_INJURY = "violence_without_injury"
HOMICIDE = "homicide"
STALKING_AND_HARASSMENT = "stalking_and_harassment"
PUBLIC_ORDER_OFFENCES = "public_order_offences"
DRUG_OFFENCES = "drug_offences"
#: Not a crime: the police.uk files record it beside crimes; no harm weight, no CHI value.
ANTI_SOCIAL_BEHAVIOUR = "anti_social_behaviour"

# The groups of categories the analysis uses: the one home of each.
#: Serious violence as City Hall counts it (borough, monthly, detailed MPS classification).
SERIOUS_VIOLENCE: tuple[str, ...] = (VIOLENCE_WITH_INJURY, ROBBERY, KNIFE_OFFENCES)
#: Serious violence from major categories only (the LSOA annual file, data.police.uk): the hot spot,
#: targeting and LSOA drivers analyses.
SERIOUS_VIOLENCE_MAJOR: tuple[str, ...] = (VIOLENCE_AGAINST_THE_PERSON, ROBBERY, POSSESSION_OF_WEAPONS)
#: The borough league table's measures (report and dashboard).
LEAGUE_MEASURES: tuple[str, ...] = (VIOLENCE_AGAINST_THE_PERSON, VIOLENCE_WITH_INJURY, ROBBERY,
                                    KNIFE_OFFENCES)
#: The London trend charts: title -> categories drawn together.
TREND_GROUPS: dict[str, tuple[str, ...]] = {
    "Violence against the person": (VIOLENCE_WITH_INJURY, VIOLENCE_WITHOUT_INJURY),
    "Other serious violence": (ROBBERY, SEXUAL_OFFENCES, POSSESSION_OF_WEAPONS, KNIFE_OFFENCES),
    "Homicide": (HOMICIDE,),
}


def _read(name: str) -> pd.DataFrame:
    with resources.files("vru.data").joinpath(name).open("r", encoding="utf-8") as f:
        return pd.read_csv(f, dtype=str, keep_default_na=False)


@cache
def categories() -> pd.DataFrame:
    """The taxonomy tree: one row per harmonised category (code, label, parent, note)."""
    df = _read("taxonomy.csv")
    codes = set(df["code"])
    bad = df[(df["parent"] != "") & ~df["parent"].isin(codes)]
    if len(bad):
        raise RuntimeError(f"taxonomy.csv: unknown parents {bad['parent'].tolist()}")
    return df


@cache
def category_map() -> pd.DataFrame:
    """Every (scheme, major, minor) -> category mapping."""
    df = _read("category_map.csv")
    unknown = set(df["category"]) - set(categories()["code"])
    if unknown:
        raise RuntimeError(f"category_map.csv: categories not in taxonomy.csv: {sorted(unknown)}")
    return df


@cache
def _lookup(scheme: str) -> dict[tuple[str, str], str]:
    if scheme not in SCHEMES:
        raise ValueError(f"unknown classification scheme {scheme!r}; known: {SCHEMES}")
    m = category_map()
    m = m[m["scheme"] == scheme]
    return {(a, b): c for a, b, c in zip(m["major"], m["minor"], m["category"], strict=True)}


def harmonise(scheme: str, major: str, minor: str) -> str | None:
    """Harmonised category for one source category, or ``None`` if the scheme does not know it."""
    return _lookup(scheme).get(((major or "").strip(), (minor or "").strip()))


def known(scheme: str) -> list[tuple[str, str]]:
    """The (major, minor) pairs a scheme knows, for error messages and docs."""
    return sorted(_lookup(scheme))


def label(code: str) -> str:
    row = categories().set_index("code").loc[code]
    return str(row["label"])


@cache
def descendants(code: str) -> frozenset[str]:
    """``code`` and every category below it in the tree (what a roll-up to ``code`` sums)."""
    cats = categories()
    if code not in set(cats["code"]):
        raise KeyError(f"unknown harmonised category {code!r}")
    children: dict[str, list[str]] = {}
    for c, p in zip(cats["code"], cats["parent"], strict=True):
        children.setdefault(p, []).append(c)
    out, stack = set(), [code]
    while stack:
        c = stack.pop()
        out.add(c)
        stack.extend(children.get(c, []))
    return frozenset(out)


def leaves() -> list[str]:
    """The categories with no category below them, in the order of ``taxonomy.csv``."""
    cats = categories()
    parents = set(cats["parent"])
    return [c for c in cats["code"] if c not in parents]


def ancestors(code: str) -> list[str]:
    """``code`` and its parents up to the root, nearest first."""
    parent = dict(zip(categories()["code"], categories()["parent"], strict=True))
    if code not in parent:
        raise KeyError(f"unknown harmonised category {code!r}")
    out = [code]
    while parent[out[-1]]:
        out.append(parent[out[-1]])
    return out


# --- user category maps --------------------------------------------------------------------------

USER_MAP_COLUMNS = ("major", "minor", "category")
USER_MAP_OPTIONAL = ("note",)
# the schemes a user map may extend (the MPS borough and ward files: categories with a major and a
# minor text)
USER_MAP_SCHEMES = ("mps_detailed", "mps_coarse")


@dataclass(frozen=True)
class UserCategoryMap:
    """A validated user category map: (major, minor) -> category, with where each pair came from."""

    path: str
    sha256: str
    pairs: dict[tuple[str, str], str] = field(default_factory=dict)
    lines: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return Path(self.path).name

    def harmonise(self, major: str, minor: str) -> str | None:
        return self.pairs.get(((major or "").strip(), (minor or "").strip()))


# The longest field a user category map may hold (MPS category names are under 100 characters).
USER_MAP_MAX_FIELD = 1_000


def read_user_map(path: str | Path) -> UserCategoryMap:
    """Read and validate a user category map (see the module docstring).

    Raises :class:`~vru.errors.SourceError` naming the file, line and column of the first problem:
    a missing, unknown or repeated column; a row with too few or too many fields; an empty value; a
    category that is not a code of ``taxonomy.csv``; a (major, minor) pair given twice; a pair the
    platform already maps to another category; no mapping at all.
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise SourceError(p, f"cannot read the category map: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise SourceError(p, f"not UTF-8 text ({e.reason})", row=line) from None
    # csv on the text itself (newline=""): a quoted field may span lines (the line numbers below
    # are where each record starts) and only CR/LF end a line (not U+2028 and the like)
    rows: list[list[str]] = []
    starts: list[int] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    line = 1
    too_long = (f"a field longer than {USER_MAP_MAX_FIELD:,} characters: a category map's fields are "
                "category names")
    try:
        for rec in reader:
            if any(len(f) > USER_MAP_MAX_FIELD for f in rec):
                raise SourceError(p, too_long, row=line)
            rows.append(rec)
            starts.append(line)
            line = reader.line_num + 1
    except csv.Error as e:
        # csv's own limit is process-wide (another module may have raised it): report either the same way
        message = too_long if "field larger than field limit" in str(e) else f"not a readable CSV: {e}"
        raise SourceError(p, message, row=line) from None
    if not rows or not any(c.strip() for c in rows[0]):
        raise SourceError(p, "empty category map: the first line must be the header "
                          f"{','.join(USER_MAP_COLUMNS)}", row=1)
    header = [c.strip() for c in rows[0]]
    for c in header:
        if header.count(c) > 1:
            raise SourceError(p, f"column {c!r} appears twice in the header", row=1, column=c)
        if c not in USER_MAP_COLUMNS + USER_MAP_OPTIONAL:
            raise SourceError(p, f"unknown column {c!r}; a category map has the columns "
                              f"{', '.join(USER_MAP_COLUMNS)} (and optionally note)", row=1,
                              column=c)
    for c in USER_MAP_COLUMNS:
        if c not in header:
            raise SourceError(p, f"missing column {c!r}; header is {header}", row=1, column=c)
    codes = set(categories()["code"])
    builtin = {s: _lookup(s) for s in USER_MAP_SCHEMES}
    pairs: dict[tuple[str, str], str] = {}
    lines: dict[tuple[str, str], int] = {}
    for i, rec in zip(starts[1:], rows[1:], strict=True):
        if not rec or not any(v.strip() for v in rec):
            continue  # blank line
        if len(rec) != len(header):
            col = header[len(rec)] if len(rec) < len(header) else None
            raise SourceError(p, f"line has {len(rec)} fields where the header has {len(header)}",
                              row=i, column=col)
        v = {c: rec[header.index(c)].strip() for c in USER_MAP_COLUMNS}
        for c in USER_MAP_COLUMNS:
            if not v[c]:
                raise SourceError(p, f"empty {c}", row=i, column=c)
        if v["category"] not in codes:
            raise SourceError(p, f"unknown platform category {v['category']!r}: use a code of "
                              "docs/taxonomy.md (e.g. residential_burglary)", row=i,
                              column="category")
        key = (v["major"], v["minor"])
        if key in pairs:
            raise SourceError(p, f"duplicate row: major {key[0]!r}, minor {key[1]!r} is already "
                              f"mapped on line {lines[key]}", row=i, column="minor")
        for scheme, known_pairs in builtin.items():
            have = known_pairs.get(key)
            if have is not None and have != v["category"]:
                raise SourceError(p, f"major {key[0]!r}, minor {key[1]!r} is already mapped by "
                                  f"the platform ({scheme}) to {have!r}: a category map can add "
                                  "categories, not change the platform's", row=i,
                                  column="category")
        pairs[key] = v["category"]
        lines[key] = i
    if not pairs:
        raise SourceError(p, "the category map has a header but no mappings", row=2)
    return UserCategoryMap(path=str(p), sha256=hashlib.sha256(raw).hexdigest(), pairs=pairs,
                           lines=lines)
