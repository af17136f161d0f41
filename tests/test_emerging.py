"""Tests for vru.analysis.emerging: space-time Gi*, Mann-Kendall, the 17 ArcGIS categories,
sfhotspot's scheme, and the whole pipeline on hand-made and real London cubes."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy import stats

from vru.analysis import emerging as em
from vru.model.weights import SpatialWeights

libpysal = pytest.importorskip("libpysal")
esda = pytest.importorskip("esda")

T = 20
HOT, COLD, NS = 3.0, -3.0, 0.5  # z-scores: p = 0.0027 (significant at 0.05) and 0.62 (not)


def _series(*, default=NS, **at) -> np.ndarray:
    """A 20-period z-score series: ``default`` everywhere, ``at={"t": z}`` overrides."""
    z = np.full(T, default)
    for key, value in at.items():
        z[int(key[1:])] = value
    return z


def _alternating(a: float, b: float) -> np.ndarray:
    return np.array([a if t % 2 == 0 else b for t in range(T)])


# One hand-built z-score series per hot category. Significance: two-sided p <= 0.05.
# Trend: Mann-Kendall on the z-scores at 0.05.
HOT_SERIES = {
    # the final period is the only significant hot spot
    em.NEW_HOT: _series(t19=HOT),
    # an uninterrupted run of 4 hot periods at the end (20% < 90%), nothing hot before
    em.CONSECUTIVE_HOT: _series(t16=HOT, t17=HOT, t18=HOT, t19=HOT),
    # hot in every period, z rising 2.5 -> 4.4: significant increasing trend
    em.INTENSIFYING_HOT: 2.5 + 0.1 * np.arange(T),
    # hot in every period, alternating 3.0 / 3.2: S = 10, Var(S) = 700, no trend
    em.PERSISTENT_HOT: _alternating(3.0, 3.2),
    # hot in every period, z falling 4.5 -> 2.6: significant decreasing trend
    em.DIMINISHING_HOT: 4.5 - 0.1 * np.arange(T),
    # hot on and off (periods 3, 8, 12 and the final one), never cold
    em.SPORADIC_HOT: _series(t3=HOT, t8=HOT, t12=HOT, t19=HOT),
    # hot in the final period, cold in period 5
    em.OSCILLATING_HOT: _series(t5=COLD, t10=HOT, t19=HOT),
    # hot in periods 0-17 (exactly 90%), not in the last two
    em.HISTORICAL_HOT: np.concatenate([_alternating(3.0, 3.2)[:18], [NS, NS]]),
}
MIRROR = {
    em.NEW_HOT: em.NEW_COLD, em.CONSECUTIVE_HOT: em.CONSECUTIVE_COLD,
    em.INTENSIFYING_HOT: em.INTENSIFYING_COLD, em.PERSISTENT_HOT: em.PERSISTENT_COLD,
    em.DIMINISHING_HOT: em.DIMINISHING_COLD, em.SPORADIC_HOT: em.SPORADIC_COLD,
    em.OSCILLATING_HOT: em.OSCILLATING_COLD, em.HISTORICAL_HOT: em.HISTORICAL_COLD,
}
# cold spots: the same series with the sign flipped (a rising |z| of a cold spot is a falling z)
SERIES = {**HOT_SERIES, **{MIRROR[k]: -v for k, v in HOT_SERIES.items()}}
# no pattern: never significant, with a strong trend (a trend alone is no pattern)
SERIES[em.NO_PATTERN] = np.linspace(-1.5, 1.5, T)


def _classify(z: np.ndarray, **kwargs) -> pd.Series:
    z = np.atleast_2d(z)
    return em.classify_emerging(z, 2 * stats.norm.sf(np.abs(z)), **kwargs).iloc[0]


def test_every_category_has_a_hand_built_series():
    assert set(SERIES) == set(em.CATEGORIES) and len(em.CATEGORIES) == 17


@pytest.mark.parametrize("category", em.CATEGORIES)
def test_hand_built_series_gets_its_published_category(category):
    row = _classify(SERIES[category])
    assert row["category"] == category


def test_trends_of_the_hand_built_series():
    assert _classify(SERIES[em.INTENSIFYING_HOT])["trend_p"] < 1e-6
    assert _classify(SERIES[em.PERSISTENT_HOT])["trend_p"] > 0.5
    assert _classify(SERIES[em.DIMINISHING_HOT])["trend_tau"] == -1.0


def test_all_17_at_once_in_one_matrix():
    names = list(SERIES)
    z = np.vstack([SERIES[c] for c in names])
    out = em.classify_emerging(z, 2 * stats.norm.sf(np.abs(z)), ids=names)
    assert out["category"].tolist() == names
    assert out.loc[em.CONSECUTIVE_HOT, "n_hot"] == 4
    assert out.loc[em.OSCILLATING_HOT, ["n_hot", "n_cold", "final"]].tolist() == [2, 1, 1]


# precedence and boundaries (docs/methods-hotspots.md, "Order of precedence")


def test_ninety_percent_boundary():
    persistent = _alternating(3.0, 3.2)
    persistent[[4, 9]] = NS  # 18 of 20 hot = 90%, final hot, no trend
    assert _classify(persistent)["category"] == em.PERSISTENT_HOT
    sporadic = persistent.copy()
    sporadic[14] = NS  # 17 of 20 = 85%
    assert _classify(sporadic)["category"] == em.SPORADIC_HOT


def test_a_run_of_one_is_new_and_a_run_after_earlier_hot_is_sporadic():
    assert _classify(_series(t19=HOT))["category"] == em.NEW_HOT
    assert _classify(_series(t2=HOT, t18=HOT, t19=HOT))["category"] == em.SPORADIC_HOT


def test_earlier_cold_makes_new_and_consecutive_oscillating():
    assert _classify(_series(t0=COLD, t19=HOT))["category"] == em.OSCILLATING_HOT
    assert _classify(_series(t0=COLD, t18=HOT, t19=HOT))["category"] == em.OSCILLATING_HOT


def test_final_period_decides_between_historical_and_oscillating():
    z = np.full(T, HOT)
    z[-1] = COLD  # 19 of 20 hot, final cold
    assert _classify(z)["category"] == em.OSCILLATING_COLD


def test_significance_threshold_and_trend_threshold_are_parameters():
    z = _series(t19=2.2)  # p = 0.028
    assert _classify(z)["category"] == em.NEW_HOT
    assert _classify(z, alpha=0.01)["category"] == em.NO_PATTERN
    # alternating 3.0/3.2 plus 0.15 in the last 4 periods: S = 42, Var(S) = 14712/18,
    # z = 41 / sqrt(817.33) = 1.434, p = 0.152
    weak = _alternating(3.0, 3.2) + 0.15 * (np.arange(T) >= 16)
    row = _classify(weak)
    assert row["trend_p"] == pytest.approx(2 * stats.norm.sf(41 / math.sqrt(14712 / 18)))
    assert row["category"] == em.PERSISTENT_HOT
    assert _classify(weak, trend_alpha=0.2)["category"] == em.INTENSIFYING_HOT


def test_nan_bins_are_not_significant():
    z = _alternating(3.0, 3.2)
    z[3] = np.nan
    row = _classify(z)
    assert row["n_hot"] == 19 and row["category"] == em.PERSISTENT_HOT


# --------------------------------------------------------------------------------------------
# Mann-Kendall
# --------------------------------------------------------------------------------------------


def test_mann_kendall_by_hand():
    # x = 1, 3, 2, 4: five of six pairs rise, one falls -> S = 4; Var = 4*3*13/18 = 26/3
    r = em.mann_kendall([1.0, 3.0, 2.0, 4.0]).iloc[0]
    assert r["S"] == 4 and r["var_S"] == pytest.approx(26 / 3)
    assert r["z"] == pytest.approx(3 / math.sqrt(26 / 3))
    assert r["tau"] == pytest.approx(4 / 6)
    assert r["p"] == pytest.approx(2 * stats.norm.sf(3 / math.sqrt(26 / 3)))


def test_mann_kendall_tie_correction_by_hand():
    # x = 1, 1, 2, 2, 3: S = 8 (two tied pairs count 0); ties: two groups of 2,
    # Var = (5*4*15 - 2 * 2*1*9) / 18 = 264/18
    r = em.mann_kendall([1.0, 1.0, 2.0, 2.0, 3.0]).iloc[0]
    assert r["S"] == 8 and r["var_S"] == pytest.approx(264 / 18)
    assert r["z"] == pytest.approx(7 / math.sqrt(264 / 18))


def test_mann_kendall_matches_scipy_kendalltau_without_continuity_correction():
    rng = np.random.default_rng(4)
    x = rng.poisson(3, size=(30, 24)).astype(float)  # many ties
    ours = em.mann_kendall(x, continuity=False)
    for i in range(30):
        ref = stats.kendalltau(np.arange(24), x[i], method="asymptotic")
        assert ours.loc[i, "p"] == pytest.approx(ref.pvalue, rel=1e-9)


def test_mann_kendall_matches_pymannkendall():
    mk = pytest.importorskip("pymannkendall")
    rng = np.random.default_rng(5)
    x = np.round(rng.normal(size=(40, 36)).cumsum(axis=1), 1)
    ours = em.mann_kendall(x)
    for i in range(40):
        ref = mk.original_test(x[i])
        assert (ours.loc[i, "S"], ours.loc[i, "var_S"]) == pytest.approx((ref.s, ref.var_s))
        assert (ours.loc[i, "z"], ours.loc[i, "p"], ours.loc[i, "tau"]) == pytest.approx(
            (ref.z, ref.p, ref.Tau))


def test_mann_kendall_is_exact_for_values_closer_than_float32_resolution():
    # distinct in float64, equal in float32: the fast float32 comparison must not be used
    r = em.mann_kendall(np.array([[1.0, 1.0 + 1e-12, 1.0 + 2e-12, 1.0 + 3e-12]])).iloc[0]
    assert r["S"] == 6 and r["var_S"] == pytest.approx(4 * 3 * 13 / 18)


def test_mann_kendall_skips_nan_and_handles_constant_rows():
    r = em.mann_kendall(np.array([[1.0, np.nan, 3.0, 2.0, 4.0], [2.0] * 5, [np.nan] * 4 + [1.0]]))
    ref = em.mann_kendall([1.0, 3.0, 2.0, 4.0]).iloc[0]
    assert r.loc[0, ["n", "S", "var_S", "z"]].tolist() == pytest.approx(
        ref[["n", "S", "var_S", "z"]].tolist())
    assert (r.loc[1, "S"], r.loc[1, "z"], r.loc[1, "p"]) == (0, 0, 1)
    assert np.isnan(r.loc[2, "z"])


# --------------------------------------------------------------------------------------------
# space-time Gi*
# --------------------------------------------------------------------------------------------


def _brute_force_space_time_z(y, neighbours, k, window):
    """Getis-Ord Gi* of every bin by explicit loops over its space-time neighbourhood."""
    n, t = y.shape
    z = np.empty((n, t))
    for i in range(n):
        for s in range(t):
            times = range(max(0, s - k), s + 1)
            nb = [y[j, u] for j in [i, *neighbours[i]] for u in times]
            if window == "cube":
                pool = y.ravel()
            elif window == "period":
                pool = y[:, s]
            else:
                pool = y[:, list(times)].ravel()
            big_n, mean, sd = len(pool), pool.mean(), pool.std()
            wi = len(nb)
            z[i, s] = (sum(nb) - mean * wi) / (sd * math.sqrt((big_n * wi - wi**2) / (big_n - 1)))
    return z


@pytest.mark.parametrize("window", ["cube", "neighbourhood", "period"])
@pytest.mark.parametrize("k", [0, 1, 3])
def test_space_time_gi_star_equals_brute_force(window, k):
    rng = np.random.default_rng(k)
    # 49 areas: more than the largest neighbourhood (9 areas x 4 periods) even for one period
    lattice = libpysal.weights.lat2W(7, 7, rook=False)
    y = rng.poisson(4, size=(49, 8)).astype(float)
    neighbours = [lattice.neighbors[i] for i in range(49)]
    ours = em.space_time_gi_star(y, lattice, time_lag=k, global_window=window)
    expected = _brute_force_space_time_z(y, neighbours, k, window)
    np.testing.assert_allclose(ours["z"].to_numpy(), expected, rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours["p"].to_numpy(), 2 * stats.norm.sf(np.abs(expected)),
                               atol=1e-12)


def test_space_time_gi_star_equals_esda_on_the_explicit_space_time_weights():
    # Entire-cube window: the cube is one big Gi* problem on n*T bins whose weights matrix is
    # kron(time band, spatial contiguity + self); esda's binary G* on it is the oracle.
    rng = np.random.default_rng(9)
    lattice = libpysal.weights.lat2W(5, 4, rook=False)
    n, t, k = 20, 7, 2
    y = rng.poisson(3, size=(n, t)).astype(float)
    band = sp.csr_array(np.tril(np.ones((t, t))) - np.tril(np.ones((t, t)), -k - 1))
    st = sp.kron(band, sp.csr_array(lattice.sparse) + sp.eye_array(n)).tocsr()
    w_st = libpysal.weights.WSP(st).to_W(silence_warnings=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.G_Local(y.T.ravel(), w_st, transform="B", star=None, permutations=0)
    ours = em.space_time_gi_star(y, lattice, time_lag=k, global_window="cube")
    np.testing.assert_allclose(ours["z"].to_numpy().T.ravel(), ref.Zs, rtol=0, atol=1e-10)


@pytest.mark.slow
def test_lag_zero_period_window_is_esdas_gi_star_on_real_london_data(bundled):
    gpd = pytest.importorskip("geopandas")
    from libpysal.graph import Graph

    data = pd.read_csv(bundled / "mps_crime_lsoa_annual/london-2011-2021-major-violence.csv.gz",
                       dtype={"LSOA11CD": str}).set_index("LSOA11CD")
    geo = gpd.read_file(bundled / "boundaries/lsoa2011_gen20/london-2011-lsoa-gen20.shp.zip")
    graph = Graph.build_contiguity(geo.set_index("LSOA11CD").loc[data.index], rook=False)
    years = [str(y) for y in range(2011, 2020)]  # 2020 is wrong in the source (SOURCE.md)
    cube = data[years].astype(float)
    ours = em.space_time_gi_star(cube, graph, time_lag=0, global_window="period")
    for year in ("2011", "2019"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = esda.G_Local(cube[year].to_numpy(), graph, transform="B", star=True,
                               permutations=0)
        np.testing.assert_allclose(ours["z"][year].to_numpy(), ref.Zs, rtol=0, atol=1e-8)
    # Relative to each year (global window "period"), the whole analysis finds hot spots
    # sustained over all 9 years (90% of 9 periods = 9), many of them in Westminster.
    relative = em.emerging_hotspots(cube, graph, global_window="period")
    counts = relative.summary["category"].value_counts()
    sustained = [em.PERSISTENT_HOT, em.INTENSIFYING_HOT, em.DIMINISHING_HOT]
    assert sum(counts.get(c, 0) for c in sustained) > 50
    westminster = data.index[data["LAD11NM"] == "Westminster"]
    assert (relative.summary.loc[westminster, "category"] == em.PERSISTENT_HOT).sum() >= 10
    # Against the whole cube (ArcGIS's default window) London's rise from 129,709 offences in
    # 2011 to 217,874 in 2019 makes the early years cold overall: late runs of hot spots
    # ("Consecutive") dominate and no area is hot in all 9 years.
    assert cube["2011"].sum() == 129709 and cube["2019"].sum() == 217874
    whole = em.emerging_hotspots(cube, graph).summary["category"].value_counts()
    assert whole.get(em.PERSISTENT_HOT, 0) == 0
    assert whole[em.CONSECUTIVE_HOT] > 300


# --------------------------------------------------------------------------------------------
# the pipeline on a hand-made cube
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def planted():
    """A 12 x 12 lattice, 24 periods of Poisson(5) counts with three planted blocks:
    a 3x3 block at 4x the rate throughout (persistent), a 3x3 block at 4x only in the last 3
    periods (consecutive) and a 3x3 block with no events at all (persistent cold).
    Plus one island with high counts."""
    rng = np.random.default_rng(2024)
    side, t = 12, 24
    lattice = libpysal.weights.lat2W(side, side, rook=False)
    n = side * side
    a = sp.lil_array((n + 1, n + 1))
    a[:n, :n] = lattice.sparse
    rate = np.full((n + 1, t), 5.0)

    def block(r0, c0):
        return [r * side + c for r in range(r0, r0 + 3) for c in range(c0, c0 + 3)]

    persistent, consecutive, cold = block(1, 1), block(1, 8), block(8, 4)
    rate[persistent] *= 4
    rate[np.ix_(consecutive, range(t - 3, t))] *= 4
    rate[cold] = 0.0
    rate[n] = 40.0
    y = rng.poisson(rate).astype(float)
    ids = [f"A{i:03d}" for i in range(n + 1)]
    cube = pd.DataFrame(y, index=ids, columns=pd.period_range("2019-01", periods=t, freq="M"))
    return cube, sp.csr_array(a), ids, persistent, consecutive, cold


def test_pipeline_finds_the_planted_patterns(planted):
    cube, weights, ids, persistent, consecutive, cold = planted
    result = em.emerging_hotspots(cube, weights)  # ArcGIS defaults: time lag 1, whole cube
    cat = result.summary["category"]
    assert cat[ids[persistent[4]]] == em.PERSISTENT_HOT
    assert cat[ids[consecutive[4]]] == em.CONSECUTIVE_HOT
    assert cat[ids[cold[4]]] == em.PERSISTENT_COLD
    assert (cat == em.NO_PATTERN).mean() > 0.6
    assert result.z.shape == (145, 24) and list(result.z.columns) == list(cube.columns)
    assert result.bins.loc[ids[persistent[4]]].eq(1).all()
    assert set(result.bins.to_numpy().ravel()) <= {-1, 0, 1}


def test_pipeline_islands_are_excluded(planted):
    cube, weights, ids, *_ = planted
    result = em.emerging_hotspots(cube, weights)
    island = ids[-1]
    assert result.summary.loc[island, "island"]
    assert pd.isna(result.summary.loc[island, "category"])
    assert result.z.loc[island].isna().all()
    assert result.summary["island"].sum() == 1


def test_pipeline_options(planted):
    cube, weights, ids, persistent, *_ = planted
    a = em.emerging_hotspots(cube, weights, fdr=None, count_trend=True)
    b = em.emerging_hotspots(cube, weights, fdr="cube", global_window="neighbourhood")
    assert {"count_tau", "count_z", "count_p"} <= set(a.summary.columns)
    assert (a.bins != 0).sum().sum() >= (b.bins != 0).sum().sum() > 0
    assert a.params["time_lag"] == 1 and b.params["fdr"] == "cube"


def test_pipeline_refuses_bad_input(planted):
    cube, weights, *_ = planted
    bad = cube.copy()
    bad.iloc[3, 5] = np.nan
    with pytest.raises(ValueError, match="A003"):
        em.emerging_hotspots(bad, weights)
    with pytest.raises(ValueError, match="144 values for 145 areas"):
        em.emerging_hotspots(cube.iloc[1:], weights)
    with pytest.raises(ValueError, match="1 area\\(s\\) in the weights have no value"):
        em.emerging_hotspots(cube.iloc[1:], weights, ids=cube.index)
    with pytest.raises(ValueError, match="time_lag"):
        em.emerging_hotspots(cube, weights, time_lag=24)
    with pytest.raises(ValueError, match="global_window"):
        em.emerging_hotspots(cube, weights, global_window="slice")
    with pytest.raises(ValueError, match="cube"):
        em.emerging_hotspots(cube.iloc[:, 0], weights)


def test_a_period_with_no_data(planted):
    cube, weights, ids, persistent, *_ = planted
    zeroed = cube.copy()
    zeroed.iloc[:, 10] = 0.0
    per_period = em.emerging_hotspots(zeroed, weights, global_window="period")
    assert per_period.z.iloc[:, 10].isna().all()
    assert (per_period.bins.iloc[:, 10] == 0).all()
    # 23 of 24 periods hot = 95.8%: still a sustained hot spot; the trend test skips the gap
    centre = per_period.summary.loc[ids[persistent[4]]]
    assert centre["n_hot"] == 23
    assert centre["category"] in (em.PERSISTENT_HOT, em.INTENSIFYING_HOT, em.DIMINISHING_HOT)
    # with the whole cube as the global window the zeros are real zeros: a cold period
    whole = em.emerging_hotspots(zeroed, weights, time_lag=0)
    assert whole.z.iloc[:-1, 10].lt(0).all()


# --------------------------------------------------------------------------------------------
# sfhotspot's scheme
# --------------------------------------------------------------------------------------------


def _sf(z, **kwargs):
    z = np.atleast_2d(np.asarray(z, dtype=float))
    return em.classify_sfhotspot(z, 2 * stats.norm.sf(np.abs(z)), p_adjust=None, **kwargs)


def test_sfhotspot_categories_by_hand():
    # T = 20: recent = floor(0.2 * 20) = 4 periods (16-19), older = 16 (0-15);
    # hotspot_prop 0.1, persistent_prop 0.8, recent_prop 0.2
    strong = 4.0
    rows = {
        # share 20/20 >= 0.8
        "persistent hotspot": np.full(T, strong),
        # older 0/16 < 0.1 and recent 2/4 >= 0.2
        "emerging hotspot": _series(t17=strong, t18=strong),
        # older 3/16 >= 0.1 and recent 0/4 < 0.1
        "former hotspot": _series(t0=strong, t1=strong, t2=strong),
        # share 3/20 >= 0.1, older 2/16 (not emerging), recent 1/4 (not former)
        "intermittent hotspot": _series(t3=strong, t9=strong, t18=strong),
        "persistent coldspot": np.full(T, -strong),
        # former hotspot (periods 0, 1) and emerging coldspot (periods 18, 19)
        "mixed hot/coldspot": _series(t0=strong, t1=strong, t18=-strong, t19=-strong),
        # share 1/20 < 0.1, recent 0
        "no pattern": _series(t5=strong),
    }
    out = _sf(np.vstack(list(rows.values())))
    assert out["category"].tolist() == list(rows)
    assert out["hot_share"].tolist()[:2] == [1.0, 0.1]


def test_sfhotspot_holm_adjustment_and_parameters():
    z = _series(t17=2.5, t18=2.5)  # p = 0.0124: significant raw, not after Holm over 20 periods
    p = 2 * stats.norm.sf(np.abs(np.atleast_2d(z)))
    assert em.classify_sfhotspot(np.atleast_2d(z), p, p_adjust=None)["category"][0] == \
        "emerging hotspot"
    assert em.classify_sfhotspot(np.atleast_2d(z), p)["category"][0] == "no pattern"
    with pytest.raises(ValueError, match="recent_prop"):
        em.classify_sfhotspot(np.atleast_2d(z), p, recent_prop=1.0)


@pytest.mark.slow
def test_holm_matches_statsmodels():
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    rng = np.random.default_rng(3)
    p = rng.uniform(0, 0.2, size=(5, 24))
    ours = em.holm(p)
    for i in range(5):
        np.testing.assert_allclose(ours[i], multitest.multipletests(p[i], method="holm")[1])


def test_sfhotspot_scheme_in_the_pipeline(planted):
    cube, weights, ids, persistent, consecutive, cold = planted
    result = em.emerging_hotspots(cube, weights, time_lag=0, global_window="period",
                                  scheme="sfhotspot")
    cat = result.summary["category"]
    assert set(cat.dropna()) <= set(em.SFHOTSPOT_CATEGORIES)
    assert cat[ids[persistent[4]]] == "persistent hotspot"
    assert cat[ids[cold[4]]] == "persistent coldspot"
    assert cat[ids[consecutive[4]]] == "emerging hotspot"


def test_weights_values_are_ignored_only_structure_counts(planted):
    cube, weights, *_ = planted
    scaled = sp.csr_array(weights * 7.5)
    a = em.space_time_gi_star(cube, weights)
    b = em.space_time_gi_star(cube, scaled)
    pd.testing.assert_frame_equal(a, b)
    assert SpatialWeights.coerce(weights).islands.sum() == 1
