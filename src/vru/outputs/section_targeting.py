"""Report section and machine-readable results: choosing the neighbourhoods to fund (MyEnds).

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

:func:`results` returns everything as plain Python (for ``vru target``, JSON); :func:`build`
returns the report section (or ``None`` when the warehouse lacks the data).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from vru import taxonomy
from vru.analysis import harm
from vru.analysis import targeting as tg
from vru.geography import MYENDS_BOROUGHS, borough_name
from vru.model.weights import SpatialWeights
from vru.outputs import charts, charts_drivers
from vru.outputs.html import Section, esc, figure, fmt_int, table
from vru.sources import catalogue
from vru.sources.boundaries import to_geodataframe
from vru.taxonomy import SERIOUS_VIOLENCE_MAJOR
from vru.warehouse import queries as q
from vru.warehouse.store import Warehouse

LSOA_SOURCE = catalogue.MPS_LSOA_ANNUAL_MILLINGTON
LEVELS = ("lsoa", "ward", "cluster")
DEFAULT_MIN_POPULATION = {"lsoa": 1_000, "ward": 5_000, "cluster": 5_000}
#: LSOA violence: the aggregation has major categories only, so the harm proxy is violence
#: against the person + robbery + possession of weapons per 1,000 residents.
VIOLENCE = SERIOUS_VIOLENCE_MAJOR


@dataclass
class TargetParams:
    """Every choice of the targeting, with its default (see docs/methods-drivers.md)."""

    level: str = "cluster"
    n: int = 8  # MyEnds funded 8 areas in 2021
    weights: dict = field(default_factory=lambda: dict(tg.DEFAULT_WEIGHTS))
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

    def min_pop(self) -> int:
        return DEFAULT_MIN_POPULATION[self.level] if self.min_population is None else self.min_population


# --- data from the warehouse -------------------------------------------------------------------


def lsoa_inputs(wh: Warehouse, p: TargetParams | None = None) -> dict:
    """The LSOA area frame (see :mod:`vru.analysis.targeting`), annual counts and rates, names."""
    p = p or TargetParams()
    parts = [q.crime_annual(wh, source=LSOA_SOURCE, level="lsoa", category=c).assign(category=c)
             for c in p.categories]
    a = pd.concat(parts)
    if a.empty:
        raise ValueError(f"no LSOA crime ({LSOA_SOURCE}) in the warehouse")
    counts = a.groupby(["area_code", "year"])["count"].sum(min_count=len(p.categories)).unstack()
    counts = counts.loc[:, counts.notna().all(axis=0)]  # drop years known to be wrong (2020)
    # harm: the same counts weighted per category (vru.analysis.harm; the choice is explicit)
    chi = harm.load_chi(p.chi_file) if p.chi_file else None
    weighted = harm.harm_weighted(a[a["year"].isin(counts.columns)], p.weighting, chi=chi)
    harm_counts = weighted.groupby(["area_code", "year"])["harm"].sum().unstack()
    harm_weights = weighted.attrs["weights"]
    years = sorted(counts.columns)
    if len(years) < p.harm_years:
        raise ValueError(f"fewer than {p.harm_years} years of correct LSOA data")
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
        raise ValueError(f"LSOAs without population, IMD or borough, e.g. {list(missing[:3])}")
    rates = 1000.0 * counts.div(frame["population"], axis=0)
    return {"frame": frame, "counts": counts, "rates": rates, "years": years,
            "harm_years": years[-p.harm_years:], "names": areas["name"].astype(str),
            "harm_weights": harm_weights,
            "geometry": to_geodataframe(areas.loc[ids].reset_index())}


def sustained_scores(inputs: dict, p: TargetParams, neighbours: SpatialWeights) -> tuple[pd.Series, str]:
    """Per-LSOA sustained-violence score and a sentence saying how it was made."""
    years = inputs["years"]
    if p.sustained == "top_decile":
        s = tg.years_in_top_decile(inputs["rates"])
        return s, (f"share of the years {years[0]}-{years[-1]} (excluding years with wrong "
                   f"data) in which the LSOA's violence rate was in the top 10% of LSOAs")
    if p.sustained != "emerging":
        raise ValueError(f"unknown sustained-violence method {p.sustained!r}: 'emerging' or "
                         f"'top_decile'")
    from vru.analysis.emerging import emerging_hotspots

    ids = list(inputs["frame"].index)
    res = emerging_hotspots(inputs["counts"].loc[ids].to_numpy(dtype="float64"),
                            neighbours, global_window="period", time_lag=1, ids=ids)
    s = tg.sustained_from_bins(res.bins)
    fallback = tg.years_in_top_decile(inputs["rates"])
    n_island = int(s.isna().sum())
    s = s.fillna(fallback)
    cats = res.summary["category"].astype(str).value_counts()
    text = (f"share of the years {years[0]}-{years[-1]} ({len(years)} years with correct data) in "
            f"which the LSOA was a significant hot spot (emerging hot spot analysis: space-time "
            f"Gi* on queen-contiguity neighbours, one-year time step, each year against itself, "
            f"Benjamini-Hochberg FDR 5% per year); most common patterns: "
            + ", ".join(f"{c} {n:,}" for c, n in cats.head(4).items())
            + (f"; {n_island} LSOAs without neighbours use the top-decile fallback"
               if n_island else ""))
    return s, text


def _ward_membership(wh: Warehouse, lsoa_geo: gpd.GeoDataFrame) -> tuple[pd.DataFrame, pd.Series]:
    wards = to_geodataframe(q.areas(wh, "ward", "2018"))
    if wards.empty:
        raise ValueError("no 2018 ward boundaries in the warehouse")
    pts = gpd.GeoDataFrame({"area": lsoa_geo["code"].to_numpy()},
                           geometry=lsoa_geo.geometry.representative_point().to_numpy(),
                           crs=lsoa_geo.crs)
    j = gpd.sjoin(pts, wards[["code", "geometry"]], predicate="within", how="left")
    j = j[~j["area"].duplicated()]
    if j["code"].isna().any():
        raise ValueError(f"LSOAs in no ward, e.g. {list(j.loc[j['code'].isna(), 'area'][:3])}")
    names = pd.Series(wards["name"].astype(str).to_numpy(), index=wards["code"].astype(str))
    return pd.DataFrame({"group": j["code"].astype(str).to_numpy(),
                         "area": j["area"].to_numpy()}), names


@dataclass
class Targeting:
    """Everything one targeting run produced."""

    params: TargetParams
    candidates: pd.DataFrame  # features + z components + score + label
    shortlist: pd.DataFrame
    allocation: pd.DataFrame  # pence, areas x years + total
    sensitivity: dict
    comparison: pd.DataFrame
    sustained_text: str
    membership: pd.DataFrame | None
    inputs: dict


def run(wh: Warehouse, p: TargetParams | None = None) -> Targeting:
    """Score, choose, allocate, test sensitivity and compare with MyEnds (see the module doc)."""
    p = p or TargetParams()
    if p.level not in LEVELS:
        raise ValueError(f"unknown candidate level {p.level!r}: one of {LEVELS}")
    inp = lsoa_inputs(wh, p)
    geo = inp["geometry"]
    nb = SpatialWeights.from_geodataframe(geo, "queen", id_col="code")
    sus, sus_text = sustained_scores(inp, p, nb)
    lsoa = inp["frame"].assign(sustained=sus)
    ward_mem, ward_names = _ward_membership(wh, geo)
    ward_of = ward_mem.set_index("area")["group"]
    membership = None
    if p.level == "lsoa":
        frame = lsoa
        labels = pd.Series({a: f"{inp['names'][a]} ({ward_names[ward_of[a]]})" for a in lsoa.index})
    elif p.level == "ward":
        membership = ward_mem
        frame = tg.aggregate(lsoa, membership)
        labels = pd.Series({w: f"{ward_names[w]} ward, {borough_name(frame.at[w, 'borough'])}"
                            for w in frame.index})
    else:
        seed_score = tg.score(tg.features(lsoa, youth=p.youth), p.weights)["score"]
        membership = tg.grow_clusters(lsoa, nb, seed_score, max_lsoas=p.max_lsoas,
                                      target_population=p.target_population)
        frame = tg.aggregate(lsoa, membership)
        labels = {}
        for c, mem in frame["members"].items():
            wn = pd.Series([ward_names[ward_of[a]] for a in mem]).value_counts()
            labels[c] = f"{wn.index[0]} ({inp['names'][c.split(':', 1)[1]]}, {len(mem)} LSOAs)"
        labels = pd.Series(labels)
    feats = tg.features(frame, youth=p.youth)
    z = tg.score(feats, p.weights)
    cand = feats.join(z)
    cand["label"] = labels.reindex(cand.index)
    shortlist = tg.select(cand, cand["score"], p.n, max_per_borough=p.max_per_borough,
                          min_population=p.min_pop())
    alloc = tg.allocate(shortlist["need"], p.budget_pence, p.cap_pence, years=p.years)
    sens = tg.sensitivity(z, feats, p.n, weights=p.weights, draws=p.draws,
                          concentration=p.concentration, seed=p.seed,
                          max_per_borough=p.max_per_borough, min_population=p.min_pop())
    comp = tg.compare_boroughs(list(shortlist["borough"]), MYENDS_BOROUGHS, feats, z,
                               min_population=p.min_pop())
    comp["explanation"] = [tg.explain(r, comp[comp["chosen"]], p.weights)
                           for _, r in comp.iterrows()]
    comp["stability"] = sens["boroughs"].reindex(comp.index).fillna(0.0)
    sens["coverage"] = tg.member_coverage(sens["picks"], feats, list(shortlist.index))
    return Targeting(p, cand, shortlist, alloc, sens, comp, sus_text, membership, inp)


# --- machine-readable output ------------------------------------------------------------------


def _gbp(pence: int) -> str:
    return f"£{pence // 100:,}.{pence % 100:02d}"


def results(wh: Warehouse, p: TargetParams | None = None) -> dict:
    """The shortlist, allocation, sensitivity and MyEnds comparison as JSON-serialisable Python."""
    t = run(wh, p)
    sl = t.shortlist
    comps = [f"z_{c}" for c in tg.COMPONENTS]
    short = []
    for a, r in sl.iterrows():
        short.append({
            "rank": int(r["rank"]), "id": str(a), "label": str(t.candidates.at[a, "label"]),
            "borough": r["borough"], "borough_name": borough_name(r["borough"]),
            "population": int(r["population"]), "score": float(r["score"]),
            **{c: float(t.candidates.at[a, c]) for c in comps},
            "sustained": float(r["sustained"]), "harm_rate_per_1000": float(r["harm"]),
            "imd_score": float(r["deprivation"]), "youth": float(r["youth"]),
            "need_offences_per_year": float(r["need"]),
            "members": list(r["members"]) if "members" in sl.columns else [str(a)],
            "shortlisted_share_of_draws": float(t.sensitivity["candidates"].get(a, 0.0)),
            "allocation_pence": {k: int(v) for k, v in t.allocation.loc[a].items()},
        })
    return {
        "parameters": asdict(t.params) | {"min_population": t.params.min_pop()},
        "sustained_violence": t.sustained_text,
        "candidates": int(len(t.candidates)),
        "greedy_is_exact": bool(sl.attrs.get("exact", False)),
        "shortlist": short,
        "allocation_total_pence": int(t.allocation["total"].sum()),
        "allocation_by_year_pence": {k: int(v) for k, v in
                                     t.allocation.drop(columns="total").sum().items()},
        "sensitivity": {
            "draws": t.params.draws, "concentration": t.params.concentration,
            "seed": t.params.seed,
            "candidates": {str(k): float(v) for k, v in t.sensitivity["candidates"].items()},
            "boroughs": {str(k): float(v) for k, v in t.sensitivity["boroughs"].items()},
        },
        "myends": {
            "boroughs": list(MYENDS_BOROUGHS),
            "agree": int(t.comparison.attrs["agree"]),
            "p_exact": float(t.comparison.attrs["p_exact"]),
            "by_borough": [
                {"borough": b, "name": borough_name(b), "myends": bool(r["reference"]),
                 "shortlisted": bool(r["chosen"]), "best_area": str(r["best"]),
                 "rank": int(r["rank"]), "stability": float(r["stability"]),
                 "explanation": r["explanation"]}
                for b, r in t.comparison.iterrows()],
        },
    }


# --- the report section -----------------------------------------------------------------------

HARM_WORDS = {"css": "its ONS Crime Severity Score (2020 edition)", "count": "1 (counts)",
              "chi": "its Cambridge Crime Harm Index days (user-supplied table)"}
COMPONENT_WORDS = {"sustained": "sustained violence", "harm": "harm (weighted violence rate)",
                   "deprivation": "deprivation (IMD)", "youth": "young residents"}


def build(wh: Warehouse, p: TargetParams | None = None) -> Section | None:
    """The targeting section of the needs assessment, or ``None`` without the data it needs."""
    p = p or TargetParams()
    have = wh.sql(
        "SELECT (SELECT count(*) FROM crime_annual WHERE source = ? AND level = 'lsoa') AS c, "
        "(SELECT count(*) FROM deprivation WHERE level = 'lsoa') AS d, "
        "(SELECT count(*) FROM population WHERE level = 'lsoa' AND year = ?) AS p, "
        "(SELECT count(*) FROM areas WHERE level = 'ward' AND vintage = '2018') AS w",
        [LSOA_SOURCE, p.pop_year]).iloc[0]
    if (have == 0).any():
        return None
    t = run(wh, p)
    sl, cand, alloc = t.shortlist, t.candidates, t.allocation
    w = tg.normalise_weights(p.weights)
    wtxt = ", ".join(f"{COMPONENT_WORDS[c]} {100 * w[c]:.0f}%" for c in tg.COMPONENTS)
    level_words = {"lsoa": "LSOAs", "ward": "2018 wards",
                   "cluster": (f"clusters of up to {p.max_lsoas} contiguous LSOAs in one borough, "
                               f"grown from every LSOA towards its highest-scoring neighbours "
                               f"until they hold {p.target_population:,} residents")}[p.level]
    cats = " + ".join(taxonomy.label(c).lower() for c in p.categories)
    hy = t.inputs["harm_years"]
    hw = t.inputs["harm_weights"]
    wts = ", ".join(f"{taxonomy.label(c).lower()} {hw[c]:,.1f}" for c in p.categories if c in hw)
    stab = t.sensitivity["candidates"]
    cov = t.sensitivity["coverage"]

    rows = pd.DataFrame({
        "Rank": sl["rank"].astype(str),
        "Area": [cand.at[a, "label"] for a in sl.index],
        "Borough": [borough_name(b) for b in sl["borough"]],
        "Residents": [fmt_int(v) for v in sl["population"]],
        "Score": [f"{v:.2f}" for v in sl["score"]],
        **{f"z {COMPONENT_WORDS[c]}": [f"{cand.at[a, f'z_{c}']:+.2f}" for a in sl.index]
           for c in tg.COMPONENTS},
        "Chosen in draws": [f"{100 * stab.get(a, 0):.0f}%" for a in sl.index],
        "Area covered in draws": [f"{100 * cov[a]:.0f}%" for a in sl.index],
    })
    years = [c for c in alloc.columns if c != "total"]
    al = pd.DataFrame({"Area": [cand.at[a, "label"] for a in alloc.index],
                       "Need (offences a year)": [f"{v:,.0f}" for v in sl["need"]]})
    for y in years + ["total"]:
        al[y.capitalize()] = [_gbp(int(v)) for v in alloc[y]]
    al.loc[len(al)] = ["All areas", f"{sl['need'].sum():,.0f}",
                       *[_gbp(int(alloc[y].sum())) for y in years + ["total"]]]
    alloc_svg = charts_drivers.stacked_bars(
        (alloc[years] / 100).set_axis([f"{r}. {cand.at[a, 'label']}" for a, r in
                                       zip(sl.index, sl["rank"], strict=True)]),
        title="Budget by area and year", xlabel="GBP", money=True,
        label="Stacked bar chart of the budget allocated to each chosen area by year")

    top = stab.head(15)
    stab_svg = charts.bar_chart(
        pd.Series(100 * top.to_numpy(), index=[cand.at[a, "label"] for a in top.index]),
        title="How often each area is shortlisted when the weights vary",
        xlabel=f"% of {p.draws:,} weight draws", highlight=[cand.at[a, "label"] for a in sl.index],
        label="Bar chart of the share of weight draws in which each area is shortlisted")

    geo = t.inputs["geometry"].set_index("code")
    if t.membership is not None:
        mem = t.membership[t.membership["group"].isin(sl.index)]
        shapes = geo.loc[mem["area"]].assign(group=mem["group"].to_numpy()).dissolve("group")
    else:
        shapes = geo.loc[sl.index]
    shapes = shapes.assign(rank=sl["rank"].reindex(shapes.index).astype(str))
    boroughs = to_geodataframe(q.areas(wh, "borough", "2022"))
    boroughs = boroughs[boroughs["code"].str.startswith("E09")]
    map_svg = charts_drivers.highlight_map(
        boroughs, shapes, labels="rank", title=f"The {p.n} chosen areas",
        label=f"Map of London boroughs with the {p.n} chosen areas highlighted and numbered")

    comp = t.comparison
    agree = comp.attrs["agree"]
    ct = comp[comp["chosen"] | comp["reference"]].copy()
    ct = ct.sort_values(["reference", "chosen", "rank"], ascending=[False, False, True])
    ctab = pd.DataFrame({
        "Borough": [borough_name(b) for b in ct.index],
        "MyEnds": ["yes" if v else "" for v in ct["reference"]],
        "Shortlisted": ["yes" if v else "" for v in ct["chosen"]],
        "Best area": [cand.at[a, "label"] for a in ct["best"]],
        "Rank of best area": ct["rank"].astype(str),
        "Shortlisted in draws": [f"{100 * v:.0f}%" for v in ct["stability"]],
        "Why": ct["explanation"],
    })
    central = [b for b in ct.index if ct.at[b, "chosen"] and not ct.at[b, "reference"]
               and "strongest on harm" in ct.at[b, "explanation"]]
    central_txt = (f" {', '.join(borough_name(b) for b in central)}: chosen mainly for the "
                   f"violence rate, which per resident is inflated where many victims are "
                   f"visitors or workers (town and city centres)." if central else "")
    myends_stab = comp.loc[comp["reference"], "stability"]
    body = (
        f"<p>MyEnds funds neighbourhoods where violence is high and sustained. This section "
        f"ranks candidate areas on the same criteria, picks {p.n} under the programme's "
        f"constraints and allocates a budget, so that a shortlist and a budget can be defended "
        f"from named data.</p>"
        f"<p><strong>Candidates</strong>: {esc(level_words)} ({len(cand):,} candidates; the City "
        f"of London has no MPS LSOA data). <strong>Score</strong> = weighted sum of standardised "
        f"components (winsorised at the 1st/99th percentiles, mean 0, SD 1): {esc(wtxt)}. "
        f"Sustained violence: {esc(t.sustained_text)}. Harm: {esc(cats)} per 1,000 residents, "
        f"each offence weighted by {esc(HARM_WORDS.get(p.weighting, p.weighting))} "
        f"(weights {esc(wts)}; see docs/methods-harm.md), mean of {', '.join(map(str, hy))}. "
        f"Deprivation: IMD 2019 score. Young residents: share aged 16-29 (ONS "
        f"mid-{p.pop_year}). <strong>Constraints</strong>: at most {p.max_per_borough} area per "
        f"borough, at least {p.min_pop():,} residents"
        f"{', contiguous LSOAs' if p.level == 'cluster' else ''}. Chosen greedily by score, "
        f"which is {'exact here' if sl.attrs.get('exact') else 'a heuristic here'}: with one area "
        f"per borough the best choice is each borough's best area, then the {p.n} best of "
        f"those.</p>"
        + table(rows, f"The {p.n} chosen areas", numeric={"Residents", "Score", "Rank",
                                                          "Chosen in draws",
                                                          "Area covered in draws"}
                | {f"z {COMPONENT_WORDS[c]}" for c in tg.COMPONENTS})
        + figure(map_svg, f"The {p.n} chosen areas, numbered by rank.")
        + f"<h3>Budget</h3><p>{_gbp(p.budget_pence)} over {p.years} years in equal yearly "
          f"amounts, shared in proportion to need (offences a year, mean of "
          f"{', '.join(map(str, hy))}) with at most {_gbp(p.cap_pence)} per area per year; "
          f"money above a cap goes to the other areas in proportion to their need. Amounts are "
          f"whole pence and sum exactly to the budget.</p>"
        + table(al, "Allocation by area and year (GBP)", numeric=set(al.columns[1:]))
        + figure(alloc_svg, "Budget by area and year.")
        + f"<h3>How robust is the shortlist?</h3><p>The weights were varied {p.draws:,} times "
          f"(Dirichlet draws centred on the defaults, concentration {p.concentration:g}, so each "
          f"weight varies by about ±{100 * np.sqrt(0.25 * 0.75 / (p.concentration + 1)):.0f} "
          f"points around 25%; seed {p.seed}). "
          f"{int((stab.reindex(sl.index).fillna(0) >= 0.5).sum())} of the {p.n} chosen areas are "
          f"chosen again, exactly, in at least half of the draws, and "
          f"{int((cov >= 0.5).sum())} have at least half of their LSOAs inside a chosen area in "
          f"the average draw (“area covered”: overlapping clusters differ by an LSOA or two, so "
          f"the same neighbourhood can be chosen as a slightly different cluster); "
          f"{len(stab):,} candidates are chosen at least once. By borough: "
          + esc(", ".join(f"{borough_name(b)} {100 * v:.0f}%"
                          for b, v in t.sensitivity["boroughs"].head(12).items()))
          + ".</p>"
        + figure(stab_svg, "Share of weight draws in which each area is shortlisted (the 15 most "
                           "frequent; chosen areas in orange).")
        + f"<h3>Compared with MyEnds</h3><p>MyEnds funded areas in Brent, Croydon, Hackney, "
          f"Haringey, Lambeth, Newham, Southwark and Tower Hamlets. {agree} of the {p.n} "
          f"boroughs chosen here are among them (p = {comp.attrs['p_exact']:.3f}: the chance of "
          f"{agree} or more if {p.n} of the {comp.attrs['n_boroughs']} boroughs were picked at "
          f"random). Across the weight draws the MyEnds boroughs are shortlisted in "
          f"{100 * myends_stab.mean():.0f}% of draws on average. Differences have known causes "
          f"beyond the data: MyEnds areas were chosen in 2021 from bids by 31 local consortia "
          f"(a borough without a strong bid could not be funded), on the data and priorities of "
          f"the time, and an area can be an estate smaller than any candidate here.{esc(central_txt)}"
          f"</p>"
        + table(ctab, "Boroughs chosen here and MyEnds boroughs",
                numeric={"Rank of best area", "Shortlisted in draws"})
    )
    return Section("targeting", "Choosing neighbourhoods to fund", body)


__all__ = ["TargetParams", "Targeting", "lsoa_inputs", "sustained_scores", "run", "results", "build"]
