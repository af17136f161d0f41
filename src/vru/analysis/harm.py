"""Harm weighting of crime counts per harmonised category: counts, ONS Crime Severity Score, or a
user-supplied Cambridge Crime Harm Index table. The choice is always explicit.

Schemes (``scheme=``):

- ``"count"``: every offence weighs 1.
- ``"css"``: the **ONS Crime Severity Score** weights (Office for National Statistics, "Research
  outputs: Developing a Crime Severity Score for England and Wales using data on crimes recorded
  by the police", 2016; "Crime Severity Score (Experimental Statistics)" data tool,
  ``cssdatatool.xls``, sheet "List of weights"). Each Home Office offence's weight is the average
  severity of the sentences it draws, in days of custody (non-custodial sentences converted to
  custody-equivalent days), so the weights measure sentencing severity, not victim harm. The
  bundled copy (``vru/data/bundled/crime_harm_weights``, see its SOURCE.md) is a derived
  third-party table of the 2020 edition (the CriMS project, University of Leeds), 134 offences
  keyed by Home Office offence code, not the full ONS list.
- ``"chi"``: the **Cambridge Crime Harm Index** (Sherman, Neyroud & Neyroud 2016, "The Cambridge
  Crime Harm Index: measuring total harm from crime based on sentencing guidelines", *Policing*
  10(3): 171-183): days of imprisonment the sentencing guidelines give a first-time offender as
  the starting point for each offence. **No CHI table ships with the platform** (none could be
  found as data; see the SOURCE.md above): supply one with ``chi=`` (a path or a DataFrame, read
  and validated by :func:`load_chi`). Without it, ``"chi"`` raises :class:`MissingWeightsError`.

From offences to harmonised categories (:func:`offence_weights`, :func:`category_weights`):

1. Every bundled offence is mapped to one *leaf* of the taxonomy (:data:`OFFENCE_CATEGORY`,
   keyed by the Home Office offence code; e.g. 10D "Possession of article with blade or point"
   -> ``possession_of_article_with_blade_or_point``). The aggregate "Homicide" row
   (code ``1/4.1/4.10/4.2``) repeats its parts and is left out.
2. A leaf's weight would ideally be the mean of its offences' weights weighted by the national
   number of each offence; those volumes are not bundled. ``aggregate=`` says what is done
   instead: ``"representative"`` (default) takes the weight of one named offence per leaf
   (:data:`REPRESENTATIVE`: the offence that makes up the bulk of the category, e.g. assault
   without injury for violence without injury; the median where no offence dominates:
   miscellaneous crimes against society), ``"median"`` or ``"mean"`` the unweighted median or
   mean of the leaf's offences. The median and the mean give every rare offence the same say as
   the common one (violence without injury: median 282.6, mean 612.2, but assault without injury,
   the bulk of it, weighs 13.5), so they are shown for comparison, not recommended.
3. A *parent* category's weight (e.g. ``violence_against_the_person``, all the LSOA file has) is
   the mean of its leaves' weights weighted by their **London volumes**: by default the MPS
   recorded crime of calendar year 2019 (:func:`london_volumes`, from the bundled borough files:
   the coarse vintage for every leaf it has, which separates stalking and harassment from
   violence without injury, and the detailed vintage for the leaves only it has, the knife and
   firearms offences); pass ``volumes=`` to use others (e.g. the study area's own counts).

Caveats stated with the results: the CSS weights are experimental statistics of one edition
(2020); the representative-offence rule approximates a volume-weighted mean; the MPS detailed
vintage counts stalking and harassment inside violence without injury (London 2019: 38% of it),
so weighting its ``violence_without_injury`` at the leaf weight (assault without injury)
under-weights it; :func:`detailed_vintage_overrides` gives the weight of the mixture.

:func:`harm_weighted` applies a scheme to a crime table (``category``, ``count``, any keys);
:func:`per_population` turns counts or harm into rates per residents. The generated table of
weights per category is in ``docs/methods-harm.md`` (:func:`weights_markdown`).
"""

from __future__ import annotations

import functools
import gzip
import io
import math
import zlib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from vru import taxonomy
from vru.errors import SourceError, VRUError

