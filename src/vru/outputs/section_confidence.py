"""Report section: trust and confidence in the police (MOPAC Public Attitude Survey).

From the warehouse: the PAS borough measures (``survey`` rows of source ``mopac_pas``), serious
violence per 1,000 residents and IMD 2019 by borough, and respondent-level survey answers where a
unit has loaded them (table ``survey_responses``). The statistics are in
:mod:`vru.analysis.confidence` (borough figures) and :mod:`vru.analysis.survey_weights` with
:mod:`vru.analysis.disclosure` (microdata); methods in ``docs/methods-confidence.md``.

:func:`survey_rows` and :func:`borough_summary` are what ``vru confidence`` calls; :func:`build`
returns the report section, or ``None`` when the warehouse holds no PAS data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vru.analysis import confidence as c
from vru.analysis import disclosure
from vru.analysis import survey_weights as sw
from vru.analysis.disclosure import DEFAULT_MIN_N
from vru.geography import BOROUGHS, MPS_BOROUGHS, borough_name
from vru.geography.boroughs import LONDON_CODE
from vru.outputs import charts_confidence as cc
from vru.outputs.html import Section, esc, figure, table
from vru.sources import catalogue, pas_microdata
from vru.taxonomy import SERIOUS_VIOLENCE
from vru.warehouse import queries as q
from vru.warehouse.store import Warehouse

SOURCE = catalogue.MOPAC_PAS
CRIME_SOURCE = catalogue.MPS_BOROUGH_DETAILED
#: Gaps shown from microdata: (grouping column, group a, group b).
GAPS = (("ethnicity", "Black", "White"), ("ethnicity", "Mixed", "White"),
        ("ethnicity", "Asian", "White"), ("sex", "Female", "Male"), ("age_band", "16-24", "65+"))
NAMES = {"violence_rate": "serious violence per 1,000 residents", "imd_score": "IMD 2019 average score"}


# -- warehouse queries ---------------------------------------------------------------------------

def survey_rows(wh: Warehouse, source: str = SOURCE) -> pd.DataFrame:
    """The PAS borough rows of the ``survey`` table."""
    return wh.sql("SELECT area_code, period_end, measure, value, london_value FROM survey "
                  "WHERE source = ? AND level = 'borough' ORDER BY measure, area_code, period_end",
                  [source])


def borough_summary(wh: Warehouse, measure: str = "good_job_local", as_of=None,
                    assumptions: c.Assumptions | None = None) -> pd.DataFrame:
    """:func:`vru.analysis.confidence.borough_summary` on the warehouse's PAS rows."""
    rows = survey_rows(wh)
    if rows.empty:
        raise ValueError("the warehouse holds no MOPAC PAS data: run `vru init` or ingest the file")
    return c.borough_summary(rows, measure, as_of, assumptions or c.Assumptions())


def covariates(wh: Warehouse, as_of: pd.Timestamp) -> tuple[pd.DataFrame, str]:
    """Serious violence per 1,000 residents and IMD 2019 average score by MPS borough.

    Violence (violence with injury, robbery, knife offences; MPS detailed classification) is
    counted over the 12 months ending with the survey quarter, or the latest 12 months of crime
    data if those end earlier. Returns the frame (index area_code) and a sentence saying so.
    """
    cols: dict[str, pd.Series] = {}
    notes = []
    first, last = q.crime_months(wh, CRIME_SOURCE)
    if not pd.isna(last):
        end = min(pd.Timestamp(as_of).to_period("M").to_timestamp(), pd.Timestamp(last))
        start = end - pd.DateOffset(months=11)
        if start >= first:
            parts = [q.crime_series(wh, source=CRIME_SOURCE, level="borough", category=cat,
                                    start=str(start.date()), end=str(end.date()))
                     for cat in SERIOUS_VIOLENCE]
            count = pd.concat(parts).groupby("area_code")["count"].sum()
            years = wh.sql("SELECT DISTINCT year FROM population WHERE level = 'lsoa'")["year"]
            if not years.empty:
                year = int(min(years, key=lambda y: (abs(y - end.year), -y)))
                pop = q.population(wh, level="borough", year=year).set_index("area_code")
                rate = 1000.0 * count / pop["population"].reindex(count.index)
                cols["violence_rate"] = rate.reindex(MPS_BOROUGHS)
                notes.append(f"serious violence (violence with injury, robbery and knife "
                             f"offences, MPS) per 1,000 residents, {start:%b %Y} – {end:%b %Y}, "
                             f"mid-{year} population")
    imd = q.deprivation(wh, level="borough", measure="imd_average_score")
    if not imd.empty:
        cols["imd_score"] = imd.set_index("area_code")["value"].reindex(MPS_BOROUGHS)
        notes.append("IMD 2019 average score (higher = more deprived)")
    frame = pd.DataFrame(cols, index=pd.Index(MPS_BOROUGHS, name="area_code"))
    return frame, "; ".join(notes)


