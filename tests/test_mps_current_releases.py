"""MPS borough and ward files in the layouts and category names of the releases since 2024, made
by the test: they ingest cleanly, residential burglary reads as one series across its renames,
twice changes nothing, and an unknown category is refused (file, row, category, how to map it),
nothing stored, then accepted with a user category map recorded with the load."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from vru.cli import main
from vru.errors import SourceError
from vru.warehouse.ingest import ingest
from vru.warehouse.store import Warehouse

MONTHS = ["202401", "202402", "202403", "202404"]
WARD_HEADER = ["MajorText", "MinorText", "WardName", "WardCode", "LookUp_BoroughName", *MONTHS]
# The ward release covering 2023-07..2025-06 (London Datastore): residential burglary is
# BURGLARY IN A DWELLING until February 2024 and BURGLARY - RESIDENTIAL from February 2024; a few
# BURGLARY NON-DWELLING and NFIB FRAUD / NFIB offences appear from February 2024.
WARD_ROWS = [
    ["BURGLARY", "BURGLARY IN A DWELLING", "Abbey", "E05014053", "Barking and Dagenham", 5, 2, 0, 0],
    ["BURGLARY", "BURGLARY - RESIDENTIAL", "Abbey", "E05014053", "Barking and Dagenham", 0, 1, 3, 4],
    ["BURGLARY", "BURGLARY NON-DWELLING", "Abbey", "E05014053", "Barking and Dagenham", 0, 1, 0, 2],
    ["BURGLARY", "BURGLARY BUSINESS AND COMMUNITY", "Abbey", "E05014053", "Barking and Dagenham",
     4, 4, 3, 3],
    ["NFIB FRAUD", "NFIB", "Abbey", "E05014053", "Barking and Dagenham", 0, 1, 0, 0],
    ["FRAUD AND FORGERY", "FRAUD AND FORGERY", "Abbey", "E05014053", "Barking and Dagenham",
     0, 2, 0, 1],
    ["VIOLENCE AGAINST THE PERSON", "VIOLENCE WITH INJURY", "Abbey", "E05014053",
     "Barking and Dagenham", 13, 19, 11, 9],
    ["BURGLARY", "BURGLARY IN A DWELLING", "Alibon", "E05014054", "Barking and Dagenham", 1, 0, 0, 0],
    ["BURGLARY", "BURGLARY - RESIDENTIAL", "Alibon", "E05014054", "Barking and Dagenham", 0, 0, 1, 1],
]
# Borough releases since 2024: the two RES BURGLARY categories, with a stray BURGLARY - RESIDENTIAL
# and NFIB FRAUD / NFIB
BOROUGH_HEADER = ["MajorText", "MinorText", "BoroughName", *MONTHS]
BOROUGH_ROWS = [
    ["BURGLARY", "RES BURGLARY OF A HOME", "Camden", 80, 75, 70, 72],
    ["BURGLARY", "RES BURGLARY OF UNCONNECTED BUILDING", "Camden", 20, 25, 21, 19],
    ["BURGLARY", "BURGLARY - RESIDENTIAL", "Camden", 0, 0, 1, 0],
    ["NFIB FRAUD", "NFIB", "Camden", 0, 0, 0, 1],
    ["ROBBERY", "ROBBERY OF PERSONAL PROPERTY", "Camden", 90, 85, 88, 92],
]
# The borough file since 2026: Group, SubGroup, BOCU, and a comma inside a minor category. Later
# months than the other borough file: a borough file restates whole months of its source, so two
# files of one source must not overlap unless the later one is meant to revise the earlier.
GROUP_MONTHS = ["202405", "202406", "202407", "202408"]
GROUP_HEADER = ["Group", "SubGroup", "BOCU", *GROUP_MONTHS]
GROUP_ROWS = [
    ["PUBLIC ORDER OFFENCES", "PUBLIC FEAR, ALARM OR DISTRESS", "Hackney", 150, 140, 160, 155],
    ["BURGLARY", "RES BURGLARY OF A HOME", "Hackney", 60, 61, 62, 63],
    ["NFIB FRAUD", "NFIB", "Hackney", 1, 0, 0, 0],
]
UNKNOWN = ("BURGLARY", "BURGLARY - TEST-ONLY NAME")


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(header)
        w.writerows(rows)
    return path


@pytest.fixture
def wh(tmp_path):
    w = Warehouse.create(tmp_path / "w.duckdb")
    yield w
    w.close()


@pytest.fixture
def current(tmp_path) -> list[Path]:
    return [
        write_csv(tmp_path / "MPS Ward Level Crime (most recent 24 months).csv", WARD_HEADER,
                  WARD_ROWS),
        write_csv(tmp_path / "MPS Borough Level Crime (most recent 24 months).csv",
                  BOROUGH_HEADER, BOROUGH_ROWS),
        write_csv(tmp_path / "mps_borough_2026.csv", GROUP_HEADER, GROUP_ROWS),
    ]


def series(wh, source, area, category) -> dict[str, int]:
    df = wh.sql("SELECT month, count FROM crime WHERE source = ? AND area_code = ? AND category = ? "
                "ORDER BY month", [source, area, category])
    return {f"{m:%Y%m}": int(n) for m, n in zip(df["month"], df["count"], strict=True)}


def state(wh) -> tuple:
    return wh.fingerprint(), wh.sql("SELECT sha256, category_map_sha256 FROM loads ORDER BY 1")


def test_current_releases_ingest_cleanly(wh, current):
    results = ingest(wh, current)
    assert [r.status for r in results] == ["loaded"] * 3
    assert {r.source for r in results} == {"mps_ward_coarse", "mps_borough_coarse"}
    # residential burglary is one series across BURGLARY IN A DWELLING -> BURGLARY - RESIDENTIAL
    assert series(wh, "mps_ward_coarse", "E05014053", "residential_burglary") == {
        "202401": 5, "202402": 3, "202403": 3, "202404": 4}
    assert series(wh, "mps_ward_coarse", "E05014054", "residential_burglary") == {
        "202401": 1, "202403": 1, "202404": 1}
    # BURGLARY NON-DWELLING is business and community burglary (the next release counts it there)
    assert series(wh, "mps_ward_coarse", "E05014053", "business_and_community_burglary") == {
        "202401": 4, "202402": 5, "202403": 3, "202404": 5}
    # NFIB fraud is summed with fraud and forgery
    assert series(wh, "mps_ward_coarse", "E05014053", "fraud_and_forgery") == {
        "202402": 3, "202404": 1}
    # the borough file: the RES BURGLARY pair and the stray BURGLARY - RESIDENTIAL, one series
    camden = series(wh, "mps_borough_coarse", "E09000007", "residential_burglary")
    assert camden == {"202401": 100, "202402": 100, "202403": 92, "202404": 91}
    assert series(wh, "mps_borough_coarse", "E09000007", "fraud_and_forgery") == {"202404": 1}
    # the Group/SubGroup/BOCU layout, with a comma inside a category name
    assert series(wh, "mps_borough_coarse", "E09000012", "public_order_offences") == {
        "202405": 150, "202406": 140, "202407": 160, "202408": 155}
    ward_areas = wh.sql("SELECT code, parent_code FROM areas WHERE level = 'ward' ORDER BY code")
    assert list(ward_areas["code"]) == ["E05014053", "E05014054"]
    assert set(ward_areas["parent_code"]) == {"E09000002"}


def test_ingesting_them_twice_changes_nothing(wh, current):
    ingest(wh, current)
    before = state(wh)
    again = ingest(wh, current)
    assert [r.status for r in again] == ["unchanged"] * 3
    forced = ingest(wh, current, force=True)
    assert [r.status for r in forced] == ["loaded"] * 3
    after = state(wh)
    assert after[0] == before[0]
    assert after[1].equals(before[1])


def test_unknown_category_refused_with_file_row_and_how_to_map(wh, current, tmp_path):
    ingest(wh, current[1:])
    before = state(wh)
    bad = write_csv(tmp_path / "ward_new.csv", WARD_HEADER,
                    [*WARD_ROWS[:3], [*UNKNOWN, "Abbey", "E05014053", "Barking and Dagenham",
                                      1, 2, 3, 4]])
    with pytest.raises(SourceError) as e:
        ingest(wh, [current[0], bad])  # a good file in the same call is not stored either
    err = e.value
    assert err.path == str(bad)
    assert err.row == 5 and err.column == "MinorText"
    msg = str(err)
    assert "ward_new.csv" in msg and "row 5" in msg
    assert "'BURGLARY - TEST-ONLY NAME'" in msg
    assert "major,minor,category" in msg and "BURGLARY,BURGLARY - TEST-ONLY NAME,<category>" in msg
    assert "--category-map" in msg
    after = state(wh)
    assert after[0] == before[0] and after[1].equals(before[1])


def test_unknown_category_accepted_once_mapped_and_the_map_recorded(wh, current, tmp_path):
    bad = write_csv(tmp_path / "ward_new.csv", WARD_HEADER,
                    [[*UNKNOWN, "Abbey", "E05014053", "Barking and Dagenham", 1, 2, 3, 4],
                     *WARD_ROWS])
    cmap = tmp_path / "my_map.csv"
    cmap.write_text("major,minor,category,note\n"
                    "BURGLARY,BURGLARY - TEST-ONLY NAME,business_and_community_burglary,mine\n")
    r = ingest(wh, [bad], category_map=cmap)
    assert [x.status for x in r] == ["loaded"] and r[0].source == "mps_ward_coarse"
    assert any("user category map my_map.csv" in n and "TEST-ONLY" in n for n in r[0].notes)
    # 4/5/3/5 from the file's own categories plus 1/2/3/4 from the mapped one
    assert series(wh, "mps_ward_coarse", "E05014053", "business_and_community_burglary") == {
        "202401": 5, "202402": 7, "202403": 6, "202404": 9}
    loads = wh.sql("SELECT path, category_map, category_map_sha256, notes FROM loads")
    assert list(loads["category_map"]) == ["my_map.csv"]
    import hashlib
    assert loads["category_map_sha256"][0] == hashlib.sha256(cmap.read_bytes()).hexdigest()
    assert "my_map.csv" in loads["notes"][0]

    # the same file with the same map: unchanged; with another map: read again
    assert [x.status for x in ingest(wh, [bad], category_map=cmap)] == ["unchanged"]
    other = tmp_path / "other_map.csv"
    other.write_text("major,minor,category\nBURGLARY,BURGLARY - TEST-ONLY NAME,residential_burglary\n")
    r2 = ingest(wh, [bad], category_map=other)
    assert [x.status for x in r2] == ["loaded"]
    assert series(wh, "mps_ward_coarse", "E05014053", "business_and_community_burglary") == {
        "202401": 4, "202402": 5, "202403": 3, "202404": 5}
    assert series(wh, "mps_ward_coarse", "E05014053", "residential_burglary") == {
        "202401": 6, "202402": 5, "202403": 6, "202404": 8}
    loads = wh.sql("SELECT category_map FROM loads")
    assert list(loads["category_map"]) == ["other_map.csv"]
    # without a map the file is read again and refused: nothing changes
    before = state(wh)
    with pytest.raises(SourceError, match="--category-map"):
        ingest(wh, [bad])
    after = state(wh)
    assert after[0] == before[0] and after[1].equals(before[1])


def test_cli_refuses_then_accepts_with_category_map(tmp_path):
    w = tmp_path / "w.duckdb"
    Warehouse.create(w).close()
    bad = write_csv(tmp_path / "borough_new.csv", BOROUGH_HEADER,
                    [*BOROUGH_ROWS, [*UNKNOWN, "Camden", 1, 1, 1, 1]])
    runner = CliRunner()
    r = runner.invoke(main, ["ingest", "-w", str(w), str(bad)])
    assert r.exit_code == 2
    assert "row 7" in r.output and "BURGLARY - TEST-ONLY NAME" in r.output
    assert "--category-map" in r.output and "Traceback" not in r.output
    cmap = tmp_path / "map.csv"
    cmap.write_text("major,minor,category\nBURGLARY,BURGLARY - TEST-ONLY NAME,burglary\n")
    r = runner.invoke(main, ["ingest", "-w", str(w), "--category-map", str(cmap), str(bad)])
    assert r.exit_code == 0, r.output
    assert "loaded" in r.output and "user category map map.csv" in r.output
    r = runner.invoke(main, ["status", "-w", str(w)])
    assert "(category map map.csv)" in r.output