SCHEMES = ("count", "css", "chi")
AGGREGATES = ("representative", "median", "mean")
CSS_EDITION = "ONS Crime Severity Score weights, 2020 edition (CriMS third-party copy)"
CSS_FILE = "ons_css_offence_weights__mopd_severity_codes.csv.gz"
VOLUME_YEAR = 2019
_AGGREGATE_ROW = "1/4.1/4.10/4.2"


class MissingWeightsError(VRUError, ValueError):
    """A weighting scheme was asked for without the table it needs, or the data hold categories
    the weights do not cover."""


def _codes(*codes: str) -> dict[str, str]:
    return dict.fromkeys(codes)


#: Home Office offence code (``code_original`` of the bundled CSS table) -> harmonised leaf.
#: Groups follow the ONS offence classification of police recorded crime (violence with/without
#: injury, stalking and harassment, ...). Choices of ours: 92C "Other drug offences" goes with
#: trafficking (the Home Office Counting Rules' "Possession of drugs" holds possession only);
#: the causing-death-by-driving offences go to ``death_or_serious_injury_by_driving`` (the coarse
#: MPS vintage's "Death or serious injury caused by illegal driving").
OFFENCE_CATEGORY: dict[str, str] = {
    **{c: "homicide" for c in ("1", "4.1", "4.2")},
    **{c: "violence_with_injury" for c in ("2", "4.3", "4.7", "5D", "5E", "8N", "8P", "8S")},
    **{c: "violence_without_injury" for c in ("3A", "3B", "11A", "13", "14", "36", "104", "105A",
                                              "105B", "106")},
    **{c: "stalking_and_harassment" for c in ("8L", "8M", "8Q", "8R")},
    **{c: "death_or_serious_injury_by_driving" for c in ("4.4", "4.6", "4.8", "4.9", "37.1")},
    **{c: "rape" for c in ("19C", "19D", "19E", "19F", "19G", "19H", "19J", "19K")},
    **{c: "other_sexual_offences" for c in ("17A", "17B", "20A", "20B", "21", "22A", "22B", "23",
                                            "70", "71", "72", "73", "88A", "88C", "88D", "88E")},
    "34A": "robbery_of_business_property",
    "34B": "robbery_of_personal_property",
    "10D": "possession_of_article_with_blade_or_point",
    "90": "other_knife_offences",
    "10B": "possession_of_firearms_offences",
    "10A": "possession_of_firearm_with_intent",
    "81": "other_firearm_offences",
    "10C": "possession_of_other_weapon",
    **{c: "public_order_offences" for c in ("9A", "9B", "62A", "66")},
    **{c: "residential_burglary" for c in ("28A", "28B", "28C", "28D", "28E", "28F", "28G", "28H",
                                           "29", "29A")},
    **{c: "business_and_community_burglary" for c in ("30A", "30B", "30C", "30D", "31", "31A")},
    "44": "bicycle_theft",
    "46": "shoplifting",
    "39": "theft_from_the_person",
    **{c: "other_theft" for c in ("35", "40", "41", "42", "43", "47", "49", "49A")},
    **{c: "vehicle_offences" for c in ("37.2", "45", "48", "126")},
    **{c: "arson" for c in ("56A", "56B")},
    **{c: "criminal_damage" for c in ("58A", "58B", "58C", "58D", "58J")},
    **{c: "drug_trafficking" for c in ("92A", "92C")},
    **{c: "possession_of_drugs" for c in ("92D", "92E")},
    **{c: "miscellaneous_crimes_against_society" for c in (
        "15", "24", "26", "27", "33", "33A", "38", "54", "59", "60", "61", "61A", "67", "69", "76",
        "79", "80", "83", "86", "95", "96", "99", "802", "814")},
}

