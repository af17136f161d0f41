"""Tests for vru.analysis.hotspots: hand computations, esda oracles on real London data, FDR.

Real data: queen contiguity on the bundled 2011 LSOA boundaries and the LSOA annual violence file
(Violence Against the Person). The 6 City of London LSOAs have no row in that file (SOURCE.md),
so they are dropped from the data AND the weights: contiguity is built on the 4,829 remaining
polygons (filling them with 0 would invent six cold spots in the middle of the West End cluster).
"""

from __future__ import annotations

import math
import warnings
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from vru.analysis import hotspots as hs
from vru.model.weights import SpatialWeights

esda = pytest.importorskip("esda")
gpd = pytest.importorskip("geopandas")
libpysal = pytest.importorskip("libpysal")
from libpysal.graph import Graph  # noqa: E402

LSOA_SHP = "boundaries/lsoa2011_gen20/london-2011-lsoa-gen20.shp.zip"
VIOLENCE = "mps_crime_lsoa_annual/london-2011-2021-major-violence.csv.gz"


@pytest.fixture(scope="module")
def london(bundled):
    """(Graph, violence table) for the 4,829 non-City LSOAs, built once for the module."""
    data = pd.read_csv(bundled / VIOLENCE, dtype={"LSOA11CD": str}).set_index("LSOA11CD")
    geo = gpd.read_file(bundled / LSOA_SHP).set_index("LSOA11CD")
    city = geo.index[geo["LAD11NM"] == "City of London"]
    assert len(city) == 6 and not city.isin(data.index).any()
    geo = geo.loc[data.index]
    graph = Graph.build_contiguity(geo, rook=False)
    return graph, data


@pytest.fixture(scope="module")
def y2019(london):
    _, data = london
    return data["2019"].astype(float)


def _esda(cls, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cls(*args, **kwargs)


# --------------------------------------------------------------------------------------------
# hand computations
# --------------------------------------------------------------------------------------------

PATH4 = sp.csr_array(np.array([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0]], float))


def test_gi_star_binary_by_hand():
    # y = 2, 4, 6, 8 on a path 0-1-2-3: n = 4, sum 20, mean 5, population variance 5.
    # Area 0, Gi* (self + area 1): lag 6, W_0 = 2, G = 6/20 = 0.3, E = 2/4 = 0.5,
    # V = 2*(4-2)/3/16 * 5/25 = 1/60, z = -0.2 / sqrt(1/60) = -1.5491933...
    # Area 1 (self + 0 + 2): lag 12, W = 3, G = 0.6, E = 0.75, V = 3*1/3/16*0.2 = 1/80,
    # z = -0.15 * sqrt(80) = -1.3416408...
    r = hs.getis_ord([2.0, 4.0, 6.0, 8.0], PATH4, star=True, transform="B")
    assert r["G"].tolist() == pytest.approx([0.3, 0.6, 0.9, 0.7])
    assert r.loc[0, "E_G"] == pytest.approx(0.5)
    assert r.loc[0, "V_G"] == pytest.approx(1 / 60)
    assert r.loc[0, "z"] == pytest.approx(-0.2 / math.sqrt(1 / 60))
    assert r.loc[1, "z"] == pytest.approx(-0.15 * math.sqrt(80))
    assert r.loc[0, "p"] == pytest.approx(2 * (1 - 0.5 * (1 + math.erf(1.5491933384829668 / math.sqrt(2)))))
    # symmetric data: area 3 (lag 6 + 8 = 14) mirrors area 0 around the mean
    assert r.loc[3, "z"] == pytest.approx(-r.loc[0, "z"])


def test_gi_without_self_by_hand():
    # Gi for area 0 of y = 2, 4, 6, 8: others are 4, 6, 8 (N = 3, mean 6, variance 8/3),
    # lag = 4, G = 4 / 18, E = 1/3, V = 1*2/2/9 * (8/3)/36, z = (4/18 - 1/3) / sqrt(V).
    r = hs.getis_ord([2.0, 4.0, 6.0, 8.0], PATH4, star=False, transform="B")
    v = 1 * 2 / 2 / 9 * (8 / 3) / 36
    assert r.loc[0, "G"] == pytest.approx(4 / 18)
    assert r.loc[0, "z"] == pytest.approx((4 / 18 - 1 / 3) / math.sqrt(v))


def test_row_standardised_star_self_weight_is_one_over_k_plus_one():
    # Area 1 has 2 neighbours: weights 1/3 each for 0, 1 (self) and 2.
    r = hs.getis_ord([2.0, 4.0, 6.0, 8.0], PATH4, star=True, transform="R")
    assert r.loc[1, "G"] == pytest.approx((2 + 4 + 6) / 3 / 20)
    assert r.loc[1, "E_G"] == pytest.approx(1 / 4)  # W_i = 1 after row-standardisation
    # esda's z for row-standardised weights reduces to (lag - mean) / s
    assert r.loc[1, "z"] == pytest.approx((4 - 5) / math.sqrt(5))


