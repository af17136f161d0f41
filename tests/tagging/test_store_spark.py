"""The positions store read through Spark (local mode) gives the same rows as through DuckDB
(``vru.tagging.store.positions_table``): the same day partitions pruned, the same half-open window
``start <= fix_time < end``, the same columns and values."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest

from vru.tagging import positions, simulate, store
from vru.tagging import schema as S

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """Three days of three simulated wearers, imported through the validating import."""
    tmp = tmp_path_factory.mktemp("store-spark")
    sim = simulate.simulate(3, 3, start="2024-03-30T00:00:00Z", seed=11)  # across the change of clocks
    paths = simulate.write(sim, tmp / "feed", "parquet")
    positions.import_positions(paths["positions"], sim.activations, tmp / "store")
    assert len(store.list_days(tmp / "store")) >= 3
    return tmp / "store"


def _rows(t) -> pd.DataFrame:
    df = t.to_pandas()
    for c in (S.FIX_TIME, S.RECEIVED_TIME):
        df[c] = pd.to_datetime(df[c], utc=True).astype("datetime64[us, UTC]")
    return df.sort_values([S.DEVICE_ID, S.FIX_TIME]).reset_index(drop=True)


@pytest.mark.parametrize("start,end", [
    (None, None),  # the whole store
    ("2024-03-30T23:30:00Z", "2024-03-31T01:30:00Z"),  # across midnight and the BST change (01:00 UTC)
    ("2024-03-31T12:00:00+01:00", "2024-04-01T11:00:00+01:00"),  # a 23-hour window given in BST
    ("2024-05-01T00:00:00Z", "2024-05-02T00:00:00Z"),  # no day stored: empty on both
])
def test_spark_reads_the_same_rows_as_duckdb(spark, root, start, end):
    duck = ibis.duckdb.connect()
    duck.raw_sql("SET TimeZone = 'UTC'")
    on_duckdb = _rows(store.positions_table(duck, root, start, end))
    on_spark = _rows(store.positions_table(ibis.pyspark.connect(spark), root, start, end))
    assert list(on_spark.columns) == list(on_duckdb.columns) == S.POSITIONS.names
    pd.testing.assert_frame_equal(on_spark, on_duckdb, check_dtype=False)
    # and both are what the store holds in the window (read_positions, DuckDB on the files directly)
    expected = _rows(store.read_positions(root, start, end))
    pd.testing.assert_frame_equal(on_duckdb, expected, check_dtype=False)
    if start is None:
        assert len(on_duckdb) > 3 * 24 * 60  # three wearers, three days, a fix a minute (with gaps)
    elif start.startswith("2024-05"):
        assert on_duckdb.empty
    else:
        lo, hi = pd.Timestamp(start), pd.Timestamp(end)
        assert len(on_duckdb) and on_duckdb[S.FIX_TIME].min() >= lo and on_duckdb[S.FIX_TIME].max() < hi
