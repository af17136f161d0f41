"""The hot spot pipeline and section: hand-made warehouses with known answers (every bad-input
treatment), the real London warehouse (oracle run, documented facts, levels, weighting, rates),
the parameters, the output files and the report section; and the categorical map."""

from __future__ import annotations

import dataclasses
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from libpysal.graph import Graph

from vru.analysis import harm
from vru.analysis.emerging import emerging_hotspots
from vru.data import harm_tables
from vru.outputs import charts_hotspots, hotspot_files
from vru.outputs.sections import hotspots as section
from vru.pipelines import hotspots as ph
from vru.pipelines.base import MissingData, ParamsError
from vru.schema import Batch, conform
from vru.sources.boundaries import to_geodataframe
from vru.warehouse import queries as q
from vru.warehouse.store import Warehouse

SRC = "mps_lsoa_annual_millington"
WESTMINSTER = "E09000033"

# --- hand-made warehouses -------------------------------------------------------------------------
# A 5 x 5 grid of 1 km squares, codes L<col><row>. The 2 x 2 corner L00, L10, L01, L11 has 50
# violent offences a year, every other square 5. Each year against itself (N = 25): mean 12.2,
# population SD S = sqrt(421 - 12.2^2) = 16.50. Gi* of L00 with no time lag (itself + 3
# neighbours, W = 4): z = (200 - 4 x 12.2) / (S sqrt((25 x 4 - 16) / 24)) = 4.90; with the default
# time step of one year the neighbourhood also holds last year's 4 bins (W = 8):
# z = (400 - 8 x 12.2) / (S sqrt((25 x 8 - 64) / 24)) = 7.70. A hot spot every year with no
# trend: Persistent.

CODES = [f"L{c}{r}" for r in range(5) for c in range(5)]
HOT = {"L00", "L10", "L01", "L11"}
YEARS = list(range(2011, 2017))


def square(code):
    c, r = int(code[1]), int(code[2])
    return shapely.box(c * 1000, r * 1000, (c + 1) * 1000, (r + 1) * 1000)


def make_wh(path, *, codes=CODES, extra_areas=(), counts=None, years=YEARS, robbery=False,
            population=None):
    """A warehouse with LSOA areas (2011 vintage: the grid and ``extra_areas``), 2018 wards and
    crime_annual rows for ``codes``."""
    geoms = {c: square(c) for c in CODES}
    geoms.update(dict(extra_areas))
    areas = pd.DataFrame({
        "level": "lsoa", "code": list(geoms), "vintage": "2011",
        "name": [f"Area {c}" for c in geoms], "parent_code": WESTMINSTER,
        "geometry": [shapely.to_wkb(g) for g in geoms.values()]})
    # two 2018 wards: west (x < 2500) and east
    wards = pd.DataFrame({
        "level": "ward", "code": ["E05000001", "E05000002"], "vintage": "2018",
        "name": ["West ward", "East ward"], "parent_code": WESTMINSTER,
        "geometry": [shapely.to_wkb(shapely.box(-1e4, -1e4, 2500, 1e4)),
                     shapely.to_wkb(shapely.box(2500, -1e4, 1e5, 1e4))]})
    counts = counts or {}
    rows = []
    for c in codes:
        for y in years:
            v = counts.get((c, y), 50.0 if c in HOT else 5.0)
            rows.append((c, y, "violence_against_the_person", v))
            if robbery:
                rows.append((c, y, "robbery", 2.0 if c == "L44" else 1.0))
    crime = pd.DataFrame(rows, columns=["area_code", "year", "category", "count"]).assign(
        source=SRC, level="lsoa")
    tables = {"areas": conform("areas", pd.concat([areas, wards], ignore_index=True)),
              "crime_annual": conform("crime_annual", crime)}
    if population is not None:
        pop = pd.DataFrame({"source": "test", "level": "lsoa", "area_code": list(population),
                            "year": 2020, "sex": "persons", "age_band": "all",
                            "population": list(population.values())})
        tables["population"] = conform("population", pop)
    wh = Warehouse.create(path)
    wh.write([(Batch(path="hand-made", source="test", tables=tables), "sha-hand-made")])
    return wh


