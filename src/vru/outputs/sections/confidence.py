"""The needs assessment's section "Trust and confidence in the police" (from
:mod:`vru.pipelines.confidence`): what the published PAS figures rest on, London's measures and their
trend, each headline measure by borough (intervals, comparison with London, rank ranges, changes),
the relationships with violence and deprivation, and, where a unit has loaded respondent-level
answers, the shares by group with small cells suppressed."""

from __future__ import annotations

from typing import Any

import pandas as pd

from vru import format as fmt
from vru.analysis import survey_weights as sw
from vru.analysis.confidence import MEASURE_LABELS
from vru.geography import borough_name
from vru.geography.boroughs import LONDON_CODE
from vru.outputs import charts_confidence as cc
from vru.outputs.html import Section, figure, table
from vru.outputs.sections import section
from vru.pipelines.confidence import ConfidenceResult, GroupTables, MeasureBlock, Microdata, Relationships

#: Names of the covariates of the relationships part.
NAMES = {"violence_rate": "serious violence per 1,000 residents", "imd_score": "IMD 2019 average score"}
GROUP_TITLES = {"ethnicity": "Ethnicity", "sex": "Sex", "age_band": "Age"}
SUPPRESSED = "suppressed"


def _short(name: str) -> str:
    """A borough name short enough for a small panel title."""
    return name.replace(" and ", " & ").replace(" upon Thames", "")


def _capital(s: str) -> str:
    return s[0].upper() + s[1:]


def _change(x: Any, label: str) -> str:
    if label == "not available" or fmt.is_missing(x):
        return "not available"
    return f"{fmt.points(x)} ({label})"


def _changes(s: pd.DataFrame) -> dict[str, list[str]]:
    """The "Change over 1 year" and "Change over 3 years" columns for a table of the rows of ``s``
    (a London or borough summary)."""
    return {f"Change over {span}": [_change(x, lab) for x, lab in
                                    zip(s[f"change_{k}"], s[f"change_{k}_label"], strict=True)]
            for k, span in (("1y", "1 year"), ("3y", "3 years"))}


def _share(v: Any, lo: Any, hi: Any) -> str:
    return f"{fmt.percent(v)} ({fmt.percent_interval(lo, hi)})"


# -- parts ---------------------------------------------------------------------------------------

def _london(r: ConfidenceResult) -> dict[str, str]:
    ls = r.london
    t = pd.DataFrame({
        "Measure": ls["label"],
        "12 months to": [fmt.month(p, short=True) for p in ls["period_end"]],
        "London": [_share(v, lo, hi) for v, lo, hi in
                   zip(ls["value"], ls["ci_low"], ls["ci_high"], strict=True)],
        **_changes(ls),
        "Boroughs down / up (3 years)": [f"{fmt.integer(d)} / {fmt.integer(u)}" for d, u in
                                         zip(ls["change_3y_boroughs_down"], ls["change_3y_boroughs_up"],
                                             strict=True)],
    })
    lines = r.london_trend
    chart = cc.share_lines(lines, title="London: share agreeing, rolling 12 months",
                           label="Line chart of the London share agreeing with each PAS measure "
                                 f"by quarter, {lines.index.min().year}–{lines.index.max().year}")
    return {"chart": figure(chart, "Public Attitude Survey, London (MPS) values, rolling 12-month "
                                   "estimates by quarter. Source: MOPAC."),
            "table": table(t, "London: latest value (95% interval) and change against "
                              "non-overlapping windows")}


def _measure(b: MeasureBlock, r: ConfidenceResult) -> dict:
    s, label, t, a = b.summary, b.label, b.period_end, r.assumptions
    when = fmt.month(t, short=True)
    figures = []
    if b.trend is not None:
        wide = b.trend
        boroughs = wide.drop(columns=[LONDON_CODE])
        boroughs = boroughs[sorted(boroughs.columns, key=borough_name)]
        boroughs.columns = [_short(borough_name(x)) for x in boroughs.columns]
        figures.append(figure(
            cc.small_multiples(boroughs, wide[LONDON_CODE], title=f"{label}: boroughs and London",
                               label=f"Small multiple line charts of {label} by borough against "
                                     f"London, {wide.index.min().year}–{wide.index.max().year}"),
            f"{label}: each borough (blue) against London (grey), rolling 12-month estimates."))
    est = pd.DataFrame({"value": s["value"].to_numpy(), "low": s["ci_low"].to_numpy(),
                        "high": s["ci_high"].to_numpy(),
                        "significant": (s["vs_london_label"] != "no significant difference").to_numpy()},
                       index=s["borough"])
    figures.append(figure(
        cc.interval_plot(est, title=f"{label}: boroughs, 12 months to {when}",
                         xlabel="share agreeing (95% interval)", reference=s["london_value"].iloc[0],
                         label=f"Dot plot of {label} by borough with 95% intervals and the London value"),
        "Filled dots differ significantly from London; hollow dots do not. Intervals assume "
        f"{fmt.number(a.borough_n, 0)} interviews and design effect {a.design_effect:g}."))
    sig3 = b.significant_3y
    if len(sig3):
        ch = pd.DataFrame({"value": sig3["change_3y"].to_numpy(), "low": sig3["change_3y_low"].to_numpy(),
                           "high": sig3["change_3y_high"].to_numpy()}, index=sig3["borough"])
        figures.append(figure(
            cc.interval_plot(ch, title=f"{label}: significant changes over 3 years",
                             xlabel="change in share agreeing (95% interval)", zero_line=True,
                             label=f"Dot plot of significant three-year changes in {label}"),
            "Only boroughs whose change over three years is significant are shown."))
    tab = pd.DataFrame({
        "Borough": s["borough"],
        "Share": [fmt.percent(v) for v in s["value"]],
        "95% interval": [fmt.percent_interval(lo, hi) for lo, hi in
                         zip(s["ci_low"], s["ci_high"], strict=True)],
        "Against London": [f"{fmt.points(d)} ({lab})" for d, lab in
                           zip(s["vs_london"], s["vs_london_label"], strict=True)],
        "Rank (plausible range)": [f"{fmt.integer(k)} ({fmt.integer(lo)}–{fmt.integer(hi)})" for k, lo, hi in
                                   zip(s["rank"], s["rank_best"], s["rank_worst"], strict=True)],
        **_changes(s),
    })
    figures.append(table(tab, f"{label} by borough, 12 months to {when}"))
    return {"label": label, "period_end": t, "significant": len(sig3), "boroughs": len(s),
            "figures": figures}