def test_star_as_number_sets_the_self_weight():
    r = hs.getis_ord([2.0, 4.0, 6.0, 8.0], PATH4, star=0.5, transform="R")
    # area 0: self 0.5, neighbour 1 -> row-standardised 1/3 and 2/3
    assert r.loc[0, "G"] == pytest.approx((2 / 3 + 4 * 2 / 3) / 20)


def test_local_moran_by_hand():
    # y = 2, 4, 6, 8 -> z = (-3, -1, 1, 3) / sqrt(5); row-standardised path weights.
    r = hs.local_moran([2.0, 4.0, 6.0, 8.0], PATH4)
    z = np.array([-3, -1, 1, 3]) / math.sqrt(5)
    lag = np.array([z[1], (z[0] + z[2]) / 2, (z[1] + z[3]) / 2, z[2]])
    expected = 3 * z * lag / (z @ z)
    assert r["I"].to_numpy() == pytest.approx(expected)
    assert r["quadrant"].tolist() == [3, 3, 1, 1]
    assert r["E_I"].to_numpy() == pytest.approx([-1 / 3] * 4)


# --------------------------------------------------------------------------------------------
# esda oracles on real London data
# --------------------------------------------------------------------------------------------


def test_real_data_matches_documented_total(y2019):
    # SOURCE.md: London Violence Against the Person 2019 = 217,874 in this file, 4,829 rows
    assert len(y2019) == 4829
    assert y2019.sum() == 217874


@pytest.mark.parametrize("transform", ["B", "R"])
@pytest.mark.parametrize("star", [True, False])
def test_gi_matches_esda_analytic(london, y2019, transform, star):
    graph, _ = london
    ours = hs.getis_ord(y2019, graph, star=star, transform=transform)
    ref = _esda(esda.G_Local, y2019.to_numpy(), graph, transform=transform, star=star,
                permutations=0)
    assert list(ours.index) == list(graph.unique_ids)
    np.testing.assert_allclose(ours["z"].to_numpy(), ref.Zs, rtol=0, atol=1e-8)
    np.testing.assert_allclose(ours["G"].to_numpy(), ref.Gs, rtol=1e-12, atol=0)
    np.testing.assert_allclose(ours["E_G"].to_numpy(), ref.EGs, rtol=1e-12, atol=0)
    np.testing.assert_allclose(ours["V_G"].to_numpy(), ref.VGs, rtol=1e-10, atol=0)
    np.testing.assert_allclose(ours["p"].to_numpy(), 2 * ref.p_norm, rtol=0, atol=1e-12)
    assert (ours["z"].abs() > 1.96).sum() > 20  # real clustering, not a trivial comparison


@pytest.mark.slow
def test_libpysal_w_and_scipy_inputs_give_the_same_result(london, y2019):
    graph, _ = london
    from_graph = hs.getis_ord(y2019, graph)
    w = libpysal.weights.W(graph.to_W().neighbors, id_order=list(graph.unique_ids))
    from_w = hs.getis_ord(y2019, w)
    from_csr = hs.getis_ord(y2019.to_numpy(), graph.sparse, ids=graph.unique_ids)
    pd.testing.assert_frame_equal(from_graph, from_w, check_names=False)
    pd.testing.assert_frame_equal(from_graph, from_csr, check_names=False)


def test_many_periods_in_one_call_equal_period_by_period(london):
    graph, data = london
    years = ["2015", "2016", "2017", "2018", "2019"]
    cube = data[years].astype(float)
    out = hs.getis_ord(cube, graph)
    assert out["z"].shape == (4829, 5)
    for year in years:
        ref = _esda(esda.G_Local, cube[year].to_numpy(), graph, transform="B", star=True,
                    permutations=0)
        np.testing.assert_allclose(out["z"][year].to_numpy(), ref.Zs, rtol=0, atol=1e-8)


def test_values_are_aligned_to_the_weights_by_id(london, y2019):
    graph, _ = london
    shuffled = y2019.sample(frac=1.0, random_state=3)
    pd.testing.assert_frame_equal(hs.getis_ord(shuffled, graph), hs.getis_ord(y2019, graph))


@pytest.mark.slow
def test_permutation_p_values_agree_with_esda_statistically(london, y2019):
    graph, _ = london
    ours = hs.getis_ord(y2019, graph, permutations=999, seed=20240601)
    ref = _esda(esda.G_Local, y2019.to_numpy(), graph, transform="B", star=True,
                permutations=999, seed=12345, n_jobs=1)
    assert np.corrcoef(ours["p_sim"], ref.p_sim)[0, 1] > 0.95
    share, ref_share = (ours["p_sim"] <= 0.05).mean(), (ref.p_sim <= 0.05).mean()
    assert abs(share - ref_share) < 0.03
    assert ours["p_sim"].min() >= 1 / 1000
    assert ours["p_sim"].max() <= 501 / 1000  # folded: never more than half the draws beyond