def results(wh, **params):
    """The pipeline's area table for ``params`` (no harm comparison)."""
    return ph.run(wh, ph.HotspotParams(**params), compare=False)


def table(wh, **params):
    return results(wh, **params).areas.set_index("code")


@pytest.fixture
def grid_wh(tmp_path):
    wh = make_wh(tmp_path / "grid.duckdb")
    yield wh
    wh.close()


def test_hand_made_persistent_corner(grid_wh):
    res = results(grid_wh)
    r = res.areas.set_index("code")
    assert res.periods == tuple(str(y) for y in YEARS)
    assert set(r.index[r["category"] == "Persistent Hot Spot"]) >= HOT
    assert (r.loc[sorted(HOT), "n_hot"] == 6).all() and (r.loc[sorted(HOT), "share_hot"] == 1).all()
    # z of L00, hand-computed above
    s = np.sqrt(421 - 12.2**2)
    assert r.at["L00", "last_z"] == pytest.approx((400 - 8 * 12.2) / (s * np.sqrt(136 / 24)))
    r0 = table(grid_wh, time_lag=0)
    assert r0.at["L00", "last_z"] == pytest.approx((200 - 4 * 12.2) / (s * np.sqrt(84 / 24)))
    assert r.at["L44", "category"] == "No Pattern Detected" and r.at["L44", "n_hot"] == 0
    assert r.at["L00", "ward_name"] == "West ward" and r.at["L44", "ward_name"] == "East ward"
    assert r.at["L00", "borough_name"] == "Westminster"
    assert r.at["L00", "mean_value"] == 50 and r.at["L00", "last_value"] == 50
    assert r.crs.to_epsg() == 27700 and r.at["L00", "geometry"].equals(square("L00"))


def test_nan_count_in_a_year_with_data_is_refused(tmp_path):
    wh = make_wh(tmp_path / "w.duckdb", counts={("L22", 2013): np.nan})
    with pytest.raises(ValueError, match="area L22 in 2013"):
        results(wh)
    wh.close()


def test_a_year_without_data(tmp_path):
    # 2013 is wrong in the source (every value missing), like the real file's 2020
    wh = make_wh(tmp_path / "w.duckdb", counts={(c, 2013): np.nan for c in CODES})
    r = results(wh)
    # the longest run of consecutive years with data: 2014-2016 (3) beats 2011-2012 (2)
    assert r.periods == ("2014", "2015", "2016")
    assert any("2013" in n and "2014-2016" in n for n in r.notes)
    with pytest.raises(ValueError, match=r"without data in the range 2011-2016: 2013"):
        results(wh, start=2011, end=2016)
    r2 = results(wh, start=2011, end=2016, skip_gaps=True)
    assert r2.periods == ("2011", "2012", "2014", "2015", "2016")
    assert any("dropped: 2013" in n for n in r2.notes)
    r3 = results(wh, start=2011, end=2012)
    assert r3.periods == ("2011", "2012")
    with pytest.raises(ValueError, match="at least 2"):
        results(wh, start=2016, end=2016)
    with pytest.raises(ValueError, match="no year with data between 2030"):
        results(wh, start=2030)
    wh.close()


def test_area_with_data_but_no_boundary_is_refused(tmp_path):
    wh = make_wh(tmp_path / "w.duckdb")
    extra = pd.DataFrame({"source": SRC, "level": "lsoa", "area_code": "E01999999",
                          "year": YEARS, "category": "violence_against_the_person",
                          "count": 3.0})
    wh.write([(Batch(path="x", source="t", tables={"crime_annual": conform("crime_annual", extra)}),
               "sha-x")])
    with pytest.raises(ValueError, match=r"1 area\(s\) with data have no lsoa 2011 boundary, "
                                         r"e.g. \['E01999999'\]"):
        results(wh)
    wh.close()


