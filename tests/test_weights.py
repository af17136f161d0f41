"""vru.model.weights (through vru.geography.weights.build_weights): hand-made grids and points with
hand-counted neighbours, the island policies, bad input, and the real bundled boundaries."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from vru.analysis.emerging import emerging_hotspots
from vru.geography.weights import build_weights
from vru.model.weights import SpatialWeights
from vru.sources.boundaries import read_bundled

# 3 x 3 grid of unit squares, codes a..i row by row from the bottom left:
#   g h i
#   d e f
#   a b c
# plus z, a square far away (an island under contiguity).
CODES = list("abcdefghi")
GRID = gpd.GeoDataFrame(
    {"code": CODES + ["z"]},
    geometry=[shapely.box(x, y, x + 1, y + 1) for y in range(3) for x in range(3)]
    + [shapely.box(10, 10, 11, 11)],
    crs="EPSG:27700",
)


def nbrs(graph, area) -> list:
    adj = graph.adjacency
    sub = adj.loc[area]
    return sorted(sub[sub > 0].index)


def test_queen_and_rook_counts_on_a_3x3_grid():
    q = build_weights(GRID.iloc[:9], "queen")
    r = build_weights(GRID.iloc[:9], "rook")
    # queen: corners 3, edges 5, centre 8 -> 4*3 + 4*5 + 8 = 40 ordered pairs
    assert q.n_edges == 40
    assert nbrs(q, "e") == list("abcdfghi")
    assert nbrs(q, "a") == ["b", "d", "e"]
    assert nbrs(q, "b") == ["a", "c", "d", "e", "f"]
    # rook: corners 2, edges 3, centre 4 -> 8 + 12 + 4 = 24
    assert r.n_edges == 24
    assert nbrs(r, "e") == ["b", "d", "f", "h"]
    assert nbrs(r, "a") == ["b", "d"]
    assert list(q.unique_ids) == CODES
    assert q.report.islands == () and q.report.n_components == 1


def test_binary_and_row_standardised_weights():
    b = build_weights(GRID.iloc[:9], "queen", transform="B")
    r = build_weights(GRID.iloc[:9], "queen", transform="R")
    assert set(b.adjacency.unique()) == {1.0}
    sums = r.adjacency.groupby(level=0).sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0)
    assert r.adjacency.loc[("e", "a")] == pytest.approx(1 / 8)
    assert r.adjacency.loc[("a", "b")] == pytest.approx(1 / 3)


# Points on a line at x = 0, 1, 3, 7 (no tied distances).
LINE = gpd.GeoDataFrame({"code": list("pqrs")},
                        geometry=gpd.points_from_xy([0, 1, 3, 7], [0, 0, 0, 0]), crs=27700)


def test_knn_on_points():
    g = build_weights(LINE, "knn", k=2)
    assert nbrs(g, "p") == ["q", "r"]  # 1, 3
    assert nbrs(g, "q") == ["p", "r"]  # 1, 2
    assert nbrs(g, "r") == ["p", "q"]  # 3 (p), 2 (q); s is 4 away
    assert nbrs(g, "s") == ["q", "r"]  # 4, 6
    assert g.n_edges == 8
    assert g.report.islands == ()


def test_distance_band_makes_an_island():
    g = build_weights(LINE, "distance", distance=2.5)
    assert nbrs(g, "p") == ["q"] and nbrs(g, "q") == ["p", "r"] and nbrs(g, "r") == ["q"]
    rep = g.report
    assert rep.islands == ("s",) and rep.policy == "keep"
    assert rep.n_components == 2 and rep.component_sizes == (3, 1)
    assert "s" in g.isolates
    big = build_weights(LINE, "distance", distance=4.5)
    assert nbrs(big, "s") == ["r"] and big.report.islands == ()


def test_distance_band_between_polygon_centroids():
    # centroids of the 3x3 grid are 1 apart (rook) or sqrt(2) apart (diagonal)
    assert build_weights(GRID.iloc[:9], "distance", distance=1.2).n_edges == 24
    assert build_weights(GRID.iloc[:9], "distance", distance=1.5).n_edges == 40


def test_island_policy_keep():
    g = build_weights(GRID, "queen", islands="keep")
    rep = g.report
    assert rep.islands == ("z",) and rep.n_areas == 10
    assert list(g.isolates) == ["z"]
    assert rep.n_components == 2
    assert "1 island(s) kept without neighbours" in rep.text()


def test_island_policy_knn1_links_to_the_nearest_geometry_both_ways():
    g = build_weights(GRID, "queen", islands="knn1")
    rep = g.report
    assert rep.islands == ("z",)
    # z = [10,11]^2; nearest square is i = [2,3]^2 at distance sqrt(7^2 + 7^2)
    assert rep.attached == (("z", "i", pytest.approx(np.hypot(7, 7))),)
    assert nbrs(g, "z") == ["i"]
    assert nbrs(g, "i") == ["e", "f", "h", "z"]
    assert len(g.isolates) == 0 and rep.n_components == 1
    r = build_weights(GRID, "queen", islands="knn1", transform="R")
    assert r.adjacency.loc[("z", "i")] == pytest.approx(1.0)
    assert r.adjacency.loc[("i", "z")] == pytest.approx(1 / 4)


def test_island_policy_drop():
    g = build_weights(GRID, "queen", islands="drop")
    rep = g.report
    assert list(g.unique_ids) == CODES and rep.dropped == ("z",) and rep.n_areas == 9
    assert g.n_edges == 40


def test_two_islands_attached_to_each_other_form_a_small_component():
    two = pd.concat([GRID, gpd.GeoDataFrame({"code": ["y"]}, geometry=[shapely.box(11, 10, 12, 11)],
                                            crs=27700)], ignore_index=True)
    # z and y touch each other: not islands; the report shows a second component
    g = build_weights(two, "queen")
    rep = g.report
    assert rep.islands == () and rep.n_components == 2 and rep.component_sizes == (9, 2)
    assert "2 connected components" in rep.text()


def test_a_table_of_pairs_gives_the_same_weights():
    """A user's neighbour table (focal, neighbor; SpatialWeights.coerce at the API's edge) gives the
    weights built from the polygons: 40 ordered queen pairs on the grid, z an island."""
    q = build_weights(GRID, "queen")
    got = q.adjacency.reset_index()
    got = got[got["weight"] > 0]
    assert len(got) == q.n_edges == 40
    table = got[["focal", "neighbor"]]
    back = SpatialWeights.coerce(table, ids=list(GRID["code"]))
    assert back.neighbours() == q.neighbours() and list(back.isolates) == ["z"]


def test_ids_from_the_index_and_input_order_kept():
    shuffled = GRID.iloc[[4, 0, 8, 1, 2, 3, 5, 6, 7]].set_index("code")
    g = build_weights(shuffled, "rook", id_col=None)
    assert list(g.unique_ids) == list("eaibcdfgh")
    assert nbrs(g, "e") == ["b", "d", "f", "h"]


def test_islands_get_no_emerging_category_with_keep():
    g = build_weights(GRID, "queen", islands="keep")
    rng = np.random.default_rng(1)
    values = pd.DataFrame(rng.poisson(5, (10, 4)).astype(float), index=list(g.unique_ids))
    res = emerging_hotspots(values, g, global_window="period", time_lag=1)
    assert bool(res.summary.loc["z", "island"]) and pd.isna(res.summary.loc["z", "category"])
    assert not res.summary.loc[CODES, "island"].any()


@pytest.mark.parametrize("kwargs, message", [
    ({"rule": "bishop"}, "unknown neighbour rule"),
    ({"transform": "V"}, "unknown transform"),
    ({"islands": "ignore"}, "unknown island policy"),
    ({"rule": "knn"}, "needs k"),
    ({"rule": "distance"}, "positive distance"),
    ({"rule": "distance", "distance": -1}, "positive distance"),
    ({"rule": "knn", "k": 10}, "k must be between"),
    ({"id_col": "lsoa"}, "no id column"),
])
def test_bad_parameters_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_weights(GRID, **kwargs)


def test_bad_areas_are_refused():
    with pytest.raises(ValueError, match="no CRS"):
        build_weights(GRID.set_crs(None, allow_override=True))
    with pytest.raises(ValueError, match="geographic CRS"):
        build_weights(GRID.set_crs(4326, allow_override=True))
    with pytest.raises(ValueError, match="duplicate area id"):
        build_weights(GRID.assign(code=list("aabcdefghi")))
    with pytest.raises(ValueError, match="has no geometry"):
        build_weights(GRID.assign(geometry=[*GRID.geometry[:9], shapely.Polygon()]))
    with pytest.raises(ValueError, match="every area is an island"):
        build_weights(LINE, "distance", distance=0.5, islands="drop")


# --- real bundled boundaries --------------------------------------------------------------------


def test_real_boroughs_city_of_london():
    b = read_bundled("lad2022")
    b = b[b["level"] == "borough"]
    g = build_weights(b, "queen")
    assert g.n_nodes == 33 and g.report.islands == ()
    names = b.set_index("code")["name"]
    city = [names[c] for c in nbrs(g, "E09000001")]
    # documented in vru.model.weights: the bank-to-bank boundaries keep the Thames between
    assert sorted(city) == ["Camden", "Hackney", "Islington", "Tower Hamlets", "Westminster"]


@pytest.mark.slow
def test_real_lsoa_queen_weights():
    g = build_weights(read_bundled("lsoa2011"), "queen")
    rep = g.report
    assert g.n_nodes == 4835 and rep.islands == () and rep.n_components == 1
    card = g.cardinalities
    assert card.min() >= 1
    # symmetric: every ordered pair has its reverse
    adj = g.adjacency.reset_index()
    pairs = set(zip(adj["focal"], adj["neighbor"], strict=True))
    assert all((b, a) in pairs for a, b in pairs)
