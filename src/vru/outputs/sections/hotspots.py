"""The needs assessment's hot spot section: where violence is high and sustained (from
:func:`vru.pipelines.hotspots.run`): the map of emerging hot spot patterns, the most sustained hot
spots, the areas by pattern, counts against harm, and what the method can and cannot tell."""

from __future__ import annotations

import pandas as pd

from vru import format as fmt
from vru import taxonomy
from vru.analysis.emerging import INTENSIFYING_HOT, PERSISTENT_HOT
from vru.outputs import charts_hotspots
from vru.outputs.html import Section, figure, table
from vru.outputs.sections import section
from vru.pipelines.hotspots import LEVEL_WORDS, PATTERNS, HotspotResult

TOP = 20  # rows of the table of sustained hot spots


def present(result: HotspotResult) -> Section:
    """The section "Hot spots: high and sustained violence" of ``result``."""
    p, lv = result.params, result.level
    rows = result.frame()
    periods = result.periods
    pw = lv.period_word
    level_word = LEVEL_WORDS[p.level]
    cats = " + ".join(taxonomy.label(c).lower() for c in p.categories)
    span = f"{periods[0]}-{periods[-1]}"
    counts = rows["category"].value_counts()
    sustained = result.sustained()
    top = sustained.head(TOP)
    recent = PATTERNS[p.scheme][1]

    colours = (charts_hotspots.EHSA_COLOURS if p.scheme == "arcgis"
               else charts_hotspots.SFHOTSPOT_COLOURS)
    geo = result.areas.copy()
    geo["pattern"] = geo["category"]
    map_svg = charts_hotspots.categorical_map(
        geo, "pattern", colours=colours, outline=result.outline,
        title=f"Emerging hot spots: {cats}, {span}",
        label=f"Map of London {level_word}s coloured by emerging hot spot pattern of {cats}, {span}",
        missing_label="no result (island)")
    fig = figure(map_svg, f"Emerging hot spot patterns of {cats} by {level_word}, {span}. "
                          "Grey: areas without neighbours (no result).")

    value_col = (f"Offences a {pw} (mean)" if p.weighting == "count" and not p.rates
                 else f"Value a {pw} (mean)")
    top_rows = pd.DataFrame({
        "Rank": [str(i) for i in range(1, len(top) + 1)],
        "Area": [f"{n} ({c})" for n, c in zip(top["name"], top["code"], strict=True)],
        "Ward (2018)": [w if isinstance(w, str) else fmt.DASH for w in top["ward_name"]],
        "Borough": top["borough_name"].astype(str),
        "Pattern": top["category"].astype(str),
        f"{pw.capitalize()}s hot": [f"{h} of {t}" for h, t in
                                    zip(top["n_hot"], top["n_periods"], strict=True)],
        "Trend (tau)": [fmt.number(v, 2, signed=True) for v in top["trend_tau"]],
        "Last z": [fmt.number(v, 1) for v in top["last_z"]],
        value_col: [fmt.decimal(v, 0) for v in top["mean_value"]],
    })
    of = f" (of {fmt.integer(len(sustained))})" if len(sustained) > len(top) else ""
    top_table = table(top_rows, f"The {len(top)} most persistent and intensifying hot spots{of}: "
                                f"intensifying first, then persistent, each by {pw}s hot and mean value",
                      numeric={"Rank", f"{pw.capitalize()}s hot", "Trend (tau)", "Last z", value_col})
    by_pattern = pd.DataFrame({"Pattern": counts.index.astype(str),
                               f"{level_word}s": [fmt.integer(v) for v in counts.to_numpy()]})
    pattern_table = table(by_pattern, f"{level_word}s by pattern", numeric={f"{level_word}s"})

    harm = None
    if result.harm is not None:
        h = result.harm
        harm = {"weights": [(taxonomy.label(k).lower(), v) for k, v in h.weights.items()],
                "n": len(h.sustained), "both": h.both, "count_only": h.count_only,
                "harm_only": h.harm_only}

    return section(
        "hotspots", "Hot spots: high and sustained violence", "hotspots.html.j2",
        p=p, cats=cats, span=span, n_areas=len(rows), level_word=level_word, pw=pw,
        n_periods=len(periods), source=lv.source, rates=p.rates,
        what="counts" if p.weighting == "count" else p.weighting.upper() + " harm",
        neighbours=("contiguity neighbours" if p.rule in ("queen", "rook") else "neighbours"),
        sustained_periods=-(-9 * len(periods) // 10),  # at least 90% of the periods, rounded up
        n_persistent=counts.get(PERSISTENT_HOT if p.scheme == "arcgis" else "persistent hotspot", 0),
        n_intensifying=counts.get(INTENSIFYING_HOT, 0),
        by_borough=list(sustained["borough_name"].value_counts().head(8).items()),
        n_recent=int(rows["category"].isin(recent).sum()),
        figure=fig, top_table=top_table, pattern_table=pattern_table, harm=harm,
        notes=result.notes)


__all__ = ["present"]
