"""vru.model.areas.AreaSet: construction from a user's GeoDataFrame (any CRS) and from the
warehouse, and the messages for bad input (each names the column and the type)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from vru.errors import VRUError
from vru.model.areas import AreaError, AreaSet
from vru.model.weights import SpatialWeights

# a self-intersecting "bow-tie": its two triangles meet at (5, 5)
BOW_TIE = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])


def _squares(crs=27700) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": ["a", "b", "c"], "label": ["North", "South", None], "district": ["D1", "D1", "D2"]},
        geometry=[shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100),
                  shapely.box(500, 500, 600, 600)], crs=crs)


def test_from_geodataframe_keeps_codes_names_parents_in_order():
    a = AreaSet.from_geodataframe(_squares(), name="label", parent="district", level="beat",
                                  vintage="2024")
    assert list(a.codes) == ["a", "b", "c"] and len(a) == 3
    assert list(a.names) == ["North", "South", "c"]  # a missing name falls back to the code
    assert list(a.parent) == ["D1", "D1", "D2"]
    assert a.level == "beat" and a.vintage == "2024"
    assert a.frame.crs.to_epsg() == 27700
    assert a.geometry.iloc[0].equals(shapely.box(0, 0, 100, 100))
    assert list(a.subset(["c", "a"]).codes) == ["c", "a"]
    assert list(a.to_geodataframe().columns) == ["code", "name", "parent", "geometry"]


def test_longitude_latitude_is_reprojected_to_british_national_grid():
    pts = gpd.GeoDataFrame({"code": [1, 2]}, geometry=[shapely.Point(-0.1276, 51.5072),
                                                        shapely.Point(-2.2426, 53.4808)], crs=4326)
    a = AreaSet.from_geodataframe(pts)
    x, y = a.geometry.iloc[0].x, a.geometry.iloc[0].y
    # Trafalgar Square is near (530,000, 180,500) in British National Grid
    assert 529_000 < x < 531_000 and 179_500 < y < 181_500
    assert list(a.codes) == [1, 2]  # whole-number codes are kept


def test_the_frame_is_a_copy():
    g = _squares()
    a = AreaSet.from_geodataframe(g)
    g.loc[0, "code"] = "changed"
    assert list(a.codes) == ["a", "b", "c"]
    with pytest.raises(AttributeError):
        a.level = "other"  # frozen


@pytest.mark.parametrize("change, kwargs, message", [
    (lambda g: g.set_crs(None, allow_override=True), {}, "no coordinate reference system"),
    (lambda g: g.assign(code=[1.5, 2.5, 3.5]), {}, "column 'code' holds float64 values"),
    (lambda g: g.assign(code=[True, False, True]), {}, "column 'code' holds bool values"),
    (lambda g: g.assign(code=["a", "a", "b"]), {}, "column 'code': area code 'a' appears more"),
    (lambda g: g.assign(code=["a", None, "b"]), {}, "column 'code': row 1 has no area code"),
    (lambda g: g, {"code": "lsoa"}, "no code column 'lsoa'"),
    (lambda g: g, {"name": "title"}, "no name column 'title'"),
    (lambda g: g.assign(label=[1, 2, 3]), {"name": "label"}, "column 'label' holds int64 values"),
    (lambda g: g.assign(geometry=[shapely.box(0, 0, 1, 1), None, shapely.box(2, 2, 3, 3)]), {},
     "area 'b' has no geometry"),
    (lambda g: g.assign(geometry=[shapely.box(0, 0, 1, 1), shapely.Polygon(), shapely.box(2, 2, 3, 3)]),
     {}, r"area 'b' has no geometry \(it is empty\)"),
    (lambda g: g.assign(geometry=[BOW_TIE, shapely.box(0, 0, 1, 1), BOW_TIE]), {},
     r"2 areas \('a', 'c'\) have an invalid geometry \(Self-intersection\[5 5\]\)"),
    (lambda g: g.assign(geometry=[shapely.box(0, 0, 1, 1), shapely.LineString([(0, 0), (1, 1)]),
                                  shapely.box(2, 2, 3, 3)]), {}, "area 'b' has a LineString"),
    (lambda g: g.iloc[:0], {}, "no areas"),
])
def test_bad_areas_are_refused_naming_the_column(change, kwargs, message):
    with pytest.raises(AreaError, match=message) as e:
        AreaSet.from_geodataframe(change(_squares()), **kwargs)
    assert isinstance(e.value, VRUError) and isinstance(e.value, ValueError)


def test_an_invalid_polygon_is_refused_naming_the_area_and_how_to_mend_it():
    g = _squares().assign(geometry=[shapely.box(0, 0, 1, 1), BOW_TIE, shapely.box(2, 2, 3, 3)])
    with pytest.raises(AreaError, match=r"area 'b' has an invalid geometry \(Self-intersection\[5 5\]\)"
                       r".*make_valid.*repair=True"):
        AreaSet.from_geodataframe(g)
    # a fault's position is given in the user's coordinates, not British National Grid
    tie = shapely.Polygon([(0, 51), (0.1, 51.1), (0.1, 51), (0, 51.1)])
    ll = g.set_crs(None, allow_override=True).assign(
        geometry=[shapely.box(0, 51, 0.1, 51.1), tie, shapely.box(0.2, 51, 0.3, 51.1)]).set_crs(4326)
    with pytest.raises(AreaError, match=r"area 'b' has an invalid geometry \(Self-intersection\[0.05 51.05"):
        AreaSet.from_geodataframe(ll)
    # built directly, the same check
    with pytest.raises(AreaError, match="area 'b' has an invalid geometry"):
        AreaSet(g.set_index("code").rename(columns={"label": "name", "district": "parent"}), "beat")


def test_repair_mends_an_invalid_polygon_with_make_valid_and_reports_it():
    g = _squares().assign(geometry=[shapely.box(0, 0, 1, 1), BOW_TIE, shapely.box(2, 2, 3, 3)])
    a = AreaSet.from_geodataframe(g, repair=True)
    assert a.repaired == ("b",)
    mended = a.geometry["b"]
    assert mended.is_valid and mended.geom_type == "MultiPolygon" and len(mended.geoms) == 2
    assert mended.area == pytest.approx(50)  # the two triangles, 25 m2 each
    assert a.geometry["a"].equals(shapely.box(0, 0, 1, 1))  # valid ones untouched
    assert a.subset(["a", "b"]).repaired == ("b",) and a.subset(["c"]).repaired == ()
    assert AreaSet.from_geodataframe(_squares(), repair=True).repaired == ()
    # repair mends invalid geometry only: a missing or empty one is still refused
    with pytest.raises(AreaError, match=r"area 'c' has no geometry \(it is empty\)"):
        AreaSet.from_geodataframe(g.assign(geometry=[BOW_TIE, BOW_TIE, shapely.Polygon()]), repair=True)
    # nothing left once mended (a ring folded onto a line): refused
    flat = shapely.Polygon([(0, 0), (1, 1), (2, 2), (0, 0)])
    with pytest.raises(AreaError, match=r"area 'a' has an invalid geometry with no area"):
        AreaSet.from_geodataframe(g.assign(geometry=[flat, BOW_TIE, BOW_TIE]), repair=True)


def test_weights_of_a_repaired_bow_tie():
    g = _squares().assign(geometry=[shapely.box(10, 0, 20, 10), BOW_TIE, shapely.box(500, 500, 600, 600)])
    w = SpatialWeights.from_areas(AreaSet.from_geodataframe(g, code="code", repair=True), "rook")
    assert w.neighbours() == {"a": ["b"], "b": ["a"], "c": []}


def test_a_plain_dataframe_is_refused():
    with pytest.raises(AreaError, match="GeoDataFrame"):
        AreaSet.from_geodataframe(pd.DataFrame({"code": ["a"]}))


def test_direct_construction_checks_the_invariants():
    with pytest.raises(AreaError, match="British National Grid"):
        AreaSet(_squares(4326).set_index("code").rename(columns={"label": "name",
                                                                "district": "parent"}), "beat")
    with pytest.raises(AreaError, match="no column 'parent'"):
        AreaSet(_squares().set_index("code").rename(columns={"label": "name"}), "beat")


def test_weights_from_an_area_set():
    w = SpatialWeights.from_areas(AreaSet.from_geodataframe(_squares()), "rook")
    assert w.neighbours() == {"a": ["b"], "b": ["a"], "c": []}
    assert w.report.islands == ("c",) and w.report.n_components == 2


def test_from_warehouse(wh):
    a = AreaSet.from_warehouse(wh, "borough", "2022")
    assert len(a) == 33 and a.level == "borough" and a.vintage == "2022"
    assert a.names["E09000001"] == "City of London"
    some = AreaSet.from_warehouse(wh, "lsoa", "2011", codes=["E01000002", "E01000001"])
    assert list(some.codes) == ["E01000002", "E01000001"]
    assert set(some.parent) == {"E09000001"}
    with pytest.raises(AreaError, match="no lsoa 2099 areas"):
        AreaSet.from_warehouse(wh, "lsoa", "2099")
    with pytest.raises(AreaError, match="have no lsoa 2011 boundary"):
        AreaSet.from_warehouse(wh, "lsoa", "2011", codes=["E01000001", "X"])
