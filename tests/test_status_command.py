"""`vru status`: for each source, the rows and months held and the files behind them (each with
its own rows), as text and as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import vru
from vru.cli import main
from vru.warehouse.ingest import ingest
from vru.warehouse.store import Warehouse

BUNDLED = Path(vru.__file__).parent / "data" / "bundled"
CITY = sorted((BUNDLED / "police_uk_street_city_of_london_2023").glob("*-street.csv.gz"))
BOROUGH = sorted((BUNDLED / "mps_crime_borough").glob("mps_borough_crime_detailed_*.csv.gz"))


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("status") / "w.duckdb"
    with Warehouse.create(path) as wh:
        ingest(wh, [*CITY, *BOROUGH])
    return path


def run(*args):
    return CliRunner().invoke(main, list(map(str, args)), catch_exceptions=False)


def test_status_json_adds_up(warehouse):
    r = run("status", "-w", warehouse, "--format", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["warehouse"] == str(warehouse)
    by = {s["source"]: s for s in data["sources"]}
    assert set(by) == {"police_uk_street", "mps_borough_detailed"}
    street = by["police_uk_street"]
    assert [Path(f["path"]).name for f in street["files"]] == [p.name for p in CITY]
    assert sum(f["rows"] for f in street["files"]) == street["rows_loaded"] == 555
    assert street["rows_held"] == {"crime": 555}
    assert street["periods"]["crime"] == {"unit": "month", "first": "2023-01", "last": "2023-06",
                                          "count": 6}
    assert all(f["rows"] > 0 and f["category_map"] is None for f in street["files"])
    mps = by["mps_borough_detailed"]
    assert mps["periods"]["crime"]["first"] == "2010-04"
    assert mps["periods"]["crime"]["last"] == "2023-11"
    assert mps["periods"]["crime"]["count"] == 164
    assert mps["rows_held"]["crime"] == mps["rows_loaded"] == sum(f["rows"] for f in mps["files"])
    with Warehouse.open(warehouse, read_only=True) as wh:
        n = wh.sql("SELECT count(*) AS n FROM crime WHERE source = 'mps_borough_detailed'")["n"][0]
    assert mps["rows_held"]["crime"] == n


def test_status_text_shows_each_file_and_its_rows(warehouse):
    r = run("status", "-w", warehouse)
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    head = next(x for x in lines if x.startswith("police_uk_street:"))
    assert "6 file(s), 555 rows loaded" in head and "555 crime rows" in head
    assert "crime months 2023-01..2023-06 (6)" in head
    data = json.loads(run("status", "-w", warehouse, "--format", "json").output)
    street = next(s for s in data["sources"] if s["source"] == "police_uk_street")
    for f in street["files"]:
        line = next(x for x in lines if x.endswith(f["path"]))
        assert line.split()[0] == f"{f['rows']:,}"
    assert any(x.startswith("mps_borough_detailed: 2 file(s)") for x in lines)


def test_status_of_a_warehouse_made_before_the_category_map_columns(tmp_path):
    """An older warehouse (loads without the category-map columns) is upgraded on open."""
    import duckdb

    path = tmp_path / "old.duckdb"
    Warehouse.create(path).close()
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE loads")
    con.execute("CREATE TABLE loads (sha256 VARCHAR PRIMARY KEY, path VARCHAR, source VARCHAR, "
                "rows BIGINT, loaded_at TIMESTAMP, notes VARCHAR)")
    con.execute("INSERT INTO loads VALUES ('x', 'a.csv', 's', 3, now()::TIMESTAMP, '')")
    con.close()
    r = run("status", "-w", path, "--format", "json")
    assert r.exit_code == 0, r.output
    files = json.loads(r.output)["sources"][0]["files"]
    assert files[0]["rows"] == 3 and files[0]["category_map"] is None
