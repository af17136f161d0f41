"""`vru tagging records-to-batch`: crime records exported from a force's system become a batch file in
the MoJ contract (``crimes.batch_from_records`` and ``refuse_police_uk``). Bad rows are listed with
their codes and left out; data.police.uk crimes and the warehouse's crime counts are refused, saying why;
the file written is read back by the batch check and matched by `vru tagging match --batch`."""

from __future__ import annotations

import pandas as pd
from click.testing import CliRunner

from vru.tagging import crimes as C
from vru.tagging.cli import tagging

HEADER = "crime_ref,crime_type,time_from,time_to,easting,northing,latitude,longitude,crime_text\n"


def _run(*args):
    return CliRunner().invoke(tagging, ["records-to-batch", *map(str, args)])


def test_records_become_a_batch_file_and_bad_rows_are_listed_and_left_out(tmp_path):
    src = tmp_path / "rms-export.csv"
    src.write_text(HEADER
                   + "R1,RB,2024-03-04T10:00:00Z,2024-03-04T11:00:00Z,530000,180000,,,"
                   + '"Robbery, phone taken"\n'
                   + "R2,homicide,20240304120000,20240304130000,,,51.5,-0.12,\n"
                   + "R3,RB,2024-03-04T10:00:00,2024-03-04T11:00:00,530000,180000,,,naive time\n"
                   + "R4,RB,2024-03-04T10:00:00+01:00,2024-03-05T11:00:00Z,530000,180000,,,too long\n",
                   encoding="utf-8")
    out = tmp_path / "batch.csv"
    r = _run(src, "--force", "Metropolitan", "--batch-id", "MPS20240304", "-o", out)
    assert r.exit_code == 1, r.output  # PARTIAL: some rows refused
    assert "PARTIAL: 4 record(s), 2 ingested" in r.output
    for ref, code in (("R3", "INVALID_FROM_DATE_FORMAT"), ("R4", "CRIME_DATE_TIME_EXCEEDS_WINDOW")):
        line = next(x for x in r.output.splitlines() if x.split()[2:3] == [ref] and code in x)
        assert "Amend" in line  # the required action
    back = C.read_batch(out)
    assert back.outcome is C.Outcome.SUCCESSFUL and back.batch_id == "MPS20240304"
    got = back.records
    assert got["crime_ref"].tolist() == ["R1", "R2"] and got["crime_type"].tolist() == ["RB", "HOM"]
    assert got["time_from"].tolist() == [pd.Timestamp("2024-03-04 10:00", tz="UTC"),
                                         pd.Timestamp("2024-03-04 12:00", tz="UTC")]
    assert got["submitted_easting"].iloc[0] == 530000.0 and pd.isna(got["submitted_easting"].iloc[1])
    assert got["latitude"].iloc[1] == 51.5 and got["crime_text"].iloc[0] == "Robbery, phone taken"


def test_every_row_bad_writes_nothing_and_says_so(tmp_path):
    src = tmp_path / "bad.csv"
    src.write_text(HEADER + "R1,XX,2024-03-04T10:00:00Z,2024-03-04T11:00:00Z,530000,180000,,,\n")
    out = tmp_path / "batch.csv"
    r = _run(src, "--force", "Metropolitan", "-o", out)
    assert r.exit_code == 1 and "FAILED" in r.output and "INVALID_CRIME_TYPE" in r.output
    assert "nothing written" in r.output and not out.exists()


def test_data_police_uk_crimes_are_refused_with_the_reason(tmp_path):
    src = tmp_path / "2024-03-metropolitan-street.csv"
    src.write_text("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
                   "Crime type,Last outcome category,Context\n"
                   "abc,2024-03,Metropolitan Police Service,Metropolitan Police Service,-0.1,51.5,"
                   "On or near High Street,E01000001,City of London 001A,Robbery,,\n")
    out = tmp_path / "batch.csv"
    r = _run(src, "--force", "Metropolitan", "-o", out)
    assert r.exit_code == 2 and "anonymised" in r.output and "only a month" in r.output
    assert not out.exists()
    named = tmp_path / "records.csv"
    named.write_text(HEADER + "R1,RB,2024-03-04T10:00:00Z,2024-03-04T11:00:00Z,530000,180000,,,\n")
    r = _run(named, "--force", "Metropolitan", "--source", "police_uk_street/metropolitan", "-o", out)
    assert r.exit_code == 2 and "anonymised" in r.output and not out.exists()


def test_the_warehouse_crime_counts_are_refused_with_the_reason(tmp_path):
    src = tmp_path / "counts.parquet"
    pd.DataFrame({"source": ["mps"], "level": ["borough"], "area_code": ["E09000001"],
                  "month": [pd.Timestamp("2024-03-01")], "category": ["robbery"], "count": [4]}
                 ).to_parquet(src)
    r = _run(src, "--force", "Metropolitan", "-o", tmp_path / "batch.csv")
    assert r.exit_code == 2 and "no crime location and no time window" in r.output


def test_bad_options_are_refused_before_reading(tmp_path):
    src = tmp_path / "r.csv"
    src.write_text(HEADER)
    r = _run(src, "--force", "Atlantis", "-o", tmp_path / "b.csv")
    assert r.exit_code == 2 and "unknown force 'Atlantis'" in r.output
    r = _run(src, "--force", "Metropolitan", "-o", tmp_path / "b.txt")
    assert r.exit_code == 2 and "must be a .csv" in r.output


def test_the_batch_written_is_matched(tmp_path):
    trails = tmp_path / "trails"
    r = CliRunner().invoke(tagging, ["simulate", "-n", "3", "-d", "1", "--seed", "5", "--out", str(trails),
                                     "--crimes", "2"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(tagging, ["import-positions", str(trails / "positions.csv"), "-a",
                                     str(trails / "activations.csv"), "-s", str(tmp_path / "store")])
    assert r.exit_code == 0, r.output
    planted = pd.read_csv(trails / "planted_crimes.csv", parse_dates=["time_from", "time_to"])
    true = planted[planted["expected"].astype(bool)].iloc[[0]]
    records = pd.DataFrame({"crime_ref": ["CR-1"], "crime_type": ["RB"],
                            "time_from": true["time_from"].to_list(), "time_to": true["time_to"].to_list(),
                            "easting": true["easting"].to_list(), "northing": true["northing"].to_list()})
    records.to_parquet(tmp_path / "records.parquet")
    batch = tmp_path / "batch.csv"
    r = _run(tmp_path / "records.parquet", "--force", "Metropolitan", "--batch-id", "MPS20240304",
             "-o", batch)
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(tagging, ["match", "-s", str(tmp_path / "store"), "-a",
                                     str(trails / "activations.csv"), "-o", str(tmp_path / "m"),
                                     "--batch", str(batch)])
    assert r.exit_code == 0, r.output
    summary = pd.read_csv(tmp_path / "m" / "summary.csv")
    assert summary["crime_version_id"].unique().tolist() == ["Metropolitan:CR-1:v1"]
    assert true["wearer_ref"].iloc[0] in set(summary["wearer_ref"])
