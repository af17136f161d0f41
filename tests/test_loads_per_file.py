"""Provenance that adds up: when one engine pass reads several data.police.uk street files, each
file's ``loads`` row count is its own, and the counts sum to the rows stored."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

import vru
from vru.sources import police_uk
from vru.warehouse.ingest import ingest
from vru.warehouse.store import Warehouse

CITY = Path(vru.__file__).parent / "data" / "bundled" / "police_uk_street_city_of_london_2023"
FILES = sorted(CITY.glob("*-street.csv.gz"))


@pytest.fixture
def wh(tmp_path):
    w = Warehouse.create(tmp_path / "w.duckdb")
    yield w
    w.close()


def loads(wh) -> dict[str, int]:
    df = wh.sql("SELECT path, rows FROM loads WHERE source = 'police_uk_street'")
    return {Path(p).name: int(n) for p, n in zip(df["path"], df["rows"], strict=True)}


def stored(wh) -> int:
    return int(wh.sql("SELECT count(*) AS n FROM crime WHERE source LIKE 'police_uk_street/%'")
               ["n"][0])


def test_six_city_of_london_files_each_get_their_own_rows(wh):
    assert len(FILES) == 6
    results = ingest(wh, FILES)
    got = loads(wh)
    assert len(got) == 6
    assert sum(got.values()) == stored(wh) == 555
    # each file holds one month, so its rows are the cells of that month
    per_month = wh.sql("SELECT strftime(month, '%Y-%m') AS m, count(*) AS n FROM crime "
                       "WHERE source LIKE 'police_uk_street/%' GROUP BY 1")
    want = {f"{m}-city-of-london-street.csv.gz": int(n)
            for m, n in zip(per_month["m"], per_month["n"], strict=True)}
    assert got == want
    assert all(n > 0 for n in got.values())
    # what ingest reports is what loads records
    assert {Path(r.path).name: r.rows for r in results} == got


def test_files_sharing_a_month_split_the_cells_without_double_counting(wh, tmp_path):
    """Two files of one force and month (the rows of one file split in two, names without a month):
    every stored cell is credited to exactly one of them."""
    lines = gzip.open(FILES[0], "rt", encoding="utf-8", newline="").read().splitlines()
    header, body = lines[0], lines[1:]
    a, b = tmp_path / "part_a.csv", tmp_path / "part_b.csv"
    a.write_text("\n".join([header, *body[::2]]) + "\n", encoding="utf-8")
    b.write_text("\n".join([header, *body[1::2]]) + "\n", encoding="utf-8")
    batch, counts = police_uk.load_many_counted([a, b])
    assert sum(counts.values()) == batch.rows()
    assert counts[a] > 0 and counts[b] > 0
    ingest(wh, [a, b])
    got = loads(wh)
    assert got == {"part_a.csv": counts[a], "part_b.csv": counts[b]}
    assert sum(got.values()) == stored(wh)


def test_a_new_file_added_later_gets_its_own_rows(wh):
    ingest(wh, FILES[:4])
    first = loads(wh)
    r = ingest(wh, FILES)  # four unchanged, two new
    assert [x.status for x in r].count("unchanged") == 4
    got = loads(wh)
    assert {k: got[k] for k in first} == first
    assert sum(got.values()) == stored(wh) == 555


@pytest.mark.spark
@pytest.mark.slow
def test_spark_credits_the_same_rows_to_each_file(spark):
    _, duck = police_uk.load_many_counted(FILES)
    _, on_spark = police_uk.load_many_counted(FILES, backend="spark", spark_session=spark)
    assert on_spark == duck
    assert sum(duck.values()) == 555


def test_two_files_with_the_same_bytes_in_one_call_are_credited_once(wh, tmp_path):
    """``loads`` is keyed by SHA-256: a second copy of a file in the same ingest is reported as a
    duplicate of the first, not loaded twice, and the per-file counts still sum to the rows stored."""
    copy = tmp_path / "copy" / FILES[0].name
    copy.parent.mkdir()
    copy.write_bytes(FILES[0].read_bytes())
    results = ingest(wh, [FILES[0], copy, FILES[1]])
    status = {(Path(r.path).parent.name, Path(r.path).name): r.status for r in results}
    assert status[("copy", FILES[0].name)] == "duplicate"
    assert status[(CITY.name, FILES[0].name)] == "loaded"
    dup = next(r for r in results if r.status == "duplicate")
    assert str(FILES[0]) in dup.notes[0] and dup.rows == 0
    got = loads(wh)
    assert len(got) == 2 and all(n > 0 for n in got.values())
    assert sum(got.values()) == stored(wh)
    assert sum(r.rows for r in results) == stored(wh)
