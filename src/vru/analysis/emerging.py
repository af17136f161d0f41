"""Emerging hot spot analysis over a space-time cube (areas x periods).

Implements the method of ArcGIS Pro's *Emerging Hot Spot Analysis* tool (Space Time Pattern Mining
toolbox), as described on the Esri documentation pages "Emerging Hot Spot Analysis (Space Time
Pattern Mining)" (tool reference: Neighborhood Time Step, Define Global Window) and "How Emerging
Hot Spot Analysis works" (the pattern categories), plus R sfhotspot's simpler ``hotspot_classify``
scheme as an option. The exact rules, their order of precedence and every choice made where the
sources are silent are written down in ``docs/methods-hotspots.md``.

1. **Space-time Gi\\*** (:func:`space_time_gi_star`). The neighbourhood of bin ``(i, t)`` is every
   bin ``(j, s)`` with ``j`` = ``i`` or a spatial neighbour of ``i`` and ``t - k <= s <= t``
   (``k`` = ``time_lag``, ArcGIS's *Neighborhood Time Step*; fewer periods exist before the
   first ``k``). Weights are binary (1 inside the neighbourhood), as in ArcGIS's fixed-distance,
   k-nearest-neighbour and contiguity conceptualisations: only the neighbour structure of the
   given weights is used. The statistic is Getis & Ord's (1992; Ord & Getis 1995) standardised
   Gi\\*, ``z = (sum_nb x - xbar W_i) / (S sqrt((N W_i - W_i^2) / (N - 1))))`` with ``W_i`` the
   number of bins in the neighbourhood, and ``xbar``, ``S`` (population standard deviation) and
   ``N`` taken over ArcGIS's *global window*: ``"cube"`` (Entire cube, ArcGIS's default: all
   ``n T`` bins), ``"neighbourhood"`` (Neighborhood time step: all bins of periods
   ``t - k .. t``) or ``"period"`` (Individual time step: the ``n`` bins of period ``t``). With
   ``time_lag=0`` and ``global_window="period"`` this is exactly esda's binary Gi\\* per period.
2. **Significance** of each bin: two-sided normal p-values, Benjamini-Hochberg FDR correction
   (per period by default; ArcGIS applies "an FDR correction" without naming the family), hot if
   ``q <= alpha`` and ``z > 0``, cold if ``q <= alpha`` and ``z < 0``.
3. **Trend**: Mann-Kendall test (:func:`mann_kendall`) on each location's series of z-scores
   (and optionally of its values), two-sided, with tie correction and continuity correction.
4. **Categories** (:func:`classify_emerging`): the 17 ArcGIS patterns.

Treatments (tested): islands (no spatial neighbour) get NaN z-scores and no category (NaN in the
categorical ``category`` column, ``island=True``): alone, an area's series says nothing about
spatial clustering. The neighbourhood must be smaller than the global window (``W_i < N``);
bins where it is not (possible only for tiny maps with ``global_window="period"`` and
``time_lag > 0``) get NaN. NaN values are
refused (see :func:`vru.analysis.hotspots.getis_ord`). A period whose window has zero variance
(e.g. a period of all zeros with ``global_window="period"``) gives NaN z for that period: no bin
there is significant and the Mann-Kendall test skips it.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from scipy import special

from vru.analysis.hotspots import (
    _prepare_values,
    fdr_significant,
)
from vru.model.weights import SpatialWeights, off_diagonal

__all__ = [
    "CATEGORIES",
    "SFHOTSPOT_CATEGORIES",
    "EmergingResult",
    "space_time_gi_star",
    "mann_kendall",
    "classify_emerging",
    "classify_sfhotspot",
    "holm",
    "emerging_hotspots",
]

NEW_HOT = "New Hot Spot"
CONSECUTIVE_HOT = "Consecutive Hot Spot"
INTENSIFYING_HOT = "Intensifying Hot Spot"
PERSISTENT_HOT = "Persistent Hot Spot"
DIMINISHING_HOT = "Diminishing Hot Spot"
SPORADIC_HOT = "Sporadic Hot Spot"
OSCILLATING_HOT = "Oscillating Hot Spot"
HISTORICAL_HOT = "Historical Hot Spot"
NEW_COLD = "New Cold Spot"
CONSECUTIVE_COLD = "Consecutive Cold Spot"
INTENSIFYING_COLD = "Intensifying Cold Spot"
PERSISTENT_COLD = "Persistent Cold Spot"
DIMINISHING_COLD = "Diminishing Cold Spot"
SPORADIC_COLD = "Sporadic Cold Spot"
OSCILLATING_COLD = "Oscillating Cold Spot"
HISTORICAL_COLD = "Historical Cold Spot"
NO_PATTERN = "No Pattern Detected"

#: The 17 ArcGIS Pro Emerging Hot Spot Analysis categories, as ArcGIS names them.
CATEGORIES = (
    NEW_HOT, CONSECUTIVE_HOT, INTENSIFYING_HOT, PERSISTENT_HOT, DIMINISHING_HOT, SPORADIC_HOT,
    OSCILLATING_HOT, HISTORICAL_HOT,
    NEW_COLD, CONSECUTIVE_COLD, INTENSIFYING_COLD, PERSISTENT_COLD, DIMINISHING_COLD,
    SPORADIC_COLD, OSCILLATING_COLD, HISTORICAL_COLD,
    NO_PATTERN,
)

#: The 10 categories of R sfhotspot's ``hotspot_classify`` (its own labels).
SFHOTSPOT_CATEGORIES = (
    "persistent hotspot", "emerging hotspot", "former hotspot", "intermittent hotspot",
    "persistent coldspot", "emerging coldspot", "former coldspot", "intermittent coldspot",
    "mixed hot/coldspot", "no pattern",
)

_WINDOWS = ("cube", "neighbourhood", "period")


def _as_matrix(x: npt.ArrayLike) -> tuple[np.ndarray, pd.Index | None, pd.Index | None]:
    if isinstance(x, pd.DataFrame):
        return x.to_numpy(dtype=np.float64, na_value=np.nan), x.index, x.columns
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 1:
        a = a.reshape(1, -1)
    if a.ndim != 2:
        raise ValueError(f"expected an areas x periods matrix, got {a.ndim} dimensions")
    return a, None, None


def space_time_gi_star(values: npt.ArrayLike, weights: Any, *, time_lag: int = 1,
                       global_window: str = "cube", ids: Iterable[Hashable] | None = None) -> pd.DataFrame:
    """Space-time Getis-Ord Gi\\* z-scores and two-sided p-values for every bin of a cube.

    ``values``: n x T (areas x periods; a DataFrame is aligned to the weights by its index and
    keeps its columns as periods). ``weights``: a
    :class:`vru.model.weights.SpatialWeights` (or a libpysal ``Graph``, ``W`` or a matrix, via
    ``SpatialWeights.coerce``); only its neighbour structure is used (binary).
    ``time_lag`` and ``global_window`` as in the module docstring (ArcGIS's Neighborhood Time
    Step and Define Global Window). Returns a DataFrame indexed by area id with MultiIndex
    columns (``"z"`` | ``"p"``, period). One sparse matrix product for all periods.
    """
    w = SpatialWeights.coerce(weights)
    y, out_ids, periods, was_1d = _prepare_values(values, w, ids)
    if was_1d:
        raise ValueError("values must be an areas x periods matrix (a cube), not a vector")
    z, _ = _space_time_z(y, w, time_lag, global_window)
    p = 2.0 * special.ndtr(-np.abs(z))
    index = out_ids if out_ids is not None else pd.RangeIndex(w.n)
    cols = pd.MultiIndex.from_product([["z", "p"], periods], names=["statistic", "period"])
    return pd.DataFrame(np.concatenate([z, p], axis=1), index=index, columns=cols, copy=False)


def _space_time_z(y: np.ndarray, w: SpatialWeights, time_lag: int,
                  global_window: str) -> tuple[np.ndarray, np.ndarray]:
    """Space-time Gi* z-scores (n x T) and the islands (n booleans: no neighbour but themselves)."""
    n, t = y.shape
    k = int(time_lag)
    if k != time_lag or k < 0:
        raise ValueError(f"time_lag must be a non-negative integer, not {time_lag!r}")
    if k >= t:
        raise ValueError(f"time_lag {k} needs more than {k} periods; the cube has {t}")
    if global_window not in _WINDOWS:
        raise ValueError(f"global_window must be one of {_WINDOWS}, not {global_window!r}")
    off = off_diagonal(w.sparse)
    off.data[:] = 1.0
    islands = np.diff(off.indptr) == 0
    b = sp.csr_array(off + sp.eye_array(n, format="csr"))
    lag = _window_sum(b @ y, k)
    periods_in = (np.minimum(np.arange(t), k) + 1).astype(float)
    card = np.diff(b.indptr).astype(float)
    if global_window == "cube":
        big_n = float(n * t)
        flat = y.ravel()
        mean = flat.sum() / big_n
        var = np.dot(flat, flat) / big_n - mean**2
    elif global_window == "period":
        big_n = float(n)
        mean = y.sum(axis=0) / big_n
        var = np.einsum("ij,ij->j", y, y) / big_n - mean**2
    else:
        big_n = n * periods_in
        mean = _window_sum(y.sum(axis=0, keepdims=True), k)[0] / big_n
        var = _window_sum(np.einsum("ij,ij->j", y, y)[None, :], k)[0] / big_n - mean**2
    # W_i = card_i * periods_in_t takes few distinct values: the denominator
    # S sqrt((N W_i - W_i^2) / (N - 1)) is computed per distinct cardinality, then gathered
    distinct, which = np.unique(card, return_inverse=True)
    wi = distinct[:, None] * periods_in[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = np.sqrt(np.maximum(var, 0.0)) * np.sqrt((big_n * wi - wi**2) / (big_n - 1))
        z = lag
        z -= np.outer(card, mean * periods_in)
        z /= spread[which]
    z[~np.isfinite(z)] = np.nan
    z[islands] = np.nan
    return z, islands


def _window_sum(a: np.ndarray, k: int) -> np.ndarray:
    """Sum over periods t-k..t along axis 1 (fewer at the start)."""
    if k == 0:
        return a
    if k <= 8:
        out = a.copy()
        for d in range(1, k + 1):
            out[:, d:] += a[:, :-d]
        return out
    c = np.cumsum(a, axis=1)
    c[:, k + 1:] -= c[:, : -(k + 1)].copy()
    return c


def mann_kendall(series: npt.ArrayLike, *, continuity: bool = True) -> pd.DataFrame:
    """Mann-Kendall trend test (Mann 1945; Kendall 1975), vectorised over rows.

    ``series``: one series (1-D) or a matrix with one series per row (a DataFrame keeps its
    index). For each row: ``S = sum_{i<j} sign(x_j - x_i)``;
    ``Var(S) = (n(n-1)(2n+5) - sum_g t_g(t_g-1)(2t_g+5)) / 18`` over the groups of tied values;
    ``z = (S - sign(S)) / sqrt(Var(S))`` (continuity correction; ``continuity=False`` uses ``S``);
    ``p`` two-sided normal; ``tau = S / (n(n-1)/2)`` (Kendall's tau-a). This is
    ``pymannkendall.original_test`` (Gilbert 1987). NaN values are skipped (``n`` counts the
    others); rows with fewer than 2 values give NaN; a constant row gives ``S = 0``, ``z = 0``,
    ``p = 1``. Returns a DataFrame with columns ``n``, ``S``, ``var_S``, ``z``, ``p``, ``tau``.
    """
    x, index, _ = _as_matrix(series)
    rows, t = x.shape
    valid = ~np.isnan(x)
    n = valid.sum(axis=1).astype(float)
    # Tie groups: runs of equal values in each sorted row (NaN sort last and never tie).
    xs = np.sort(x, axis=1)
    tied = xs[:, 1:] == xs[:, :-1]
    start = np.ones(xs.shape, dtype=bool)
    start[:, 1:] = ~tied
    first = np.flatnonzero(start.ravel())  # flat positions where a run of equal values starts
    sizes = np.diff(first, append=rows * t).astype(float)
    row_of = first // t
    tie = np.bincount(row_of, weights=sizes * (sizes - 1) * (2 * sizes + 5), minlength=rows)
    tied_pairs = np.bincount(row_of, weights=sizes * (sizes - 1) / 2, minlength=rows)
    # Over the n(n-1)/2 pairs of non-missing values, S = (#rising) - (#falling) and
    # #falling = pairs - #rising - #tied, so S = 2 #rising + #tied - pairs: one comparison per
    # pair. #rising counts, for each period, the earlier periods with a smaller value
    # (comparisons with NaN are False). Float32 halves the memory traffic; the cast is monotone,
    # so it is exact unless it merges distinct values, which is checked on the sorted rows.
    x32 = xs.astype(np.float32)
    exact32 = np.array_equal(x32[:, 1:] == x32[:, :-1], tied)
    xt = np.ascontiguousarray(x.T, dtype=np.float32 if exact32 else np.float64)
    acc = np.dtype(np.int16 if t * (t - 1) // 2 < 2**15 else np.int64)
    rising = np.zeros(rows, dtype=acc)
    for j in range(1, t):
        rising += (xt[:j] < xt[j]).sum(axis=0, dtype=acc)
    s = 2.0 * rising + tied_pairs - n * (n - 1) / 2.0
    var_s = (n * (n - 1) * (2 * n + 5) - tie) / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        num = s - np.sign(s) if continuity else s
        z = np.where(s == 0, 0.0, num / np.sqrt(var_s))
        tau = s / (n * (n - 1) / 2.0)
    p = 2.0 * special.ndtr(-np.abs(z))
    few = n < 2
    for a in (s, var_s, z, p, tau):
        a[few] = np.nan
    return pd.DataFrame({"n": n.astype(int), "S": s, "var_S": var_s, "z": z, "p": p, "tau": tau},
                        index=index)


def _trailing_run(flags: np.ndarray) -> np.ndarray:
    """Length of the run of True values ending at the last period, per row."""
    rev = flags[:, ::-1]
    run: np.ndarray = np.where(rev.all(axis=1), flags.shape[1], np.argmin(rev, axis=1))
    return run


def classify_emerging(z: npt.ArrayLike, p: npt.ArrayLike, *, alpha: float = 0.05,
                      trend_alpha: float = 0.05, ids: Iterable[Hashable] | None = None) -> pd.DataFrame:
    """ArcGIS Pro's 17 emerging hot spot categories from per-bin z-scores and p-values.

    ``z``, ``p``: areas x periods (``p`` already corrected for multiple testing if wanted; a
    1-D input is one area). A bin is a significant hot spot if ``p <= alpha`` and ``z > 0``,
    cold if ``p <= alpha`` and ``z < 0``. The trend is the Mann-Kendall test of each area's
    z-score series: increasing if ``p_trend <= trend_alpha`` and ``S > 0``, decreasing if
    ``S < 0``. With ``T`` periods, "90%" means ``10 * count >= 9 * T``. Rules, in order
    (the cold rules mirror the hot ones, with "increasing" and "decreasing" swapped):

    final period hot:
      - >= 90% of periods hot: Intensifying (increasing trend), Diminishing (decreasing trend),
        else Persistent;
      - otherwise Oscillating if any earlier period was a cold spot; else New if the final
        period is the only hot one; else Consecutive if the hot periods are one run of at
        least two ending in the final period; else Sporadic.
    final period cold: the same with hot and cold exchanged.
    final period neither: Historical Hot Spot if >= 90% of periods hot, Historical Cold Spot if
    >= 90% cold, else No Pattern Detected.

    Returns a DataFrame indexed by area: ``category``, ``n_hot``, ``n_cold``, ``final``
    (+1 hot, -1 cold, 0), ``trend_tau``, ``trend_z``, ``trend_p``.
    """
    z_arr, z_ids, z_periods = _as_matrix(z)
    p_arr, _, _ = _as_matrix(p)
    if z_arr.shape != p_arr.shape:
        raise ValueError(f"z {z_arr.shape} and p {p_arr.shape} differ in shape")
    if z_arr.shape[1] < 2:
        raise ValueError("emerging hot spot analysis needs at least 2 periods")
    index = pd.Index(ids) if ids is not None else z_ids
    sig = np.nan_to_num(p_arr, nan=np.inf) <= alpha
    return _classify_significant(z_arr, sig, trend_alpha, index)


def _classify_significant(z_arr: np.ndarray, sig: np.ndarray, trend_alpha: float,
                          index: pd.Index | None, islands: np.ndarray | None = None) -> pd.DataFrame:
    with np.errstate(invalid="ignore"):
        hot = sig & (z_arr > 0)
        cold = sig & (z_arr < 0)
    trend = mann_kendall(z_arr)
    codes = _arcgis_rules(hot, cold, trend["S"].to_numpy(), trend["p"].to_numpy(), trend_alpha)
    final = hot[:, -1].astype(np.int8) - cold[:, -1].astype(np.int8)
    columns = {
        "category": pd.Categorical.from_codes(
            codes if islands is None else np.where(islands, -1, codes),
            categories=list(CATEGORIES)),
        "n_hot": hot.sum(axis=1), "n_cold": cold.sum(axis=1), "final": final,
        "trend_tau": trend["tau"].to_numpy(), "trend_z": trend["z"].to_numpy(),
        "trend_p": trend["p"].to_numpy(),
    }
    if islands is not None:
        columns["island"] = islands
    return pd.DataFrame(columns, index=index if index is not None else pd.RangeIndex(len(z_arr)))


def _arcgis_rules(hot: np.ndarray, cold: np.ndarray, trend_s: np.ndarray, trend_p: np.ndarray,
                  trend_alpha: float) -> np.ndarray:
    """Category codes (positions in :data:`CATEGORIES`)."""
    code = {name: i for i, name in enumerate(CATEGORIES)}
    t = hot.shape[1]
    with np.errstate(invalid="ignore"):
        trend_sig = np.nan_to_num(trend_p, nan=np.inf) <= trend_alpha
        up = trend_sig & (trend_s > 0)
        down = trend_sig & (trend_s < 0)

    def side(mine: np.ndarray, other: np.ndarray, stronger: np.ndarray, weaker: np.ndarray,
             names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        count = mine.sum(axis=1)
        most = 10 * count >= 9 * t
        run = _trailing_run(mine)
        prior_other = other[:, :-1].any(axis=1)
        new, consecutive, intensifying, persistent, diminishing, sporadic, oscillating = (
            code[name] for name in names)
        conds = [
            most & stronger, most & weaker, most,
            prior_other, count == 1, (run >= 2) & (count == run),
        ]
        choices = [intensifying, diminishing, persistent, oscillating, new, consecutive]
        return np.select(conds, choices, sporadic), most

    hot_label, hot_most = side(hot, cold, up, down, (
        NEW_HOT, CONSECUTIVE_HOT, INTENSIFYING_HOT, PERSISTENT_HOT, DIMINISHING_HOT,
        SPORADIC_HOT, OSCILLATING_HOT))
    cold_label, cold_most = side(cold, hot, down, up, (
        NEW_COLD, CONSECUTIVE_COLD, INTENSIFYING_COLD, PERSISTENT_COLD, DIMINISHING_COLD,
        SPORADIC_COLD, OSCILLATING_COLD))
    return np.asarray(np.select(
        [hot[:, -1], cold[:, -1], hot_most, cold_most],
        [hot_label, cold_label, code[HISTORICAL_HOT], code[HISTORICAL_COLD]],
        code[NO_PATTERN],
    ), dtype=np.int8)


def holm(p: npt.ArrayLike, axis: int = 1) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values along ``axis`` (default: across each row's periods).

    ``adj_(i) = max_{j <= i} min(1, (m - j + 1) p_(j))``; NaN values are left out and stay NaN.
    This is R's ``p.adjust(method = "holm")``, the adjustment sfhotspot's ``hotspot_classify``
    applies to each cell's p-values across periods by default.
    """
    p = np.asarray(p, dtype=np.float64)
    moved = np.moveaxis(p, axis, 0)
    flat = moved.reshape(moved.shape[0], -1)
    order = np.argsort(flat, axis=0, kind="stable")
    ps = np.take_along_axis(flat, order, axis=0)
    m = np.isfinite(flat).sum(axis=0, keepdims=True)
    rank = np.arange(1, flat.shape[0] + 1)[:, None]
    adj = np.where(np.isfinite(ps), np.minimum(1.0, (m - rank + 1) * ps), -np.inf)
    adj = np.maximum.accumulate(adj, axis=0)
    adj[~np.isfinite(ps)] = np.nan
    out = np.empty_like(flat)
    np.put_along_axis(out, order, adj, axis=0)
    return np.moveaxis(out.reshape(moved.shape), 0, axis)


def classify_sfhotspot(z: npt.ArrayLike, p: npt.ArrayLike, *, hotspot_prop: float = 0.1,
                       persistent_prop: float = 0.8,
                       recent_prop: float = 0.2, critical_p: float = 0.05,
                       p_adjust: str | None = "holm",
                       ids: Iterable[Hashable] | None = None) -> pd.DataFrame:
    """R sfhotspot's ``hotspot_classify`` scheme (version 0.9; defaults of
    ``hotspot_classify_params``) from per-bin z-scores and unadjusted p-values.

    Each area's p-values are adjusted across its periods (``p_adjust="holm"``, sfhotspot's
    default through ``stats::p.adjust``; ``None`` for no adjustment); a bin is a hot spot if
    ``p_adj < critical_p`` and ``z > 0``, a cold spot if ``p_adj < critical_p`` and ``z <= 0``.
    The last ``r = floor(recent_prop * T)`` periods (at least 1) are "recent", the others
    "older". Per side (hot shown; cold alike), first match wins:
    persistent if the share of hot periods ``>= persistent_prop``; emerging if the older share
    ``< hotspot_prop`` and the recent share ``>= recent_prop``; former if the older share
    ``>= hotspot_prop`` and the recent share ``< hotspot_prop``; intermittent if the share of
    all periods ``>= hotspot_prop``; else no pattern. An area with a pattern on both sides is
    "mixed hot/coldspot". Deviation: sfhotspot's code sums ``r + 1`` recent columns
    (``(ncol - r):ncol`` in R) but divides by ``r``; here the recent window is exactly ``r``.
    Returns a DataFrame indexed by area with ``category``, ``hot_share``, ``cold_share``.
    """
    for name, v in (("hotspot_prop", hotspot_prop), ("persistent_prop", persistent_prop),
                    ("recent_prop", recent_prop), ("critical_p", critical_p)):
        if not 0 < v < 1:
            raise ValueError(f"{name} must be greater than 0 and less than 1")
    z_arr, z_ids, _ = _as_matrix(z)
    p_arr, _, _ = _as_matrix(p)
    if z_arr.shape != p_arr.shape:
        raise ValueError(f"z {z_arr.shape} and p {p_arr.shape} differ in shape")
    t = z_arr.shape[1]
    recent = int(np.floor(recent_prop * t))
    if recent < 1 or t - recent < 1:
        recent = 1
    if t - recent < 1:
        raise ValueError("sfhotspot's classification needs at least one recent and one older period")
    if p_adjust == "holm":
        p_arr = holm(p_arr, axis=1)
    elif p_adjust is not None:
        raise ValueError(f"p_adjust must be 'holm' or None, not {p_adjust!r}")
    with np.errstate(invalid="ignore"):
        sig = np.nan_to_num(p_arr, nan=np.inf) < critical_p
        is_hot = z_arr > 0
    sig_hot = sig & is_hot
    sig_cold = sig & ~is_hot & ~np.isnan(z_arr)

    def side(flags: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
        share = flags.mean(axis=1)
        recent_share = flags[:, t - recent:].mean(axis=1)
        older_share = flags[:, : t - recent].mean(axis=1)
        return np.select(
            [share >= persistent_prop,
             (older_share < hotspot_prop) & (recent_share >= recent_prop),
             (older_share >= hotspot_prop) & (recent_share < hotspot_prop),
             share >= hotspot_prop],
            [f"persistent {kind}", f"emerging {kind}", f"former {kind}", f"intermittent {kind}"],
            "no pattern",
        ), share

    cat_h, share_h = side(sig_hot, "hotspot")
    cat_c, share_c = side(sig_cold, "coldspot")
    both = (cat_h != "no pattern") & (cat_c != "no pattern")
    labels = np.where(both, "mixed hot/coldspot", np.where(cat_h != "no pattern", cat_h, cat_c))
    index = pd.Index(ids) if ids is not None else z_ids
    return pd.DataFrame({"category": pd.Categorical(labels, categories=list(SFHOTSPOT_CATEGORIES)),
                         "hot_share": share_h, "cold_share": share_c},
                        index=index if index is not None else pd.RangeIndex(len(z_arr)))


@dataclass
class EmergingResult:
    """Result of :func:`emerging_hotspots`.

    ``summary``: one row per area (category, counts, trend, ``island``); ``z`` and ``p``: the
    areas x periods z-scores and raw two-sided p-values; ``bins``: +1 significant hot, -1
    significant cold, 0 otherwise, after the scheme's multiple-testing correction; ``params``:
    the settings used.
    """

    summary: pd.DataFrame
    z: pd.DataFrame
    p: pd.DataFrame
    bins: pd.DataFrame
    params: dict = field(default_factory=dict)


def emerging_hotspots(values: npt.ArrayLike, weights: Any, *, time_lag: int = 1,
                      global_window: str = "cube", alpha: float = 0.05, fdr: str | None = "period",
                      trend_alpha: float = 0.05, scheme: str = "arcgis",
                      count_trend: bool = False, sfhotspot: dict[str, Any] | None = None,
                      ids: Iterable[Hashable] | None = None) -> EmergingResult:
    """Emerging hot spot analysis of a space-time cube (areas x periods).

    Space-time Gi\\* (:func:`space_time_gi_star`), then per-bin significance and a category per
    area. ``scheme="arcgis"`` (default): Benjamini-Hochberg q-values (``fdr="period"``: each
    period's areas form one family; ``"cube"``: all bins; ``None``: raw p), significant at
    ``q <= alpha``, 17 categories by :func:`classify_emerging`. ``scheme="sfhotspot"``: raw
    p-values classified by :func:`classify_sfhotspot` (keyword arguments in ``sfhotspot``;
    ``fdr``, ``alpha`` and ``trend_alpha`` do not apply). ``count_trend=True`` adds the
    Mann-Kendall test of each area's values (``count_tau``, ``count_z``, ``count_p``), as
    ArcGIS's Create Space Time Cube reports per location.
    """
    if scheme not in ("arcgis", "sfhotspot"):
        raise ValueError(f"scheme must be 'arcgis' or 'sfhotspot', not {scheme!r}")
    if fdr not in ("period", "cube", None):
        raise ValueError(f"fdr must be 'period', 'cube' or None, not {fdr!r}")
    w = SpatialWeights.coerce(weights)
    y, out_ids, periods, was_1d = _prepare_values(values, w, ids)
    if was_1d:
        raise ValueError("values must be an areas x periods matrix (a cube), not a vector")
    if y.shape[1] < 2:
        raise ValueError("emerging hot spot analysis needs at least 2 periods")
    index = out_ids if out_ids is not None else pd.RangeIndex(w.n)
    z, islands = _space_time_z(y, w, time_lag, global_window)
    p = 2.0 * special.ndtr(-np.abs(z))
    if scheme == "arcgis":
        if fdr == "period":
            sig = fdr_significant(p, alpha, axis=0)
        elif fdr == "cube":
            sig = fdr_significant(p.ravel(), alpha).reshape(p.shape)
        else:
            sig = np.nan_to_num(p, nan=np.inf) <= alpha
        summary = _classify_significant(z, sig, trend_alpha, index, islands)
    else:
        opts = dict(sfhotspot or {})
        summary = classify_sfhotspot(z, p, **opts)
        summary.index = index
        if islands.any():
            summary.loc[islands, "category"] = pd.NA
        summary["island"] = islands
        q = holm(p, axis=1) if opts.get("p_adjust", "holm") == "holm" else p
        with np.errstate(invalid="ignore"):
            sig = np.nan_to_num(q, nan=np.inf) < opts.get("critical_p", 0.05)
    if count_trend:
        counts = mann_kendall(y)
        summary["count_tau"] = counts["tau"].to_numpy()
        summary["count_z"] = counts["z"].to_numpy()
        summary["count_p"] = counts["p"].to_numpy()
    with np.errstate(invalid="ignore"):
        bins = np.where(sig & (z > 0), 1, np.where(sig & (z < 0), -1, 0)).astype(np.int8)
    cols = periods
    return EmergingResult(
        summary=summary,
        z=pd.DataFrame(z, index=index, columns=cols, copy=False),
        p=pd.DataFrame(p, index=index, columns=cols, copy=False),
        bins=pd.DataFrame(bins, index=index, columns=cols, copy=False),
        params=dict(time_lag=time_lag, global_window=global_window, alpha=alpha, fdr=fdr,
                    trend_alpha=trend_alpha, scheme=scheme, sfhotspot=sfhotspot),
    )
