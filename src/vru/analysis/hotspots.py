"""Local hot-spot statistics: Getis-Ord Gi / Gi*, Local Moran's I, Benjamini-Hochberg FDR.

Pure functions on plain arrays (no I/O). Values are a vector of ``n`` areas or an ``n x T`` matrix
(one column per period: every period is computed at once with one sparse matrix product); spatial
weights are a :class:`vru.model.weights.SpatialWeights` (at the edge also a libpysal ``Graph`` or
``W``, a ``scipy.sparse`` matrix or a dense array, converted once by ``SpatialWeights.coerce``).
Results are DataFrames indexed by area id.

Definitions follow PySAL esda 2.x exactly, so that results can be checked against it
(``tests/test_hotspots.py``); the full statement, with the deliberate differences, is in
``docs/methods-hotspots.md``:

- **Gi and Gi\\*** (Getis & Ord 1992; Ord & Getis 1995), as ``esda.getisord.G_Local``:
  ``G_i = sum_j w_ij y_j / (sum_j y_j - y_i)`` for Gi (self excluded) and
  ``G*_i = sum_j w_ij y_j / sum_j y_j`` for Gi\\* (self included). Moments under normality with
  ``N = n`` (Gi\\*) or ``n - 1`` (Gi, per area, leaving ``y_i`` out of the mean and variance),
  ``W_i = sum_j w_ij`` (the row sum of the weights actually used, self-weight included):
  ``E[G_i] = W_i / N``,
  ``V[G_i] = W_i (N - W_i) / (N - 1) / N^2 * s^2 / ybar^2`` with ``s^2`` the population variance.
  ``z = (G - E[G]) / sqrt(V[G])``. As in esda, the variance uses ``W_i`` where Getis & Ord's
  general formula has ``sum_j w_ij^2``: both agree for binary weights; for row-standardised
  weights esda's (and our) z-score is ``(lag_i - ybar) / s``.
- **Self-weight of Gi\\*** (esda's ``_infer_star_and_structure_w``): ``star=True`` keeps a non-zero
  diagonal if the weights have one; otherwise the self-weight is 1 for binary weights and the row
  maximum of the given weights for ``transform="R"`` (1 for contiguity); a number ``star=x`` sets
  the self-weight to ``x``. Row-standardisation is applied after the self-weight is set, so with
  contiguity weights the self-weight of area ``i`` is ``1 / (k_i + 1)``.
- **Local Moran's I** (Anselin 1995), as ``esda.Moran_Local``: ``z = (y - ybar) / s``,
  ``I_i = (n - 1) z_i sum_j w_ij z_j / sum_j z_j^2``; expectation and variance under total
  randomisation (Sokal, Oden & Thomson 1998, eqs. A3 and A4*), as esda's ``EI`` and ``VI``.
- **Conditional permutation** (Anselin 1995; esda ``crand``): for each area the ``k_i`` neighbour
  values are replaced by ``k_i`` values drawn without replacement from the other ``n - 1`` areas
  (``y_i`` held fixed), ``permutations`` times; with ``larger`` = the number of draws whose
  statistic is ``>=`` the observed one, ``larger`` is folded to ``min(larger, permutations -
  larger)`` and the pseudo p-value is ``(larger + 1) / (permutations + 1)`` (esda's default
  "directed" alternative: a one-tailed p-value in the direction of the observation). Draws are
  independent per area (esda shares one table of draws across areas; both are valid conditional
  randomisations) and shared across periods. Seeded with a numpy ``Generator``.
- **Analytic p-values** are two-sided, ``p = 2 * (1 - Phi(|z|))`` (esda's ``p_norm`` is the
  one-sided ``1 - Phi(|z|)``, half of ours).

Edge cases (documented in docs/methods-hotspots.md and tested):

- **Islands** (areas with no neighbour other than themselves) get NaN statistics, z and p: a
  local statistic of one area alone says nothing about clustering. Their values still count in
  the global mean and variance (as in esda), so the other areas' results equal esda's.
- **NaN or infinite values** are refused with a ``ValueError`` naming the first offending area and
  period: drop the period, or the area (from the values and the weights), or fill it explicitly.
- **A period whose values are all equal** (e.g. all zero: no data) has zero variance; its z and p
  are NaN (no area can be a hot or cold spot in it), never an error.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from scipy import special

from vru.model.weights import SpatialWeights
from vru.model.weights import off_diagonal as _off_diagonal

__all__ = [
    "getis_ord",
    "local_moran",
    "fdr_bh",
    "fdr_significant",
    "gi_bin",
]

# Largest number of float64 elements held at once by the permutation engine (32 MiB).
_CHUNK_ELEMENTS = 1 << 22


def _row_sums(matrix: sp.csr_array) -> np.ndarray:
    return np.asarray(matrix.sum(axis=1)).ravel()


def _prepare_values(values: npt.ArrayLike, w: SpatialWeights, ids: Iterable[Hashable] | None
                    ) -> tuple[np.ndarray, pd.Index | None, pd.Index | None, bool]:
    """Values as an n x T float array aligned to the weights; (Y, ids, periods, was_1d)."""
    periods = None
    v_ids = None
    if isinstance(values, pd.Series):
        v_ids, arr = values.index, values.to_numpy(dtype=np.float64, na_value=np.nan)
    elif isinstance(values, pd.DataFrame):
        v_ids, periods = values.index, values.columns
        arr = values.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        arr = np.asarray(values, dtype=np.float64)
    if arr.ndim not in (1, 2):
        raise ValueError(f"values must be a vector or an n x T matrix, got {arr.ndim} dimensions")
    was_1d = arr.ndim == 1
    y = arr.reshape(-1, 1) if was_1d else arr
    out_ids = w.ids
    if ids is not None:
        given = pd.Index(ids)
        if out_ids is not None and not given.equals(out_ids):
            raise ValueError("ids differ from the ids (or their order) carried by the weights")
        out_ids = given
    if v_ids is not None:
        if v_ids.has_duplicates:
            raise ValueError(f"duplicate area ids in the values: {list(v_ids[v_ids.duplicated()][:5])}")
        if out_ids is None:
            out_ids = pd.Index(v_ids)
        else:
            missing = out_ids.difference(v_ids)
            extra = v_ids.difference(out_ids)
            if len(missing) or len(extra):
                raise ValueError(
                    f"values and weights cover different areas: {len(missing)} area(s) in the "
                    f"weights have no value (e.g. {list(missing[:5])}), {len(extra)} valued "
                    f"area(s) are not in the weights (e.g. {list(extra[:5])}); subset both to "
                    "the same areas explicitly"
                )
            y = y[v_ids.get_indexer(out_ids)]
    if y.shape[0] != w.n:
        raise ValueError(f"{y.shape[0]} values for {w.n} areas in the weights")
    if out_ids is not None and len(out_ids) != w.n:
        raise ValueError(f"{len(out_ids)} ids for {w.n} areas in the weights")
    bad = ~np.isfinite(y)
    if bad.any():
        i, t = map(int, np.argwhere(bad)[0])
        area = out_ids[i] if out_ids is not None else i
        period = periods[t] if periods is not None else t
        raise ValueError(
            f"values contain {int(bad.sum())} NaN or infinite cell(s), first at area {area!r}, "
            f"period {period!r}: drop that period, or the area from the values and the weights, "
            "or fill it explicitly"
        )
    if periods is None and not was_1d:
        periods = pd.RangeIndex(y.shape[1])
    return np.ascontiguousarray(y), out_ids, periods, was_1d


def _frame(columns: dict[str, np.ndarray], ids: pd.Index | None, periods: pd.Index | None,
           was_1d: bool) -> pd.DataFrame:
    """A DataFrame indexed by area: flat columns for one period, (statistic, period) otherwise."""
    index = ids if ids is not None else pd.RangeIndex(next(iter(columns.values())).shape[0])
    if was_1d:
        return pd.DataFrame({k: v[:, 0] for k, v in columns.items()}, index=index)
    names = list(columns)
    block = np.concatenate([np.asarray(columns[k], dtype=np.float64) for k in names], axis=1)
    cols = pd.MultiIndex.from_product([names, periods], names=["statistic", "period"])
    return pd.DataFrame(block, index=index, columns=cols, copy=False)


def _weights_for(w: SpatialWeights, transform: str,
                 self_weight: npt.ArrayLike | None) -> tuple[sp.csr_array, np.ndarray]:
    """Off-diagonal weights and self-weights after esda's star rule and transform."""
    transform = transform.upper()
    if transform not in ("B", "R"):
        raise ValueError(f"transform must be 'B' (binary) or 'R' (row-standardised), not {transform!r}")
    matrix = w.sparse
    diag = matrix.diagonal()
    off = _off_diagonal(matrix)
    if transform == "B":
        off.data[:] = 1.0
    if self_weight is False or self_weight is None:
        sw = np.zeros(w.n)
    elif self_weight is True:
        if (diag != 0).any():
            sw = (diag != 0).astype(float) if transform == "B" else diag.astype(float)
        elif transform == "B":
            sw = np.ones(w.n)
        else:
            sw = np.asarray(off.max(axis=1).todense()).ravel().astype(float)
    else:
        sw = np.broadcast_to(np.asarray(self_weight, dtype=float), (w.n,)).copy()
        if transform == "B":
            sw = (sw != 0).astype(float)
    if transform == "R":
        rs = _row_sums(off) + sw
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(rs > 0, 1.0 / rs, 0.0)
        off = sp.csr_array(sp.diags_array(scale) @ off)
        off.sort_indices()
        sw = sw * scale
    return off, sw


