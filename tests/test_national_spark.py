"""Spark and DuckDB give the identical panel on a slice of the synthetic national archive.

The slice has what the national archive adds to the quirks of ``test_engine_spark``: British
Transport Police (LSOAs shared with the territorial forces, a fifth of rows without location),
a force missing for a month (Greater Manchester's gap), the 2011 -> 2021 LSOA switch and the
pre-2013 crime type names.
"""

from __future__ import annotations

import pandas as pd
import pytest

from vru.sources.engine import street_scan
from vru.synthetic import police_uk_national as nat

pytestmark = [pytest.mark.spark, pytest.mark.slow]

KEY = ["source", "level", "area_code", "month", "category"]


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(KEY).reset_index(drop=True)


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    out = tmp_path_factory.mktemp("national")
    nat.generate(out / "a", rows=40_000, start="2019-06", end="2019-07", lsoa_switch="2019-07",
                 seed=11)
    nat.generate(out / "b", rows=8_000, start="2013-04", end="2013-05", seed=12)
    return sorted(out.glob("*/*/*-street.csv"))


def test_national_slice_identical(spark, archive):
    on_spark = street_scan(archive, "spark", spark_session=spark)
    on_duckdb = street_scan(archive)
    pd.testing.assert_frame_equal(_sorted(on_spark.crime), _sorted(on_duckdb.crime),
                                  check_exact=True)
    assert (on_spark.rows, on_spark.crimes) == (on_duckdb.rows, on_duckdb.crimes)
    assert on_spark.crime["source"].nunique() == 44
    months = set(on_spark.crime["month"].dt.strftime("%Y-%m"))
    assert months == {"2013-04", "2013-05", "2019-06", "2019-07"}


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Tokyo"])
def test_months_do_not_move_with_the_session_time_zone(spark, archive, zone):
    """A month is the first day of the month at midnight whatever the Spark session's zone (Ibis's
    PySpark backend sets ``spark.sql.session.timeZone`` to UTC when it connects; this guards it)."""
    before = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", zone)
    try:
        panel = street_scan(archive[:3], "spark", spark_session=spark).crime
    finally:
        spark.conf.set("spark.sql.session.timeZone", before)
    assert set(panel["month"].dt.strftime("%Y-%m-%d %H:%M")) == {archive[0].name[:7] + "-01 00:00"}
    pd.testing.assert_frame_equal(_sorted(panel), _sorted(street_scan(archive[:3]).crime),
                                  check_exact=True)
