"""The needs assessment's section "Did violence fall where MyEnds went?" (from
:mod:`vru.pipelines.evaluation`): the simple before-and-after comparison, the estimates of each
method, the event study, the synthetic controls, the power of the design, the counts, the spillover
and the limits."""

from __future__ import annotations

from typing import Any, TypeVar

import pandas as pd

from vru import format as fmt
from vru import taxonomy
from vru.analysis import evaluation as ev
from vru.analysis.did import DiDResult
from vru.analysis.synth import SynthResult
from vru.geography import borough_name
from vru.outputs import charts_evaluation as ce
from vru.outputs.html import Section, table
from vru.outputs.sections import section
from vru.pipelines.evaluation import EvaluationRun

TITLE = "Did violence fall where MyEnds went? An evaluation"
#: The title when the treated boroughs are not the MyEnds boroughs.
TITLE_OTHER = "Did violence fall where the programme went? An evaluation"
#: The months of England's COVID-19 lockdowns and restrictions, first to last (March 2020 to the
#: end of the legal limits in July 2021): a comparison year that overlaps them is said to.
LOCKDOWNS = (pd.Timestamp("2020-03"), pd.Timestamp("2021-07"))

_T = TypeVar("_T")


def _part(x: _T | None, what: str) -> _T:
    """``x``, a part of an evaluation the section shows; a ValueError naming ``what`` if the
    evaluation lacks it."""
    if x is None:
        raise ValueError(f"the evaluation has no {what}: the section cannot be shown")
    return x


def _did(res: ev.EvaluationResult) -> DiDResult:
    return _part(res.did, "difference-in-differences")


def _synth(res: ev.EvaluationResult) -> SynthResult:
    return _part(res.synth, "synthetic control")


def _placebo_p(res: ev.EvaluationResult) -> str:
    return _p(_part(res.did_placebo, "placebo test")["p_value"])


def _est(x: Any) -> str:
    """An effect on the rate, signed, 3 decimals."""
    return fmt.number(x, 3, signed=True)


def _capital(text: str) -> str:
    """``text`` with its first letter a capital (the rest as it is)."""
    return text[:1].upper() + text[1:]


def _p(x: Any) -> str:
    return fmt.p_value(x, 2)


def _ci(res: ev.EvaluationResult, ratio: bool = False) -> str:
    """The headline 95% interval of a DiD: analytic, or (with a single-area cohort) the
    randomisation interval, marked as such."""
    s = _did(res).simple.iloc[0]
    if res.design.get("headline_inference") == "placebo":
        pl = _part(res.did_placebo, "placebo test")
        if ratio:
            return f"{fmt.interval(pl['ratio_low'], pl['ratio_high'], 3)} (randomisation)"
        return f"{fmt.interval(pl['ci_low'], pl['ci_high'], 3, signed=True)} (randomisation)"
    if ratio:
        return fmt.interval(s["ratio_low"], s["ratio_high"], 3)
    return fmt.interval(s["ci_low"], s["ci_high"], 3, signed=True)


def _pre_p(pt: dict | None) -> str:
    if pt is None:
        return "not computed"
    if pt.get("computed", True):
        return _p(pt["p_value"])
    return "not computed (singular)" if "singular" in pt.get("reason", "") else "not computed"


def _mde(res: ev.EvaluationResult, method: str, missing: str = fmt.DASH) -> str:
    return fmt.percent(res.power[method].mde_relative) if method in res.power else missing