def _pvalue(z: np.ndarray) -> np.ndarray:
    p: np.ndarray = 2.0 * special.ndtr(-np.abs(z))
    return p


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _conditional_counts(off: sp.csr_array, y: np.ndarray, permutations: int,
                        rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Conditional randomisation of the off-diagonal spatial lag ``sum_j w_ij y_j``.

    Returns (count of random lags >= the observed lag, count <= observed), each n x T.
    Areas are processed by cardinality class; for each area ``permutations`` sets of ``k_i``
    distinct other areas are drawn (rejection of the rare draws with a repeated index), and the
    same draws serve every period. Where all of a row's weights are equal (binary or
    row-standardised contiguity) the comparison is made on unweighted sums, so exact ties in
    integer counts stay exact. Islands get zero counts (their statistics are NaN anyway).
    """
    n, t = y.shape
    card = np.diff(off.indptr)
    ge = np.zeros((n, t), dtype=np.int64)
    le = np.zeros((n, t), dtype=np.int64)
    for k in np.unique(card):
        if k == 0:
            continue
        if k > n - 1:  # pragma: no cover - impossible for a valid weights matrix
            raise ValueError("an area has more neighbours than there are other areas")
        rows_k = np.flatnonzero(card == k)
        pos = off.indptr[rows_k][:, None] + np.arange(k)
        nbr = off.indices[pos]
        wts = off.data[pos]
        equal = (wts == wts[:, :1]).all(axis=1)
        step = max(1, _CHUNK_ELEMENTS // (permutations * max(t, k)))
        for start in range(0, len(rows_k), step):
            sl = slice(start, start + step)
            rows, nb, wt, eq = rows_k[sl], nbr[sl], wts[sl], equal[sl]
            draws = _draw_others(rng, rows, n, permutations, k)
            # observed and random lags, unweighted for equal-weight rows
            o = y[nb[:, 0]].copy()
            r = y[draws[:, :, 0]]
            if eq.all():
                for j in range(1, k):
                    o += y[nb[:, j]]
                    r += y[draws[:, :, j]]
            else:
                coef = np.where(eq[:, None], 1.0, wt)
                o *= coef[:, :1]
                r *= coef[:, :1, None]
                for j in range(1, k):
                    o += coef[:, j, None] * y[nb[:, j]]
                    r += coef[:, j, None, None] * y[draws[:, :, j]]
            ge[rows] = (r >= o[:, None, :]).sum(axis=1)
            le[rows] = (r <= o[:, None, :]).sum(axis=1)
    return ge, le


def _draw_others(rng: np.random.Generator, rows: np.ndarray, n: int, permutations: int,
                 k: int) -> np.ndarray:
    """For each focal area in ``rows``: ``permutations`` draws of ``k`` distinct areas != focal."""
    dtype = np.dtype(np.int32 if n < 2**31 - 1 else np.int64)
    focal = rows.astype(dtype)[:, None, None]
    d = rng.integers(0, n - 1, size=(len(rows), permutations, k), dtype=dtype)
    d += d >= focal
    redrawn: tuple[np.ndarray, np.ndarray] | None = None  # (focal rows, permutations) drawn again
    sub = d
    while k > 1:
        # rejection of draws with a repeated area: pairwise comparisons beat sorting for small k
        dup = np.zeros(sub.shape[:2], dtype=bool)
        for a in range(1, k):
            for b in range(a):
                dup |= sub[:, :, a] == sub[:, :, b]
        if not dup.any():
            break
        ii, pp = np.nonzero(dup)
        if redrawn is not None:
            ii, pp = redrawn[0][ii, 0], redrawn[1][ii, 0]
        fresh = rng.integers(0, n - 1, size=(len(ii), k), dtype=dtype)
        fresh += fresh >= rows[ii].astype(dtype)[:, None]
        d[ii, pp] = fresh
        redrawn = ii[:, None], pp[:, None]
        sub = d[ii, pp][:, None, :]
    return d


def _fold(larger: np.ndarray, permutations: int) -> np.ndarray:
    """esda's 'directed' pseudo p-value from the count of draws >= observed."""
    larger = np.minimum(larger, permutations - larger)
    return (larger + 1.0) / (permutations + 1.0)


