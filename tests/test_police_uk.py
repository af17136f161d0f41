"""data.police.uk street files: the loader, the engine (DuckDB backend) and every bad input."""

from __future__ import annotations

import csv
import gzip
import io
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from vru import taxonomy
from vru.errors import SourceError
from vru.schema import conform
from vru.sources import police_uk, registry
from vru.sources.engine import NO_LOCATION, street_panel, street_scan

HEADER = ",".join(police_uk.HEADER)
CITY = "City of London Police"
MET = "Metropolitan Police Service"
FOLDER = "police_uk_street_city_of_london_2023"


def row(cid="", month="2023-01", force=CITY, lon="-0.090000", lat="51.515000",
        location="On or near Somewhere", lsoa="E01000001", lsoa_name="City of London 001A",
        ctype="Burglary", outcome="Under investigation"):
    if lsoa == "":
        lon, lat, location, lsoa_name = "", "", "No Location", ""
    return [cid, month, force, force, lon, lat, location, lsoa, lsoa_name, ctype, outcome, ""]


def write(path: Path, rows, *, header: str = HEADER, newline: str = "\n",
          compress: bool = False) -> Path:
    buf = io.StringIO()
    buf.write(header + newline)
    w = csv.writer(buf, lineterminator=newline)
    for r in rows:
        if isinstance(r, str):
            buf.write(r + newline)
        else:
            w.writerow(r)
    data = buf.getvalue().encode("utf-8")
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def as_set(df: pd.DataFrame) -> set[tuple]:
    return {(r.source, r.level, r.area_code, r.month.strftime("%Y-%m"), r.category, r.count)
            for r in df.itertuples()}


# --- hand-made files with hand-computed panels ----------------------------------------------


def quirk_files(tmp_path: Path) -> list[Path]:
    """Two forces, duplicates, ASB, no location, both LSOA vintages, gzip + CRLF, pre-2013 types."""
    city = write(tmp_path / "2023-01-city-of-london-street.csv", [
        row("a1", lsoa="E01000001", ctype="Burglary", outcome="Under investigation"),
        # the same crime again with its new outcome: counted once
        row("a1", lsoa="E01000001", ctype="Burglary", outcome="Unable to prosecute suspect"),
        # a crime listed once at a point and once with no location: the located LSOA
        row("a2", lsoa="E01000002", ctype="Violence and sexual offences"),
        row("a2", lsoa="", ctype="Violence and sexual offences"),
        # a crime snapped to two LSOAs: the lowest code
        row("a3", lsoa="E01000005", ctype="Robbery"),
        row("a3", lsoa="E01000003", ctype="Robbery"),
        row("a3", lsoa="E01000005", ctype="Robbery", outcome="Local resolution"),
        # no location at all
        row("a4", lsoa="", ctype="Robbery"),
        # anti-social behaviour: no Crime ID, each row counts
        row("", lsoa="E01000001", ctype="Anti-social behaviour", outcome=""),
        row("", lsoa="E01000001", ctype="Anti-social behaviour", outcome=""),
        row("", lsoa="", ctype="Anti-social behaviour", outcome=""),
        # a crime without an ID also counts (once per row)
        row("", lsoa="E01000002", ctype="Violence and sexual offences"),
        # 2021 LSOA code (E01035650) and a Welsh code, stored as given
        row("a5", lsoa="E01035650", ctype="Shoplifting"),
        row("a6", lsoa="W01000010", ctype="Shoplifting", lon="-3.180000", lat="51.480000"),
        # a quoted comma in Location
        row("a7", lsoa="E01000001", ctype="Drugs", location="On or near Foo, Bar"),
    ])
    met = write(tmp_path / "2023-01-metropolitan-street.csv.gz", [
        # the same Crime ID as in the City file: another force, another source
        row("a1", force=MET, lsoa="E01000001", ctype="Burglary"),
        row("m1", force=MET, lsoa="E01004294", ctype="Criminal damage and arson"),
        row("m1", force=MET, lsoa="E01004294", ctype="Criminal damage and arson",
            outcome="Offender given a caution"),
        row("m2", force=MET, lsoa="E01004294", ctype="Criminal damage and arson"),
    ], newline="\r\n", compress=True)
    old = write(tmp_path / "2013-04-metropolitan-street.csv", [
        row("o1", month="2013-04", force=MET, lsoa="E01000001", ctype="Violent crime"),
        row("o2", month="2013-04", force=MET, lsoa="E01000001",
            ctype="Public disorder and weapons"),
        row("o3", month="2013-04", force=MET, lsoa="E01000001", ctype=" Violent crime "),
        # the same type under its later name: the same harmonised category, one cell
        row("o4", month="2013-04", force=MET, lsoa="E01000001",
            ctype="Violence and sexual offences"),
    ])
    return [city, met, old]


