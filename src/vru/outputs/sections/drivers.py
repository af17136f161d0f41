"""The drivers section of the needs assessment: what drives violence (the "City Hall analysis").

:func:`present` turns a :class:`vru.pipelines.drivers.DriversResult` into the section: the
unemployment statement (overlap and correlation table, scatter plot, which measure reproduces
"six of ten", sensitivity over periods), the deprivation statement and, with the LSOA data, the
correlates of violence (forest plot and count regressions). Prose is in the ``drivers*.html.j2``
templates.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from vru import format as fmt
from vru import taxonomy
from vru.analysis import drivers as d
from vru.geography import MPS_BOROUGHS, borough_name
from vru.outputs import charts_drivers
from vru.outputs.html import Section, figure, table
from vru.outputs.sections import render, section
from vru.pipelines.drivers import CLAIMED_K, DriverParams, DriversResult, LsoaDrivers, UnemploymentStatement

TITLE = "What drives violence: unemployment and deprivation"

#: Readable names of the predictors and columns of the regressions (the claimant rate's, which
#: names the months, is added by :func:`pred_names`).
PRED_NAMES = {
    "income_score": "IMD income", "employment_score": "IMD employment",
    "education_score": "IMD education and skills", "health_score": "IMD health and disability",
    "barriers_score": "IMD barriers to housing and services",
    "living_environment_score": "IMD living environment",
    "youth_share": "share of residents aged 16-29", "imd_average_score": "IMD average score",
    "imd_score": "IMD score", "violence": "offences", "count": "offences",
    "population": "residents",
}


def pred_names(p: DriverParams) -> dict[str, str]:
    """:data:`PRED_NAMES` with the claimant rate rise named by the months of ``p``."""
    c0, c1 = pd.Timestamp(p.claimant_from), pd.Timestamp(p.claimant_to)
    return PRED_NAMES | {"claimant_rate_change": f"claimant rate rise {c0:%b %Y} - {c1:%b %Y}"}


def _names(codes: Iterable[str]) -> str:
    return ", ".join(borough_name(c) for c in codes)


def _cat_words(cats: Iterable[str]) -> str:
    return " + ".join(taxonomy.label(c).lower() for c in cats)


def _estimate(r: float, lo: float, hi: float) -> str:
    """``r (lo to hi)``, each to 2 decimals (a dash for a missing one)."""
    return f"{fmt.number(r)} ({fmt.number(lo)} to {fmt.number(hi)})"


def _statement(st: UnemploymentStatement, p: DriverParams) -> str:
    g = st.grid
    lo, hi = pd.Timestamp(p.start), pd.Timestamp(p.end)
    rows = pd.DataFrame({
        "Unemployment rise": g["x_label"],
        "Serious violence": ["counts" if y == "count" else "rate per 1,000" for y in g["y"]],
        f"k of {p.n}": [f"{k}" if a == b else f"{k} ({a}–{b} with ties)"
                        for k, a, b in zip(g["k"], g["k_min"], g["k_max"], strict=True)],
        "p exact": [fmt.p_value(v) for v in g["p_exact"]],
        "p permutation": [fmt.p_value(v) for v in g["p_permutation"]],
        "Spearman rho (95% CI)": [_estimate(*v) for v in zip(g["rho"], g["rho_low"], g["rho_high"],
                                                              strict=True)],
        "Pearson r (95% CI)": [_estimate(*v) for v in zip(g["r"], g["r_low"], g["r_high"],
                                                           strict=True)],
        "Boroughs in both top sets": [_names(c) for c in g["common"]],
    })
    sens = st.sensitivity
    piv = sens.assign(m=sens["x"].map(st.rise_labels) + " vs violence " + sens["y"] + "s")
    piv = piv.pivot_table(index="m", columns="period", values="k", aggfunc="first", sort=False)
    piv = piv.reset_index().rename(columns={"m": "Measures"})
    piv = piv.astype({c: "string" for c in piv.columns[1:]})
    stable = st.k_range()
    reproduce = g[g["k"] == CLAIMED_K]
    reproduced = [{"label": st.rise_labels[x], "y": y, "lo": stable.loc[(x, y), "min"],
                   "hi": stable.loc[(x, y), "max"]}
                  for x, y in zip(reproduce["x"], reproduce["y"], strict=True)]
    top = g.sort_values("k", ascending=False).iloc[0]
    mean_k = st.mean_k()
    size = None
    if {"count", "rate"} <= set(mean_k.index) and mean_k["count"] != mean_k["rate"]:
        big, small = ("count", "rate") if mean_k["count"] > mean_k["rate"] else ("rate", "count")
        size = {"big": big, "small": small, "big_k": mean_k[big], "small_k": mean_k[small]}
    cov = pd.Series(st.labour.coverage, dtype=float)
    worst = [(borough_name(c), v) for c, v in cov.sort_values().head(3).items()] if len(cov) else []
    best = g.sort_values(["k", "p_exact"], ascending=[False, True]).iloc[0]
    svg = charts_drivers.scatter(
        st.rises[best["x"]], st.violence[best["y"]],
        names=pd.Series({c: borough_name(c) for c in MPS_BOROUGHS}), highlight=best["common"],
        x_cut=st.rises[best["x"]].nlargest(p.n).min(),
        y_cut=st.violence[best["y"]].nlargest(p.n).min(),
        title="Pandemic rise in unemployment and serious violence, by borough",
        xlabel=st.rise_labels[best["x"]], ylabel=st.violence_labels[best["y"]],
        label="Scatter plot of boroughs: rise in unemployment against serious violence")
    span = fmt.month_range(lo, hi, short=True)
    return render(
        "drivers_statement.html.j2", p=p, lo=lo, hi=hi, categories=_cat_words(p.categories),
        n_areas=g["n_areas"].max(), expected=g["expected"].iloc[0],
        grid_table=table(rows, f"Top-{p.n} overlap and correlations, {span}",
                         numeric={f"k of {p.n}", "p exact", "p permutation"}),
        scatter=figure(svg, f"Boroughs by {st.rise_labels[best['x']]} and "
                            f"{st.violence_labels[best['y']]}; dashed lines mark the {p.n}th "
                            f"largest value of each, so the top-right box holds the boroughs in "
                            f"both top sets."),
        reproduced=reproduced, top={"k": top["k"], "label": st.rise_labels[top["x"]], "y": top["y"]},
        claimant_reproduces=bool(reproduce["x"].str.startswith("claimant").any()),
        k_min=sens["k"].min(), k_max=sens["k"].max(),
        k_spread=int((stable["max"] - stable["min"]).max()), size=size,
        ons_ci=st.ons_ci_range, ons_to=max(p.ons_to), worst=worst,
        missing_lsoas=st.labour.missing_lsoas,
        claimant_from=pd.Timestamp(p.claimant_from), claimant_to=pd.Timestamp(p.claimant_to),
        sensitivity_table=table(piv, f"Sensitivity: k of {p.n} by violence period",
                                numeric=set(piv.columns[1:])),
    )


def _deprivation(dep: pd.DataFrame, p: DriverParams) -> str:
    t = pd.DataFrame({
        "Violence": dep["violence"] + ", " + dep["measure"].map({"count": "counts",
                                                                   "rate": "rate per 1,000"}),
        "Period": dep["period"],
        "Top n by violence": dep["n_top"].astype(str),
        "k among 10 most deprived": dep["k"].astype(str),
        "Share": [fmt.percent(v) for v in dep["share"]],
        "p exact": [fmt.p_value(v) for v in dep["p_exact"]],
        "Boroughs": [_names(c) for c in dep["common"]],
    })
    head = dep[(dep["n_top"] == 10) & (dep["violence"] == "serious violence")]
    return render(
        "drivers_deprivation.html.j2", periods=list(dict.fromkeys(dep["period"])),
        head=list(head.itertuples()), three_quarters=list(dep[dep["share"] == 0.75].itertuples()),
        table=table(t, "Highest-violence boroughs among the 10 most deprived (IMD 2019 average score)",
                    numeric={"Top n by violence", "k among 10 most deprived", "Share", "p exact"}),
    )


def _regression_table(fits: dict[str, d.Regression], names: dict[str, str]) -> pd.DataFrame:
    rows = []
    for fam, r in fits.items():
        for rec in r.table[r.table["term"] != "const"].itertuples():
            rows.append({"Predictor (per SD)": names.get(rec.term, rec.term),
                         "Model": "Poisson" if fam == "poisson" else "Negative binomial",
                         "Rate ratio (95% CI)": _estimate(rec.irr, rec.irr_low, rec.irr_high),
                         "p": fmt.p_value(rec.p)})
    return pd.DataFrame(rows)


def _lsoa(lsoa: LsoaDrivers, regs: dict[str, d.Regression], p: DriverParams) -> str:
    cors = lsoa.correlations
    cors = cors[cors["method"] == "spearman"]
    nb = lsoa.regressions["negbin"]
    names = pred_names(p)
    collinear = None
    if lsoa.collinear is not None:
        a, b, r = lsoa.collinear
        collinear = {"a": names.get(a, a), "b": names.get(b, b), "r": r}
    tab = pd.concat([nb.table.assign(model="LSOAs, negative binomial"),
                     lsoa.regressions["poisson"].table.assign(model="LSOAs, Poisson")])
    svg = charts_drivers.forest(
        tab, names=names, title=f"Serious violence {p.lsoa_year} by LSOA: rate ratios per SD",
        label="Forest plot of incidence rate ratios of LSOA violence per standard deviation of "
              "each predictor")
    return render(
        "drivers_lsoa.html.j2", p=p, categories=_cat_words(p.lsoa_categories),
        claimant_from=pd.Timestamp(p.claimant_from), claimant_to=pd.Timestamp(p.claimant_to),
        correlations=[{"name": names.get(r.x, r.x), "r": r.r, "lo": r.ci_low, "hi": r.ci_high,
                       "n": r.n} for r in cors.itertuples()],
        lsoa_model=nb.describe(False, names),
        dispersion=lsoa.regressions["poisson"].pearson_dispersion,
        collinear=collinear,
        forest=figure(svg, "Incidence rate ratios (95% CI, robust HC0 errors) per standard deviation "
                           "of each predictor; 1 = no association."),
        lsoa_table=table(_regression_table(lsoa.regressions, names),
                         f"LSOA count regressions of serious violence {p.lsoa_year}",
                         numeric={"Rate ratio (95% CI)", "p"}),
        borough_model=regs["negbin"].describe(False, names),
        borough_table=table(_regression_table(regs, names), "Borough count regressions of serious violence",
                            numeric={"Rate ratio (95% CI)", "p"}),
    )


def present(result: DriversResult) -> Section:
    """The drivers section: the unemployment statement, then (with the IMD) the deprivation
    statement, then (with the LSOA data) the correlates of violence."""
    p = result.params
    parts = [_statement(result.statement, p)]
    if result.deprivation is not None:
        parts.append(_deprivation(result.deprivation, p))
        if result.lsoa is not None and result.borough_regressions is not None:
            parts.append(_lsoa(result.lsoa, result.borough_regressions, p))
    return section("drivers", TITLE, "drivers.html.j2", caveat=result.caveat, parts=parts)


__all__ = ["present", "PRED_NAMES", "TITLE", "pred_names"]