def getis_ord(values: npt.ArrayLike, weights: Any, *, star: bool | float = True, transform: str = "B",
              permutations: int = 0, seed: int | np.random.Generator | None = None,
              ids: Iterable[Hashable] | None = None) -> pd.DataFrame:
    """Local Getis-Ord Gi* (``star=True``) or Gi (``star=False``), vectorised over periods.

    Parameters
    ----------
    values: n values, or an n x T matrix (one column per period); a pandas Series/DataFrame is
        aligned to the weights by its index (it must cover exactly the weights' areas).
    weights: :class:`vru.model.weights.SpatialWeights` (or anything its ``coerce`` accepts: a
        libpysal ``Graph`` or ``W``, a sparse or dense matrix). Only the neighbour structure is
        used with ``transform="B"``.
    star: True for Gi* (self included, esda's self-weight rule), False for Gi, or a number to use
        as every area's self-weight.
    transform: "B" binary (the default: Getis & Ord's and ArcGIS's form) or "R" row-standardised
        (esda's default).
    permutations: number of conditional permutations for pseudo p-values (0: analytic only).
    seed: int or ``numpy.random.Generator`` for the permutations.
    ids: area ids when neither the weights nor the values carry them.

    Returns
    -------
    DataFrame indexed by area id with columns ``G``, ``E_G``, ``V_G``, ``z``, ``p`` (two-sided,
    normal approximation) and, with permutations, ``p_sim`` (esda's folded pseudo p-value). For
    an n x T input the columns are a MultiIndex (statistic, period), so ``result["z"]`` is the
    n x T table of z-scores. Islands and zero-variance periods give NaN.
    """
    w = SpatialWeights.coerce(weights)
    y, out_ids, periods, was_1d = _prepare_values(values, w, ids)
    n = w.n
    off, sw = _weights_for(w, transform, star)
    star_on = bool((sw > 0).any())
    full = sp.csr_array(off + sp.diags_array(sw)) if star_on else off
    remove_self = 0.0 if star_on else 1.0
    big_n = n - remove_self
    total = y.sum(axis=0, keepdims=True)
    total_sq = (y * y).sum(axis=0, keepdims=True)
    lag = full @ y
    card = _row_sums(full)[:, None]
    islands = w.islands
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = total - y * remove_self
        g = lag / denom
        mean = denom / big_n
        var = (total_sq - y * y * remove_self) / big_n - mean**2
        eg = np.broadcast_to(card / big_n, y.shape).copy()
        vg = card * (big_n - card) / (big_n - 1) / big_n**2 * var / mean**2
        z = (g - eg) / np.sqrt(vg)
    z[~np.isfinite(z)] = np.nan
    for a in (g, eg, vg, z):
        a[islands] = np.nan
    cols = {"G": g, "E_G": eg, "V_G": vg, "z": z, "p": _pvalue(z)}
    if permutations:
        ge, le = _conditional_counts(off, y, int(permutations), _rng(seed))
        larger = np.where(denom >= 0, ge, le)
        p_sim = _fold(larger, int(permutations))
        p_sim[islands] = np.nan
        p_sim[np.isnan(z)] = np.nan
        cols["p_sim"] = p_sim
    return _frame(cols, out_ids, periods, was_1d)


