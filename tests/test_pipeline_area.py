"""The area pipeline: one 2011 LSOA's annual offences, rates, residents and deprivation."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from vru.pipelines import area as pa
from vru.pipelines.base import MissingData, ParamsError

AREA = "E01003968"  # Southwark 015C


@pytest.fixture(scope="module")
def result(wh):
    return pa.run(wh, pa.AreaParams.of(code=AREA))


def test_series_is_the_lsoa_annual_source_with_rates_per_1000_residents(wh, result):
    from vru.pipelines.london import LondonParams
    from vru.warehouse import queries as q

    p = LondonParams()
    assert (result.params.lsoa_source, result.params.pop_year) == (p.lsoa_source, p.pop_year)
    annual = q.crime_annual(wh, source=p.lsoa_source, level="lsoa",
                            category="violence_against_the_person")
    mine = annual[annual["area_code"] == AREA].set_index("year")["count"]
    pop = q.population(wh, level="lsoa", year=p.pop_year).set_index("area_code")["population"]
    assert result.population == int(pop[AREA])
    s = result.series.set_index("year")
    assert list(s.index) == [int(y) for y in mine.index]
    for year, count in mine.items():
        if pd.isna(count):
            assert pd.isna(s.loc[year, "count"]) and pd.isna(s.loc[year, "rate_per_1000"])
        else:
            assert s.loc[year, "count"] == count
            assert s.loc[year, "rate_per_1000"] == pytest.approx(1000 * count / pop[AREA])
    assert pd.isna(s.loc[2020, "count"])  # known wrong in the source, left out there


def test_name_borough_and_deprivation(wh, result):
    from vru.warehouse import queries as q

    assert (result.name, result.borough) == ("Southwark 015C", "E09000028")
    for m in pa.IMD_MEASURES:
        d = q.deprivation(wh, level="lsoa", measure=m).set_index("area_code")["value"]
        assert result.deprivation[m] == pytest.approx(d[AREA])


def test_as_dict_is_json_with_missing_years_as_null(result):
    d = json.loads(json.dumps(result.as_dict(), allow_nan=False))
    assert d["params"] == {"code": AREA, "category": "violence_against_the_person",
                           "lsoa_source": "mps_lsoa_annual_millington", "pop_year": 2020}
    years = {r["year"]: r for r in d["series"]}
    assert years[2020] == {"year": 2020, "count": None, "rate_per_1000": None}
    assert isinstance(years[2019]["count"], int) and years[2019]["rate_per_1000"] > 0
    assert {"code", "name", "borough", "population", *pa.IMD_MEASURES} <= set(d)


def test_an_lsoa_without_crime_figures_has_an_empty_series(wh):
    r = pa.run(wh, pa.AreaParams(code="E01000001"))  # the City: no MPS LSOA figures
    assert r.name == "City of London 001A" and r.series.empty
    assert r.as_dict()["series"] == []


def test_unknown_lsoa_is_refused_by_name(wh):
    with pytest.raises(pa.UnknownArea, match="E01999999"):
        pa.run(wh, pa.AreaParams(code="E01999999"))


def test_a_warehouse_without_lsoas_is_missing_data(tmp_path):
    from vru.warehouse.store import Warehouse

    with Warehouse.create(tmp_path / "empty.duckdb") as w, pytest.raises(MissingData, match="vru init"):
        pa.run(w, pa.AreaParams(code=AREA))


@pytest.mark.parametrize("kwargs,field", [
    ({}, "code"), ({"code": "nonsense"}, "code"), ({"code": 1}, "code"),
    ({"code": AREA, "category": "jaywalking"}, "category"),
    ({"code": AREA, "lsoa_source": "nowhere"}, "lsoa_source"),
    ({"code": AREA, "pop_year": "2020"}, "pop_year"), ({"code": AREA, "pop_year": 10**9}, "pop_year"),
    ({"code": AREA, "radius": 3}, "'radius'"),
])
def test_bad_parameters_are_refused_naming_the_field(kwargs, field):
    with pytest.raises(ParamsError, match=field):
        pa.AreaParams.of(**kwargs)


def test_of_overrides_given_parameters():
    p = pa.AreaParams.of(pa.AreaParams.of(code=AREA), pop_year=2019)
    assert (p.code, p.pop_year) == (AREA, 2019)