def test_permutations_are_seeded(y2019, london):
    graph, _ = london
    a = hs.getis_ord(y2019, graph, permutations=99, seed=7)["p_sim"]
    b = hs.getis_ord(y2019, graph, permutations=99, seed=np.random.default_rng(7))["p_sim"]
    c = hs.getis_ord(y2019, graph, permutations=99, seed=8)["p_sim"]
    pd.testing.assert_series_equal(a, b)
    assert not a.equals(c)


def test_conditional_permutation_matches_the_exact_null_distribution():
    # Area 0 of a 6-area star graph has neighbours 1 and 2. Under conditional randomisation its
    # two neighbour values are a uniformly random pair of the other five values (10 pairs).
    y = np.array([5.0, 9.0, 7.0, 1.0, 2.0, 4.0])
    w = np.zeros((6, 6))
    w[0, [1, 2]] = w[[1, 2], 0] = 1
    w[3, 4] = w[4, 3] = w[4, 5] = w[5, 4] = 1
    others = [9.0, 7.0, 1.0, 2.0, 4.0]
    sums = [a + b for a, b in combinations(others, 2)]
    p_ge = np.mean([s >= 16.0 for s in sums])  # observed lag 9 + 7 = 16: only 1 pair of 10
    assert p_ge == pytest.approx(0.1)
    perms = 20000
    out = hs.getis_ord(y, w, permutations=perms, seed=1)
    expected = (min(p_ge * perms, perms - p_ge * perms) + 1) / (perms + 1)
    assert out.loc[0, "p_sim"] == pytest.approx(expected, abs=0.006)


@pytest.mark.slow
def test_local_moran_matches_esda(london, y2019):
    graph, _ = london
    ours = hs.local_moran(y2019, graph, permutations=999, seed=5)
    ref = _esda(esda.Moran_Local, y2019.to_numpy(), graph, permutations=999, seed=5, n_jobs=1)
    np.testing.assert_allclose(ours["I"].to_numpy(), ref.Is, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours["E_I"].to_numpy(), ref.EI, rtol=1e-12)
    np.testing.assert_allclose(ours["V_I"].to_numpy(), ref.VI, rtol=1e-10)
    np.testing.assert_allclose(ours["z"].to_numpy(), (ref.Is - ref.EI) / np.sqrt(ref.VI),
                               rtol=0, atol=1e-8)
    assert (ours["quadrant"].to_numpy() == ref.q).all()
    assert np.corrcoef(ours["p_sim"], ref.p_sim)[0, 1] > 0.95
    assert abs((ours["p_sim"] <= 0.05).mean() - (ref.p_sim <= 0.05).mean()) < 0.03


# --------------------------------------------------------------------------------------------
# bad input and edge cases
# --------------------------------------------------------------------------------------------


def test_islands_get_nan_and_the_others_still_equal_esda(london, y2019):
    graph, _ = london
    a = sp.lil_array(graph.sparse)
    island = 100
    a[island, :] = 0
    a[:, island] = 0
    a = sp.csr_array(a)
    a.eliminate_zeros()
    ids = list(graph.unique_ids)
    w = libpysal.weights.WSP(a, id_order=ids).to_W(silence_warnings=True)
    assert w.islands == [ids[island]]
    ours = hs.getis_ord(y2019, w)
    assert ours.loc[ids[island], ["G", "z", "p"]].isna().all()
    assert ours.drop(index=ids[island])["z"].notna().all()
    ref = _esda(esda.G_Local, y2019.to_numpy(), w, transform="B", star=True, permutations=0)
    keep = np.arange(len(ids)) != island
    np.testing.assert_allclose(ours["z"].to_numpy()[keep], ref.Zs[keep], rtol=0, atol=1e-8)
    moran = hs.local_moran(y2019, w, permutations=9, seed=1)
    assert moran.loc[ids[island], ["I", "z", "p", "p_sim"]].isna().all()
    assert moran.loc[ids[island], "quadrant"] == 0
    assert SpatialWeights.coerce(w).islands.sum() == 1
    perm = hs.getis_ord(y2019, w, permutations=9, seed=1)
    assert np.isnan(perm.loc[ids[island], "p_sim"])


def test_nan_values_are_refused_with_the_area_named(london, y2019):
    graph, _ = london
    bad = y2019.copy()
    bad.iloc[10] = np.nan
    with pytest.raises(ValueError, match=bad.index[10]):
        hs.getis_ord(bad, graph)
    with pytest.raises(ValueError, match="NaN"):
        hs.local_moran(bad.to_numpy(), graph)