def local_moran(values: npt.ArrayLike, weights: Any, *, transform: str = "R", permutations: int = 0,
                seed: int | np.random.Generator | None = None,
                ids: Iterable[Hashable] | None = None) -> pd.DataFrame:
    """Local Moran's I (Anselin 1995) as ``esda.Moran_Local``, vectorised over periods.

    Self-weights (a non-zero diagonal) are ignored. ``transform`` is "R" (row-standardised, esda's
    default) or "B". Returns a DataFrame indexed by area id with ``I``, ``E_I``, ``V_I`` (total
    randomisation, esda's ``EI``/``VI``), ``z = (I - E_I) / sqrt(V_I)``, ``p`` (two-sided normal),
    ``quadrant`` (esda's ``q``: 1 high-high, 2 low-high, 3 low-low, 4 high-low; 0 for islands and
    zero-variance periods) and, with permutations, ``p_sim`` (esda's folded pseudo p-value). The
    analytic z is provided for completeness; esda and Sokal et al. (1998) recommend the
    permutation inference for Local Moran. For an n x T input the columns are
    (statistic, period).
    """
    w = SpatialWeights.coerce(weights)
    y, out_ids, periods, was_1d = _prepare_values(values, w, ids)
    n = w.n
    off, _ = _weights_for(w, transform, False)
    with np.errstate(divide="ignore", invalid="ignore"):
        zs = (y - y.mean(axis=0)) / y.std(axis=0)
    lag = off @ zs
    den = (zs * zs).sum(axis=0, keepdims=True)
    wi = _row_sums(off)[:, None]
    wi2 = _row_sums(off.multiply(off))[:, None]
    n1 = n - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        i_stat = n1 * zs * lag / den
        m2 = den / n
        m4 = (zs**4).sum(axis=0, keepdims=True) / n
        b2 = m4 / m2**2
        ei = np.broadcast_to(-wi / n1, y.shape).copy()
        vi = wi2 * (n - b2) / n1 + (wi**2 - wi2) * (2 * b2 - n) / (n1 * (n - 2)) - (wi / n1) ** 2
        z = (i_stat - ei) / np.sqrt(vi)
    z[~np.isfinite(z)] = np.nan
    quad = np.where(zs > 0, np.where(lag > 0, 1, 4), np.where(lag > 0, 2, 3))
    islands = w.islands
    for a in (i_stat, ei, vi, z):
        a[islands] = np.nan
    bad = islands[:, None] | ~np.isfinite(zs)
    quad = np.where(bad, 0, quad)
    i_stat[~np.isfinite(zs)] = np.nan
    cols = {"I": i_stat, "E_I": ei, "V_I": vi, "z": z, "p": _pvalue(z), "quadrant": quad}
    if permutations:
        perms = int(permutations)
        safe = np.where(np.isfinite(zs), zs, 0.0)
        ge, le = _conditional_counts(off, safe, perms, _rng(seed))
        larger = np.where(zs > 0, ge, np.where(zs < 0, le, perms))
        p_sim = _fold(larger, perms)
        p_sim[bad] = np.nan
        cols["p_sim"] = p_sim
    return _frame(cols, out_ids, periods, was_1d)


