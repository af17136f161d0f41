"""The one place charts and maps are drawn (used by the report, and later the dashboard).

Everything is rendered server-side with matplotlib to self-contained SVG: text is converted to
paths (no font files to fetch), nothing refers to any external resource, and the SVG scales to the
width of a phone or a laptop screen. Dense polygon layers (4,835 LSOAs) are rasterised *inside*
the SVG (an embedded PNG) so the file stays small, while titles, legends and axes remain vector.

Colours: Okabe-Ito qualitative palette for lines (colour-blind safe) and viridis-family
sequential ramps for maps; every map states its class breaks in the legend.
"""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Patch

OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
NO_DATA = "#d9d9d9"
WIDTH = 6.4  # inches: at phone width (~370 px) 12 pt text still reads at ~9 px, and vector SVG zooms

plt.rcParams.update(
    {
        "svg.fonttype": "path",
        "svg.hashsalt": "vru",  # deterministic ids: the same data gives the same SVG
        "font.size": 12,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 13,
        "axes.titleweight": "bold",
        "figure.dpi": 100,
    }
)


def wrap_title(title: str, width: int = 52) -> str:
    """Wrap a chart title so that it never makes the figure wider than its plot (a long title
    would widen the SVG and shrink everything else on a phone)."""
    return textwrap.fill(str(title), width)


def to_svg(fig, label: str) -> str:
    """Serialise a figure to an accessible, responsive inline SVG string and close it."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    # responsive: drop fixed width/height (the viewBox keeps the aspect ratio)
    svg = re.sub(r'<svg([^>]*?) width="[^"]+" height="[^"]+"', r"<svg\1", svg, count=1)
    esc = label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return svg.replace("<svg", f'<svg role="img" aria-label="{esc}" class="chart"', 1)


def line_chart(data: pd.DataFrame, *, title: str, ylabel: str, label: str,
               smooth: pd.DataFrame | None = None, height: float = 4.2) -> str:
    """Monthly lines, one per column of ``data`` (index = month). ``smooth`` (same columns) is
    drawn as a thicker line over a faint raw line, e.g. a 12-month rolling mean."""
    fig, ax = plt.subplots(figsize=(WIDTH, height))
    for i, col in enumerate(data.columns):
        c = OKABE_ITO[i % len(OKABE_ITO)]
        if smooth is not None:
            ax.plot(data.index, data[col], color=c, alpha=0.3, lw=0.8)
            ax.plot(smooth.index, smooth[col], color=c, lw=2, label=str(col))
        else:
            ax.plot(data.index, data[col], color=c, lw=1.6, label=str(col))
    ax.set_title(wrap_title(title), loc="left")
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.xaxis.set_major_locator(mdates.YearLocator(2))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    ax.grid(axis="y", color="#e5e5e5", lw=0.6)
    if len(data.columns) > 1:
        ax.legend(frameon=False, fontsize=11, ncols=2,
                  loc="upper center", bbox_to_anchor=(0.5, -0.1))
    return to_svg(fig, label)


def quantile_breaks(values: Sequence[float], k: int = 5) -> np.ndarray:
    """Upper bounds of ``k`` quantile classes (unique, ascending); the last is the maximum."""
    v = np.asarray(pd.Series(values).dropna(), dtype=float)
    if v.size == 0:
        return np.array([])
    qs = np.quantile(v, np.linspace(0, 1, k + 1)[1:])
    return np.unique(qs)


def classify(values: pd.Series, breaks: np.ndarray) -> pd.Series:
    """Class index (0..len(breaks)-1) of each value; -1 for missing."""
    v = values.to_numpy(dtype=float)
    idx = np.searchsorted(breaks, v, side="left")
    idx = np.where(np.isnan(v), -1, np.minimum(idx, len(breaks) - 1))
    return pd.Series(idx, index=values.index)


def choropleth(gdf, column: str, *, title: str, legend_title: str, label: str, k: int = 5,
               cmap: str = "viridis_r", fmt: str = "{:,.1f}", rasterize: bool | None = None,
               outline=None, annotate: str | None = None, height: float = 5.6) -> str:
    """A choropleth of ``gdf[column]`` in ``k`` quantile classes, with a legend of the breaks.

    ``outline``: an optional GeoDataFrame (e.g. boroughs) drawn as thin boundaries on top.
    ``annotate``: a column of short labels drawn at each polygon's representative point.
    """
    values = gdf[column].astype(float)
    breaks = quantile_breaks(values, k)
    classes = classify(values, breaks)
    colours = plt.get_cmap(cmap)(np.linspace(0.08, 0.92, max(len(breaks), 1)))
    nodata = np.array(matplotlib.colors.to_rgba(NO_DATA))
    face = np.array([colours[c] if c >= 0 else nodata for c in classes])
    if rasterize is None:
        rasterize = len(gdf) > 300
    fig, ax = plt.subplots(figsize=(WIDTH, height))
    gdf.plot(ax=ax, color=face, edgecolor="white" if len(gdf) < 300 else "none",
             linewidth=0.4, rasterized=rasterize)
    if outline is not None:
        outline.boundary.plot(ax=ax, color="#333333", linewidth=0.5)
    if annotate:
        for geom, text in zip(gdf.geometry, gdf[annotate], strict=True):
            p = geom.representative_point()
            ax.annotate(str(text), (p.x, p.y), ha="center", va="center", fontsize=6,
                        color="#111111")
    ax.set_axis_off()
    ax.set_aspect("equal")
    ax.set_title(wrap_title(title), loc="left")
    lows = [values.min()] + list(breaks[:-1])
    handles = [
        Patch(facecolor=colours[i], label=f"{fmt.format(lo)} – {fmt.format(hi)}")
        for i, (lo, hi) in enumerate(zip(lows, breaks, strict=True))
    ]
    if (classes < 0).any():
        handles.append(Patch(facecolor=NO_DATA, label="no data"))
    # legend below the map: on a phone the map then fills the screen width
    ax.legend(handles=handles, title=legend_title, loc="upper center", bbox_to_anchor=(0.5, 0.0),
              ncols=3, frameon=False, fontsize=11, title_fontsize=11)
    if rasterize:
        fig.set_dpi(150)
    return to_svg(fig, label)


def bar_chart(values: pd.Series, *, title: str, xlabel: str, label: str,
              highlight: Sequence[str] = (), height: float | None = None) -> str:
    """Horizontal bars (largest at top); names in ``highlight`` drawn in a second colour."""
    s = values.sort_values()
    fig, ax = plt.subplots(figsize=(WIDTH, height or max(3.0, 0.3 * len(s) + 1.0)))
    colours = [OKABE_ITO[1] if n in set(highlight) else OKABE_ITO[0] for n in s.index]
    ax.barh([str(i) for i in s.index], s.to_numpy(), color=colours)
    ax.set_title(wrap_title(title), loc="left")
    ax.set_xlabel(xlabel)
    ax.tick_params(axis="y", labelsize=11)
    ax.grid(axis="x", color="#e5e5e5", lw=0.6)
    return to_svg(fig, label)
