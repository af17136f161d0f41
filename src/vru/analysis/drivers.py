"""Drivers of violence: correlations, top-N overlap and count regression (the "City Hall analysis").

Pure functions: pandas objects in, results out (no I/O). Every result carries the method and the
data stated in words (``describe()``) and the caveat :data:`CAVEAT`. The full statement of the
methods, with the defaults and their reasons, is in ``docs/methods-drivers.md``.

- :func:`correlation`: Pearson's r or Spearman's rank correlation rho with a confidence interval
  from Fisher's z transformation, ``z = atanh(r)``, ``CI = tanh(z -/+ q SE)`` with ``q`` the
  normal quantile. Pearson: ``SE = 1 / sqrt(n - 3)`` (as ``scipy.stats.pearsonr``'s
  ``confidence_interval``). Spearman: the Fisher SE understates the sampling variance of rho, so
  ``SE = sqrt((1 + rho^2 / 2) / (n - 3))`` (Bonett & Wright 2000, *Psychometrika* 65:23-28), or
  optionally ``sqrt(1.06 / (n - 3))`` (Fieller, Hartley & Pearson 1957). p-values are two-sided
  from ``t = r sqrt((n - 2) / (1 - r^2))`` on ``n - 2`` degrees of freedom, exactly as
  ``scipy.stats.pearsonr`` and ``scipy.stats.spearmanr``. Spearman's rho is Pearson's r of the
  average ranks (ties share their mean rank).
- :func:`top_n_overlap`: "k of the n areas with the largest X are in the top n for Y". The top n
  of a variable is taken by value, largest first, ties broken by area id (ascending) so the result
  is reproducible; because a tie at the cut-off makes the set ambiguous, the smallest and largest
  ``k`` over every way of breaking the ties are reported too (``k_min``, ``k_max``). Exact
  p-value: under the null hypothesis that the ranking by Y is unrelated to the ranking by X, the
  top n by Y is a uniformly random n-subset of the ``M`` areas, so ``k`` is hypergeometric and
  ``p = P(K >= k) = sum_{j>=k} C(n, j) C(M - n, n - j) / C(M, n)``. Check: a seeded permutation
  p-value, ``(1 + #{k_b >= k}) / (1 + B)`` over ``B`` random permutations of Y's values among the
  areas (ties broken as for the observed data).
- :func:`count_regression`: Poisson and negative binomial (NB2, ``Var = mu + alpha mu^2``)
  regression of a count on predictors with ``log(exposure)`` as an offset (so coefficients are
  log rate ratios per resident), fitted by maximum likelihood with statsmodels (``GLM`` with the
  Poisson family; ``discrete.NegativeBinomial`` for NB2, which estimates ``alpha``), with robust
  sandwich standard errors (``HC0`` by default: Huber-White, valid under misspecification of the
  variance; Cameron & Trivedi 2013, s. 2.7 and 3.3). Results are reported as incidence rate ratios
  ``exp(b)`` with Wald confidence intervals.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

CAVEAT = (
    "Correlation is not causation: areas with more unemployment or deprivation differ from others "
    "in many ways (population density, age, policing, night-time economy, visitors), any of which "
    "may drive both; an association between areas says nothing about individuals (the ecological "
    "fallacy)."
)

SPEARMAN_SE = ("bonett-wright", "fieller")


def _with_caveat(statement: str, caveat: bool) -> str:
    """A result's statement in words, followed by :data:`CAVEAT` unless ``caveat`` is False."""
    return statement + (f" {CAVEAT}" if caveat else "")


