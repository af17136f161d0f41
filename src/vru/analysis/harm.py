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
  found as data; see the SOURCE.md above): supply one with ``chi=`` (a :class:`~vru.model.harm.ChiTable`,
  read and validated by :func:`vru.data.harm_tables.load_chi`). Without it, ``"chi"`` raises
  :class:`MissingWeightsError`.

From offences to harmonised categories (:func:`offence_weights`, :func:`category_weights`):

1. Every bundled offence is mapped to one *leaf* of the taxonomy (``HarmTables.offences``, the
   table ``vru/data/harm_offences.csv``, keyed by the Home Office offence code; e.g. 10D
   "Possession of article with blade or point" -> ``possession_of_article_with_blade_or_point``).
   The aggregate "Homicide" row (code ``1/4.1/4.10/4.2``) repeats its parts and is left out.
2. A leaf's weight would ideally be the mean of its offences' weights weighted by the national
   number of each offence; those volumes are not bundled. ``aggregate=`` says what is done
   instead: ``"representative"`` (default) takes the weight of one named offence per leaf
   (``HarmTables.representatives``, the table ``vru/data/harm_representatives.csv``: the offence that makes
   up the bulk of the category, e.g. assault without injury for violence without injury; the median
   where no offence dominates:
   miscellaneous crimes against society), ``"median"`` or ``"mean"`` the unweighted median or
   mean of the leaf's offences. The median and the mean give every rare offence the same say as
   the common one (violence without injury: median 282.6, mean 612.2, but assault without injury,
   the bulk of it, weighs 13.5), so they are shown for comparison, not recommended.
