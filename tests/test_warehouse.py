"""The warehouse: canonical tables, all-or-nothing writes, idempotent ingest, revisions."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from vru.errors import SourceError, UnknownFormatError, WarehouseError
from vru.schema import Batch, conform
from vru.warehouse import ingest as ing
from vru.warehouse.store import Warehouse


def crime_batch(rows, source="test_source", path="t.csv"):
    df = pd.DataFrame(rows, columns=["area_code", "month", "category", "count"])
    df.insert(0, "level", "borough")
    df.insert(0, "source", source)
    return Batch(path=path, source=source, tables={"crime": conform("crime", df)})


@pytest.fixture
def wh(tmp_path):
    w = Warehouse.create(tmp_path / "w.duckdb")
    yield w
    w.close()


def test_create_has_every_canonical_table(wh):
    assert {"areas", "crime", "crime_annual", "population", "deprivation", "unemployment",
            "survey", "loads"} <= set(wh.tables())


def test_open_missing_warehouse_is_a_clear_error(tmp_path):
    with pytest.raises(WarehouseError, match="vru init"):
        Warehouse.open(tmp_path / "nope.duckdb")


def test_same_batch_twice_changes_nothing(wh):
    b = crime_batch([("E09000001", "2020-01-01", "robbery", 3),
                     ("E09000002", "2020-01-01", "robbery", 5)])
    wh.write([(b, "sha1")])
    fp = wh.fingerprint()
    wh.write([(b, "sha1")])
    assert wh.fingerprint() == fp
    assert wh.sql("SELECT sum(count) AS n FROM crime")["n"][0] == 8


def test_revision_replaces_the_whole_month_of_that_source(wh):
    wh.write([(crime_batch([("E09000001", "2020-01-01", "robbery", 3),
                            ("E09000002", "2020-01-01", "robbery", 5),
                            ("E09000002", "2020-02-01", "robbery", 7)]), "a")])
    # a later release restates January: E09000001 revised to zero (so absent), E09000002 to 6
    wh.write([(crime_batch([("E09000002", "2020-01-01", "robbery", 6)]), "b")])
    got = wh.sql("SELECT area_code, month, count FROM crime ORDER BY 1, 2")
    assert got.values.tolist() == [
        ["E09000002", pd.Timestamp("2020-01-01"), 6],
        ["E09000002", pd.Timestamp("2020-02-01"), 7],
    ]


def test_other_sources_are_never_touched(wh):
    wh.write([(crime_batch([("E09000001", "2020-01-01", "robbery", 3)], source="x"), "a")])
    wh.write([(crime_batch([("E09000001", "2020-01-01", "robbery", 9)], source="y"), "b")])
    got = wh.sql("SELECT source, count FROM crime ORDER BY 1")
    assert got.values.tolist() == [["x", 3], ["y", 9]]


def test_failed_write_rolls_back_everything(wh):
    good = crime_batch([("E09000001", "2020-01-01", "robbery", 3)])
    wh.write([(good, "a")])
    fp = wh.fingerprint()
    loads = len(wh.table("loads"))
    bad = Batch(path="bad.csv", source="s", tables={"no_such_table": pd.DataFrame({"a": [1]})})
    second = crime_batch([("E09000001", "2020-01-01", "robbery", 99)], path="second.csv")
    with pytest.raises(WarehouseError):
        wh.write([(second, "b"), (bad, "c")])
    assert wh.fingerprint() == fp
    assert len(wh.table("loads")) == loads


def test_ingest_real_file_is_idempotent(wh, bundled):
    f = bundled / "mps_crime_borough" / "mps_borough_crime_detailed_202112_202311.csv.gz"
    r1 = ing.ingest(wh, [f])
    assert [r.status for r in r1] == ["loaded"]
    fp = wh.fingerprint()
    r2 = ing.ingest(wh, [f])
    assert [r.status for r in r2] == ["unchanged"]
    assert wh.fingerprint() == fp
    ing.ingest(wh, [f], force=True)
    assert wh.fingerprint() == fp


def test_ingest_is_all_or_nothing_across_files(wh, bundled, tmp_path):
    good = bundled / "mps_crime_borough" / "mps_borough_crime_detailed_202112_202311.csv.gz"
    bad = tmp_path / "broken.csv"
    text = (good.parent / good.name)
    import gzip

    lines = gzip.open(text, "rt").read().splitlines()
    bad.write_text("\n".join(lines[:50] + [lines[50][:40]]) + "\n")  # last line cut mid-row
    fp = wh.fingerprint()
    with pytest.raises(SourceError) as e:
        ing.ingest(wh, [good, bad])
    assert "broken.csv" in str(e.value)
    assert wh.fingerprint() == fp
    assert wh.table("loads").empty


def test_unknown_format_is_refused_and_nothing_written(wh, tmp_path):
    f = tmp_path / "mystery.csv"
    f.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(UnknownFormatError, match="mystery.csv.*unknown data format"):
        ing.ingest(wh, [f])
    assert wh.table("loads").empty


def test_directories_are_expanded_and_docs_skipped(bundled, tmp_path):
    d = tmp_path / "in"
    shutil.copytree(bundled / "mps_crime_borough", d)
    files = ing.expand([d])
    assert all(f.suffix == ".gz" for f in files) and len(files) == 3


def test_a_warehouse_from_an_older_version_gains_new_tables(tmp_path):
    import duckdb

    p = tmp_path / "old.duckdb"
    w = Warehouse.create(p)
    w.con.execute("DROP TABLE survey_responses")  # as made before that table existed
    w.write([(crime_batch([("E09000001", "2020-01-01", "robbery", 3)]), "a")])
    w.close()
    with Warehouse.open(p, read_only=True) as r:
        assert "survey_responses" in r.tables()
        assert r.sql("SELECT sum(count) AS n FROM crime")["n"][0] == 3
    duckdb.connect(str(tmp_path / "x.duckdb")).close()
    with pytest.raises(WarehouseError, match="not a VRU warehouse"):
        Warehouse.open(tmp_path / "x.duckdb")