#: Leaf -> (Home Office offence code whose weight represents the leaf, why). ``None``: the
#: median of the leaf's offences (no single offence dominates).
REPRESENTATIVE: dict[str, tuple[str | None, str]] = {
    "homicide": ("1", "every homicide offence has the same weight"),
    "violence_with_injury": ("8N", "assault with injury is the bulk of violence with injury"),
    "violence_without_injury": ("105A", "common assault (assault without injury) is the bulk of "
                                        "violence without injury"),
    "stalking_and_harassment": ("8L", "harassment, the category's namesake (median of the four "
                                      "offences 36.8)"),
    "death_or_serious_injury_by_driving": ("4.4", "causing death or serious injury by dangerous "
                                                  "driving, the only offence with serious injury"),
    "rape": ("19C", "rape of a female aged 16 or over is the bulk of rape"),
    "other_sexual_offences": ("20A", "sexual assault on a female aged 13 or over, the largest "
                                     "other sexual offence"),
    "robbery_of_business_property": ("34A", "the only offence"),
    "robbery_of_personal_property": ("34B", "the only offence"),
    "possession_of_article_with_blade_or_point": ("10D", "the only offence"),
    "other_knife_offences": ("90", "the only offence"),
    "possession_of_firearms_offences": ("10B", "the only offence"),
    "possession_of_firearm_with_intent": ("10A", "the only offence"),
    "other_firearm_offences": ("81", "the only offence"),
    "possession_of_other_weapon": ("10C", "the only offence"),
    "public_order_offences": ("9A", "public fear, alarm or distress is the bulk of public order "
                                    "offences"),
    "residential_burglary": ("28E", "burglary residential (the non-aggravated residential "
                                    "burglaries all weigh the same)"),
    "business_and_community_burglary": ("30C", "burglary business and community (the "
                                               "non-aggravated ones all weigh the same)"),
    "bicycle_theft": ("44", "the only offence"),
    "shoplifting": ("46", "the only offence"),
    "theft_from_the_person": ("39", "the only offence"),
    "other_theft": ("49", "'other theft' is the bulk of the category"),
    "vehicle_offences": ("45", "theft from a vehicle is the bulk of vehicle offences"),
    "arson": ("56B", "arson not endangering life is the bulk of arson"),
    "criminal_damage": ("58A", "all criminal damage offences but the racially aggravated one "
                               "weigh the same"),
    "drug_trafficking": ("92A", "trafficking in controlled drugs is the bulk of the category"),
    "possession_of_drugs": ("92E", "possession of cannabis is the bulk of drug possession "
                                   "(excluding cannabis: 8.08)"),
    "miscellaneous_crimes_against_society": (None, "24 unlike offences, none dominant: their "
                                                   "median"),
}


# --- reading CSV files (reference tables and user tables) -----------------------------------------


def _line(i: int) -> int:
    """File line of 0-based data row ``i`` (the header is line 1)."""
    return int(i) + 2


def _read_csv(path: str | Path) -> pd.DataFrame:
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


def _check_header(path, cols: list[str], required: list[str], optional=()) -> None:
    for c in required:
        if c not in cols:
            raise SourceError(path, f"missing required column {c!r}; header is {cols}", row=1,
                              column=c)
    for c in cols:
        if c not in required and c not in optional:
            raise SourceError(path, f"unknown column {c!r}", row=1, column=c)


# --- the bundled CSS table -----------------------------------------------------------------------


def _css_path() -> Path:
    return Path(str(resources.files("vru.data").joinpath("bundled", "crime_harm_weights", CSS_FILE)))


@functools.cache
def _css_table() -> pd.DataFrame:
    path = _css_path()
    df = _read_csv(path)
    cols = ["category_counts", "description", "code_severity", "code_original",
            "category_severity", "offence", "weight"]
    _check_header(path, list(df.columns), cols)
    w = pd.to_numeric(df["weight"], errors="coerce")
    bad = np.flatnonzero(~np.isfinite(w.to_numpy(float)) | (w.to_numpy(float) <= 0))
    if len(bad):
        raise SourceError(path, f"weight {df['weight'].iloc[bad[0]]!r} is not a positive number",
                          row=_line(bad[0]), column="weight")
    out = pd.DataFrame({
        "code": df["code_original"].str.strip(), "offence": df["description"].str.strip(),
        "group": df["category_counts"], "weight": w.to_numpy(float),
    })
    known = out["code"].isin(list(OFFENCE_CATEGORY)) | (out["code"] == _AGGREGATE_ROW)
    if not known.all():
        i = int(np.flatnonzero(~known.to_numpy())[0])
        raise SourceError(path, f"offence code {out['code'].iloc[i]!r} is not mapped to a "
                                "harmonised category", row=_line(i), column="code_original")
    return out