3. A *parent* category's weight (e.g. ``violence_against_the_person``, all the LSOA file has) is
   the mean of its leaves' weights weighted by their **London volumes**: by default the MPS
   recorded crime of calendar year 2019 (``HarmTables.volumes``; the bundled ones are
   :func:`vru.data.harm_tables.london_volumes`, from the bundled borough files:
   the coarse vintage for every leaf it has, which separates stalking and harassment from
   violence without injury, and the detailed vintage for the leaves only it has, the knife and
   firearms offences); pass ``volumes=`` to use others (e.g. the study area's own counts).

Caveats stated with the results: the CSS weights are experimental statistics of one edition
(2020); the representative-offence rule approximates a volume-weighted mean; the MPS detailed
vintage counts stalking and harassment inside violence without injury (London 2019: 38% of it),
so weighting its ``violence_without_injury`` at the leaf weight (assault without injury)
under-weights it; :func:`detailed_vintage_overrides` gives the weight of the mixture.

:func:`harm_weighted` applies a scheme to a crime table (``category``, ``count``, any keys) and
returns a :class:`HarmWeighted` (the table with ``weight`` and ``harm``, the weights used, the
categories dropped); :func:`per_population` turns counts or harm into rates per residents. The
generated table of weights per category is in ``docs/methods-harm.md`` (:func:`weights_markdown`).

This module reads no file (the analysis layer is pure): every function that weighs takes the tables as
data, ``tables=`` (a :class:`~vru.model.harm.HarmTables`), which the caller reads and validates with
:mod:`vru.data.harm_tables` (``harm_tables.bundled()`` for the bundled ones) or builds itself;
``volumes=`` replaces its volumes and ``chi=`` (a :class:`~vru.model.harm.ChiTable`) gives a CHI table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from vru import taxonomy
from vru.errors import VRUError
from vru.model.harm import AGGREGATE_ROW, ChiTable, HarmTables

SCHEMES = ("count", "css", "chi")
AGGREGATES = ("representative", "median", "mean")
CSS_EDITION = "ONS Crime Severity Score weights, 2020 edition (CriMS third-party copy)"


class MissingWeightsError(VRUError, ValueError):
    """A weighting scheme was asked for without the table it needs, or the data hold categories
    the weights do not cover."""


@dataclass(frozen=True, eq=False)
class HarmWeighted:
    """What :func:`harm_weighted` returns. ``table``: the crime table with ``weight`` and ``harm``
    (= count x weight) columns, less the rows dropped. ``scheme``: the scheme used. ``weights``: the weight
    used per category of ``table`` (overrides applied; sorted by category). ``dropped``: category ->
    offences of the rows dropped for want of a weight (``unweighted="drop"``). ``aggregate``: the rule
    from offences to leaves (``None`` for ``"count"``)."""

    table: pd.DataFrame
    scheme: str
    weights: pd.Series
    dropped: Mapping[str, float]
    aggregate: str | None


def _need(tables: HarmTables | None, what: str) -> HarmTables:
    if not isinstance(tables, HarmTables):
        raise TypeError(f"{what} needs the harm tables (tables=, a vru.model.harm.HarmTables; the bundled "
                        f"ones: vru.data.harm_tables.bundled()), not {type(tables).__name__}")
    return tables


def offence_weights(tables: HarmTables) -> pd.DataFrame:
    """The CSS weights, one row per Home Office offence, with its harmonised leaf.

    ``tables``: the harm tables (the CSS table, the offences' leaves and the representatives). Columns:
    ``code`` (Home Office offence code), ``offence``, ``group`` (Home Office offence group), ``weight``
    (CSS), ``category`` (harmonised leaf; the aggregate homicide row is dropped), ``representative``
    (True for the offence that represents its leaf).
    """
    tables = _need(tables, "the CSS weights")
    t = tables.css
    t = t[t["code"] != AGGREGATE_ROW].copy()
    t["category"] = t["code"].map(dict(tables.offences))
    rep = {code for code, _ in tables.representatives.values() if code}
    t["representative"] = t["code"].isin(rep) & ~t.duplicated(["code"])
    return t.reset_index(drop=True)


# --- weights per harmonised category ---------------------------------------------------------------


def _leaves() -> list[str]:
    return taxonomy.leaves()


def _leaf_table(offences: pd.DataFrame, aggregate: str,
                representative: Mapping[str, tuple[str | None, str]]) -> pd.DataFrame:
    """offences: code, offence, category, weight -> one row per leaf with its weight and basis."""
    if aggregate not in AGGREGATES:
        raise ValueError(f"unknown aggregate {aggregate!r}: one of {', '.join(AGGREGATES)}")
    rows = []
    for cat, g in offences.groupby("category", sort=True):
        w = g.drop_duplicates("code")["weight"]
        code, why = representative.get(cat, (None, ""))
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


def _with_parents(leaf: pd.DataFrame, tables: HarmTables, volumes: pd.Series | None,
                  explicit: pd.Series | None, what: str) -> pd.DataFrame:
    """Add every parent category: volume-weighted mean of the weighted leaves beneath it."""
    vol = pd.Series(tables.volumes if volumes is None else volumes, dtype=float)
    bad = vol[~np.isfinite(vol.to_numpy(float)) | (vol.to_numpy(float) < 0)]
    if len(bad):
        raise ValueError(f"volumes must be finite and non-negative: {bad.index[0]!r}")
    vsrc = (f"London MPS volumes {tables.volume_year}" if volumes is None else "the volumes given")
    cats = taxonomy.categories()
    rows = leaf.to_dict("index")
    for code in cats["code"]:
        if code in rows:
            continue
        if explicit is not None and code in explicit.index:
            rows[code] = {"weight": float(explicit[code]), "basis": f"given in the {what} table",
                          "n_offences": 0, "min_offence": np.nan, "max_offence": np.nan}
            continue
        # in the leaf table's (sorted) order: a set's order changes with the hash seed, and so would the
        # last digit of the sum
        below = [c for c in leaf.index if c in taxonomy.descendants(code)]
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


def css_weights(*, tables: HarmTables, aggregate: str = "representative",
                volumes: pd.Series | None = None) -> pd.DataFrame:
    """CSS weight per harmonised category (leaves and parents; see the module doc).

    ``tables``: the harm tables (the CSS table, the offences' leaves, the representatives and the
    volumes; ``volumes=`` replaces the last). Columns: ``label``, ``weight``, ``basis`` (how it was
    made), ``n_offences`` (offences beneath), ``min_offence``, ``max_offence`` (their range).
    Categories no offence maps to (``fraud_and_forgery``, ``anti_social_behaviour``) have no row.
    """
    leaf = _leaf_table(offence_weights(tables), aggregate, tables.representatives)
    return _with_parents(leaf, tables, volumes, None, "CSS")


# --- Cambridge Crime Harm Index ----------------------------------------------------------------

def chi_weights(chi: ChiTable | None, *, tables: HarmTables, aggregate: str = "representative",
                volumes: pd.Series | None = None) -> pd.DataFrame:
    """CHI days per harmonised category from a CHI table (a :class:`~vru.model.harm.ChiTable`, e.g.
    read by :func:`vru.data.harm_tables.load_chi`).

    A table keyed by category gives those categories directly; parents it does not give are the
    volume-weighted mean of the leaves beneath it that it gives. A table keyed by offence code is
    aggregated to leaves exactly as the CSS weights are (``aggregate``; the offences' leaves, names and
    representatives from ``tables``), then to parents.
    """
    if chi is None:
        raise MissingWeightsError(_NO_CHI)
    if not isinstance(chi, ChiTable):
        raise TypeError("chi must be a vru.model.harm.ChiTable (read a file with "
                        f"vru.data.harm_tables.load_chi), not {type(chi).__name__}")
    tables = _need(tables, "the CHI weights")
    t = chi.table
    if chi.key_kind == "offence_code":
        offences = pd.DataFrame({"code": t["key"], "weight": t["days"],
                                 "category": t["key"].map(dict(tables.offences))})
        names = offence_weights(tables).drop_duplicates("code").set_index("code")["offence"]
        offences["offence"] = offences["code"].map(names)
        leaf = _leaf_table(offences, aggregate, tables.representatives)
        return _with_parents(leaf, tables, volumes, None, "CHI")
    given = t.set_index("key")["days"]
    leaves = set(_leaves())
    leaf_rows = given[given.index.isin(leaves)]
    leaf = pd.DataFrame({"weight": leaf_rows.astype(float), "basis": "given in the CHI table",
                         "n_offences": 0, "min_offence": np.nan, "max_offence": np.nan},
                        index=pd.Index(leaf_rows.index, name="category"))
    explicit = given[~given.index.isin(leaves)]
    return _with_parents(leaf, tables, volumes, explicit, "CHI")


_NO_CHI = ("no Cambridge Crime Harm Index table is available: none ships with the platform "
           "(no CHI offence table could be found as data, see "
           "vru/data/bundled/crime_harm_weights/SOURCE.md). Supply one as a CSV with columns "
           "'category' (or 'offence_code') and 'days' (read with vru.data.harm_tables.load_chi and "
           "passed as chi=; on the command line --chi-file), or use scheme 'css' or 'count'")


def category_weights(scheme: str, *, tables: HarmTables | None = None, chi: ChiTable | None = None,
                     aggregate: str = "representative", volumes: pd.Series | None = None) -> pd.DataFrame:
    """The weight table of ``scheme`` (``"count"``, ``"css"`` or ``"chi"``), one row per
    harmonised category that has a weight (``label``, ``weight``, ``basis``, ...). ``tables``: the
    harm tables, needed by ``"css"`` and ``"chi"``; ``chi``: the CHI table of ``"chi"``."""
    if scheme == "count":
        cats = taxonomy.categories()
        cats = cats[cats["code"] != taxonomy.ANTI_SOCIAL_BEHAVIOUR]
        out = pd.DataFrame({"label": cats["label"].to_numpy(), "weight": 1.0,
                            "basis": "1 per offence"}, index=pd.Index(cats["code"], name="category"))
        return out
    if scheme == "css":
        return css_weights(tables=_need(tables, "scheme 'css'"), aggregate=aggregate, volumes=volumes)
    if scheme == "chi":
        if chi is None:
            raise MissingWeightsError(_NO_CHI)
        return chi_weights(chi, tables=_need(tables, "scheme 'chi'"), aggregate=aggregate, volumes=volumes)
    raise ValueError(f"unknown harm weighting {scheme!r}: one of {', '.join(SCHEMES)}")


def detailed_vintage_overrides(weights: pd.DataFrame, volumes: pd.Series) -> dict[str, float]:
    """Weight of ``violence_without_injury`` for data of the detailed MPS vintage, which counts
    stalking and harassment inside it: the two leaves' weights weighted by their ``volumes`` (London's:
    ``HarmTables.volumes``; the coarse vintage separates them). Pass the result as ``overrides`` to
    :func:`harm_weighted`."""
    vol = pd.Series(volumes, dtype=float)
    parts = [taxonomy.VIOLENCE_WITHOUT_INJURY, taxonomy.STALKING_AND_HARASSMENT]
    w = weights["weight"].reindex(parts)
    v = vol.reindex(parts).fillna(0.0)
    if w.isna().any() or v.sum() == 0:
        return {}
    return {taxonomy.VIOLENCE_WITHOUT_INJURY: float((w * v).sum() / v.sum())}


def harm_weighted(crime: pd.DataFrame, scheme: str, *, tables: HarmTables | None = None,
                  chi: ChiTable | None = None, aggregate: str = "representative",
                  volumes: pd.Series | None = None, overrides: Mapping[str, float] | None = None,
                  unweighted: str = "error", count_col: str = "count",
                  category_col: str = "category") -> HarmWeighted:
    """Crime counts weighted by harm: the table with ``weight`` and ``harm`` (= count x weight) columns,
    in a :class:`HarmWeighted` with the weights used and the categories dropped.

    ``crime``: any table with a harmonised ``category`` and a ``count`` column (e.g. rows of the
    warehouse ``crime`` or ``crime_annual`` tables, or a query result with a category column).
    ``scheme``: ``"count"``, ``"css"`` or ``"chi"``; ``tables``: the harm tables (needed by ``"css"``
    and ``"chi"``; the bundled ones: :func:`vru.data.harm_tables.bundled`); ``chi``: the CHI table of
    ``"chi"`` (:func:`vru.data.harm_tables.load_chi`). ``overrides``: category -> weight replacing the
    table's. Categories without a weight (``fraud_and_forgery`` and ``anti_social_behaviour`` under CSS;
    whatever a CHI table lacks): ``unweighted="error"`` (default) raises :class:`MissingWeightsError`
    naming them, ``"drop"`` removes their rows (``dropped`` lists them with their counts). NaN counts
    stay NaN (e.g. values known to be wrong).
    """
    if unweighted not in ("error", "drop"):
        raise ValueError(f"unweighted must be 'error' or 'drop', not {unweighted!r}")
    for c in (count_col, category_col):
        if c not in crime.columns:
            raise ValueError(f"the crime table has no {c!r} column")
    table = category_weights(scheme, tables=tables, chi=chi, aggregate=aggregate, volumes=volumes)
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
    used.index.name = "category"
    return HarmWeighted(table=out, scheme=scheme, weights=used, dropped=dropped,
                        aggregate=aggregate if scheme != "count" else None)


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


def comparison_table(tables: HarmTables, volumes: pd.Series | None = None) -> pd.DataFrame:
    """CSS weight per category under each ``aggregate`` rule, side by side, with the basis of the
    default (representative) rule."""
    tabs = {a: css_weights(tables=tables, aggregate=a, volumes=volumes) for a in AGGREGATES}
    rep = tabs["representative"]
    out = pd.DataFrame({"label": rep["label"],
                        **{a: tabs[a]["weight"] for a in AGGREGATES},
                        "n_offences": rep["n_offences"], "basis": rep["basis"]})
    return out


def weights_markdown(tables: HarmTables, volumes: pd.Series | None = None) -> str:
    """The Markdown table of CSS weights per harmonised category (docs/methods-harm.md), from ``tables``
    (the bundled ones there)."""
    t = comparison_table(tables, volumes)

    def depth(c):
        return len(taxonomy.ancestors(c)) - 1

    lines = ["| category | representative (default) | median | mean | offences | basis of the default |",
             "|---|---:|---:|---:|---:|---|"]
    for c, r in t.iterrows():
        pad = "&nbsp;&nbsp;" * depth(c)
        lines.append(f"| {pad}`{c}` | {r['representative']:,.2f} | {r['median']:,.2f} | "
                     f"{r['mean']:,.2f} | {int(r['n_offences'])} | {r['basis']} |")
    vol = tables.volumes if volumes is None else volumes
    vl = ["| leaf | London offences " + str(tables.volume_year) + " |", "|---|---:|"]
    vl += [f"| `{c}` | {v:,.0f} |" for c, v in vol.items()]
    return "\n".join(lines) + "\n\nLondon volumes used for the parents:\n\n" + "\n".join(vl) + "\n"


__all__ = [
    "SCHEMES", "AGGREGATES", "CSS_EDITION", "ChiTable", "HarmTables", "HarmWeighted",
    "MissingWeightsError", "offence_weights", "css_weights", "chi_weights", "category_weights",
    "detailed_vintage_overrides", "harm_weighted", "per_population", "comparison_table",
    "weights_markdown",
]
