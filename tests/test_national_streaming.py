"""The street panel streamed to Parquet and into the warehouse: the same panel as in memory.

`vru ingest` of data.police.uk street files has the engine write the panel month by month to
Parquet parts in a spool folder and the warehouse insert from them (so a national archive never
sits in memory). These tests hold that route to the in-memory one (``street_panel``), to the
benchmark's hand-written SQL, and to the all-or-nothing rules.
"""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from vru.errors import SourceError
from vru.schema import KEYS, conform
from vru.sources import police_uk
from vru.sources.engine import ParquetPanel, street_panel, street_scan
from vru.synthetic import police_uk_national as nat
from vru.warehouse.ingest import ingest
from vru.warehouse.store import LoadRecord, Warehouse, sha256_of

KEY = list(KEYS["crime"])
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> list[Path]:
    out = tmp_path_factory.mktemp("nat") / "arch"
    nat.generate(out, rows=30_000, start="2023-05", end="2023-08", lsoa_switch="2023-07", seed=11)
    return sorted(out.glob("*/*-street.csv"))


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(KEY).reset_index(drop=True)


def test_spooled_panel_is_the_in_memory_panel(archive, tmp_path):
    spool = tmp_path / "spool"
    result = street_scan(archive, spool=spool)
    assert isinstance(result.crime, ParquetPanel)
    # one Parquet part per month, left in a new folder under the spool
    assert len(result.crime.files) == 4
    assert all(p.suffix == ".parquet" and p.exists() and spool in p.parents
               for p in result.crime.files)
    frame = street_scan(archive)
    assert isinstance(frame.crime, pd.DataFrame)
    got = result.crime.to_pandas()
    pd.testing.assert_frame_equal(_sorted(got), _sorted(frame.crime))
    assert len(result.crime) == len(frame.crime) > 1000
    assert (result.rows, result.crimes, result.notes, result.file_rows) == (
        frame.rows, frame.crimes, frame.notes, frame.file_rows)
    assert sum(result.file_rows.values()) == len(result.crime)


def test_spooled_panel_matches_the_hand_written_sql(archive, tmp_path):
    spec = importlib.util.spec_from_file_location("ingest_bench", ROOT / "benchmarks/ingest/run.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    sql = bench.raw_sql_by_month([str(p) for p in archive])
    ours = street_scan(archive, spool=tmp_path).crime.to_pandas()
    cols = ["source", "level", "area_code", "month", "category", "count"]
    want = sql[cols].astype({"month": "datetime64[ns]", "count": "int64"})
    pd.testing.assert_frame_equal(_sorted(ours[cols]), _sorted(want), check_dtype=False)


def test_ingest_streams_the_same_rows_as_a_frame(archive, tmp_path):
    streamed = Warehouse.create(tmp_path / "a.duckdb")
    ingest(streamed, archive)
    # the same files written the old way: the whole panel as one frame
    batch, counts = police_uk.load_many_counted(archive)
    framed = Warehouse.create(tmp_path / "b.duckdb")
    framed.write([LoadRecord(batch if i == 0 else type(batch)(str(p), batch.source, {}, []),
                             sha256_of(p), rows=counts[p]) for i, p in enumerate(archive)])
    assert streamed.fingerprint() == framed.fingerprint()
    assert streamed.counts()["crime"] == len(batch.tables["crime"])
    loads = streamed.sql("SELECT sum(rows) AS n, count(*) AS files FROM loads")
    assert int(loads["n"][0]) == len(batch.tables["crime"])
    assert int(loads["files"][0]) == len(archive)
    # the spool beside the warehouse is gone
    assert not list(tmp_path.glob(".vru-spool-*"))
    streamed.close()
    framed.close()


def test_streamed_ingest_replaces_what_a_file_restates(archive, tmp_path):
    wh = Warehouse.create(tmp_path / "w.duckdb")
    ingest(wh, archive)
    before = wh.counts()["crime"]
    # a revised release of one force-month: half of its lines
    f = next(p for p in archive if p.name.startswith("2023-06-") and "btp" not in p.name)
    lines = f.read_text().splitlines(keepends=True)
    revised = tmp_path / "rev" / f.name
    revised.parent.mkdir()
    revised.write_text("".join(lines[: len(lines) // 2]))
    ingest(wh, [revised])
    source = "police_uk_street/" + next(csv.reader([lines[1]]))[3]  # Falls within
    got = wh.sql("SELECT * FROM crime WHERE source = ? AND month = '2023-06-01'", [source])
    want = conform("crime", street_panel([revised]))
    pd.testing.assert_frame_equal(_sorted(got), _sorted(want), check_dtype=False)
    # the other forces and months are untouched
    other = wh.sql("SELECT count(*) AS n FROM crime WHERE NOT (source = ? AND month = "
                   "'2023-06-01')", [source])["n"][0]
    assert other + len(got) == wh.counts()["crime"]
    assert wh.counts()["crime"] < before
    wh.close()


def test_a_bad_line_stores_nothing_and_leaves_no_spool(archive, tmp_path):
    wh = Warehouse.create(tmp_path / "w.duckdb")
    bad = tmp_path / "bad" / archive[-1].name
    bad.parent.mkdir()
    lines = archive[-1].read_text().splitlines(keepends=True)
    fields = lines[5].split(",")
    fields[4] = "181.0"  # Longitude out of range
    bad.write_text("".join(lines[:5]) + ",".join(fields) + "".join(lines[6:]))
    with pytest.raises(SourceError) as e:
        ingest(wh, [*archive[:-1], bad])
    assert e.value.row == 6 and e.value.column == "Longitude" and str(bad) in str(e.value)
    assert wh.counts()["crime"] == 0
    assert wh.sql("SELECT count(*) AS n FROM loads")["n"][0] == 0
    assert not list(tmp_path.glob(".vru-spool-*"))
    spool = tmp_path / "spool"
    with pytest.raises(SourceError):
        street_scan([bad], spool=spool)
    assert list(spool.iterdir()) == []  # the failed call's folder is removed
    wh.close()