def offence_weights() -> pd.DataFrame:
    """The bundled CSS weights, one row per Home Office offence, with its harmonised leaf.

    Columns: ``code`` (Home Office offence code), ``offence``, ``group`` (Home Office offence
    group), ``weight`` (CSS), ``category`` (harmonised leaf; the aggregate homicide row is
    dropped), ``representative`` (True for the offence that represents its leaf).
    """
    t = _css_table()
    t = t[t["code"] != _AGGREGATE_ROW].copy()
    t["category"] = t["code"].map(OFFENCE_CATEGORY)
    rep = {code for code, _ in REPRESENTATIVE.values() if code}
    t["representative"] = t["code"].isin(rep) & ~t.duplicated(["code"])
    return t.reset_index(drop=True)


# --- London volumes --------------------------------------------------------------------------------


#: The bundled MPS borough files the London volumes come from (vru/data/bundled/mps_crime_borough,
#: see its SOURCE.md), with their taxonomy scheme.
MPS_BOROUGH_FILES = (
    ("mps_borough_crime_historical_201004_202311.csv.gz", "mps_coarse"),
    ("mps_borough_crime_detailed_201004_202111.csv.gz", "mps_detailed"),
)


def _mps_year_totals(path: Path, scheme: str, year: int) -> pd.Series:
    """London total per harmonised category of one MPS borough file (rows = major, minor,
    borough; one column per month ``YYYYMM``) over the months of ``year``."""
    df = _read_csv(path)
    months = [c for c in df.columns if len(c) == 6 and c.isdigit() and c.startswith(str(year))]
    if len(months) != 12:
        raise ValueError(f"{path.name}: {len(months)} months of {year}, not 12")
    cats = [taxonomy.harmonise(scheme, a, b) for a, b in zip(df["MajorText"], df["MinorText"],
                                                              strict=True)]
    if any(c is None for c in cats):
        i = cats.index(None)
        raise SourceError(path, f"category {df['MinorText'].iloc[i]!r} not in the taxonomy",
                          row=_line(i), column="MinorText")
    counts = df[months].apply(pd.to_numeric).sum(axis=1)
    return counts.groupby(pd.Series(cats, index=df.index)).sum()


@functools.cache
def _london_volumes(year: int) -> pd.Series:
    folder = Path(str(resources.files("vru.data").joinpath("bundled", "mps_crime_borough")))
    leaves = set(_leaves())
    out: dict[str, float] = {}
    for name, scheme in MPS_BOROUGH_FILES:
        totals = _mps_year_totals(folder / name, scheme, year)
        for c, v in totals.items():
            if c in leaves and c not in out and v > 0:
                out[c] = float(v)
    return pd.Series(out, name="count").sort_index()


def london_volumes(year: int = VOLUME_YEAR) -> pd.Series:
    """London's recorded offences per harmonised leaf in calendar ``year`` (MPS, the bundled
    borough files :data:`MPS_BOROUGH_FILES`, every row summed, categories harmonised with
    :func:`vru.taxonomy.harmonise`): the coarse vintage for every leaf it has, the detailed
    vintage for the others (the knife and firearms offences). The City of London (City of
    London Police) is not included. Equal to the MPS loader's figures (tested)."""
    return _london_volumes(int(year)).copy()


# --- weights per harmonised category ---------------------------------------------------------------


def _leaves() -> list[str]:
    cats = taxonomy.categories()
    parents = set(cats["parent"])
    return [c for c in cats["code"] if c not in parents]


