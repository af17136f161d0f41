"""On Spark the street panel is written by Spark (Parquet), never collected through the driver.

The research note on scale (docs/scale.md) says not to bring a national panel back through the
Python driver: the engine has Spark write its cells with ``DataFrame.write.parquet`` and reads the
counts and, for the warehouse, the cells from those files with DuckDB.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from vru.sources import engine
from vru.sources.engine import ParquetPanel, street_scan
from vru.synthetic import police_uk_national as nat
from vru.warehouse.store import Warehouse

pytestmark = [pytest.mark.spark, pytest.mark.slow]

KEY = ["source", "level", "area_code", "month", "category"]
ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "src/vru/data/bundled/police_uk_street_city_of_london_2023"


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> list[Path]:
    out = tmp_path_factory.mktemp("nat") / "arch"
    nat.generate(out, rows=8_000, start="2023-06", end="2023-07", lsoa_switch="2023-07", seed=3)
    return sorted(out.glob("*/*-street.csv"))


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(KEY).reset_index(drop=True)


def test_spark_writes_the_panel_itself(spark, archive, tmp_path, monkeypatch):
    def no_collect(self, expr):
        raise AssertionError("a valid run must not collect anything through the driver")

    monkeypatch.setattr(engine._Spark, "execute", no_collect)
    monkeypatch.setattr(type(engine._Spark(spark).con), "to_pyarrow", no_collect)
    # another session time zone: months are written without one, so they read back the same
    old = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", "America/New_York")
    try:
        result = street_scan(archive, "spark", spark_session=spark, spool=tmp_path / "spool")
    finally:
        spark.conf.set("spark.sql.session.timeZone", old)
    assert isinstance(result.crime, ParquetPanel)
    folders = {p.parent for p in result.crime.files}
    assert len(folders) == 1 and (folders.pop() / "_SUCCESS").exists()  # Spark's own output
    monkeypatch.undo()
    on_duckdb = street_scan(archive)
    pd.testing.assert_frame_equal(_sorted(result.crime.to_pandas()), _sorted(on_duckdb.crime))
    assert (result.rows, result.crimes, result.file_rows) == (
        on_duckdb.rows, on_duckdb.crimes, on_duckdb.file_rows)


def test_cli_pyspark_backend_starts_its_own_local_session(tmp_path):
    """`vru ingest --backend pyspark` with no session: the engine starts local[*] itself."""
    pytest.importorskip("pyspark")
    wh = tmp_path / "w.duckdb"
    env = {**os.environ, "VRU_WAREHOUSE": str(wh)}
    files = sorted(str(p) for p in BUNDLED.glob("*-street.csv.gz"))
    for backend in ("pyspark", "duckdb"):
        db = tmp_path / f"{backend}.duckdb"
        Warehouse.create(db).close()
        run = subprocess.run([sys.executable, "-c", "from vru.cli import main; main()", "ingest",
                              "--warehouse", str(db),
                              "--backend", backend, *files], env=env, capture_output=True,
                             text=True, timeout=600)
        assert run.returncode == 0, run.stderr[-2000:]
    import duckdb

    q = "SELECT count(*), sum(count), sum(hash(source, level, area_code, month, category, count))" \
        "::VARCHAR FROM crime"
    got = [duckdb.connect(str(tmp_path / f"{b}.duckdb"), read_only=True).execute(q).fetchone()
           for b in ("pyspark", "duckdb")]
    assert got[0] == got[1] and got[0][0] > 100