def fdr_bh(p: npt.ArrayLike, axis: int = 0) -> np.ndarray:
    """Benjamini-Hochberg (1995) adjusted p-values ("q-values") along ``axis``.

    ``q_(i) = min_{j >= i} min(1, m p_(j) / j)`` over the ``m`` non-NaN p-values of each slice
    (the ``pvals_corrected`` of ``statsmodels.stats.multitest.multipletests(method="fdr_bh")``).
    NaN p-values (islands, zero-variance periods) are left out of the family and stay NaN. For a
    matrix of areas x periods the default ``axis=0`` corrects each period separately.
    """
    p = np.asarray(p, dtype=np.float64)
    if p.ndim == 0:
        raise ValueError("p must be an array of p-values")
    finite = p[np.isfinite(p)]
    if ((finite < 0) | (finite > 1)).any():
        raise ValueError("p-values must lie in [0, 1]")
    moved = np.moveaxis(p, axis, 0)
    flat = moved.reshape(moved.shape[0], -1)
    order = np.argsort(flat, axis=0, kind="stable")  # NaN sorts last
    ps = np.take_along_axis(flat, order, axis=0)
    m = np.isfinite(flat).sum(axis=0, keepdims=True)
    rank = np.arange(1, flat.shape[0] + 1)[:, None]
    with np.errstate(invalid="ignore"):
        q = np.where(np.isfinite(ps), ps * m / rank, np.inf)
    q = np.minimum.accumulate(q[::-1], axis=0)[::-1]
    q = np.minimum(q, 1.0)
    q[~np.isfinite(ps)] = np.nan
    out = np.empty_like(flat)
    np.put_along_axis(out, order, q, axis=0)
    return np.moveaxis(out.reshape(moved.shape), 0, axis)