def _leaf_table(offences: pd.DataFrame, aggregate: str) -> pd.DataFrame:
    """offences: code, offence, category, weight -> one row per leaf with its weight and basis."""
    if aggregate not in AGGREGATES:
        raise ValueError(f"unknown aggregate {aggregate!r}: one of {', '.join(AGGREGATES)}")
    rows = []
    for cat, g in offences.groupby("category", sort=True):
        w = g.drop_duplicates("code")["weight"]
        code, why = REPRESENTATIVE.get(cat, (None, ""))
        if aggregate == "representative" and code is not None and code in set(g["code"]):
            hit = g[g["code"] == code].iloc[0]
            weight, basis = float(hit["weight"]), f"{hit['offence']} ({code}): {why}"
        elif aggregate == "mean":
            weight, basis = float(w.mean()), f"unweighted mean of {len(w)} offences"
        else:
            weight = float(w.median())
            basis = f"median of {len(w)} offences" + (f" ({why})" if aggregate == "representative"
                                                      and code is None and why else "")
            if aggregate == "representative" and code is not None:
                basis += f" (representative offence {code} not in the table)"
        rows.append({"category": cat, "weight": weight, "basis": basis, "n_offences": len(w),
                     "min_offence": float(w.min()), "max_offence": float(w.max())})
    return pd.DataFrame(rows).set_index("category")


def _with_parents(leaf: pd.DataFrame, volumes: pd.Series | None, explicit: pd.Series | None,
                  what: str) -> pd.DataFrame:
    """Add every parent category: volume-weighted mean of the weighted leaves beneath it."""
    vol = london_volumes() if volumes is None else pd.Series(volumes, dtype=float)
    bad = vol[~np.isfinite(vol.to_numpy(float)) | (vol.to_numpy(float) < 0)]
    if len(bad):
        raise ValueError(f"volumes must be finite and non-negative: {bad.index[0]!r}")
    vsrc = (f"London MPS volumes {VOLUME_YEAR}" if volumes is None else "the volumes given")
    cats = taxonomy.categories()
    rows = leaf.to_dict("index")
    for code in cats["code"]:
        if code in rows:
            continue
        if explicit is not None and code in explicit.index:
            rows[code] = {"weight": float(explicit[code]), "basis": f"given in the {what} table",
                          "n_offences": 0, "min_offence": np.nan, "max_offence": np.nan}
            continue
        below = [c for c in taxonomy.descendants(code) if c in leaf.index]
        if not below:
            continue
        v = vol.reindex(below).fillna(0.0)
        if v.sum() > 0:
            weight = float((leaf.loc[below, "weight"] * v).sum() / v.sum())
            used = int((v > 0).sum())
            basis = f"mean of {used} {'leaf' if used == 1 else 'leaves'} weighted by {vsrc}"
        else:
            weight = float(leaf.loc[below, "weight"].median())
            basis = f"median of {len(below)} leaves (no volumes)"
        rows[code] = {"weight": weight, "basis": basis,
                      "n_offences": int(leaf.loc[below, "n_offences"].sum()),
                      "min_offence": float(leaf.loc[below, "min_offence"].min()),
                      "max_offence": float(leaf.loc[below, "max_offence"].max())}
    order = [c for c in cats["code"] if c in rows]
    out = pd.DataFrame.from_dict(rows, orient="index").loc[order]
    out.index.name = "category"
    out.insert(0, "label", [taxonomy.label(c) for c in out.index])
    return out


def css_weights(*, aggregate: str = "representative", volumes: pd.Series | None = None
                ) -> pd.DataFrame:
    """CSS weight per harmonised category (leaves and parents; see the module doc).

    Columns: ``label``, ``weight``, ``basis`` (how it was made), ``n_offences`` (offences beneath),
    ``min_offence``, ``max_offence`` (their range). Categories no bundled offence maps to
    (``fraud_and_forgery``, ``anti_social_behaviour``) have no row.
    """
    leaf = _leaf_table(offence_weights(), aggregate)
    return _with_parents(leaf, volumes, None, "CSS")


# --- Cambridge Crime Harm Index ----------------------------------------------------------------

CHI_OPTIONAL = ("description", "offence", "note", "source")