def test_areas_missing_from_the_values_or_the_weights_are_refused(london, y2019):
    graph, _ = london
    with pytest.raises(ValueError, match="1 area\\(s\\) in the weights have no value"):
        hs.getis_ord(y2019.iloc[1:], graph)
    extra = pd.concat([y2019, pd.Series({"E01999999": 3.0})])
    with pytest.raises(ValueError, match="E01999999"):
        hs.getis_ord(extra, graph)
    with pytest.raises(ValueError, match="values for"):
        hs.getis_ord(y2019.to_numpy()[1:], graph)


def test_a_period_of_zeros_gives_nan_not_an_error():
    rng = np.random.default_rng(0)
    lattice = libpysal.weights.lat2W(6, 6, rook=False)
    cube = rng.poisson(5, size=(36, 3)).astype(float)
    cube[:, 1] = 0.0
    out = hs.getis_ord(cube, lattice)
    assert out["z"][1].isna().all() and out["p"][1].isna().all()
    assert out["z"][[0, 2]].notna().all().all()
    assert hs.local_moran(cube, lattice)["z"][1].isna().all()


def test_weights_are_validated():
    with pytest.raises(ValueError, match="square"):
        SpatialWeights.coerce(sp.csr_array(np.ones((2, 3))))
    with pytest.raises(ValueError, match="non-negative"):
        SpatialWeights.coerce(np.array([[0.0, -1.0], [1.0, 0.0]]))
    with pytest.raises(TypeError):
        SpatialWeights.coerce([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="transform"):
        hs.getis_ord([1.0, 2.0], np.array([[0.0, 1.0], [1.0, 0.0]]), transform="V")


# --------------------------------------------------------------------------------------------
# false discovery rate
# --------------------------------------------------------------------------------------------


def test_fdr_bh_by_hand():
    # p sorted: .01 .02 .03 .04 .20 (m = 5): m p / rank = .05 .05 .05 .05 .20
    q = hs.fdr_bh([0.04, 0.01, 0.20, 0.03, 0.02])
    assert q == pytest.approx([0.05, 0.05, 0.20, 0.05, 0.05])
    assert hs.fdr_significant([0.04, 0.01, 0.20, 0.03, 0.02], alpha=0.05).tolist() == [
        True, True, False, True, True]


def test_fdr_bh_matches_statsmodels():
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    rng = np.random.default_rng(11)
    p = np.concatenate([rng.uniform(size=400), rng.uniform(0, 0.01, size=100)])
    p[:20] = p[20]  # ties
    reject, corrected, _, _ = multitest.multipletests(p, alpha=0.05, method="fdr_bh")
    np.testing.assert_allclose(hs.fdr_bh(p), corrected, rtol=1e-12)
    assert (hs.fdr_significant(p, 0.05) == reject).all()
    # a matrix is corrected per column (period) by default, per row with axis=1
    m = p.reshape(50, 10)
    by_col = hs.fdr_bh(m)
    for j in range(10):
        np.testing.assert_allclose(by_col[:, j], multitest.multipletests(m[:, j], method="fdr_bh")[1])
    np.testing.assert_allclose(hs.fdr_bh(m, axis=1)[3], multitest.multipletests(m[3], method="fdr_bh")[1])


def test_fdr_significant_step_up_shortcut_equals_q_values():
    rng = np.random.default_rng(21)
    p = rng.uniform(size=(300, 40)) ** 3  # many small p-values
    p[rng.uniform(size=p.shape) < 0.05] = np.nan
    p[:30, 0] = 0.004  # ties at the boundary
    for alpha in (0.01, 0.05, 0.2):
        expected = np.nan_to_num(hs.fdr_bh(p), nan=np.inf) <= alpha
        assert (hs.fdr_significant(p, alpha) == expected).all()
        assert (hs.fdr_significant(p.T, alpha, axis=1) == expected.T).all()
    wide = rng.uniform(size=(5, 1500)) ** 3  # more than 1,000 families: the q-value path
    assert (hs.fdr_significant(wide, 0.05) == (hs.fdr_bh(wide) <= 0.05)).all()


def test_fdr_bh_leaves_nan_out_of_the_family():
    q = hs.fdr_bh([0.01, np.nan, 0.04])
    assert np.isnan(q[1])
    assert q[[0, 2]] == pytest.approx([0.02, 0.04])  # m = 2, not 3
    with pytest.raises(ValueError):
        hs.fdr_bh([0.5, 1.5])


def test_gi_bin_levels():
    z = np.array([3.0, 2.2, -1.8, 0.5, np.nan])
    p = np.array([0.002, 0.03, 0.07, 0.6, np.nan])
    assert hs.gi_bin(z, p, fdr=False).tolist() == [3, 2, -1, 0, 0]
