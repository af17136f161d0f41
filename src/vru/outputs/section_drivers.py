"""Report section and machine-readable results: what drives violence (the "City Hall analysis").

Reproduces, from named data, the two statements City Hall made without publishing their measures:

1. "six of the 10 boroughs with the highest increases in unemployment over the pandemic are in the
   top 10 boroughs for serious violence", computed with every bundled labour-market measure
   (ONS model-based unemployment rate 2019 -> 2020 and 2019 -> 2021; WPI/Nomis claimant count
   October 2019 -> October 2020 summed from LSOAs to boroughs, as a change in claimants, a change
   in the claimant rate and a percentage change) against serious violence as counts and as rates
   per 1,000 residents, over a stated period and, for sensitivity, over other years;
2. (2019) "three quarters of the boroughs with the highest violent offending are among the 10
   most deprived" (IMD 2019 average score).

Plus rank and linear correlations and count regressions at borough and LSOA level. The methods are
in :mod:`vru.analysis.drivers` and ``docs/methods-drivers.md``. Universe: the 32 boroughs policed
by the Metropolitan Police (the City of London has no MPS figures and no model-based rate).

:func:`results` returns everything as plain Python (for ``vru drivers``, JSON); :func:`build`
returns the report section (or ``None`` when the warehouse lacks the data).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from vru import taxonomy
from vru.analysis import drivers as d
from vru.geography import MPS_BOROUGHS, borough_name
from vru.outputs import charts_drivers
from vru.outputs.html import Section, esc, figure, table
from vru.sources import catalogue
from vru.taxonomy import SERIOUS_VIOLENCE, SERIOUS_VIOLENCE_MAJOR
from vru.warehouse import queries as q
from vru.warehouse.store import Warehouse

CRIME_SOURCE = catalogue.MPS_BOROUGH_DETAILED  # the only borough series with knife offences
LSOA_CRIME_SOURCE = catalogue.MPS_LSOA_ANNUAL_MILLINGTON
ONS_SOURCE = catalogue.ONS_MODEL_UNEMPLOYMENT
CLAIMANT_SOURCE = catalogue.WPI_CLAIMANT_COUNT

#: Default serious violence: violence with injury + robbery + knife offences (possession of an
#: article with a blade or point and other knife offences), MPS detailed classification.
#: LSOA serious violence: the LSOA annual aggregation has major categories only.
LSOA_VIOLENCE = SERIOUS_VIOLENCE_MAJOR
#: IMD 2019 domains used as predictors (the crime domain is left out: it is built from recorded
#: crime, which would put the outcome on both sides of the equation).
IMD_DOMAINS = ("income_score", "employment_score", "education_score", "health_score",
               "barriers_score", "living_environment_score")
CLAIMED_K = 6  # City Hall's "six of the 10"


@dataclass
class DriverParams:
    """Every choice of the analysis, with its default (see docs/methods-drivers.md)."""

    categories: tuple[str, ...] = SERIOUS_VIOLENCE
    start: str = "2020-04"  # the first pandemic year, April 2020 - March 2021
    end: str = "2021-03"
    sensitivity_periods: tuple[tuple[str, str, str], ...] = (
        ("2019", "2019-01", "2019-12"), ("2020", "2020-01", "2020-12"),
        ("2021", "2021-01", "2021-12"), ("2022", "2022-01", "2022-12"))
    n: int = 10
    ons_from: int = 2019
    ons_to: tuple[int, ...] = (2020, 2021)
    claimant_from: str = "2019-10"
    claimant_to: str = "2020-10"
    deprivation_periods: tuple[tuple[str, str, str], ...] = (
        ("2018", "2018-01", "2018-12"), ("2019", "2019-01", "2019-12"))
    deprivation_n: tuple[int, ...] = (4, 8, 10, 12)
    lsoa_categories: tuple[str, ...] = LSOA_VIOLENCE
    lsoa_year: int = 2021  # latest correct year of the LSOA aggregation (2020 is wrong)
    permutations: int = 10_000
    seed: int = 0


# --- data from the warehouse -------------------------------------------------------------------


def _pop_year(wh: Warehouse, start: str, end: str) -> int:
    """The available mid-year estimate nearest the middle of the period."""
    years = wh.sql("SELECT DISTINCT year FROM population WHERE level = 'lsoa' ORDER BY 1")["year"]
    if years.empty:
        raise ValueError("no population estimates in the warehouse")
    mid = pd.Timestamp(start) + (pd.Timestamp(end) + pd.offsets.MonthEnd(0) - pd.Timestamp(start)) / 2
    return int(min(years, key=lambda y: (abs(pd.Timestamp(f"{y}-07-01") - mid), -y)))


def borough_violence(wh: Warehouse, categories=SERIOUS_VIOLENCE, start: str = "2020-04",
                     end: str = "2021-03", *, source: str = CRIME_SOURCE) -> pd.DataFrame:
    """Offences per MPS borough over ``start``..``end`` (whole months) and per 1,000 residents.

    Columns ``count``, ``population`` (mid-year estimate nearest the middle of the period),
    ``pop_year``, ``rate_per_1000``. Raises if the period is not covered by the source.
    """
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    first, last = q.crime_months(wh, source)
    if pd.isna(first) or first > lo or last < hi:
        raise ValueError(f"{source} does not cover {lo:%Y-%m}..{hi:%Y-%m}")
    parts = [q.crime_series(wh, source=source, level="borough", category=c, start=start, end=end)
             for c in categories]
    s = pd.concat(parts)
    count = s.groupby("area_code")["count"].sum().reindex(MPS_BOROUGHS).fillna(0)
    year = _pop_year(wh, start, end)
    pop = q.population(wh, level="borough", year=year).set_index("area_code")["population"]
    out = pd.DataFrame({"count": count.astype("int64"), "population": pop.reindex(MPS_BOROUGHS)})
    out["pop_year"] = year
    out["rate_per_1000"] = 1000.0 * out["count"] / out["population"]
    return out.rename_axis("borough")


def _claimant_wide(wh: Warehouse, months: list[str]) -> pd.DataFrame:
    df = wh.sql(
        "SELECT area_code, period, measure, value FROM unemployment WHERE source = ? "
        "AND level = 'lsoa' AND list_contains(?, period)",
        [CLAIMANT_SOURCE, [pd.Timestamp(m) for m in months]],
    )
    if df.empty:
        raise ValueError(f"no claimant count ({CLAIMANT_SOURCE}) for {months} in the warehouse")
    df["key"] = df["measure"].astype(str) + "@" + df["period"].dt.strftime("%Y-%m")
    return df.pivot(index="area_code", columns="key", values="value")


def _lsoa_parent(wh: Warehouse) -> pd.Series:
    a = q.areas(wh, "lsoa", "2011")
    return pd.Series(a["parent_code"].astype(str).to_numpy(), index=a["code"].astype(str),
                     name="borough")


def labour_market_rises(wh: Warehouse, p: DriverParams | None = None) -> tuple[pd.DataFrame, dict]:
    """The pandemic rise in unemployment per MPS borough, by every bundled measure.

    Returns ``(rises, labels)``: one column per measure id, and id -> a description in words.
    Claimant counts are summed from LSOAs (2011 LSOA -> borough from the LSOA boundaries); the
    claimant rate is the borough sum of claimants over the borough sum of the 16-64 population
    WPI used, in percentage points. ``coverage`` (not a measure): the share of each borough's
    16-64 residents living in the LSOAs the claimant file covers.
    """
    p = p or DriverParams()
    out, labels = pd.DataFrame(index=pd.Index(MPS_BOROUGHS, name="borough")), {}
    u = wh.sql("SELECT area_code, year(period) AS year, value FROM unemployment WHERE source = ? "
               "AND level = 'borough' AND measure = 'unemployment_rate_model' "
               "AND period_months = 12", [ONS_SOURCE])
    if not u.empty:
        w = u.pivot(index="area_code", columns="year", values="value")
        for to in p.ons_to:
            if p.ons_from in w.columns and to in w.columns:
                key = f"ons_rate_{p.ons_from}_{to}"
                out[key] = d.change(w, p.ons_from, to).reindex(MPS_BOROUGHS)
                labels[key] = (f"ONS model-based unemployment rate, change {p.ons_from} to {to} "
                               f"(percentage points)")
    c0, c1 = pd.Timestamp(p.claimant_from), pd.Timestamp(p.claimant_to)
    try:
        cw = _claimant_wide(wh, [p.claimant_from, p.claimant_to])
    except ValueError:
        cw = None
    if cw is not None:
        a, b = f"{c0:%Y-%m}", f"{c1:%Y-%m}"
        need = [f"claimant_count@{a}", f"claimant_count@{b}", f"population_16_64@{a}",
                f"population_16_64@{b}"]
        if all(k in cw.columns for k in need):
            bor = d.sum_to_parent(cw[need], _lsoa_parent(wh)).reindex(MPS_BOROUGHS)
            span = f"{c0:%b %Y} to {c1:%b %Y}"
            out["claimant_count_change"] = bor[need[1]] - bor[need[0]]
            labels["claimant_count_change"] = f"Claimant count, change {span} (claimants)"
            out["claimant_rate_change"] = (100 * bor[need[1]] / bor[need[3]]
                                           - 100 * bor[need[0]] / bor[need[2]])
            labels["claimant_rate_change"] = (f"Claimant rate, change {span} (percentage points "
                                              f"of residents aged 16-64)")
            out["claimant_count_pct"] = 100 * (bor[need[1]] / bor[need[0]] - 1)
            labels["claimant_count_pct"] = f"Claimant count, percentage change {span}"
            parent = _lsoa_parent(wh)
            have = cw[need].dropna().index
            out.attrs["missing_lsoas"] = int((~parent.index.isin(have)).sum())
            pop = q.population(wh, level="borough", year=int(c0.year), age_band="16-64")
            if not pop.empty:
                full = pop.set_index("area_code")["population"].reindex(MPS_BOROUGHS)
                out.attrs["coverage"] = (bor[need[2]] / full).to_dict()
    if not labels:
        raise ValueError("no unemployment measure in the warehouse")
    return out, labels


def _violence_measures(wh: Warehouse, categories, start: str, end: str) -> tuple[dict, dict]:
    v = borough_violence(wh, categories, start, end)
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    span = f"{lo:%b %Y} - {hi:%b %Y}"
    return ({"count": v["count"].astype(float), "rate": v["rate_per_1000"]},
            {"count": f"serious violence offences, {span}",
             "rate": f"serious violence per 1,000 residents (mid-{v['pop_year'].iloc[0]}), {span}"})


def city_hall(wh: Warehouse, p: DriverParams | None = None) -> dict:
    """The unemployment statement with every measure: headline grid, sensitivity over periods."""
    p = p or DriverParams()
    rises, rise_labels = labour_market_rises(wh, p)
    viol, viol_labels = _violence_measures(wh, p.categories, p.start, p.end)
    grid = d.overlap_grid({k: rises[k] for k in rise_labels}, viol, n=p.n,
                          permutations=p.permutations, seed=p.seed)
    grid["x_label"] = grid["x"].map(rise_labels)
    grid["y_label"] = grid["y"].map(viol_labels)
    sens = []
    for name, lo, hi in ((f"{p.start}..{p.end}", p.start, p.end), *p.sensitivity_periods):
        try:
            v, _ = _violence_measures(wh, p.categories, lo, hi)
        except ValueError:
            continue
        g = d.overlap_grid({k: rises[k] for k in rise_labels}, v, n=p.n, permutations=1,
                           seed=p.seed)
        g["period"] = name
        sens.append(g[["period", "x", "y", "k", "k_min", "k_max", "p_exact", "rho"]])
    sens = pd.concat(sens, ignore_index=True)
    ci = wh.sql("SELECT value FROM unemployment WHERE source = ? AND level = 'borough' AND "
                "measure = 'unemployment_rate_model_ci95' AND year(period) BETWEEN ? AND ?",
                [ONS_SOURCE, p.ons_from, max(p.ons_to)])["value"]
    return {"grid": grid, "sensitivity": sens, "rises": rises, "rise_labels": rise_labels,
            "violence": pd.DataFrame(viol), "violence_labels": viol_labels,
            "coverage": rises.attrs.get("coverage", {}),
            "missing_lsoas": rises.attrs.get("missing_lsoas"),
            "ons_ci_range": (float(ci.min()), float(ci.median()), float(ci.max())) if len(ci) else None}


def deprivation_statement(wh: Warehouse, p: DriverParams | None = None) -> pd.DataFrame:
    """k of the top-n boroughs by violence that are among the 10 most deprived (IMD average score)."""
    p = p or DriverParams()
    imd = q.deprivation(wh, level="borough", measure="imd_average_score")
    if imd.empty:
        raise ValueError("no IMD borough average scores in the warehouse")
    imd = imd.set_index("area_code")["value"].reindex(MPS_BOROUGHS).rename("imd_average_score")
    rows = []
    for cats, cname in ((p.categories, "serious violence"),
                        ((taxonomy.VIOLENCE_AGAINST_THE_PERSON,), "violence against the person")):
        for label, lo, hi in p.deprivation_periods:
            v, _ = _violence_measures(wh, cats, lo, hi)
            for kind, series in v.items():
                for n in p.deprivation_n:
                    o = d.top_n_overlap(series.rename(kind), imd, n, n_y=10,
                                        permutations=p.permutations, seed=p.seed)
                    rows.append({"violence": cname, "period": label, "measure": kind, "n_top": n,
                                 "k": o.k, "k_min": o.k_min, "k_max": o.k_max,
                                 "share": o.k / n, "expected": o.expected, "p_exact": o.p_exact,
                                 "p_permutation": o.p_permutation, "common": o.common})
    return pd.DataFrame(rows)


def lsoa_frame(wh: Warehouse, p: DriverParams | None = None) -> pd.DataFrame:
    """One row per 2011 LSOA with violence, population, youth share, claimant change and IMD."""
    p = p or DriverParams()
    parts = [q.crime_annual(wh, source=LSOA_CRIME_SOURCE, level="lsoa", category=c)
             for c in p.lsoa_categories]
    a = pd.concat(parts)
    a = a[a["year"] == p.lsoa_year]
    if a.empty or a["count"].isna().all():
        raise ValueError(f"no LSOA violence for {p.lsoa_year} in the warehouse")
    viol = a.groupby("area_code")["count"].sum(min_count=len(p.lsoa_categories))
    year = _pop_year(wh, f"{p.lsoa_year}-01", f"{p.lsoa_year}-12")
    pop = q.population(wh, level="lsoa", year=year).set_index("area_code")["population"]
    youth = q.population(wh, level="lsoa", year=year, age_band="16-29").set_index(
        "area_code")["population"]
    df = pd.DataFrame({"violence": viol}).rename_axis("lsoa")
    df["population"] = pop.reindex(df.index)
    df["youth_share"] = youth.reindex(df.index) / df["population"]
    df["violence_rate"] = 1000.0 * df["violence"] / df["population"]
    df["borough"] = _lsoa_parent(wh).reindex(df.index)
    try:
        cw = _claimant_wide(wh, [p.claimant_from, p.claimant_to])
        c0, c1 = (f"{pd.Timestamp(m):%Y-%m}" for m in (p.claimant_from, p.claimant_to))
        df["claimant_rate_change"] = (cw[f"claimant_rate@{c1}"] - cw[f"claimant_rate@{c0}"]).reindex(
            df.index)
    except (ValueError, KeyError):
        df["claimant_rate_change"] = np.nan
    dep = wh.sql("SELECT area_code, measure, value FROM deprivation WHERE level = 'lsoa' AND "
                 "edition = 'IoD2019' AND list_contains(?, measure)", [["imd_score", *IMD_DOMAINS]])
    dep = dep.pivot(index="area_code", columns="measure", values="value")
    return df.join(dep, how="left")


def lsoa_drivers(wh: Warehouse, p: DriverParams | None = None) -> dict:
    """LSOA correlations with the violence rate, and Poisson / NB2 regressions of the counts."""
    p = p or DriverParams()
    df = lsoa_frame(wh, p)
    pairs = [(x, "violence_rate") for x in ("claimant_rate_change", "imd_score", "youth_share")
             if df[x].notna().sum() >= 4]
    cors = d.correlation_table(df, pairs)
    preds = [c for c in (*IMD_DOMAINS, "claimant_rate_change", "youth_share")
             if c in df.columns and df[c].notna().sum() > 0]
    fits = {}
    for fam in ("poisson", "negbin"):
        fits[fam] = d.count_regression(df, "violence", preds, exposure="population", family=fam,
                                       standardise=True)
    return {"frame": df, "correlations": cors, "regressions": fits, "predictors": preds}


def borough_regression(wh: Warehouse, p: DriverParams | None = None) -> dict[str, d.Regression]:
    """Borough serious violence counts on IMD average score, claimant-rate rise and youth share."""
    p = p or DriverParams()
    v = borough_violence(wh, p.categories, p.start, p.end)
    rises, _ = labour_market_rises(wh, p)
    imd = q.deprivation(wh, level="borough", measure="imd_average_score").set_index("area_code")
    yr = int(v["pop_year"].iloc[0])
    youth = q.population(wh, level="borough", year=yr, age_band="16-29").set_index("area_code")
    df = v.copy()
    df["imd_average_score"] = imd["value"].reindex(df.index)
    df["youth_share"] = youth["population"].reindex(df.index) / df["population"]
    preds = ["imd_average_score", "youth_share"]
    if "claimant_rate_change" in rises:
        df["claimant_rate_change"] = rises["claimant_rate_change"]
        preds.insert(1, "claimant_rate_change")
    return {fam: d.count_regression(df, "count", preds, exposure="population", family=fam,
                                    standardise=True) for fam in ("poisson", "negbin")}


# --- machine-readable output ------------------------------------------------------------------


def _plain(x):
    if isinstance(x, pd.DataFrame):
        return [{k: _plain(v) for k, v in r.items()} for r in x.to_dict(orient="records")]
    if isinstance(x, pd.Series):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not np.isfinite(x):
        return None
    return x


def results(wh: Warehouse, p: DriverParams | None = None) -> dict:
    """Everything the section shows, as JSON-serialisable Python (for ``vru drivers``)."""
    p = p or DriverParams()
    ch = city_hall(wh, p)
    lsoa = lsoa_drivers(wh, p)
    regs = borough_regression(wh, p)
    return _plain({
        "parameters": asdict(p),
        "caveat": d.CAVEAT,
        "unemployment_statement": {
            "grid": ch["grid"], "sensitivity": ch["sensitivity"],
            "rise_measures": ch["rise_labels"], "violence_measures": ch["violence_labels"],
            "rises": ch["rises"].reset_index(), "violence": ch["violence"].reset_index(),
            "claimant_coverage": ch["coverage"],
        },
        "deprivation_statement": deprivation_statement(wh, p),
        "lsoa": {"correlations": lsoa["correlations"],
                 "regressions": {k: r.as_dict() | {"description": r.describe()}
                                 for k, r in lsoa["regressions"].items()}},
        "borough_regressions": {k: r.as_dict() | {"description": r.describe()}
                                for k, r in regs.items()},
    })


# --- the report section -----------------------------------------------------------------------


def _names(codes) -> str:
    return ", ".join(borough_name(c) for c in codes)


def _f(x: float, nd: int = 2) -> str:
    return "–" if pd.isna(x) else f"{x:.{nd}f}"


def _p(x: float) -> str:
    return "–" if pd.isna(x) else ("< 0.001" if x < 0.001 else f"{x:.3f}")


def _cat_words(cats) -> str:
    return " + ".join(taxonomy.label(c).lower() for c in cats)


PRED_NAMES = {
    "income_score": "IMD income", "employment_score": "IMD employment",
    "education_score": "IMD education and skills", "health_score": "IMD health and disability",
    "barriers_score": "IMD barriers to housing and services",
    "living_environment_score": "IMD living environment",
    "claimant_rate_change": "claimant rate rise Oct 2019 - Oct 2020",
    "youth_share": "share of residents aged 16-29", "imd_average_score": "IMD average score",
    "imd_score": "IMD score", "violence": "offences", "count": "offences",
    "population": "residents",
}


def _statement_section(ch: dict, p: DriverParams) -> str:
    g = ch["grid"]
    lo, hi = pd.Timestamp(p.start), pd.Timestamp(p.end)
    rows = pd.DataFrame({
        "Unemployment rise": g["x_label"],
        "Serious violence": ["counts" if y == "count" else "rate per 1,000" for y in g["y"]],
        f"k of {p.n}": [f"{k}" if a == b else f"{k} ({a}–{b} with ties)"
                        for k, a, b in zip(g["k"], g["k_min"], g["k_max"], strict=True)],
        "p exact": [_p(v) for v in g["p_exact"]],
        "p permutation": [_p(v) for v in g["p_permutation"]],
        "Spearman rho (95% CI)": [f"{_f(r)} ({_f(a)} to {_f(b)})"
                                  for r, a, b in zip(g["rho"], g["rho_low"], g["rho_high"],
                                                     strict=True)],
        "Pearson r (95% CI)": [f"{_f(r)} ({_f(a)} to {_f(b)})"
                               for r, a, b in zip(g["r"], g["r_low"], g["r_high"], strict=True)],
        "Boroughs in both top sets": [_names(c) for c in g["common"]],
    })
    sens = ch["sensitivity"]
    piv = sens.assign(m=sens["x"].map(ch["rise_labels"]) + " vs violence " + sens["y"] + "s")
    piv = piv.pivot_table(index="m", columns="period", values="k", aggfunc="first", sort=False)
    piv = piv.reset_index().rename(columns={"m": "Measures"})
    piv = piv.astype({c: "string" for c in piv.columns[1:]})
    reproduce = g[g["k"] == CLAIMED_K]
    stable = sens.groupby(["x", "y"])["k"].agg(["min", "max"])

    def _span(x, y):
        lo_, hi_ = stable.loc[(x, y), "min"], stable.loc[(x, y), "max"]
        return f"k = {lo_} in every period shown" if lo_ == hi_ else f"k = {lo_} to {hi_} by period"

    if len(reproduce):
        rep_txt = ("The claimed “six of ten” is reproduced by: " + "; ".join(
            f"{ch['rise_labels'][x]} against serious violence {y}s ({_span(x, y)})"
            for x, y in zip(reproduce["x"], reproduce["y"], strict=True)) + ".")
    else:
        top = g.sort_values("k", ascending=False).iloc[0]
        rep_txt = (f"No pair of the bundled measures reproduces “six of ten”; the largest "
                   f"overlap is {top['k']} ({ch['rise_labels'][top['x']]} against serious "
                   f"violence {top['y']}s).")
    claimant_rep = reproduce["x"].str.startswith("claimant").any()
    likely = ("City Hall most likely used the claimant count: it is the only labour-market "
              "measure published monthly for every borough through the pandemic (Nomis), while "
              "the ONS model-based rate is a survey-based estimate for 12-month periods"
              + (", and with the bundled months it is the measure that gives six."
                 if claimant_rep else
                 ", although with the bundled months it does not give six."))
    mean_k = g.groupby("y")["k"].mean()
    if {"count", "rate"} <= set(mean_k.index) and mean_k["count"] != mean_k["rate"]:
        big, small = ("count", "rate") if mean_k["count"] > mean_k["rate"] else ("rate", "count")
        size_txt = (f" Overlaps are larger with serious violence {big}s (mean k = "
                    f"{mean_k[big]:.1f}) than {small}s ({mean_k[small]:.1f})."
                    + (" Counts favour boroughs with many residents on both sides (more "
                       "residents: more claimants and more offences), which by itself produces "
                       "an overlap." if big == "count" else ""))
    else:
        size_txt = ""
    ons = ch["ons_ci_range"]
    ons_txt = (f" The model-based rate's 95% interval per borough is ±{ons[0]:.1f} to "
               f"±{ons[2]:.1f} points (median ±{ons[1]:.1f}) in {p.ons_from}-{max(p.ons_to)}, "
               f"as wide as most boroughs' change, so its ranking of boroughs by change is very "
               f"uncertain." if ons else "")
    cov = pd.Series(ch["coverage"], dtype=float)
    cov_txt = ""
    if len(cov):
        worst = cov.sort_values().head(3)
        cov_txt = (f" The claimant file lacks {ch['missing_lsoas']} of London's 2011 LSOAs, so "
                   "borough counts are under-counts: coverage of residents aged 16-64 is lowest in "
                   + ", ".join(f"{borough_name(c)} ({100 * v:.0f}%)" for c, v in worst.items())
                   + "; rates are less affected.")
    ks = sens["k"]
    best = g.sort_values(["k", "p_exact"], ascending=[False, True]).iloc[0]
    svg = charts_drivers.scatter(
        ch["rises"][best["x"]], ch["violence"][best["y"]],
        names=pd.Series({c: borough_name(c) for c in MPS_BOROUGHS}), highlight=best["common"],
        x_cut=ch["rises"][best["x"]].nlargest(p.n).min(),
        y_cut=ch["violence"][best["y"]].nlargest(p.n).min(),
        title="Pandemic rise in unemployment and serious violence, by borough",
        xlabel=ch["rise_labels"][best["x"]], ylabel=ch["violence_labels"][best["y"]],
        label="Scatter plot of boroughs: rise in unemployment against serious violence")
    return (
        f"<h3>“Six of the 10 boroughs with the highest increases in unemployment”</h3>"
        f"<p><strong>Data.</strong> Serious violence = {esc(_cat_words(p.categories))} "
        f"(MPS recorded crime, detailed classification), {lo:%B %Y} – {hi:%B %Y}, as counts and "
        f"per 1,000 residents (ONS mid-year estimates). Unemployment rise: every bundled measure "
        f"(below). Areas: the {g['n_areas'].max()} boroughs policed by the Metropolitan Police. "
        f"<strong>Method.</strong> For each pair of measures, k = how many of the {p.n} boroughs "
        f"with the largest rise are among the {p.n} with the most serious violence; the exact "
        f"p-value is the hypergeometric probability of an overlap of k or more if the two "
        f"rankings were unrelated ({g['expected'].iloc[0]:.1f} expected by chance), checked by "
        f"{p.permutations:,} seeded permutations; with rank (Spearman, Bonett-Wright interval) "
        f"and linear (Pearson) correlations.</p>"
        + table(rows, f"Top-{p.n} overlap and correlations, {lo:%b %Y} – {hi:%b %Y}",
                numeric={f"k of {p.n}", "p exact", "p permutation"})
        + figure(svg, f"Boroughs by {ch['rise_labels'][best['x']]} and "
                      f"{ch['violence_labels'][best['y']]}; dashed lines mark the {p.n}th largest "
                      f"value of each, so the top-right box holds the boroughs in both top sets.")
        + f"<p><strong>Which measure?</strong> City Hall did not publish its measures. "
          f"{esc(rep_txt)} Across all measures and periods k ranges from {ks.min()} to "
          f"{ks.max()}; within one pair of measures it varies by at most "
          f"{int((stable['max'] - stable['min']).max())} between periods, so the result depends "
          f"on the choice of measures far more than on the year. {esc(likely)}{esc(ons_txt)}"
          f"{esc(size_txt)}{esc(cov_txt)} The bundled claimant months are October 2019 and "
          f"October 2020, not necessarily the window City Hall used.</p>"
        + table(piv, f"Sensitivity: k of {p.n} by violence period",
                numeric=set(piv.columns[1:]))
    )


def _deprivation_section(dep: pd.DataFrame, p: DriverParams) -> str:
    head = dep[(dep["n_top"] == 10) & (dep["violence"] == "serious violence")]
    t = pd.DataFrame({
        "Violence": dep["violence"] + ", " + dep["measure"].map({"count": "counts",
                                                                   "rate": "rate per 1,000"}),
        "Period": dep["period"],
        "Top n by violence": dep["n_top"].astype(str),
        "k among 10 most deprived": dep["k"].astype(str),
        "Share": [f"{100 * v:.0f}%" for v in dep["share"]],
        "p exact": [_p(v) for v in dep["p_exact"]],
        "Boroughs": [_names(c) for c in dep["common"]],
    })
    lines = "; ".join(f"{r.period} {'counts' if r.measure == 'count' else 'rates'}: {r.k} of 10 "
                      f"(p = {_p(r.p_exact)})" for r in head.itertuples())
    three_q = dep[dep["share"] == 0.75]
    tq = ("; ".join(f"top {r.n_top} by {r.violence} {r.measure}s in {r.period}"
                    for r in three_q.itertuples()) or "no combination shown")
    return (
        "<h3>“Three quarters of the boroughs with the highest violent offending are among the 10 "
        "most deprived”</h3>"
        f"<p><strong>Data.</strong> Deprivation: IMD 2019 borough average score (MHCLG; the 10 "
        f"highest of the 32 MPS boroughs are the “10 most deprived”). Violence: serious violence "
        f"as above and violence against the person, counts and rates, for "
        f"{', '.join(x[0] for x in p.deprivation_periods)}. <strong>Findings.</strong> Of the 10 "
        f"boroughs with the most serious violence, the number among the 10 most deprived is "
        f"{esc(lines)}. A share of exactly three quarters arises for: {esc(tq)}. The IMD "
        f"includes a crime domain (recorded violence, burglary, theft and criminal damage), so "
        f"part of this association is built in.</p>"
        + table(t, "Highest-violence boroughs among the 10 most deprived (IMD 2019 average score)",
                numeric={"Top n by violence", "k among 10 most deprived", "Share", "p exact"})
    )


def _regression_table(fits: dict[str, d.Regression]) -> pd.DataFrame:
    rows = []
    for fam, r in fits.items():
        for rec in r.table[r.table["term"] != "const"].itertuples():
            rows.append({"Predictor (per SD)": PRED_NAMES.get(rec.term, rec.term),
                         "Model": "Poisson" if fam == "poisson" else "Negative binomial",
                         "Rate ratio (95% CI)": f"{rec.irr:.2f} ({rec.irr_low:.2f} to "
                                                f"{rec.irr_high:.2f})",
                         "p": _p(rec.p)})
    return pd.DataFrame(rows)


def _lsoa_section(lsoa: dict, regs: dict, p: DriverParams) -> str:
    cors = lsoa["correlations"]
    cors = cors[cors["method"] == "spearman"]
    ctxt = "; ".join(f"{PRED_NAMES.get(r.x, r.x)}: rho = {r.r:.2f} (95% CI {r.ci_low:.2f} to "
                     f"{r.ci_high:.2f}, n = {r.n:,})" for r in cors.itertuples())
    nb = lsoa["regressions"]["negbin"]
    cm = lsoa["frame"][lsoa["predictors"]].corr(method="pearson")
    cm = cm.where(~np.eye(len(cm), dtype=bool))
    a, b = cm.abs().stack().idxmax()
    collinear = (f"The predictors are correlated with one another (most strongly "
                 f"{PRED_NAMES.get(a, a)} and {PRED_NAMES.get(b, b)}: r = {cm.loc[a, b]:.2f}), so "
                 f"each rate ratio is conditional on the others and individual ratios can change "
                 f"sign when a correlated predictor is added or removed.")
    tab = pd.concat([nb.table.assign(model="LSOAs, negative binomial"),
                     lsoa["regressions"]["poisson"].table.assign(model="LSOAs, Poisson")])
    svg = charts_drivers.forest(
        tab, names=PRED_NAMES, title=f"Serious violence {p.lsoa_year} by LSOA: rate ratios per SD",
        label="Forest plot of incidence rate ratios of LSOA violence per standard deviation of "
              "each predictor")
    return (
        "<h3>Correlates of violence: LSOAs and boroughs</h3>"
        f"<p><strong>Data.</strong> {p.lsoa_year} offences per 2011 LSOA "
        f"({esc(_cat_words(p.lsoa_categories))}; MPS LSOA aggregation, major categories only), "
        f"ONS mid-year population, IMD 2019 domain scores (the crime domain left out), the change "
        f"in claimant rate October 2019 – October 2020 (WPI/Nomis; LSOAs missing from it are "
        f"left out) and the "
        f"share of residents aged 16-29. <strong>Rank correlations with the violence rate</strong>: "
        f"{esc(ctxt)}.</p>"
        f"<p><strong>Count regression.</strong> {esc(nb.describe(False, PRED_NAMES))} Poisson "
        f"dispersion "
        f"{lsoa['regressions']['poisson'].pearson_dispersion:.1f} (1 for a Poisson model): the "
        f"counts are overdispersed, so the negative binomial model is the one to read. "
        f"{esc(collinear)}</p>"
        + figure(svg, "Incidence rate ratios (95% CI, robust HC0 errors) per standard deviation "
                      "of each predictor; 1 = no association.")
        + table(_regression_table(lsoa["regressions"]),
                f"LSOA count regressions of serious violence {p.lsoa_year}",
                numeric={"Rate ratio (95% CI)", "p"})
        + f"<p><strong>Boroughs.</strong> {esc(regs['negbin'].describe(False, PRED_NAMES))}</p>"
        + table(_regression_table(regs), "Borough count regressions of serious violence",
                numeric={"Rate ratio (95% CI)", "p"})
    )


def _has(wh: Warehouse, query: str, params: list) -> bool:
    return bool(wh.sql(f"SELECT EXISTS ({query}) AS x", params)["x"].iloc[0])


def available(wh: Warehouse) -> dict[str, bool]:
    """Which parts of the analysis the warehouse can support."""
    borough = (
        _has(wh, "SELECT 1 FROM crime WHERE source = ? AND level = 'borough'", [CRIME_SOURCE])
        and _has(wh, "SELECT 1 FROM unemployment WHERE source IN (?, ?)",
                 [ONS_SOURCE, CLAIMANT_SOURCE])
        and _has(wh, "SELECT 1 FROM population WHERE level = 'lsoa'", [])
        and _has(wh, "SELECT 1 FROM areas WHERE level = 'lsoa' AND vintage = '2011'", [])
    )
    deprivation = borough and _has(
        wh, "SELECT 1 FROM deprivation WHERE level = 'borough' AND measure = 'imd_average_score'", [])
    lsoa = (_has(wh, "SELECT 1 FROM crime_annual WHERE source = ? AND level = 'lsoa'",
                 [LSOA_CRIME_SOURCE])
            and _has(wh, "SELECT 1 FROM deprivation WHERE level = 'lsoa'", [])
            and _has(wh, "SELECT 1 FROM population WHERE level = 'lsoa'", []))
    return {"borough": borough, "deprivation": deprivation, "lsoa": lsoa}


def build(wh: Warehouse, p: DriverParams | None = None) -> Section | None:
    """The drivers section of the needs assessment, or ``None`` without the borough data it needs."""
    p = p or DriverParams()
    have = available(wh)
    if not have["borough"]:
        return None
    parts = [_statement_section(city_hall(wh, p), p)]
    if have["deprivation"]:
        parts.append(_deprivation_section(deprivation_statement(wh, p), p))
        if have["lsoa"]:
            parts.append(_lsoa_section(lsoa_drivers(wh, p), borough_regression(wh, p), p))
    body = (
        "<p>City Hall links violence to unemployment and deprivation. This section reproduces "
        "its statements from named data and shows how much they depend on the choice of "
        f"measures. {esc(d.CAVEAT)}</p>" + "".join(parts)
        + "<p class='note'>Methods and defaults: docs/methods-drivers.md.</p>"
    )
    return Section("drivers", "What drives violence: unemployment and deprivation", body)


__all__ = ["DriverParams", "available", "borough_violence", "labour_market_rises", "city_hall",
           "deprivation_statement", "lsoa_frame", "lsoa_drivers", "borough_regression", "results",
           "build", "SERIOUS_VIOLENCE"]
