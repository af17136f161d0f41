"""vru.model.weights.SpatialWeights: the one form of spatial weights (constructors, coercion at
the edge, the report), its use by targeting and spillover rings, and vru.api.hotspots on areas
that are not London's."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely
from libpysal.graph import Graph
from libpysal.weights import lat2W

from vru import api
from vru.analysis import evaluation as ev
from vru.analysis import hotspots as hs
from vru.analysis import targeting as tg
from vru.errors import VRUError
from vru.model.areas import AreaSet
from vru.model.weights import SpatialWeights, WeightsReport

# A 6 x 6 grid of 500 m squares somewhere in the Midlands (not London), codes "g<x><y>".
SIDE = 500
CELLS = [(x, y) for y in range(6) for x in range(6)]
GRID = gpd.GeoDataFrame(
    {"code": [f"g{x}{y}" for x, y in CELLS]},
    geometry=[shapely.box(400_000 + SIDE * x, 280_000 + SIDE * y, 400_000 + SIDE * (x + 1),
                          280_000 + SIDE * (y + 1)) for x, y in CELLS], crs=27700)


def _cube(seed=5, years=range(2016, 2024)) -> gpd.GeoDataFrame:
    """Counts per cell and year; the 3 x 3 top-right corner is high and rising."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, t in enumerate(years):
        for (x, y), geom in zip(CELLS, GRID.geometry, strict=True):
            hot = x >= 3 and y >= 3
            rows.append({"code": f"g{x}{y}", "year": t, "count": int(rng.poisson(20 + 3 * i if hot
                                                                                  else 4)),
                         "geometry": geom})
    return gpd.GeoDataFrame(rows, crs=27700)


# --- the object ----------------------------------------------------------------------------------


def test_from_areas_has_graph_policy_and_report():
    w = SpatialWeights.from_areas(AreaSet.from_geodataframe(GRID), "rook")
    assert isinstance(w.graph, Graph) and w.policy == "keep"
    assert isinstance(w.report, WeightsReport)
    assert w.report.cardinality_range == (2, 4)
    assert w.report.mean_cardinality == pytest.approx(2 * (2 * 6 * 5) / 36)
    assert w.neighbours()["g00"] == ["g10", "g01"]
    assert list(w.ids) == list(GRID["code"]) and w.n == 36
    with pytest.raises(dataclasses.FrozenInstanceError):
        w.policy = "drop"


def test_sparse_is_a_copy():
    w = SpatialWeights.from_geodataframe(GRID, "queen")
    m = w.sparse
    m.data[:] = 5.0
    assert set(w.sparse.data) == {1.0}


