"""Charts for survey shares (trust and confidence): percentage trend lines, borough small
multiples against London, estimates with confidence intervals, and labelled scatter plots.

Same conventions as :mod:`vru.outputs.charts` (server-side matplotlib, self-contained responsive
SVG with an accessible label, Okabe-Ito colours); shares are given as 0-1 and drawn as percentages.
"""

from __future__ import annotations

import math

import matplotlib
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from vru.outputs.charts import OKABE_ITO, WIDTH, to_svg, wrap_title

GREY = "#7f7f7f"
_PCT = matplotlib.ticker.PercentFormatter(xmax=1.0, decimals=0)


def share_lines(data: pd.DataFrame, *, title: str, label: str, height: float = 3.8) -> str:
    """One line per column of shares (index = quarter end), y axis in percent."""
    fig, ax = plt.subplots(figsize=(WIDTH, height))
    for i, col in enumerate(data.columns):
        ax.plot(data.index, data[col], color=OKABE_ITO[i % len(OKABE_ITO)], lw=1.8, label=str(col))
    ax.set_title(wrap_title(title), loc="left")
    ax.set_ylabel("share agreeing")
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(_PCT)
    ax.xaxis.set_major_locator(mdates.YearLocator(2))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.grid(axis="y", color="#e5e5e5", lw=0.6)
    if len(data.columns) > 1:
        ax.legend(frameon=False, fontsize=10, ncols=min(2, len(data.columns)), loc="upper center",
                  bbox_to_anchor=(0.5, -0.1))
    return to_svg(fig, label)


def small_multiples(data: pd.DataFrame, reference: pd.Series, *, title: str, label: str,
                    reference_name: str = "London", ncols: int = 4) -> str:
    """One small panel per column (e.g. borough), each with the reference series in grey."""
    cols = list(data.columns)
    nrows = math.ceil(len(cols) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(WIDTH, 1.7 * nrows + 0.9), sharex=True,
                             sharey=True, squeeze=False)
    lo = float(np.nanmin([data.min().min(), reference.min()]))
    hi = float(np.nanmax([data.max().max(), reference.max()]))
    pad = 0.05 * (hi - lo or 1)
    for ax, col in zip(axes.flat, cols, strict=False):
        ax.plot(reference.index, reference.to_numpy(), color=GREY, lw=1.0)
        ax.plot(data.index, data[col].to_numpy(), color=OKABE_ITO[0], lw=1.5)
        ax.set_title(str(col), fontsize=9, loc="left", fontweight="normal")
        ax.set_ylim(lo - pad, hi + pad)
        ax.yaxis.set_major_formatter(_PCT)
        ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(3))
        ax.xaxis.set_major_locator(mdates.YearLocator(4))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
        ax.tick_params(labelsize=8)
        ax.grid(axis="y", color="#eeeeee", lw=0.5)
    for ax in list(axes.flat)[len(cols):]:
        ax.set_visible(False)
    fig.suptitle(wrap_title(title), x=0.01, ha="left", fontsize=13, fontweight="bold")
    fig.legend(handles=[matplotlib.lines.Line2D([], [], color=OKABE_ITO[0], lw=1.5, label="borough"),
                        matplotlib.lines.Line2D([], [], color=GREY, lw=1.0, label=reference_name)],
               loc="lower center", frameon=False, fontsize=10, ncols=2, bbox_to_anchor=(0.5, 0.0))
    fig.tight_layout(rect=(0, 0.035, 1, 0.975))
    return to_svg(fig, label)


def interval_plot(estimates: pd.DataFrame, *, title: str, xlabel: str, label: str,
                  reference: float | None = None, reference_name: str = "London",
                  percent: bool = True, zero_line: bool = False) -> str:
    """Horizontal dots with interval whiskers, one row per index entry (top = first row).

    ``estimates`` has columns ``value``, ``low``, ``high``; an optional ``significant`` boolean
    column draws significant rows filled and the others hollow.
    """
    e = estimates.iloc[::-1]
    y = np.arange(len(e))
    fig, ax = plt.subplots(figsize=(WIDTH, max(2.5, 0.3 * len(e) + 1.2)))
    ax.hlines(y, e["low"], e["high"], color=OKABE_ITO[0], lw=1.4)
    sig = e["significant"].to_numpy(dtype=bool) if "significant" in e else np.ones(len(e), bool)
    ax.scatter(e["value"][sig], y[sig], color=OKABE_ITO[0], s=22, zorder=3)
    ax.scatter(e["value"][~sig], y[~sig], facecolor="white", edgecolor=OKABE_ITO[0], s=22, zorder=3)
    if reference is not None and not pd.isna(reference):
        ax.axvline(reference, color=OKABE_ITO[1], lw=1.2, ls="--", label=reference_name)
        ax.legend(frameon=False, fontsize=10, loc="lower right")
    if zero_line:
        ax.axvline(0, color="#333333", lw=0.8)
    ax.set_yticks(y, [str(i) for i in e.index], fontsize=10)
    ax.set_title(wrap_title(title), loc="left")
    ax.set_xlabel(xlabel)
    if percent:
        ax.xaxis.set_major_formatter(_PCT)
    ax.grid(axis="x", color="#e5e5e5", lw=0.6)
    return to_svg(fig, label)


def scatter(x: pd.Series, y: pd.Series, *, title: str, xlabel: str, ylabel: str, label: str,
            names: pd.Series | None = None, y_percent: bool = True) -> str:
    """A scatter plot of two aligned series; points whose index is in ``names`` are labelled
    (pass only a few, e.g. the extremes, so that labels stay legible)."""
    both = pd.concat([x.rename("x"), y.rename("y")], axis=1).dropna()
    fig, ax = plt.subplots(figsize=(WIDTH, 5.0))
    ax.scatter(both["x"], both["y"], color=OKABE_ITO[0], s=26)
    if names is not None:
        xr = float(np.ptp(both["x"])) or 1.0
        yr = float(np.ptp(both["y"])) or 1.0
        placed: list[tuple[float, float]] = []
        for idx, r in both.sort_values("x").iterrows():
            if idx not in names.index:
                continue
            # a label near an earlier one (same height, close to the right) goes below its point
            near = any(abs(r["y"] - py) < 0.04 * yr and 0 <= r["x"] - px < 0.3 * xr
                       for px, py in placed)
            ax.annotate(str(names[idx]), (r["x"], r["y"]), fontsize=9,
                        xytext=(4, -12 if near else 3), textcoords="offset points",
                        color="#333333")
            placed.append((r["x"], r["y"]))
    ax.set_title(wrap_title(title), loc="left")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if y_percent:
        ax.yaxis.set_major_formatter(_PCT)
    ax.grid(color="#eeeeee", lw=0.5)
    return to_svg(fig, label)