@pytest.fixture
def quirks(tmp_path) -> list[Path]:
    return quirk_files(tmp_path)


QUIRKS_PANEL = {
    ("police_uk_street/" + CITY, "lsoa", "E01000001", "2023-01", "burglary", 1),
    ("police_uk_street/" + CITY, "lsoa", "E01000002", "2023-01",
     "violence_and_sexual_offences", 2),
    ("police_uk_street/" + CITY, "lsoa", "E01000003", "2023-01", "robbery", 1),
    ("police_uk_street/" + CITY, "lsoa", NO_LOCATION, "2023-01", "robbery", 1),
    ("police_uk_street/" + CITY, "lsoa", "E01000001", "2023-01", "anti_social_behaviour", 2),
    ("police_uk_street/" + CITY, "lsoa", NO_LOCATION, "2023-01", "anti_social_behaviour", 1),
    ("police_uk_street/" + CITY, "lsoa", "E01035650", "2023-01", "shoplifting", 1),
    ("police_uk_street/" + CITY, "lsoa", "W01000010", "2023-01", "shoplifting", 1),
    ("police_uk_street/" + CITY, "lsoa", "E01000001", "2023-01", "drug_offences", 1),
    ("police_uk_street/" + MET, "lsoa", "E01000001", "2023-01", "burglary", 1),
    ("police_uk_street/" + MET, "lsoa", "E01004294", "2023-01", "arson_and_criminal_damage", 2),
    ("police_uk_street/" + MET, "lsoa", "E01000001", "2013-04",
     taxonomy.harmonise("police_uk", "", "Violent crime"), 3),
    ("police_uk_street/" + MET, "lsoa", "E01000001", "2013-04", "public_disorder_and_weapons", 1),
}


def test_hand_made_panel(quirks):
    result = street_scan(quirks)
    assert as_set(result.crime) == QUIRKS_PANEL
    assert result.rows == 15 + 4 + 4
    assert result.crimes == sum(r[-1] for r in QUIRKS_PANEL) == 18
    assert list(result.crime.columns) == ["source", "level", "area_code", "month", "category",
                                          "count"]
    assert str(result.crime["month"].dtype) == "datetime64[ns]"
    # the engine's output is already the canonical table (conform changes nothing)
    pd.testing.assert_frame_equal(conform("crime", result.crime), result.crime)


def test_load_many_gives_one_batch_with_notes(quirks):
    batch = police_uk.load_many(quirks)
    assert batch.source == "police_uk_street"
    assert batch.path == str(quirks[0])
    assert as_set(batch.tables["crime"]) == QUIRKS_PANEL
    notes = " ".join(batch.notes)
    assert "23 rows -> 18 crimes" in notes
    assert "5 repeated rows" in notes
    assert f"2 crimes with no location kept under area_code {NO_LOCATION}" in notes


def test_load_one_file(quirks):
    batch = police_uk.load(quirks[1])
    assert as_set(batch.tables["crime"]) == {
        ("police_uk_street/" + MET, "lsoa", "E01000001", "2023-01", "burglary", 1),
        ("police_uk_street/" + MET, "lsoa", "E01004294", "2023-01", "arson_and_criminal_damage",
         2),
    }


def test_header_only_file_gives_no_rows(tmp_path):
    f = write(tmp_path / "2023-02-kent-street.csv", [])
    assert len(street_panel([f])) == 0


def test_file_without_month_in_name_is_not_month_checked(tmp_path):
    f = write(tmp_path / "my-export-street.csv", [row("x", month="2023-05"),
                                                  row("y", month="2023-06")])
    got = street_panel([f])
    assert sorted(got["month"].dt.strftime("%Y-%m")) == ["2023-05", "2023-06"]


def test_month_checked_per_file_when_names_are_mixed(tmp_path):
    named = write(tmp_path / "2023-05-kent-street.csv", [row("k", month="2023-05"),
                                                         row("k2", month="2023-06")])
    other = write(tmp_path / "my-export-street.csv", [row("x", month="2023-07")])
    e = _error([other, named])
    assert (e.path, e.row, e.column) == (str(named), 3, "Month")
    assert "(2023-05)" in e.reason


def test_sniff(quirks, bundled, tmp_path):
    street = sorted((bundled / FOLDER).glob("*.csv.gz"))
    assert all(police_uk.sniff(p) for p in street)
    assert police_uk.sniff(quirks[1])
    # the header alone is enough; a street-like name is enough (its header is checked on load)
    assert police_uk.sniff(write(tmp_path / "export.csv", [row("x")]))
    assert police_uk.sniff(write(tmp_path / "x-street.csv", [], header="a,b"))
    assert not police_uk.sniff(write(tmp_path / "other.csv", [], header="a,b"))
    mps = next((bundled / "mps_crime_borough").glob("*.csv.gz"))
    assert not police_uk.sniff(mps)
    assert registry.detect(street[0]) is police_uk


