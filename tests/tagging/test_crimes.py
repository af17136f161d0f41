"""Crime batches in the MoJ crime-matching contract: one test file per MoJ error code
(tests/tagging/data/moj), whole-file failures, PARTIAL keeping the valid rows, BOM, windows across
midnight and the clock change, versions with their changed fields, warehouse records, and data.police.uk
refused."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from vru import taxonomy
from vru.geography.grids import to_bng
from vru.tagging import crimes as C
from vru.tagging import schema as S

DATA = Path(__file__).parent / "data" / "moj"
ROOT = Path(__file__).resolve().parents[2]
STREET = (ROOT / "src/vru/data/bundled/police_uk_street_city_of_london_2023"
          / "2023-01-city-of-london-street.csv.gz")

GOOD = ("Metropolitan,RB,Robbery,MPS20240612,CR-0001,20240612213000,20240612231500,530123,181456,,,OSGB36,"
        "Phone snatched")


def row(**kw) -> str:
    f = dict(force="Metropolitan", ctype="BIAD", desc="Burglary in a dwelling", batch="MPS20240612",
             ref="CR-0002", t0="20240612080000", t1="20240612091500", e="531010", n="180220", lat="", lon="",
             datum="OSGB36", text="Rear door forced")
    f.update(kw)
    return ",".join(f.values())


def parse(*lines: str, name: str = "b.csv") -> C.BatchResult:
    return C.parse_batch(("\r\n".join(lines) + "\r\n").encode(), name=name)


# ---------------------------------------------------------------- one file per row error code

# file (= code in lower case): (field, value, required action); the bad row is row 2, after a valid row 1
ROW_CASES = {
    "INVALID_BATCH_ID_FORMAT": ("batchId", "MET20240612", "Amend formatting issues"),
    "INVALID_BATCH_ID_DATE": ("batchId", "MPS20240231", "Amend formatting issues"),
    "INVALID_COLUMN_COUNT": (None, "12 columns", "Amend formatting issues"),
    "INVALID_TEXT": ("crimeText", "Rear door \x1b[2Jforced", "Amend formatting issues"),
    "INVALID_NUMBER": ("easting", "53O123", "Amend formatting issues"),
    "INVALID_POLICE_FORCE": ("policeForce", "Met", "Amend police force to a registered force"),
    "INVALID_CRIME_TYPE": ("crimeType", "ROB", "Amend crime type to a registered crime type"),
    "INVALID_FROM_DATE_FORMAT": ("dateFrom", "2024-06-12 08:00",
                                 "Amend from date/time to format yyyyMMddHHmmss"),
    "INVALID_TO_DATE_FORMAT": ("dateTo", "20240612253000", "Amend to date/time to format yyyyMMddHHmmss"),
    "CRIME_DATE_TIME_TO_AFTER_FROM": ("dateTo", "20240612080000",
                                      "Ensure from date/time precedes to date/time"),
    "CRIME_DATE_TIME_EXCEEDS_WINDOW": ("dateTo", "13h 5m", "Amend formatting issues"),
    "MISSING_LOCATION_DATA": ("location", "", "Provide location data"),
    "MISSING_BATCH_ID": ("batchId", "", "Amend formatting issues"),
    "MISSING_CRIME_REFERENCE": ("crimeReference", " ", "Provide the missing crime reference"),
    "DEPENDENT_LOCATION_DATA": ("easting", "531010", "Provide the missing field value"),
    "INVALID_LOCATION_DATA_RANGE": ("northing", "1400000", "Co-ordinates outside of valid range"),
}


def test_every_row_error_code_has_a_case_and_a_file():
    assert set(ROW_CASES) | {"MULTIPLE_LOCATION_DATA_TYPES"} == {c.name for c in C.ErrorCode}
    for code in C.ErrorCode:
        assert (DATA / f"{code.name.lower()}.csv").is_file(), code.name
    for code in C.FileErrorCode:
        assert (DATA / f"{code.name.lower()}.csv").is_file(), code.name


@pytest.mark.parametrize("code", sorted(ROW_CASES))
def test_row_error_file_reports_row_field_value_code_and_action(code):
    field, value, action = ROW_CASES[code]
    r = C.read_batch(DATA / f"{code.lower()}.csv")
    assert r.outcome is C.Outcome.PARTIAL  # the valid row 1 is kept
    assert r.records["crime_ref"].tolist() == ["CR-0001"]
    assert len(r.errors) == 1, [str(e) for e in r.errors]
    e = r.errors[0]
    got = (e.row, e.line, e.field, e.value, e.code.name, e.required_action)
    assert got == (2, 2, field, value, code, action)
    assert e.message == C.ErrorCode[code].message
    if code != "INVALID_COLUMN_COUNT":  # a row of the wrong width has no trustworthy columns
        assert e.crime_type_id == ("ROB" if code == "INVALID_CRIME_TYPE" else "BIAD")
        assert e.crime_reference == (None if code == "MISSING_CRIME_REFERENCE" else "CR-0002")
    # the table a user reads holds the same facts
    t = r.errors_frame().iloc[0]
    got = (t["row"], t["field"], t["value"], t["code"], t["required_action"])
    assert got == (2, field, value, code, action)
    assert code in str(e) and action in str(e)


def test_multiple_location_data_types_flags_every_location_field():
    r = C.read_batch(DATA / "multiple_location_data_types.csv")
    assert r.outcome is C.Outcome.PARTIAL
    assert [(e.row, e.field, e.value, e.code.name) for e in r.errors] == [
        (2, "easting", "531010", "MULTIPLE_LOCATION_DATA_TYPES"),
        (2, "northing", "180220", "MULTIPLE_LOCATION_DATA_TYPES"),
        (2, "latitude", "51.5101", "MULTIPLE_LOCATION_DATA_TYPES"),
        (2, "longitude", "-0.0872", "MULTIPLE_LOCATION_DATA_TYPES"),
    ]
    assert {e.required_action for e in r.errors} == {"Amend formatting issues"}


def test_every_error_of_a_row_is_reported_not_just_the_first():
    r = parse(row(force="Met", ctype="ROB", ref="", t0="yesterday", t1="20240612091500", e="", n="",
                  lat="51.5", lon="3.1"))
    assert r.outcome is C.Outcome.FAILED
    assert [(e.field, e.code.name) for e in r.errors] == [
        ("policeForce", "INVALID_POLICE_FORCE"), ("crimeType", "INVALID_CRIME_TYPE"),
        ("crimeReference", "MISSING_CRIME_REFERENCE"), ("dateFrom", "INVALID_FROM_DATE_FORMAT"),
        ("longitude", "INVALID_LOCATION_DATA_RANGE")]


def test_batch_id_rules_follow_the_force_code():
    assert parse(row(force="CoLP", batch="CoLP20240612-2-R")).outcome is C.Outcome.SUCCESSFUL
    assert parse(row(batch="MPS20240612-1-a")).outcome is C.Outcome.SUCCESSFUL
    # another force's code is the wrong format for this force
    assert parse(row(batch="WMP20240612")).errors[0].code is C.ErrorCode.INVALID_BATCH_ID_FORMAT
    assert parse(row(batch="MPS2024061")).errors[0].code is C.ErrorCode.INVALID_BATCH_ID_FORMAT
    assert parse(row(batch="MPS20241301")).errors[0].code is C.ErrorCode.INVALID_BATCH_ID_DATE
    # an added force (ours) with its own code
    assert parse(row(force="GreaterManchester", batch="GMP20240612")).outcome is C.Outcome.SUCCESSFUL


def test_numbers_are_decimal_and_finite():
    for bad in ("NaN", "inf", "1_000", "0x10", "1e999", "530 123", "\u0665\u0663\u0660\u0661\u0662\u0663"):
        r = parse(row(e=bad))
        assert [(e.field, e.code.name) for e in r.errors] == [("easting", "INVALID_NUMBER")], bad
    assert parse(row(e="5.31010e5", n="+180220.5")).outcome is C.Outcome.SUCCESSFUL


def test_impossible_dates_are_refused_not_adjusted():
    assert parse(row(t0="20240230080000")).errors[0].code is C.ErrorCode.INVALID_FROM_DATE_FORMAT
    assert parse(row(t1="20240612240000")).errors[0].code is C.ErrorCode.INVALID_TO_DATE_FORMAT
    arabic_indic = "".join(chr(0x660 + int(d)) for d in "20240612091500")  # float() and strptime take these
    assert parse(row(t1=arabic_indic)).errors[0].code is C.ErrorCode.INVALID_TO_DATE_FORMAT
    assert parse(row(batch="MPS" + arabic_indic[:8])).errors[0].code is C.ErrorCode.INVALID_BATCH_ID_FORMAT


# ---------------------------------------------------------------- whole-file errors and outcomes


def test_all_records_failed_ingests_nothing_and_says_so():
    r = C.read_batch(DATA / "all_records_failed.csv")
    assert r.outcome is C.Outcome.FAILED and not r.ok
    assert [fe.code.name for fe in r.file_errors] == ["ALL_RECORDS_FAILED"]
    assert r.file_errors[0].message == ("All records in the CSV file failed validation. "
                                        "No data has been ingested.")
    assert r.records.empty
    assert C.crimes_table(C.new_versions(None, r)).empty
    # and every bad row is still listed
    assert sorted({e.row for e in r.errors}) == [1, 2, 3]
    assert ("dateTo", "25h 15m") in [(e.field, e.value) for e in r.errors]


@pytest.mark.parametrize(("name", "code", "detail"), [
    ("multiple_police_forces.csv", "MULTIPLE_POLICE_FORCES", "CoLP, Metropolitan"),
    ("multiple_batch_ids.csv", "MULTIPLE_BATCH_IDS", "MPS20240612, MPS20240612-1"),
    ("invalid_attachment.csv", "INVALID_ATTACHMENT", "line 2: not UTF-8"),
])
def test_whole_file_errors_fail_the_file(name, code, detail):
    r = C.read_batch(DATA / name)
    assert r.outcome is C.Outcome.FAILED
    assert r.records.empty
    assert [fe.code.name for fe in r.file_errors] == [code]
    assert detail in r.file_errors[0].detail


@pytest.mark.parametrize(("data", "name", "detail"), [
    (GOOD.encode("utf-16"), "b.csv", "UTF-16"),
    (GOOD.encode(), "b.xlsx", "not a .csv file"),
    (b"PK\x03\x04\x14\x00\x00\x00", "b.csv", "NUL bytes"),
    ((GOOD + '\r\n' + row(text='"unfinished')).encode(), "b.csv", "not valid CSV"),
    (b"", "b.csv", "no records"),
    (b"\r\n\r\n", "b.csv", "no records"),
])
def test_files_that_are_not_a_utf8_csv_are_invalid_attachments(data, name, detail):
    r = C.parse_batch(data, name=name)
    assert r.outcome is C.Outcome.FAILED
    assert r.file_errors[0].code is C.FileErrorCode.INVALID_ATTACHMENT
    assert detail in r.file_errors[0].detail


def test_partial_keeps_the_valid_rows_and_lists_the_bad_ones():
    r = C.read_batch(DATA / "partial.csv")
    assert r.outcome is C.Outcome.PARTIAL and r.ok
    assert (r.force, r.batch_id, r.record_count) == ("Metropolitan", "MPS20240612", 3)
    assert r.records["crime_ref"].tolist() == ["CR-0001", "CR-0003"]
    assert [(e.row, e.field, e.code.name) for e in r.errors] == [
        (2, "crimeType", "INVALID_CRIME_TYPE"), (2, "batchId", "INVALID_BATCH_ID_FORMAT"),
        (2, "latitude", "INVALID_LOCATION_DATA_RANGE")]
    third = r.records.iloc[1]
    # the empty line 3 is skipped and not counted: record 3 starts on line 4
    assert (third["row"], third["crime_type"]) == (3, "VWI")  # crime type ids are case-insensitive
    assert third["crime_text"] == 'Fight outside the station, "two men"'
    # latitude/longitude kept as sent, and converted to British National Grid
    assert (third["latitude"], third["longitude"]) == (51.5074, -0.1278)
    assert np.isnan(third["submitted_easting"])
    x, y = to_bng([-0.1278], [51.5074])
    assert (third["easting"], third["northing"]) == (x[0], y[0])
    assert 529_900 < third["easting"] < 530_200 and 180_300 < third["northing"] < 180_600  # Charing Cross
    first = r.records.iloc[0]
    assert (first["easting"], first["submitted_easting"], first["northing"]) == (530123.0, 530123.0, 181456.0)


def test_a_byte_order_mark_is_stripped():
    raw = (DATA / "bom.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    r = C.read_batch(DATA / "bom.csv")
    assert r.outcome is C.Outcome.SUCCESSFUL
    assert r.records["force"].tolist() == ["Metropolitan", "Metropolitan"]


# ---------------------------------------------------------------- windows are UTC


def test_windows_across_midnight_and_the_clock_changes_are_measured_in_utc():
    r = C.read_batch(DATA / "windows.csv")
    assert r.outcome is C.Outcome.SUCCESSFUL, [str(e) for e in r.errors]
    w = r.records.set_index("crime_ref")
    span = (w["time_to"] - w["time_from"]).to_dict()
    assert span["MIDNIGHT"] == timedelta(hours=2)
    assert w.loc["MIDNIGHT", "time_to"] == pd.Timestamp("2024-06-13 01:30", tz="UTC")
    # clocks went forward at 01:00 UTC on 31 March 2024: in UTC this window is 2 hours (a local reading
    # would make it 1 hour)
    assert span["BST-START"] == timedelta(hours=2)
    assert w.loc["BST-START", "time_from"] == pd.Timestamp("2024-03-31 00:30", tz="UTC")
    # clocks went back at 01:00 UTC on 27 October 2024: 00:30-12:30 UTC is exactly 12 hours and valid
    # (read as local time it would be 13 hours and refused)
    assert span["BST-END"] == timedelta(hours=12)
    assert span["EXACTLY-12H"] == timedelta(hours=12)
    assert span["ZERO"] == timedelta(0)
    assert str(w["time_from"].dtype) == "datetime64[us, UTC]"


def test_a_window_one_minute_over_twelve_hours_is_refused_and_echoed():
    r = parse(GOOD, row(t0="20240331000000", t1="20240331120100"))
    assert [(e.field, e.value, e.code.name) for e in r.errors] == [
        ("dateTo", "12h 1m", "CRIME_DATE_TIME_EXCEEDS_WINDOW")]


def test_a_window_one_second_over_twelve_hours_echoes_its_seconds():
    # "12h 0m" would read as a valid window (review 3, 7)
    r = parse(GOOD, row(t0="20240612080000", t1="20240612200001"))
    assert [(e.field, e.value, e.code.name) for e in r.errors] == [
        ("dateTo", "12h 0m 1s", "CRIME_DATE_TIME_EXCEEDS_WINDOW")]
    assert C._format_window(timedelta(hours=13, minutes=5)) == "13h 5m"


# ---------------------------------------------------------------- versions


def test_versions_record_new_amended_and_unchanged_resubmissions():
    b1 = parse(GOOD, row())
    v1 = C.new_versions(None, b1)
    assert v1[S.CRIME_VERSION_ID].tolist() == ["Metropolitan:CR-0001:v1", "Metropolitan:CR-0002:v1"]
    assert v1["kind"].tolist() == ["new", "new"]
    # resubmission: CR-0001 moved (sent now as latitude/longitude) and window extended; CR-0002 identical
    # (its crime type in lower case); CR-0004 new
    b2 = parse(
        "Metropolitan,RB,Robbery,MPS20240613-R,CR-0001,20240612213000,20240612235900,,,51.52,-0.09,WGS84,"
        "Phone snatched",
        row(batch="MPS20240613-R", ctype="biad"),
        row(batch="MPS20240613-R", ref="CR-0004", text="Window smashed"))
    v2 = C.new_versions(v1, b2).set_index(S.CRIME_REF)
    assert v2.loc["CR-0001", "version"] == 2 and v2.loc["CR-0001", "kind"] == "amended"
    assert v2.loc["CR-0001", "changed_fields"] == ["CRIME_DATE_TIME_TO", "EASTING", "NORTHING", "LATITUDE",
                                                   "LONGITUDE"]
    assert v2.loc["CR-0001", "previous_version_id"] == "Metropolitan:CR-0001:v1"
    assert v2.loc["CR-0002", "kind"] == "unchanged" and v2.loc["CR-0002", "changed_fields"] == []
    assert v2.loc["CR-0002", S.CRIME_VERSION_ID] == "Metropolitan:CR-0002:v2"
    assert v2.loc["CR-0004", "version"] == 1 and v2.loc["CR-0004", "kind"] == "new"
    # every version has British National Grid coordinates; the originals are kept
    assert v2.loc["CR-0001", "latitude"] == 51.52 and np.isnan(v2.loc["CR-0001", "submitted_easting"])
    assert 532_000 < v2.loc["CR-0001", S.EASTING] < 533_000


@pytest.mark.parametrize(("change", "fields"), [
    ({"ctype": "AB"}, ["CRIME_TYPE_ID"]),
    ({"t0": "20240612073000"}, ["CRIME_DATE_TIME_FROM"]),
    ({"e": "531011"}, ["EASTING"]),
    ({"text": "Rear door forced; jewellery taken"}, ["CRIME_TEXT"]),
    ({"desc": "another description", "datum": ""}, []),  # not compared, as the MoJ
])
def test_each_changed_field_is_named(change, fields):
    v1 = C.new_versions(None, parse(row()))
    b2 = parse(row(batch="MPS20240613", **change))
    assert b2.outcome is C.Outcome.SUCCESSFUL
    v2 = C.new_versions(v1, b2)
    assert v2["changed_fields"].tolist() == [fields]


def test_versions_survive_a_parquet_round_trip_and_the_highest_version_is_the_previous_one(tmp_path):
    v1 = C.new_versions(None, parse(row()))
    v2 = C.new_versions(v1, parse(row(text="amended")))
    store = tmp_path / "versions.parquet"
    pd.concat([v1, v2]).to_parquet(store)
    held = pd.read_parquet(store)
    v3 = C.new_versions(held, parse(row(text="amended")))
    assert (v3["version"].tolist(), v3["kind"].tolist()) == ([3], ["unchanged"])
    v4 = C.new_versions(held, parse(row()))
    assert v4["changed_fields"].tolist() == [["CRIME_TEXT"]]


def test_versions_held_without_the_compared_columns_are_refused():
    v1 = C.new_versions(None, parse(row()))
    with pytest.raises(ValueError, match="submitted_easting"):
        C.new_versions(v1.drop(columns=["submitted_easting"]), parse(row()))


def test_one_crime_twice_in_a_batch_makes_two_versions_in_row_order():
    v = C.new_versions(None, parse(row(), row(e="531020")))
    assert v["version"].tolist() == [1, 2]
    assert v["changed_fields"].tolist() == [[], ["EASTING"]]


def test_crimes_table_has_the_canonical_schema():
    t = C.crimes_table(C.new_versions(None, C.read_batch(DATA / "partial.csv")))
    assert list(t.columns) == S.columns(S.CRIMES)
    assert pa.Table.from_pandas(t, schema=S.CRIMES, preserve_index=False).schema == S.CRIMES
    assert t[S.CRIME_TYPE].tolist() == ["RB", "VWI"]
    assert t[S.TIME_FROM].iloc[0] == pd.Timestamp("2024-06-12 21:30", tz="UTC")
    assert str(t[S.TIME_FROM].dtype) == "datetime64[us, UTC]"


@pytest.mark.slow
def test_a_checked_batch_is_matched():
    """End to end: a batch sent in latitude/longitude is matched against a wearer who stood 40 m away
    during the window (and not against one 1 km away)."""
    from vru.tagging import matching

    r = parse("Metropolitan,VWI,Assault,MPS20240612,CR-9,20240612220000,20240612230000,,,51.5074,-0.1278,"
              "WGS84,Outside the station")
    crimes = C.crimes_table(C.new_versions(None, r))
    x, y = crimes[S.EASTING].iloc[0], crimes[S.NORTHING].iloc[0]
    times = pd.date_range("2024-06-12 21:50", "2024-06-12 23:10", freq="60s", tz="UTC")
    pos = pd.DataFrame({
        S.DEVICE_ID: ["D1"] * len(times) + ["D2"] * len(times), S.FIX_TIME: list(times) * 2,
        S.EASTING: [x + 40.0] * len(times) + [x + 1000.0] * len(times), S.NORTHING: y,
        S.PRECISION_M: 5.0, S.SPEED_KMH: 0.0, S.HEADING_DEG: 0.0, S.MECHANISM: "GPS"})
    act = pd.DataFrame({S.DEVICE_ID: ["D1", "D2"], S.WEARER_REF: ["W1", "W2"],
                        S.ACTIVE_FROM: pd.Timestamp("2024-06-01", tz="UTC"),
                        S.ACTIVE_TO: pd.Series([pd.NaT, pd.NaT], dtype="datetime64[us, UTC]")})
    res = matching.match(pos, act, crimes)
    assert res.summary[S.WEARER_REF].tolist() == ["W1"]
    assert res.summary[S.CRIME_VERSION_ID].tolist() == ["Metropolitan:CR-9:v1"]


# ---------------------------------------------------------------- other sources


def _records(**over) -> pd.DataFrame:
    d = {"crime_ref": ["W1", "W2"], "crime_type": ["homicide", "RBK"],
         "time_from": pd.to_datetime(["2024-06-12 22:00", "2024-06-13 01:00"], utc=True),
         "time_to": pd.to_datetime(["2024-06-12 23:30", "2024-06-13 01:20"], utc=True),
         "easting": [530100.0, 531000.0], "northing": [180100.0, 181000.0], "crime_text": ["", "x"]}
    d.update(over)
    return pd.DataFrame(d)


def test_warehouse_records_with_windows_and_points_become_crimes():
    r = C.batch_from_records(_records(), force="Metropolitan", batch_id="MPS20240613", source="mps_cad")
    assert r.outcome is C.Outcome.SUCCESSFUL, [str(e) for e in r.errors]
    assert r.records["crime_type"].tolist() == ["HOM", "RBK"]  # a taxonomy category that one type has
    t = C.crimes_table(C.new_versions(None, r))
    assert t[S.TIME_TO].iloc[0] == pd.Timestamp("2024-06-12 23:30", tz="UTC")
    assert t[S.EASTING].tolist() == [530100.0, 531000.0]


def test_warehouse_records_get_the_same_checks():
    bad = _records(time_to=pd.to_datetime(["2024-06-14 23:30", "2024-06-13 01:20"], utc=True),
                   crime_type=["robbery", "RBK"])  # robbery: RB or RBK, ambiguous
    r = C.batch_from_records(bad, force="Metropolitan", batch_id="MPS20240613")
    assert r.outcome is C.Outcome.PARTIAL
    assert [(e.row, e.field, e.value, e.code.name) for e in r.errors] == [
        (1, "crimeType", "robbery", "INVALID_CRIME_TYPE"),
        (1, "dateTo", "49h 30m", "CRIME_DATE_TIME_EXCEEDS_WINDOW")]
    missing = C.batch_from_records(_records(crime_ref=["W1", np.nan], crime_text=[None, np.nan]),
                                   force="Metropolitan", batch_id="MPS20240613")
    assert [(e.row, e.code.name) for e in missing.errors] == [(2, "MISSING_CRIME_REFERENCE")]
    assert missing.records["crime_text"].tolist() == [""]
    naive = _records(time_from=pd.to_datetime(["2024-06-12 22:00", "2024-06-13 01:00"]))
    r = C.batch_from_records(naive, force="Metropolitan", batch_id="MPS20240613")
    assert {e.code.name for e in r.errors} == {"INVALID_FROM_DATE_FORMAT"}
    assert "no time zone" in r.errors[0].value


POLICE_UK_WHY = ("anonymised", "month", "12 hours")


def test_police_uk_street_points_are_refused_with_the_reason():
    street = pd.read_csv(STREET, dtype=str, keep_default_na=False)
    with pytest.raises(C.NotMatchableError) as e:
        C.batch_from_records(street, force="CoLP")
    assert all(w in str(e.value) for w in POLICE_UK_WHY)
    points = pd.DataFrame({"month": ["2023-01"], "falls_within": ["City of London Police"], "crime_id": ["x"],
                           "category": ["robbery"], "lsoa_code": ["E01000001"], "longitude": [-0.09],
                           "latitude": [51.51], "x": [532000.0], "y": [181000.0]})
    with pytest.raises(C.NotMatchableError, match="snap|anonymised"):
        C.refuse_police_uk(points)
    # by source name, even if the columns were renamed to look like exact records
    with pytest.raises(C.NotMatchableError, match="month"):
        C.batch_from_records(_records(), force="CoLP", source="police_uk_street/City of London Police")


def test_warehouse_monthly_counts_are_refused():
    counts = pd.DataFrame({"source": ["mps_borough_detailed"], "level": ["borough"],
                           "area_code": ["E09000001"], "month": [pd.Timestamp("2023-01-01")],
                           "category": ["robbery"], "count": [3]})
    with pytest.raises(C.NotMatchableError, match="per area and month"):
        C.batch_from_records(counts, force="Metropolitan")
    assert C.refuse_police_uk(_records(), "mps_cad") is None


# ---------------------------------------------------------------- reference lists and docs


def test_forces_and_crime_types():
    assert sum(f.moj for f in C.POLICE_FORCES) == 19
    assert len(C.POLICE_FORCES) == 44  # 43 territorial forces of England and Wales + BTP
    assert len({f.identifier for f in C.POLICE_FORCES}) == 44
    assert len({f.code.upper() for f in C.POLICE_FORCES}) == 44
    assert [t.id for t in C.CRIME_TYPES if t.moj] == ["RB", "BIAD", "AB", "BOTD", "TOMV", "TFP", "TFMV"]
    known = set(taxonomy.categories()["code"])
    assert all(t.category in known for t in C.CRIME_TYPES if t.category)


def test_the_doc_lists_every_code_type_and_force():
    doc = (ROOT / "docs" / "tagging-crimes.md").read_text()
    for code in [*C.ErrorCode, *C.FileErrorCode]:
        assert f"`{code.name}`" in doc, code.name
        assert code.message in doc, code.name
    for code in C.ErrorCode:
        assert code.required_action in doc
    for t in C.CRIME_TYPES:
        assert f"`{t.id}`" in doc, t.id
    for f in C.POLICE_FORCES:
        assert f"`{f.identifier}`" in doc and f"`{f.code}`" in doc, f.identifier


# ---------------------------------------------------------------- the command


def _check_batch(path: Path):
    from click.testing import CliRunner

    from vru.tagging.cli import tagging

    return CliRunner().invoke(tagging, ["check-batch", str(path)], catch_exceptions=False)


def test_check_batch_prints_the_outcome_and_every_error_and_exits_1_unless_successful():
    r = _check_batch(DATA / "partial.csv")
    assert r.exit_code == 1
    assert "PARTIAL: 3 record(s), 2 ingested, 3 error(s)" in r.output
    lines = r.output.splitlines()
    header = next(ln for ln in lines if ln.startswith("row"))
    assert header.split() == ["row", "line", "crime_reference", "crime_type_id", "field", "value", "code",
                              "message", "required_action"]
    latitude = next(ln for ln in lines if "INVALID_LOCATION_DATA_RANGE" in ln)
    assert latitude.split()[:6] == ["2", "2", "CR-0002", "XX", "latitude", "61.9"]
    assert latitude.endswith("Co-ordinates outside of valid range")
    ok = _check_batch(DATA / "bom.csv")
    assert ok.exit_code == 0 and "SUCCESSFUL" in ok.output and "force Metropolitan" in ok.output


def test_check_batch_reports_whole_file_failures_and_never_prints_control_characters():
    r = _check_batch(DATA / "all_records_failed.csv")
    assert r.exit_code == 1
    assert "ALL_RECORDS_FAILED: All records in the CSV file failed validation. No data has been ingested." \
        in r.output
    r = _check_batch(DATA / "invalid_text.csv")
    assert "\x1b" not in r.output and "Rear door \\x1b[2Jforced" in r.output


def test_batch_file_writes_coordinates_as_fixed_point_decimals_near_greenwich():
    near = parse(row(ref="CR-0100", e="", n="", lat="51.477928", lon="-0.00001", datum="WGS84"),
                 row(ref="CR-0101", e="", n="", lat="51.4779", lon="0.0000012", datum="WGS84"),
                 row(ref="CR-0102", e="538000.25", n="177500"))
    assert near.ok and len(near.records) == 3
    text = C.batch_file(near).decode()
    fields = [line.split(",") for line in text.splitlines()]
    assert [f[9:11] for f in fields[:2]] == [["51.477928", "-0.00001"], ["51.4779", "0.0000012"]]
    assert fields[2][7:9] == ["538000.25", "177500.0"]
    assert not re.search(r"\d[eE][-+]?\d", text)  # no exponent anywhere
    again = C.parse_batch(text.encode(), name="again.csv")
    assert again.ok and not again.errors
    for c in (S.EASTING, S.NORTHING, "latitude", "longitude"):
        pd.testing.assert_series_equal(again.records[c], near.records[c])
