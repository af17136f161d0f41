"""vru.geography.lookup: hand-made polygons with hand-computed answers, and the real bundled boundaries
(LSOA 2011/2021 overlap; borough, ward and LSOA adjacency through vru.model.weights)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from vru.geography import lookup
from vru.geography.boroughs import borough_code
from vru.model.weights import SpatialWeights
from vru.sources import boundaries, population

# --- lookup: hand-made ---------------------------------------------------------------------------
# 2011: A = [0,2]x[0,2], B = [2,4]x[0,2].  2021: A = [0,2.01]x[0,2] (same LSOA, boundary moved by
# generalisation), B split into C = [2.01,3]x[0,2] and D = [3,4]x[0,2].
# Pairs: (A,A) area 4: shares 4/4 = 1 and 4/4.02; (B,A) area 0.02: shares 0.005 and 0.02/4.02
# (a sliver, dropped); (B,C) area 1.98: shares 0.495 and 1; (B,D) area 2: shares 0.5 and 1.


def gdf(codes, boxes, col):
    return gpd.GeoDataFrame({col: codes}, geometry=[shapely.box(*b) for b in boxes],
                            crs="EPSG:27700")


L11 = gdf(["A", "B"], [(0, 0, 2, 2), (2, 0, 4, 2)], "LSOA11CD")
L21 = gdf(["A", "C", "D"], [(0, 0, 2.01, 2), (2.01, 0, 3, 2), (3, 0, 4, 2)], "LSOA21CD")


def test_overlap_hand_made():
    ov = lookup.lsoa_2011_2021_overlap(L11, L21)
    assert ov[["lsoa11cd", "lsoa21cd"]].values.tolist() == [["A", "A"], ["B", "C"], ["B", "D"]]
    np.testing.assert_allclose(ov["area_m2"], [4, 1.98, 2])
    np.testing.assert_allclose(ov["share_of_2011"], [1, 0.495, 0.5])
    np.testing.assert_allclose(ov["share_of_2021"], [4 / 4.02, 1, 1])
    kept = lookup.lsoa_2011_2021_overlap(L11, L21, min_share=0.001)
    assert len(kept) == 4
    sliver = kept[(kept["lsoa11cd"] == "B") & (kept["lsoa21cd"] == "A")]
    np.testing.assert_allclose(sliver["share_of_2011"], [0.005])


def test_overlap_accepts_areas_frames_with_a_code_column():
    a = L11.rename(columns={"LSOA11CD": "code"})
    b = L21.rename(columns={"LSOA21CD": "code"})
    pd.testing.assert_frame_equal(lookup.lsoa_2011_2021_overlap(a, b),
                                  lookup.lsoa_2011_2021_overlap(L11, L21))


def test_every_lsoa_keeps_its_largest_overlap():
    # F lies mostly outside the 2011 coverage: its only overlap (0.02 of 1.02) is kept.
    l21 = gdf(["A", "C", "F"], [(0, 0, 2, 2), (2, 0, 3.99, 2), (3.99, 0, 4.5, 2)], "LSOA21CD")
    ov = lookup.lsoa_2011_2021_overlap(L11, l21)
    f = ov[ov["lsoa21cd"] == "F"]
    assert f["lsoa11cd"].tolist() == ["B"]
    np.testing.assert_allclose(f["share_of_2021"], [0.02 / 1.02])


def test_best_fit_hand_made():
    ov = lookup.lsoa_2011_2021_overlap(L11, L21)
    assert lookup.best_fit(ov, "2021").to_dict() == {"A": "A", "B": "D"}  # 0.5 > 0.495
    assert lookup.best_fit(ov, "2011").to_dict() == {"A": "A", "C": "B", "D": "B"}
    with pytest.raises(ValueError, match="vintage"):
        lookup.best_fit(ov, "2001")


def test_to_2011_and_to_2021_hand_made():
    ov = lookup.lsoa_2011_2021_overlap(L11, L21)
    counts21 = pd.DataFrame({"code": ["A", "C", "D"], "n": [10, 3, 5]})
    got = lookup.to_2011(counts21, "code", ["n"], overlap=ov)
    assert got.values.tolist() == [["A", 10.0], ["B", 8.0]]
    assert lookup.to_2011(counts21, "code", ["n"], overlap=ov,
                          method="best_fit").values.tolist() == [["A", 10.0], ["B", 8.0]]
    counts11 = pd.DataFrame({"code": ["A", "B"], "n": [10, 8]})
    got = lookup.to_2021(counts11, "code", ["n"], overlap=ov)
    # B's 8 split 0.495 : 0.5 (shares of B, re-normalised over the kept pairs)
    np.testing.assert_allclose(got["n"], [10, 8 * 0.495 / 0.995, 8 * 0.5 / 0.995])
    assert got["n"].sum() == pytest.approx(18, abs=1e-12)
    best = lookup.to_2021(counts11, "code", ["n"], overlap=ov, method="best_fit")
    assert best.values.tolist() == [["A", 10.0], ["D", 8.0]]


def test_to_2011_keeps_groups_and_refuses_bad_input():
    ov = lookup.lsoa_2011_2021_overlap(L11, L21)
    df = pd.DataFrame({"month": ["2023-01", "2023-01", "2023-02"], "code": ["C", "D", "C"],
                       "n": [1, 2, 4], "m": [0.5, 0.5, 1.0]})
    got = lookup.to_2011(df, "code", ["n", "m"], overlap=ov, by=["month"])
    assert got.values.tolist() == [["2023-01", "B", 3.0, 1.0], ["2023-02", "B", 4.0, 1.0]]
    with pytest.raises(ValueError, match="not 21 LSOAs"):
        lookup.to_2011(pd.DataFrame({"code": ["Z"], "n": [1]}), "code", ["n"], overlap=ov)
    with pytest.raises(ValueError, match="missing values"):
        lookup.to_2011(pd.DataFrame({"code": ["C"], "n": [np.nan]}), "code", ["n"], overlap=ov)
    with pytest.raises(ValueError, match="unknown method"):
        lookup.to_2011(df, "code", ["n"], overlap=ov, method="nearest")
    with pytest.raises(ValueError, match="columns not in the frame"):
        lookup.to_2011(df, "code", ["x"], overlap=ov)


def test_lsoa_to_borough_hand_made():
    lsoa = gpd.GeoDataFrame({"LSOA11CD": ["A", "B"], "LAD11CD": ["E09000001", "E09000002"]},
                            geometry=[shapely.box(0, 0, 1, 1), shapely.box(5, 0, 6, 1)],
                            crs="EPSG:27700")
    assert lookup.lsoa_to_borough(lsoa).to_dict() == {"A": "E09000001", "B": "E09000002"}
    bor = gpd.GeoDataFrame({"code": ["E09000007", "E09000012"]},
                           geometry=[shapely.box(-1, -1, 3, 3), shapely.box(3, -1, 9, 3)],
                           crs="EPSG:27700")
    assert lookup.lsoa_to_borough(lsoa, bor).to_dict() == {"A": "E09000007", "B": "E09000012"}
    outside = lsoa.assign(geometry=[shapely.box(0, 0, 1, 1), shapely.box(50, 50, 51, 51)])
    with pytest.raises(ValueError, match="outside every borough"):
        lookup.lsoa_to_borough(outside, bor)


# --- lookup: real bundled boundaries ------------------------------------------------------------

@pytest.fixture(scope="module")
def real_lsoa() -> dict[str, gpd.GeoDataFrame]:
    """The two bundled LSOA shapefiles, read once for this module."""
    return {v: lookup.bundled_lsoa(v) for v in ("2011", "2021")}


@pytest.fixture(scope="module")
def real_overlap(real_lsoa) -> pd.DataFrame:
    return lookup.lsoa_2011_2021_overlap(real_lsoa["2011"], real_lsoa["2021"])


def test_real_unchanged_codes_map_to_themselves(real_overlap):
    ov = real_overlap
    to21, to11 = lookup.best_fit(ov, "2021"), lookup.best_fit(ov, "2011")
    assert (len(to21), len(to11)) == (4835, 4994)
    shared = sorted(set(to21.index) & set(to11.index))
    assert len(shared) == 4659
    assert (to21[shared] == shared).all() and (to11[shared] == shared).all()
    # no kept pair lies between a sliver and a real part (SLIVER_SHARE rationale)
    biggest = np.maximum(ov["share_of_2011"], ov["share_of_2021"])
    assert biggest.min() >= lookup.SLIVER_SHARE
    assert not ((biggest > 0.1) & (biggest < 0.9)).any()


def test_real_splits_and_merges(real_overlap):
    ov = real_overlap
    to21, to11 = lookup.best_fit(ov, "2021"), lookup.best_fit(ov, "2011")
    # E01000023 (Barking and Dagenham) was split in two; its larger part is E01034471
    assert sorted(ov[ov["lsoa11cd"] == "E01000023"]["lsoa21cd"]) == ["E01034471", "E01034472"]
    assert to21["E01000023"] == "E01034471"
    assert to11["E01034471"] == to11["E01034472"] == "E01000023"
    # E01000852 and E01000854 were merged into E01035711
    assert sorted(ov[ov["lsoa21cd"] == "E01035711"]["lsoa11cd"]) == ["E01000852", "E01000854"]
    assert to21["E01000852"] == to21["E01000854"] == "E01035711"
    # Stratford's fast-growing E01033583 became nine 2021 LSOAs
    parts = ov[ov["lsoa11cd"] == "E01033583"]["lsoa21cd"].tolist()
    assert parts == [f"E0103{n}" for n in range(4213, 4222)]
    assert (to11[parts] == "E01033583").all()


def test_real_apportioned_totals_are_preserved(real_overlap):
    path = (Path(population.__file__).parents[1] / "data" / "bundled" / "population_lsoa" /
            "london-mid2019-pop.csv.gz")
    pop = population.load(path).tables["population"]
    persons = pop[pop["sex"] == "persons"][["area_code", "age_band", "population"]]
    on21 = lookup.to_2021(persons, "area_code", ["population"], overlap=real_overlap,
                          by=["age_band"])
    assert on21["area_code"].nunique() == 4994
    totals = on21.groupby("age_band")["population"].sum()
    expected = persons.groupby("age_band")["population"].sum()
    np.testing.assert_allclose(totals[expected.index], expected, rtol=1e-12)
    assert totals["all"] == pytest.approx(8_961_989, rel=1e-12)
    back = lookup.to_2011(on21[on21["age_band"] == "all"], "area_code", ["population"],
                          overlap=real_overlap)
    assert back["population"].sum() == pytest.approx(8_961_989, rel=1e-12)
    unchanged = back.set_index("area_code")["population"]["E01000001"]
    assert unchanged == pytest.approx(1636)
    best = lookup.to_2011(on21[on21["age_band"] == "all"], "area_code", ["population"],
                          overlap=real_overlap, method="best_fit")
    assert best["population"].sum() == pytest.approx(8_961_989, rel=1e-12)


def test_real_lsoa_to_borough_attribute_and_spatial_agree(real_lsoa):
    lad = boundaries.read_bundled("lad2022")
    for vintage in ("2011", "2021"):
        lsoa = real_lsoa[vintage]
        by_attr = lookup.lsoa_to_borough(lsoa)
        by_space = lookup.lsoa_to_borough(lsoa, lad)
        assert len(by_attr) == len(lsoa)
        assert (by_space[by_attr.index] == by_attr).all()


# --- neighbours: real boundaries (the weights themselves: tests/test_weights.py) --------------------

@pytest.fixture(scope="module")
def boroughs() -> gpd.GeoDataFrame:
    lad = boundaries.read_bundled("lad2022")
    return lad[lad["level"] == "borough"]


def names(codes) -> set[str]:
    from vru.geography.boroughs import borough_name

    return {borough_name(c) for c in codes}


def test_real_borough_adjacency(boroughs):
    q = SpatialWeights.from_geodataframe(boroughs, "queen")
    assert q.report.islands == ()
    nb = q.neighbours()
    city = borough_code("City of London")
    # the boundaries stop at the Thames bank: the City touches only north-bank boroughs
    assert names(nb[city]) == {"Camden", "Hackney", "Islington", "Tower Hamlets", "Westminster"}
    assert names(nb[borough_code("Southwark")]) == {"Bromley", "Lambeth", "Lewisham"}
    assert borough_code("Islington") in nb[borough_code("Hackney")]
    assert borough_code("Hillingdon") not in nb[borough_code("Havering")]


@pytest.mark.slow
def test_real_wards_and_lsoas_have_no_islands():
    w = SpatialWeights.from_geodataframe(boundaries.read_bundled("ward2018"), "queen")
    assert w.n == 633 and w.report.islands == ()
    lsoa = boundaries.read_bundled("lsoa2011")
    q = SpatialWeights.from_geodataframe(lsoa, "queen")
    r = SpatialWeights.from_geodataframe(lsoa, "rook")
    assert q.n == 4835 and q.report.islands == ()
    assert r.n_edges < q.n_edges  # some LSOAs meet only at a corner