def responses(wh: Warehouse) -> pd.DataFrame | None:
    """Respondent-level answers, if the warehouse has a ``survey_responses`` table with rows."""
    if "survey_responses" not in wh.tables():
        return None
    df = wh.sql("SELECT * FROM survey_responses")
    return None if df.empty else df


# -- formatting ----------------------------------------------------------------------------------

def _pct(x) -> str:
    return "–" if pd.isna(x) else f"{100 * x:.0f}%"


def _ci(lo, hi) -> str:
    return "–" if pd.isna(lo) else f"{100 * lo:.0f}–{100 * hi:.0f}%"


def _pts(x) -> str:
    if pd.isna(x):
        return "–"
    v = round(100 * x)
    return "0 pts" if v == 0 else f"{v:+d} pts".replace("-", "−")


def _p(p) -> str:
    return "–" if pd.isna(p) else ("<0.001" if p < 0.001 else f"{p:.3f}")


def _short(name: str) -> str:
    """A borough name short enough for a small panel title."""
    return name.replace(" and ", " & ").replace(" upon Thames", "")


def _change(x, label) -> str:
    if label == "not available" or pd.isna(x):
        return "not available"
    return f"{_pts(x)} ({label})"


def _changes(s: pd.DataFrame) -> dict[str, list[str]]:
    """The "Change over 1 year" and "Change over 3 years" columns for a table of the rows of ``s``
    (a London or borough summary)."""
    return {f"Change over {span}": [_change(x, lab) for x, lab in
                                    zip(s[f"change_{k}"], s[f"change_{k}_label"], strict=True)]
            for k, span in (("1y", "1 year"), ("3y", "3 years"))}


# -- parts ---------------------------------------------------------------------------------------

def _london(rows: pd.DataFrame, a: c.Assumptions) -> str:
    ls = c.london_summary(rows, a=a)
    t = pd.DataFrame({
        "Measure": ls["label"],
        "12 months to": [f"{p:%b %Y}" for p in ls["period_end"]],
        "London": [f"{_pct(v)} ({_ci(lo, hi)})" for v, lo, hi in
                   zip(ls["value"], ls["ci_low"], ls["ci_high"], strict=True)],
        **_changes(ls),
        "Boroughs down / up (3 years)": [f"{d} / {u}" for d, u in
                                         zip(ls["change_3y_boroughs_down"],
                                             ls["change_3y_boroughs_up"], strict=True)],
    })
    lines = pd.DataFrame({c.MEASURE_LABELS[m]: c.trend(rows, m)[LONDON_CODE]
                          for m in c.MEASURE_LABELS if m in set(rows["measure"])})
    chart = cc.share_lines(lines, title="London: share agreeing, rolling 12 months",
                           label="Line chart of the London share agreeing with each PAS measure "
                                 f"by quarter, {lines.index.min():%Y}–{lines.index.max():%Y}")
    return (figure(chart, "Public Attitude Survey, London (MPS) values, rolling 12-month "
                          "estimates by quarter. Source: MOPAC.")
            + table(t, "London: latest value (95% interval) and change against non-overlapping "
                       "windows"))


