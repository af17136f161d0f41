"""Chart types for the evaluation section: event study with intervals, synthetic vs actual,
placebo gaps and power curves.

Same conventions as :mod:`vru.outputs.charts` (and drawn through its SVG serialiser): matplotlib
rendered server-side to self-contained, responsive, accessible SVG with text as paths; Okabe-Ito
colours (colour-blind safe).
"""

from __future__ import annotations

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from vru.outputs.charts import OKABE_ITO, WIDTH, to_svg, wrap_title

GRID = "#e5e5e5"


def event_study(event: pd.DataFrame, *, title: str, ylabel: str, label: str,
                band: bool = False, height: float = 4.2) -> str:
    """Event-time estimates (``event_time``, ``estimate``, ``ci_low``, ``ci_high``) as points with
    95% intervals: before the start in blue, from the start in orange; a dashed line between
    event times -1 and 0. ``band``: also shade ``cband_low``..``cband_high`` (a simultaneous
    band from the bootstrap)."""
    ev = event.dropna(subset=["estimate"]).sort_values("event_time")
    fig, ax = plt.subplots(figsize=(WIDTH, height))
    pre = ev["event_time"] < 0
    for mask, colour, name in ((pre, OKABE_ITO[0], "before the start"),
                               (~pre, OKABE_ITO[1], "from the start")):
        e = ev[mask]
        if e.empty:
            continue
        ax.vlines(e["event_time"], e["ci_low"], e["ci_high"], color=colour, lw=1.1, alpha=0.7)
        ax.plot(e["event_time"], e["estimate"], "o", color=colour, ms=3.5, label=name)
    if band and {"cband_low", "cband_high"} <= set(ev.columns):
        ax.fill_between(ev["event_time"], ev["cband_low"], ev["cband_high"], color="#bbbbbb",
                        alpha=0.3, lw=0, label="simultaneous 95% band")
    ax.axhline(0, color="#333333", lw=0.8)
    ax.axvline(-0.5, color="#777777", lw=0.8, ls="--")
    ax.set_title(wrap_title(title), loc="left")
    ax.set_xlabel("months since the start")
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", color=GRID, lw=0.6)
    ax.legend(frameon=False, fontsize=10, ncols=3, loc="upper center",
              bbox_to_anchor=(0.5, -0.18))
    return to_svg(fig, label)


def synthetic_vs_actual(actual: pd.Series, synthetic: pd.Series, *, start, title: str,
                        ylabel: str, label: str, actual_name: str = "treated areas",
                        synthetic_name: str = "synthetic control", height: float = 4.0) -> str:
    """Two monthly lines (index = month) with a dotted vertical line at ``start``."""
    fig, ax = plt.subplots(figsize=(WIDTH, height))
    ax.plot(actual.index, actual.to_numpy(), color=OKABE_ITO[1], lw=1.8, label=actual_name)
    ax.plot(synthetic.index, synthetic.to_numpy(), color=OKABE_ITO[0], lw=1.8, ls="--",
            label=synthetic_name)
    return _finish_monthly(fig, ax, start=start, title=title, ylabel=ylabel, label=label)


def placebo_gaps(gap: pd.Series, placebos: pd.DataFrame, *, start, title: str, ylabel: str,
                 label: str, gap_name: str = "treated areas (mean)",
                 height: float = 4.0) -> str:
    """Gap (actual - synthetic) of the treated areas in colour over the placebo gaps in grey
    (index = month)."""
    fig, ax = plt.subplots(figsize=(WIDTH, height))
    for i, c in enumerate(placebos.columns):
        ax.plot(placebos.index, placebos[c].to_numpy(), color="#bbbbbb", lw=0.7,
                label="placebo areas" if i == 0 else None)
    ax.plot(gap.index, gap.to_numpy(), color=OKABE_ITO[1], lw=2, label=gap_name)
    ax.axhline(0, color="#333333", lw=0.8)
    return _finish_monthly(fig, ax, start=start, title=title, ylabel=ylabel, label=label)


def _finish_monthly(fig, ax, *, start, title: str, ylabel: str, label: str) -> str:
    """The monthly charts' common finish: a dotted line at ``start``, yearly ticks on the time
    axis, the title, the y label, a light grid and the legend below; the SVG."""
    ax.axvline(pd.Timestamp(start), color="#777777", lw=0.8, ls=":")
    ax.set_title(wrap_title(title), loc="left")
    ax.set_ylabel(ylabel)
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.grid(axis="y", color=GRID, lw=0.6)
    ax.legend(frameon=False, fontsize=10, ncols=2, loc="upper center",
              bbox_to_anchor=(0.5, -0.1))
    return to_svg(fig, label)


def power_curves(curves: dict[str, pd.DataFrame], *, title: str, label: str,
                 target: float = 0.8, height: float = 3.8) -> str:
    """Power against the size of a reduction (``effect`` <= 0, as a percentage), one line per
    design, with the target power as a dashed line."""
    fig, ax = plt.subplots(figsize=(WIDTH, height))
    for i, (name, c) in enumerate(curves.items()):
        d = c[c["effect"] <= 0].sort_values("effect", ascending=False)
        ax.plot(-100 * d["effect"], 100 * d["power"], color=OKABE_ITO[i % len(OKABE_ITO)],
                lw=1.8, marker="o", ms=3, label=name)
    ax.axhline(100 * target, color="#777777", lw=0.8, ls="--")
    ax.set_xlim(0, 50)
    ax.set_ylim(0, 100)
    ax.set_xticks(np.arange(0, 51, 10))
    ax.set_xlabel("true reduction (%)")
    ax.set_ylabel("power (%)")
    ax.set_title(wrap_title(title), loc="left")
    ax.grid(color=GRID, lw=0.6)
    ax.legend(frameon=False, fontsize=10, loc="lower right")
    return to_svg(fig, label)