def _pair(x: pd.Series, y: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Align two series on their index and drop pairs with a missing value."""
    if not isinstance(x, pd.Series) or not isinstance(y, pd.Series):
        raise TypeError("x and y must be pandas Series indexed by area")
    if x.index.has_duplicates or y.index.has_duplicates:
        raise ValueError("x and y must have unique area ids")
    df = pd.concat([x.astype("float64").rename("x"), y.astype("float64").rename("y")],
                   axis=1, join="inner")
    df = df[np.isfinite(df["x"]) & np.isfinite(df["y"])]
    return df["x"], df["y"]


# --- correlation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Correlation:
    """A correlation coefficient with its confidence interval and two-sided p-value."""

    method: str  # "pearson" or "spearman"
    x: str
    y: str
    n: int
    r: float
    ci_low: float
    ci_high: float
    p_value: float
    conf: float
    se_z: float  # standard error on Fisher's z scale
    se_method: str

    def describe(self, caveat: bool = True) -> str:
        name = "Pearson's r" if self.method == "pearson" else "Spearman's rank correlation rho"
        return _with_caveat(
            f"{name} between {self.x} and {self.y} over {self.n} areas is {self.r:.2f} "
            f"({100 * self.conf:.0f}% CI {self.ci_low:.2f} to {self.ci_high:.2f}; two-sided "
            f"p = {self.p_value:.3g}). Interval from Fisher's z with {self.se_method}.", caveat)

    def as_dict(self) -> dict:
        return asdict(self)


def _t_pvalue(r: float, n: int) -> float:
    if abs(r) >= 1.0:
        return 0.0
    t = r * math.sqrt((n - 2) / (1.0 - r * r))
    return float(2.0 * stats.t.sf(abs(t), n - 2))


def correlation(x: pd.Series, y: pd.Series, *, method: str = "spearman", conf: float = 0.95,
                spearman_se: str = "bonett-wright") -> Correlation:
    """Correlation between two area series (aligned on their index; pairs with NaN dropped).

    Raises ``ValueError`` with fewer than 4 complete pairs (the Fisher SE needs ``n > 3``) or when
    either variable is constant.
    """
    if method not in ("pearson", "spearman"):
        raise ValueError(f"unknown method {method!r}: 'pearson' or 'spearman'")
    if spearman_se not in SPEARMAN_SE:
        raise ValueError(f"unknown Spearman SE {spearman_se!r}: one of {SPEARMAN_SE}")
    if not 0 < conf < 1:
        raise ValueError("conf must be between 0 and 1")
    xs, ys = _pair(x, y)
    n = len(xs)
    if n < 4:
        raise ValueError(f"a correlation needs at least 4 complete pairs, got {n}")
    a, b = xs.to_numpy(), ys.to_numpy()
    if method == "spearman":
        a, b = stats.rankdata(a), stats.rankdata(b)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        raise ValueError(f"{x.name} or {y.name}: a constant variable has no correlation")
    ac, bc = a - a.mean(), b - b.mean()
    r = float(np.dot(ac, bc) / math.sqrt(np.dot(ac, ac) * np.dot(bc, bc)))
    r = max(-1.0, min(1.0, r))
    if method == "pearson":
        se, se_text = 1.0 / math.sqrt(n - 3), "SE = 1/sqrt(n-3)"
    elif spearman_se == "bonett-wright":
        se = math.sqrt((1.0 + r * r / 2.0) / (n - 3))
        se_text = "the Bonett-Wright SE sqrt((1 + rho^2/2)/(n-3))"
    else:
        se, se_text = math.sqrt(1.06 / (n - 3)), "the Fieller SE sqrt(1.06/(n-3))"
    q = stats.norm.ppf(0.5 + conf / 2.0)
    if abs(r) == 1.0:
        lo = hi = r
    else:
        z = math.atanh(r)
        lo, hi = math.tanh(z - q * se), math.tanh(z + q * se)
    return Correlation(method, str(x.name), str(y.name), n, r, lo, hi, _t_pvalue(r, n), conf, se,
                       se_text)


def correlation_table(data: pd.DataFrame, pairs: list[tuple[str, str]], *,
                      methods: tuple[str, ...] = ("spearman", "pearson"),
                      conf: float = 0.95) -> pd.DataFrame:
    """One row per (x, y, method): n, r, CI and p (columns of :class:`Correlation`)."""
    rows = []
    for xc, yc in pairs:
        for m in methods:
            rows.append(correlation(data[xc].rename(xc), data[yc].rename(yc), method=m,
                                    conf=conf).as_dict())
    return pd.DataFrame(rows)


# --- top-N overlap -----------------------------------------------------------------------------


def top_n(values: pd.Series, n: int) -> list:
    """The ``n`` area ids with the largest values, ties broken by area id (ascending)."""
    s = values.dropna()
    if len(s) < n:
        raise ValueError(f"top {n} asked of {len(s)} areas")
    order = pd.DataFrame({"v": s.to_numpy(), "id": s.index}).sort_values(
        ["v", "id"], ascending=[False, True], kind="mergesort")
    return list(order["id"].iloc[:n])


def _tie_sets(s: pd.Series, n: int) -> tuple[set, set, int]:
    """(sure, tied, r): areas strictly above the n-th value, areas equal to it, and how many of
    the tied areas a top-n set must contain."""
    cut = s.sort_values(ascending=False).iloc[n - 1]
    sure = set(s.index[s > cut])
    tied = set(s.index[s == cut])
    return sure, tied, n - len(sure)


def overlap_range(x: pd.Series, y: pd.Series, n: int, n_y: int | None = None) -> tuple[int, int]:
    """Smallest and largest ``|top_n(x) & top_n_y(y)|`` over every way of breaking ties at the cut-offs.

    With ``Sx``/``Tx`` the areas strictly above / tied at the n-th value of x (``rx`` of the tied
    ones to be chosen), and likewise for y, the overlap is ``|Sx & Sy|`` plus the chosen tied
    areas of one variable that are sure or chosen in the other. Largest: x first takes tied areas
    in ``Sy``, y those in ``Sx``, and the remaining choices meet in ``Tx & Ty``. Smallest: each
    first takes tied areas that are neither sure nor tied in the other, then ``Tx & Ty`` (which
    only counts if both take it). Checked against enumeration in the tests.
    """
    sx, tx, rx = _tie_sets(x, n)
    sy, ty, ry = _tie_sets(y, n if n_y is None else n_y)
    fixed = len(sx & sy)
    a1, a2 = len(tx & sy), len(tx & ty)
    a3 = len(tx) - a1 - a2
    b1 = len(ty & sx)
    b3 = len(ty) - b1 - a2
    ux, uy = min(rx, a1), min(ry, b1)
    kmax = fixed + ux + uy + min(rx - ux, ry - uy, a2)
    cx = min(a2, max(0, rx - a3))  # shared tied areas x cannot avoid
    forced_x = max(0, rx - a3 - a2)
    forced_y = max(0, ry - b3 - (a2 - cx))
    kmin = fixed + forced_x + forced_y
    return kmin, kmax


@dataclass(frozen=True)
class Overlap:
    """Top-n overlap of two area rankings, with exact and permutation p-values."""

    x: str
    y: str
    n_top: int  # top n by x
    n_top_y: int  # top n by y
    n_areas: int
    k: int
    k_min: int
    k_max: int
    expected: float  # n_top n_top_y / M under the null
    p_exact: float  # hypergeometric P(K >= k)
    p_permutation: float
    permutations: int
    seed: int
    top_x: list = field(default_factory=list)
    top_y: list = field(default_factory=list)
    common: list = field(default_factory=list)

    def describe(self, caveat: bool = True) -> str:
        ties = "" if self.k_min == self.k_max else (
            f" Ties at the cut-off make the top sets ambiguous: k ranges from {self.k_min} to "
            f"{self.k_max} depending on how they are broken (reported: ties broken by area code).")
        return _with_caveat(
            f"{self.k} of the {self.n_top} areas with the largest {self.x} are in the top "
            f"{self.n_top_y} for {self.y} ({self.n_areas} areas with both values; "
            f"{self.expected:.1f} expected by chance). Exact hypergeometric p = {self.p_exact:.3g} "
            f"(the probability of an overlap of {self.k} or more if the two rankings were "
            f"unrelated); permutation p = {self.p_permutation:.3g} ({self.permutations:,} "
            f"permutations, seed {self.seed}).{ties}", caveat)

    def as_dict(self) -> dict:
        return asdict(self)


def hypergeometric_p(k: int, n_areas: int, n_top: int, n_top_y: int | None = None) -> float:
    """P(K >= k): overlap of a fixed n_top-subset with a uniformly random n_top_y-subset of n_areas."""
    n_y = n_top if n_top_y is None else n_top_y
    return float(stats.hypergeom.sf(k - 1, n_areas, n_y, n_top))


def permutation_p(x: pd.Series, y: pd.Series, n: int, n_y: int | None = None, *,
                  permutations: int = 10_000, seed: int = 0) -> tuple[float, int]:
    """Permutation p-value of the top-n overlap: y's values shuffled among the areas.

    Returns ``(p, k_observed)``. Each permutation's top ``n_y`` by y uses the same rule as the
    data (largest value first, ties by area id). Seeded (``numpy.random.default_rng(seed)``).
    """
    n_y = n if n_y is None else n_y
    if permutations < 1:
        raise ValueError("permutations must be at least 1")
    xs, ys = _pair(x, y)
    m = len(xs)
    ids = np.array(sorted(xs.index))
    xs, ys = xs.loc[ids], ys.loc[ids]
    in_x = np.isin(ids, top_n(xs, n))
    k_obs = int(in_x[np.isin(ids, top_n(ys, n_y))].sum())
    vrank = stats.rankdata(-ys.to_numpy(), method="dense").astype(np.int64)  # 1 = largest value
    rng = np.random.default_rng(seed)
    pos = np.arange(m)
    chunk = max(1, min(permutations, 2_000_000 // max(m, 1)))
    hits = done = 0
    while done < permutations:
        b = min(chunk, permutations - done)
        perm = rng.permuted(np.tile(vrank, (b, 1)), axis=1)  # value ranks assigned to areas
        key = perm * m + pos  # unique keys: equal values ordered by area position (= id order)
        top = np.argpartition(key, n_y - 1, axis=1)[:, :n_y]
        hits += int((in_x[top].sum(axis=1) >= k_obs).sum())
        done += b
    return (1 + hits) / (1 + permutations), k_obs


def top_n_overlap(x: pd.Series, y: pd.Series, n: int = 10, *, n_y: int | None = None,
                  permutations: int = 10_000, seed: int = 0) -> Overlap:
    """How many of the top ``n`` areas by ``x`` are in the top ``n_y`` (default ``n``) by ``y``.

    Only areas with both values count (``M`` = their number). Raises ``ValueError`` if fewer than
    ``max(n, n_y)`` such areas exist or ``n < 1``.
    """
    n_y = n if n_y is None else n_y
    if n < 1 or n_y < 1:
        raise ValueError("n and n_y must be at least 1")
    xs, ys = _pair(x, y)
    m = len(xs)
    if m < max(n, n_y):
        raise ValueError(f"top {max(n, n_y)} overlap needs at least that many areas with both "
                         f"values, got {m}")
    tx, ty = top_n(xs, n), top_n(ys, n_y)
    common = sorted(set(tx) & set(ty))
    k = len(common)
    kmin, kmax = overlap_range(xs, ys, n, n_y)
    p_perm, k_perm = permutation_p(xs, ys, n, n_y, permutations=permutations, seed=seed)
    if k_perm != k:  # pragma: no cover - the two computations share the tie rule
        raise AssertionError("top-n overlap: inconsistent tie breaking")
    return Overlap(str(x.name), str(y.name), n, n_y, m, k, kmin, kmax, n * n_y / m,
                   hypergeometric_p(k, m, n, n_y), p_perm, permutations, seed, tx, ty, common)


# --- count regression --------------------------------------------------------------------------

FAMILIES = ("poisson", "negbin")


@dataclass
class Regression:
    """A fitted count regression: coefficient table plus fit statistics and a description."""

    family: str
    outcome: str
    exposure: str
    predictors: list[str]
    n: int
    cov_type: str
    table: pd.DataFrame  # term, coef, se, z, p, ci_low, ci_high, irr, irr_low, irr_high
    llf: float
    aic: float
    alpha: float | None  # NB2 dispersion (None for Poisson)
    pearson_dispersion: float  # Pearson chi2 / (n - p): > 1 means overdispersion
    standardised: bool
    conf: float = 0.95

    def describe(self, caveat: bool = True, names: dict[str, str] | None = None) -> str:
        """The model in words; ``names`` maps column names to readable ones."""
        nm = names or {}
        fam = ("Poisson" if self.family == "poisson"
               else f"negative binomial (NB2, estimated alpha = {self.alpha:.3g})")
        per = "one standard deviation of" if self.standardised else "one unit of"
        errs = ("model-based standard errors" if self.cov_type == "nonrobust"
                else f"{self.cov_type} robust (sandwich) standard errors")
        return _with_caveat(
            f"{fam} regression of {nm.get(self.outcome, self.outcome)} on "
            f"{', '.join(nm.get(x, x) for x in self.predictors)} over {self.n} areas, with "
            f"log({nm.get(self.exposure, self.exposure)}) as an offset, fitted by maximum "
            f"likelihood (statsmodels), {errs}. Incidence rate "
            f"ratios are per {per} each predictor, holding the others fixed; Pearson dispersion "
            f"{self.pearson_dispersion:.2f}.", caveat)

    def as_dict(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "table"}
        d["table"] = self.table.to_dict(orient="records")
        return d


def _design(data: pd.DataFrame, outcome: str, predictors: list[str], exposure: str,
            standardise: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str], pd.DataFrame]:
    cols = [outcome, exposure, *predictors]
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise ValueError(f"columns not in the data: {missing}")
    if len(set(predictors)) != len(predictors) or outcome in predictors:
        raise ValueError("predictors must be distinct and exclude the outcome")
    d = data[cols].astype("float64")
    d = d[np.isfinite(d).all(axis=1)]
    if (d[outcome] < 0).any() or (d[outcome] != np.round(d[outcome])).any():
        raise ValueError(f"{outcome}: a count outcome must be whole numbers >= 0")
    if (d[exposure] <= 0).any():
        raise ValueError(f"{exposure}: exposure must be positive")
    if len(d) <= len(predictors) + 1:
        raise ValueError(f"{len(d)} complete rows cannot fit {len(predictors) + 1} coefficients")
    x = d[predictors].to_numpy()
    if standardise:
        sd = x.std(axis=0, ddof=1)
        if (sd == 0).any():
            raise ValueError(f"constant predictor {predictors[int(np.argmin(sd))]!r}")
        x = (x - x.mean(axis=0)) / sd
    xmat = np.column_stack([np.ones(len(d)), x])
    if np.linalg.matrix_rank(xmat) < xmat.shape[1]:
        raise ValueError("the predictors are collinear (the design matrix is rank deficient)")
    return d[outcome].to_numpy(), xmat, np.log(d[exposure].to_numpy()), ["const", *predictors], d


def count_regression(data: pd.DataFrame, outcome: str, predictors: list[str], *, exposure: str,
                     family: str = "poisson", cov_type: str = "HC0", standardise: bool = False,
                     conf: float = 0.95) -> Regression:
    """Poisson or NB2 regression of ``outcome`` (a count) on ``predictors``, offset ``log(exposure)``.

    Rows with any missing value are dropped. ``standardise``: predictors are centred and divided
    by their sample SD first, so each rate ratio is per SD. ``cov_type``: any statsmodels
    heteroscedasticity-robust type (``HC0`` .. ``HC3``) or ``"nonrobust"``.
    """
    import statsmodels.api as sm  # a slow import, needed only here

    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}: one of {FAMILIES}")
    y, xmat, offset, names, d = _design(data, outcome, predictors, exposure, standardise)
    if family == "poisson":
        res = sm.GLM(y, xmat, family=sm.families.Poisson(), offset=offset).fit(cov_type=cov_type)
        params, bse, alpha = res.params, res.bse, None
        mu = res.mu
        llf, aic = float(res.llf), float(res.aic)
        pvals = res.pvalues
    else:
        mod = sm.NegativeBinomial(y, xmat, loglike_method="nb2", offset=offset)
        res = mod.fit(cov_type=cov_type, disp=0, maxiter=200, method="bfgs")
        if not res.mle_retvals.get("converged", True):
            res = mod.fit(cov_type=cov_type, disp=0, maxiter=500, method="newton",
                          start_params=res.params)
        if not res.mle_retvals.get("converged", True):
            raise RuntimeError("negative binomial fit did not converge")
        params, bse = res.params[:-1], res.bse[:-1]
        pvals = res.pvalues[:-1]
        alpha = float(res.params[-1])
        mu = np.exp(xmat @ params + offset)
        llf, aic = float(res.llf), float(res.aic)
    var = mu if family == "poisson" else mu + alpha * mu * mu
    dispersion = float(((y - mu) ** 2 / var).sum() / (len(y) - xmat.shape[1]))
    q = stats.norm.ppf(0.5 + conf / 2.0)
    params, bse = np.asarray(params), np.asarray(bse)
    tab = pd.DataFrame({
        "term": names,
        "coef": params,
        "se": bse,
        "z": params / bse,
        "p": np.asarray(pvals),
        "ci_low": params - q * bse,
        "ci_high": params + q * bse,
    })
    tab["irr"] = np.exp(tab["coef"])
    tab["irr_low"] = np.exp(tab["ci_low"])
    tab["irr_high"] = np.exp(tab["ci_high"])
    return Regression(family, outcome, exposure, list(predictors), len(d), cov_type, tab, llf, aic,
                      alpha, dispersion, standardise, conf)


# --- building the measures of the City Hall statements --------------------------------------


def change(values: pd.DataFrame, start, end, *, kind: str = "difference") -> pd.Series:
    """Change per area between two columns of a wide frame (areas x periods).

    ``kind``: ``"difference"`` (end - start, e.g. percentage points for rates) or ``"percent"``
    (100 (end - start) / start; NaN where start is 0).
    """
    a, b = values[start].astype("float64"), values[end].astype("float64")
    if kind == "difference":
        return b - a
    if kind == "percent":
        return 100.0 * (b - a) / a.where(a != 0)
    raise ValueError(f"unknown change kind {kind!r}: 'difference' or 'percent'")


def sum_to_parent(values: pd.DataFrame, parent: pd.Series) -> pd.DataFrame:
    """Sum area values (rows indexed by area id) to parents (``parent``: area id -> parent id).

    Areas without a parent are an error (never silently dropped).
    """
    p = parent.reindex(values.index)
    if p.isna().any():
        raise ValueError(f"areas with no parent, e.g. {list(values.index[p.isna()][:3])}")
    return values.groupby(p.to_numpy()).sum(min_count=1).rename_axis(parent.name or "parent")


def weighted_mean_to_parent(values: pd.DataFrame, weights: pd.Series, parent: pd.Series) -> pd.DataFrame:
    """Weighted mean of area values by parent (e.g. population-weighted IMD domain scores).

    This is how MHCLG's local authority "average score" summarises LSOA scores (population
    weighted; MHCLG used mid-2015 populations).
    """
    w = weights.reindex(values.index).astype("float64")
    p = parent.reindex(values.index)
    if p.isna().any() or w.isna().any():
        raise ValueError("every area needs a parent and a weight")
    num = values.mul(w, axis=0).groupby(p.to_numpy()).sum()
    den = w.groupby(p.to_numpy()).sum()
    return num.div(den, axis=0).rename_axis(parent.name or "parent")


def overlap_grid(rises: dict[str, pd.Series], outcomes: dict[str, pd.Series], *, n: int = 10,
                 n_y: int | None = None, permutations: int = 10_000, seed: int = 0,
                 conf: float = 0.95) -> pd.DataFrame:
    """Top-n overlap and both correlations for every (x measure, y measure) pair.

    One row per pair: ``x``, ``y``, ``n_areas``, ``k`` (with ``k_min``/``k_max`` over tie
    breaks), ``expected``, ``p_exact``, ``p_permutation``, Spearman ``rho`` and Pearson ``r``
    with their confidence intervals and p-values, and ``common`` (the area ids in both top sets).
    """
    rows = []
    for xn, xs in rises.items():
        for yn, ys in outcomes.items():
            o = top_n_overlap(xs.rename(xn), ys.rename(yn), n, n_y=n_y,
                              permutations=permutations, seed=seed)
            s = correlation(xs.rename(xn), ys.rename(yn), method="spearman", conf=conf)
            r = correlation(xs.rename(xn), ys.rename(yn), method="pearson", conf=conf)
            rows.append({
                "x": xn, "y": yn, "n_areas": o.n_areas, "n_top": o.n_top, "n_top_y": o.n_top_y,
                "k": o.k, "k_min": o.k_min, "k_max": o.k_max, "expected": o.expected,
                "p_exact": o.p_exact, "p_permutation": o.p_permutation,
                "rho": s.r, "rho_low": s.ci_low, "rho_high": s.ci_high, "rho_p": s.p_value,
                "r": r.r, "r_low": r.ci_low, "r_high": r.ci_high, "r_p": r.p_value,
                "common": o.common,
            })
    return pd.DataFrame(rows)