def fdr_significant(p: npt.ArrayLike, alpha: float = 0.05, axis: int = 0) -> np.ndarray:
    """Boolean mask of the p-values rejected by Benjamini-Hochberg at FDR ``alpha`` (NaN: False)."""
    if not 0 < alpha < 1:
        raise ValueError("alpha must be between 0 and 1")
    p = np.asarray(p, dtype=np.float64)
    moved = np.moveaxis(p, axis, 0)
    flat = moved.reshape(moved.shape[0], -1)
    if flat.shape[1] > 1000:
        q = fdr_bh(p, axis=axis)
        rejected: np.ndarray = np.nan_to_num(q, nan=np.inf) <= alpha
        return rejected
    finite = flat[np.isfinite(flat)]
    if ((finite < 0) | (finite > 1)).any():
        raise ValueError("p-values must lie in [0, 1]")
    # Step-up rule without a full sort: only p-values <= alpha can be rejected, and the rank of
    # such a p-value among all m equals its rank among them. Rejected: p <= p_(k*), with
    # k* = max{i : p_(i) <= i alpha / m} (equivalent to q <= alpha).
    out = np.zeros(flat.shape, dtype=bool)
    m = np.isfinite(flat).sum(axis=0)
    for j in range(flat.shape[1]):
        col = flat[:, j]
        cand = np.sort(col[col <= alpha])
        ok = np.flatnonzero(cand <= np.arange(1, len(cand) + 1) * alpha / m[j])
        if len(ok):
            out[:, j] = col <= cand[ok[-1]]
    return np.moveaxis(out.reshape(moved.shape), 0, axis)


def gi_bin(z: npt.ArrayLike, p: npt.ArrayLike, *, fdr: bool = True, axis: int = 0) -> np.ndarray:
    """ArcGIS-style hot/cold bins: +/-3, +/-2, +/-1 for 99%, 95%, 90% confidence, else 0.

    With ``fdr=True`` the confidence levels apply to Benjamini-Hochberg q-values (computed along
    ``axis``, i.e. per period); ``z`` gives the sign. NaN z gives 0.
    """
    zs = np.asarray(z, dtype=np.float64)
    ps = np.asarray(p, dtype=np.float64)
    q = np.nan_to_num(fdr_bh(ps, axis=axis) if fdr else ps, nan=1.0)
    level = np.select([q <= 0.01, q <= 0.05, q <= 0.10], [3, 2, 1], 0)
    return np.asarray(np.sign(np.nan_to_num(zs)) * level, dtype=np.int8)