def _measure_block(rows: pd.DataFrame, measure: str, a: c.Assumptions, small: bool) -> str:
    s = c.borough_summary(rows, measure, a=a)
    label = c.MEASURE_LABELS[measure]
    t = s["period_end"].iloc[0]
    parts = []
    if small:
        wide = c.trend(rows, measure)
        boroughs = wide.drop(columns=[LONDON_CODE])
        boroughs = boroughs[sorted(boroughs.columns, key=borough_name)]
        boroughs.columns = [_short(borough_name(x)) for x in boroughs.columns]
        parts.append(figure(
            cc.small_multiples(boroughs, wide[LONDON_CODE], title=f"{label}: boroughs and London",
                               label=f"Small multiple line charts of {label} by borough against "
                                     f"London, {wide.index.min():%Y}–{wide.index.max():%Y}"),
            f"{label}: each borough (blue) against London (grey), rolling 12-month estimates."))
    est = pd.DataFrame({"value": s["value"].to_numpy(), "low": s["ci_low"].to_numpy(),
                        "high": s["ci_high"].to_numpy(),
                        "significant": (s["vs_london_label"] != "no significant difference").to_numpy()},
                       index=s["borough"])
    parts.append(figure(
        cc.interval_plot(est, title=f"{label}: boroughs, 12 months to {t:%b %Y}",
                         xlabel="share agreeing (95% interval)", reference=s["london_value"].iloc[0],
                         label=f"Dot plot of {label} by borough with 95% intervals and the "
                               f"London value"),
        "Filled dots differ significantly from London; hollow dots do not. Intervals assume "
        f"{a.borough_n:.0f} interviews and design effect {a.design_effect:g}."))
    sig3 = s[s["change_3y_label"].str.startswith("significant")]
    ch = pd.DataFrame({"value": sig3["change_3y"].to_numpy(), "low": sig3["change_3y_low"].to_numpy(),
                       "high": sig3["change_3y_high"].to_numpy()}, index=sig3["borough"])
    tab = pd.DataFrame({
        "Borough": s["borough"],
        "Share": [_pct(v) for v in s["value"]],
        "95% interval": [_ci(lo, hi) for lo, hi in zip(s["ci_low"], s["ci_high"], strict=True)],
        "Against London": [f"{_pts(d)} ({lab})" for d, lab in
                           zip(s["vs_london"], s["vs_london_label"], strict=True)],
        "Rank (plausible range)": [f"{r} ({b}–{w})" for r, b, w in
                                   zip(s["rank"], s["rank_best"], s["rank_worst"], strict=True)],
        **_changes(s),
    })
    n_sig = len(sig3)
    text = (f"<p>{esc(label)}, 12 months to {t:%B %Y}: {n_sig} of {len(s)} boroughs changed "
            f"significantly over three years. Ranks are shown with the range the data support: "
            f"a borough is placed above another only where the difference is significant.</p>")
    if n_sig:
        parts.append(figure(
            cc.interval_plot(ch, title=f"{label}: significant changes over 3 years",
                             xlabel="change in share agreeing (95% interval)", zero_line=True,
                             label=f"Dot plot of significant three-year changes in {label}"),
            "Only boroughs whose change over three years is significant are shown."))
    parts.append(table(tab, f"{label} by borough, 12 months to {t:%b %Y}"))
    return f"<h3>{esc(label)}</h3>" + text + "".join(parts)