def _relationships(rel: Relationships) -> dict:
    cov, t = rel.covariates, rel.period_end
    when = fmt.month(t, short=True)
    rows = []
    for m, corr in rel.correlations.items():
        rec = {"Measure": MEASURE_LABELS.get(m, m)}
        for col in cov.columns:
            x = corr.loc[col]
            head = _capital(NAMES.get(col, col))
            rec[f"{head}: Spearman (95% CI)"] = (
                f"{fmt.number(x['spearman'], 2, signed=True)} "
                f"({fmt.interval(x['spearman_low'], x['spearman_high'], 2, signed=True)})")
            rec[f"{head}: p"] = fmt.p_value(x["spearman_p"], space=False)
        rows.append(rec)
    figures = []
    if rel.values is not None and rel.scatter is not None:
        good = rel.values
        for col in cov.columns:
            x = rel.scatter.loc[col]
            both = pd.concat([good.rename("y"), cov[col].rename("x")], axis=1).dropna()
            ends = set(both["y"].nlargest(3).index) | set(both["y"].nsmallest(3).index) \
                | set(both["x"].nlargest(2).index)
            names = pd.Series({b: _short(borough_name(b)) for b in sorted(ends)}, dtype=object)
            lab = NAMES.get(col, col)
            figures.append(figure(cc.scatter(
                cov[col], good, names=names, title=f'"Good job" locally against {lab}',
                xlabel=_capital(lab), ylabel='"Good job" locally',
                label=f'Scatter plot of boroughs: "good job" locally against {lab}'),
                f"Each dot is a borough (12 months to {when}); the highest and lowest are named. "
                f"Spearman's rank correlation {fmt.number(x['spearman'], 2, signed=True)} (95% interval "
                f"{fmt.interval(x['spearman_low'], x['spearman_high'], 2, signed=True)}), "
                f"{fmt.plural(x['n'], 'borough')}."))
    figures.append(table(pd.DataFrame(rows), f"Rank correlation across boroughs, 12 months to {when}"))
    return {"violence": "violence_rate" in cov.columns and rel.violence_window is not None,
            "violence_window": rel.violence_window, "population_year": rel.population_year,
            "imd": "imd_score" in cov.columns, "figures": figures}


def _group_rows(g: GroupTables) -> pd.DataFrame:
    rows = []
    for col, title in GROUP_TITLES.items():
        for x in g.tables[col].itertuples(index=False):
            name = getattr(x, col)
            if name == sw.ALL and col != "ethnicity":
                continue
            hidden = bool(x.suppressed)
            rows.append({"Group": "All respondents" if name == sw.ALL else f"{title}: {name}",
                         "Respondents": SUPPRESSED if hidden else fmt.integer(x.n),
                         "Share agreeing": SUPPRESSED if hidden else fmt.percent(x.p),
                         "95% interval": SUPPRESSED if hidden else fmt.percent_interval(x.ci_low, x.ci_high)})
    return pd.DataFrame(rows)


def _gap_rows(g: GroupTables) -> pd.DataFrame:
    rows = []
    for x in g.gaps.itertuples(index=False):
        hidden = fmt.is_missing(x.gap)
        rows.append({"Gap": f"{x.group_a} − {x.group_b}",
                     "Difference": SUPPRESSED if hidden else fmt.points(x.gap),
                     "95% interval": SUPPRESSED if hidden
                     else f"{fmt.points(x.ci_low)} to {fmt.points(x.ci_high)}",
                     "Finding": x.label})
    return pd.DataFrame(rows)


def microdata_blocks(md: Microdata) -> list[dict]:
    """The tables of each measure of the respondent-level part (label, groups and gaps as HTML)."""
    out = []
    for g in md.measures:
        gaps = _gap_rows(g)
        out.append({"label": g.label,
                    "groups": table(_group_rows(g), f"{g.label}: share agreeing by group"),
                    "gaps": table(gaps, f"{g.label}: gaps between groups") if len(gaps) else ""})
    return out


def present(result: ConfidenceResult) -> Section:
    """The trust-and-confidence section of the needs assessment."""
    r = result
    return section(
        "confidence", "Trust and confidence in the police", "confidence.html.j2",
        assumptions=r.assumptions.describe(), detectable=r.detectable_change,
        detectable_london=r.detectable_change_london, london=_london(r),
        measures=[_measure(b, r) for b in r.measures],
        relationships=None if r.relationships is None else _relationships(r.relationships),
        sampling_error=r.sampling_error,
        microdata=r.microdata,
        microdata_blocks=None if r.microdata is None else microdata_blocks(r.microdata))