def summary_table(r: EvaluationRun) -> pd.DataFrame:
    """The estimates of each analysis, one row each (cells as shown)."""
    main, poi, sp = r.main, r.poisson, r.spillover
    rows = []
    s = _did(main).simple.iloc[0]
    rows.append({"Analysis": "DiD (Callaway-Sant'Anna), rate per 1,000",
                 "Estimate": _est(s["estimate"]), "95% CI": _ci(main),
                 "Placebo p": _placebo_p(main), "Pre-trend p": _pre_p(main.pretrend),
                 "MDE (reduction)": _mde(main, "did")})
    sy = _synth(main)
    lo, hi = sy.pooled_range
    rows.append({"Analysis": "Synthetic control, rate per 1,000 (pooled gap)",
                 "Estimate": _est(sy.pooled_att) if sy.fit_unique is not False else
                 f"{fmt.interval(lo, hi, 3, signed=True)} (fit not unique)",
                 "95% CI": fmt.interval(sy.ci_low, sy.ci_high, 3, signed=True),
                 "Placebo p": _p(sy.p_pooled_att), "Pre-trend p": fmt.DASH,
                 "MDE (reduction)": _mde(main, "synth")})
    s = _did(poi).simple.iloc[0]
    rows.append({"Analysis": "DiD, Poisson on counts (ratio to counterfactual)",
                 "Estimate": fmt.number(s["ratio"], 3), "95% CI": _ci(poi, ratio=True),
                 "Placebo p": _placebo_p(poi), "Pre-trend p": _pre_p(poi.pretrend),
                 "MDE (reduction)": _mde(poi, "did")})
    if sp is not None:
        s = _did(sp).simple.iloc[0]
        rows.append({"Analysis": f"DiD, neighbours of {r.treated_group} left out "
                                 f"({sp.design['n_controls']} controls)",
                     "Estimate": _est(s["estimate"]), "95% CI": _ci(sp),
                     "Placebo p": _placebo_p(sp), "Pre-trend p": _pre_p(sp.pretrend),
                     "MDE (reduction)": _mde(sp, "did", "not computable")})
        spill = _part(sp.spillover, "spillover estimate")
        s = spill.simple.iloc[0]
        rows.append({"Analysis": f"DiD, the {spill.n_treated} neighbouring boroughs "
                                 f"as if treated (spillover)",
                     "Estimate": _est(s["estimate"]),
                     "95% CI": fmt.interval(s["ci_low"], s["ci_high"], 3, signed=True),
                     "Placebo p": fmt.DASH,
                     "Pre-trend p": _pre_p(spill.pretrend(max_lead=r.params.max_lead)),
                     "MDE (reduction)": fmt.DASH})
    return pd.DataFrame(rows)


def synth_table(main: ev.EvaluationResult) -> pd.DataFrame:
    """The synthetic control of each treated borough: fit, gap, placebo p-value, main donors."""
    sy = _synth(main)
    t = sy.table
    return pd.DataFrame({
        "Borough": [borough_name(u) for u in t["unit"]],
        "Pre-period rate": [fmt.number(v, 2) for v in t["pre_mean"]],
        "Pre-period RMSPE": [f"{fmt.number(v, 3)} ({fmt.number(w, 1)}%)" for v, w in
                             zip(t["pre_rmspe"], t["pre_rmspe_pct"], strict=True)],
        "Post gap": [_est(v) if u is not False else
                     f"{fmt.interval(lo, hi, 3, signed=True)} (not unique)"
                     for v, u, lo, hi in zip(t["att"], t["fit_unique"], t["att_min"], t["att_max"],
                                             strict=True)],
        "RMSPE ratio": [fmt.number(v, 2) for v in t["ratio"]],
        "Placebo p": [_p(v) for v in t["p_value"]],
        "Main donors": ["; ".join(f"{borough_name(d)} {fmt.number(w, 2)}" for d, w in
                                  u.weights[u.weights >= 0.05].head(4).items())
                        for u in sy.units],
    })


def before_after_table(ba: pd.DataFrame) -> pd.DataFrame:
    """The rate per year from the start's month and its change on the year before, treated and
    others."""
    piv = []
    for year, d in ba.groupby("year", sort=True):
        row = {"Year": d["period"].iloc[0]}
        for r in d.itertuples():
            row[f"{r.group}: rate"] = fmt.number(r.rate, 2)
            row[f"{r.group}: change"] = fmt.DASH if year == -1 else fmt.change_pct(r.change_pct)
        piv.append(row)
    return pd.DataFrame(piv)


