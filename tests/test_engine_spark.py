"""The record-level engine on Spark gives exactly what it gives on DuckDB: panels and errors.

One local Spark session (local[2], no UI, bound to 127.0.0.1) serves the whole module.
"""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from test_police_uk import (
    BAD_LINES,
    FOLDER,
    GOOD,
    HEADER,
    QUIRKS_PANEL,
    as_set,
    quirk_files,
    row,
    write,
)
from vru.errors import SourceError
from vru.sources.engine import street_panel, street_scan

pytestmark = [pytest.mark.spark, pytest.mark.slow]

KEY = ["source", "level", "area_code", "month", "category"]



def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(KEY).reset_index(drop=True)


def test_bundled_files_identical(spark, bundled):
    files = sorted((bundled / FOLDER).glob("*-street.csv.gz"))
    on_spark = street_scan(files, "spark", spark_session=spark)
    on_duckdb = street_scan(files)
    pd.testing.assert_frame_equal(_sorted(on_spark.crime), _sorted(on_duckdb.crime),
                                  check_exact=True)
    assert on_spark.rows == on_duckdb.rows == 4482
    assert on_spark.crimes == 4422
    assert on_spark.notes == on_duckdb.notes


def test_quirks_identical(spark, tmp_path):
    files = quirk_files(tmp_path)
    on_spark = street_panel(files, "spark", spark_session=spark)
    assert as_set(on_spark) == QUIRKS_PANEL
    pd.testing.assert_frame_equal(_sorted(on_spark), _sorted(street_panel(files)),
                                  check_exact=True)


def _both(files) -> tuple[SourceError, SourceError]:
    out = []
    for kw in ({"backend": "duckdb"}, {"backend": "spark"}):
        with pytest.raises(SourceError) as e:
            street_panel(files, **kw)
        out.append(e.value)
    return out[0], out[1]


def _same(a: SourceError, b: SourceError) -> None:
    assert (a.path, a.row, a.column, a.reason) == (b.path, b.row, b.column, b.reason)


# the first case of each kind of bad line of test_police_uk
CASES = [c for i, c in enumerate(BAD_LINES) if c[2] not in {x[2] for x in BAD_LINES[:i]}]


@pytest.mark.parametrize(("bad", "column", "reason"), CASES, ids=[c[2] for c in CASES])
def test_same_errors(spark, tmp_path, bad, column, reason):
    f = write(tmp_path / "2023-01-city-of-london-street.csv", [*GOOD, bad, *GOOD])
    a, b = _both([f])
    _same(a, b)
    assert (a.path, a.row, a.column) == (str(f), 5, column)
    assert reason in a.reason


def test_same_errors_structural(spark, tmp_path):
    trunc = write(tmp_path / "2023-01-city-of-london-street.csv", GOOD)
    trunc.write_bytes(trunc.read_bytes() + b"t1,2023-01,City of London Police,City of Lon")
    a, b = _both([trunc])
    _same(a, b)
    assert (a.row, a.column) == (5, "Longitude")

    latin = write(tmp_path / "2023-02-city-of-london-street.csv", [row("x", month="2023-02")])
    latin.write_bytes(latin.read_bytes() + ",".join(
        row("u", month="2023-02", location="On or near Caf\xe9")).encode("latin-1") + b"\n")
    a, b = _both([latin])
    _same(a, b)
    assert (a.row, a.column) == (3, "Location")

    gz = tmp_path / "2023-03-city-of-london-street.csv.gz"
    lines = [HEADER] + [",".join(row(f"g{i}", month="2023-03")) for i in range(3000)]
    gz.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode())[:-300])
    a, b = _both([gz])
    assert a.path == b.path == str(gz)
    assert "ends early" in a.reason and "ends early" in b.reason


def test_same_error_in_a_multi_file_call(spark, tmp_path):
    good = quirk_files(tmp_path)
    bad = write(tmp_path / "2023-01-kent-street.csv", [*GOOD, row("k", lsoa="E01X")])
    a, b = _both([*good, bad])
    _same(a, b)
    assert (a.path, a.row, a.column) == (str(bad), 5, "LSOA code")