# --- the real bundled files --------------------------------------------------------------------


def _independent_panel(files: list[Path]) -> tuple[int, int, Counter]:
    """Rows, repeated (Crime ID, Month) rows, and the panel, computed with the csv module."""
    rows, cells = 0, Counter()
    crimes: dict[tuple, list[str]] = {}
    cmap = {minor: cat for scheme, _major, minor, cat in
            taxonomy.category_map()[["scheme", "major", "minor", "category"]].itertuples(
                index=False) if scheme == "police_uk"}
    for f in files:
        with gzip.open(f, "rt", encoding="utf-8", newline="") as fh:
            for d in csv.DictReader(fh):
                rows += 1
                key = (d["Falls within"], d["Crime ID"], d["Month"])
                if d["Crime ID"]:
                    crimes.setdefault(key, []).append((d["LSOA code"], d["Crime type"]))
                else:
                    cells[(d["Falls within"], d["LSOA code"] or NO_LOCATION, d["Month"],
                           cmap[d["Crime type"]])] += 1
    repeats = sum(len(v) - 1 for v in crimes.values())
    for (force, _cid, month), v in crimes.items():
        located = [lsoa for lsoa, _ in v if lsoa]
        area = min(located) if located else NO_LOCATION
        cells[(force, area, month, cmap[min(t for _, t in v)])] += 1
    return rows, repeats, cells


def test_bundled_city_of_london_files(bundled):
    files = sorted((bundled / FOLDER).glob("*-street.csv.gz"))
    assert len(files) == 6
    result = street_scan(files)
    rows, repeats, cells = _independent_panel(files)
    assert rows == result.rows == 4482  # SOURCE.md: total 4,482 rows
    assert repeats == 60
    assert result.crimes == rows - repeats == 4422
    got = Counter({(s.removeprefix("police_uk_street/"), a, m.strftime("%Y-%m"), c): n
                   for s, a, m, c, n in result.crime[["source", "area_code", "month", "category",
                                                      "count"]].itertuples(index=False)})
    assert got == cells
    pd.testing.assert_frame_equal(conform("crime", result.crime), result.crime)
    assert set(result.crime["source"]) == {"police_uk_street/City of London Police"}
    assert set(result.crime["level"]) == {"lsoa"}
    assert result.crime["month"].dt.strftime("%Y-%m").nunique() == 6
    # SOURCE.md: both LSOA vintages appear (e.g. 2011-only E01004294? or 2021 E0103xxxx codes)
    assert result.crime["area_code"].str.match(r"E01\d{6}$").sum() > 0


def test_bundled_monthly_row_counts(bundled):
    # SOURCE.md table: rows per file
    expected = {"2023-01": 719, "2023-02": 783, "2023-03": 709, "2023-04": 738, "2023-05": 774,
                "2023-06": 759}
    for month, n in expected.items():
        f = bundled / FOLDER / f"{month}-city-of-london-street.csv.gz"
        assert street_scan([f]).rows == n


# --- bad input: every kind refused with file, line and column --------------------------------


def _error(files, **kw) -> SourceError:
    with pytest.raises(SourceError) as e:
        street_panel(files if isinstance(files, list) else [files], **kw)
    return e.value


GOOD = [row("g1"), row("g2", lsoa="E01000002"), row("", ctype="Anti-social behaviour")]


BAD_LINES = [
    (row("b", ctype="Knife crime"), "Crime type", "unknown Crime type"),
    (row("b", month="2023-13"), "Month", "YYYY-MM"),
    (row("b", month="Jan 2023"), "Month", "YYYY-MM"),
    (row("b", month="2023-02"), "Month", "differs from the month in the file name"),
    (row("b", month="2009-01"), "Month", "before 2010-12"),
    (row("b", force=""), "Falls within", "empty"),
    (row("b", lat="40.1"), "Latitude", "not a number in 49.8..60.95"),
    (row("b", lon="100.0"), "Longitude", "not a number in -8.75..2.0"),
    (row("b", lon="-0.1x"), "Longitude", "not a number"),
    (row("b", lon="0", lat="0"), "Latitude", "not a number"),
    (row("b", lat=""), "Latitude", "Latitude is empty but Longitude is given"),
    (row("b", lon=""), "Longitude", "Longitude is empty but Latitude is given"),
    (row("b", lsoa="E0100001"), "LSOA code", "not an English or Welsh LSOA code"),
    (row("b", lsoa="S01000001"), "LSOA code", "not an English or Welsh LSOA code"),
    ("b,2023-01,City of London Police,City of London Police,-0.09", "Latitude", "5 fields"),
    (",".join(row("b")) + ",extra", "Context", "more than 12 fields"),
]