def test_coerce_accepts_graph_w_matrix_and_pairs_and_gives_the_same_hot_spots():
    y = np.random.default_rng(2).poisson(5, 25).astype(float)
    lattice = lat2W(5, 5, rook=True)
    ids = list(range(25))
    graph = Graph.build_contiguity(gpd.GeoDataFrame(
        geometry=[shapely.box(i % 5, i // 5, i % 5 + 1, i // 5 + 1) for i in ids]), rook=True)
    adj = graph.adjacency.reset_index()
    forms = [lattice, graph, lattice.sparse, lattice.full()[0],
             adj.rename(columns={"weight": "w"}), SpatialWeights.from_graph(graph)]
    ref = hs.getis_ord(y, forms[0])["z"].to_numpy()
    for f in forms[1:]:
        np.testing.assert_array_equal(hs.getis_ord(y, f)["z"].to_numpy(), ref)
    assert SpatialWeights.coerce(lattice.sparse).ids is None  # a bare matrix names no area
    assert list(SpatialWeights.coerce(lattice.sparse, ids=list("abcdefghijklmnopqrstuvwxy")).ids)[:2] \
        == ["a", "b"]


def test_coerce_refuses_what_it_cannot_read():
    with pytest.raises(TypeError, match="not list"):
        SpatialWeights.coerce([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="3 ids given for 2 areas"):
        SpatialWeights.coerce(np.array([[0.0, 1.0], [1.0, 0.0]]), ids=["a", "b", "c"])
    with pytest.raises(ValueError, match="duplicate area ids"):
        SpatialWeights.coerce(np.array([[0.0, 1.0], [1.0, 0.0]]), ids=["a", "a"])
    g = SpatialWeights.from_geodataframe(GRID, "queen")
    with pytest.raises(ValueError, match="ids differ"):
        SpatialWeights.coerce(g, ids=list(reversed(g.ids)))
    with pytest.raises(ValueError, match="no column 'neighbor'"):
        SpatialWeights.from_pairs(pd.DataFrame({"focal": ["a"], "nb": ["b"]}))
    with pytest.raises(ValueError, match="not in ids"):
        SpatialWeights.from_pairs(pd.DataFrame({"focal": ["a"], "neighbor": ["b"]}), ids=["a"])
    with pytest.raises(ValueError, match="infinite"):
        SpatialWeights.coerce(sp.csr_array(np.array([[0.0, np.inf], [1.0, 0.0]])))


def test_pairs_with_ids_keep_the_islands():
    w = SpatialWeights.from_pairs(pd.DataFrame({"focal": ["a", "b"], "neighbor": ["b", "a"]}),
                                  ids=["a", "b", "c"])
    assert w.report.islands == ("c",) and list(w.islands) == [False, False, True]


# --- users: targeting and spillover ----------------------------------------------------------------


def test_spillover_rings_same_from_weights_graph_and_pairs():
    w = SpatialWeights.from_geodataframe(GRID, "rook")
    treated = {"g22": 5, "g44": 3}
    a = ev.spillover_rings(w, treated, rings=2)
    pairs = w.adjacency.reset_index()
    pd.testing.assert_frame_equal(a, ev.spillover_rings(pairs, treated, rings=2))
    pd.testing.assert_frame_equal(a, ev.spillover_rings(w.graph, treated, rings=2))
    assert set(a.loc[a["ring"] == 1, "area"]) == {"g12", "g32", "g21", "g23", "g34", "g54", "g43",
                                                   "g45"}
    with pytest.raises(ev.EvaluationError, match="spillover neighbours"):
        ev.spillover_rings("queen", treated)


def test_grow_clusters_same_from_weights_and_pairs():
    w = SpatialWeights.from_geodataframe(GRID, "queen")
    frame = pd.DataFrame({"borough": ["B1" if x < 3 else "B2" for x, _ in CELLS],
                          "population": 1500}, index=GRID["code"].to_numpy())
    frame = frame.assign(**{c: 1.0 for c in tg.AREA_COLUMNS if c not in frame.columns})
    score = pd.Series(np.arange(36.0), index=frame.index)
    a = tg.grow_clusters(frame, w, score, max_lsoas=4, target_population=6000)
    b = tg.grow_clusters(frame, w.adjacency.reset_index(), score, max_lsoas=4,
                         target_population=6000)
    pd.testing.assert_frame_equal(a, b)
    borough = frame["borough"]
    for _, m in a.groupby("group")["area"]:
        assert borough[list(m)].nunique() == 1 and len(m) <= 4


# --- vru.api.hotspots on areas that are not London's ----------------------------------------------


def test_api_hotspots_on_your_own_areas_one_period():
    one = _cube().query("year == 2023")
    res = api.hotspots(one, value="count")
    r = res.areas
    assert list(r["code"]) == list(GRID["code"]) and r.crs.to_epsg() == 27700
    w = SpatialWeights.from_geodataframe(GRID, "queen")
    direct = hs.getis_ord(pd.Series(one["count"].to_numpy(float), index=one["code"]), w)
    np.testing.assert_allclose(r["gi_z"].to_numpy(), direct["z"].to_numpy())
    np.testing.assert_allclose(r["gi_q"].to_numpy(), hs.fdr_bh(direct["p"].to_numpy()))
    hot = set(r.loc[r["hotspot"] == "hot", "code"])
    assert "g44" in hot and "g55" in hot and not hot & {"g00", "g10", "g01"}
    assert res.notes == ("Queen weights (binary) on 36 areas; no islands",)


def test_api_hotspots_on_your_own_areas_emerging_in_any_crs(tmp_path):
    data = _cube().to_crs(4326)  # longitude/latitude: reprojected to British National Grid
    res = api.hotspots(data, tmp_path / "out.csv", value="count", period="year")
    r = res.areas
    assert r["n_periods"].unique().tolist() == [8]
    assert res.periods == tuple(str(t) for t in range(2016, 2024))
    cats = r.set_index("code")["category"]
    assert cats["g44"] in ("Persistent Hot Spot", "Intensifying Hot Spot")
    assert cats["g00"] == "No Pattern Detected"
    assert (tmp_path / "out.csv").read_text().startswith('"code","name","category"')


@pytest.mark.parametrize("change, kwargs, message", [
    (lambda d: d, {"value": "crimes"}, "no value column 'crimes'"),
    (lambda d: d.assign(count=d["count"].astype(str)), {}, "column 'count' holds"),
    (lambda d: d.assign(count=np.where(d.index == 3, np.nan, d["count"])), {},
     r"column 'count': row 3 \(area 'g30', period 2016\) has no finite value"),
    (lambda d: d.drop(index=5), {}, "area 'g50' has no row for period 2016"),
    (lambda d: pd.concat([d, d.iloc[[0]]]), {}, "appears more than once"),
    (lambda d: d, {"level_of_detail": 1}, "'level_of_detail' do"),
    (lambda d: d, {"rule": "bishop"}, "unknown neighbour rule"),
    (lambda d: d.set_crs(None, allow_override=True), {}, "no coordinate reference system"),
])
def test_api_hotspots_bad_input_names_the_column(change, kwargs, message):
    args = {"value": "count", "period": "year", **kwargs}
    with pytest.raises(VRUError, match=message):
        api.hotspots(change(_cube()), **args)


def test_api_hotspots_refuses_a_table_without_geometry_and_mixed_arguments(tmp_path):
    with pytest.raises(VRUError, match="need geometry"):
        api.hotspots(pd.DataFrame(_cube().drop(columns="geometry")), value="count")
    with pytest.raises(VRUError, match="apply to your own areas"):
        api.hotspots(tmp_path / "none.duckdb", period="year")