def load_chi(path: str | Path) -> pd.DataFrame:
    """Read and validate a user-supplied Cambridge Crime Harm Index table (CSV, gzip or not).

    Header: ``days`` and exactly one key column, ``category`` (a harmonised category code, see
    docs/taxonomy.md) or ``offence_code`` (a Home Office offence code as in the bundled CSS
    table, e.g. ``10D``); optional text columns ``description``, ``offence``, ``note``,
    ``source``; any other column is refused. ``days``: the CHI value (days of imprisonment, a
    finite number >= 0). Keys must be known and unique. Any problem raises
    :class:`~vru.errors.SourceError` with the file line and column; nothing is returned unless
    the whole file is valid. Returns ``key`` (the category or offence code), ``days``, and the
    attribute ``attrs["key"]`` (``"category"`` or ``"offence_code"``).
    """
    df = _read_csv(path)
    cols = [c.strip() for c in df.columns]
    df.columns = cols
    keys = [c for c in ("category", "offence_code") if c in cols]
    if len(keys) != 1:
        raise SourceError(path, "the header must have exactly one of 'category' (harmonised "
                                f"category) or 'offence_code' (Home Office code); it has {cols}",
                          row=1, column=keys[1] if len(keys) == 2 else "category")
    key = keys[0]
    _check_header(path, cols, [key, "days"], CHI_OPTIONAL)
    if df.empty:
        raise SourceError(path, "no rows: the CHI table is empty", row=2)
    k = df[key].str.strip()
    known = (set(taxonomy.categories()["code"]) if key == "category"
             else set(OFFENCE_CATEGORY))
    for i, v in enumerate(k):
        if v == "":
            raise SourceError(path, f"empty {key}", row=_line(i), column=key)
        if v not in known:
            what = ("harmonised category (see docs/taxonomy.md)" if key == "category"
                    else "Home Office offence code of the bundled CSS table")
            raise SourceError(path, f"unknown {what}: {v!r}", row=_line(i), column=key)
    dup = k.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise SourceError(path, f"{k.iloc[i]!r} appears twice", row=_line(i), column=key)
    if key == "category" and (k == "anti_social_behaviour").any():
        i = int(np.flatnonzero((k == "anti_social_behaviour").to_numpy())[0])
        raise SourceError(path, "anti-social behaviour is not a crime and has no CHI value",
                          row=_line(i), column=key)
    days = []
    for i, v in enumerate(df["days"].str.strip()):
        try:
            d = float(v)
        except ValueError:
            d = math.nan
        if not math.isfinite(d) or d < 0:
            raise SourceError(path, f"days must be a number >= 0, not {v!r}", row=_line(i),
                              column="days")
        days.append(d)
    out = pd.DataFrame({"key": k.to_numpy(), "days": days})
    out.attrs["key"] = key
    out.attrs["path"] = str(path)
    return out


def chi_weights(chi, *, aggregate: str = "representative", volumes: pd.Series | None = None
                ) -> pd.DataFrame:
    """CHI days per harmonised category from a CHI table (a path, or a :func:`load_chi` frame).

    A table keyed by category gives those categories directly; parents it does not give are the
    volume-weighted mean of the leaves beneath it that it gives. A table keyed by offence code is
    aggregated to leaves exactly as the CSS weights are (``aggregate``), then to parents.
    """
    if chi is None:
        raise MissingWeightsError(_NO_CHI)
    t = chi if isinstance(chi, pd.DataFrame) else load_chi(chi)
    if t.attrs.get("key") == "offence_code":
        offences = pd.DataFrame({"code": t["key"], "weight": t["days"],
                                 "category": t["key"].map(OFFENCE_CATEGORY)})
        names = offence_weights().drop_duplicates("code").set_index("code")["offence"]
        offences["offence"] = offences["code"].map(names)
        leaf = _leaf_table(offences, aggregate)
        return _with_parents(leaf, volumes, None, "CHI")
    given = t.set_index("key")["days"]
    leaves = set(_leaves())
    leaf_rows = given[given.index.isin(leaves)]
    leaf = pd.DataFrame({"weight": leaf_rows.astype(float), "basis": "given in the CHI table",
                         "n_offences": 0, "min_offence": np.nan, "max_offence": np.nan},
                        index=pd.Index(leaf_rows.index, name="category"))
    explicit = given[~given.index.isin(leaves)]
    return _with_parents(leaf, volumes, explicit, "CHI")


