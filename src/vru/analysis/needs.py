"""Needs-assessment measures: London trends, borough league tables, rates, period comparisons.

All functions are pure (DataFrames in, DataFrames out). Conventions:

- a *12-month window ending at* month M covers M-11 .. M inclusive;
- rates are per 1,000 residents (mid-year population estimates, persons, all ages);
- a change is the percentage change of the window ending at M against the 12 months before it;
  it is NaN where the earlier window is zero or incomplete.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def window(end: pd.Timestamp, months: int = 12) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last month of the ``months``-month window ending at ``end`` (inclusive)."""
    end = pd.Timestamp(end).to_period("M").to_timestamp()
    return end - pd.DateOffset(months=months - 1), end


def london_monthly(series: pd.DataFrame) -> pd.Series:
    """Sum (area_code, month, count) over areas: the London monthly series, indexed by month.

    Months with no rows at all are filled with 0 between the first and last month present.
    """
    s = series.groupby("month")["count"].sum().sort_index()
    if s.empty:
        return s
    full = pd.date_range(s.index.min(), s.index.max(), freq="MS")
    return s.reindex(full, fill_value=0).rename_axis("month")


def rolling_12(s: pd.Series) -> pd.Series:
    """Trailing 12-month mean (NaN until 12 months are available)."""
    return s.rolling(12, min_periods=12).mean()


def window_totals(series: pd.DataFrame, end: pd.Timestamp, months: int = 12) -> pd.Series:
    """Total per area over the window ending at ``end``; raises if the window is not covered."""
    lo, hi = window(end, months)
    have = series["month"]
    if have.min() > lo or have.max() < hi:
        raise ValueError(
            f"window {lo:%Y-%m}..{hi:%Y-%m} is not covered by the data "
            f"({have.min():%Y-%m}..{have.max():%Y-%m})"
        )
    sel = series[(series["month"] >= lo) & (series["month"] <= hi)]
    return sel.groupby("area_code")["count"].sum()


def league_table(series: pd.DataFrame, population: pd.Series, end: pd.Timestamp,
                 areas: list[str] | None = None) -> pd.DataFrame:
    """Borough (or any area) league table for one crime measure.

    Parameters
    ----------
    series: monthly counts (area_code, month, count).
    population: residents per area_code.
    end: last month of the current 12-month window.
    areas: the areas to rank (default: those with a population).

    Returns one row per area, sorted by rate (highest first): ``count`` (current 12 months),
    ``previous`` (the 12 months before), ``change_pct``, ``population``, ``rate_per_1000``, ``rank``.
    """
    cur = window_totals(series, end)
    prev = window_totals(series, pd.Timestamp(end) - pd.DateOffset(months=12))
    idx = pd.Index(areas if areas is not None else population.index, name="area_code")
    out = pd.DataFrame(index=idx)
    out["count"] = cur.reindex(idx).fillna(0).astype("int64")
    out["previous"] = prev.reindex(idx).fillna(0).astype("int64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["change_pct"] = np.where(
            out["previous"] > 0, 100.0 * (out["count"] - out["previous"]) / out["previous"], np.nan
        )
    out["population"] = population.reindex(idx)
    out["rate_per_1000"] = 1000.0 * out["count"] / out["population"]
    out = out.sort_values("rate_per_1000", ascending=False)
    out["rank"] = np.arange(1, len(out) + 1)
    return out.reset_index()


def rate_per_1000(counts: pd.Series, population: pd.Series) -> pd.Series:
    """Counts per 1,000 residents, aligned on the index; NaN where population is missing or 0."""
    pop = population.reindex(counts.index).astype(float)
    return (1000.0 * counts.astype(float) / pop.where(pop > 0)).rename("rate_per_1000")
