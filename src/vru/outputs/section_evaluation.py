"""Report section and machine-readable results: did violence fall where MyEnds went?

The worked real example of :mod:`vru.analysis.evaluation`: the 8 boroughs with a funded MyEnds
consortium (Brent, Croydon, Hackney, Haringey, Lambeth, Newham, Southwark, Tower Hamlets;
programme from mid-2021, taken as July 2021) against the other 24 boroughs policed by the
Metropolitan Police (the City of London, which the MPS does not police, and the MPS pseudo-areas
such as the airports are left out), on monthly violence with injury (MPS recorded crime, detailed
classification) per 1,000 residents (ONS mid-2020 estimates, so the rate is the count over a
fixed denominator). Window: three years before the start to the last month in the data.

Three analyses: DiD (Callaway-Sant'Anna) and synthetic control on the rate, with placebo tests
and the power of the design; DiD with the Poisson model on the counts (ratio of expected
counts); and DiD with the boroughs next to a MyEnds borough left out of the controls (spillover).
The honest limit is the geography: MyEnds funded a few estates or a ward in each borough, and a
borough is far larger, so a borough-level null says little; the minimum detectable effect says
how little.

:func:`results` returns everything as plain Python (for ``vru evaluate``); :func:`build` returns
the report section, or ``None`` when the warehouse lacks the data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd

from vru import taxonomy
from vru.analysis import evaluation as ev
from vru.analysis.did import EvaluationError
from vru.geography import CITY_OF_LONDON, MYENDS_BOROUGHS, borough_code, borough_name
from vru.model.areas import AreaSet
from vru.model.weights import SpatialWeights
from vru.outputs import charts_evaluation as ce
from vru.outputs.html import Section, esc, figure, table
from vru.sources import catalogue
from vru.warehouse import queries as q
from vru.warehouse.store import Warehouse

SOURCE = catalogue.MPS_BOROUGH_DETAILED
BOROUGH_VINTAGE = "2022"  # the boundaries of the spillover neighbours
#: The MyEnds boroughs by name (vru.geography.MYENDS_BOROUGHS), the default treated areas.
MYENDS = tuple(borough_name(c) for c in MYENDS_BOROUGHS)


@dataclass
class EvalParams:
    """Every choice of the worked example, with its default (see docs/methods-evaluation.md)."""

    treated: tuple[str, ...] = MYENDS  # borough names or codes
    start: str = "2021-07"  # first month of the programme ("mid-2021")
    starts: dict | None = None  # per-area first months (area name or code -> "YYYY-MM"), staggered
    category: str = taxonomy.VIOLENCE_WITH_INJURY
    source: str = SOURCE
    window_start: str = "2018-07"  # three years before the start
    window_end: str | None = None  # default: the last month of the source
    pop_year: int = 2020
    per: int = 1000
    pre_periods: int = 36  # synthetic control fitted on the 36 months before the start
    rings: int = 1  # spillover: contiguous neighbours
    n_draws: int = 1000
    max_lead: int = 12
    alpha: float = 0.05
    target_power: float = 0.8
    seed: int = 0


def params(**overrides) -> EvalParams:
    """:class:`EvalParams` with keyword overrides; an unknown name is refused."""
    names = {f.name for f in fields(EvalParams)}
    bad = sorted(set(overrides) - names)
    if bad:
        raise EvaluationError(f"unknown parameter {bad[0]!r}: one of {', '.join(sorted(names))}")
    if "treated" in overrides and isinstance(overrides["treated"], str):
        overrides["treated"] = tuple(s.strip() for s in overrides["treated"].split(","))
    return EvalParams(**overrides)


def _codes(treated) -> list[str]:
    out = []
    for t in treated:
        c = t if str(t).startswith("E09") else borough_code(str(t))
        if c is None:
            raise EvaluationError(f"unknown borough {t!r}")
        out.append(c)
    return out


def panel(wh: Warehouse, p: EvalParams | None = None) -> pd.DataFrame:
    """Monthly ``count`` and ``rate`` (per ``p.per`` residents) per MPS borough in the window."""
    p = p or EvalParams()
    s = q.crime_series(wh, source=p.source, level="borough", category=p.category,
                       start=p.window_start, end=p.window_end)
    if s.empty:
        raise EvaluationError(f"no {p.category} counts from {p.source} in the warehouse")
    s = s[~s["area_code"].str.startswith("X-") & (s["area_code"] != CITY_OF_LONDON)].copy()
    pop = q.population(wh, level="borough", year=p.pop_year).set_index("area_code")["population"]
    if pop.empty:
        raise EvaluationError(f"no mid-{p.pop_year} population estimates in the warehouse")
    s["population"] = s["area_code"].map(pop)
    if s["population"].isna().any():
        raise EvaluationError(f"no mid-{p.pop_year} population for borough "
                              f"{s.loc[s['population'].isna(), 'area_code'].iloc[0]}")
    s["rate"] = p.per * s["count"] / s["population"]
    s["count"] = s["count"].astype(float)
    return s.reset_index(drop=True)


def neighbours(wh: Warehouse) -> SpatialWeights | None:
    """Queen contiguity of the 2022 borough boundaries in the warehouse (None unless every
    borough has one)."""
    a = q.areas(wh, "borough", BOROUGH_VINTAGE)
    if a.empty or a["geometry"].isna().any():
        return None
    return SpatialWeights.from_areas(AreaSet.from_warehouse(wh, "borough", BOROUGH_VINTAGE), "queen")


def before_after(pan: pd.DataFrame, codes: list[str], start: str, per: int) -> pd.DataFrame:
    """The Mayor's comparison: rate per year (July-June) in the year before the start and each
    full year after, treated boroughs and the others, with the change from the year before."""
    s = pd.Timestamp(start)
    pan = pan.assign(year=((pan["month"].dt.year - s.year) * 12 + pan["month"].dt.month
                           - s.month) // 12)
    rows = []
    for y in sorted(pan["year"].unique()):
        d = pan[pan["year"] == y]
        if d["month"].nunique() < 12 or y < -1:
            continue
        for grp, mask in (("MyEnds boroughs", d["area_code"].isin(codes)),
                          ("other boroughs", ~d["area_code"].isin(codes))):
            g = d[mask]
            pop = g.groupby("area_code")["population"].first().sum()
            rows.append({"year": y, "group": grp, "count": float(g["count"].sum()),
                         "rate": per * g["count"].sum() / pop})
    out = pd.DataFrame(rows)
    base = out[out["year"] == -1].set_index("group")["rate"]
    out["change_pct"] = 100 * (out["rate"] / out["group"].map(base) - 1)
    first = s + pd.DateOffset(years=0)
    out["period"] = [f"{(first + pd.DateOffset(years=int(y))):%b %Y} – "
                     f"{(first + pd.DateOffset(years=int(y) + 1, months=-1)):%b %Y}"
                     for y in out["year"]]
    return out


def run(wh: Warehouse, p: EvalParams | None = None) -> dict:
    """The three evaluations of the worked example (see the module docstring)."""
    p = p or EvalParams()
    pan = panel(wh, p)
    codes = _codes(p.treated)
    own = {c: str(v) for k, v in (p.starts or {}).items() for c in _codes([k])}
    treated = {c: own.get(c, p.start) for c in codes}
    label = taxonomy.label(p.category).lower()
    unit = f"offences per {p.per:,} residents per month"
    common = {"unit": "area_code", "period": "month", "n_draws": p.n_draws, "alpha": p.alpha,
              "target_power": p.target_power, "max_lead": p.max_lead, "seed": p.seed,
              "recorded_crime": True}
    main = ev.evaluate(pan, treated, outcome="rate", methods=("did", "synth"),
                       pre_periods=p.pre_periods, outcome_label=label, outcome_unit=unit,
                       **common)
    poisson = ev.evaluate(pan, treated, outcome="count", methods=("did",), model="poisson",
                          outcome_label=f"{label} (count)", outcome_unit="offences per month",
                          **common)
    nb = neighbours(wh) if p.rings else None
    spill = None
    spill_error = None
    if nb is not None:
        try:
            spill = ev.evaluate(pan, treated, outcome="rate", methods=("did",), neighbours=nb,
                                rings=p.rings, spillover="separate", outcome_label=label,
                                outcome_unit=unit, **common)
        except EvaluationError as e:
            spill_error = str(e)
    return {"params": p, "panel": pan, "codes": codes, "main": main, "poisson": poisson,
            "spillover": spill, "spillover_error": spill_error,
            "before_after": before_after(pan, codes, p.start, p.per)}


def results(wh: Warehouse, **overrides) -> dict:
    """Everything the section shows, JSON-ready (for ``vru evaluate``); keyword overrides of
    :class:`EvalParams`."""
    r = run(wh, params(**overrides))
    pan = r["panel"]
    p = r["params"]
    return ev._plain({
        "parameters": asdict(p) | {"treated_codes": r["codes"]},
        "data": {"source": p.source, "category": p.category, "areas": int(pan["area_code"]
                                                                          .nunique()),
                 "first_month": pan["month"].min(), "last_month": pan["month"].max(),
                 "population_year": p.pop_year},
        "before_after": r["before_after"],
        "rate": r["main"].as_dict(),
        "poisson_counts": r["poisson"].as_dict(),
        "spillover": None if r["spillover"] is None else r["spillover"].as_dict(),
        "spillover_error": r["spillover_error"],
        "limits": _borough_limits(pan, r["codes"]),
    })


# --- the report section --------------------------------------------------------------------------


def _borough_limits(pan: pd.DataFrame, codes: list[str]) -> list[str]:
    pop = pan.groupby("area_code")["population"].first()
    tp = pop.reindex(codes)
    return [
        f"Geography: MyEnds funded a few estates or a ward in each borough (e.g. in Southwark the "
        f"Rockingham, North Peckham, Brandon and Aylesbury estates), but the outcome here is the "
        f"whole borough: the 8 boroughs have {tp.sum() / 1e6:.2f} million residents, "
        f"{tp.min() / 1e3:.0f},000 to {tp.max() / 1e3:.0f},000 each. An effect confined to the "
        f"funded neighbourhoods is diluted by everything else in the borough: if they hold a "
        f"tenth of a borough's violence, a 20% fall there is a 2% fall in the borough, far below "
        f"what this design can detect. A borough-level null result therefore says little about "
        f"MyEnds.",
        "Treatment timing is approximate: consortia started at different times in 2021, and "
        "July 2021 is used for all; the LSOA or ward data needed to evaluate the funded areas "
        "themselves are not in the warehouse (the ward series starts only in December 2021).",
    ]


def _fmt(x: float, nd: int = 3) -> str:
    return "–" if x is None or not np.isfinite(x) else f"{x:+.{nd}f}"


def _p(x) -> str:
    return "–" if x is None or not np.isfinite(x) else ("< 0.001" if x < 0.001 else f"{x:.2f}")


def _pct(x) -> str:
    return "–" if x is None or not np.isfinite(x) else f"{100 * x:.0f}%"


def _ci(res: ev.EvaluationResult, ratio: bool = False) -> str:
    """The headline 95% interval of a DiD: analytic, or (with a single-area cohort) the
    randomisation interval, marked as such."""
    s = res.did.simple.iloc[0]
    if res.design.get("headline_inference") == "placebo":
        pl = res.did_placebo
        if ratio:
            return f"{pl['ratio_low']:.3f} to {pl['ratio_high']:.3f} (randomisation)"
        return f"{_fmt(pl['ci_low'])} to {_fmt(pl['ci_high'])} (randomisation)"
    if ratio:
        return f"{s['ratio_low']:.3f} to {s['ratio_high']:.3f}"
    return f"{_fmt(s['ci_low'])} to {_fmt(s['ci_high'])}"


def _pre_p(pt: dict) -> str:
    if pt.get("computed", True):
        return _p(pt["p_value"])
    return "not computed (singular)" if "singular" in pt.get("reason", "") else "not computed"


def _summary_table(r: dict) -> pd.DataFrame:
    main, poi, sp = r["main"], r["poisson"], r["spillover"]
    rows = []
    s = main.did.simple.iloc[0]
    rows.append({"Analysis": "DiD (Callaway-Sant'Anna), rate per 1,000",
                 "Estimate": _fmt(s["estimate"]),
                 "95% CI": _ci(main),
                 "Placebo p": _p(main.did_placebo["p_value"]),
                 "Pre-trend p": _pre_p(main.pretrend),
                 "MDE (reduction)": _pct(main.power["did"].mde_relative)
                 if "did" in main.power else "–"})
    sy = main.synth
    lo, hi = sy.pooled_range
    rows.append({"Analysis": "Synthetic control, rate per 1,000 (pooled gap)",
                 "Estimate": _fmt(sy.pooled_att) if sy.fit_unique is not False else
                 f"{_fmt(lo)} to {_fmt(hi)} (fit not unique)",
                 "95% CI": f"{_fmt(sy.ci_low)} to {_fmt(sy.ci_high)}",
                 "Placebo p": _p(sy.p_pooled_att), "Pre-trend p": "–",
                 "MDE (reduction)": _pct(main.power["synth"].mde_relative)
                 if "synth" in main.power else "–"})
    s = poi.did.simple.iloc[0]
    rows.append({"Analysis": "DiD, Poisson on counts (ratio to counterfactual)",
                 "Estimate": f"{s['ratio']:.3f}",
                 "95% CI": _ci(poi, ratio=True),
                 "Placebo p": _p(poi.did_placebo["p_value"]),
                 "Pre-trend p": _pre_p(poi.pretrend),
                 "MDE (reduction)": _pct(poi.power["did"].mde_relative)
                 if "did" in poi.power else "–"})
    if sp is not None:
        s = sp.did.simple.iloc[0]
        rows.append({"Analysis": f"DiD, neighbours of MyEnds boroughs left out "
                                 f"({sp.design['n_controls']} controls)",
                     "Estimate": _fmt(s["estimate"]),
                     "95% CI": _ci(sp),
                     "Placebo p": _p(sp.did_placebo["p_value"]),
                     "Pre-trend p": _pre_p(sp.pretrend),
                     "MDE (reduction)": _pct(sp.power["did"].mde_relative)
                     if "did" in sp.power else "not computable"})
        s = sp.spillover.simple.iloc[0]
        rows.append({"Analysis": f"DiD, the {sp.spillover.n_treated} neighbouring boroughs "
                                 f"as if treated (spillover)",
                     "Estimate": _fmt(s["estimate"]),
                     "95% CI": f"{_fmt(s['ci_low'])} to {_fmt(s['ci_high'])}",
                     "Placebo p": "–", "Pre-trend p": _pre_p(sp.spillover.pretrend(
                         max_lead=r["params"].max_lead)),
                     "MDE (reduction)": "–"})
    return pd.DataFrame(rows)


def _synth_table(main: ev.EvaluationResult) -> pd.DataFrame:
    t = main.synth.table
    return pd.DataFrame({
        "Borough": [borough_name(u) for u in t["unit"]],
        "Pre-period rate": [f"{v:.2f}" for v in t["pre_mean"]],
        "Pre-period RMSPE": [f"{v:.3f} ({w:.1f}%)" for v, w in
                             zip(t["pre_rmspe"], t["pre_rmspe_pct"], strict=True)],
        "Post gap": [_fmt(v) if u is not False else f"{_fmt(lo)} to {_fmt(hi)} (not unique)"
                     for v, u, lo, hi in zip(t["att"], t["fit_unique"], t["att_min"], t["att_max"],
                                             strict=True)],
        "RMSPE ratio": [f"{v:.2f}" for v in t["ratio"]],
        "Placebo p": [_p(v) for v in t["p_value"]],
        "Main donors": ["; ".join(f"{borough_name(d)} {w:.2f}" for d, w in
                                  u.weights[u.weights >= 0.05].head(4).items())
                        for u in main.synth.units],
    })


def _before_after_table(ba: pd.DataFrame) -> pd.DataFrame:
    piv = []
    for per, d in ba.groupby("year", sort=True):
        row = {"Year": d["period"].iloc[0]}
        for r in d.itertuples():
            row[f"{r.group}: rate"] = f"{r.rate:.2f}"
            row[f"{r.group}: change"] = "–" if per == -1 else f"{r.change_pct:+.1f}%"
        piv.append(row)
    return pd.DataFrame(piv)


def build(wh: Warehouse, p: EvalParams | None = None) -> Section | None:
    """The evaluation section of the needs assessment, or ``None`` without the data it needs."""
    p = p or EvalParams()
    have = wh.sql(
        "SELECT (SELECT count(*) FROM crime WHERE source = ? AND level = 'borough') AS c, "
        "(SELECT count(*) FROM population WHERE level = 'lsoa' AND year = ?) AS p",
        [p.source, p.pop_year]).iloc[0]
    if (have == 0).any():
        return None
    try:
        r = run(wh, p)
    except EvaluationError:
        return None
    main, poi, sp = r["main"], r["poisson"], r["spillover"]
    pan = r["panel"]
    lo, hi = pan["month"].min(), pan["month"].max()
    label = taxonomy.label(p.category).lower()
    ylab = f"per {p.per:,} residents per month"
    ba = r["before_after"]
    b1 = ba[ba["year"] == 0].set_index("group")["change_pct"]

    ev_df = main.did.event
    ev_df = ev_df[(ev_df["event_time"] >= -24)]
    pt = main.pretrend
    es_svg = ce.event_study(
        ev_df, title="MyEnds boroughs against the other boroughs, by month",
        ylabel=f"effect, {ylab}",
        label="Event-study chart: difference-in-differences estimates by month since July 2021 "
              "with 95% intervals")
    codes = r["codes"]
    actual = pd.concat([u.actual for u in main.synth.units], axis=1).mean(axis=1)
    synthetic = pd.concat([u.synthetic for u in main.synth.units], axis=1).mean(axis=1)
    sv_svg = ce.synthetic_vs_actual(
        actual, synthetic, start=p.start, title="MyEnds boroughs and their synthetic controls",
        ylabel=ylab, actual_name="MyEnds boroughs (mean)",
        synthetic_name="their synthetic controls (mean)",
        label="Line chart: mean violence rate of the MyEnds boroughs and of their synthetic "
              "controls, by month")
    gaps = pd.concat([u.gap for u in main.synth.units], axis=1).mean(axis=1)
    plac = main.synth.units[0].placebo_gaps
    pg_svg = ce.placebo_gaps(
        gaps, plac, start=p.start, title="Gap to the synthetic control: MyEnds and placebos",
        ylabel=f"actual - synthetic, {ylab}",
        label="Line chart: the MyEnds boroughs' mean gap to their synthetic controls against "
              "the gaps of every other borough treated as a placebo")
    curves = {"DiD (rates)": main.power["did"].curve, "synthetic control": main.power["synth"]
              .curve, "DiD Poisson (counts)": poi.power["did"].curve}
    pw_svg = ce.power_curves(curves, title="Power of the design against a true reduction",
                             target=p.target_power,
                             label="Line chart: probability that the design detects a "
                                   "reduction of a given size, by method")
    limits = _borough_limits(pan, codes) + main.limits
    power_txt = " ".join(pw.describe(" " + ylab) for pw in main.power.values())
    tp = pan.groupby("area_code")["population"].first().reindex(codes)
    sp_txt = ""
    if sp is not None:
        sp_txt = (f"<p><strong>Spillover.</strong> {len(sp.rings)} of the 24 other boroughs touch "
                  f"a MyEnds borough. Leaving them out of the controls leaves only "
                  f"{sp.design['n_controls']}, too few to simulate the power of the design. "
                  f"{esc(sp.statement)}</p>")
    elif r["spillover_error"]:
        sp_txt = (f"<p><strong>Spillover.</strong> Not estimable: "
                  f"{esc(r['spillover_error'])}.</p>")
    body = (
        f"<p>The Mayor said crime fell in the MyEnds areas after the programme's first year. "
        f"This section tests that claim the way evaluators would, with the data the warehouse "
        f"holds: {esc(label)} (MPS recorded crime) per {p.per:,} residents (ONS mid-{p.pop_year}) "
        f"in the 8 boroughs with a funded MyEnds consortium ({esc(', '.join(MYENDS))}, together "
        f"{tp.sum() / 1e6:.2f} million residents) against the other 24 boroughs policed by the "
        f"Met, monthly from {lo:%B %Y} to {hi:%B %Y}, with the programme taken to start in "
        f"{pd.Timestamp(p.start):%B %Y}.</p>"
        f"<p><strong>The simple comparison.</strong> In the first year (July 2021 – June 2022) "
        f"the rate changed by {b1.get('MyEnds boroughs', np.nan):+.1f}% in the MyEnds boroughs "
        f"and by {b1.get('other boroughs', np.nan):+.1f}% in the others, compared with the year "
        f"before (which included lockdowns). Whether crime “went down” depends on the "
        f"comparison; the question is whether it changed more than it would have without the "
        f"programme.</p>"
        + table(_before_after_table(ba), f"{taxonomy.label(p.category)} per {p.per:,} residents, "
                                         f"years from July")
        + f"<p><strong>Result.</strong> {esc(main.statement)}</p>"
        + table(_summary_table(r), "Estimates: effect on the MyEnds boroughs",
                numeric={"Estimate", "95% CI", "Placebo p", "Pre-trend p", "MDE (reduction)"})
        + figure(es_svg, f"Difference-in-differences by month since the start (Callaway-"
                         f"Sant'Anna, never-treated boroughs as controls), 95% pointwise "
                         f"intervals. Before the start each point is a one-month placebo change; "
                         f"joint test of the last {pt['n_restrictions']} months before the "
                         f"start, against the same test with the MyEnds label given to random "
                         f"sets of as many boroughs (permutation): "
                         + (f"p = {_p(pt['p_value'])}." if pt.get("computed", True)
                            else f"{pt['reason']}."))
        + figure(sv_svg, f"Each MyEnds borough has its own synthetic control (weights on the 24 "
                         f"other boroughs fitted on the {p.pre_periods} months before the start); "
                         f"the lines are the means over the 8.")
        + figure(pg_svg, "Grey: each other borough treated as if it had started in July 2021, "
                         "with its own synthetic control from the rest.")
        + table(_synth_table(main), "Synthetic control by MyEnds borough",
                numeric={"Pre-period rate", "Pre-period RMSPE", "Post gap", "RMSPE ratio",
                         "Placebo p"})
        + f"<p><strong>Power.</strong> {esc(power_txt)} For counts (Poisson DiD): "
          f"{esc(poi.power['did'].describe(' offences per month'))}</p>"
        + figure(pw_svg, "Power from placebo assignments: the MyEnds start date given to 8 of "
                         "the 24 other boroughs at random, a reduction of the given size added "
                         "to them, and the placebo test at 5%.")
        + f"<p><strong>Counts.</strong> {esc(poi.statement)}</p>"
        + sp_txt
        + "<p><strong>Limits.</strong></p><ul>"
        + "".join(f"<li>{esc(x)}</li>" for x in limits) + "</ul>"
        + "<p class='note'>Methods and defaults: docs/methods-evaluation.md.</p>"
    )
    return Section("evaluation", "Did violence fall where MyEnds went? An evaluation", body)


__all__ = ["EvalParams", "params", "panel", "neighbours", "before_after", "run", "results",
           "build", "MYENDS"]