_NO_CHI = ("no Cambridge Crime Harm Index table is available: none ships with the platform "
           "(no CHI offence table could be found as data, see "
           "vru/data/bundled/crime_harm_weights/SOURCE.md). Supply one as a CSV with columns "
           "'category' (or 'offence_code') and 'days' (chi=<path>; on the command line "
           "--chi-file), or use scheme 'css' or 'count'")


def category_weights(scheme: str, *, chi=None, aggregate: str = "representative",
                     volumes: pd.Series | None = None) -> pd.DataFrame:
    """The weight table of ``scheme`` (``"count"``, ``"css"`` or ``"chi"``), one row per
    harmonised category that has a weight (``label``, ``weight``, ``basis``, ...)."""
    if scheme == "count":
        cats = taxonomy.categories()
        cats = cats[cats["code"] != "anti_social_behaviour"]
        out = pd.DataFrame({"label": cats["label"].to_numpy(), "weight": 1.0,
                            "basis": "1 per offence"}, index=pd.Index(cats["code"], name="category"))
        return out
    if scheme == "css":
        return css_weights(aggregate=aggregate, volumes=volumes)
    if scheme == "chi":
        return chi_weights(chi, aggregate=aggregate, volumes=volumes)
    raise ValueError(f"unknown harm weighting {scheme!r}: one of {', '.join(SCHEMES)}")


def detailed_vintage_overrides(weights: pd.DataFrame, volumes: pd.Series | None = None
                               ) -> dict[str, float]:
    """Weight of ``violence_without_injury`` for data of the detailed MPS vintage, which counts
    stalking and harassment inside it: the two leaves' weights weighted by their London volumes
    (the coarse vintage separates them). Pass the result as ``overrides`` to
    :func:`harm_weighted`."""
    vol = london_volumes() if volumes is None else pd.Series(volumes, dtype=float)
    parts = ["violence_without_injury", "stalking_and_harassment"]
    w = weights["weight"].reindex(parts)
    v = vol.reindex(parts).fillna(0.0)
    if w.isna().any() or v.sum() == 0:
        return {}
    return {"violence_without_injury": float((w * v).sum() / v.sum())}


def harm_weighted(crime: pd.DataFrame, scheme: str, *, chi=None, aggregate: str = "representative",
                  volumes: pd.Series | None = None, overrides: Mapping[str, float] | None = None,
                  unweighted: str = "error", count_col: str = "count",
                  category_col: str = "category") -> pd.DataFrame:
    """Crime counts weighted by harm: adds ``weight`` and ``harm`` (= count x weight) columns.

    ``crime``: any table with a harmonised ``category`` and a ``count`` column (e.g. rows of the
    warehouse ``crime`` or ``crime_annual`` tables, or a query result with a category column).
    ``scheme``: ``"count"``, ``"css"`` or ``"chi"`` (with ``chi``, see :func:`load_chi`).
    ``overrides``: category -> weight replacing the table's. Categories without a weight
    (``fraud_and_forgery`` and ``anti_social_behaviour`` under CSS; whatever a CHI table lacks):
    ``unweighted="error"`` (default) raises :class:`MissingWeightsError` naming them,
    ``"drop"`` removes their rows (``attrs["dropped"]`` lists them with their counts).
    NaN counts stay NaN (e.g. values known to be wrong). ``attrs["weights"]`` is the weight used
    per category and ``attrs["scheme"]`` the scheme.
    """
    if unweighted not in ("error", "drop"):
        raise ValueError(f"unweighted must be 'error' or 'drop', not {unweighted!r}")
    for c in (count_col, category_col):
        if c not in crime.columns:
            raise ValueError(f"the crime table has no {c!r} column")
    table = category_weights(scheme, chi=chi, aggregate=aggregate, volumes=volumes)
    w = table["weight"].copy()
    for k, v in (overrides or {}).items():
        if k not in set(taxonomy.categories()["code"]):
            raise ValueError(f"override for unknown category {k!r}")
        if not (math.isfinite(v) and v >= 0):
            raise ValueError(f"override for {k!r} must be a number >= 0")
        w[k] = float(v)
    cats = crime[category_col].astype(str)
    missing = sorted(set(cats) - set(w.index))
    dropped = {}
    out = crime
    if missing:
        counts = crime[count_col].groupby(cats).sum()
        dropped = {c: float(counts.get(c, 0)) for c in missing}
        if unweighted == "error":
            raise MissingWeightsError(
                f"no {scheme} weight for {', '.join(f'{c} ({dropped[c]:,.0f} offences)' for c in missing)}: "
                "drop those rows (unweighted='drop') or give a weight (overrides=)")
        out = crime[~cats.isin(missing)]
        cats = out[category_col].astype(str)
    out = out.assign(weight=cats.map(w).to_numpy(float))
    out["harm"] = out[count_col].astype(float) * out["weight"]
    used = w.reindex(sorted(set(cats)))
    out.attrs = {"scheme": scheme, "weights": used, "dropped": dropped,
                 "aggregate": aggregate if scheme != "count" else None}
    return out