def _relationships(wh: Warehouse, rows: pd.DataFrame, a: c.Assumptions) -> str:
    t = max(c.quarters(rows, m)[-1] for m in c.HEADLINE if m in set(rows["measure"]))
    cov, note = covariates(wh, t)
    cov = cov.dropna(axis=1, how="all")
    if cov.empty:
        return ""
    out_rows = []
    for m in [m for m in c.MEASURE_LABELS if m in set(rows["measure"])]:
        if t not in set(c.quarters(rows, m)):
            continue
        s = c.trend(rows, m).loc[t].drop(LONDON_CODE)
        rel = c.relationships(s, cov).set_index("covariate")
        rec = {"Measure": c.MEASURE_LABELS[m]}
        for col in cov.columns:
            r = rel.loc[col]
            head = NAMES.get(col, col)
            head = head[0].upper() + head[1:]
            rec[f"{head}: Spearman (95% CI)"] = (
                f"{r['spearman']:+.2f} ({r['spearman_low']:+.2f} to {r['spearman_high']:+.2f})")
            rec[f"{head}: p"] = _p(r["spearman_p"])
        out_rows.append(rec)
    figs = []
    good = c.trend(rows, "good_job_local").loc[t].drop(LONDON_CODE)
    rel = c.relationships(good, cov).set_index("covariate")
    for col in cov.columns:
        r = rel.loc[col]
        both = pd.concat([good.rename("y"), cov[col].rename("x")], axis=1).dropna()
        ends = set(both["y"].nlargest(3).index) | set(both["y"].nsmallest(3).index) \
            | set(both["x"].nlargest(2).index)
        names = pd.Series({b: _short(borough_name(b)) for b in sorted(ends)}, dtype=object)
        lab = NAMES.get(col, col)
        figs.append(figure(cc.scatter(
            cov[col], good, names=names, title=f'"Good job" locally against {lab}',
            xlabel=lab[0].upper() + lab[1:], ylabel='"Good job" locally',
            label=f'Scatter plot of boroughs: "good job" locally against {lab}'),
            f"Each dot is a borough (12 months to {t:%b %Y}); the highest and lowest are named. "
            f"Spearman's rank correlation {r['spearman']:+.2f} (95% interval "
            f"{r['spearman_low']:+.2f} to {r['spearman_high']:+.2f}), {int(r['n'])} boroughs."))
    body = (
        f"<p>How confidence relates to violence and deprivation across the boroughs "
        f"({esc(note)}). Rank (Spearman) correlations with 95% intervals. Caveats: 32 boroughs "
        f"give imprecise correlations; each survey value carries its own sampling error (about "
        f"±{100 * a.z * np.sqrt(0.25 / a.borough_n_eff):.0f} points), which weakens observed "
        f"associations; an association between boroughs says nothing about individuals (the "
        f"ecological fallacy); per-resident violence rates are inflated in central boroughs where "
        f"many victims are visitors; and correlation is not causation: low confidence, violence and "
        f"deprivation share causes, and each may affect the others.</p>"
    )
    return ("<h3>Confidence, violence and deprivation</h3>" + body + "".join(figs)
            + table(pd.DataFrame(out_rows), f"Rank correlation across boroughs, 12 months to {t:%b %Y}"))


#: Documented categories of the grouping columns (the microdata file format): every one is listed.
CATEGORIES = {"ethnicity": pas_microdata.ETHNICITY, "sex": pas_microdata.SEX,
              "age_band": pas_microdata.AGE_BANDS, "area_code": tuple(BOROUGHS)}


def quarters_label(resp: pd.DataFrame) -> tuple[str, ...]:
    """The quarters (``YYYY-Qn``) a set of answers covers: the period of the tables made from it."""
    quarters = pd.to_datetime(resp["period_end"]).dt.to_period("Q")
    return tuple(sorted({f"{p.year}-Q{p.quarter}" for p in quarters}))


def group_table(resp: pd.DataFrame, measure: str, by: str | list[str] = "ethnicity", *,
                min_n: int = DEFAULT_MIN_N, dont_know_in_base: bool = True,
                ledger: disclosure.Ledger | None = None) -> pd.DataFrame:
    """Weighted share agreeing with ``measure`` by one or two of ``ethnicity``, ``sex``,
    ``age_band``, ``area_code`` from respondent-level answers (a ``survey_responses`` frame),
    every documented category listed, small cells suppressed
    (:func:`vru.analysis.survey_weights.weighted_percentages`) together with the cells already
    published in ``ledger`` (to which the table is added). The table's period is the quarters of
    ``resp``; its population is the base of ``measure``."""
    x = resp[resp["measure"] == measure]
    if x.empty:
        raise ValueError(f"no answers for measure {measure!r}")
    excluded = () if dont_know_in_base else (pas_microdata.DONT_KNOW,)
    x = x.assign(y=sw.indicator(x["answer"], pas_microdata.AGREE, excluded))
    population = f"{measure}, don't know {'in' if dont_know_in_base else 'out of'} the base"
    return sw.weighted_percentages(x, "y", by, min_n=min_n, categories=CATEGORIES,
                                   period=quarters_label(resp), population=population, ledger=ledger)


