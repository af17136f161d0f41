"""The needs assessment's London sections: summary, violence trends, borough league table, maps of
violence and deprivation, and the street-level data (from :mod:`vru.pipelines.london`)."""

from __future__ import annotations

from datetime import date

import pandas as pd

import vru
from vru import format as fmt
from vru import taxonomy
from vru.geography import borough_name
from vru.outputs import charts
from vru.outputs.html import Section, figure, table
from vru.outputs.sections import section
from vru.pipelines.london import LondonResult


def present(result: LondonResult) -> list[Section]:
    """The sections ``result`` has the numbers for, in report order: summary, trends, league, maps
    (when the warehouse had the areas) and street (when street-level data is loaded)."""
    out = []
    table = league(result) if result.league else None  # drawn first, as the report always has
    if result.league:
        out.append(summary(result))
    if result.trends:
        out.append(trends(result))
    if table is not None:
        out.append(table)
    if result.maps is not None:
        out.append(maps(result))
    if not result.street.empty:
        out.append(street(result))
    return out


def _ranked_by(result: LondonResult) -> str:
    return taxonomy.label(result.params.measures[0])


def summary(result: LondonResult) -> Section:
    totals = [{"label": taxonomy.label(cat), "current": cur, "change": result.change_pct[cat]}
              for cat, (cur, _) in result.totals.items()]
    top = result.ranking.head(5)
    top = [{"name": borough_name(c), "rate": r}
           for c, r in zip(top["area_code"], top["rate_per_1000"], strict=True)]
    return section("summary", "Summary", "london_summary.html.j2", first=result.first,
                   last=result.last, version=vru.__version__, today=date.today(), totals=totals,
                   window=result.window, top=top,
                   ranked_by=_ranked_by(result).lower().replace(" ", "-"))


def trends(result: LondonResult, *, place: str = "London") -> Section:
    """The trend charts; ``place`` names the area the series are of (a borough's name when the
    pipeline ran with ``borough``)."""
    figs = []
    first, last = result.first, result.last
    for title, data in result.trends.items():
        labels = {c: taxonomy.label(c) for c in data.columns}
        svg = charts.line_chart(
            data.rename(columns=labels), smooth=result.smooth[title].rename(columns=labels),
            title=f"{title}: {place}, monthly", ylabel="offences per month",
            label=f"Line chart of monthly {title.lower()} offences in {place}, "
                  f"{first:%Y}-{last:%Y}",
        )
        figs.append(figure(svg, f"{title}: recorded offences per month (faint) and 12-month "
                                f"rolling mean (bold). Source: MPS, detailed classification."))
    return section("trends", "Violence trends since 2010", "london_trends.html.j2", place=place,
                   figures="".join(figs))


def league(result: LondonResult) -> Section:
    vap = result.ranking
    codes = vap["area_code"]
    df = pd.DataFrame({"Borough": [borough_name(c) for c in codes]})
    df["Rank"] = vap["rank"].to_numpy()
    for cat in result.params.measures:
        t = result.league[cat].set_index("area_code").loc[codes]
        short = taxonomy.label(cat)
        df[f"{short}: rate per 1,000"] = [fmt.number(v, 2) for v in t["rate_per_1000"]]
        df[f"{short}: change"] = [fmt.change_pct(v) for v in t["change_pct"]]
    df.insert(2, f"Residents (mid-{result.params.pop_year})", [fmt.integer(v) for v in vap["population"]])
    period = fmt.month_range(*result.window, short=True)
    return section(
        "league", "Borough league table", "london_league.html.j2", window=result.window,
        ranked_by=_ranked_by(result), pop_year=result.params.pop_year, chart=league_chart(result),
        table=table(df, f"Borough league table, {period}", numeric=set(df.columns[1:])))


def league_chart(result: LondonResult) -> str:
    """The bar chart of the boroughs' rates of the first measure, as a figure (the report's league
    table and the dashboard's overview)."""
    vap = result.ranking
    label = _ranked_by(result)
    chart = charts.bar_chart(
        pd.Series(vap["rate_per_1000"].to_numpy(), index=[borough_name(c) for c in vap["area_code"]]),
        title=f"{label} per 1,000 residents",
        xlabel=f"offences per 1,000 residents, {fmt.month_range(*result.window, short=True)}",
        label=f"Bar chart of {label.lower()} rates by borough",
    )
    return figure(chart, f"{label} per 1,000 residents by borough.")


def maps(result: LondonResult) -> Section:
    m = result.maps
    assert m is not None  # present() calls this only with maps
    period = fmt.month_range(*result.window, short=True)
    pop_year = result.params.pop_year
    label = _ranked_by(result)
    figs = [figure(charts.choropleth(
        m.borough_rate, "rate_per_1000", title=f"{label} per 1,000 residents",
        legend_title=period, k=5, cmap="magma_r",
        label=f"Map of London boroughs shaded by {label.lower()} rate"),
        f"Boroughs by {label.lower()} per 1,000 residents (quintiles). "
        f"The City of London has no MPS data.")]
    if m.borough_imd is not None:
        figs.append(figure(charts.choropleth(
            m.borough_imd, "value", title="Deprivation: IMD 2019 average score",
            legend_title="average score (higher = more deprived)", k=5, cmap="viridis_r",
            label="Map of London boroughs shaded by IMD 2019 average score"),
            "Boroughs by Index of Multiple Deprivation 2019 average score (quintiles)."))
    figs.append(figure(charts.choropleth(
        m.lsoa_rate, "rate", title=f"Violence against the person per 1,000 residents, {m.year}",
        legend_title="LSOA rate (quintiles)", k=5, cmap="magma_r", outline=m.boroughs,
        label=f"Map of London LSOAs shaded by violence rate in {m.year}"),
        f"LSOAs (2011) by violence against the person per 1,000 residents in {m.year} "
        f"(population mid-{pop_year}); City of London LSOAs have no MPS data. Rates in LSOAs "
        f"with few residents and busy town centres are very high."))
    figs.append(figure(charts.choropleth(
        m.lsoa_imd, "imd", title="Deprivation: IMD 2019 score by LSOA",
        legend_title="IMD score (quintiles)", k=5, cmap="viridis_r", outline=m.boroughs,
        label="Map of London LSOAs shaded by IMD 2019 score"),
        "LSOAs (2011) by Index of Multiple Deprivation 2019 score (higher = more deprived)."))
    return section("maps", "Maps: violence and deprivation", "london_maps.html.j2",
                   n_lsoas=m.n_lsoas, year=m.year, rho=m.rho, figures="".join(figs))


def street(result: LondonResult) -> Section:
    parts = []
    for src, g in result.street.groupby("source", sort=True):
        t = pd.DataFrame({
            "Category": [taxonomy.label(c) for c in g["category"]],
            "Offences": [fmt.integer(v) for v in g["n"]],
        })
        force = src.split("/", 1)[1]
        period = fmt.month_range(g["first"].min(), g["last"].max(), short=True)
        parts.append(table(t, f"{force}: {period}"))
    return section("street", "Street-level data", "london_street.html.j2", tables="".join(parts))