def per_population(values: pd.DataFrame | pd.Series, population: pd.Series, *, per: float = 1000.0
                   ) -> pd.DataFrame | pd.Series:
    """Rates per ``per`` residents: ``values`` (rows = areas; a Series or a DataFrame of periods)
    divided by ``population`` (indexed by area). Every area must have a population > 0;
    otherwise ``ValueError`` naming them (a rate for an area without residents, such as a park
    or an airport, is undefined, not zero)."""
    pop = pd.Series(population, dtype=float)
    idx = values.index
    p = pop.reindex(idx)
    bad = p.index[p.isna() | ~(p > 0)]
    if len(bad):
        raise ValueError(f"{len(bad)} area(s) without a positive population, e.g. {list(bad[:5])}")
    if isinstance(values, pd.Series):
        return values.astype(float) / p * per
    return values.astype(float).div(p, axis=0) * per


# --- the generated table -------------------------------------------------------------------------


def comparison_table(volumes: pd.Series | None = None) -> pd.DataFrame:
    """CSS weight per category under each ``aggregate`` rule, side by side, with the basis of the
    default (representative) rule."""
    tabs = {a: css_weights(aggregate=a, volumes=volumes) for a in AGGREGATES}
    rep = tabs["representative"]
    out = pd.DataFrame({"label": rep["label"],
                        **{a: tabs[a]["weight"] for a in AGGREGATES},
                        "n_offences": rep["n_offences"], "basis": rep["basis"]})
    return out


def weights_markdown(volumes: pd.Series | None = None) -> str:
    """The Markdown table of CSS weights per harmonised category (docs/methods-harm.md)."""
    t = comparison_table(volumes)

    def depth(c):
        return len(taxonomy.ancestors(c)) - 1

    lines = ["| category | representative (default) | median | mean | offences | basis of the default |",
             "|---|---:|---:|---:|---:|---|"]
    for c, r in t.iterrows():
        pad = "&nbsp;&nbsp;" * depth(c)
        lines.append(f"| {pad}`{c}` | {r['representative']:,.2f} | {r['median']:,.2f} | "
                     f"{r['mean']:,.2f} | {int(r['n_offences'])} | {r['basis']} |")
    vol = london_volumes() if volumes is None else volumes
    vl = ["| leaf | London offences " + str(VOLUME_YEAR) + " |", "|---|---:|"]
    vl += [f"| `{c}` | {v:,.0f} |" for c, v in vol.items()]
    return "\n".join(lines) + "\n\nLondon volumes used for the parents:\n\n" + "\n".join(vl) + "\n"


__all__ = [
    "SCHEMES", "AGGREGATES", "CSS_EDITION", "OFFENCE_CATEGORY", "REPRESENTATIVE",
    "MissingWeightsError", "offence_weights", "london_volumes", "css_weights", "load_chi",
    "chi_weights", "category_weights", "detailed_vintage_overrides", "harm_weighted",
    "per_population", "comparison_table", "weights_markdown",
]
