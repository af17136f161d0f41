"""Targeting pipeline: choosing the neighbourhoods to fund (MyEnds).

Builds the candidates (LSOAs, 2018 wards, or clusters of contiguous LSOAs) from the warehouse,
scores them on sustained violence, harm, deprivation and youth population, chooses ``n`` under
the constraints, allocates the budget over years with a cap per area per year, tests the
shortlist's sensitivity to the weights and compares it with the eight MyEnds boroughs. The
methods are in :mod:`vru.analysis.targeting` and ``docs/methods-drivers.md`` ("Targeting").

Data: MPS LSOA annual aggregation (2011 LSOAs; 2020 is wrong in the source and not used; the City
of London has no MPS LSOA figures and is not a candidate), ONS mid-2020 population, IMD 2019,
the bundled 2011 LSOA and 2018 ward boundaries. Sustained violence: by default the share of years
in which the LSOA was a significant hot spot in the emerging hot spot analysis
(:func:`vru.analysis.emerging.emerging_hotspots`: space-time Gi* with a one-year time step,
each year compared with itself, Benjamini-Hochberg FDR per year); ``sustained="top_decile"`` uses
the count-based fallback (share of years in the top 10% of LSOA violence rates).

:func:`run` returns a :class:`TargetingResult`; its ``as_dict()`` is the JSON of ``vru target``
and the API; :mod:`vru.outputs.sections.targeting` presents it as the report section.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from vru import format as fmt
from vru.analysis import harm
from vru.analysis import targeting as tg
from vru.data import harm_tables
from vru.geography import MYENDS_BOROUGHS, borough_name
from vru.model.weights import SpatialWeights
from vru.pipelines.base import MissingData, Params, ParamsError, check_categories, check_chi_file
from vru.plain import jsonable
from vru.sources import catalogue
from vru.sources.boundaries import to_geodataframe
from vru.taxonomy import SERIOUS_VIOLENCE_MAJOR
from vru.warehouse import queries as q
from vru.warehouse.store import Warehouse

LSOA_SOURCE = catalogue.MPS_LSOA_ANNUAL_MILLINGTON
LEVELS = ("lsoa", "ward", "cluster")
SUSTAINED = ("emerging", "top_decile")
YOUTH = ("share", "count")
DEFAULT_MIN_POPULATION = {"lsoa": 1_000, "ward": 5_000, "cluster": 5_000}
#: LSOA violence: the aggregation has major categories only, so the harm proxy is violence
#: against the person + robbery + possession of weapons per 1,000 residents.
VIOLENCE = SERIOUS_VIOLENCE_MAJOR


#: The most money the parameters take, in pence (GBP 10bn, the CLI's bound).
MAX_PENCE = 10_000_000_000 * 100
#: The whole-number parameters and their least and greatest values (None: no bound). The
#: greatest keep a run finite: the allocation is exact in floating point below MAX_PENCE, and the
#: sensitivity holds draws x n picks in memory.
_WHOLE: dict[str, tuple[int | None, int | None]] = {
    "n": (1, None), "max_per_borough": (1, None), "max_lsoas": (1, None),
    "target_population": (1, None), "harm_years": (1, None), "pop_year": (None, None),
    "budget_pence": (0, MAX_PENCE), "years": (1, 100), "cap_pence": (0, MAX_PENCE),
    "draws": (1, 100_000), "seed": (0, None)}


def _whole(name: str, v: Any, lo: int | None = None, hi: int | None = None) -> int:
    if isinstance(v, bool) or not isinstance(v, int | np.integer):
        raise ParamsError(f"{name} must be a whole number, not {v!r}")
    if lo is not None and v < lo:
        raise ParamsError(f"{name} must be at least {fmt.integer(lo)}, not {fmt.integer(v)}")
    if hi is not None and v > hi:
        raise ParamsError(f"{name} must be at most {fmt.integer(hi)}, not {fmt.integer(v)}")
    return int(v)


def _choice(name: str, v: Any, options: tuple[str, ...]) -> None:
    if v not in options:
        raise ParamsError(f"{name} must be one of {', '.join(options)}, not {v!r}")


@dataclass(frozen=True)
class TargetParams(Params):
    """Every choice of the targeting, with its default (see docs/methods-drivers.md).

    ``weights``: a mapping component -> weight (any of :data:`vru.analysis.targeting.COMPONENTS`;
    scaled to sum to 1), kept as ``(component, weight)`` pairs so the parameters stay immutable;
    :meth:`weight_map` gives them as a dict. ``categories``: a tuple of harmonised categories or a
    comma-separated string.
    """

    level: str = "cluster"
    n: int = 8  # MyEnds funded 8 areas in 2021
    weights: tuple[tuple[str, float], ...] = tuple(tg.DEFAULT_WEIGHTS.items())
    max_per_borough: int = 1
    min_population: int | None = None  # None: DEFAULT_MIN_POPULATION[level]
    max_lsoas: int = 8  # cluster size limit (LSOAs)
    target_population: int = 10_000  # clusters stop growing at this many residents
    sustained: str = "emerging"  # or "top_decile"
    categories: tuple[str, ...] = VIOLENCE
    harm_years: int = 3  # harm and need: mean of the latest 3 years with correct data
    weighting: str = "css"  # harm: "css" (ONS Crime Severity Score), "count", or "chi"
    chi_file: str | None = None  # Cambridge Crime Harm Index table for weighting="chi"
    pop_year: int = 2020
    youth: str = "share"
    budget_pence: int = 900_000_000  # GBP 9m (the 2022 MyEnds extension)
    years: int = 3
    cap_pence: int = 50_000_000  # GBP 500,000 per area per year
    draws: int = 1000
    concentration: float = 20.0
    seed: int = 0

    def __post_init__(self) -> None:
        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        _choice("level", self.level, LEVELS)
        _choice("sustained", self.sustained, SUSTAINED)
        _choice("youth", self.youth, YOUTH)
        _choice("weighting", self.weighting, harm.SCHEMES)
        for name, (lo, hi) in _WHOLE.items():
            put(name, _whole(name, getattr(self, name), lo, hi))
        if self.min_population is not None:
            put("min_population", _whole("min_population", self.min_population, 0))
        w = self.weights
        try:
            if isinstance(w, str):
                raise TypeError
            pairs = tuple(w.items()) if isinstance(w, Mapping) else tuple((k, v) for k, v in w)
            if any(isinstance(v, bool) or not isinstance(v, int | float | np.number) for _, v in pairs):
                raise TypeError
        except (TypeError, ValueError):
            raise ParamsError(f"weights must map components to numbers, not {w!r}") from None
        try:
            tg.normalise_weights(dict(pairs))
        except ValueError as e:
            raise ParamsError(f"weights: {e}") from None
        put("weights", pairs)
        put("categories", check_categories("categories", self.categories))
        c = self.concentration
        if isinstance(c, bool) or not isinstance(c, int | float | np.number) or not (
                math.isfinite(c) and c > 0):
            raise ParamsError(f"concentration must be a positive number, not {c!r}")
        put("chi_file", check_chi_file(self.weighting, self.chi_file))

    def weight_map(self) -> dict[str, float]:
        """The weights as a dict, as given (not yet scaled)."""
        return dict(self.weights)

    def min_pop(self) -> int:
        return DEFAULT_MIN_POPULATION[self.level] if self.min_population is None else self.min_population

    def as_dict(self) -> dict[str, Any]:
        """The parameters as JSON-ready Python (weights as a dict, the effective minimum
        population)."""
        d: dict[str, Any] = jsonable(dataclasses.asdict(self) | {"weights": self.weight_map(),
                                                                 "min_population": self.min_pop()})
        return d


# --- data from the warehouse -------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class LsoaInputs:
    """The LSOA area frame (see :mod:`vru.analysis.targeting`), annual counts and rates, names."""

    frame: pd.DataFrame  # borough, population, youth, violence (harm-weighted), imd; by LSOA
    counts: pd.DataFrame  # LSOAs x years with correct data
    rates: pd.DataFrame  # per 1,000 residents
    years: list[int]
    harm_years: list[int]
    names: pd.Series
    harm_weights: pd.Series  # the harm weight of each category
    geometry: gpd.GeoDataFrame  # the LSOAs (column ``code``)


def lsoa_inputs(wh: Warehouse, p: TargetParams | None = None) -> LsoaInputs:
    """The LSOA inputs of the targeting (``MissingData`` without LSOA crime)."""
    p = p or TargetParams()
    parts = [q.crime_annual(wh, source=LSOA_SOURCE, level="lsoa", category=c).assign(category=c)
             for c in p.categories]
    a = pd.concat(parts)
    if a.empty:
        raise MissingData(f"no LSOA crime ({LSOA_SOURCE}) in the warehouse")
    counts = a.groupby(["area_code", "year"])["count"].sum(min_count=len(p.categories)).unstack()
    counts = counts.loc[:, counts.notna().all(axis=0)]  # drop years known to be wrong (2020)
    # harm: the same counts weighted per category (vru.analysis.harm; the choice is explicit)
    chi = harm_tables.load_chi(p.chi_file) if p.chi_file else None
    weighted = harm.harm_weighted(a[a["year"].isin(counts.columns)], p.weighting,
                                  tables=harm_tables.bundled(), chi=chi).table
    harm_counts = weighted.groupby(["area_code", "year"])["harm"].sum().unstack()
    harm_weights = weighted.groupby("category", sort=True)["weight"].first()
    years = sorted(counts.columns)
    if len(years) < p.harm_years:
        raise MissingData(f"fewer than {p.harm_years} years of correct LSOA data")
    pop = q.population(wh, level="lsoa", year=p.pop_year).set_index("area_code")["population"]
    youth = q.population(wh, level="lsoa", year=p.pop_year, age_band="16-29").set_index(
        "area_code")["population"]
    imd = q.deprivation(wh, level="lsoa", measure="imd_score").set_index("area_code")["value"]
    areas = q.areas(wh, "lsoa", "2011").set_index("code")
    ids = counts.index
    frame = pd.DataFrame({
        "borough": areas["parent_code"].reindex(ids).astype(str),
        "population": pop.reindex(ids),
        "youth": youth.reindex(ids),
        "violence": harm_counts.reindex(ids)[years[-p.harm_years:]].mean(axis=1),
        "imd": imd.reindex(ids),
    }).rename_axis("area")
    missing = frame.index[frame.isna().any(axis=1)]
    if len(missing):
        raise MissingData(f"LSOAs without population, IMD or borough, e.g. {list(missing[:3])}")
    rates = 1000.0 * counts.div(frame["population"], axis=0)
    return LsoaInputs(frame, counts, rates, years, years[-p.harm_years:], areas["name"].astype(str),
                      harm_weights, to_geodataframe(areas.loc[ids].reset_index()))


@dataclass(frozen=True, eq=False)
class Sustained:
    """The sustained-violence score of each LSOA and how it was made.

    ``method``: ``"emerging"`` or ``"top_decile"``; ``years``: the years with correct data;
    ``patterns``: the most common emerging hot spot patterns with their numbers of LSOAs;
    ``islands``: LSOAs without neighbours, which use the top-decile fallback.
    """

    scores: pd.Series
    method: str
    years: tuple[int, ...]
    patterns: tuple[tuple[str, int], ...] = ()
    islands: int = 0



def sustained_words(s: Sustained) -> str:
    """The method of ``s`` in one phrase (the ``sustained_violence`` of the JSON and the report)."""
    y = s.years
    if s.method == "top_decile":
        return (f"share of the years {y[0]}-{y[-1]} (excluding years with wrong data) in which "
                f"the LSOA's violence rate was in the top 10% of LSOAs")
    return (f"share of the years {y[0]}-{y[-1]} ({len(y)} years with correct data) in which the "
            f"LSOA was a significant hot spot (emerging hot spot analysis: space-time Gi* on "
            f"queen-contiguity neighbours, one-year time step, each year against itself, "
            f"Benjamini-Hochberg FDR 5% per year); most common patterns: "
            + ", ".join(f"{c} {fmt.integer(n)}" for c, n in s.patterns)
            + (f"; {fmt.integer(s.islands)} LSOAs without neighbours use the top-decile fallback"
               if s.islands else ""))


def sustained_scores(inputs: LsoaInputs, p: TargetParams, neighbours: SpatialWeights) -> Sustained:
    """Per-LSOA sustained-violence score (``p.sustained``: emerging hot spots or the top decile)."""
    years = tuple(inputs.years)
    if p.sustained == "top_decile":
        return Sustained(tg.years_in_top_decile(inputs.rates), "top_decile", years)
    from vru.analysis.emerging import emerging_hotspots

    ids = list(inputs.frame.index)
    res = emerging_hotspots(inputs.counts.loc[ids].to_numpy(dtype="float64"),
                            neighbours, global_window="period", time_lag=1, ids=ids)
    s = tg.sustained_from_bins(res.bins)
    fallback = tg.years_in_top_decile(inputs.rates)
    n_island = int(s.isna().sum())
    s = s.fillna(fallback)
    cats = res.summary["category"].astype(str).value_counts()
    return Sustained(s, "emerging", years, tuple((str(c), int(n)) for c, n in cats.head(4).items()),
                     n_island)


def _ward_membership(wh: Warehouse, lsoa_geo: gpd.GeoDataFrame) -> tuple[pd.DataFrame, pd.Series]:
    wards = to_geodataframe(q.areas(wh, "ward", "2018"))
    if wards.empty:
        raise MissingData("no 2018 ward boundaries in the warehouse")
    pts = gpd.GeoDataFrame({"area": lsoa_geo["code"].to_numpy()},
                           geometry=lsoa_geo.geometry.representative_point().to_numpy(),
                           crs=lsoa_geo.crs)
    j = gpd.sjoin(pts, wards[["code", "geometry"]], predicate="within", how="left")
    j = j[~j["area"].duplicated()]
    if j["code"].isna().any():
        raise MissingData(f"LSOAs in no ward, e.g. {list(j.loc[j['code'].isna(), 'area'][:3])}")
    names = pd.Series(wards["name"].astype(str).to_numpy(), index=wards["code"].astype(str))
    return pd.DataFrame({"group": j["code"].astype(str).to_numpy(),
                         "area": j["area"].to_numpy()}), names


def missing_inputs(wh: Warehouse, p: TargetParams | None = None) -> list[str]:
    """The warehouse tables the targeting needs and lacks (empty: it can run)."""
    p = p or TargetParams()
    have = wh.sql(
        "SELECT (SELECT count(*) FROM crime_annual WHERE source = ? AND level = 'lsoa') AS c, "
        "(SELECT count(*) FROM deprivation WHERE level = 'lsoa') AS d, "
        "(SELECT count(*) FROM population WHERE level = 'lsoa' AND year = ?) AS p, "
        "(SELECT count(*) FROM areas WHERE level = 'ward' AND vintage = '2018') AS w",
        [LSOA_SOURCE, p.pop_year]).iloc[0]
    words = {"c": f"LSOA crime ({LSOA_SOURCE})", "d": "LSOA deprivation (IMD)",
             "p": f"LSOA population ({p.pop_year})", "w": "2018 ward boundaries"}
    return [words[k] for k in ("c", "d", "p", "w") if have[k] == 0]


# --- the run ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Robustness:
    """The sensitivity of the shortlist to the weights, summarised.

    ``weights``: the weights scaled to sum to 1; ``weight_sd``: the SD, in percentage points, of
    a Dirichlet weight of 25% with the run's concentration; ``stable``: chosen areas chosen again,
    exactly, in at least half of the draws; ``covered``: chosen areas with at least half of their
    LSOAs inside a chosen area in the average draw; ``chosen_once``: candidates chosen in at least
    one draw; ``myends_stability``: the mean share of draws in which a MyEnds borough is
    shortlisted.
    """

    weights: dict[str, float]
    weight_sd: float
    stable: int
    covered: int
    chosen_once: int
    myends_stability: float


@dataclass(frozen=True, eq=False)
class TargetingResult:
    """Everything one targeting run produced.

    ``candidates``: features, standardised components, score and label of every candidate;
    ``shortlist``: the chosen rows with ``score`` and ``rank``, ``exact`` whether greedy is optimal
    here; ``allocation``: pence, chosen areas x years plus ``total``; ``sensitivity``: the result of
    :func:`vru.analysis.targeting.sensitivity` with ``coverage``; ``comparison``: the MyEnds
    comparison (its table has ``stability`` and the component that most separates each borough's
    best area from the shortlist: ``component``, its ``z`` and the shortlist's ``mean_z``, see
    :func:`vru.analysis.targeting.separating`); ``robustness``: the sensitivity summarised;
    ``membership``: LSOAs of each
    ward or cluster (``None`` for LSOAs); ``shapes``: the chosen areas' outlines (index: candidate
    id, column ``rank``); ``boroughs``: the London borough outlines (for the map).
    """

    params: TargetParams
    candidates: pd.DataFrame
    shortlist: pd.DataFrame
    exact: bool
    allocation: pd.DataFrame
    sensitivity: dict
    comparison: tg.BoroughComparison
    robustness: Robustness
    sustained: Sustained
    membership: pd.DataFrame | None
    inputs: LsoaInputs
    shapes: gpd.GeoDataFrame = field(repr=False)
    boroughs: gpd.GeoDataFrame = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        """The shortlist, allocation, sensitivity and MyEnds comparison as JSON-serialisable Python."""
        p, sl, cand, alloc = self.params, self.shortlist, self.candidates, self.allocation
        comps = [f"z_{c}" for c in tg.COMPONENTS]
        stab = self.sensitivity["candidates"]
        short = []
        for a, r in sl.iterrows():
            short.append({
                "rank": int(r["rank"]), "id": str(a), "label": str(cand.at[a, "label"]),
                "borough": r["borough"], "borough_name": borough_name(r["borough"]),
                "population": int(r["population"]), "score": float(r["score"]),
                **{c: float(cand.at[a, c]) for c in comps},
                "sustained": float(r["sustained"]), "harm_rate_per_1000": float(r["harm"]),
                "imd_score": float(r["deprivation"]), "youth": float(r["youth"]),
                "need_offences_per_year": float(r["need"]),
                "members": list(r["members"]) if "members" in sl.columns else [str(a)],
                "shortlisted_share_of_draws": float(stab.get(a, 0.0)),
                "allocation_pence": {k: int(v) for k, v in alloc.loc[a].items()},
            })
        comp = self.comparison
        return {
            "parameters": p.as_dict(),
            "sustained_violence": sustained_words(self.sustained),
            "candidates": int(len(cand)),
            "greedy_is_exact": bool(self.exact),
            "shortlist": short,
            "allocation_total_pence": int(alloc["total"].sum()),
            "allocation_by_year_pence": {k: int(v) for k, v in
                                         alloc.drop(columns="total").sum().items()},
            "sensitivity": {
                "draws": p.draws, "concentration": p.concentration, "seed": p.seed,
                "candidates": {str(k): float(v) for k, v in stab.items()},
                "boroughs": {str(k): float(v) for k, v in self.sensitivity["boroughs"].items()},
            },
            "myends": {
                "boroughs": list(MYENDS_BOROUGHS),
                "agree": int(comp.agree),
                "p_exact": float(comp.p_exact),
                "by_borough": [
                    {"borough": b, "name": borough_name(b), "myends": bool(r["reference"]),
                     "shortlisted": bool(r["chosen"]), "best_area": str(r["best"]),
                     "rank": int(r["rank"]), "stability": float(r["stability"]),
                     "explanation": why(r)}
                    for b, r in comp.table.iterrows()],
            },
        }


def _labels(p: TargetParams, frame: pd.DataFrame, inp: LsoaInputs, ward_of: pd.Series,
            ward_names: pd.Series) -> pd.Series:
    if p.level == "lsoa":
        return pd.Series({a: f"{inp.names[a]} ({ward_names[ward_of[a]]})" for a in frame.index})
    if p.level == "ward":
        return pd.Series({w: f"{ward_names[w]} ward, {borough_name(frame.at[w, 'borough'])}"
                          for w in frame.index})
    labels = {}
    ward_name_of = ward_of.map(ward_names).to_dict()
    for c, mem in frame["members"].items():
        # the ward most of its LSOAs lie in; of wards tied, the one met first
        ward, _ = Counter(ward_name_of[a] for a in mem).most_common(1)[0]
        labels[c] = f"{ward} ({inp.names[c.split(':', 1)[1]]}, {len(mem)} LSOAs)"
    return pd.Series(labels)


#: The stages :func:`run` reports to its progress callback, in order.
STAGES = ("LSOA data", "sustained violence", "candidates", "names", "selection", "allocation",
          "sensitivity")


def run(wh: Warehouse, params: TargetParams | None = None, *,
        progress: Callable[[str, int], None] | None = None) -> TargetingResult:
    """Score, choose, allocate, test sensitivity and compare with MyEnds (see the module doc).
    ``progress(stage, total)`` is called after each of the :data:`STAGES`.

    Raises :class:`MissingData` when the warehouse lacks LSOA crime, deprivation, population or
    2018 wards, and :class:`vru.analysis.targeting.InfeasibleError` when the constraints cannot be
    met."""
    done = progress or (lambda _stage, _total: None)
    p = params or TargetParams()
    lacking = missing_inputs(wh, p)
    if lacking:
        raise MissingData(f"targeting needs {fmt.join(lacking)} in the warehouse")
    inp = lsoa_inputs(wh, p)
    done("LSOA data", len(STAGES))
    geo = inp.geometry
    nb = SpatialWeights.from_geodataframe(geo, "queen", id_col="code")
    sus = sustained_scores(inp, p, nb)
    done("sustained violence", len(STAGES))
    lsoa = inp.frame.assign(sustained=sus.scores)
    ward_mem, ward_names = _ward_membership(wh, geo)
    ward_of = ward_mem.set_index("area")["group"]
    weights = p.weight_map()
    membership = None
    if p.level == "lsoa":
        frame = lsoa
    elif p.level == "ward":
        membership = ward_mem
        frame = tg.aggregate(lsoa, membership)
    else:
        seed_score = tg.score(tg.features(lsoa, youth=p.youth), weights)["score"]
        membership = tg.grow_clusters(lsoa, nb, seed_score, max_lsoas=p.max_lsoas,
                                      target_population=p.target_population)
        frame = tg.aggregate(lsoa, membership)
    done("candidates", len(STAGES))
    labels = _labels(p, frame, inp, ward_of, ward_names)
    done("names", len(STAGES))
    feats = tg.features(frame, youth=p.youth)
    z = tg.score(feats, weights)
    cand = feats.join(z)
    cand["label"] = labels.reindex(cand.index)
    sel = tg.select(cand, cand["score"], p.n, max_per_borough=p.max_per_borough,
                    min_population=p.min_pop())
    shortlist = sel.table
    done("selection", len(STAGES))
    alloc = tg.allocate(shortlist["need"], p.budget_pence, p.cap_pence, years=p.years)
    done("allocation", len(STAGES))
    sens = tg.sensitivity(z, feats, p.n, weights=weights, draws=p.draws,
                          concentration=p.concentration, seed=p.seed,
                          max_per_borough=p.max_per_borough, min_population=p.min_pop())
    comp = tg.compare_boroughs(list(shortlist["borough"]), MYENDS_BOROUGHS, feats, z,
                               min_population=p.min_pop())
    ct = comp.table
    parts = [tg.separating(r, ct[ct["chosen"]], weights) for _, r in ct.iterrows()]
    comp = dataclasses.replace(comp, table=ct.assign(
        component=[c for c, _, _ in parts], z=[z for _, z, _ in parts],
        mean_z=[m for _, _, m in parts],
        stability=sens["boroughs"].reindex(ct.index).fillna(0.0)))
    sens = {**sens, "coverage": tg.member_coverage(sens["picks"], feats, list(shortlist.index))}
    out = TargetingResult(p, cand, shortlist, sel.exact, alloc, sens, comp,
                          _robustness(p, shortlist, sens, comp), sus, membership, inp,
                          _shapes(geo, membership, shortlist), _boroughs(wh))
    done("sensitivity", len(STAGES))
    return out


def why(row: pd.Series) -> str:
    """Why a borough's best area is in or out of the shortlist, in a phrase, from a row of the
    comparison's table (the ``explanation`` of the JSON and the report's table)."""
    return tg.explanation(bool(row["chosen"]), int(row["rank"]), str(row["component"]),
                          float(row["z"]), float(row["mean_z"]))


def _robustness(p: TargetParams, shortlist: pd.DataFrame, sens: dict,
                comp: tg.BoroughComparison) -> Robustness:
    stab, cov, ct = sens["candidates"], sens["coverage"], comp.table
    return Robustness(
        weights=tg.normalise_weights(p.weight_map()),
        # the SD of a Dirichlet weight of 25% with this concentration, in points
        weight_sd=100 * math.sqrt(0.25 * 0.75 / (p.concentration + 1)),
        stable=int((stab.reindex(shortlist.index).fillna(0) >= 0.5).sum()),
        covered=int((cov >= 0.5).sum()), chosen_once=len(stab),
        myends_stability=float(ct.loc[ct["reference"], "stability"].mean()))


def _shapes(geo: gpd.GeoDataFrame, membership: pd.DataFrame | None,
            shortlist: pd.DataFrame) -> gpd.GeoDataFrame:
    """The outlines of the chosen areas (clusters and wards dissolved from their LSOAs), with rank."""
    g = geo.set_index("code")
    if membership is not None:
        mem = membership[membership["group"].isin(shortlist.index)]
        shapes = g.loc[mem["area"]].assign(group=mem["group"].to_numpy()).dissolve("group")
    else:
        shapes = g.loc[shortlist.index]
    return shapes.assign(rank=shortlist["rank"].reindex(shapes.index).astype(str))


def _boroughs(wh: Warehouse) -> gpd.GeoDataFrame:
    """The London boroughs (2022 vintage, E09 codes) as outlines for the map."""
    b = to_geodataframe(q.areas(wh, "borough", "2022"))
    return b[b["code"].str.startswith("E09")]


__all__ = ["TargetParams", "TargetingResult", "Robustness", "LsoaInputs", "Sustained", "lsoa_inputs",
           "sustained_scores", "sustained_words", "why", "missing_inputs", "run", "LEVELS",
           "DEFAULT_MIN_POPULATION", "MAX_PENCE", "STAGES"]
