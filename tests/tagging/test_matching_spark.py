"""The matching algorithm gives the same matches on Spark (local mode) as on DuckDB, for a simulated day."""

from __future__ import annotations

import pandas as pd
import pytest

from vru.tagging.matching import match

pytestmark = [pytest.mark.spark, pytest.mark.slow]



def test_same_matches_on_spark_and_duckdb(spark):
    from vru.geography.grids import to_bng
    from vru.tagging import simulate as sm

    # 5-minute fixes, so that interpolated points are among the matches
    sim = sm.simulate(n_wearers=8, days=1, seed=5, params=sm.Params(interval_s=300))
    pos = sim.positions.to_pandas()
    pos["easting"], pos["northing"] = to_bng(pos["lon"].to_numpy(), pos["lat"].to_numpy())
    pos = pos.drop_duplicates(["device_id", "fix_time"])
    acts = sim.activations.to_pandas()
    crimes = sm.plant_crimes(sim.truth, 40, seed=2)
    on_duckdb = match(pos, acts, crimes)
    on_spark = match(pos, acts, crimes, backend="spark", spark_session=spark)
    assert on_spark.run["status"] == "SUCCESS" and on_spark.run["backend"] == "spark"
    assert len(on_duckdb.points) > 40 and on_duckdb.points.interpolated.any()
    pd.testing.assert_frame_equal(on_spark.points, on_duckdb.points, check_exact=False, rtol=1e-12)
    pd.testing.assert_frame_equal(on_spark.summary, on_duckdb.summary, check_exact=False, rtol=1e-12)