def test_boundary_without_data_is_left_out(tmp_path):
    # L99 has a boundary and no data
    wh = make_wh(tmp_path / "w.duckdb", extra_areas=[("L99", shapely.box(5000, 0, 6000, 1000))])
    r = results(wh)
    assert "L99" not in set(r.areas["code"]) and len(r.areas) == 25
    assert any("1 LSOAs have boundaries but no data" in n and "Area L99 (L99)" in n
               for n in r.notes)
    wh.close()


def test_island_policies(tmp_path):
    far = ("LZZ", shapely.box(20_000, 20_000, 21_000, 21_000))
    wh = make_wh(tmp_path / "w.duckdb", codes=[*CODES, "LZZ"], extra_areas=[far])
    res = results(wh)
    keep = res.areas.set_index("code")
    assert bool(keep.at["LZZ", "island"]) and pd.isna(keep.at["LZZ", "category"])
    assert any("1 island(s) kept without neighbours" in n for n in res.notes)
    drop = results(wh, islands="drop").areas
    assert "LZZ" not in set(drop["code"]) and len(drop) == 25
    res = results(wh, islands="knn1")
    knn1 = res.areas.set_index("code")
    assert not knn1.at["LZZ", "island"] and isinstance(knn1.at["LZZ", "category"], str)
    assert any("linked to its nearest area" in n for n in res.notes)
    wh.close()


def test_neighbour_rules(grid_wh):
    rook = table(grid_wh, rule="rook", time_lag=0)
    # rook: L00 has 2 neighbours (L10, L01), both hot: z = (150 - 3 x 12.2) / (S sqrt((75-9)/24))
    s = np.sqrt(421 - 12.2**2)
    assert rook.at["L00", "last_z"] == pytest.approx((150 - 3 * 12.2) / (s * np.sqrt(66 / 24)))
    # the 3 nearest centroids of L00 are its 3 queen neighbours, L10, L01 (1 km) and L11 (1.4 km)
    knn = table(grid_wh, rule="knn", k=3)
    queen = table(grid_wh)
    assert knn.at["L00", "last_z"] == pytest.approx(queen.at["L00", "last_z"])
    dist = table(grid_wh, rule="distance", distance=1100, time_lag=0)
    assert dist.at["L00", "last_z"] == pytest.approx(rook.at["L00", "last_z"])


@pytest.mark.slow
def test_harm_weighting_and_rates(tmp_path):
    pop = {c: 2000 for c in CODES}
    pop["L44"] = 500
    wh = make_wh(tmp_path / "w.duckdb", robbery=True, population=pop)
    cats = ("violence_against_the_person", "robbery")
    w = harm.css_weights(tables=harm_tables.bundled())["weight"]
    res = results(wh, categories=cats, weighting="css")
    css = res.areas.set_index("code")
    assert css.at["L44", "last_value"] == pytest.approx(
        5 * w["violence_against_the_person"] + 2 * w["robbery"])
    assert res.weights["robbery"] == pytest.approx(w["robbery"])
    res = results(wh, categories=cats)
    cnt = res.areas.set_index("code")
    assert cnt.at["L44", "last_value"] == 7 and res.weights is None
    rates = table(wh, categories=cats, rates=True)
    assert rates.at["L44", "last_value"] == pytest.approx(7 / 500 * 1000)
    assert rates.at["L00", "last_value"] == pytest.approx(51 / 2000 * 1000)
    with pytest.raises(ParamsError, match="chi_file: weighting 'chi' needs a Cambridge Crime Harm Index"):
        results(wh, categories=cats, weighting="chi")
    chi = tmp_path / "chi.csv"
    chi.write_text("category,days\nviolence_against_the_person,10\nrobbery,100\n")
    c = table(wh, categories=cats, weighting="chi", chi_file=str(chi))
    assert c.at["L44", "last_value"] == 5 * 10 + 2 * 100
    wh.close()