@pytest.mark.parametrize(("bad", "column", "reason"), BAD_LINES)
def test_bad_value_names_file_line_and_column(tmp_path, bad, column, reason):
    f = write(tmp_path / "2023-01-city-of-london-street.csv", [*GOOD, bad, *GOOD])
    e = _error(f)
    assert e.path == str(f)
    assert e.row == 5  # header, 3 good rows, then the bad one
    assert e.column == column
    assert reason in e.reason


def test_truncated_last_line(tmp_path):
    f = write(tmp_path / "2023-01-city-of-london-street.csv", GOOD)
    f.write_bytes(f.read_bytes() + b"t1,2023-01,City of London Police,City of Lon")
    e = _error(f)
    assert (e.row, e.column) == (5, "Longitude")
    assert "truncated" in e.reason


def test_truncated_gzip(tmp_path):
    f = write(tmp_path / "2023-01-city-of-london-street.csv.gz", GOOD * 400, compress=True)
    f.write_bytes(f.read_bytes()[:-200])
    e = _error(f)
    assert e.path == str(f)
    assert "ends early" in e.reason or "corrupt" in e.reason


def test_empty_file(tmp_path):
    f = tmp_path / "2023-01-city-of-london-street.csv"
    f.write_bytes(b"")
    e = _error(f)
    assert e.path == str(f) and "empty" in e.reason


def test_not_utf8(tmp_path):
    f = write(tmp_path / "2023-01-city-of-london-street.csv", GOOD)
    f.write_bytes(f.read_bytes() + ",".join(row("u", location="On or near Caf\xe9")).encode(
        "latin-1") + b"\n")
    e = _error(f)
    assert (e.row, e.column) == (5, "Location") and "not UTF-8" in e.reason


@pytest.mark.parametrize(("header", "column"), [
    (HEADER.replace(",Context", ""), "Context"),
    (HEADER + ",Foo", "Foo"),
    (HEADER.replace("Crime type", "Crime Type"), "Crime type"),
    (HEADER.replace("Month,Reported by", "Reported by,Month"), "Reported by"),
])
def test_bad_header(tmp_path, header, column):
    f = write(tmp_path / "2023-01-city-of-london-street.csv", GOOD, header=header)
    e = _error(f)
    assert (e.path, e.row, e.column) == (str(f), 1, column)


def test_many_files_all_or_nothing(tmp_path, quirks):
    bad = write(tmp_path / "2023-01-kent-street.csv", [*GOOD, row("k", ctype="Arson")])
    e = _error([*quirks, bad])
    assert (e.path, e.row, e.column) == (str(bad), 5, "Crime type")
    # with two bad files the first given is reported
    bad2 = write(tmp_path / "2023-03-essex-street.csv", [row("e", month="2023-03", lat="1")])
    e = _error([*quirks, bad2, bad])
    assert (e.path, e.row, e.column) == (str(bad2), 2, "Latitude")
    with pytest.raises(SourceError):
        police_uk.load_many([*quirks, bad])


def test_same_file_twice_refused(quirks):
    e = _error([quirks[0], quirks[1], quirks[0]])
    assert "twice" in e.reason


def test_missing_file_and_unknown_backend(tmp_path, quirks):
    assert "no such file" in _error(tmp_path / "nope-street.csv").reason
    with pytest.raises(ValueError):
        street_panel(quirks, backend="sqlite")


# --- the benchmark's generator writes files the engine accepts ----------------------------------


@pytest.mark.slow
def test_benchmark_generator_output_loads(tmp_path):
    import importlib.util

    gen_path = Path(__file__).resolve().parents[1] / "benchmarks" / "ingest" / "generate.py"
    spec = importlib.util.spec_from_file_location("ingest_generate", gen_path)
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    stats = gen.generate(tmp_path / "data", rows=30_000, seed=7)
    files = sorted((tmp_path / "data").glob("*/*-street.csv"))
    assert len(files) == stats["files"] == 43 * 12
    result = street_scan(files)
    assert result.rows == stats["rows"]
    # every repeat re-lists a crime of the same force and month: counted once
    assert result.crimes == stats["rows"] - stats["repeated"]
    asb = result.crime.loc[result.crime["category"] == "anti_social_behaviour", "count"].sum()
    assert asb == stats["asb"]
    assert result.crime["source"].nunique() == 43
