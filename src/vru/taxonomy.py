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
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import pandas as pd

SCHEMES = ("mps_detailed", "mps_coarse", "police_uk", "mps_major")

# Categories the analysis names directly.
VIOLENCE_AGAINST_THE_PERSON = "violence_against_the_person"
VIOLENCE_WITH_INJURY = "violence_with_injury"
ROBBERY = "robbery"
SEXUAL_OFFENCES = "sexual_offences"
POSSESSION_OF_WEAPONS = "possession_of_weapons"
KNIFE_OFFENCES = "knife_offences"


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


def ancestors(code: str) -> list[str]:
    """``code`` and its parents up to the root, nearest first."""
    parent = dict(zip(categories()["code"], categories()["parent"], strict=True))
    if code not in parent:
        raise KeyError(f"unknown harmonised category {code!r}")
    out = [code]
    while parent[out[-1]]:
        out.append(parent[out[-1]])
    return out