def test_monthly_wards_when_2022_boundaries_are_loaded(tmp_path):
    # 3 x 3 wards of 1 km; months 2022-01..2022-06 except 2022-03 (no file: no data at all);
    # E05000022 has no row in 2022-06 while others do: zero offences that month
    codes = [f"E0500002{i}" for i in range(9)]
    boxes = {c: shapely.box((i % 3) * 1000, (i // 3) * 1000, (i % 3 + 1) * 1000,
                            (i // 3 + 1) * 1000) for i, c in enumerate(codes)}
    areas = pd.DataFrame({"level": "ward", "code": codes, "vintage": "2022",
                          "name": [f"Ward {i}" for i in range(9)], "parent_code": WESTMINSTER,
                          "geometry": [shapely.to_wkb(b) for b in boxes.values()]})
    rows = []
    for m in ["2022-01", "2022-02", "2022-04", "2022-05", "2022-06"]:
        for i, c in enumerate(codes):
            if c == "E05000022" and m == "2022-06":
                continue
            rows.append((c, m, "violence_without_injury", 10 + i))
            rows.append((c, m, "violence_with_injury", 1))
    crime = pd.DataFrame(rows, columns=["area_code", "month", "category", "count"]).assign(
        source="mps_ward_detailed", level="ward", month=lambda d: d["month"] + "-01")
    wh = Warehouse.create(tmp_path / "w.duckdb")
    wh.write([(Batch(path="x", source="t", tables={"areas": conform("areas", areas),
                                                   "crime": conform("crime", crime)}), "sha")])
    res = results(wh, level="ward", categories=("violence_against_the_person",))
    r = res.areas.set_index("code")
    assert res.periods == ("2022-04", "2022-05", "2022-06")
    assert any("2022-03" in n for n in res.notes)
    assert r.at["E05000022", "last_value"] == 0 and r.at["E05000023", "last_value"] == 14
    assert r.at["E05000024", "ward_name"] == "Ward 4" and r.at["E05000024", "ward_code"] == "E05000024"
    with pytest.raises(ValueError, match="2022-03"):
        results(wh, level="ward", start="2022-01", end="2022-06")
    # CSS on the detailed vintage: violence without injury includes stalking and harassment
    w = harm.css_weights(tables=harm_tables.bundled())
    vwi = harm.detailed_vintage_overrides(w, harm_tables.bundled().volumes)["violence_without_injury"]
    res = results(wh, level="ward", weighting="css", categories=("violence_against_the_person",))
    c = res.areas.set_index("code")
    assert c.at["E05000023", "last_value"] == pytest.approx(13 * vwi + w.at["violence_with_injury",
                                                                            "weight"])
    assert any("includes stalking and harassment" in n for n in res.notes)
    with pytest.raises(ParamsError, match="LSOA only"):
        results(wh, level="ward", rates=True)
    wh.close()


def test_rates_need_population(grid_wh):
    with pytest.raises(ValueError, match="without a positive population"):
        results(grid_wh, rates=True)


@pytest.mark.parametrize("kwargs, message", [
    ({"level": "msoa"}, "unknown area level"),
    ({"categories": ("knives",)}, "unknown harmonised category"),
    ({"categories": ("violence_against_the_person", "homicide")}, "categories overlap"),
    ({"weighting": "severity"}, "unknown weighting"),
    ({"rule": "bishop"}, "unknown neighbour rule"),
    ({"islands": "ignore"}, "unknown island policy"),
    ({"start": "twenty"}, "a year is needed"),
    ({"level": ["lsoa"]}, "unknown area level"),
    ({"categories": "robbery,robbery"}, "'robbery' is given twice"),
    ({"start": 2015.7}, "a year is needed"),
    ({"start": 2016, "end": 2015}, "2016 is after end 2015"),
    ({"start": "2019-06", "level": "borough", "end": "2019-01"}, "is after end"),
    ({"chi_file": 3}, "the path of a CSV file"),
    ({"weighting": "chi"}, "needs a Cambridge Crime Harm Index table"),
])
def test_bad_parameters(kwargs, message):
    field = "chi_file" if "weighting" in kwargs and "chi" in kwargs.values() else next(iter(kwargs))
    with pytest.raises(ParamsError, match=f"^{field}") as e:
        ph.HotspotParams(**kwargs)
    assert message in str(e.value)


@pytest.mark.parametrize("kwargs, field", [
    ({"k": 0}, "k"), ({"k": 2.5}, "k"), ({"rule": "knn"}, "k"), ({"rule": "distance"}, "distance"),
    ({"distance": -1}, "distance"), ({"time_lag": -1}, "time_lag"),
    ({"time_lag": True}, "time_lag"), ({"alpha": 1.5}, "alpha"), ({"fdr": "all"}, "fdr"),
    ({"global_window": "year"}, "global_window"), ({"scheme": "esri"}, "scheme"),
    ({"rates": "yes"}, "rates"), ({"level": "borough", "start": "2019-13"}, "start"),
    ({"end": "last"}, "end"), ({"categories": ""}, "categories"),
])
def test_params_refuse_a_bad_value_naming_the_field(kwargs, field):
    with pytest.raises(ParamsError, match=f"^{field}"):
        ph.HotspotParams(**kwargs)


def test_params_are_frozen_and_built_by_name():
    p = ph.HotspotParams(categories="violence_against_the_person, robbery")
    assert p.categories == ("violence_against_the_person", "robbery")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.level = "ward"
    assert ph.HotspotParams.of(p, scheme="sfhotspot").scheme == "sfhotspot"
    with pytest.raises(ParamsError, match="unknown parameter 'colour'"):
        ph.HotspotParams.of(colour="red")
    with pytest.raises(ParamsError, match="'colour' do\\(es\\) not apply to the warehouse"):
        ph.make_params(ph.HotspotParams, "the warehouse's London crime", colour="red")
    # None is kept as given: no false discovery rate correction
    assert ph.make_params(ph.HotspotParams, "x", fdr=None).fdr is None
    with pytest.raises(ParamsError, match="^rule"):
        ph.AreaParams(rule="bishop")
    with pytest.raises(dataclasses.FrozenInstanceError):
        ph.AreaParams().k = 3


def test_run_takes_params_only(grid_wh):
    with pytest.raises(TypeError, match="HotspotParams"):
        ph.run(grid_wh, {"level": "lsoa"})


def test_empty_warehouse(tmp_path):
    wh = Warehouse.create(tmp_path / "empty.duckdb")
    with pytest.raises(MissingData, match="no violence_against_the_person, robbery, "
                                          "possession_of_weapons crime"):
        ph.run(wh)
    wh.close()


def test_write_formats(grid_wh, tmp_path):
    r = results(grid_wh)
    csv = hotspot_files.write(r, tmp_path / "h.csv")
    back = pd.read_csv(csv)
    assert len(back) == 25 and "geometry" not in back.columns
    assert back.set_index("code").at["L00", "category"] == "Persistent Hot Spot"
    gj = hotspot_files.write(r, tmp_path / "h.geojson")
    g = gpd.read_file(gj)
    assert g.crs.to_epsg() == 4326 and len(g) == 25
    # BNG (0..5 km) lies off the south-west of Cornwall in WGS 84: longitude about -7.5
    assert -8 < g.total_bounds[0] < g.total_bounds[2] < -7
    js = json.loads(hotspot_files.write(r, tmp_path / "h.json").read_text())
    assert js["periods"] == [str(y) for y in YEARS] and len(js["areas"]) == 25
    assert js["parameters"]["level"] == "lsoa"
    assert js == json.loads(json.dumps(r.as_dict()))  # the JSON file is the result's as_dict()
    with pytest.raises(ValueError, match="unknown output format"):
        hotspot_files.write(r, tmp_path / "h.xlsx")


def test_as_dict_is_json(grid_wh):
    r = ph.run(grid_wh)
    d = json.loads(json.dumps(r.as_dict()))
    assert list(d) == ["parameters", "source", "periods", "notes", "weights", "method", "areas"]
    assert d["parameters"]["categories"] == list(ph.VIOLENCE)
    assert d["areas"][0]["code"] == "L00" and "geometry" not in d["areas"][0]


def test_present_needs_no_warehouse(tmp_path):
    wh = make_wh(tmp_path / "w.duckdb")
    r = ph.run(wh)
    wh.close()  # the presentation reads the result only
    s = section.present(r)
    assert s.id == "hotspots" and "4 persistent and 0 intensifying hot spots" in s.body
    assert "(6 of 6)" in s.body and "6 years" in s.body and "25 LSOAs" in s.body


# --- the real London warehouse -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def london_result(wh):
    return ph.run(wh, compare=False)


@pytest.fixture(scope="module")
def london(london_result):
    return london_result.areas


def test_real_default_matches_an_independent_run(wh, london):
    # oracle: queries.crime_annual per category, libpysal's queen graph, emerging_hotspots directly
    parts = [q.crime_annual(wh, source=SRC, level="lsoa", category=c) for c in ph.VIOLENCE]
    a = pd.concat(parts).groupby(["area_code", "year"])["count"].sum(min_count=3).unstack()
    a = a[list(range(2011, 2020))]
    geo = to_geodataframe(q.areas(wh, "lsoa", "2011"))
    geo = geo[geo["code"].isin(a.index)]
    ids = list(geo["code"])
    g = Graph.build_contiguity(geo.set_index("code"), rook=False)  # libpysal directly, not vru.model
    res = emerging_hotspots(a.loc[ids], g, time_lag=1, global_window="period", ids=ids)
    r = london.set_index("code").loc[ids]
    assert (r["category"].to_numpy() == res.summary["category"].astype(str).to_numpy()).all()
    np.testing.assert_allclose(r["last_z"], res.z.iloc[:, -1])


def test_real_documented_facts(london, london_result):
    r = london
    # 4,835 LSOAs less the 6 City of London LSOAs, which have no MPS figures
    assert len(r) == 4829 and r["island"].sum() == 0
    assert london_result.periods == tuple(str(y) for y in range(2011, 2020))
    assert any("2020" in n for n in london_result.notes)
    assert any("City of London" in n for n in london_result.notes)
    # docs/methods-hotspots.md: with each year against itself more than 50 LSOAs are hot spots
    # in all 9 years, many in Westminster
    all9 = r[r["n_hot"] == 9]
    assert len(all9) > 50
    assert all9["borough_name"].value_counts().index[:3].str.contains("Westminster").any()
    cats = set(r["category"].dropna())
    assert {"Persistent Hot Spot", "Intensifying Hot Spot", "No Pattern Detected"} <= cats
    # every LSOA has a 2018 ward and a borough name
    assert r["ward_name"].notna().all() and r["borough_name"].notna().all()
    assert (r["share_hot"] == r["n_hot"] / 9).all()


def test_real_levels(wh):
    with pytest.raises(MissingData, match="2022 ward boundaries|ward 2022 boundaries"):
        results(wh, level="ward")
    res = results(wh, level="borough", start="2019-01", end="2023-11",
                  categories=("violence_against_the_person",))
    b = res.areas
    # 32 MPS boroughs: the City has a boundary but no MPS data; airports/unknown are not places
    assert len(b) == 32 and "E09000001" not in set(b["code"])
    assert len(res.periods) == 59 and res.periods[0] == "2019-01"
    assert any("pseudo-areas" in n for n in res.notes)
    assert b["ward_name"].isna().all()
    with pytest.raises(ParamsError, match="LSOA only"):
        results(wh, level="borough", rates=True)


def test_real_css_changes_the_ranking(wh, london):
    res = results(wh, weighting="css")
    css = res.areas
    assert res.weights["robbery"] == pytest.approx(799.6288702314769)
    a = set(london.loc[london["category"].isin(ph.SUSTAINED), "code"])
    b = set(css.loc[css["category"].isin(ph.SUSTAINED), "code"])
    assert a & b and a != b


@pytest.mark.slow
def test_real_section(wh):
    r = ph.run(wh)
    s = section.present(r)
    assert s.id == "hotspots"
    body = s.body
    for text in ("Persistent Hot Spot", "Intensifying Hot Spot", "Ward (2018)",
                 "What this can and cannot tell", "docs/methods-hotspots.md",
                 "Counts or harm?", "2011-2019", "Westminster", "role=\"img\""):
        assert text in body, text
    # the table names the top hot spot with its ward and borough
    top = r.sustained().iloc[0]
    assert top["ward_name"] in body and top["borough_name"] in body and top["code"] in body
    # the count-vs-harm overlap is counted in the result; the section only words it
    h, mine = r.harm, set(r.sustained()["code"])
    assert (h.both, h.count_only, h.harm_only) == (
        len(mine & h.sustained), len(mine - h.sustained), len(h.sustained - mine))
    assert f"{h.both}" in body


# --- the categorical map ------------------------------------------------------------------------------


def test_categorical_map():
    g = gpd.GeoDataFrame({"cat": ["Persistent Hot Spot", "No Pattern Detected", None,
                                  "Persistent Hot Spot"]},
                         geometry=[shapely.box(i, 0, i + 1, 1) for i in range(4)], crs=27700)
    svg = charts_hotspots.categorical_map(g, "cat", title="T", label="A map")
    assert svg.startswith("<svg") and 'aria-label="A map"' in svg
    assert "width=" not in svg.split(">", 1)[0].replace('aria-label="A map"', "")
    with pytest.raises(ValueError, match=r"no colour for categories \['Hot'\]"):
        charts_hotspots.categorical_map(g.assign(cat=["Hot", None, None, None]), "cat",
                                        title="T", label="x")
    assert set(charts_hotspots.EHSA_COLOURS) == set(
        __import__("vru.analysis.emerging", fromlist=["CATEGORIES"]).CATEGORIES)
    from vru.analysis.emerging import SFHOTSPOT_CATEGORIES

    assert set(charts_hotspots.SFHOTSPOT_COLOURS) == set(SFHOTSPOT_CATEGORIES)
    assert len(set(charts_hotspots.EHSA_COLOURS.values())) == 17


@pytest.mark.slow
def test_sfhotspot_scheme_in_the_section(grid_wh):
    r = table(grid_wh, scheme="sfhotspot")
    assert set(r.loc[sorted(HOT), "category"]) == {"persistent hotspot"}
    assert r["trend_tau"].isna().all()  # sfhotspot's scheme has no trend test
    s = section.present(ph.run(grid_wh, ph.HotspotParams(scheme="sfhotspot")))
    assert "sfhotspot" in s.body and "4 persistent hot spots" in s.body and "+nan" not in s.body
    a = section.present(ph.run(grid_wh))
    assert "4 persistent and 0 intensifying hot spots" in a.body
    assert "(6 of 6)" in a.body  # 90% of 6 years, rounded up


def test_periods_are_held_as_the_level_holds_them():
    p = ph.HotspotParams(start="2015", end=2019.0)
    assert (p.start, p.end) == (2015, 2019)
    m = ph.HotspotParams(level="borough", start="2019-1", end="2019-12")
    assert (m.start, m.end) == ("2019-01", "2019-12")
    assert ph.HotspotParams(start=np.int64(2016)).start == 2016


def test_of_sets_none_where_the_field_admits_it():
    from vru.pipelines.base import NOT_GIVEN

    p = ph.HotspotParams(fdr="cube", start=2015)
    assert ph.HotspotParams.of(p, fdr=None).fdr is None
    assert ph.HotspotParams.of(p, start=None).start is None
    assert ph.HotspotParams.of(p, fdr=NOT_GIVEN).fdr == "cube"
    # a field that cannot be None keeps its value (an option the user did not give)
    assert ph.HotspotParams.of(p, level=None).level == "lsoa"
