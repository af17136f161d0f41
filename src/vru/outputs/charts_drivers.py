"""Chart types for the drivers and targeting sections: labelled scatter, forest plot, stacked bars.

Same conventions as :mod:`vru.outputs.charts` (and drawn through its SVG serialiser): matplotlib
rendered server-side to self-contained, responsive, accessible SVG with text as paths; Okabe-Ito
colours (colour-blind safe).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FixedFormatter, FixedLocator, FuncFormatter, NullLocator

from vru.outputs.charts import OKABE_ITO, to_svg, wrap_title


def scatter(x: pd.Series, y: pd.Series, *, title: str, xlabel: str, ylabel: str, label: str,
            names: pd.Series | None = None, highlight: Sequence = (), x_cut: float | None = None,
            y_cut: float | None = None, height: float = 5.0) -> str:
    """Areas as points (x aligned with y on the index). Points in ``highlight`` are drawn in a
    second colour and labelled with ``names``; ``x_cut``/``y_cut`` draw dashed reference lines
    (e.g. the 10th largest value of each variable, so the top-right box is the top-10 overlap)."""
    df = pd.concat([x.rename("x"), y.rename("y")], axis=1, join="inner").dropna()
    hi = df.index.isin(list(highlight))
    fig, ax = plt.subplots(figsize=(8.5, height))
    ax.scatter(df.loc[~hi, "x"], df.loc[~hi, "y"], s=22, color=OKABE_ITO[0], alpha=0.8,
               label="other areas")
    ax.scatter(df.loc[hi, "x"], df.loc[hi, "y"], s=34, color=OKABE_ITO[1], marker="D",
               label="in both top sets")
    if names is not None:
        for i in df.index[hi]:
            ax.annotate(str(names.get(i, i)), (df.at[i, "x"], df.at[i, "y"]), fontsize=7,
                        xytext=(4, 3), textcoords="offset points")
    for cut, line in ((x_cut, ax.axvline), (y_cut, ax.axhline)):
        if cut is not None:
            line(cut, color="#777777", lw=0.8, ls="--")
    ax.set_title(wrap_title(title), loc="left")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(color="#eeeeee", lw=0.6)
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    return to_svg(fig, label)


def forest(table: pd.DataFrame, *, title: str, label: str, xlabel: str = "incidence rate ratio",
           names: dict[str, str] | None = None, height: float | None = None) -> str:
    """Rate ratios with confidence intervals on a log axis (one row per term, ``const`` dropped).

    ``table``: columns ``term``, ``irr``, ``irr_low``, ``irr_high`` and optionally ``model``
    (several models side by side, each in its own colour).
    """
    t = table[table["term"] != "const"].copy()
    if "model" not in t.columns:
        t["model"] = ""
    terms = list(dict.fromkeys(t["term"]))
    models = list(dict.fromkeys(t["model"]))
    fig, ax = plt.subplots(figsize=(8.5, height or max(2.5, 0.3 * len(terms) * len(models) + 1.2)))
    step = 0.8 / max(len(models), 1)
    for j, m in enumerate(models):
        g = t[t["model"] == m].set_index("term").reindex(terms)
        ypos = np.arange(len(terms))[::-1] + (len(models) - 1) / 2 * step - j * step
        c = OKABE_ITO[j % len(OKABE_ITO)]
        ax.errorbar(g["irr"], ypos, xerr=[g["irr"] - g["irr_low"], g["irr_high"] - g["irr"]],
                    fmt="o", color=c, ms=4, capsize=2, lw=1.2, label=m or None)
    ax.axvline(1.0, color="#555555", lw=0.8)
    ax.set_xscale("log")
    lo, hi = float(t["irr_low"].min()), float(t["irr_high"].max())
    ticks = [v for v in (0.25, 0.5, 0.67, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0, 4.0)
             if lo / 1.15 <= v <= hi * 1.15]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FixedFormatter([f"{v:g}" for v in ticks]))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_yticks(np.arange(len(terms))[::-1])
    ax.set_yticklabels([(names or {}).get(tm, tm) for tm in terms], fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_title(wrap_title(title), loc="left")
    ax.grid(axis="x", color="#eeeeee", lw=0.6)
    if len(models) > 1:
        ax.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.15),
                  ncols=len(models))
    return to_svg(fig, label)


def stacked_bars(data: pd.DataFrame, *, title: str, xlabel: str, label: str, money: bool = False,
                 height: float | None = None) -> str:
    """Horizontal stacked bars: one bar per row of ``data``, one segment per column (e.g. years).
    ``money``: the axis is labelled in pounds (e.g. £250k, £1.5m)."""
    fig, ax = plt.subplots(figsize=(8.5, height or max(2.5, 0.35 * len(data) + 1.2)))
    left = np.zeros(len(data))
    ylab = [str(i) for i in data.index][::-1]  # first row at the top
    for j, col in enumerate(data.columns):
        v = data[col].to_numpy(dtype=float)[::-1]
        ax.barh(ylab, v, left=left, color=OKABE_ITO[j % len(OKABE_ITO)], label=str(col))
        left = left + v
    ax.set_title(wrap_title(title), loc="left")
    ax.set_xlabel(xlabel)
    if money:
        ax.xaxis.set_major_formatter(FuncFormatter(
            lambda v, _: f"£{v / 1e6:g}m" if abs(v) >= 1e6 else f"£{v / 1e3:g}k" if v else "0"))
    ax.tick_params(axis="y", labelsize=8)
    ax.grid(axis="x", color="#eeeeee", lw=0.6)
    ax.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.15),
              ncols=min(len(data.columns), 5))
    return to_svg(fig, label)


def highlight_map(base, highlight, *, title: str, label: str, labels: str | None = None,
                  legend: str = "chosen areas", height: float = 6.0) -> str:
    """A map of ``base`` polygons (e.g. boroughs, light grey with outlines) with the polygons of
    ``highlight`` (GeoDataFrame) filled in a strong colour and, with ``labels`` (a column of
    ``highlight``), numbered at their representative points."""
    from matplotlib.patches import Patch

    fig, ax = plt.subplots(figsize=(8.5, height))
    base.plot(ax=ax, color="#eeeeee", edgecolor="#777777", linewidth=0.5)
    highlight.plot(ax=ax, color=OKABE_ITO[1], edgecolor="#222222", linewidth=0.4)
    if labels:
        for geom, text in zip(highlight.geometry, highlight[labels], strict=True):
            p = geom.representative_point()
            ax.annotate(str(text), (p.x, p.y), xytext=(6, 6), textcoords="offset points",
                        fontsize=8, fontweight="bold", color="#111111")
    ax.set_axis_off()
    ax.set_aspect("equal")
    ax.set_title(wrap_title(title), loc="left")
    ax.legend(handles=[Patch(facecolor=OKABE_ITO[1], edgecolor="#222222", label=legend)],
              loc="upper center", bbox_to_anchor=(0.5, 0.0), frameon=False, fontsize=8)
    return to_svg(fig, label)
