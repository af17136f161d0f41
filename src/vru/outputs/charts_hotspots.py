"""Maps for the hot spot analysis: a categorical map of emerging hot spot patterns.

Drawn like every chart of the platform (:mod:`vru.outputs.charts`): matplotlib to a self-contained
responsive SVG via :func:`vru.outputs.charts.to_svg`, dense polygon layers rasterised inside the
SVG, legend below the map so that the map fills a phone's width.

Colours: hot patterns in warm hues and cold patterns in the matching cool hues, darkest for the
patterns that matter most to a violence reduction unit (persistent, intensifying); oscillating
patterns in purple, historical ones in brown/teal; "no pattern" nearly white so the patterns stand
out; areas without a result (islands, no data) in the platform's no-data grey.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import to_rgba
from matplotlib.patches import Patch

from vru.outputs.charts import NO_DATA, WIDTH, to_svg, wrap_title

#: Colours of the 17 ArcGIS Pro emerging hot spot categories (names as vru.analysis.emerging).
EHSA_COLOURS: dict[str, str] = {
    "Intensifying Hot Spot": "#7f0000",
    "Persistent Hot Spot": "#d7301f",
    "Consecutive Hot Spot": "#fc8d59",
    "New Hot Spot": "#fdbb84",
    "Sporadic Hot Spot": "#fee8c8",
    "Diminishing Hot Spot": "#f768a1",
    "Oscillating Hot Spot": "#ae017e",
    "Historical Hot Spot": "#8c510a",
    "Intensifying Cold Spot": "#08306b",
    "Persistent Cold Spot": "#2171b5",
    "Consecutive Cold Spot": "#6baed6",
    "New Cold Spot": "#9ecae1",
    "Sporadic Cold Spot": "#deebf7",
    "Diminishing Cold Spot": "#41b6c4",
    "Oscillating Cold Spot": "#807dba",
    "Historical Cold Spot": "#01665e",
    "No Pattern Detected": "#f7f7f7",
}

#: Colours of R sfhotspot's 10 categories.
SFHOTSPOT_COLOURS: dict[str, str] = {
    "persistent hotspot": "#b30000",
    "emerging hotspot": "#fc8d59",
    "former hotspot": "#8c510a",
    "intermittent hotspot": "#fdd49e",
    "persistent coldspot": "#08519c",
    "emerging coldspot": "#6baed6",
    "former coldspot": "#01665e",
    "intermittent coldspot": "#c6dbef",
    "mixed hot/coldspot": "#807dba",
    "no pattern": "#f7f7f7",
}


def categorical_map(gdf, column: str, *, title: str, label: str,
                    colours: Mapping[str, str] | None = None,
                    order: Sequence[str] | None = None, outline=None,
                    legend_title: str = "pattern", missing_label: str = "no result",
                    counts: bool = True, rasterize: bool | None = None,
                    height: float = 6.0) -> str:
    """A map of ``gdf[column]`` (categories) with one colour per category.

    ``colours``: category -> colour (default :data:`EHSA_COLOURS`); a category present in the
    data without a colour is an error (never a silent default). ``order``: legend order (default:
    the order of ``colours``). Only categories present appear in the legend, with their number of
    areas when ``counts``. Missing values (e.g. islands) are drawn in the no-data grey and
    labelled ``missing_label``. ``outline``: polygons (e.g. boroughs) drawn as thin boundaries on
    top. Returns an inline SVG string (:func:`vru.outputs.charts.to_svg`).
    """
    colours = dict(EHSA_COLOURS if colours is None else colours)
    values = gdf[column]
    present = pd.Series(values.dropna().astype(str))
    unknown = sorted(set(present) - set(colours))
    if unknown:
        raise ValueError(f"no colour for categories {unknown}")
    order = list(order) if order is not None else list(colours)
    nodata = np.array(to_rgba(NO_DATA))
    rgba = {k: np.array(to_rgba(v)) for k, v in colours.items()}
    face = np.array([nodata if pd.isna(v) else rgba[str(v)] for v in values])
    if rasterize is None:
        rasterize = len(gdf) > 300
    fig, ax = plt.subplots(figsize=(WIDTH, height))
    if len(gdf):
        gdf.plot(ax=ax, color=face, edgecolor="white" if len(gdf) < 300 else "none",
                 linewidth=0.3, rasterized=rasterize)
    if outline is not None and len(outline):
        outline.boundary.plot(ax=ax, color="#333333", linewidth=0.5)
    ax.set_axis_off()
    ax.set_aspect("equal")
    ax.set_title(wrap_title(title), loc="left")
    n = present.value_counts()
    handles = [Patch(facecolor=colours[c], edgecolor="#999999", linewidth=0.4,
                     label=f"{c} ({n[c]:,})" if counts else c)
               for c in order if c in n.index]
    n_missing = int(values.isna().sum())
    if n_missing:
        handles.append(Patch(facecolor=NO_DATA, edgecolor="#999999", linewidth=0.4,
                             label=f"{missing_label} ({n_missing:,})" if counts else missing_label))
    ax.legend(handles=handles, title=legend_title, loc="upper center", bbox_to_anchor=(0.5, 0.0),
              ncols=2, frameon=False, fontsize=10, title_fontsize=11)
    if rasterize:
        fig.set_dpi(150)
    return to_svg(fig, label)


__all__ = ["EHSA_COLOURS", "SFHOTSPOT_COLOURS", "categorical_map"]
