"""vru.geography.grids: square and hexagonal grids, point assignment, counts per cell and period,
data.police.uk points (reconciled with the street loader's counts on the bundled files)."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from vru.errors import SourceError
from vru.geography import grids
from vru.geography.weights import build_weights
from vru.sources.police_uk_points import police_uk_points

BUNDLED_STREET = sorted(
    (Path(__file__).resolve().parents[1] / "src" / "vru" / "data" / "bundled"
     / "police_uk_street_city_of_london_2023").glob("*-street.csv.gz"))


def pts(xy) -> gpd.GeoSeries:
    a = np.asarray(xy, dtype=float)
    return gpd.GeoSeries(gpd.points_from_xy(a[:, 0], a[:, 1]), crs=27700)


# --- square grids ---------------------------------------------------------------------------------


def test_square_grid_over_points_and_known_counts():
    # 100 m cells anchored at 0: points in cells (0,0) x2, (1,0) x1, (2,1) x3; (1,1) empty
    xy = [(10, 10), (99.9, 50), (100, 0), (250, 150), (201, 199), (299, 101)]
    g = grids.square_grid(pts(xy), 100)
    assert g.cells["cell_id"].tolist() == ["s100m:0:0", "s100m:1:0", "s100m:2:0",
                                           "s100m:0:1", "s100m:1:1", "s100m:2:1"]
    np.testing.assert_allclose(g.cells.area, 10_000)
    a = np.array(xy)
    r = grids.count_points(g, a[:, 0], a[:, 1])
    assert r.counts["count"].tolist() == [2, 1, 0, 0, 0, 3]
    assert (r.n_points, r.n_no_location, r.n_outside) == (6, 0, 0)
    assert not r.counts.attrs  # the figures are fields of the result, not metadata of the table


def test_square_cells_are_half_open():
    g = grids.square_grid(shapely.box(0, 0, 200, 200), 100)
    assert len(g.cells) == 4  # cells only touching the box are not kept
    # a point on the shared edge x = 100 goes right, y = 100 goes up; x = 200 is outside
    assert g.assign([100, 0, 200], [0, 100, 50]).tolist() == ["s100m:1:0", "s100m:0:1", None]


def test_anchor_and_ids_are_stable_across_extents():
    a = grids.square_grid(shapely.box(0, 0, 1000, 1000), 250)
    b = grids.square_grid(shapely.box(490, 490, 760, 520), 250)
    assert set(b.cells["cell_id"]) <= set(a.cells["cell_id"])
    assert b.cells["cell_id"].tolist() == ["s250m:1:1", "s250m:2:1", "s250m:3:1",
                                           "s250m:1:2", "s250m:2:2", "s250m:3:2"]
    shifted = grids.square_grid(shapely.box(0, 0, 100, 100), 100, anchor=(50, 50))
    assert shifted.cells["cell_id"].tolist() == ["s100m:-1:-1", "s100m:0:-1", "s100m:-1:0",
                                                 "s100m:0:0"]


def test_polygon_grid_keeps_cells_meeting_the_polygon():
    # an L-shaped polygon over cells (0,0), (1,0), (0,1) of a 100 m grid
    L = shapely.Polygon([(0, 0), (200, 0), (200, 100), (100, 100), (100, 200), (0, 200)])
    g = grids.square_grid(gpd.GeoDataFrame(geometry=[L], crs=27700), 100)
    assert g.cells["cell_id"].tolist() == ["s100m:0:0", "s100m:1:0", "s100m:0:1"]
    every = grids.square_grid(gpd.GeoDataFrame(geometry=[L], crs=27700), 100, keep="all")
    assert len(every.cells) == 4


def test_counts_per_period_zero_filled():
    xy = np.array([(10, 10), (20, 20), (150, 50), (150, 60), (150, 70)], dtype=float)
    per = ["2023-01", "2023-02", "2023-01", "2023-01", "2023-03"]
    g = grids.square_grid(pts(xy), 100)
    c = grids.count_points(g, xy[:, 0], xy[:, 1], period=per).counts
    assert list(c.columns) == ["2023-01", "2023-02", "2023-03"]
    assert c.loc["s100m:0:0"].tolist() == [1, 1, 0]
    assert c.loc["s100m:1:0"].tolist() == [2, 0, 1]
    full = grids.count_points(g, xy[:, 0], xy[:, 1], period=per,
                              periods=["2023-01", "2023-02", "2023-03", "2023-04"]).counts
    assert full["2023-04"].tolist() == [0, 0]
    w = grids.count_points(g, xy[:, 0], xy[:, 1], period=per, weight=[1, 2, 3, 4, 5]).counts
    assert w.loc["s100m:1:0"].tolist() == [7, 0, 5]
    with pytest.raises(ValueError, match="periods not asked for"):
        grids.count_points(g, xy[:, 0], xy[:, 1], period=per, periods=["2023-01"])


def test_points_without_location_or_outside_are_reported():
    g = grids.square_grid(shapely.box(0, 0, 200, 100), 100)
    r = grids.count_points(g, [50, np.nan, 500, 150], [50, np.nan, 500, 50])
    assert r.counts["count"].tolist() == [1, 1]
    assert (r.n_points, r.n_no_location, r.n_outside) == (4, 1, 1)
    with pytest.raises(ValueError, match="weight of point 1 is missing"):
        grids.count_points(g, [50, 60], [50, 60], weight=[1, np.nan])


# --- hexagonal grids ------------------------------------------------------------------------------


def test_hex_cells_tile_without_gaps_or_overlap():
    area = shapely.box(0, 0, 1000, 800)
    g = grids.hex_grid(area, 100)
    hexes = g.cells.geometry.to_numpy()
    expected = math.sqrt(3) / 2 * 100**2
    np.testing.assert_allclose(shapely.area(hexes), expected, rtol=1e-12)
    assert g.cell_area == pytest.approx(expected)
    union = shapely.union_all(hexes)
    # no overlap: the union's area is the sum of the cells' areas
    assert union.area == pytest.approx(len(hexes) * expected, rel=1e-9)
    # no gap: the area is covered
    assert area.difference(union).area == pytest.approx(0, abs=1e-6)
    # neighbours share exactly one edge of length side = size / sqrt(3)
    tree = shapely.STRtree(hexes)
    i, j = tree.query(hexes, predicate="intersects")
    i, j = i[i != j], j[i != j]
    inter = shapely.intersection(hexes[i], hexes[j])
    assert np.all(shapely.area(inter) < 1e-6)
    np.testing.assert_allclose(shapely.length(inter), 100 / math.sqrt(3), rtol=1e-9)


def test_hex_assignment_equals_point_in_polygon():
    area = shapely.box(0, 0, 2000, 1500)
    g = grids.hex_grid(area, 130, anchor=(7, 3))
    rng = np.random.default_rng(42)
    xy = rng.uniform([0, 0], [2000, 1500], size=(5000, 2))
    got = g.assign(xy[:, 0], xy[:, 1])
    j = gpd.sjoin(gpd.GeoDataFrame(geometry=pts(xy)), g.cells[["cell_id", "geometry"]],
                  predicate="within", how="left")
    assert not j.index.duplicated().any()  # random points are never on an edge
    assert (j["cell_id"].to_numpy() == got).all()


def test_hex_known_cells():
    g = grids.hex_grid(shapely.box(0, 0, 300, 300), 100)
    # centres: (0,0) at (0,0); (0,1) at (50, 86.6); (1,0) at (100, 0)
    assert g.assign([0, 49, 51, 50, 100], [0, 0, 0, 86, 10]).tolist() == [
        "h100m:0:0", "h100m:0:0", "h100m:1:0", "h100m:0:1", "h100m:1:0"]
    c = g.cells.set_index("cell_id").loc["h100m:0:1"].geometry.centroid
    assert (c.x, c.y) == pytest.approx((50, 100 * math.sqrt(3) / 2))


def test_hex_grid_weights_have_six_neighbours_inside():
    g = grids.hex_grid(shapely.box(0, 0, 1000, 1000), 100)
    rook = build_weights(g.cells, "rook", id_col="cell_id")
    queen = build_weights(g.cells, "queen", id_col="cell_id")
    assert rook.cardinalities.max() == 6 and queen.n_edges == rook.n_edges
    sq = grids.square_grid(shapely.box(0, 0, 1000, 1000), 100)
    assert build_weights(sq.cells, "queen", id_col="cell_id").cardinalities.max() == 8


def test_bad_grid_parameters():
    with pytest.raises(ValueError, match="unknown grid kind"):
        grids.make_grid(shapely.box(0, 0, 1, 1), 1, "triangle")
    with pytest.raises(ValueError, match="positive number"):
        grids.square_grid(shapely.box(0, 0, 1, 1), 0)
    with pytest.raises(ValueError, match="no CRS"):
        grids.square_grid(gpd.GeoSeries([shapely.box(0, 0, 1, 1)]), 1)
    with pytest.raises(ValueError, match="larger cell size"):
        grids.square_grid(shapely.box(0, 0, 1e6, 1e6), 1)
    with pytest.raises(ValueError, match="not a longitude/latitude"):
        grids.to_bng([530000], [180000])


def test_grid_in_another_crs_is_reprojected():
    lonlat = gpd.GeoSeries(gpd.points_from_xy([-0.1276, -0.0877], [51.5072, 51.5055]), crs=4326)
    g = grids.square_grid(lonlat, 1000)
    x, y = grids.to_bng(lonlat.x, lonlat.y)
    assert all(c is not None for c in g.assign(x, y))


def test_to_bng_nan_and_real_points_fall_in_their_lsoa():
    x, y = grids.to_bng([np.nan, -0.1], [51.5, np.nan])
    assert np.isnan(x).all() and np.isnan(y).all()
    # data.police.uk gives each crime's LSOA from its snapped point: reprojected, the points lie
    # in their LSOA polygon (bundled boundaries, generalised to 20 m) or within 20 m of it
    from vru.sources.boundaries import read_bundled

    p = police_uk_points(BUNDLED_STREET).dropna(subset=["x"])
    lsoa = pd.concat([read_bundled("lsoa2011"), read_bundled("lsoa2021")])
    lsoa = lsoa.drop_duplicates("code").set_index("code").geometry
    poly = gpd.GeoSeries(lsoa.reindex(p["lsoa_code"]).to_numpy(), crs=27700)
    d = gpd.GeoSeries(gpd.points_from_xy(p["x"], p["y"]), crs=27700).distance(poly)
    assert d.notna().all()
    assert (d == 0).mean() > 0.95 and d.max() < 20


# --- data.police.uk points --------------------------------------------------------------------------


@pytest.mark.slow
def test_police_uk_points_reconcile_with_the_street_loader():
    from vru.sources import police_uk

    p = police_uk_points(BUNDLED_STREET)
    batch = police_uk.load_many(BUNDLED_STREET)
    crime = batch.tables["crime"]
    assert len(p) == int(crime["count"].sum())
    mine = (p.assign(area=p["lsoa_code"].fillna("X-NO-LOCATION"),
                     month=pd.to_datetime(p["month"] + "-01"))
            .groupby(["area", "month", "category"]).size().sort_index())
    theirs = crime.set_index(["area_code", "month", "category"])["count"].sort_index()
    assert mine.to_numpy().tolist() == theirs.astype(int).to_numpy().tolist()
    assert mine.index.tolist() == [(a, pd.Timestamp(m), c) for a, m, c in theirs.index]
    assert p["x"].isna().sum() == int(crime.loc[crime["area_code"] == "X-NO-LOCATION",
                                                "count"].sum())
    # every located crime falls in a 250 m hex cell of a grid over the points; the totals agree
    loc = p.dropna(subset=["x"])
    g = grids.hex_grid(gpd.GeoSeries(gpd.points_from_xy(loc["x"], loc["y"]), crs=27700), 250)
    r = grids.count_points(g, p["x"], p["y"], period=p["month"])
    c = r.counts
    assert list(c.columns) == [f"2023-0{m}" for m in range(1, 7)]
    assert c.to_numpy().sum() == len(loc)
    assert r.n_no_location == len(p) - len(loc) and r.n_outside == 0
    # City of London points lie in the City or next to it (British National Grid, metres)
    assert 525_000 < loc["x"].median() < 536_000 and 176_000 < loc["y"].median() < 186_000


def test_police_uk_points_refuse_a_bad_file(tmp_path):
    bad = tmp_path / "2023-01-city-of-london-street.csv"
    bad.write_text(
        "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
        "LSOA name,Crime type,Last outcome category,Context\n"
        "abc,2023-01,City of London Police,City of London Police,-0.1,north,On or near X,"
        "E01000001,City of London 001A,Robbery,,\n")
    with pytest.raises(SourceError) as e:
        police_uk_points([bad])
    assert e.value.row == 2 and e.value.column == "Latitude"


def test_grid_counts_feed_the_emerging_hot_spot_analysis():
    from vru.analysis.emerging import emerging_hotspots

    p = police_uk_points(BUNDLED_STREET)
    loc = p.dropna(subset=["x"])
    g = grids.hex_grid(gpd.GeoSeries(gpd.points_from_xy(loc["x"], loc["y"]), crs=27700), 250)
    counts = grids.count_points(g, p["x"], p["y"], period=p["month"]).counts
    w = build_weights(g.cells, "queen", id_col="cell_id", islands="drop")
    res = emerging_hotspots(counts.loc[list(w.unique_ids)], w, global_window="period", time_lag=1)
    assert len(res.summary) == len(w.unique_ids) and res.bins.shape[1] == 6
    # the busiest cell is a significant hot spot in the last month
    busiest = counts.sum(axis=1).idxmax()
    assert res.bins.loc[busiest].iloc[-1] == 1