def microdata_html(resp: pd.DataFrame, *, min_n: int = DEFAULT_MIN_N,
                   measures=c.HEADLINE) -> str:
    """Weighted shares by ethnicity, sex and age band, and the gaps between groups, from
    respondent-level answers (the latest four quarters), with small cells suppressed."""
    last = resp["period_end"].max()
    first = c.shift_quarters(last, 3)
    recent = resp[resp["period_end"] >= first]
    out = [f"<p>From {recent['respondent_id'].nunique():,} respondent records, "
           f"{first - pd.offsets.QuarterEnd(1) + pd.Timedelta(days=1):%b %Y} – {last:%b %Y}. "
           f"Weighted shares with 95% intervals (linearised variance, Wilson interval on the "
           f"effective sample size). Any group with fewer than {min_n} respondents is suppressed, "
           f"together with enough other groups that it cannot be worked out from the totals; "
           f"\"don't know\" answers count in the base. Gaps are called differences only where "
           f"their 95% interval excludes zero.</p>"]
    for m in measures:
        if not (recent["measure"] == m).any():
            continue
        published = disclosure.Ledger.empty()  # the three tables are protected together
        tables = {col: group_table(recent, m, col, min_n=min_n, ledger=published)
                  for col in ("ethnicity", "sex", "age_band")}
        label = c.MEASURE_LABELS.get(m, m)
        rows = []
        for col, title in (("ethnicity", "Ethnicity"), ("sex", "Sex"), ("age_band", "Age")):
            tab = tables[col]
            for r in tab.itertuples(index=False):
                g = getattr(r, col)
                if g == sw.ALL and col != "ethnicity":
                    continue
                rows.append({"Group": "All respondents" if g == sw.ALL else f"{title}: {g}",
                             "Respondents": "suppressed" if r.suppressed else f"{int(r.n):,}",
                             "Share agreeing": "suppressed" if r.suppressed else _pct(r.p),
                             "95% interval": "suppressed" if r.suppressed else _ci(r.ci_low,
                                                                                    r.ci_high)})
        gap_rows = []
        for col, ga, gb in GAPS:
            tab = tables[col]
            if not {ga, gb} <= set(tab[col]):
                continue
            g = sw.gaps(tab, col, [(ga, gb)]).iloc[0]
            gap_rows.append({"Gap": f"{ga} − {gb}",
                             "Difference": "suppressed" if pd.isna(g["gap"]) else _pts(g["gap"]),
                             "95% interval": "suppressed" if pd.isna(g["gap"]) else
                             f"{_pts(g['ci_low'])} to {_pts(g['ci_high'])}",
                             "Finding": g["label"]})
        out.append(f"<h4>{esc(label)}</h4>"
                   + table(pd.DataFrame(rows), f"{label}: share agreeing by group")
                   + (table(pd.DataFrame(gap_rows), f"{label}: gaps between groups")
                      if gap_rows else ""))
    return "<h3>By group (respondent-level data)</h3>" + "".join(out)


def build(wh: Warehouse, assumptions: c.Assumptions | None = None) -> Section | None:
    """The trust-and-confidence section, or ``None`` when the warehouse has no PAS data."""
    rows = survey_rows(wh)
    if rows.empty:
        return None
    a = assumptions or c.Assumptions()
    have = set(rows["measure"])
    intro = (
        f"<p>The Mayor's Office for Policing and Crime's Public Attitude Survey (PAS) asks "
        f"Londoners whether the police do a good job locally, can be relied on, treat everyone "
        f"fairly, listen to concerns, and whether they trust the MPS (the City of London, policed "
        f"by the City of London Police, is not surveyed). The published borough "
        f"figures give only the share agreeing, so what they rest on has to be assumed: "
        f"{esc(a.describe())}. On those assumptions a borough's change must exceed about "
        f"{100 * c.detectable_change(0.5, a):.0f} percentage points to be detected reliably "
        f"(London's about {100 * c.detectable_change(0.5, a, london=True):.0f}); anything within "
        f"the noise is labelled \"no significant change\" and no claim is made. With 32 boroughs "
        f"one or two \"significant\" results per measure are expected by chance.</p>"
    )
    parts = [intro, _london(rows, a)]
    for i, m in enumerate(x for x in c.HEADLINE if x in have):
        parts.append(_measure_block(rows, m, a, small=(i == 0)))
    parts.append(_relationships(wh, rows, a))
    resp = responses(wh)
    if resp is not None:
        parts.append(microdata_html(resp))
    parts.append("<p class='attribution'>Contains MOPAC Public Attitude Survey data (London "
                 "Datastore, Open Government Licence).</p>")
    return Section("confidence", "Trust and confidence in the police", "".join(parts))
