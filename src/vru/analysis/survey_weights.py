"""Weighted survey estimates from respondent-level data: percentages with confidence intervals
by group, and the gaps between groups, with small cells suppressed.

Estimator (for a 0/1 outcome ``y`` and survey weights ``w`` over the ``n`` respondents of a group
who answered):

- share ``p = sum(w y) / sum(w)`` (the weighted mean: ``DescrStatsW(y, w).mean`` in statsmodels);
- variance by Taylor linearisation of the ratio, treating respondents as independent draws with
  replacement (no strata or clusters are known):
  ``var(p) = n / (n - 1) * sum(w_i^2 (y_i - p)^2) / sum(w)^2``
  (R ``survey::svymean`` for a design with weights only; equal to the HC1 sandwich variance of a
  weighted least-squares regression of ``y`` on a constant);
- design effect ``deff = var(p) / (p (1 - p) / n)``, floored at 1 so that an estimate never
  claims more precision than a simple random sample of the same size (Kish's ``n sum(w^2) /
  sum(w)^2`` is used where ``p`` is 0 or 1); effective sample size ``n_eff = n / deff``;
- confidence interval: Wilson's score interval computed on ``n_eff`` (the effective-sample-size
  approach of Korn & Graubard 1998), which stays inside [0, 1] and behaves near 0% and 100%.

Gap between two disjoint groups ``a`` and ``b``: ``p_a - p_b`` with Newcombe's (1998) hybrid
score interval built from the two Wilson intervals (groups are independent samples). A gap is
called a difference only when that interval excludes zero; otherwise it is labelled "no
significant difference".

Disclosure: any group with fewer than ``min_n`` respondents (default 50, unweighted) is
suppressed together with the complementary cells chosen by
:func:`vru.analysis.disclosure.protect_release` (with the cells of earlier releases, if a ledger is
given), so that no small count can be narrowed below ``min_n`` from what is published; every
statistic of a suppressed cell (count, weighted base, share, interval) is blanked, so the weighted
bases are protected by the same pattern; no column says why a cell is hidden; every documented
category is listed; and a gap involving a suppressed group is not published.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import norm

from vru.analysis import disclosure

ALL = "All"


def indicator(answers: pd.Series, positive: Iterable[str], excluded: Iterable[str] = ()) -> pd.Series:
    """1.0 for answers in ``positive``, NaN for missing answers or those in ``excluded`` (left out
    of the base, e.g. "don't know" if so chosen), 0.0 otherwise."""
    pos, exc = set(positive), set(excluded)
    a = answers.astype("object")
    out = np.where(a.isin(pos), 1.0, 0.0)
    out[(a.isna() | a.isin(exc)).to_numpy()] = np.nan
    return pd.Series(out, index=answers.index, dtype="float64")


def _z(level: float) -> float:
    if not 0 < level < 1:
        raise ValueError("level must be between 0 and 1")
    return float(norm.ppf(0.5 + level / 2))


def wilson(p, n_eff, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a share ``p`` on (effective) sample size ``n_eff``."""
    z = _z(level)
    p = np.asarray(p, dtype=float)
    n = np.asarray(n_eff, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z / denom * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def weighted_share(y, w, *, level: float = 0.95) -> dict[str, float]:
    """Weighted share of a 0/1 outcome, its linearised standard error and Wilson interval.

    NaN outcomes are left out (they are not in the base). Returns ``n`` (respondents),
    ``weighted_n`` (sum of weights), ``p``, ``se``, ``deff``, ``n_eff``, ``ci_low``, ``ci_high``.
    """
    y = np.asarray(y, dtype=float)
    w = np.asarray(w, dtype=float)
    if y.shape != w.shape:
        raise ValueError("outcome and weights differ in length")
    keep = ~np.isnan(y)
    y, w = y[keep], w[keep]
    if ((y != 0) & (y != 1)).any():
        raise ValueError("the outcome must be 0 or 1 (or NaN for not in the base)")
    if not np.isfinite(w).all() or (w <= 0).any():
        raise ValueError("weights must be positive and finite")
    n = len(y)
    nan = float("nan")
    if n == 0:
        return dict(n=0, weighted_n=0.0, p=nan, se=nan, deff=nan, n_eff=0.0, ci_low=nan,
                    ci_high=nan)
    sw = w.sum()
    p = float((w * y).sum() / sw)
    kish = float(n * (w * w).sum() / sw**2)
    if n > 1:
        var = float(n / (n - 1) * ((w * (y - p)) ** 2).sum() / sw**2)
        srs = p * (1 - p) / n
        deff = var / srs if srs > 0 else kish
    else:
        var, deff = nan, kish
    deff = max(deff, 1.0)
    n_eff = n / deff
    se = float(np.sqrt(p * (1 - p) / n_eff))
    lo, hi = wilson(p, n_eff, level)
    return dict(n=n, weighted_n=float(sw), p=p, se=se, deff=float(deff), n_eff=float(n_eff),
                ci_low=float(lo), ci_high=float(hi))


def _groups(df: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    missing = [c for c in by if c not in df.columns]
    if missing:
        raise KeyError(f"no column(s) {missing}")
    if df[list(by)].isna().any().any():
        raise ValueError(f"group columns {list(by)} hold missing values")
    for c in by:
        if df[c].isin([ALL, disclosure.TOTAL]).any():
            raise ValueError(f"column {c!r} uses the reserved group name {ALL!r} or "
                             f"{disclosure.TOTAL!r}")
    return df


def _estimates(df: pd.DataFrame, outcome: str, weight: str, keys: list[tuple],
               by: Sequence[str], level: float) -> pd.DataFrame:
    rows = []
    for key in keys:
        sel = np.ones(len(df), dtype=bool)
        for col, val in zip(by, key, strict=True):
            if val != ALL:
                sel &= (df[col] == val).to_numpy()
        rows.append({**dict(zip(by, key, strict=True)),
                     **weighted_share(df[outcome].to_numpy()[sel], df[weight].to_numpy()[sel],
                                      level=level)})
    return pd.DataFrame(rows)


STAT_COLUMNS = ["n", "weighted_n", "p", "se", "deff", "n_eff", "ci_low", "ci_high"]


def weighted_percentages(df: pd.DataFrame, outcome: str, by: str | Sequence[str] | None = None, *,
                         weight: str = "weight", min_n: int = disclosure.DEFAULT_MIN_N,
                         level: float = 0.95, categories: Mapping[str, Sequence[str]] | None = None,
                         period: str | Sequence[str] = "all", population: str = "",
                         ledger: disclosure.Ledger | None = None) -> pd.DataFrame:
    """Weighted share of ``outcome`` (0/1, NaN = not in base) overall and by one or two groups.

    One grouping variable gives a one-way table with its total (group ``"All"``); two give a two-way
    table with row, column and grand totals. ``categories`` lists the documented categories of a
    grouping column: every one is listed (a category with no respondents is a suppressed row, not a
    missing one) and a value outside them is refused; without it the values present are used.
    Cells are protected with :func:`vru.analysis.disclosure.protect_release` on the unweighted
    respondent counts, the table being one of ``population`` for ``period`` (the base periods it
    covers) and protected together with the cells already published in ``ledger``, to which it is
    then added. The suppression pattern does not depend on the order of ``by``. Suppressed cells
    keep their labels but every statistic is NaN (weighted base included). Columns: the group
    columns, ``n``, ``weighted_n``, ``p``, ``se``, ``deff``, ``n_eff``, ``ci_low``, ``ci_high``
    (shares 0-1) and ``suppressed``; nothing says why a cell is hidden.
    """
    by = [] if by is None else ([by] if isinstance(by, str) else list(by))
    if len(by) > 2:
        raise ValueError("at most two grouping variables (a two-way table)")
    base = _groups(df, by)[lambda d: d[outcome].notna()]
    levels = []
    for c in by:
        present = [str(x) for x in base[c].unique()]
        if categories is not None and c in categories:
            doc = [str(x) for x in categories[c]]
            bad = sorted(set(present) - set(doc))
            if bad:
                raise ValueError(f"column {c!r} holds {bad}, outside its documented categories {doc}")
            levels.append(doc)
        else:
            levels.append(sorted(present))
    if by:
        index = pd.MultiIndex.from_product(levels, names=by)
        found = {tuple(str(x) for x in (k if isinstance(k, tuple) else (k,))): float(n)
                 for k, n in base.groupby(by).size().items()}
        counts = pd.Series([found.get(k, 0.0) for k in index], index=index, dtype=float)
    else:
        counts = float(len(base))
    table = disclosure.Table(counts, period=period, population=population,
                             name=" x ".join(by) or "all")
    release = disclosure.protect_release([table], published=ledger, min_n=min_n)
    cells = release.tables[0].cells
    hidden = {tuple(r[:-2]): bool(r[-1]) for r in cells.itertuples(index=False, name=None)}
    keys = [tuple(k) for k in itertools.product(*[[*lv, ALL] for lv in levels])]

    def lab(k):
        return tuple(disclosure.TOTAL if x == ALL else x for x in k)

    work = base.assign(**{c: base[c].astype(str) for c in by})
    est = _estimates(work, outcome, weight, keys, by, level)
    est["suppressed"] = [hidden[lab(k)] for k in keys]
    est.loc[est["suppressed"], STAT_COLUMNS] = np.nan
    if ledger is not None:
        ledger.record(release)
    return est


def newcombe(p1, lo1, hi1, p2, lo2, hi2) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe's hybrid score interval for ``p1 - p2`` from the two Wilson intervals."""
    p1, lo1, hi1, p2, lo2, hi2 = (np.asarray(x, dtype=float) for x in (p1, lo1, hi1, p2, lo2, hi2))
    d = p1 - p2
    return (d - np.sqrt((p1 - lo1) ** 2 + (hi2 - p2) ** 2),
            d + np.sqrt((hi1 - p1) ** 2 + (p2 - lo2) ** 2))


def gaps(table: pd.DataFrame, group: str, pairs: Sequence[tuple[str, str]], *,
         within: str | None = None) -> pd.DataFrame:
    """Gaps ``p_a - p_b`` between groups, from a :func:`weighted_percentages` table.

    ``group`` names the grouping column; ``pairs`` lists ``(a, b)`` values of it; with a two-way
    table, ``within`` names the other grouping column and gaps are given for each of its values
    (including ``"All"``). A gap is NaN (not published) if either group is suppressed. Columns:
    ``within`` (if any), ``a``, ``b``, ``p_a``, ``p_b``, ``gap``, ``ci_low``, ``ci_high``,
    ``label``.
    """
    rows = []
    strata = [None] if within is None else table[within].unique().tolist()
    for s in strata:
        sub = table if s is None else table[table[within] == s]
        idx = sub.set_index(group)
        for a, b in pairs:
            if a not in idx.index or b not in idx.index:
                raise KeyError(f"group {a!r} or {b!r} not in the table")
            ra, rb = idx.loc[a], idx.loc[b]
            row = {} if s is None else {within: s}
            row.update(a=a, b=b)
            if ra["suppressed"] or rb["suppressed"] or pd.isna(ra["p"]) or pd.isna(rb["p"]):
                row.update(p_a=np.nan, p_b=np.nan, gap=np.nan, ci_low=np.nan, ci_high=np.nan,
                           label="suppressed (small group)")
            else:
                lo, hi = newcombe(ra["p"], ra["ci_low"], ra["ci_high"],
                                  rb["p"], rb["ci_low"], rb["ci_high"])
                gap = ra["p"] - rb["p"]
                if lo > 0:
                    label = f"{a} higher"
                elif hi < 0:
                    label = f"{b} higher"
                else:
                    label = "no significant difference"
                row.update(p_a=ra["p"], p_b=rb["p"], gap=gap, ci_low=float(lo), ci_high=float(hi),
                           label=label)
            rows.append(row)
    return pd.DataFrame(rows)
