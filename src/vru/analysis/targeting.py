"""Targeting: choosing the neighbourhoods to fund, and allocating a budget over years.

Pure functions on pandas objects (no I/O). The methods, defaults and their reasons are written
down in ``docs/methods-drivers.md`` ("Targeting"); in brief:

**Candidates** are LSOAs, wards, or clusters of contiguous LSOAs (:func:`grow_clusters`). Every
candidate is described by an *area frame* (one row per area: ``borough``, ``population``,
``youth`` residents aged 16-29, ``violence`` offences per year, ``imd`` score, ``sustained``
score); wards and clusters are aggregated from their LSOAs by :func:`aggregate` (counts summed,
IMD score and sustained score population-weighted, as MHCLG averages LSOA scores).

**Features** (:func:`features`), one per scoring component:

- ``sustained``: high *and sustained* violence. The intended input is the emerging hot spot
  analysis (:mod:`vru.analysis.emerging`): the share of periods in which the area was a
  significant Gi* hot spot (:func:`sustained_from_bins`). If no such score is given, the
  fallback :func:`years_in_top_decile` is used: the share of years in which the area's violence
  rate was in the top 10% of areas.
- ``harm``: offences per 1,000 residents of the violence measure chosen by the caller (a proxy
  for harm until crime-harm weights are applied to small-area data).
- ``deprivation``: IMD 2019 score (higher = more deprived).
- ``youth``: share of residents aged 16-29 (``youth="count"``: the number of them).

**Score** (:func:`score`): each feature is winsorised at its 1st and 99th percentiles (per-resident
rates of small or central areas are extreme) and standardised to mean 0, SD 1 across the
candidates; the score is the weighted sum with :data:`DEFAULT_WEIGHTS` (normalised to sum to 1).

**Selection** (:func:`select`): the ``n`` highest-scoring candidates subject to a minimum
population, at most ``max_per_borough`` per borough and, for clusters, no shared LSOA. Greedy by
score. With at most one per borough and candidates confined to one borough (LSOAs, wards, and
clusters as grown here) greedy is *exact*: the optimum takes each borough's best eligible
candidate and then the ``n`` best of those, which is what greedy picks. With more per borough and
overlapping clusters the problem is a weighted independent-set problem and greedy is a heuristic
(flagged in the result).

**Allocation** (:func:`allocate`): the budget is split over years (equal shares by default), each
year's money over the chosen areas in proportion to need, capped per area per year; money above a
cap is redistributed to the uncapped areas in proportion to need (water-filling) until no area
exceeds its cap. Amounts are integer pence; rounding is by largest remainder, so every year sums
exactly to its budget and the years sum exactly to the total. Infeasible requests raise
:class:`InfeasibleError`.

**Sensitivity** (:func:`sensitivity`): weights drawn from a Dirichlet distribution centred on the
defaults (``alpha = concentration x weights``), seeded; how often each candidate (and borough) is
shortlisted.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from vru import format as fmt
from vru.errors import VRUError
from vru.model.weights import SpatialWeights

COMPONENTS = ("sustained", "harm", "deprivation", "youth")
#: Default weights: sustained violence first (the VRU funds where violence is "high and
#: sustained"), then harm and deprivation equally, then the youth population.
DEFAULT_WEIGHTS: dict[str, float] = {"sustained": 0.35, "harm": 0.25, "deprivation": 0.25,
                                     "youth": 0.15}
WINSOR = (0.01, 0.99)
AREA_COLUMNS = ("borough", "population", "youth", "violence", "imd")

class InfeasibleError(VRUError, ValueError):
    """The constraints cannot be met (too few eligible areas, caps too low for the budget...)."""


# --- sustained violence -----------------------------------------------------------------------


def years_in_top_decile(rates: pd.DataFrame, share: float = 0.1) -> pd.Series:
    """Fallback sustained-violence score: the share of periods an area is in the top ``share``.

    ``rates``: areas x periods (e.g. violence per 1,000 residents per year). In each period the
    top ``ceil(share x m)`` of the ``m`` areas with a value are "in the top decile" (areas tied
    with the last one are included). Periods where an area has no value are skipped for it.
    Returns a value in [0, 1] per area (NaN if it has no value at all).
    """
    if not 0 < share < 1:
        raise ValueError("share must be between 0 and 1")
    r = rates.astype("float64")
    m = r.notna().sum(axis=0)
    k = np.ceil(share * m)
    rank = r.rank(axis=0, method="min", ascending=False)
    top = (rank <= k).where(r.notna())
    return top.mean(axis=1).rename("sustained")


def sustained_from_bins(bins: pd.DataFrame) -> pd.Series:
    """Sustained-violence score from an emerging hot spot result's ``bins`` (areas x periods:
    +1 significant hot, -1 significant cold, 0 otherwise): the share of periods significantly hot.
    Islands (all-NaN rows) give NaN."""
    b = bins.astype("float64")
    return (b == 1).where(b.notna()).mean(axis=1).rename("sustained")


# --- candidates -------------------------------------------------------------------------------


def _check_area_frame(frame: pd.DataFrame) -> None:
    missing = [c for c in AREA_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"area frame lacks columns {missing}")
    if frame.index.has_duplicates:
        raise ValueError(f"duplicate area ids, e.g. {frame.index[frame.index.duplicated()][0]!r}")
    if (frame["population"] <= 0).any():
        raise ValueError(f"areas with no residents, e.g. {frame.index[frame['population'] <= 0][0]!r}")


def aggregate(frame: pd.DataFrame, membership: pd.DataFrame) -> pd.DataFrame:
    """Area frame of groups (wards, clusters) from an LSOA area frame.

    ``membership``: columns ``group`` and ``area`` (one row per LSOA of each group; groups may
    overlap). Counts (``population``, ``youth``, ``violence``) are summed; ``imd`` and
    ``sustained`` are population-weighted means; ``borough`` must be the same for every member
    (else ``ValueError``); ``members`` holds the tuple of member ids, ``size`` their number.
    """
    _check_area_frame(frame)
    unknown = set(membership["area"]) - set(frame.index)
    if unknown:
        raise ValueError(f"membership names unknown areas, e.g. {sorted(unknown)[:3]}")
    m = membership[["group", "area"]].drop_duplicates()
    f = frame.loc[m["area"].to_numpy()].reset_index(drop=True)
    f["group"] = m["group"].to_numpy()
    f["area"] = m["area"].to_numpy()
    w = f["population"].astype("float64")
    f["_imd"] = f["imd"] * w
    cols = {"population": "sum", "youth": "sum", "violence": "sum", "_imd": "sum",
            "borough": ["min", "max"], "area": [tuple, "size"]}
    if "sustained" in f.columns:
        f["_sus"] = f["sustained"] * w
        cols["_sus"] = "sum"
    g = f.groupby("group", sort=True).agg(cols)
    g.columns = ["_".join(c) if c[1] not in ("sum",) else c[0] for c in g.columns]
    mixed = g["borough_min"] != g["borough_max"]
    if mixed.any():
        raise ValueError(f"group {g.index[mixed][0]!r} spans more than one borough")
    out = pd.DataFrame(index=g.index.rename("area"))
    out["borough"] = g["borough_min"]
    out["population"] = g["population"]
    out["youth"] = g["youth"]
    out["violence"] = g["violence"]
    out["imd"] = g["_imd"] / g["population"]
    if "_sus" in g.columns:
        out["sustained"] = g["_sus"] / g["population"]
    out["members"] = g["area_tuple"].map(lambda t: tuple(sorted(t)))
    out["size"] = g["area_size"].astype("int64")
    return out


def grow_clusters(frame: pd.DataFrame, neighbours, seed_score: pd.Series, *,
                  max_lsoas: int = 8, target_population: int = 10_000,
                  seeds: Sequence | None = None) -> pd.DataFrame:
    """Clusters of contiguous LSOAs within one borough, grown greedily from every seed.

    From each seed, repeatedly add the neighbouring LSOA (same borough; ``neighbours``: a
    :class:`vru.model.weights.SpatialWeights`, e.g. queen contiguity, or at the edge a libpysal
    ``Graph`` or a table of ``focal``/``neighbor`` pairs) with the highest
    ``seed_score`` (ties by id), until the cluster holds ``target_population`` residents or
    ``max_lsoas`` LSOAs, or has no neighbour left. Each cluster is contiguous by construction.
    Identical clusters grown from different seeds are kept once (under the first seed in id
    order). Returns membership (``group``, ``area``); a cluster is named ``"C:" + seed``.
    """
    if max_lsoas < 1:
        raise ValueError("max_lsoas must be at least 1")
    _check_area_frame(frame)
    ids = list(frame.index)
    pos = {a: i for i, a in enumerate(ids)}
    score = seed_score.reindex(frame.index).to_numpy(dtype="float64")
    if np.isnan(score).any():
        raise ValueError("seed_score must be given for every area")
    bor = frame["borough"].to_numpy()
    pop = frame["population"].to_numpy(dtype="float64")
    links = SpatialWeights.coerce(neighbours).neighbours()
    pairs = [(pos[a], pos[b]) for a, nbrs in links.items() if a in pos for b in nbrs if b in pos]
    f = np.array([a for a, _ in pairs], dtype=np.int64)
    t = np.array([b for _, b in pairs], dtype=np.int64)
    same = bor[f] == bor[t]
    f, t = f[same], t[same]
    order = np.argsort(f, kind="stable")
    f, t = f[order], t[order]
    starts = np.searchsorted(f, np.arange(len(ids) + 1))
    adj = [t[starts[i]:starts[i + 1]] for i in range(len(ids))]
    rank = np.empty(len(ids), dtype=np.int64)  # 0 = best score; ties by id order
    rank[np.lexsort((np.arange(len(ids)), -score))] = np.arange(len(ids))
    seen: set[tuple[int, ...]] = set()
    groups, areas = [], []
    seed_ids = ids if seeds is None else list(seeds)
    for s in sorted(pos[x] for x in seed_ids):
        members = {s}
        total = pop[s]
        heap = [(rank[j], j) for j in adj[s]]
        heapq.heapify(heap)
        while len(members) < max_lsoas and total < target_population and heap:
            _, j = heapq.heappop(heap)
            if j in members:
                continue
            members.add(j)
            total += pop[j]
            for k in adj[j]:
                if k not in members:
                    heapq.heappush(heap, (rank[k], k))
        key = tuple(sorted(members))
        if key in seen:
            continue
        seen.add(key)
        name = f"C:{ids[s]}"
        groups += [name] * len(key)
        areas += [ids[i] for i in key]
    return pd.DataFrame({"group": groups, "area": areas})


def features(frame: pd.DataFrame, *, sustained: pd.Series | None = None,
             rates: pd.DataFrame | None = None, youth: str = "share") -> pd.DataFrame:
    """The four scoring features of each candidate, plus ``population``, ``borough``, ``need``.

    ``sustained``: the sustained-violence score per area (e.g. :func:`sustained_from_bins` of the
    emerging hot spot analysis); if ``None``, the frame's ``sustained`` column; if absent too,
    :func:`years_in_top_decile` of ``rates`` (areas x years), in that order of precedence (so the
    caller knows which was used). ``need`` (for the allocation) is the area's ``violence``
    (offences per year).
    """
    _check_area_frame(frame)
    if youth not in ("share", "count"):
        raise ValueError("youth must be 'share' or 'count'")
    out = pd.DataFrame(index=frame.index)
    if sustained is not None:
        out["sustained"] = sustained.reindex(frame.index).astype("float64")
    elif "sustained" in frame.columns:
        out["sustained"] = frame["sustained"].astype("float64")
    elif rates is not None:
        out["sustained"] = years_in_top_decile(rates).reindex(frame.index)
    else:
        raise ValueError("no sustained-violence score and no rates to compute the fallback from")
    out["harm"] = 1000.0 * frame["violence"] / frame["population"]
    out["deprivation"] = frame["imd"].astype("float64")
    out["youth"] = (frame["youth"] / frame["population"] if youth == "share"
                    else frame["youth"].astype("float64"))
    out["population"] = frame["population"]
    out["borough"] = frame["borough"]
    out["need"] = frame["violence"].astype("float64")
    if "members" in frame.columns:
        out["members"] = frame["members"]
    return out


# --- scoring ----------------------------------------------------------------------------------


def normalise_weights(weights: Mapping[str, float]) -> dict[str, float]:
    unknown = set(weights) - set(COMPONENTS)
    if unknown:
        raise ValueError(f"unknown score components {sorted(unknown)}; known: {COMPONENTS}")
    w = {k: float(v) for k, v in weights.items()}
    if any(not math.isfinite(v) or v < 0 for v in w.values()) or sum(w.values()) <= 0:
        raise ValueError("weights must be non-negative numbers, not all zero")
    tot = sum(w.values())
    return {k: w.get(k, 0.0) / tot for k in COMPONENTS}


def standardise(x: pd.Series, winsor: tuple[float, float] | None = WINSOR) -> pd.Series:
    """Winsorise at the given quantiles, then z-score (population SD); a constant gives zeros."""
    v = x.astype("float64")
    if v.isna().any():
        raise ValueError(f"{x.name}: missing values, e.g. area {v.index[v.isna()][0]!r}")
    if winsor is not None:
        lo, hi = np.quantile(v.to_numpy(), winsor)
        v = v.clip(lo, hi)
    sd = v.std(ddof=0)
    if sd == 0 or not np.isfinite(sd):
        return pd.Series(0.0, index=v.index, name=x.name)
    return (v - v.mean()) / sd


def score(feats: pd.DataFrame, weights: Mapping[str, float] = DEFAULT_WEIGHTS, *,
          winsor: tuple[float, float] | None = WINSOR) -> pd.DataFrame:
    """Standardised components (``z_<component>``) and the weighted ``score`` of each candidate."""
    w = normalise_weights(weights)
    out = pd.DataFrame(index=feats.index)
    for c in COMPONENTS:
        out[f"z_{c}"] = standardise(feats[c].rename(c), winsor)
    out["score"] = sum(w[c] * out[f"z_{c}"] for c in COMPONENTS)
    return out


# --- selection --------------------------------------------------------------------------------


def _confined(feats: pd.DataFrame) -> bool:
    """True if no two candidates of different boroughs share a member (so one per borough never
    overlaps)."""
    if "members" not in feats.columns:
        return True
    owner: dict = {}
    for b, mem in zip(feats["borough"], feats["members"], strict=True):
        for a in mem:
            if owner.setdefault(a, b) != b:
                return False
    return True


@dataclass(frozen=True, eq=False)
class Selection:
    """The shortlist of :func:`select`: ``table`` holds the chosen rows of the features with
    ``score`` and ``rank`` (1 = best), sorted by rank; ``exact`` says whether greedy is provably
    optimal here (at most one per borough, candidates confined to one borough)."""

    table: pd.DataFrame
    exact: bool


def select(feats: pd.DataFrame, scores: pd.Series, n: int, *, max_per_borough: int = 1,
           min_population: float = 0) -> Selection:
    """Choose ``n`` candidates by score under the constraints (see the module docstring).

    Returns a :class:`Selection` (the chosen rows and whether greedy is exact here). Raises
    :class:`InfeasibleError` when fewer than ``n`` candidates can be chosen.
    """
    if n < 1 or max_per_borough < 1:
        raise ValueError("n and max_per_borough must be at least 1")
    s = scores.reindex(feats.index)
    if s.isna().any():
        raise ValueError("every candidate needs a score")
    eligible = feats["population"] >= min_population
    per_b = feats[eligible].groupby("borough").size().clip(upper=max_per_borough)
    if per_b.sum() < n:
        raise InfeasibleError(
            f"cannot choose {n} areas: {int(eligible.sum())} of {len(feats)} candidates have at "
            f"least {min_population:,.0f} residents, in {len(per_b)} boroughs, and at most "
            f"{max_per_borough} may come from each borough ({int(per_b.sum())} possible)")
    order = pd.DataFrame({"s": s.to_numpy(), "id": feats.index}).sort_values(
        ["s", "id"], ascending=[False, True], kind="mergesort")["id"]
    has_members = "members" in feats.columns
    used_b: dict = {}
    used_m: set = set()
    chosen = []
    for a in order:
        if not eligible[a] or used_b.get(feats.at[a, "borough"], 0) >= max_per_borough:
            continue
        if has_members:
            mem = set(feats.at[a, "members"])
            if mem & used_m:
                continue
            used_m |= mem
        used_b[feats.at[a, "borough"]] = used_b.get(feats.at[a, "borough"], 0) + 1
        chosen.append(a)
        if len(chosen) == n:
            break
    if len(chosen) < n:
        raise InfeasibleError(f"cannot choose {n} non-overlapping areas under the constraints "
                              f"(found {len(chosen)})")
    out = feats.loc[chosen].copy()
    out["score"] = s.loc[chosen]
    out["rank"] = np.arange(1, n + 1)
    return Selection(out, bool(max_per_borough == 1 and _confined(feats)))


# --- allocation -------------------------------------------------------------------------------


#: The largest whole amount :func:`largest_remainder` and :func:`allocate` share (2**53: above it
#: the floating-point shares lose whole units, and int64 overflows near 2**63).
MAX_TOTAL = 2**53


def largest_remainder(shares: Sequence[float], total: int, caps: Sequence[int] | None = None) -> np.ndarray:
    """Integers summing exactly to ``total``, proportional to ``shares`` (Hamilton's method).

    Each gets ``floor(total x share / sum)``; the pennies left go one each to the largest
    fractional parts (ties to the earlier item). With ``caps``, no item exceeds its cap (the
    real-valued shares must already respect them). ``total`` is at most :data:`MAX_TOTAL`.
    """
    sh = np.asarray(shares, dtype="float64")
    if total < 0 or sh.size == 0 or (sh < 0).any() or sh.sum() <= 0:
        raise ValueError("need a non-negative total and non-negative shares, not all zero")
    if total > MAX_TOTAL:
        raise ValueError(f"a total of at most {MAX_TOTAL:,} (2**53, the largest whole number held "
                         f"exactly in floating point) can be shared, not {total:,}")
    exact = total * sh / sh.sum()
    return _round(exact, int(total), None if caps is None else np.asarray(caps, dtype=np.int64))


def _round(exact: np.ndarray, total: int, caps: np.ndarray | None) -> np.ndarray:
    base = np.floor(exact).astype(np.int64)
    if caps is not None:
        base = np.minimum(base, caps)
    frac = exact - base
    left = total - int(base.sum())
    while left != 0:
        if left > 0:
            room = np.ones(len(base), bool) if caps is None else base < caps
            idx = np.flatnonzero(room)
            if idx.size == 0:
                raise InfeasibleError("caps too low to place the whole amount")
            pick = idx[np.argsort(-frac[idx], kind="stable")[:left]]
            base[pick] += 1
            frac[pick] -= 1
            left -= len(pick)
        else:  # floating error made the floors overshoot: take back from the smallest remainders
            idx = np.flatnonzero(base > 0)
            pick = idx[np.argsort(frac[idx], kind="stable")[:-left]]
            base[pick] -= 1
            frac[pick] += 1
            left += len(pick)
    return base


def water_fill(need: np.ndarray, budget: float, cap: float) -> np.ndarray:
    """Real-valued ``min(cap, lambda x need)`` summing to ``budget`` (needs ``budget <= n x cap``).

    Areas whose proportional share exceeds the cap are fixed at the cap and the rest of the
    budget is shared among the others in proportion to need, repeatedly, until none exceeds it.
    """
    need = np.asarray(need, dtype="float64")
    out = np.zeros_like(need)
    active = np.ones(len(need), bool)
    remaining = float(budget)
    while True:
        lam = remaining / need[active].sum()
        over = active & (lam * need > cap)
        if not over.any():
            out[active] = lam * need[active]
            return out
        out[over] = cap
        remaining -= cap * over.sum()
        active &= ~over
        if not active.any():
            return out


def allocate(need: pd.Series, budget_pence: int, cap_pence: int, *, years: int = 3,
             year_shares: Sequence[float] | None = None) -> pd.DataFrame:
    """Allocate ``budget_pence`` over ``years`` and over areas in proportion to ``need``.

    Each year's budget (``year_shares``, default equal; split by largest remainder) is shared
    over the areas in proportion to need with at most ``cap_pence`` per area per year (excess
    redistributed by :func:`water_fill`), then rounded to whole pence by largest remainder.
    Returns areas x years (columns ``year 1`` ..) in integer pence plus ``total``; every year
    sums exactly to its budget, the whole exactly to ``budget_pence``, no cell exceeds the cap.

    Raises :class:`InfeasibleError` if a year's budget exceeds ``cap x number of areas`` and
    ``ValueError`` for non-integer money, non-positive need or an empty list of areas.
    """
    for name, v in (("budget_pence", budget_pence), ("cap_pence", cap_pence)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer):
            raise ValueError(f"{name} must be a whole number of pence (int), got {v!r}")
    if budget_pence < 0 or cap_pence < 0:
        raise ValueError("budget and cap must not be negative")
    if max(budget_pence, cap_pence) > MAX_TOTAL:
        raise ValueError(f"budget and cap must be at most {MAX_TOTAL:,} pence (2**53), not "
                         f"{max(budget_pence, cap_pence):,}")
    if len(need) == 0:
        raise ValueError("no areas to allocate to")
    nd = need.astype("float64")
    if (~np.isfinite(nd)).any() or (nd <= 0).any():
        bad = nd.index[~(np.isfinite(nd) & (nd > 0))][0]
        raise ValueError(f"need must be positive and finite (area {bad!r}: {need[bad]!r})")
    shares = [1.0] * years if year_shares is None else list(year_shares)
    if years < 1 or len(shares) != years:
        raise ValueError(f"{years} years but {len(shares)} year shares")
    per_year = largest_remainder(shares, int(budget_pence))
    room = int(cap_pence) * len(nd)
    for y, b in enumerate(per_year, 1):
        if b > room:
            raise InfeasibleError(
                f"year {y}: budget £{b / 100:,.2f} exceeds {fmt.plural(len(nd), 'area')} x cap "
                f"£{cap_pence / 100:,.2f} = £{room / 100:,.2f}; raise the cap, add areas or "
                f"move money to another year")
    caps = np.full(len(nd), int(cap_pence), dtype=np.int64)
    out = pd.DataFrame(index=need.index)
    for y, b in enumerate(per_year, 1):
        exact = water_fill(nd.to_numpy(), float(b), float(cap_pence))
        out[f"year {y}"] = _round(np.minimum(exact, caps), int(b), caps)
    out["total"] = out.sum(axis=1).astype(np.int64)
    return out


# --- sensitivity ------------------------------------------------------------------------------


def dirichlet_weights(weights: Mapping[str, float] = DEFAULT_WEIGHTS, *, draws: int = 1000,
                      concentration: float = 20.0, seed: int = 0) -> pd.DataFrame:
    """``draws`` weight vectors ~ Dirichlet(concentration x weights): mean = the weights, SD of
    weight w = sqrt(w (1 - w) / (concentration + 1)). Components with weight 0 stay 0."""
    w = normalise_weights(weights)
    comp = [c for c in COMPONENTS if w[c] > 0]
    rng = np.random.default_rng(seed)
    x = rng.dirichlet([concentration * w[c] for c in comp], size=draws)
    out = pd.DataFrame(0.0, index=range(draws), columns=list(COMPONENTS))
    out[comp] = x
    return out


def sensitivity(z: pd.DataFrame, feats: pd.DataFrame, n: int, *,
                weights: Mapping[str, float] = DEFAULT_WEIGHTS, draws: int = 1000,
                concentration: float = 20.0, seed: int = 0, max_per_borough: int = 1,
                min_population: float = 0, chunk: int = 100) -> dict:
    """How often each candidate is shortlisted when the weights vary (seeded Dirichlet draws).

    ``z``: the standardised components from :func:`score` (``z_<component>`` columns). Returns
    ``{"candidates": share of draws each candidate was chosen (those chosen at least once),
    "boroughs": share of draws each borough had a chosen area, "weights": the draws,
    "picks": draws x n array of the positions (in ``feats``) of the chosen candidates}``.
    """
    wd = dirichlet_weights(weights, draws=draws, concentration=concentration, seed=seed)
    zm = z[[f"z_{c}" for c in COMPONENTS]].reindex(feats.index).to_numpy(dtype="float64")
    hits = np.zeros(len(feats), dtype=np.int64)
    bor_hits: dict = {}
    eligible = (feats["population"] >= min_population).to_numpy()
    boroughs = feats["borough"].to_numpy()
    fast = max_per_borough == 1 and _confined(feats)
    picks: list[np.ndarray] = []
    if fast:
        codes, inv = np.unique(boroughs, return_inverse=True)
        groups = [np.flatnonzero((inv == g) & eligible) for g in range(len(codes))]
        groups = [g for g in groups if g.size]
        if len(groups) < n:
            raise InfeasibleError(f"cannot choose {n} areas: only {len(groups)} boroughs have an "
                                  f"eligible candidate")
        for lo in range(0, draws, chunk):
            w = wd.iloc[lo:lo + chunk].to_numpy().T  # components x draws
            s = zm @ w  # candidates x draws
            best_idx = np.empty((len(groups), s.shape[1]), dtype=np.int64)
            best_val = np.empty((len(groups), s.shape[1]))
            for gi, g in enumerate(groups):
                sub = s[g]
                # ties by candidate order: argmax returns the first maximum
                a = sub.argmax(axis=0)
                best_idx[gi] = g[a]
                best_val[gi] = sub[a, np.arange(sub.shape[1])]
            top = np.argsort(-best_val, axis=0, kind="stable")[:n]  # groups x draws
            chosen = np.take_along_axis(best_idx, top, axis=0)
            np.add.at(hits, chosen.ravel(), 1)
            picks.append(chosen.T)
    else:
        for i in range(draws):
            sc = pd.Series(zm @ wd.iloc[i].to_numpy(), index=feats.index)
            pick = select(feats, sc, n, max_per_borough=max_per_borough,
                          min_population=min_population).table
            pos = feats.index.get_indexer(pick.index)
            hits[pos] += 1
            picks.append(pos[None, :])
    cand = pd.Series(hits / draws, index=feats.index, name="share")
    for b, h in zip(boroughs, hits, strict=True):
        bor_hits[b] = bor_hits.get(b, 0) + h
    bshare = pd.Series(bor_hits, name="share") / draws
    return {"candidates": cand[cand > 0].sort_values(ascending=False),
            "boroughs": bshare[bshare > 0].sort_values(ascending=False), "weights": wd,
            "picks": np.vstack(picks)}


def member_coverage(picks: np.ndarray, feats: pd.DataFrame, targets: Sequence) -> pd.Series:
    """For overlapping candidates (clusters): the share of each target's LSOAs that lie in some
    shortlisted candidate, averaged over the draws of :func:`sensitivity` (1 = its whole area
    is funded in every draw, whichever cluster covers it). Without ``members``, each candidate
    is its own single member (the share of draws it was chosen)."""
    mem = (feats["members"] if "members" in feats.columns
           else pd.Series([(a,) for a in feats.index], index=feats.index))
    mem_list = mem.tolist()
    out = {}
    target_sets = {t: set(mem[t]) for t in targets}
    totals = dict.fromkeys(targets, 0.0)
    for row in picks:
        covered = set().union(*(mem_list[i] for i in row))
        for t, ms in target_sets.items():
            totals[t] += len(ms & covered) / len(ms)
    for t in targets:
        out[t] = totals[t] / len(picks)
    return pd.Series(out, name="coverage")


# --- comparison with the areas actually funded ------------------------------------------------


@dataclass(frozen=True, eq=False)
class BoroughComparison:
    """A shortlist's boroughs against a reference list (:func:`compare_boroughs`).

    ``table``: one row per borough with an eligible candidate: ``chosen``, ``reference``, the
    borough's best eligible candidate (``best``), its ``score`` and ``rank`` among the boroughs'
    best candidates, and its standardised components. ``agree``: boroughs in both lists;
    ``n_boroughs``: boroughs in the table; ``p_exact``: hypergeometric probability of at least
    ``agree`` in common if the shortlist's boroughs were drawn at random from those boroughs.
    """

    table: pd.DataFrame
    agree: int
    n_boroughs: int
    p_exact: float


def compare_boroughs(chosen: Sequence[str], reference: Sequence[str], feats: pd.DataFrame,
                     scores: pd.DataFrame, *, min_population: float = 0) -> BoroughComparison:
    """Boroughs of a shortlist against a reference list (e.g. :data:`vru.geography.MYENDS_BOROUGHS`):
    a :class:`BoroughComparison`."""
    eligible = feats["population"] >= min_population
    s = scores.loc[eligible[eligible].index]
    best = (s.assign(borough=feats.loc[s.index, "borough"], id=s.index)
            .sort_values(["score", "id"], ascending=[False, True], kind="mergesort")
            .groupby("borough", sort=False).head(1).set_index("borough"))
    best["rank"] = np.arange(1, len(best) + 1)
    chosen_set, ref_set = set(chosen), set(reference)
    out = best.rename(columns={"id": "best"})
    out["chosen"] = out.index.isin(list(chosen_set))
    out["reference"] = out.index.isin(list(ref_set))
    agree = len(chosen_set & ref_set)
    m = len(out)
    p_exact = float(stats.hypergeom.sf(agree - 1, m, len(ref_set & set(out.index)), len(chosen_set)))
    return BoroughComparison(out, agree, m, p_exact)


def separating(row: pd.Series, shortlist: pd.DataFrame,
               weights: Mapping[str, float] = DEFAULT_WEIGHTS) -> tuple[str, float, float]:
    """The component that most separates a borough's best area (a row of
    :func:`compare_boroughs`' table) from the shortlist: the largest weighted difference from the
    shortlist's mean if it was chosen, the smallest if not. Returns ``(component, its z, the
    shortlist's mean z)``."""
    w = normalise_weights(weights)
    mean = shortlist[[f"z_{c}" for c in COMPONENTS]].mean()
    gaps = {c: w[c] * (row[f"z_{c}"] - mean[f"z_{c}"]) for c in COMPONENTS}
    c = max(gaps, key=gaps.__getitem__) if row["chosen"] else min(gaps, key=gaps.__getitem__)
    return c, float(row[f"z_{c}"]), float(mean[f"z_{c}"])


def explain(row: pd.Series, shortlist: pd.DataFrame, weights: Mapping[str, float] = DEFAULT_WEIGHTS) -> str:
    """Why a borough's best area is in or out (:func:`separating`) in a phrase."""
    c, z, mean = separating(row, shortlist, weights)
    return explanation(bool(row["chosen"]), int(row["rank"]), c, z, mean)


def explanation(chosen: bool, rank: int, component: str, z: float, mean: float) -> str:
    """The phrase of :func:`explain` from its parts (the ``explanation`` of ``vru target``)."""
    if chosen:
        return (f"chosen (rank {rank}); strongest on {component} (z = {fmt.number(z, 2)} vs "
                f"shortlist mean {fmt.number(mean, 2)})")
    return (f"not chosen: its best area ranks {rank} of the boroughs' best; furthest behind "
            f"on {component} (z = {fmt.number(z, 2)} vs shortlist mean {fmt.number(mean, 2)})")
