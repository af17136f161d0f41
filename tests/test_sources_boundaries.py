"""vru.sources.boundaries: hand-made shapefiles (zipped or not) with hand-computed answers, bad
input, and the real bundled boundary sets checked against their SOURCE.md (each read once)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from vru.errors import SourceError
from vru.geography.boroughs import BOROUGHS
from vru.sources import boundaries, registry

SHARED = Path("/work/shared/data/boundaries")


def shapefile(tmp_path: Path, attrs: dict, geoms, crs="EPSG:27700", name="areas",
              zipped=False) -> Path:
    gdf = gpd.GeoDataFrame(attrs, geometry=list(geoms), crs=crs)
    folder = tmp_path / f"{name}_dir"
    folder.mkdir(exist_ok=True)
    shp = folder / f"{name}.shp"
    gdf.to_file(shp, driver="ESRI Shapefile")
    if not zipped:
        return shp
    z = tmp_path / f"{name}.shp.zip"
    with zipfile.ZipFile(z, "w") as f:
        for part in folder.iterdir():
            f.write(part, part.name)
    return z


SQ1 = shapely.box(530000, 180000, 530100, 180100)
SQ2 = shapely.box(530100, 180000, 530200, 180100)


def lsoa11(tmp_path, zipped=False, **over):
    attrs = {"LSOA11CD": ["E01000001", "E01000002"], "LSOA11NM": ["City 001A", "City 001B"],
             "MSOA11CD": ["E02000001", "E02000001"], "LAD11CD": ["E09000001", "E09000001"]}
    attrs.update(over)
    return shapefile(tmp_path, attrs, [SQ1, SQ2], zipped=zipped)


@pytest.mark.parametrize("zipped", [False, True])
def test_lsoa2011_hand_made(tmp_path, zipped):
    p = lsoa11(tmp_path, zipped)
    assert boundaries.sniff(p)
    b = boundaries.load(p)
    df = b.tables["areas"]
    assert b.source == "boundaries"
    assert df[["level", "code", "vintage", "name", "parent_code"]].values.tolist() == [
        ["lsoa", "E01000001", "2011", "City 001A", "E09000001"],
        ["lsoa", "E01000002", "2011", "City 001B", "E09000001"]]
    g = shapely.from_wkb(df["geometry"].iloc[1])
    assert g.area == 100 * 100 and g.bounds == (530100, 180000, 530200, 180100)


def test_lsoa2021_and_ward_schemas(tmp_path):
    p = shapefile(tmp_path, {"LSOA21CD": ["E01035000"], "LSOA21NM": ["Hackney 034F"],
                             "LAD22CD": ["E09000012"], "LAD22NM": ["Hackney"]}, [SQ1],
                  name="l21")
    df = boundaries.load(p).tables["areas"]
    assert df[["level", "code", "vintage", "parent_code"]].values.tolist() == [
        ["lsoa", "E01035000", "2021", "E09000012"]]
    ward = {"NAME": ["Abbey", "Brockley"], "GSS_CODE": ["E05000026", "E05011095"],
            "DISTRICT": ["Barking and Dagenham", "Southwark"],
            "LAGSSCODE": ["E09000002", "E09000028"], "HECTARES": [1.0, 1.0]}
    df = boundaries.load(shapefile(tmp_path, ward, [SQ1, SQ2], name="w")).tables["areas"]
    assert set(df["level"]) == {"ward"} and set(df["vintage"]) == {"2018"}
    assert df["parent_code"].tolist() == ["E09000002", "E09000028"]


def test_ward_vintage_is_refused_unless_the_codes_tell_it(tmp_path):
    ward = {"NAME": ["Abbey"], "GSS_CODE": ["E05000026"], "LAGSSCODE": ["E09000002"]}
    p = shapefile(tmp_path, ward, [SQ1], name="w2014")
    with pytest.raises(SourceError, match="ward boundary vintage"):
        boundaries.load(p)
    assert set(boundaries.load(p, vintage="2014").tables["areas"]["vintage"]) == {"2014"}
    later = {"NAME": ["New"], "GSS_CODE": ["E05013500"], "LAGSSCODE": ["E09000002"]}
    with pytest.raises(SourceError, match="ward boundary vintage"):
        boundaries.load(shapefile(tmp_path, later, [SQ1], name="w2022"))


def test_all_33_boroughs_give_a_london_region_row(tmp_path):
    codes = sorted(BOROUGHS)
    squares = [shapely.box(500000 + 1000 * i, 180000, 501000 + 1000 * i, 181000)
               for i in range(33)]
    p = shapefile(tmp_path, {"LAD22CD": codes, "LAD22NM": [BOROUGHS[c] for c in codes]},
                  squares, name="lad", zipped=True)
    df = boundaries.load(p).tables["areas"]
    assert len(df) == 34
    assert set(df[df["level"] == "borough"]["parent_code"]) == {"E12000007"}
    region = df[df["level"] == "region"]
    assert region[["code", "vintage", "name"]].values.tolist() == [["E12000007", "2022", "London"]]
    assert pd.isna(region["parent_code"].iloc[0])
    g = shapely.from_wkb(region["geometry"].iloc[0])
    assert g.area == pytest.approx(33 * 1000 * 1000)
    assert g.bounds == (500000, 180000, 533000, 181000)


def test_some_boroughs_only_no_region_row(tmp_path):
    p = shapefile(tmp_path, {"LAD22CD": ["E09000001", "E09000002"],
                             "LAD22NM": ["City of London", "Barking and Dagenham"]},
                  [SQ1, SQ2], name="two")
    b = boundaries.load(p)
    assert set(b.tables["areas"]["level"]) == {"borough"}
    assert any("only 2 of the 33" in n for n in b.notes)


def test_other_crs_is_reprojected(tmp_path):
    lonlat = shapely.box(-0.13, 51.50, -0.12, 51.51)
    p = shapefile(tmp_path, {"LSOA11CD": ["E01004736"], "LSOA11NM": ["Westminster 018A"],
                             "LAD11CD": ["E09000033"]}, [lonlat], crs="EPSG:4326", name="wgs")
    b = boundaries.load(p)
    assert any("reprojected from EPSG:4326" in n for n in b.notes)
    got = shapely.from_wkb(b.tables["areas"]["geometry"].iloc[0])
    t = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    x, y = t.transform(-0.13, 51.50)
    assert got.bounds[0] == pytest.approx(min(x, t.transform(-0.13, 51.51)[0]), abs=1e-3)
    assert 529_000 < got.centroid.x < 531_000 and 179_000 < got.centroid.y < 181_000


def test_no_crs_is_refused(tmp_path):
    p = lsoa11(tmp_path)
    p.with_suffix(".prj").unlink()
    with pytest.raises(SourceError, match="no coordinate reference system"):
        boundaries.load(p)


def test_invalid_geometry_is_repaired_with_a_note(tmp_path):
    bowtie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])  # two triangles of area 1
    assert not bowtie.is_valid
    b = boundaries.load(lsoa11_with(tmp_path, [SQ1, bowtie]))
    g = shapely.from_wkb(b.tables["areas"]["geometry"].iloc[1])
    assert g.is_valid and g.area == pytest.approx(2.0)
    assert any("1 invalid geometries repaired" in n for n in b.notes)


def lsoa11_with(tmp_path, geoms):
    return shapefile(tmp_path, {"LSOA11CD": ["E01000001", "E01000002"],
                                "LSOA11NM": ["a", "b"], "LAD11CD": ["E09000001"] * 2},
                     geoms, name="geo")


@pytest.mark.parametrize("over, column, message", [
    ({"LSOA11CD": ["E01000001", "E0100002"]}, "LSOA11CD", "not a lsoa GSS code"),
    ({"LSOA11CD": ["E01000001", "E01000001"]}, "LSOA11CD", "duplicate code"),
    ({"LSOA11NM": ["City 001A", ""]}, "LSOA11NM", "missing name"),
    ({"LAD11CD": ["E09000001", "City"]}, "LAD11CD", "not a local authority"),
])
def test_bad_attributes_name_the_feature(tmp_path, over, column, message):
    with pytest.raises(SourceError, match=message) as e:
        boundaries.load(lsoa11(tmp_path, **over))
    assert e.value.row == 2 and e.value.column == column
    assert "feature 2" in str(e.value)


def test_unknown_or_ambiguous_schema_is_refused(tmp_path):
    p = shapefile(tmp_path, {"NAME": ["x"], "GSS_CODE": ["E09000001"], "HECTARES": [1.0]},
                  [SQ1], name="datastore")
    with pytest.raises(SourceError, match="unknown boundary attribute schema"):
        boundaries.load(p)
    p = shapefile(tmp_path, {"LSOA11CD": ["E01000001"], "LSOA21CD": ["E01000001"],
                             "LSOA11NM": ["a"], "LAD11CD": ["E09000001"]}, [SQ1], name="both")
    with pytest.raises(SourceError, match="ambiguous"):
        boundaries.load(p)
    p = shapefile(tmp_path, {"LSOA11CD": ["E01000001"], "LSOA11NM": ["a"]}, [SQ1], name="nolad")
    with pytest.raises(SourceError, match="without attribute 'LAD11CD'") as e:
        boundaries.load(p)
    assert e.value.column == "LAD11CD"


def test_points_empty_and_truncated_files_are_refused(tmp_path):
    pts = shapefile(tmp_path, {"LSOA11CD": ["E01000001"], "LSOA11NM": ["a"],
                               "LAD11CD": ["E09000001"]}, [shapely.Point(1, 1)], name="pts")
    with pytest.raises(SourceError, match="not a polygon"):
        boundaries.load(pts)
    empty = tmp_path / "empty.shp"
    empty.write_bytes(b"")
    with pytest.raises(SourceError, match="empty"):
        boundaries.load(empty)
    z = lsoa11(tmp_path, zipped=True)
    z.write_bytes(z.read_bytes()[:200])
    with pytest.raises(SourceError, match="truncated or corrupt"):
        boundaries.load(z)


def test_sniff(tmp_path):
    assert boundaries.sniff(lsoa11(tmp_path, zipped=True))
    other = tmp_path / "data.zip"
    with zipfile.ZipFile(other, "w") as f:
        f.writestr("a.csv", "x,y\n")
    assert not boundaries.sniff(other)
    assert not boundaries.sniff(tmp_path / "a.csv")


def test_to_geodataframe_round_trip(tmp_path):
    df = boundaries.load(lsoa11(tmp_path)).tables["areas"]
    gdf = boundaries.to_geodataframe(df)
    assert gdf.crs.to_epsg() == 27700
    assert gdf.geometry.iloc[0].equals(SQ1)
    assert list(gdf["code"]) == ["E01000001", "E01000002"]


# --- real bundled files (each read once) --------------------------------------------------------

@pytest.fixture(scope="module")
def real() -> dict[str, pd.DataFrame]:
    out = {}
    for name in boundaries.BUNDLED:
        path = boundaries.bundled_path(name)
        assert registry.detect(path) is boundaries
        out[name] = boundaries.load(path).tables["areas"]
    return out


def test_real_counts_and_vintages(real):
    assert len(real["lsoa2011"]) == 4835 and set(real["lsoa2011"]["vintage"]) == {"2011"}
    assert len(real["lsoa2021"]) == 4994 and set(real["lsoa2021"]["vintage"]) == {"2021"}
    assert len(real["ward2018"]) == 633 and set(real["ward2018"]["vintage"]) == {"2018"}
    lad = real["lad2022"]
    assert (lad["level"] == "borough").sum() == 33 and (lad["level"] == "region").sum() == 1
    for name in ("lsoa2011", "lsoa2021", "ward2018"):
        assert real[name]["parent_code"].nunique() == 33
        assert set(real[name]["parent_code"]) == set(BOROUGHS)


def test_real_lsoa_code_overlap_between_vintages(real):
    c11, c21 = set(real["lsoa2011"]["code"]), set(real["lsoa2021"]["code"])
    assert (len(c11 & c21), len(c11 - c21), len(c21 - c11)) == (4659, 176, 335)


def test_real_lsoa2011_bbox(real):
    # SOURCE.md: bbox x 503,574-561,957, y 155,851-200,934 (rounded to the metre)
    x0, y0, x1, y1 = boundaries.to_geodataframe(real["lsoa2011"]).total_bounds
    assert [round(v) for v in (x0, x1, y0, y1)] == [503_574, 561_957, 155_851, 200_934]


def test_real_wards(real):
    w = real["ward2018"]
    city = w[w["code"] == "E05009297"]
    assert city["name"].tolist() == ["Castle Baynard"]
    assert city["parent_code"].tolist() == ["E09000001"]
    prefixes = w["code"].str[:6].value_counts().to_dict()
    assert prefixes == {"E05000": 483, "E05011": 90, "E05009": 60}


def test_real_boroughs_and_region(real):
    lad = real["lad2022"]
    boroughs = lad[lad["level"] == "borough"]
    assert dict(zip(boroughs["code"], boroughs["name"], strict=True)) == BOROUGHS
    gdf = boundaries.to_geodataframe(lad)
    region = gdf[gdf["level"] == "region"].geometry.iloc[0]
    assert region.is_valid
    assert region.area == pytest.approx(gdf[gdf["level"] == "borough"].area.sum(), rel=1e-9)


def test_unzipped_original_gives_the_same_rows(real):
    shp = SHARED / "boroughs_lad22_gen20" / "london-2021-lad22-gen20.shp"
    if not shp.exists():
        pytest.skip("original shapefiles not present")
    pd.testing.assert_frame_equal(boundaries.load(shp).tables["areas"], real["lad2022"])


def test_london_datastore_geojson_is_refused_not_guessed():
    p = SHARED / "boroughs_geojson" / "london_boroughs.geojson"
    if not p.exists():
        pytest.skip("original GeoJSON not present")
    with pytest.raises(SourceError, match="unknown boundary attribute schema"):
        boundaries.load(p)
