"""The needs assessment's section "Choosing neighbourhoods to fund" (from :mod:`vru.pipelines.targeting`):
the method, the chosen areas (table and map), the budget, the robustness of the shortlist to the
weights, and the comparison with the MyEnds boroughs."""

from __future__ import annotations

import pandas as pd

from vru import format as fmt
from vru import taxonomy
from vru.analysis import targeting as tg
from vru.geography import MYENDS_BOROUGHS, borough_name
from vru.outputs import charts, charts_drivers
from vru.outputs.html import Section, figure, table
from vru.outputs.sections import section
from vru.pipelines.targeting import TargetingResult, sustained_words, why

HARM_WORDS = {"css": "its ONS Crime Severity Score (2020 edition)", "count": "1 (counts)",
              "chi": "its Cambridge Crime Harm Index days (user-supplied table)"}
COMPONENT_WORDS = {"sustained": "sustained violence", "harm": "harm (weighted violence rate)",
                   "deprivation": "deprivation (IMD)", "youth": "young residents"}


def present(result: TargetingResult) -> Section:
    """The targeting section of the needs assessment."""
    t, p = result, result.params
    sl, cand, alloc = t.shortlist, t.candidates, t.allocation
    label = cand["label"]
    stab = t.sensitivity["candidates"]
    cov = t.sensitivity["coverage"]
    rob = t.robustness
    hw = t.inputs.harm_weights

    z_cols = {f"z {COMPONENT_WORDS[c]}": [fmt.number(cand.at[a, f"z_{c}"], 2, signed=True)
                                          for a in sl.index] for c in tg.COMPONENTS}
    rows = pd.DataFrame({
        "Rank": sl["rank"].astype(str),
        "Area": [label[a] for a in sl.index],
        "Borough": [borough_name(b) for b in sl["borough"]],
        "Residents": [fmt.integer(v) for v in sl["population"]],
        "Score": [fmt.number(v, 2) for v in sl["score"]],
        **z_cols,
        "Chosen in draws": [fmt.percent(stab.get(a, 0)) for a in sl.index],
        "Area covered in draws": [fmt.percent(cov[a]) for a in sl.index],
    })
    years = [c for c in alloc.columns if c != "total"]
    al = pd.DataFrame({"Area": [label[a] for a in alloc.index],
                       "Need (offences a year)": [fmt.integer(v) for v in sl["need"]]})
    for y in years + ["total"]:
        al[y.capitalize()] = [fmt.pounds(v) for v in alloc[y]]
    al.loc[len(al)] = ["All areas", fmt.integer(sl["need"].sum()),
                       *[fmt.pounds(alloc[y].sum()) for y in years + ["total"]]]
    alloc_svg = charts_drivers.stacked_bars(
        (alloc[years] / 100).set_axis([f"{r}. {label[a]}" for a, r in
                                       zip(sl.index, sl["rank"], strict=True)]),
        title="Budget by area and year", xlabel="GBP", money=True,
        label="Stacked bar chart of the budget allocated to each chosen area by year")

    top = stab.head(15)
    stab_svg = charts.bar_chart(
        pd.Series(100 * top.to_numpy(), index=[label[a] for a in top.index]),
        title="How often each area is shortlisted when the weights vary",
        xlabel=f"% of {fmt.integer(p.draws)} weight draws", highlight=[label[a] for a in sl.index],
        label="Bar chart of the share of weight draws in which each area is shortlisted")

    chosen = "The chosen area" if p.n == 1 else f"The {fmt.integer(p.n)} chosen areas"
    map_svg = charts_drivers.highlight_map(
        t.boroughs, t.shapes, labels="rank", title=chosen,
        label=f"Map of London boroughs with {chosen.lower()} highlighted and numbered")

    comp = t.comparison
    ct = comp.table[comp.table["chosen"] | comp.table["reference"]].copy()
    ct = ct.sort_values(["reference", "chosen", "rank"], ascending=[False, False, True])
    ctab = pd.DataFrame({
        "Borough": [borough_name(b) for b in ct.index],
        "MyEnds": ["yes" if v else "" for v in ct["reference"]],
        "Shortlisted": ["yes" if v else "" for v in ct["chosen"]],
        "Best area": [label[a] for a in ct["best"]],
        "Rank of best area": ct["rank"].astype(str),
        "Shortlisted in draws": [fmt.percent(v) for v in ct["stability"]],
        "Why": [why(r) for _, r in ct.iterrows()],
    })
    # boroughs chosen here, not by MyEnds, mainly for the per-resident violence rate
    central = [borough_name(b) for b in ct.index if ct.at[b, "chosen"] and not ct.at[b, "reference"]
               and ct.at[b, "component"] == "harm"]

    return section(
        "targeting", "Choosing neighbourhoods to fund", "targeting.html.j2",
        p=p, min_pop=p.min_pop(), n_candidates=len(cand), exact=t.exact,
        weights=[(COMPONENT_WORDS[c], rob.weights[c]) for c in tg.COMPONENTS],
        sustained=sustained_words(t.sustained),
        categories=[taxonomy.label(c).lower() for c in p.categories],
        harm_words=HARM_WORDS.get(p.weighting, p.weighting),
        harm_weights=[(taxonomy.label(c).lower(), hw[c]) for c in p.categories if c in hw],
        harm_years=t.inputs.harm_years,
        weight_sd=rob.weight_sd, stable=rob.stable, covered=rob.covered, n_chosen_once=rob.chosen_once,
        borough_stability=[(borough_name(b), v) for b, v in t.sensitivity["boroughs"].head(12).items()],
        agree=comp.agree, p_exact=comp.p_exact, n_boroughs=comp.n_boroughs,
        myends=[borough_name(b) for b in MYENDS_BOROUGHS],
        myends_stability=rob.myends_stability, central=central,
        chosen_table=table(rows, chosen,
                           numeric={"Residents", "Score", "Rank", "Chosen in draws",
                                    "Area covered in draws"} | set(z_cols)),
        map=figure(map_svg, f"{chosen}, numbered by rank."),
        allocation_table=table(al, "Allocation by area and year (GBP)", numeric=set(al.columns[1:])),
        allocation_chart=figure(alloc_svg, "Budget by area and year."),
        stability_chart=figure(stab_svg, "Share of weight draws in which each area is shortlisted "
                                         "(the 15 most frequent; chosen areas in orange)."),
        comparison_table=table(ctab, "Boroughs chosen here and MyEnds boroughs",
                               numeric={"Rank of best area", "Shortlisted in draws"}),
    )


__all__ = ["present"]