def present(result: EvaluationRun) -> Section:
    """The evaluation section of the needs assessment."""
    r, p = result, result.params
    main, poi, sp = r.main, r.poisson, r.spillover
    ylab = f"per {fmt.integer(p.per)} residents per month"
    start = pd.Timestamp(p.start)
    group = r.treated_group  # "MyEnds boroughs" or "treated boroughs"
    who = "MyEnds" if r.myends else "treated"
    b1 = r.before_after[r.before_after["year"] == 0].set_index("group")["change_pct"]
    pretrend = _part(main.pretrend, "pre-trend test")

    ev_df = _did(main).event
    es_svg = ce.event_study(
        ev_df[ev_df["event_time"] >= -24],
        title=f"{_capital(group)} against the other boroughs, by month",
        ylabel=f"effect, {ylab}",
        label=f"Event-study chart: difference-in-differences estimates by month since "
              f"{fmt.month(start)} with 95% intervals")
    mean = _part(r.synth_mean, "synthetic control")
    # drawn as unnamed series: the charts' legends name them
    actual, synthetic, gap = (mean[c].rename(None) for c in ("actual", "synthetic", "gap"))
    sv_svg = ce.synthetic_vs_actual(
        actual, synthetic, start=p.start,
        title=f"{_capital(group)} and their synthetic controls",
        ylabel=ylab, actual_name=f"{group} (mean)",
        synthetic_name="their synthetic controls (mean)",
        label=f"Line chart: mean violence rate of the {group} and of their synthetic "
              f"controls, by month")
    pg_svg = ce.placebo_gaps(
        gap, _synth(main).units[0].placebo_gaps, start=p.start,
        title=f"Gap to the synthetic control: {'MyEnds' if r.myends else group} and placebos",
        ylabel=f"actual - synthetic, {ylab}",
        label=f"Line chart: the {group}' mean gap to their synthetic controls against "
              f"the gaps of every other borough treated as a placebo")
    curves = {"DiD (rates)": main.power["did"].curve, "synthetic control": main.power["synth"].curve,
              "DiD Poisson (counts)": poi.power["did"].curve}
    pw_svg = ce.power_curves(curves, title="Power of the design against a true reduction",
                             target=p.target_power,
                             label="Line chart: probability that the design detects a "
                                   "reduction of a given size, by method")

    category = taxonomy.label(p.category)
    ba_html = table(before_after_table(r.before_after),
                    f"{category} per {fmt.integer(p.per)} residents, years from {start:%B}")
    summary_html = table(summary_table(r), f"Estimates: effect on the {group}",
                         numeric={"Estimate", "95% CI", "Placebo p", "Pre-trend p",
                                  "MDE (reduction)"})
    synth_html = table(synth_table(main), f"Synthetic control by {who} borough",
                       numeric={"Pre-period rate", "Pre-period RMSPE", "Post gap", "RMSPE ratio",
                                "Placebo p"})
    return section(
        "evaluation", TITLE if r.myends else TITLE_OTHER, "evaluation.html.j2",
        p=p, label=category.lower(), myends=r.myends, group=group, who=who,
        treated_names=[borough_name(c) for c in r.codes], n_treated=len(r.codes),
        n_controls=r.n_controls, staggered=r.staggered,
        treated_population=r.treated_population.sum(),
        first=r.first_month, last=r.last_month, start=start,
        first_year=(start, start + pd.DateOffset(months=11)),
        lockdown_before=start - pd.DateOffset(months=12) <= LOCKDOWNS[1] and start > LOCKDOWNS[0],
        change_treated=b1.get(group), change_others=b1.get("other boroughs"),
        before_after_table=ba_html, summary_table=summary_html, synth_table=synth_html,
        main=main, pretrend=pretrend, pretrend_p=_p(pretrend.get("p_value")),
        power=" ".join(pw.describe(" " + ylab) for pw in main.power.values()),
        power_counts=poi.power["did"].describe(" offences per month"),
        counts=poi.statement, spillover=sp, spillover_error=r.spillover_error,
        limits=list(r.limits) + list(main.limits),
        event_study=es_svg, synthetic_vs_actual=sv_svg, placebo_gaps=pg_svg, power_curves=pw_svg)


__all__ = ["TITLE", "before_after_table", "present", "summary_table", "synth_table"]
